"""One-tap links of the reminders (citas.enlaces) and their services, confirmar_por_enlace and
cancelar_por_enlace: a link names one booking, acts once, and expires at the start."""

import datetime
import uuid

import pytest
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as ajustes_hypothesis
from hypothesis import strategies as st

from citas import enlaces
from citas.models import Cita, EstadoCita
from citas.services import (
    asignar_cita,
    cancelar_cita,
    cancelar_por_enlace,
    confirmar_cita,
    confirmar_por_enlace,
    crear_cita_disponible,
    reprogramar_cita,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from notificaciones.models import Notificacion
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db


def _hora(dentista, recepcionista, inicio):
    return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)


@pytest.fixture
def en_20_horas():
    """Inside a 24 h reminder's window and outside the default 12 h cut-off for changes."""
    return (timezone.now() + datetime.timedelta(hours=20)).replace(second=0, microsecond=0)


@pytest.fixture
def paciente(db):
    return registrar_paciente(601)


@pytest.fixture
def reservada(dentista, recepcionista, paciente, en_20_horas):
    cita = _hora(dentista, recepcionista, en_20_horas)
    return reservar_cita(user=paciente, cita_id=cita.pk)


def _token(cita, accion):
    return enlaces.token_de(Cita.objects.get(pk=cita.pk), accion)


def _codigo(funcion, **kwargs):
    with pytest.raises(ValidationError) as error:
        funcion(**kwargs)
    return error.value.code


# The token ------------------------------------------------------------------------------------


def test_enlace_absoluto_con_la_ruta_del_portal(reservada):
    from django.urls import reverse

    url = enlaces.enlace_recordatorio(reservada, "confirmar")
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert url == settings.CLINICA_URL_PORTAL + reverse("portal:recordatorio_enlace", args=[token])
    assert len(url) < 160  # fits an SMS with the rest of the text
    enlace = enlaces.leer_enlace(token)
    assert (enlace.cita_id, enlace.cliente_id, enlace.inicio, enlace.accion) == (
        reservada.pk, reservada.cliente_id, reservada.inicio, "confirmar"
    )


def test_token_manipulado_o_de_otra_sal_es_invalido(reservada):
    token = _token(reservada, "confirmar")
    otra_cita = signing.dumps([reservada.pk + 1, reservada.cliente_id, 1, "c"], salt=enlaces.SAL, compress=True)
    otra_sal = signing.dumps([reservada.pk, reservada.cliente_id, 10**16, "c"], salt="otra", compress=True)
    carga, firma = token.rsplit(":", 1)
    for malo in (token[:-1] + ("A" if token[-1] != "A" else "B"), carga + ":" + firma[::-1],
                 otra_sal, token + "x", "", "a" * 10_000, "ñandú:x", token.upper()):
        assert _codigo(confirmar_por_enlace, token=malo) == "enlace_invalido"
    # A well-signed token of the earlier format (slot, patient, start): it cannot tell two
    # bookings of one slot and patient apart, so it is refused (issue 14).
    assert _codigo(confirmar_por_enlace, token=otra_cita) == "enlace_invalido"
    # A well-signed token of a booking that never existed.
    desconocida = signing.dumps([enlaces._codificar_uid(uuid.uuid4()), "c"], salt=enlaces.SAL, compress=True)
    assert _codigo(confirmar_por_enlace, token=desconocida) == "enlace_invalido"
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA


def test_carga_firmada_con_forma_rara_es_invalida(reservada):
    for datos in ([reservada.pk, reservada.cliente_id, 10**17, "z"], [reservada.pk, None, 10**17, "c"],
                  {"cita": reservada.pk}, [True, 1, 10**17, "c"], [reservada.pk, 1, 10**30, "c"], "texto", []):
        token = signing.dumps(datos, salt=enlaces.SAL, compress=True)
        with pytest.raises(ValidationError) as error:
            enlaces.leer_enlace(token)
        assert error.value.code == "enlace_invalido"


@ajustes_hypothesis(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.hex()))
def test_basura_de_cualquier_largo_da_enlace_invalido(token):
    with pytest.raises(ValidationError) as error:
        enlaces.leer_enlace(token)
    assert error.value.code == "enlace_invalido"


def test_accion_equivocada_es_invalida(reservada):
    assert _codigo(confirmar_por_enlace, token=_token(reservada, "cancelar")) == "enlace_invalido"
    assert _codigo(cancelar_por_enlace, token=_token(reservada, "confirmar")) == "enlace_invalido"
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA


def test_token_de_otra_cita_no_sirve_para_esta(dentista, recepcionista, reservada, en_20_horas):
    otro = registrar_paciente(602)
    ajena = reservar_cita(user=otro, cita_id=_hora(dentista, recepcionista, en_20_horas + datetime.timedelta(hours=1)).pk)
    # The same booking data with the other appointment's id: the signature breaks.
    carga = signing.loads(_token(ajena, "cancelar"), salt=enlaces.SAL)
    carga[0] = reservada.pk
    falsificado = signing.dumps(carga, salt="no-es-la-sal", compress=True)
    assert _codigo(cancelar_por_enlace, token=falsificado) == "enlace_invalido"
    cancelar_por_enlace(token=_token(ajena, "cancelar"))
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA
    assert Cita.objects.get(pk=ajena.pk).estado == EstadoCita.DISPONIBLE


