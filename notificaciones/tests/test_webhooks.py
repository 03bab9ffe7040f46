"""Providers' webhooks: signatures checked (403 and no change without a valid one), inbound
STOP/BAJA opts the number out of that channel, delivery receipts mark failures."""

import hashlib
import hmac
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from citas.tests.test_services import registrar_paciente
from cuentas.models import PerfilCliente
from notificaciones.models import Canal
from pruebas import proveedores as pp
from notificaciones.models import EstadoNotificacion, Notificacion
from notificaciones.tests.conftest import notificar_en_servicio
from notificaciones.views import es_baja
from pacientes.models import Cliente, ConsentimientoCanal

SECRETO_META = "secreto-de-la-app"
VERIFY_TOKEN = "token-de-verificacion"


@pytest.fixture(autouse=True)
def _credenciales(settings):
    settings.TWILIO_AUTH_TOKEN = pp.TWILIO_TOKEN
    settings.META_WA_APP_SECRET = SECRETO_META
    settings.META_WA_VERIFY_TOKEN = VERIFY_TOKEN


@pytest.fixture
def paciente(db):
    """A portal patient who accepted WhatsApp and SMS; returns their Cliente."""
    user = registrar_paciente(1, canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True, acepta_sms=True)
    return Cliente.objects.get(user=user)


def perfil_de(cliente):
    return PerfilCliente.objects.get(user_id=cliente.user_id)


def post_twilio(client, nombre_url, datos, *, firma=None):
    url = "http://testserver" + reverse(nombre_url)
    if firma is None:
        firma = RequestValidator(pp.TWILIO_TOKEN).compute_signature(url, datos)
    return client.post(url, datos, HTTP_X_TWILIO_SIGNATURE=firma)


def entrante(telefono, texto, *, whatsapp=True):
    origen = f"whatsapp:{telefono}" if whatsapp else telefono
    return {
        "MessageSid": "SM" + "1" * 32, "AccountSid": pp.TWILIO_SID, "From": origen,
        "To": pp.TWILIO_WHATSAPP_FROM if whatsapp else pp.TWILIO_SMS_FROM, "Body": texto, "NumMedia": "0",
    }


def post_meta(client, cuerpo, *, secreto=SECRETO_META):
    crudo = json.dumps(cuerpo).encode()
    firma = "sha256=" + hmac.new(secreto.encode(), crudo, hashlib.sha256).hexdigest()
    return client.post(
        reverse("webhooks:meta"), crudo, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=firma
    )


def mensaje_meta(telefono, texto):
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "56222222222", "phone_number_id": pp.META_PHONE_ID},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": telefono.lstrip("+")}],
            "messages": [{"from": telefono.lstrip("+"), "id": "wamid.X", "timestamp": "1790000000",
                          "type": "text", "text": {"body": texto}}],
        }}]}],
    }


# Twilio -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("texto", ["STOP", "baja", "  Bája ", "Cancelar suscripción", "BAJA.", "dar de baja"])
def test_baja_por_whatsapp_via_twilio(client, paciente, texto):
    respuesta = post_twilio(client, "webhooks:twilio", entrante(str(paciente.telefono), texto))
    assert respuesta.status_code == 200
    assert respuesta["Content-Type"] == "text/xml"
    assert b"<Message>Cl\xc3\xadnica Dental Sonrisa: no le enviaremos m\xc3\xa1s mensajes" in respuesta.content
    perfil = perfil_de(paciente)
    assert perfil.whatsapp_aceptado_en is None
    assert perfil.sms_aceptado_en is not None  # only the channel the request came through
    # The consent is closed, not deleted (proof under Ley 21.719): how, and audited by the service.
    consentimiento = ConsentimientoCanal.objects.get(cliente=paciente, canal=Canal.WHATSAPP)
    assert consentimiento.revocado_en is not None and consentimiento.revocado_medio == "respuesta"
    assert consentimiento.revocado_por is None
    ultimo = consentimiento.events.order_by("pgh_id").last()
    assert ultimo.revocado_en is not None
    assert ultimo.pgh_context.metadata["servicio"] == "registrar_baja"
    # And the next message skips WhatsApp.
    creadas = notificar_en_servicio(email=paciente.email, telefono=str(paciente.telefono), perfil=perfil)
    assert [n.canal for n in creadas] == [Canal.EMAIL]


def test_baja_por_sms_via_twilio(client, paciente):
    respuesta = post_twilio(client, "webhooks:twilio", entrante(str(paciente.telefono), "STOP", whatsapp=False))
    assert respuesta.status_code == 200
    perfil = perfil_de(paciente)
    assert perfil.sms_aceptado_en is None and perfil.whatsapp_aceptado_en is not None


@pytest.mark.parametrize("texto", ["Hola", "CANCELAR", "quiero cancelar mi hora", "", "STOP por favor"])
def test_otros_mensajes_no_cambian_nada(client, paciente, texto):
    antes = perfil_de(paciente).whatsapp_aceptado_en
    respuesta = post_twilio(client, "webhooks:twilio", entrante(str(paciente.telefono), texto))
    assert respuesta.status_code == 200
    assert respuesta.content == b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert perfil_de(paciente).whatsapp_aceptado_en == antes


@pytest.mark.parametrize("firma", ["", "firma-falsa", "calculada-con-otro-token"])
def test_firma_twilio_invalida_403_sin_cambios(client, paciente, firma):
    datos = entrante(str(paciente.telefono), "STOP")
    if firma == "calculada-con-otro-token":
        firma = RequestValidator("otro").compute_signature("http://testserver/webhooks/twilio/", datos)
    respuesta = post_twilio(client, "webhooks:twilio", datos, firma=firma)
    assert respuesta.status_code == 403
    assert perfil_de(paciente).whatsapp_aceptado_en is not None


