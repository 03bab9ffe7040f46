"""SMS and WhatsApp through Twilio and Meta, over real HTTP to a local server that speaks their
APIs: the request's shape and credentials, the provider's id stored, and how each provider
error is treated (429/5xx/timeouts retried, a refused number failed at once)."""

import base64
import datetime
import json
import logging
import time

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from notificaciones.models import Canal
from pruebas import proveedores as pp
from notificaciones.canales import canales_con_entrega
from notificaciones.models import EstadoNotificacion, Notificacion
from notificaciones.eventos import declarados
from notificaciones.services import _variables
from notificaciones.tests.conftest import EMAIL, TELEFONO, TIMEOUT_PRUEBAS_S, configurar, notificar_en_servicio
from pruebas.soporte import adelantar_reintentos, ejecutar_worker, trabajos

en_worker = pytest.mark.django_db(transaction=True)

# The appointment's page at {{4}}; dentist and address last (issue 14), so old positions hold.
VARIABLES = ["Clínica Dental Sonrisa", "lunes 3 de marzo", "10:00", "http://127.0.0.1:8000/portal/citas/1/",
             "Dra. Soto", "Av. Providencia 1234, of. 501"]


def por_telefono(perfil, **kwargs):
    """Record the booking confirmation by e-mail and the patient's phone channel; return the
    phone channel's row."""
    kwargs.setdefault("email", EMAIL)
    creadas = notificar_en_servicio(telefono=TELEFONO, perfil=perfil, **kwargs)
    return next(n for n in creadas if n.canal != Canal.EMAIL)


def trabajo_de(notificacion):
    [trabajo] = [t for t in trabajos() if t["args"] == {"notificacion_id": notificacion.pk}]
    return trabajo


def sin_telefono_en_logs(caplog):
    for registro in caplog.records:
        assert TELEFONO not in logging.Formatter("%(message)s").format(registro), registro.name


# Twilio ---------------------------------------------------------------------------------------


@en_worker
def test_sms_por_twilio(twilio, crear_perfil, servidor_smtp, caplog):
    n = por_telefono(crear_perfil(canal=Canal.SMS, sms=True))
    assert n.variables == VARIABLES  # recorded with the row, neutral like the text
    assert len(trabajos()) == 2  # e-mail and SMS both have a job now
    ejecutar_worker()

    [solicitud] = twilio.solicitudes
    assert solicitud.metodo == "POST"
    assert solicitud.ruta == f"/2010-04-01/Accounts/{pp.TWILIO_SID}/Messages.json"
    credenciales = base64.b64encode(f"{pp.TWILIO_SID}:{pp.TWILIO_TOKEN}".encode()).decode()
    assert solicitud.cabeceras["Authorization"] == f"Basic {credenciales}"
    assert solicitud.cabeceras["Content-Type"] == "application/x-www-form-urlencoded"
    assert solicitud.formulario == {"To": TELEFONO, "From": pp.TWILIO_SMS_FROM, "Body": n.cuerpo}
    assert n.cuerpo.startswith("Clínica Dental Sonrisa: su hora quedó reservada para el lunes 3 de marzo a las 10:00")

    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and n.intentos == 1 and n.ultimo_error == ""
    assert n.proveedor_id == solicitud.id_mensaje and n.proveedor_id.startswith("SM")
    assert len(servidor_smtp.mensajes) == 1  # the e-mail too, independently
    sin_telefono_en_logs(caplog)


@en_worker
def test_sms_por_servicio_de_mensajeria(twilio, settings, crear_perfil):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "a" * 32
    n = por_telefono(crear_perfil(canal=Canal.SMS, sms=True), email="")
    ejecutar_worker()
    [solicitud] = twilio.solicitudes
    assert solicitud.formulario == {"To": TELEFONO, "MessagingServiceSid": "MG" + "a" * 32, "Body": n.cuerpo}