def test_vence_cuando_la_cita_comienza(reservada):
    token = _token(reservada, "confirmar")
    with pytest.raises(ValidationError) as error:
        enlaces.leer_enlace(token, ahora=reservada.inicio)
    assert error.value.code == "enlace_vencido"
    assert enlaces.leer_enlace(token, ahora=reservada.inicio - datetime.timedelta(seconds=1)).accion == "confirmar"


def test_enlace_de_una_cita_ya_comenzada_esta_vencido(reservada):
    # The appointment started (moved back in time by hand: there is no clock to travel).
    comenzo = timezone.now() - datetime.timedelta(minutes=5)
    Cita.objects.filter(pk=reservada.pk).update(inicio=comenzo, fin=comenzo + datetime.timedelta(minutes=30))
    for servicio, accion in ((confirmar_por_enlace, "confirmar"), (cancelar_por_enlace, "cancelar")):
        assert _codigo(servicio, token=_token(reservada, accion)) == "enlace_vencido"
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA


# Acting once -----------------------------------------------------------------------------------


def test_confirmar_por_enlace_confirma_una_vez(reservada):
    token = _token(reservada, "confirmar")
    cita = confirmar_por_enlace(token=token)
    assert cita.estado == EstadoCita.CONFIRMADA
    antes = huella_bd()
    assert _codigo(confirmar_por_enlace, token=token) == "ya_confirmada"
    assert huella_bd() == antes


def test_confirmar_por_enlace_queda_auditado_sin_usuario(reservada):
    from django.apps import apps

    confirmar_por_enlace(token=_token(reservada, "confirmar"))
    evento = apps.get_model("citas", "CitaEvent").objects.filter(pgh_obj_id=reservada.pk).latest("pgh_id")
    assert evento.estado == EstadoCita.CONFIRMADA
    assert evento.pgh_context.metadata == {"servicio": "confirmar_por_enlace", "user": None}


def test_cancelar_por_enlace_libera_la_hora_y_avisa(reservada, paciente):
    token = _token(reservada, "cancelar")
    cita = cancelar_por_enlace(token=token)
    assert cita.estado == EstadoCita.DISPONIBLE and cita.cliente_id is None
    aviso = Notificacion.objects.get(plantilla="cita_cancelada_paciente")
    assert aviso.destinatario == paciente.cliente.email and aviso.cliente_id == paciente.cliente.pk
    antes = huella_bd()
    assert _codigo(cancelar_por_enlace, token=token) == "ya_cancelada"
    assert huella_bd() == antes


def test_cancelar_por_enlace_una_cita_confirmada(reservada):
    confirmar_por_enlace(token=_token(reservada, "confirmar"))
    assert cancelar_por_enlace(token=_token(reservada, "cancelar")).estado == EstadoCita.DISPONIBLE


def test_confirmar_despues_de_cancelar_no_actua(reservada):
    confirmar = _token(reservada, "confirmar")
    cancelar_por_enlace(token=_token(reservada, "cancelar"))
    antes = huella_bd()
    assert _codigo(confirmar_por_enlace, token=confirmar) == "ya_cancelada"
    assert huella_bd() == antes


def test_cancelar_despues_de_que_la_clinica_cancelo(reservada, recepcionista):
    cancelar_cita(actor=recepcionista.user, cita_id=reservada.pk, por_clinica=True, motivo="la clínica no puede atender")
    assert _codigo(cancelar_por_enlace, token=_token(reservada, "cancelar")) == "ya_cancelada"
    assert _codigo(confirmar_por_enlace, token=_token(reservada, "confirmar")) == "ya_cancelada"
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.CANCELADA


def test_cancelada_en_el_portal_el_enlace_lo_dice(reservada, paciente):
    token = _token(reservada, "cancelar")
    cancelar_cita(actor=paciente, cita_id=reservada.pk)
    assert _codigo(cancelar_por_enlace, token=token) == "ya_cancelada"


def test_confirmada_en_el_portal_el_enlace_lo_dice(reservada, paciente):
    token = _token(reservada, "confirmar")
    confirmar_cita(actor=paciente, cita_id=reservada.pk)
    assert _codigo(confirmar_por_enlace, token=token) == "ya_confirmada"


# A link names a booking, not a slot -------------------------------------------------------------


