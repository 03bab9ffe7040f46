"""One home for each rule, and the SQL written out for speed agrees with it.

Who can be booked (``Perfil.objects.reservables()``), a free slot (``Cita.objects.libres``),
freeing a slot (``CitaQuerySet.liberar``) and a staff member's name (``nombre_de_personal``)
are defined once in production code; the hand-written statements of the portal, the day
agenda and the booking itself must select exactly what those definitions select, on the same
data (a dentist of each kind, a slot of each kind)."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from citas.estados import EstadoCita
from citas.models import VALORES_DE_HORA_LIBRE, Cita
from citas.selectors import (
    agenda_del_dia,
    filas_de_horas_libres,
    hora_para_reservar,
    horas_cercanas,
    horas_libres,
    opciones_de_dentista,
    resumen_del_dia,
)
from citas.services import (
    asignar_cita,
    crear_cita_disponible,
    liberar_citas_del_cliente,
    reprogramar_cita,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from personal.models import Perfil, Rol, nombre_de_personal

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


@pytest.fixture
def politica(settings):
    settings.CLINICA_ANTICIPACION_MINIMA_MIN = 120
    settings.CLINICA_SEMANAS_RESERVA = 4
    return settings


@pytest.fixture
def personal_de_cada_tipo(crear_personal, dentista):
    """Dentists bookable and not (profile off, login off, both), one without a name, and staff
    of the other roles (a slot can only be theirs through old data)."""
    sin_nombre = crear_personal(nombre="", apellido="", username="dr.sinnombre")
    perfil_inactivo = crear_personal(nombre="Inés", apellido="Inactiva", activo=False)
    usuario_inactivo = crear_personal(nombre="Ulises", apellido="Bloqueado")
    get_user_model().objects.filter(pk=usuario_inactivo.user_id).update(is_active=False)
    ambos = crear_personal(nombre="Ana", apellido="Apagada", activo=False)
    get_user_model().objects.filter(pk=ambos.user_id).update(is_active=False)
    recepcion = crear_personal(rol=Rol.RECEPCION, nombre="Rita", apellido="Recepción")
    administrador = crear_personal(rol=Rol.ADMINISTRADOR, nombre="Aldo", apellido="Admin")
    solo_nombre = crear_personal(nombre="Bruno", apellido="")
    return {
        "dentista": dentista, "sin_nombre": sin_nombre, "solo_nombre": solo_nombre,
        "perfil_inactivo": perfil_inactivo, "usuario_inactivo": usuario_inactivo, "ambos": ambos,
        "recepcion": recepcion, "administrador": administrador,
    }


RESERVABLES = {"dentista", "sin_nombre", "solo_nombre"}


def _hora(perfil, inicio, minutos=30):
    """A free slot straight in the table (the services refuse slots of non-bookable staff)."""
    return Cita.objects.create(dentista=perfil, inicio=inicio, fin=inicio + datetime.timedelta(minutes=minutos))


@pytest.fixture
def horas_de_cada_tipo(personal_de_cada_tipo, recepcionista, politica):
    """For every staff member: slots past, too soon (inside the minimum notice), bookable soon
    and later, beyond the portal's window, taken, cancelled, confirmed, attended."""
    base = timezone.now().replace(second=0, microsecond=0)
    horas = {}
    for n, (tipo, perfil) in enumerate(personal_de_cada_tipo.items()):
        desfase = datetime.timedelta(minutes=n)  # never two equal starts
        for clase, delta in (("pasada", -3 * H), ("muy_pronto", H), ("pronto", 3 * H), ("luego", 50 * H),
                             ("fuera_de_ventana", 6 * 7 * 24 * H), ("tomada", 30 * H), ("cancelada", 31 * H),
                             ("confirmada", 32 * H), ("atendida", -5 * H)):
            horas[(tipo, clase)] = _hora(perfil, base + delta + desfase, minutos=1)
    for (tipo, clase), cita in horas.items():
        if clase in ("tomada", "cancelada", "confirmada", "atendida"):
            estado = {"tomada": EstadoCita.RESERVADA, "cancelada": EstadoCita.CANCELADA,
                      "confirmada": EstadoCita.CONFIRMADA, "atendida": EstadoCita.ATENDIDA}[clase]
            Cita.objects.filter(pk=cita.pk).update(estado=estado, paciente_nombre="Marta Díaz")
    return horas


