"""SMS and WhatsApp through Twilio's Messages API (the ``twilio`` package).

SMS: ``Body`` from ``TWILIO_SMS_FROM`` or a Messaging Service. WhatsApp: a message that the
business starts must be an approved template, so it goes as ``ContentSid`` (per event, from
``TWILIO_CONTENT_SIDS``) with ``ContentVariables`` (the row's neutral ``variables``).
"""

import json
import threading

import requests
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notificaciones.models import Canal
from notificaciones import ajustes
from notificaciones.canales.base import ErrorPermanente, ErrorReintentable, es_reintentable, espera_de

_API_OFICIAL = "https://api.twilio.com"
_local = threading.local()


class _ClienteHttp(TwilioHttpClient):
    """Twilio's HTTP client with another base URL (a regional edge, or a test server)."""

    def __init__(self, *, base: str, timeout: float):
        super().__init__(timeout=timeout)
        self.base = base
        self.ultima_respuesta = None

    def request(self, method, url, *args, **kwargs):
        if self.base != _API_OFICIAL and url.startswith(_API_OFICIAL):
            url = self.base + url[len(_API_OFICIAL):]
        self.ultima_respuesta = None
        # Kept for its headers: TwilioRestException drops Retry-After.
        self.ultima_respuesta = super().request(method, url, *args, **kwargs)
        return self.ultima_respuesta


def cliente() -> Client:
    """One Twilio client per worker thread (its requests session keeps the connection open)."""
    sid, token = ajustes.twilio_account_sid(), ajustes.twilio_auth_token()
    if not sid or not token:
        raise ImproperlyConfigured("Faltan TWILIO_ACCOUNT_SID y TWILIO_AUTH_TOKEN")
    clave = (sid, token, ajustes.twilio_api_base(), ajustes.http_timeout_s())
    if getattr(_local, "clave", None) != clave:
        _local.cliente = Client(sid, token, http_client=_ClienteHttp(base=clave[2], timeout=clave[3]))
        _local.clave = clave
    return _local.cliente


def variables_de_contenido(notificacion) -> str:
    """``ContentVariables``: the template's positional variables as Twilio wants them."""
    return json.dumps({str(i): v for i, v in enumerate(notificacion.variables or [], start=1)}, ensure_ascii=False)


class CanalTwilio:
    nombre = "twilio"

    def __init__(self, canal: str):
        self.canal = canal

    def parametros(self, notificacion) -> dict:
        datos = {}
        callback = ajustes.twilio_status_callback_url()
        if callback:
            datos["status_callback"] = callback
        if self.canal == Canal.SMS:
            datos["to"] = notificacion.destinatario
            datos["body"] = notificacion.cuerpo
            servicio = ajustes.twilio_messaging_service_sid()
            if servicio:
                datos["messaging_service_sid"] = servicio
            elif ajustes.twilio_sms_from():
                datos["from_"] = ajustes.twilio_sms_from()
            else:
                raise ImproperlyConfigured("Falta TWILIO_SMS_FROM o TWILIO_MESSAGING_SERVICE_SID")
            return datos
        remitente = ajustes.twilio_whatsapp_from()
        if not remitente:
            raise ImproperlyConfigured("Falta TWILIO_WHATSAPP_FROM")
        content_sid = ajustes.twilio_content_sids().get(notificacion.plantilla)
        if not content_sid:
            # A free-form text that the business starts is refused by WhatsApp after Twilio
            # accepts it (error 63016): better a visible failure now than a false "sent".
            raise ErrorPermanente(f"sin plantilla aprobada (TWILIO_CONTENT_SIDS) para {notificacion.plantilla}")
        datos.update(
            to=f"whatsapp:{notificacion.destinatario}", from_=remitente, content_sid=content_sid,
            content_variables=variables_de_contenido(notificacion),
        )
        return datos

    def enviar(self, notificacion) -> str:
        datos = self.parametros(notificacion)
        try:
            api = cliente()
            mensaje = api.messages.create(**datos)
        except TwilioRestException as exc:
            descripcion = f"Twilio HTTP {exc.status} código {exc.code}: {exc.msg}"
            if not es_reintentable(exc.status):
                raise ErrorPermanente(descripcion, estado_http=exc.status, codigo=exc.code) from None
            respuesta = api.http_client.ultima_respuesta
            raise ErrorReintentable(
                descripcion, estado_http=exc.status, codigo=exc.code,
                espera_s=espera_de(respuesta.headers if respuesta is not None else None),
            ) from None
        except requests.Timeout as exc:
            raise ErrorReintentable(f"Twilio sin respuesta en {ajustes.http_timeout_s()} s") from exc
        except requests.RequestException as exc:
            raise ErrorReintentable(f"Twilio inalcanzable: {type(exc).__name__}") from exc
        return mensaje.sid