@en_worker
def test_whatsapp_por_twilio_con_plantilla_aprobada(twilio, settings, crear_perfil):
    settings.TWILIO_STATUS_CALLBACK_URL = "https://clinica.example/webhooks/twilio/estado/"
    n = por_telefono(crear_perfil(canal=Canal.WHATSAPP, whatsapp=True), email="")
    ejecutar_worker()

    [solicitud] = twilio.solicitudes
    # A business-initiated WhatsApp message: the approved template and its variables, no Body.
    assert solicitud.formulario == {
        "To": f"whatsapp:{TELEFONO}",
        "From": pp.TWILIO_WHATSAPP_FROM,
        "ContentSid": pp.CONTENT_SIDS["reserva_confirmada"],
        "ContentVariables": json.dumps(dict(zip("123456", VARIABLES, strict=True)), ensure_ascii=False),
        "StatusCallback": "https://clinica.example/webhooks/twilio/estado/",
    }
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and n.proveedor_id == solicitud.id_mensaje


@en_worker
def test_429_se_reintenta_tras_retry_after(twilio, crear_perfil):
    twilio.programar(429, retry_after=120)
    n = por_telefono(crear_perfil(canal=Canal.SMS, sms=True), email="")
    antes = timezone.now()
    ejecutar_worker()

    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.PENDIENTE and n.intentos == 1
    assert n.ultimo_error.startswith("ErrorReintentable: Twilio HTTP 429 código 20429")
    trabajo = trabajo_de(n)
    assert trabajo["status"] == "todo"
    # The provider asked for 120 s: more than the backoff's 3 s.
    assert trabajo["scheduled_at"] >= antes + datetime.timedelta(seconds=119)

    assert adelantar_reintentos() == 1
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and n.intentos == 2
    assert [s.estado for s in twilio.solicitudes] == [429, 201]


@en_worker
def test_500_se_reintenta_hasta_el_ultimo_intento(twilio, settings, crear_perfil):
    settings.NOTIFICACIONES_MAX_INTENTOS = 3
    twilio.programar(500, veces=3)
    n = por_telefono(crear_perfil(canal=Canal.SMS, sms=True), email="")
    for _ in range(3):
        adelantar_reintentos()
        ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.FALLIDA and n.intentos == 3
    assert "HTTP 500" in n.ultimo_error
    assert trabajo_de(n)["status"] == "failed"
    assert len(twilio.solicitudes) == 3


@en_worker
def test_numero_invalido_falla_de_inmediato_sin_reintentos(twilio, crear_perfil, caplog):
    twilio.programar(400, codigo=21211)
    n = por_telefono(crear_perfil(canal=Canal.SMS, sms=True), email="")
    ejecutar_worker()
    adelantar_reintentos()
    ejecutar_worker()

    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.FALLIDA and n.intentos == 1 and n.enviada_en is None
    assert n.ultimo_error.startswith("ErrorPermanente: Twilio HTTP 400 código 21211: ")
    assert "The 'To' number <telefono> is not a valid phone number." in n.ultimo_error
    assert TELEFONO not in n.ultimo_error  # Twilio's message quotes the number: scrubbed
    assert trabajo_de(n)["status"] == "failed"
    assert len(twilio.solicitudes) == 1
    sin_telefono_en_logs(caplog)


@en_worker
def test_credenciales_equivocadas_se_reintentan(twilio, settings, crear_perfil):
    """A wrong token is the operator's mistake, fixable within the retry window: never a
    permanent failure of the patient's message."""
    settings.TWILIO_AUTH_TOKEN = "otro-token"
    n = por_telefono(crear_perfil(canal=Canal.SMS, sms=True), email="")
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.PENDIENTE and "HTTP 401 código 20003" in n.ultimo_error
    settings.TWILIO_AUTH_TOKEN = pp.TWILIO_TOKEN
    adelantar_reintentos()
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA


@en_worker
def test_proveedor_colgado_agota_el_timeout_y_se_reintenta(twilio, crear_perfil):
    twilio.colgar()
    n = por_telefono(crear_perfil(canal=Canal.SMS, sms=True), email="")
    inicio = time.monotonic()
    ejecutar_worker()
    assert time.monotonic() - inicio < TIMEOUT_PRUEBAS_S + 5  # the timeout, not the hang, decided
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.PENDIENTE and n.intentos == 1
    assert n.ultimo_error == f"ErrorReintentable: Twilio sin respuesta en {float(TIMEOUT_PRUEBAS_S)} s"
    twilio.liberar()
    adelantar_reintentos()
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and n.intentos == 2