# A staff member's name ------------------------------------------------------------------------


@pytest.mark.parametrize(("nombre", "apellido", "usuario", "esperado"), [
    ("Camila", "Soto", "dra.soto", "Camila Soto"),
    ("Camila", "", "dra.soto", "Camila"),
    ("", "Soto", "dra.soto", "Soto"),
    ("", "", "dra.soto", "dra.soto"),
])
def test_nombre_de_personal(crear_personal, nombre, apellido, usuario, esperado):
    perfil = crear_personal(nombre=nombre, apellido=apellido, username=usuario)
    assert nombre_de_personal(nombre, apellido, usuario) == esperado
    assert perfil.nombre == esperado == (perfil.user.get_full_name() or perfil.user.username)


# Who can be booked ----------------------------------------------------------------------------


def test_dentistas_reservables(personal_de_cada_tipo):
    assert set(Perfil.objects.reservables()) == {personal_de_cada_tipo[t] for t in RESERVABLES}


def test_opciones_de_dentista_igual_que_el_orm(personal_de_cada_tipo):
    """The portal's dentist choice (SQL) = ``Perfil.objects.reservables()`` by name."""
    esperadas = Perfil.objects.reservables().select_related("user").order_by(
        "user__first_name", "user__last_name", "pk")
    Perfil.objects.filter(pk=esperadas[0].pk).update(especialidad="Ortodoncia")
    assert [(d.pk, d.nombre, d.especialidad) for d in opciones_de_dentista()] == [
        (p.pk, p.nombre, p.especialidad) for p in esperadas]
    assert opciones_de_dentista()[0].especialidad == "Ortodoncia"


def test_columnas_de_la_agenda_igual_que_el_resumen_del_dia(personal_de_cada_tipo, horas_de_cada_tipo):
    """The day grid's columns (SQL) = the home page's (ORM, ``condicion_reservable``): the
    bookable dentists plus any other with appointments that day, by name; for every day of
    the data and for each dentist alone."""
    dias = {timezone.localdate(c.inicio) for c in horas_de_cada_tipo.values()}
    dias.add(timezone.localdate() + datetime.timedelta(days=200))  # no appointments at all
    for fecha in sorted(dias):
        for dentista_id in (None, *(p.pk for p in personal_de_cada_tipo.values())):
            grilla = agenda_del_dia(fecha=fecha, dentista_id=dentista_id).dentistas
            resumen = resumen_del_dia(fecha=fecha, dentista_id=dentista_id).columnas
            assert [(d.pk, d.nombre, d.activo) for d in grilla] == [
                (c.dentista.pk, c.dentista.nombre, c.dentista.activo) for c in resumen
            ], (fecha, dentista_id)


# A free slot ----------------------------------------------------------------------------------


def _ids(citas):
    return {c.pk for c in citas}


def test_libres_segun_el_tipo_de_hora(horas_de_cada_tipo):
    ahora = timezone.now()
    para_paciente = {("pronto",), ("luego",), ("fuera_de_ventana",)}
    esperadas = {c.pk for (t, clase), c in horas_de_cada_tipo.items() if t in RESERVABLES and (clase,) in para_paciente}
    assert _ids(Cita.objects.libres(ahora=ahora)) == esperadas
    con_ventana = {c.pk for (t, clase), c in horas_de_cada_tipo.items()
                   if t in RESERVABLES and clase in ("pronto", "luego")}
    assert _ids(Cita.objects.libres(ahora=ahora).en_la_ventana(ahora=ahora)) == con_ventana
    del_personal = esperadas | {c.pk for (t, clase), c in horas_de_cada_tipo.items()
                                if t in RESERVABLES and clase == "muy_pronto"}
    assert _ids(Cita.objects.libres(ahora=ahora, anticipacion=False)) == del_personal


