"""Providers' webhooks: inbound STOP/BAJA (opt-out) and delivery receipts.

Nobody logs in here: the provider's signature is the authentication, so a request without a
valid one gets 403 and changes nothing. CSRF does not apply (the caller is the provider, not
a browser with our cookies); each view is exempted on its own.
"""

import hashlib
import hmac
import json
import logging
import unicodedata
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.request_validator import RequestValidator

from notificaciones.models import Canal
from notificaciones import ajustes
from notificaciones.ganchos import registrar_baja
from notificaciones.services import registrar_estado_proveedor
from nucleo.registro import registrar_evento

logger = logging.getLogger(__name__)

# What a person types to stop messages, compared without accents, case or extra spaces.
# Not "CANCELAR" alone: that is how a patient tries to cancel an appointment.
PALABRAS_BAJA = {
    "STOP", "STOPALL", "UNSUBSCRIBE", "BAJA", "DAR DE BAJA", "DARME DE BAJA", "CANCELAR SUSCRIPCION",
    "DESUSCRIBIR", "NO MAS MENSAJES",
}


def es_baja(texto: str) -> bool:
    sin_tildes = unicodedata.normalize("NFKD", texto or "").encode("ascii", "ignore").decode()
    limpio = " ".join("".join(c if c.isalnum() else " " for c in sin_tildes).split()).upper()
    return limpio in PALABRAS_BAJA


def _telefono_e164(valor: str) -> str:
    digitos = "".join(c for c in valor or "" if c.isdigit())
    return f"+{digitos}" if digitos else ""


def _mensaje_baja() -> str:
    contexto = {"clinica": settings.CLINICA_NOMBRE, "url_portal": settings.CLINICA_URL_PORTAL}
    return render_to_string("notificaciones/webhooks/baja_confirmada.txt", contexto).strip()


def _twiml(mensaje: str = "") -> HttpResponse:
    cuerpo = f"<Message>{escape(mensaje)}</Message>" if mensaje else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{cuerpo}</Response>', content_type="text/xml"
    )


def _firma_twilio_valida(request) -> bool:
    token = ajustes.twilio_auth_token()
    firma = request.headers.get("X-Twilio-Signature", "")
    if not token or not firma:
        return False
    # Twilio signs the full URL it called plus the sorted form fields.
    return RequestValidator(token).validate(request.build_absolute_uri(), request.POST, firma)


@csrf_exempt
@require_POST
def twilio_entrante(request):
    """An SMS or WhatsApp message sent to the clinic's number. STOP/BAJA opts that number out
    of that channel and answers with a confirmation; anything else is ignored (empty TwiML)."""
    if not _firma_twilio_valida(request):
        registrar_evento(logger, "webhook_firma_invalida", logging.WARNING, proveedor="twilio")
        return HttpResponseForbidden("Firma inválida.")
    origen = request.POST.get("From", "")
    canal = Canal.WHATSAPP if origen.startswith("whatsapp:") else Canal.SMS
    if not es_baja(request.POST.get("Body", "")):
        return _twiml()
    telefono = _telefono_e164(origen)
    if telefono:
        registrar_baja(telefono=telefono, canal=canal, proveedor="twilio")
    return _twiml(_mensaje_baja())


@csrf_exempt
@require_POST
def twilio_estado(request):
    """Twilio's status callback: a message it could not deliver becomes ``fallida``."""
    if not _firma_twilio_valida(request):
        registrar_evento(logger, "webhook_firma_invalida", logging.WARNING, proveedor="twilio")
        return HttpResponseForbidden("Firma inválida.")
    registrar_estado_proveedor(
        proveedor="twilio", proveedor_id=request.POST.get("MessageSid", ""),
        estado=request.POST.get("MessageStatus", ""), error=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


def _firma_meta_valida(request) -> bool:
    secreto = ajustes.meta_app_secret()
    firma = request.headers.get("X-Hub-Signature-256", "")
    if not secreto or not firma.startswith("sha256="):
        return False
    esperada = hmac.new(secreto.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(esperada, firma.removeprefix("sha256="))


def _lista(valor) -> list[dict]:
    """The dicts of a JSON list (anything else in a malformed payload is skipped, never a 500)."""
    return [v for v in valor if isinstance(v, dict)] if isinstance(valor, list) else []


def _valores(datos) -> list[dict]:
    """Each change's ``value`` of a WhatsApp Business Account notification."""
    if not isinstance(datos, dict):
        return []
    return [
        cambio["value"]
        for entrada in _lista(datos.get("entry"))
        for cambio in _lista(entrada.get("changes"))
        if isinstance(cambio.get("value"), dict)
    ]


def _texto_de_mensaje(mensaje: dict) -> str:
    """The words of an inbound message: text, a quick-reply button, or an interactive reply."""

    def campo(*ruta):
        valor = mensaje
        for clave in ruta:
            valor = valor.get(clave) if isinstance(valor, dict) else None
        return valor if isinstance(valor, str) else ""

    return (
        campo("text", "body") or campo("button", "payload") or campo("button", "text")
        or campo("interactive", "button_reply", "id") or campo("interactive", "button_reply", "title")
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta(request):
    """WhatsApp Cloud API webhook. GET: Meta's subscription handshake (``hub.verify_token``).
    POST (signed with the app secret): inbound STOP/BAJA opt the sender out of WhatsApp;
    ``failed`` statuses make the notification ``fallida``. Always 200 for a valid signature,
    or Meta keeps retrying."""
    if request.method == "GET":
        token = ajustes.meta_verify_token()
        recibido = request.GET.get("hub.verify_token", "")
        if (request.GET.get("hub.mode") == "subscribe" and token
                and hmac.compare_digest(token.encode(), recibido.encode())):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponseForbidden("Token de verificación inválido.")
    if not _firma_meta_valida(request):
        registrar_evento(logger, "webhook_firma_invalida", logging.WARNING, proveedor="meta")
        return HttpResponseForbidden("Firma inválida.")
    try:
        datos = json.loads(request.body)
    except ValueError:
        return HttpResponse(status=400)
    for valor in _valores(datos):
        for mensaje in _lista(valor.get("messages")):
            if es_baja(_texto_de_mensaje(mensaje)):
                telefono = _telefono_e164(str(mensaje.get("from", "")))
                if telefono:
                    registrar_baja(telefono=telefono, canal=Canal.WHATSAPP, proveedor="meta")
        for estado in _lista(valor.get("statuses")):
            errores = _lista(estado.get("errors")) or [{}]
            registrar_estado_proveedor(
                proveedor="meta", proveedor_id=str(estado.get("id", "")), estado=str(estado.get("status", "")),
                error=str(errores[0].get("code", "")),
            )
    return HttpResponse(status=200)
