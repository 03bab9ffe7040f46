"""The database guards ``Cita``'s invariants even when the services are bypassed.

Invariant 3 (no overlapping live appointments per dentist) and invariant 4 (state and patient
agree) are attacked with ``objects.create``, ``QuerySet.update``, ``save``, ``bulk_create`` and
raw SQL; each must be refused by its named constraint, whose code ``error_de_integridad`` reports.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from citas.models import ESTADOS_CON_PACIENTE, Cita, EstadoCita
from pruebas.soporte import rechazado_por
from nucleo.servicios import operacion
from pacientes.models import Cliente
from personal.models import Rol

pytestmark = pytest.mark.django_db

MIN = datetime.timedelta(minutes=1)
ESTADOS_VIVOS = [estado for estado in EstadoCita if estado != EstadoCita.CANCELADA]


def paciente_de(estado):
    """The patient fields a row in ``estado`` needs to be valid (a blocked slot: its reason)."""
    if estado == EstadoCita.BLOQUEADA:
        return {"bloqueo_motivo": "Reunión"}
    return {} if estado == EstadoCita.DISPONIBLE else {"paciente_nombre": "Ana Pérez"}


def cita(dentista, inicio, minutos=30, *, estado=EstadoCita.DISPONIBLE, guardar=True, **campos):
    campos = {**paciente_de(estado), **campos}
    nueva = Cita(dentista=dentista, inicio=inicio, fin=inicio + minutos * MIN, estado=estado, **campos)
    if guardar:
        nueva.save()
    return nueva


def insertar_sql(dentista, inicio, fin, *, estado=EstadoCita.DISPONIBLE, **campos):
    """INSERT straight into ``citas_cita``."""
    valores = {
        "dentista_id": dentista.pk,
        "inicio": inicio,
        "fin": fin,
        "estado": estado,
        "cliente_id": None,
        "paciente_nombre": "",
        "paciente_email": "",
        "paciente_telefono": "",
        "motivo": "",
        **paciente_de(estado),
        **campos,
    }
    columnas = ", ".join(valores)
    marcas = ", ".join(["%s"] * len(valores))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO citas_cita ({columnas}, creado, actualizado) VALUES ({marcas}, now(), now()) RETURNING id",
            list(valores.values()),
        )
        return cursor.fetchone()[0]


def actualizar_sql(pk, **campos):
    asignaciones = ", ".join(f"{columna} = %s" for columna in campos)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE citas_cita SET {asignaciones} WHERE id = %s", [*campos.values(), pk])


@pytest.fixture
def otro_dentista(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Rodrigo", apellido="Muñoz")


@pytest.fixture
def cliente(db):
    return Cliente.objects.create(nombre_completo="Ana Pérez", email="ana@example.cl", telefono="+56961234567")


# Invariant 3: no overlap per dentist ---------------------------------------------------------

# (start, end) in minutes after 10:00, against an existing 10:00-10:30.
TRASLAPES = [
    pytest.param(0, 30, id="misma_hora"),
    pytest.param(-15, 15, id="traslape_parcial_antes"),
    pytest.param(15, 45, id="traslape_parcial_despues"),
    pytest.param(-30, 60, id="la_contiene"),
    pytest.param(10, 20, id="contenida"),
    pytest.param(29, 31, id="un_minuto"),
]


@pytest.mark.parametrize(("desde", "hasta"), TRASLAPES)
def test_traslape_rechazado_con_create(dentista, manana_10, desde, hasta):
    cita(dentista, manana_10)
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        Cita.objects.create(dentista=dentista, inicio=manana_10 + desde * MIN, fin=manana_10 + hasta * MIN)
    assert Cita.objects.count() == 1


@pytest.mark.parametrize(("desde", "hasta"), TRASLAPES)
def test_traslape_rechazado_con_sql(dentista, manana_10, desde, hasta):
    cita(dentista, manana_10, estado=EstadoCita.RESERVADA)
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        insertar_sql(dentista, manana_10 + desde * MIN, manana_10 + hasta * MIN)


@pytest.mark.parametrize(("desde", "hasta"), TRASLAPES)
def test_traslape_rechazado_con_bulk_create(dentista, manana_10, desde, hasta):
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        Cita.objects.bulk_create(
            [
                cita(dentista, manana_10, guardar=False),
                Cita(dentista=dentista, inicio=manana_10 + desde * MIN, fin=manana_10 + hasta * MIN),
            ]
        )
    assert not Cita.objects.exists()


@pytest.mark.parametrize(("desde", "hasta"), TRASLAPES)
def test_mover_una_hora_sobre_otra_rechazado_con_update(dentista, manana_10, desde, hasta):
    cita(dentista, manana_10)
    tarde = cita(dentista, manana_10 + 5 * 60 * MIN)
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        Cita.objects.filter(pk=tarde.pk).update(inicio=manana_10 + desde * MIN, fin=manana_10 + hasta * MIN)
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        actualizar_sql(tarde.pk, inicio=manana_10 + desde * MIN, fin=manana_10 + hasta * MIN)
    tarde.refresh_from_db()
    assert tarde.inicio == manana_10 + 5 * 60 * MIN


def test_alargar_una_hora_sobre_la_siguiente_rechazado(dentista, manana_10):
    primera = cita(dentista, manana_10, estado=EstadoCita.CONFIRMADA)
    cita(dentista, manana_10 + 30 * MIN)
    primera.fin = manana_10 + 45 * MIN
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        primera.save()


def test_cambiar_de_dentista_sobre_una_hora_ocupada_rechazado(dentista, otro_dentista, manana_10):
    cita(dentista, manana_10, estado=EstadoCita.RESERVADA)
    ajena = cita(otro_dentista, manana_10)
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        Cita.objects.filter(pk=ajena.pk).update(dentista=dentista)


@pytest.mark.parametrize("estado_existente", ESTADOS_VIVOS)
@pytest.mark.parametrize("estado_nuevo", ESTADOS_VIVOS)
def test_traslape_entre_estados_vivos_rechazado(dentista, manana_10, estado_existente, estado_nuevo):
    cita(dentista, manana_10, estado=estado_existente)
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        cita(dentista, manana_10 + 10 * MIN, estado=estado_nuevo)


def test_horas_contiguas_permitidas(dentista, manana_10):
    cita(dentista, manana_10)  # 10:00-10:30
    cita(dentista, manana_10 + 30 * MIN)  # 10:30-11:00
    cita(dentista, manana_10 - 30 * MIN)  # 09:30-10:00
    insertar_sql(dentista, manana_10 + 60 * MIN, manana_10 + 90 * MIN)  # 11:00-11:30
    Cita.objects.bulk_create([cita(dentista, manana_10 + 90 * MIN, guardar=False)])  # 11:30-12:00
    assert Cita.objects.filter(dentista=dentista).count() == 5


def test_dentistas_distintos_a_la_misma_hora_permitido(dentista, otro_dentista, manana_10):
    cita(dentista, manana_10, estado=EstadoCita.RESERVADA)
    cita(otro_dentista, manana_10, estado=EstadoCita.RESERVADA)
    insertar_sql(otro_dentista, manana_10 + 60 * MIN, manana_10 + 90 * MIN)
    cita(dentista, manana_10 + 60 * MIN)
    assert Cita.objects.count() == 4


@pytest.mark.parametrize("estado_vivo", ESTADOS_VIVOS)
def test_traslape_con_cancelada_permitido(dentista, manana_10, estado_vivo):
    cita(dentista, manana_10, estado=EstadoCita.CANCELADA)
    cita(dentista, manana_10, estado=estado_vivo)
    cita(dentista, manana_10 + 10 * MIN, estado=EstadoCita.CANCELADA)
    insertar_sql(dentista, manana_10, manana_10 + 30 * MIN, estado=EstadoCita.CANCELADA)
    assert Cita.objects.filter(dentista=dentista).count() == 4


def test_reactivar_cancelada_que_traslapa_rechazado(dentista, manana_10):
    cita(dentista, manana_10, estado=EstadoCita.RESERVADA, paciente_nombre="Beto Soto")
    cancelada = cita(dentista, manana_10 + 15 * MIN, estado=EstadoCita.CANCELADA)
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        Cita.objects.filter(pk=cancelada.pk).update(estado=EstadoCita.RESERVADA)
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        actualizar_sql(cancelada.pk, estado=EstadoCita.CONFIRMADA)
    cancelada.estado = EstadoCita.RESERVADA
    with rechazado_por("cita_sin_traslape_por_dentista", "traslape"):
        cancelada.save()
    assert Cita.objects.get(pk=cancelada.pk).estado == EstadoCita.CANCELADA


def test_reactivar_cancelada_sin_traslape_permitido(dentista, manana_10):
    cita(dentista, manana_10, estado=EstadoCita.RESERVADA)
    cancelada = cita(dentista, manana_10 + 30 * MIN, estado=EstadoCita.CANCELADA)
    Cita.objects.filter(pk=cancelada.pk).update(estado=EstadoCita.RESERVADA)
    assert Cita.objects.get(pk=cancelada.pk).estado == EstadoCita.RESERVADA


# Invariant 4: state and patient agree --------------------------------------------------------


@pytest.mark.parametrize(
    "paciente",
    [
        pytest.param("cliente", id="cliente"),
        pytest.param({"paciente_nombre": "Ana Pérez"}, id="nombre"),
        pytest.param({"paciente_email": "ana@example.cl"}, id="email"),
        pytest.param({"paciente_telefono": "+56961234567"}, id="telefono"),
    ],
)
def test_disponible_con_paciente_rechazada(dentista, manana_10, cliente, paciente):
    campos = {"cliente": cliente} if paciente == "cliente" else paciente
    columnas = {"cliente_id": cliente.pk} if paciente == "cliente" else paciente
    restriccion = ("cita_disponible_sin_paciente", "disponible_con_paciente")

    with rechazado_por(*restriccion):
        Cita.objects.create(dentista=dentista, inicio=manana_10, fin=manana_10 + 30 * MIN, **campos)
    with rechazado_por(*restriccion):
        Cita.objects.bulk_create([cita(dentista, manana_10, guardar=False, **campos)])
    with rechazado_por(*restriccion):
        insertar_sql(dentista, manana_10, manana_10 + 30 * MIN, **columnas)
    libre = cita(dentista, manana_10)
    with rechazado_por(*restriccion):
        Cita.objects.filter(pk=libre.pk).update(**campos)
    with rechazado_por(*restriccion):
        actualizar_sql(libre.pk, **columnas)


def test_liberar_hora_sin_borrar_el_paciente_rechazado(dentista, manana_10, cliente):
    """Back to 'disponible' with the snapshot still there: the release must clear it too."""
    reservada = cita(dentista, manana_10, estado=EstadoCita.RESERVADA, cliente=cliente)
    with rechazado_por("cita_disponible_sin_paciente", "disponible_con_paciente"):
        Cita.objects.filter(pk=reservada.pk).update(estado=EstadoCita.DISPONIBLE)
    Cita.objects.filter(pk=reservada.pk).update(estado=EstadoCita.DISPONIBLE, cliente=None, paciente_nombre="")
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.DISPONIBLE


@pytest.mark.parametrize("estado", ESTADOS_CON_PACIENTE)
def test_estado_con_paciente_sin_cliente_ni_nombre_rechazado(dentista, manana_10, estado):
    restriccion = ("cita_reservada_con_paciente", "reservada_sin_paciente")
    fin = manana_10 + 30 * MIN
    with rechazado_por(*restriccion):
        Cita.objects.create(dentista=dentista, inicio=manana_10, fin=fin, estado=estado)
    with rechazado_por(*restriccion):
        # E-mail and phone alone do not name anybody.
        Cita.objects.create(
            dentista=dentista, inicio=manana_10, fin=fin, estado=estado,
            paciente_email="ana@example.cl", paciente_telefono="+56961234567",
        )
    with rechazado_por(*restriccion):
        Cita.objects.bulk_create([Cita(dentista=dentista, inicio=manana_10, fin=fin, estado=estado)])
    with rechazado_por(*restriccion):
        insertar_sql(dentista, manana_10, fin, estado=estado, paciente_nombre="")
    libre = cita(dentista, manana_10)
    with rechazado_por(*restriccion):
        Cita.objects.filter(pk=libre.pk).update(estado=estado)
    with rechazado_por(*restriccion):
        actualizar_sql(libre.pk, estado=estado)


@pytest.mark.parametrize("estado", [EstadoCita.RESERVADA, EstadoCita.ATENDIDA])
def test_estado_con_paciente_con_cliente_o_solo_nombre_permitido(dentista, manana_10, cliente, estado):
    cita(dentista, manana_10, estado=estado, cliente=cliente, paciente_nombre="")
    cita(dentista, manana_10 + 30 * MIN, estado=estado, paciente_nombre="Paciente sin ficha")
    desde, hasta = manana_10 + 60 * MIN, manana_10 + 90 * MIN
    insertar_sql(dentista, desde, hasta, estado=estado, cliente_id=cliente.pk, paciente_nombre="")
    assert Cita.objects.filter(estado=estado).count() == 3


def test_borrar_paciente_deja_la_cita_con_su_nombre(dentista, manana_10, cliente):
    historia = cita(dentista, manana_10, estado=EstadoCita.ATENDIDA, cliente=cliente, paciente_nombre="Ana Pérez")
    cliente.delete()
    historia.refresh_from_db()
    assert (historia.cliente_id, historia.paciente_nombre) == (None, "Ana Pérez")


def test_borrar_paciente_de_cita_sin_nombre_rechazado(dentista, manana_10, cliente):
    """Without a snapshot the history would name nobody: the SET NULL is refused."""
    cita(dentista, manana_10, estado=EstadoCita.ATENDIDA, cliente=cliente, paciente_nombre="")
    with rechazado_por("cita_reservada_con_paciente", "reservada_sin_paciente"):
        Cliente.objects.filter(pk=cliente.pk).delete()
    assert Cliente.objects.filter(pk=cliente.pk).exists()


# Times and states -----------------------------------------------------------------------------


@pytest.mark.parametrize("minutos", [0, -30], ids=["fin_igual_inicio", "fin_antes_del_inicio"])
def test_fin_no_posterior_al_inicio_rechazado(dentista, manana_10, minutos):
    restriccion = ("cita_fin_posterior_al_inicio", "horario_invalido")
    fin = manana_10 + minutos * MIN
    with rechazado_por(*restriccion):
        Cita.objects.create(dentista=dentista, inicio=manana_10, fin=fin)
    with rechazado_por(*restriccion):
        Cita.objects.bulk_create([Cita(dentista=dentista, inicio=manana_10, fin=fin)])
    with rechazado_por(*restriccion):
        insertar_sql(dentista, manana_10, fin)
    libre = cita(dentista, manana_10)
    with rechazado_por(*restriccion):
        Cita.objects.filter(pk=libre.pk).update(fin=fin)
    with rechazado_por(*restriccion):
        actualizar_sql(libre.pk, fin=fin)


@pytest.mark.parametrize("estado", ["borrada", "", "Reservada", "RESERVADA", "pendiente"])
def test_estado_desconocido_rechazado(dentista, manana_10, estado):
    restriccion = ("cita_estado_valido", "estado_invalido")
    fin = manana_10 + 30 * MIN
    with rechazado_por(*restriccion):
        Cita.objects.create(dentista=dentista, inicio=manana_10, fin=fin, estado=estado, paciente_nombre="Ana")
    with rechazado_por(*restriccion):
        Cita.objects.bulk_create(
            [Cita(dentista=dentista, inicio=manana_10, fin=fin, estado=estado, paciente_nombre="Ana")]
        )
    with rechazado_por(*restriccion):
        insertar_sql(dentista, manana_10, fin, estado=estado, paciente_nombre="Ana")
    reservada = cita(dentista, manana_10, estado=EstadoCita.RESERVADA)
    with rechazado_por(*restriccion):
        Cita.objects.filter(pk=reservada.pk).update(estado=estado)
    with rechazado_por(*restriccion):
        actualizar_sql(reservada.pk, estado=estado)


# nucleo.servicios: the constraint's IntegrityError becomes its ValidationError -------------


def test_operacion_convierte_traslape_y_no_guarda_nada(dentista, otro_dentista, manana_10):
    cita(dentista, manana_10, estado=EstadoCita.RESERVADA)
    with pytest.raises(ValidationError) as exc:
        with operacion("prueba_traslape"):
            cita(otro_dentista, manana_10)  # fine on its own, undone with the rest
            cita(dentista, manana_10 + 15 * MIN)
    assert exc.value.code == "traslape"
    assert exc.value.messages == ["El dentista ya tiene otra hora en ese horario."]
    assert isinstance(exc.value.__cause__, IntegrityError)
    assert Cita.objects.count() == 1
    assert not Cita.objects.filter(dentista=otro_dentista).exists()


@pytest.mark.parametrize(
    ("campos", "code"),
    [
        ({"estado": EstadoCita.RESERVADA}, "reservada_sin_paciente"),
        ({"paciente_nombre": "Ana Pérez"}, "disponible_con_paciente"),
        ({"estado": "borrada", "paciente_nombre": "Ana"}, "estado_invalido"),
        ({"fin_minutos": 0}, "horario_invalido"),
    ],
)
def test_operacion_convierte_cada_restriccion_de_cita(dentista, manana_10, campos, code):
    campos = dict(campos)
    fin = manana_10 + campos.pop("fin_minutos", 30) * MIN
    with pytest.raises(ValidationError) as exc:
        with operacion("prueba_restriccion"):
            Cita.objects.create(dentista=dentista, inicio=manana_10, fin=fin, **campos)
    assert exc.value.code == code
    assert not Cita.objects.exists()