def test_sql_del_portal_igual_que_libres(personal_de_cada_tipo, horas_de_cada_tipo):
    """``filas_de_horas_libres``, ``hora_para_reservar`` and ``horas_cercanas`` (SQL) select
    ``Cita.objects.libres(…).en_la_ventana(…)``; the staff's ``horas_libres`` selects
    ``libres(anticipacion=False)`` up to its end."""
    ahora = timezone.now()
    ofrecidas = Cita.objects.libres(ahora=ahora).en_la_ventana(ahora=ahora)
    dentistas = opciones_de_dentista()
    assert {f[0] for f in filas_de_horas_libres(dentistas=dentistas, ahora=ahora)} == _ids(ofrecidas)
    for perfil in personal_de_cada_tipo.values():
        filas = filas_de_horas_libres(dentistas=dentistas, dentista_id=perfil.pk, ahora=ahora)
        assert {f[0] for f in filas} == _ids(ofrecidas.filter(dentista=perfil))
    for cita in horas_de_cada_tipo.values():
        assert (hora_para_reservar(cita_id=cita.pk, ahora=ahora) is not None) == ofrecidas.filter(pk=cita.pk).exists()
    assert {h.pk for h in horas_cercanas(cita_id=None, ahora=ahora, limite=1000)} == _ids(ofrecidas)
    hasta = ahora + 60 * 24 * H
    assert _ids(horas_libres(desde=ahora, hasta=hasta, limite=1000)) == _ids(
        Cita.objects.libres(ahora=ahora, anticipacion=False).filter(inicio__lt=hasta))


def test_reservar_toma_lo_que_libres_selecciona(horas_de_cada_tipo):
    """``_RESERVAR_SQL``'s WHERE is ``Cita.objects.libres(ahora=…)``: a patient's booking of
    each slot succeeds exactly on those (the window is the portal's listing, not the
    service's), and returns the row as the database holds it."""
    esperadas = _ids(Cita.objects.libres(ahora=timezone.now()))
    for n, cita in enumerate(horas_de_cada_tipo.values(), start=1):
        paciente = registrar_paciente(n)
        try:
            reservada = reservar_cita(user=paciente, cita_id=cita.pk)
        except ValidationError as error:
            assert cita.pk not in esperadas and error.code == "hora_no_disponible"
        else:
            assert cita.pk in esperadas
            en_bd = Cita.objects.get(pk=cita.pk)
            assert {f.attname: getattr(reservada, f.attname) for f in Cita._meta.concrete_fields} == {
                f.attname: getattr(en_bd, f.attname) for f in Cita._meta.concrete_fields
            }
            assert reservada.estado == EstadoCita.RESERVADA and reservada.cliente.user == paciente
            assert reservada.dentista.nombre


@pytest.mark.parametrize("quien", ["personal", "paciente"])
def test_reprogramar_lleva_solo_a_lo_que_libres_selecciona(horas_de_cada_tipo, recepcionista, dentista, quien):
    """The checks under reprogramar's lock (staff: no notice; a patient: with it) accept
    exactly ``Cita.objects.libres``: each slot tried by its own booking, far from the rest."""
    ahora = timezone.now()
    esperadas = _ids(Cita.objects.libres(ahora=ahora, anticipacion=quien == "paciente"))
    lejos = ahora.replace(second=0, microsecond=0) + 20 * 24 * H
    for n, cita in enumerate(horas_de_cada_tipo.values(), start=1):
        paciente = registrar_paciente(n)
        origen = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=lejos + n * H)
        reservar_cita(user=paciente, cita_id=origen.pk)
        try:
            reprogramar_cita(actor=recepcionista.user if quien == "personal" else paciente, cita_id=origen.pk,
                             nueva_cita_id=cita.pk)
        except ValidationError as error:
            assert cita.pk not in esperadas and error.code in ("hora_no_disponible", "dentista_inactivo"), cita
        else:
            assert cita.pk in esperadas, cita