@en_worker
def test_proveedor_caido_se_reintenta(twilio, crear_perfil):
    twilio.detener()
    n = por_telefono(crear_perfil(canal=Canal.WHATSAPP, whatsapp=True), email="")
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.PENDIENTE and "Twilio inalcanzable: ConnectionError" in n.ultimo_error
    twilio.iniciar()
    adelantar_reintentos()
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and len(twilio.aceptadas()) == 1


@en_worker
def test_whatsapp_sin_plantilla_aprobada_falla_visible(twilio, settings, crear_perfil):
    settings.TWILIO_CONTENT_SIDS = {}
    n = por_telefono(crear_perfil(canal=Canal.WHATSAPP, whatsapp=True), email="")
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.FALLIDA
    assert "sin plantilla aprobada (TWILIO_CONTENT_SIDS) para reserva_confirmada" in n.ultimo_error
    assert twilio.solicitudes == []  # never sent as free text


# Meta -----------------------------------------------------------------------------------------


@en_worker
def test_whatsapp_por_meta(meta, crear_perfil):
    n = por_telefono(crear_perfil(canal=Canal.WHATSAPP, whatsapp=True), email="")
    ejecutar_worker()

    [solicitud] = meta.solicitudes
    assert solicitud.ruta == f"/v21.0/{pp.META_PHONE_ID}/messages"
    assert solicitud.cabeceras["Authorization"] == f"Bearer {pp.META_TOKEN}"
    assert solicitud.cabeceras["Content-Type"] == "application/json"
    assert solicitud.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TELEFONO.lstrip("+"),
        "type": "template",
        "template": {
            "name": "clinica_reserva_confirmada",
            "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": v} for v in VARIABLES]}],
        },
    }
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA
    assert n.proveedor_id == solicitud.id_mensaje and n.proveedor_id.startswith("wamid.")


@en_worker
@pytest.mark.parametrize(
    ("estado", "codigo", "resultado"),
    [
        (429, 130429, EstadoNotificacion.PENDIENTE),
        (400, 130429, EstadoNotificacion.PENDIENTE),  # Meta's throttling, even as a 400
        (503, 131000, EstadoNotificacion.PENDIENTE),
        (400, 131026, EstadoNotificacion.FALLIDA),  # undeliverable: no WhatsApp on that number
        (400, 132001, EstadoNotificacion.FALLIDA),  # template does not exist
    ],
)
def test_errores_de_meta(meta, crear_perfil, estado, codigo, resultado):
    meta.programar(estado, codigo=codigo)
    n = por_telefono(crear_perfil(canal=Canal.WHATSAPP, whatsapp=True), email="")
    ejecutar_worker()
    n.refresh_from_db()
    assert (n.estado, n.intentos) == (resultado, 1)
    assert n.ultimo_error.startswith(f"Error{'Reintentable' if resultado == 'pendiente' else 'Permanente'}: "
                                     f"Meta HTTP {estado} código {codigo}: ")
    adelantar_reintentos()
    ejecutar_worker()
    n.refresh_from_db()
    esperado = EstadoNotificacion.ENVIADA if resultado == EstadoNotificacion.PENDIENTE else EstadoNotificacion.FALLIDA
    assert n.estado == esperado


@en_worker
def test_meta_colgado_agota_el_timeout(meta, crear_perfil):
    meta.colgar()
    n = por_telefono(crear_perfil(canal=Canal.WHATSAPP, whatsapp=True), email="")
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.PENDIENTE
    assert n.ultimo_error == f"ErrorReintentable: Meta sin respuesta en {float(TIMEOUT_PRUEBAS_S)} s"
    meta.liberar()


# Choosing the channel ---------------------------------------------------------------------------


@en_worker
def test_consola_registra_y_no_envia(settings, crear_perfil, caplog):
    configurar(settings, {"NOTIFICACIONES_WHATSAPP": "consola"})
    n = por_telefono(crear_perfil(canal=Canal.WHATSAPP, whatsapp=True), email="")
    with caplog.at_level(logging.INFO, logger="notificaciones.consola"):
        ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and n.proveedor_id == f"consola-{n.pk}"
    assert any(n.cuerpo in r.getMessage() for r in caplog.records if r.name == "notificaciones.consola")


