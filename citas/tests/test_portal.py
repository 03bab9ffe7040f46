"""The portal's policy: minimum notice to book, cut-off for a patient's changes, maximum number
of reschedules; and the selectors that show it (one rule for services and buttons)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from citas import reglas
from citas.models import Cita, EstadoCita
from citas.selectors import (
    cita_del_paciente,
    citas_del_paciente,
    hora_para_reservar,
    horas_cercanas,
    horas_libres_para_reservar,
    opciones_de_dentista,
    politica_del_portal,
)
from citas.services import (
    cancelar_cita,
    confirmar_cita,
    crear_cita_disponible,
    reprogramar_cita,
    reservar_cita,
)
from citas.estados import transiciones_posibles
from citas.tests.test_services import registrar_paciente
from citas.tests.test_transiciones import _en_paralelo
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db


@pytest.fixture
def politica(settings):
    settings.CLINICA_ANTICIPACION_MINIMA_MIN = 120
    settings.CLINICA_SEMANAS_RESERVA = 4
    settings.CLINICA_PLAZO_CAMBIOS_H = 24
    settings.CLINICA_MAX_REPROGRAMACIONES = 2
    settings.CLINICA_TELEFONO = "+56 2 2345 6789"
    return settings


@pytest.fixture
def hora(dentista, recepcionista, politica):
    """``hora(delta)``: a free slot of ``dentista`` starting ``delta`` from now (minute-aligned
    offsets keep them apart: 30-minute slots)."""

    def crear(delta, dentista_id=None):
        inicio = timezone.now() + delta
        return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista_id or dentista.pk, inicio=inicio)

    return crear


@pytest.fixture
def paciente():
    return registrar_paciente(1)


H = datetime.timedelta(hours=1)
MIN = datetime.timedelta(minutes=1)


# Minimum notice --------------------------------------------------------------------------------


def test_no_se_reserva_antes_de_la_anticipacion_minima(hora, paciente):
    pronto = hora(119 * MIN)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=paciente, cita_id=pronto.pk)
    assert error.value.code == "hora_no_disponible"
    assert huella_bd() == antes
    justo = hora(150 * MIN)
    assert reservar_cita(user=paciente, cita_id=justo.pk).estado == EstadoCita.RESERVADA


def test_la_anticipacion_es_configurable(hora, paciente, politica):
    politica.CLINICA_ANTICIPACION_MINIMA_MIN = 0
    assert reservar_cita(user=paciente, cita_id=hora(5 * MIN).pk).estado == EstadoCita.RESERVADA
    politica.CLINICA_ANTICIPACION_MINIMA_MIN = 48 * 60
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=paciente, cita_id=hora(47 * H).pk)
    assert error.value.code == "hora_no_disponible"


def test_el_borde_de_la_anticipacion_minima(politica):
    ahora = timezone.now()
    assert reglas.se_puede_reservar(ahora + 120 * MIN, ahora)
    assert not reglas.se_puede_reservar(ahora + 120 * MIN - datetime.timedelta(microseconds=1), ahora)
    assert not reglas.se_puede_reservar(ahora - MIN, ahora)


def test_reservar_sigue_en_dos_sentencias(hora, paciente, django_assert_num_queries):
    """The minimum notice is a condition inside ``_RESERVAR_SQL``, not another query."""
    libre = hora(3 * H)
    # The patient's row lock (the portal's cap), the statement, the send budget's counter (issue 14),
    # the notifications, their job + savepoint pair.
    with django_assert_num_queries(7):
        reservar_cita(user=paciente, cita_id=libre.pk)


def test_reservar_pone_en_cero_un_contador_que_quedo(hora, paciente):
    libre = hora(30 * H)
    Cita.objects.filter(pk=libre.pk).update(reprogramaciones=2)  # e.g. released by an old path
    assert reservar_cita(user=paciente, cita_id=libre.pk).reprogramaciones == 0
    assert Cita.objects.get(pk=libre.pk).reprogramaciones == 0


# Cut-off for cancelling and rescheduling ------------------------------------------------------


def test_paciente_no_cancela_dentro_del_plazo(hora, paciente, recepcionista):
    cita = hora(23 * H)
    reservar_cita(user=paciente, cita_id=cita.pk)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        cancelar_cita(actor=paciente, cita_id=cita.pk)
    assert error.value.code == "fuera_de_plazo"
    assert "24 horas" in error.value.message and "+56 2 2345 6789" in error.value.message
    assert huella_bd() == antes
    # The clinic is not bound by the portal's policy.
    assert cancelar_cita(actor=recepcionista.user, cita_id=cita.pk, motivo="llamó por teléfono").estado == EstadoCita.DISPONIBLE


def test_paciente_cancela_fuera_del_plazo_y_el_contador_vuelve_a_cero(hora, paciente):
    cita, otra = hora(30 * H), hora(40 * H)
    reservar_cita(user=paciente, cita_id=cita.pk)
    nueva = reprogramar_cita(actor=paciente, cita_id=cita.pk, nueva_cita_id=otra.pk)
    assert nueva.reprogramaciones == 1
    cancelar_cita(actor=paciente, cita_id=nueva.pk)
    liberada = Cita.objects.get(pk=nueva.pk)
    assert (liberada.estado, liberada.cliente_id, liberada.reprogramaciones) == (EstadoCita.DISPONIBLE, None, 0)


def test_paciente_no_reprograma_dentro_del_plazo_pero_la_clinica_si(hora, paciente, recepcionista):
    cita, libre = hora(2 * H + 5 * MIN), hora(50 * H)
    reservar_cita(user=paciente, cita_id=cita.pk)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reprogramar_cita(actor=paciente, cita_id=cita.pk, nueva_cita_id=libre.pk)
    assert error.value.code == "fuera_de_plazo"
    assert huella_bd() == antes
    nueva = reprogramar_cita(actor=recepcionista.user, cita_id=cita.pk, nueva_cita_id=libre.pk)
    assert nueva.reprogramaciones == 0  # a staff move does not count against the patient


@pytest.mark.parametrize(
    ("desplazamiento", "permitido"),
    [(datetime.timedelta(0), True), (datetime.timedelta(microseconds=1), False), (-datetime.timedelta(seconds=1), True)],
    ids=["justo_en_el_limite", "un_instante_despues", "un_segundo_antes"],
)
def test_el_borde_del_plazo_en_el_servicio(hora, paciente, monkeypatch, desplazamiento, permitido):
    """At exactly 24 hours before the start the patient may still cancel; an instant later not."""
    cita = hora(30 * H)
    reservar_cita(user=paciente, cita_id=cita.pk)
    cita.refresh_from_db()
    momento = reglas.limite_para_cambios(cita.inicio) + desplazamiento
    monkeypatch.setattr(timezone, "now", lambda: momento)
    assert (reglas.error_de_politica(accion="cancelar", inicio=cita.inicio, reprogramaciones=0, ahora=momento)
            is None) is permitido
    if permitido:
        assert cancelar_cita(actor=paciente, cita_id=cita.pk).estado == EstadoCita.DISPONIBLE
    else:
        with pytest.raises(ValidationError) as error:
            cancelar_cita(actor=paciente, cita_id=cita.pk)
        assert error.value.code == "fuera_de_plazo"


def test_el_plazo_es_configurable(hora, paciente, politica):
    politica.CLINICA_PLAZO_CAMBIOS_H = 72
    cita = hora(50 * H)
    reservar_cita(user=paciente, cita_id=cita.pk)
    with pytest.raises(ValidationError) as error:
        cancelar_cita(actor=paciente, cita_id=cita.pk)
    assert error.value.code == "fuera_de_plazo" and "72 horas" in error.value.message


# Maximum number of reschedules -----------------------------------------------------------------


def test_el_paciente_reprograma_hasta_el_maximo(hora, paciente, recepcionista):
    horas = [hora(d * H) for d in (30, 40, 50, 60)]
    reservar_cita(user=paciente, cita_id=horas[0].pk)
    primera = reprogramar_cita(actor=paciente, cita_id=horas[0].pk, nueva_cita_id=horas[1].pk)
    assert primera.reprogramaciones == 1
    assert Cita.objects.get(pk=horas[0].pk).reprogramaciones == 0  # the freed slot starts afresh
    segunda = reprogramar_cita(actor=paciente, cita_id=horas[1].pk, nueva_cita_id=horas[2].pk)
    assert segunda.reprogramaciones == 2
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reprogramar_cita(actor=paciente, cita_id=horas[2].pk, nueva_cita_id=horas[3].pk)
    assert error.value.code == "max_reprogramaciones"
    assert "2 veces" in error.value.message and "+56 2 2345 6789" in error.value.message
    assert huella_bd() == antes
    # Still cancellable by the patient, and movable by the clinic (which carries the count).
    por_clinica = reprogramar_cita(actor=recepcionista.user, cita_id=horas[2].pk, nueva_cita_id=horas[3].pk)
    assert Cita.objects.get(pk=por_clinica.pk).reprogramaciones == 2
    assert cancelar_cita(actor=paciente, cita_id=por_clinica.pk).estado == EstadoCita.DISPONIBLE


def test_el_maximo_es_configurable(hora, paciente, politica):
    politica.CLINICA_MAX_REPROGRAMACIONES = 0
    cita, libre = hora(30 * H), hora(40 * H)
    reservar_cita(user=paciente, cita_id=cita.pk)
    with pytest.raises(ValidationError) as error:
        reprogramar_cita(actor=paciente, cita_id=cita.pk, nueva_cita_id=libre.pk)
    assert error.value.code == "max_reprogramaciones"


def test_la_nueva_hora_del_paciente_respeta_la_anticipacion(hora, paciente, recepcionista):
    cita, pronto = hora(30 * H), hora(90 * MIN)
    reservar_cita(user=paciente, cita_id=cita.pk)
    with pytest.raises(ValidationError) as error:
        reprogramar_cita(actor=paciente, cita_id=cita.pk, nueva_cita_id=pronto.pk)
    assert error.value.code == "hora_no_disponible"
    assert reprogramar_cita(actor=recepcionista.user, cita_id=cita.pk, nueva_cita_id=pronto.pk).pk == pronto.pk


def test_reprogramar_sigue_en_un_numero_fijo_de_consultas(hora, paciente, django_assert_num_queries):
    cita, libre = hora(30 * H), hora(40 * H)
    reservar_cita(user=paciente, cita_id=cita.pk)
    with django_assert_num_queries(8):  # 7 + the send budget's counter (issue 14)
        reprogramar_cita(actor=paciente, cita_id=cita.pk, nueva_cita_id=libre.pk)


@pytest.mark.django_db(transaction=True)
def test_dos_pestanas_reprograman_la_misma_cita_a_la_vez(dentista, recepcionista, politica):
    """The row lock makes the second move see the first one: the slot is no longer theirs."""
    paciente = registrar_paciente(1)
    ahora = timezone.now()
    cita, a, b = (crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=ahora + d * H)
                  for d in (30, 40, 50))
    reservar_cita(user=paciente, cita_id=cita.pk)
    resultados = _en_paralelo(
        lambda: reprogramar_cita(actor=paciente, cita_id=cita.pk, nueva_cita_id=a.pk),
        lambda: reprogramar_cita(actor=paciente, cita_id=cita.pk, nueva_cita_id=b.pk),
    )
    assert sorted(resultados) == ["cita_no_encontrada", "ok"]
    tomadas = list(Cita.objects.filter(cliente__user=paciente))
    assert len(tomadas) == 1 and tomadas[0].reprogramaciones == 1


@pytest.mark.django_db(transaction=True)
def test_dos_pacientes_por_una_hora_en_el_portal_solo_uno_gana(dentista, recepcionista, politica):
    libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                  inicio=timezone.now() + 30 * H)
    uno, dos = registrar_paciente(1), registrar_paciente(2)
    resultados = _en_paralelo(
        lambda: reservar_cita(user=uno, cita_id=libre.pk),
        lambda: reservar_cita(user=dos, cita_id=libre.pk),
    )
    assert sorted(resultados) == ["hora_no_disponible", "ok"]
    assert Cita.objects.filter(estado=EstadoCita.RESERVADA).count() == 1


# Confirmation by the patient -----------------------------------------------------------------


def test_solo_el_dueno_confirma_su_reserva(hora, paciente):
    cita, libre = hora(5 * H), hora(30 * H)
    reservar_cita(user=paciente, cita_id=cita.pk)
    intruso = registrar_paciente(2)
    for cita_id in (cita.pk, libre.pk):
        with pytest.raises(ValidationError) as error:
            confirmar_cita(actor=intruso, cita_id=cita_id)
        assert error.value.code == "cita_no_encontrada"
    # Confirming is allowed inside the cut-off: it is what the reminder asks for.
    assert confirmar_cita(actor=paciente, cita_id=cita.pk).estado == EstadoCita.CONFIRMADA
    with pytest.raises(ValidationError) as error:
        confirmar_cita(actor=paciente, cita_id=cita.pk)
    assert error.value.code == "transicion_invalida"


def test_transiciones_del_paciente_siguen_la_politica(hora, paciente):
    cita = hora(5 * H)
    reservar_cita(user=paciente, cita_id=cita.pk)
    cita = Cita.objects.select_related("cliente").get(pk=cita.pk)
    assert transiciones_posibles(cita, actor=paciente) == ["confirmar"]


# Selectors ---------------------------------------------------------------------------------


def test_horas_libres_para_reservar_solo_las_reservables(hora, paciente, crear_personal, django_assert_num_queries):
    inactivo = crear_personal(nombre="Inés", apellido="Inactiva", activo=False)
    buenas = [hora(d * H) for d in (3, 30, 27 * 24)]
    hora(-2 * H)  # past
    hora(90 * MIN)  # too soon
    hora(4 * 7 * 24 * H + H)  # beyond the window
    reservar_cita(user=paciente, cita_id=hora(50 * H).pk)  # taken
    inicio = timezone.now() + 60 * H
    Cita.objects.create(dentista=inactivo, inicio=inicio, fin=inicio + 30 * MIN)  # inactive dentist
    with django_assert_num_queries(2):  # the active dentists, their slots
        horas = horas_libres_para_reservar()
        nombres = [h.nombre for h in horas]
    assert [h.pk for h in horas] == [h.pk for h in buenas]
    assert set(nombres) == {"Camila Soto"}
    assert [h.pk for h in horas_libres_para_reservar(semana=0)] == [h.pk for h in buenas[:2]]
    assert [h.pk for h in horas_libres_para_reservar(excluir_id=buenas[0].pk)] == [h.pk for h in buenas[1:]]
    assert hora_para_reservar(cita_id=buenas[0].pk).pk == buenas[0].pk
    for cita_id in (10**20, -1, 0, "7"):
        assert hora_para_reservar(cita_id=cita_id) is None


def test_horas_de_un_dentista_y_lista_de_dentistas(hora, crear_personal, django_assert_num_queries):
    otro = crear_personal(nombre="Tomás", apellido="Vidal")
    crear_personal(nombre="Zoe", apellido="Inactiva", activo=False)
    mia, suya = hora(30 * H), hora(30 * H, dentista_id=otro.pk)
    assert [h.pk for h in horas_libres_para_reservar(dentista_id=otro.pk)] == [suya.pk]
    assert {h.pk for h in horas_libres_para_reservar()} == {mia.pk, suya.pk}
    with django_assert_num_queries(1):
        nombres = [d.nombre for d in opciones_de_dentista()]
    assert nombres == ["Camila Soto", "Tomás Vidal"]


def test_horas_cercanas_del_mismo_dentista_primero(hora, crear_personal, paciente):
    otro = crear_personal(nombre="Tomás", apellido="Vidal")
    tomada = hora(30 * H)
    reservar_cita(user=paciente, cita_id=tomada.pk)
    cerca_otro = hora(30 * H, dentista_id=otro.pk)
    lejos_mismo = hora(60 * H)
    cerca_mismo = hora(31 * H)
    cercanas = horas_cercanas(cita_id=tomada.pk)
    assert [h.pk for h in cercanas] == [cerca_mismo.pk, lejos_mismo.pk, cerca_otro.pk]
    # Without a known slot: nearest to now, any dentist.
    assert [h.pk for h in horas_cercanas(cita_id=999_999, limite=2)] == [cerca_otro.pk, cerca_mismo.pk]


def test_citas_del_paciente_y_sus_acciones(hora, paciente, recepcionista, django_assert_num_queries, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 100  # many bookings of one patient; the cap has its own tests
    lejana, cercana, otra_libre = hora(30 * H), hora(5 * H), hora(40 * H)
    for cita in (lejana, cercana):
        reservar_cita(user=paciente, cita_id=cita.pk)
    pasada = hora(-3 * H)
    Cita.objects.filter(pk=pasada.pk).update(estado=EstadoCita.ATENDIDA, cliente=paciente.cliente,
                                             paciente_nombre="x")
    cancelada = hora(50 * H)
    reservar_cita(user=paciente, cita_id=cancelada.pk)
    cancelar_cita(actor=recepcionista.user, cita_id=cancelada.pk, por_clinica=True, motivo="la clínica no puede atender")
    ajena = hora(60 * H)
    reservar_cita(user=registrar_paciente(2), cita_id=ajena.pk)
    propia = hora(75 * H)
    reservar_cita(user=paciente, cita_id=propia.pk)
    cancelar_cita(actor=paciente, cita_id=propia.pk)  # frees the slot: only its history row remembers it

    with django_assert_num_queries(3):
        mias = citas_del_paciente(cliente_id=paciente.cliente.pk)
    assert [c.pk for c in mias.proximas] == [cercana.pk, lejana.pk]
    assert [c.pk for c in mias.anteriores] == [pasada.pk]
    # Cancelled, most recently cancelled first: who (never which staff member), the clinic's reason.
    por_usted, por_la_clinica = mias.canceladas
    assert (por_usted.quien, por_usted.como, por_usted.motivo, por_usted.cita_id) == (
        "Cancelada por usted", "en el portal", "", None)
    assert por_usted.inicio == propia.inicio and por_usted.dentista == propia.dentista.nombre
    assert (por_la_clinica.quien, por_la_clinica.motivo, por_la_clinica.cita_id) == (
        "Cancelada por la clínica", "la clínica no puede atender", cancelada.pk)
    pronto, tarde = mias.proximas
    assert (pronto.acciones.confirmar, pronto.acciones.cancelar, pronto.acciones.reprogramar) == (True, False, False)
    assert "24 horas" in pronto.acciones.por_que_no_cancelar and "llame a la clínica" in pronto.acciones.por_que_no_cancelar
    assert (tarde.acciones.cancelar, tarde.acciones.reprogramar) == (True, True)
    # The flags say exactly what the services do.
    for cita in mias.proximas:
        for accion, servicio in (
            ("reprogramar", lambda c: reprogramar_cita(actor=paciente, cita_id=c.pk, nueva_cita_id=otra_libre.pk)),
        ):
            permitido = getattr(cita.acciones, accion)
            try:
                servicio(cita)
            except ValidationError as error:
                assert not permitido and error.message == cita.acciones.por_que_no_reprogramar
            else:
                assert permitido

    assert cita_del_paciente(cliente_id=paciente.cliente.pk, cita_id=ajena.pk) is None
    assert cita_del_paciente(cliente_id=paciente.cliente.pk, cita_id=hora(70 * H).pk) is None  # a free slot
    assert cita_del_paciente(cliente_id=paciente.cliente.pk, cita_id=10**20) is None
    assert cita_del_paciente(cliente_id=paciente.cliente.pk, cita_id=cercana.pk).acciones.confirmar


def test_politica_del_portal_es_datos_simples(politica):
    p = politica_del_portal()
    assert (p.anticipacion_minima_min, p.semanas_reserva, p.plazo_cambios_h, p.max_reprogramaciones) == (120, 4, 24, 2)


def test_la_columna_tiene_valor_por_defecto_en_la_base(dentista):
    """Raw SQL inserts (bulk tools, old scripts) get 0 too."""
    inicio = timezone.now() + 30 * H
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO citas_cita (dentista_id, inicio, fin, estado, paciente_nombre, paciente_email, "
            "paciente_telefono, motivo, creado, actualizado) VALUES (%s, %s, %s, 'disponible', '', '', '', '', "
            "now(), now()) RETURNING reprogramaciones",
            [dentista.pk, inicio, inicio + 30 * MIN],
        )
        assert cursor.fetchone()[0] == 0