def test_asignar_toma_lo_que_libres_selecciona(horas_de_cada_tipo, recepcionista):
    """Staff's compare-and-set takes exactly ``Cita.objects.libres(anticipacion=False)``."""
    esperadas = _ids(Cita.objects.libres(ahora=timezone.now(), anticipacion=False))
    for cita in horas_de_cada_tipo.values():
        try:
            asignar_cita(actor=recepcionista.user, cita_id=cita.pk, paciente_nombre="Rosa Díaz Vera")
        except ValidationError as error:
            assert cita.pk not in esperadas and error.code in ("hora_no_disponible", "dentista_inactivo"), cita
        else:
            assert cita.pk in esperadas, cita


# Freeing a slot -------------------------------------------------------------------------------


def test_liberar_deja_la_hora_como_una_recien_creada(dentista, recepcionista, en_tres_dias_10):
    """``CitaQuerySet.liberar`` / ``Cita.liberar`` leave exactly what a new slot holds."""
    nueva = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10)
    campos = list(VALORES_DE_HORA_LIBRE)
    assert {c: getattr(nueva, c) for c in campos} == VALORES_DE_HORA_LIBRE
    paciente = registrar_paciente(1)
    reservada = reservar_cita(user=paciente, cita_id=nueva.pk, motivo="control")
    Cita.objects.filter(pk=nueva.pk).update(reprogramaciones=2)
    reservada.liberar(ahora=timezone.now())
    assert {c: getattr(reservada, c) for c in campos} == VALORES_DE_HORA_LIBRE
    en_bd = Cita.objects.get(pk=nueva.pk)
    assert {c: getattr(en_bd, c) for c in campos} == VALORES_DE_HORA_LIBRE
    assert en_bd.actualizado == reservada.actualizado


def test_liberar_citas_del_cliente(dentista, recepcionista, en_tres_dias_10):
    """The patient-deletion step: future live bookings freed, the rest kept as history with
    its snapshot (filled in where old data left it empty) and no patient."""
    paciente = registrar_paciente(1)
    cliente = paciente.cliente
    ahora = timezone.now()
    futura = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10)
    reservar_cita(user=paciente, cita_id=futura.pk)
    filas = {}
    for clase, estado, inicio in [
        ("confirmada", EstadoCita.CONFIRMADA, en_tres_dias_10 + 80 * H),
        ("en_espera", EstadoCita.EN_ESPERA, en_tres_dias_10 + 90 * H),
        ("cancelada", EstadoCita.CANCELADA, en_tres_dias_10 + 100 * H),
        ("pasada", EstadoCita.ATENDIDA, ahora - 30 * H),
        ("reservada_pasada", EstadoCita.RESERVADA, ahora - 10 * H),
        ("sin_snapshot", EstadoCita.NO_ASISTIO, ahora - 50 * H),
    ]:
        cita = _hora(dentista, inicio)
        Cita.objects.filter(pk=cita.pk).update(
            estado=estado, cliente=cliente, paciente_nombre="" if clase == "sin_snapshot" else cliente.nombre_completo
        )
        filas[clase] = cita
    assert Cita.objects.filter(cliente=cliente).liberables(ahora=ahora).count() == 2
    assert liberar_citas_del_cliente(cliente=cliente, ahora=ahora) == (2, 5)
    for cita in (futura, filas["confirmada"]):
        en_bd = Cita.objects.get(pk=cita.pk)
        assert {c: getattr(en_bd, c) for c in VALORES_DE_HORA_LIBRE} == VALORES_DE_HORA_LIBRE
    for clase in ("en_espera", "pasada", "cancelada", "reservada_pasada", "sin_snapshot"):
        en_bd = Cita.objects.get(pk=filas[clase].pk)
        assert en_bd.cliente_id is None and en_bd.estado != EstadoCita.DISPONIBLE
        assert en_bd.paciente_nombre == cliente.nombre_completo