def test_canales_con_entrega_segun_ajustes(settings):
    assert canales_con_entrega() == {Canal.EMAIL}  # the tests' default: no phone provider
    configurar(settings, {"NOTIFICACIONES_SMS": "twilio"})
    assert canales_con_entrega() == {Canal.EMAIL, Canal.SMS}
    configurar(settings, {"NOTIFICACIONES_WHATSAPP": "meta"})
    assert canales_con_entrega() == {Canal.EMAIL, Canal.SMS, Canal.WHATSAPP}


def test_proveedor_desconocido_lo_avisa_el_chequeo_y_no_rompe_las_reservas(settings, crear_perfil):
    """A typo in the provider's name is reported at startup (``manage.py check``); a booking
    made meanwhile still commits, its WhatsApp row pending until the setting is fixed."""
    from notificaciones.apps import revisar_ajustes

    settings.NOTIFICACIONES_WHATSAPP = "twillio"
    [error] = revisar_ajustes(None)
    assert error.id == "notificaciones.E001" and "NOTIFICACIONES_WHATSAPP" in error.msg
    assert canales_con_entrega() == {Canal.EMAIL}
    n = por_telefono(crear_perfil(canal=Canal.WHATSAPP, whatsapp=True))
    assert n.estado == EstadoNotificacion.PENDIENTE
    assert len(trabajos()) == 1  # the e-mail's; the WhatsApp row waits for the fix (and the sweep)


def test_chequeo_de_credenciales_que_faltan(settings):
    from notificaciones.apps import revisar_ajustes

    assert revisar_ajustes(None) == []
    configurar(settings, {"NOTIFICACIONES_SMS": "twilio", "NOTIFICACIONES_WHATSAPP": "meta"})
    assert {e.id for e in revisar_ajustes(None)} == {"notificaciones.E002"}
    assert len(revisar_ajustes(None)) == 5  # Twilio: sid, token, sender; Meta: token, phone id


def test_sin_consentimiento_nunca_whatsapp_aunque_haya_proveedor(twilio, crear_perfil):
    perfil = crear_perfil(canal=Canal.WHATSAPP, whatsapp=False, sms=True)
    creadas = notificar_en_servicio(email=EMAIL, telefono=TELEFONO, perfil=perfil)
    assert [n.canal for n in creadas] == [Canal.EMAIL]
    assert not Notificacion.objects.filter(canal=Canal.WHATSAPP).exists()


# Neutral short messages ---------------------------------------------------------------------------

CONTEXTO_COMPLETO = {
    "clinica": "Clínica Dental Sonrisa", "url_portal": "https://clinica.example", "nombre": "Ana Pérez",
    "url_cita": "https://clinica.example/portal/citas/7/", "direccion": "Av. Providencia 1234, of. 501, Providencia",
    "fecha": "lunes 3 de marzo", "hora": "10:00", "fecha_anterior": "viernes 28 de febrero", "hora_anterior": "09:30",
    "dentista": "Carla Soto", "motivo": "Endodoncia del molar 36", "enlace": "https://clinica.example/x/",
    "dias_validez": 7, "especialidad": "Endodoncia", "tratamiento": "Implante",
}


@pytest.mark.parametrize("evento", sorted(declarados()))
def test_textos_cortos_y_variables_neutrales(evento):
    """SMS and WhatsApp may be read by anyone holding the phone: no reason, treatment or
    specialty; the clinic's name is always there. The dentist's name is allowed (issue 14: the
    patient needs to know whom to ask for) and checked in citas/tests/test_avisos_de_citas.py."""
    # Every event has its short text: a missing one is a defect (notificar would fail on it).
    corto = render_to_string(f"notificaciones/{evento}/corto.txt", CONTEXTO_COMPLETO)
    variables = _variables(evento, CONTEXTO_COMPLETO)
    for texto in [corto, *variables]:
        for sensible in ("Endodoncia", "molar", "Implante"):
            assert sensible.lower() not in texto.lower(), (evento, texto)
    assert corto.startswith("Clínica Dental Sonrisa:")
    if evento != "restablecer_clave":  # e-mail only (no phone channel), not ours to change
        assert variables[0] == "Clínica Dental Sonrisa"
        assert all("\n" not in v for v in variables)