def test_cita_movida_sus_enlaces_la_siguen(reservada, dentista, recepcionista, en_20_horas):
    # Issue 14: the link names the booking, which a reschedule moves to another slot row.
    tokens = {a: _token(reservada, a) for a in enlaces.ACCIONES}
    nueva = _hora(dentista, recepcionista, en_20_horas + datetime.timedelta(hours=2))
    reprogramar_cita(actor=recepcionista.user, cita_id=reservada.pk, nueva_cita_id=nueva.pk)
    enlace = enlaces.leer_enlace(tokens["confirmar"])
    assert (enlace.cita_id, enlace.inicio) == (nueva.pk, nueva.inicio)
    assert confirmar_por_enlace(token=tokens["confirmar"]).pk == nueva.pk
    assert Cita.objects.get(pk=nueva.pk).estado == EstadoCita.CONFIRMADA
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.DISPONIBLE
    cancelar_por_enlace(token=tokens["cancelar"])
    assert Cita.objects.get(pk=nueva.pk).estado == EstadoCita.DISPONIBLE


def test_enlace_de_una_reserva_anterior_no_actua_sobre_la_nueva(reservada, paciente):
    # Reproduced in issue 14: the patient books slot S, gets the cancel link, cancels, books S
    # again; the first booking's link must not cancel the second one.
    viejo = _token(reservada, "cancelar")
    cancelar_cita(actor=paciente, cita_id=reservada.pk)
    nueva = reservar_cita(user=paciente, cita_id=reservada.pk)
    assert nueva.pk == reservada.pk and nueva.cliente_id == reservada.cliente_id
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        cancelar_por_enlace(token=viejo)
    assert error.value.code == "enlace_invalido"
    assert "no corresponde a una hora suya" in error.value.messages[0]
    assert huella_bd() == antes
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA
    # The new booking's own link works.
    cancelar_por_enlace(token=_token(nueva, "cancelar"))
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.DISPONIBLE


def test_liberada_y_tomada_por_otro_paciente_invalida_sus_enlaces(reservada, recepcionista):
    tokens = {a: _token(reservada, a) for a in enlaces.ACCIONES}
    cancelar_cita(actor=recepcionista.user, cita_id=reservada.pk, motivo="llamó por teléfono")
    otro = registrar_paciente(603)
    asignar_cita(actor=recepcionista.user, cita_id=reservada.pk, cliente_id=otro.cliente.pk)
    antes = huella_bd()
    assert _codigo(confirmar_por_enlace, token=tokens["confirmar"]) == "enlace_invalido"
    assert _codigo(cancelar_por_enlace, token=tokens["cancelar"]) == "enlace_invalido"
    assert huella_bd() == antes
    assert Cita.objects.get(pk=reservada.pk).cliente_id == otro.cliente.pk


def test_paciente_eliminado_invalida_sus_enlaces(reservada, recepcionista, paciente):
    from cuentas.eliminacion import eliminar_cliente

    token = _token(reservada, "cancelar")
    eliminar_cliente(actor=recepcionista.user, cliente_id=paciente.cliente.pk)
    assert _codigo(cancelar_por_enlace, token=token) == "enlace_invalido"


# The portal's policy --------------------------------------------------------------------------


def test_cancelar_fuera_de_plazo_pide_llamar(reservada, settings):
    settings.CLINICA_PLAZO_CAMBIOS_H = 48
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        cancelar_por_enlace(token=_token(reservada, "cancelar"))
    assert error.value.code == "fuera_de_plazo"
    assert settings.CLINICA_TELEFONO in error.value.messages[0]
    assert huella_bd() == antes
    # Confirming has no cut-off.
    assert confirmar_por_enlace(token=_token(reservada, "confirmar")).estado == EstadoCita.CONFIRMADA


def test_plazo_por_defecto_deja_cancelar_desde_el_recordatorio_de_24_horas(reservada):
    assert settings.CLINICA_PLAZO_CAMBIOS_H == 12
    assert cancelar_por_enlace(token=_token(reservada, "cancelar")).estado == EstadoCita.DISPONIBLE


def test_cita_sin_ficha_no_tiene_enlaces(dentista, recepcionista, en_20_horas):
    cita = asignar_cita(actor=recepcionista.user, cita_id=_hora(dentista, recepcionista, en_20_horas).pk,
                        paciente_nombre="Rosa Díaz", paciente_email="rosa@correo.example")
    with pytest.raises(ValueError):
        enlaces.token_de(cita, "confirmar")


# Faults ----------------------------------------------------------------------------------------


def test_fallas_en_confirmar_por_enlace(probar_fallas, reservada):
    token = _token(reservada, "confirmar")
    assert probar_fallas(lambda: confirmar_por_enlace(token=token)) == 1
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.CONFIRMADA


def test_fallas_en_cancelar_por_enlace(probar_fallas, reservada):
    token = _token(reservada, "cancelar")
    # The history row, the slot freed, the send budget's counter (issue 14), then the notification,
    # then its job (procrastinate's defer).
    assert probar_fallas(lambda: cancelar_por_enlace(token=token)) == 5
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.DISPONIBLE
    assert Notificacion.objects.filter(plantilla="cita_cancelada_paciente").count() == 1
