"""WhatsApp through Meta's WhatsApp Cloud API, over ``httpx``.

``POST {META_API_BASE}/{version}/{phone_number_id}/messages`` with a Bearer token and a
``template`` message: the approved template's name for the event (``META_WA_PLANTILLAS``),
its language, and the row's neutral ``variables`` as body parameters.
"""

import threading

import httpx
from django.core.exceptions import ImproperlyConfigured

from notificaciones import ajustes
from notificaciones.canales.base import ErrorPermanente, ErrorReintentable, es_reintentable, espera_de

_local = threading.local()

# Meta's error codes that mean "later" even when the HTTP status is 400: throttling
# (4, 80007, 130429, 131056), a temporary outage (1, 2, 131000, 131016) and the pair rate limit.
CODIGOS_REINTENTABLES = {1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131048, 131056, 133004}


def cliente() -> httpx.Client:
    """One HTTP client per worker thread (keeps the connection), with the configured timeout."""
    timeout = ajustes.http_timeout_s()
    if getattr(_local, "timeout", None) != timeout:
        _local.cliente = httpx.Client(timeout=timeout)
        _local.timeout = timeout
    return _local.cliente


def cuerpo_de_solicitud(notificacion) -> dict:
    plantilla = ajustes.meta_plantillas().get(notificacion.plantilla)
    if not plantilla:
        raise ErrorPermanente(f"sin plantilla aprobada (META_WA_PLANTILLAS) para {notificacion.plantilla}")
    componentes = []
    if notificacion.variables:
        componentes.append({
            "type": "body",
            "parameters": [{"type": "text", "text": v} for v in notificacion.variables],
        })
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": notificacion.destinatario.lstrip("+"),
        "type": "template",
        "template": {"name": plantilla, "language": {"code": ajustes.meta_idioma()}, "components": componentes},
    }


class CanalMeta:
    nombre = "meta"

    def enviar(self, notificacion) -> str:
        token, telefono_id = ajustes.meta_token(), ajustes.meta_phone_number_id()
        if not token or not telefono_id:
            raise ImproperlyConfigured("Faltan META_WA_TOKEN y META_WA_PHONE_NUMBER_ID")
        url = f"{ajustes.meta_api_base()}/{ajustes.meta_api_version()}/{telefono_id}/messages"
        datos = cuerpo_de_solicitud(notificacion)
        try:
            respuesta = cliente().post(url, json=datos, headers={"Authorization": f"Bearer {token}"})
        except httpx.TimeoutException as exc:
            raise ErrorReintentable(f"Meta sin respuesta en {ajustes.http_timeout_s()} s") from exc
        except httpx.HTTPError as exc:
            raise ErrorReintentable(f"Meta inalcanzable: {type(exc).__name__}") from exc
        if respuesta.status_code >= 300:
            raise self._error(respuesta)
        try:
            return respuesta.json()["messages"][0]["id"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ErrorReintentable(f"Meta respondió {respuesta.status_code} sin id de mensaje") from None

    @staticmethod
    def _error(respuesta):
        try:
            error = respuesta.json().get("error") or {}
        except ValueError:
            error = {}
        codigo = error.get("code")
        descripcion = f"Meta HTTP {respuesta.status_code} código {codigo}: {error.get('message', '')}".strip()
        if es_reintentable(respuesta.status_code) or codigo in CODIGOS_REINTENTABLES:
            return ErrorReintentable(
                descripcion, estado_http=respuesta.status_code, codigo=codigo, espera_s=espera_de(respuesta.headers)
            )
        return ErrorPermanente(descripcion, estado_http=respuesta.status_code, codigo=codigo)
