"""The state machine's table (``citas.estados.TRANSICIONES``) is what the services enforce:
every action, from every state, before and after the start, succeeds exactly when the table
allows it and lands on the table's destination; anything else is refused and changes nothing.
(test_transiciones.py pins the same rules against a list written by hand.)"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from citas import estados
from citas.estados import TRANSICIONES, EstadoCita
from citas.cierres import bloquear_hora, desbloquear_hora
from citas.models import Cita
from citas.services import (
    asignar_cita,
    cancelar_cita,
    confirmar_cita,
    crear_cita_disponible,
    deshacer_marca,
    marcar_atendida,
    marcar_llegada,
    marcar_no_asistio,
    reprogramar_cita,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from citas.tests.test_transiciones import congelar_reloj
from pruebas.soporte import huella_bd


@pytest.fixture(autouse=True)
def _mediodia(monkeypatch):
    """Today at 12:00 in Santiago: "earlier today" stays today (the arrival rule)."""
    hoy = timezone.localdate()
    return congelar_reloj(monkeypatch, timezone.make_aware(datetime.datetime.combine(hoy, datetime.time(12, 0))))


@pytest.fixture
def numero():
    """``numero()``: 1, 2, 3…: distinct patients and non-overlapping slots within one test."""
    contador = iter(range(1, 10_000))
    return lambda: next(contador)


# What each mark replaced in these scenes (``Cita.estado_anterior``): where ``deshacer`` goes.
ANTERIOR_DE_PRUEBA = {
    EstadoCita.EN_ESPERA: EstadoCita.CONFIRMADA,
    EstadoCita.ATENDIDA: EstadoCita.EN_ESPERA,
    EstadoCita.NO_ASISTIO: EstadoCita.RESERVADA,
}


def destino_de(accion, estado):
    """The table's destination of ``accion`` from ``estado`` (``deshacer``: the recorded one)."""
    regla = TRANSICIONES[accion]
    return ANTERIOR_DE_PRUEBA[estado] if regla.vuelve_atras else regla.destino


@pytest.fixture
def en_el_estado(dentista, recepcionista, en_tres_dias_10, numero):
    """``en_el_estado(estado, cuando)``: a 5-minute slot of ``dentista`` put straight into
    ``estado`` (test setup), with its free twin a day later (where ``reprogramar`` moves it);
    three days ahead ("futura": beyond every portal limit) or earlier today ("pasada"), booked
    for a patient with a portal account; a marked state records what it replaced
    (``ANTERIOR_DE_PRUEBA``). Returns (slot, twin)."""

    def crear(estado, cuando):
        n = numero()
        hace = datetime.timedelta(minutes=30 + 5 * n)
        inicio = en_tres_dias_10 + datetime.timedelta(minutes=5 * n) if cuando == "futura" else timezone.now() - hace
        cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio,
                                     duracion_minutos=5)
        if estado == EstadoCita.BLOQUEADA:  # nobody's: a reason, no patient
            Cita.objects.filter(pk=cita.pk).update(estado=estado, bloqueo_motivo="Reunión")
        elif estado != EstadoCita.DISPONIBLE:
            cliente = registrar_paciente(n).cliente
            Cita.objects.filter(pk=cita.pk).update(
                estado=estado, cliente=cliente, paciente_nombre=cliente.nombre_completo, paciente_email=cliente.email,
                estado_anterior=ANTERIOR_DE_PRUEBA.get(estado, ""),
            )
        cita.refresh_from_db()
        gemela = crear_cita_disponible(
            actor=recepcionista.user, dentista_id=dentista.pk, duracion_minutos=5,
            inicio=en_tres_dias_10 + datetime.timedelta(days=1, minutes=5 * n),
        )
        return cita, gemela

    return crear