def test_firma_twilio_de_otra_url_no_vale(client, paciente):
    datos = entrante(str(paciente.telefono), "STOP")
    firma = RequestValidator(pp.TWILIO_TOKEN).compute_signature("http://testserver/otra/", datos)
    assert post_twilio(client, "webhooks:twilio", datos, firma=firma).status_code == 403
    assert perfil_de(paciente).whatsapp_aceptado_en is not None


def test_sin_token_configurado_todo_es_403(client, paciente, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    datos = entrante(str(paciente.telefono), "STOP")
    firma = RequestValidator("").compute_signature("http://testserver/webhooks/twilio/", datos)
    assert post_twilio(client, "webhooks:twilio", datos, firma=firma).status_code == 403


def test_baja_de_un_numero_desconocido_o_de_un_paciente_inactivo(client, paciente):
    otro = registrar_paciente(2, canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True)
    Cliente.objects.filter(user=otro).update(activo=False)
    inactivo = Cliente.objects.get(user=otro)
    assert post_twilio(client, "webhooks:twilio", entrante("+56961112233", "STOP")).status_code == 200
    assert post_twilio(client, "webhooks:twilio", entrante(str(inactivo.telefono), "STOP")).status_code == 200
    assert perfil_de(paciente).whatsapp_aceptado_en is not None
    assert perfil_de(inactivo).whatsapp_aceptado_en is not None


def test_get_no_permitido(client, db):
    assert client.get(reverse("webhooks:twilio")).status_code == 405


def test_estado_de_entrega_fallido_marca_la_notificacion(client, db):
    [n] = notificar_en_servicio()
    Notificacion.objects.filter(pk=n.pk).update(
        estado=EstadoNotificacion.ENVIADA, enviada_en=timezone.now(), proveedor_id="SM" + "f" * 32
    )
    datos = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered", "AccountSid": pp.TWILIO_SID}
    assert post_twilio(client, "webhooks:twilio_estado", datos).status_code == 204
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA

    datos.update(MessageStatus="undelivered", ErrorCode="30003")
    assert post_twilio(client, "webhooks:twilio_estado", datos, firma="mala").status_code == 403
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA
    assert post_twilio(client, "webhooks:twilio_estado", datos).status_code == 204
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.FALLIDA and n.ultimo_error == "twilio: undelivered 30003"


# Meta -------------------------------------------------------------------------------------------


def test_meta_verificacion_de_suscripcion(client, db):
    url = reverse("webhooks:meta")
    ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    malo = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "otro", "hub.challenge": "1"})
    assert malo.status_code == 403
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("texto", ["BAJA", "stop", "Cancelar Suscripcion"])
def test_meta_baja_por_whatsapp(client, paciente, texto):
    respuesta = post_meta(client, mensaje_meta(str(paciente.telefono), texto))
    assert respuesta.status_code == 200
    perfil = perfil_de(paciente)
    assert perfil.whatsapp_aceptado_en is None and perfil.sms_aceptado_en is not None


def test_meta_boton_de_respuesta_rapida(client, paciente):
    cuerpo = mensaje_meta(str(paciente.telefono), "")
    cuerpo["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": str(paciente.telefono).lstrip("+"), "id": "wamid.Y", "type": "button",
        "button": {"text": "Dejar de recibir", "payload": "BAJA"},
    }
    assert post_meta(client, cuerpo).status_code == 200
    assert perfil_de(paciente).whatsapp_aceptado_en is None


def test_meta_firma_invalida_403_sin_cambios(client, paciente):
    assert post_meta(client, mensaje_meta(str(paciente.telefono), "BAJA"), secreto="otro").status_code == 403
    crudo = json.dumps(mensaje_meta(str(paciente.telefono), "BAJA"))
    sin_firma = client.post(reverse("webhooks:meta"), crudo, content_type="application/json")
    assert sin_firma.status_code == 403
    assert perfil_de(paciente).whatsapp_aceptado_en is not None


@pytest.mark.parametrize(
    "cuerpo",
    [[], {"entry": "x"}, {"entry": [{"changes": [{"value": {"messages": ["STOP", {"type": "text", "text": "STOP"}]}}]}]},
     {"entry": [None, {"changes": None}]}, "texto"],
)
def test_meta_cuerpo_malformado_nunca_500(client, paciente, cuerpo):
    assert post_meta(client, cuerpo).status_code == 200
    assert perfil_de(paciente).whatsapp_aceptado_en is not None


def test_meta_estado_fallido(client, db):
    [n] = notificar_en_servicio()
    Notificacion.objects.filter(pk=n.pk).update(
        estado=EstadoNotificacion.ENVIADA, enviada_en=timezone.now(), proveedor_id="wamid.ABC"
    )
    cuerpo = {"entry": [{"changes": [{"value": {"statuses": [
        {"id": "wamid.ABC", "status": "failed", "errors": [{"code": 131026, "title": "Message undeliverable"}]}
    ]}}]}]}
    assert post_meta(client, cuerpo).status_code == 200
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.FALLIDA and n.ultimo_error == "meta: failed 131026"


def test_palabras_de_baja():
    assert es_baja("STOP") and es_baja("baja") and es_baja("  Cancelar   suscripción!! ")
    assert not es_baja("cancelar") and not es_baja("bajar") and not es_baja(None)