def _servicio(accion, cita, *, recepcionista, otra_hora, paciente):
    """Run the service of ``accion`` on ``cita`` as staff (``reservar``: as ``paciente``, who
    books on the portal; ``reprogramar``: to ``otra_hora``)."""
    personal = recepcionista.user
    if accion == "reservar":
        reservar_cita(user=paciente, cita_id=cita.pk)
    elif accion == "asignar":
        asignar_cita(actor=personal, cita_id=cita.pk, paciente_nombre="Rosa Díaz Vera")
    elif accion == "reprogramar":
        reprogramar_cita(actor=personal, cita_id=cita.pk, nueva_cita_id=otra_hora.pk)
    elif accion in ("cancelar", "cancelar_por_clinica"):
        cancelar_cita(actor=personal, cita_id=cita.pk, por_clinica=accion == "cancelar_por_clinica",
                      motivo="la clínica no puede atender")
    elif accion == "deshacer":
        deshacer_marca(actor=personal, cita_id=cita.pk, desde=cita.estado)
    elif accion == "bloquear":
        bloquear_hora(actor=personal, cita_id=cita.pk, motivo="Sillón en reparación")
    elif accion == "desbloquear":
        desbloquear_hora(actor=personal, cita_id=cita.pk)
    else:
        {
            "confirmar": confirmar_cita,
            "marcar_llegada": marcar_llegada,
            "marcar_atendida": marcar_atendida,
            "marcar_no_asistio": marcar_no_asistio,
        }[accion](actor=personal, cita_id=cita.pk)


def test_cada_accion_del_personal_tiene_su_servicio():
    """No action of the table is left without a service in this test (nor the reverse)."""
    assert set(TRANSICIONES) == {
        "reservar", "asignar", "confirmar", "marcar_llegada", "marcar_atendida", "marcar_no_asistio",
        "reprogramar", "cancelar", "cancelar_por_clinica", "deshacer", "bloquear", "desbloquear",
    }
    assert set(estados.ACCIONES_SOBRE_LA_CITA) <= set(TRANSICIONES)


@pytest.mark.parametrize("cuando", ["futura", "pasada"])
@pytest.mark.parametrize("estado", EstadoCita.values)
@pytest.mark.parametrize("accion", list(TRANSICIONES))
def test_el_servicio_hace_lo_que_dice_la_tabla(en_el_estado, recepcionista, accion, estado, cuando):
    cita, otra_hora = en_el_estado(estado, cuando)
    paciente = registrar_paciente(5000)
    permitida = estados.permitida(accion, cita, timezone.now())
    regla = TRANSICIONES[accion]
    antes = huella_bd()
    try:
        _servicio(accion, cita, recepcionista=recepcionista, otra_hora=otra_hora, paciente=paciente)
    except ValidationError as error:
        assert not permitida, f"{accion} desde {estado} ({cuando}): {error.code}"
        # The refusal is the table's: the action's own, or which rule failed.
        if regla.rechazo is not None:
            assert error.code == regla.rechazo[0]
        else:
            assert error.code in ("transicion_invalida", "cita_ya_comenzo", "cita_no_comenzada",
                                  "llegada_fuera_del_dia", "deshacer_fuera_del_dia")
        assert huella_bd() == antes
        return
    assert permitida, f"{accion} desde {estado} ({cuando}) pasó y la tabla no lo permite"
    assert Cita.objects.get(pk=cita.pk).estado == destino_de(accion, estado)
    if accion == "reprogramar":
        assert Cita.objects.get(pk=otra_hora.pk).estado == TRANSICIONES["asignar"].destino


def test_ninguna_otra_transicion_es_posible(en_el_estado, recepcionista):
    """Every (state → state) change that a service made, over every action from every state,
    is an edge of the table, and every edge of the table is reached: no service moves an
    appointment along a path the table does not draw."""
    aristas_de_la_tabla = {(o, destino_de(a, o)) for a, r in TRANSICIONES.items() for o in r.origenes}
    vistas = set()
    for accion in TRANSICIONES:
        for estado in EstadoCita.values:
            for cuando in ("futura", "pasada"):
                cita, otra_hora = en_el_estado(estado, cuando)
                paciente = registrar_paciente(5000 + cita.pk)
                try:
                    _servicio(accion, cita, recepcionista=recepcionista, otra_hora=otra_hora, paciente=paciente)
                except ValidationError:
                    pass
                for fila, antes in ((cita, estado), (otra_hora, EstadoCita.DISPONIBLE)):
                    despues = Cita.objects.get(pk=fila.pk).estado
                    if despues != antes:
                        vistas.add((antes, despues))
    assert vistas == aristas_de_la_tabla
