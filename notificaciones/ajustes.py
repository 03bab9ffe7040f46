"""The notification providers' settings, in one place.

Each value comes from Django's settings when defined there, else from the environment (so a
worker started as a subprocess, or a deployment without these lines in settings.py, still
reads them). Read at call time: tests override them with pytest-django's ``settings``.
Secrets are never logged.
"""

import json
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PROVEEDORES_SMS = {"twilio", "consola", ""}
PROVEEDORES_WHATSAPP = {"twilio", "meta", "consola", ""}


def valor(nombre: str, defecto: str = ""):
    """Setting ``nombre``, else environment variable ``nombre``, else ``defecto``."""
    en_settings = getattr(settings, nombre, None)
    if en_settings is not None:
        return en_settings
    return os.environ.get(nombre, defecto)


def _texto(nombre, defecto=""):
    return str(valor(nombre, defecto) or "").strip()


def _json(nombre) -> dict:
    """A JSON object (evento → id) given as a dict in settings or as JSON text in the environment."""
    bruto = valor(nombre, "")
    if isinstance(bruto, dict):
        return bruto
    if not str(bruto).strip():
        return {}
    try:
        datos = json.loads(bruto)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{nombre} debe ser un objeto JSON (evento → valor)") from exc
    if not isinstance(datos, dict):
        raise ImproperlyConfigured(f"{nombre} debe ser un objeto JSON (evento → valor)")
    return datos


def proveedor_sms() -> str:
    proveedor = _texto("NOTIFICACIONES_SMS").lower()
    if proveedor not in PROVEEDORES_SMS:
        raise ImproperlyConfigured(f"NOTIFICACIONES_SMS debe ser uno de {sorted(PROVEEDORES_SMS)}")
    return proveedor


def proveedor_whatsapp() -> str:
    proveedor = _texto("NOTIFICACIONES_WHATSAPP").lower()
    if proveedor not in PROVEEDORES_WHATSAPP:
        raise ImproperlyConfigured(f"NOTIFICACIONES_WHATSAPP debe ser uno de {sorted(PROVEEDORES_WHATSAPP)}")
    return proveedor


def http_timeout_s() -> float:
    """Connect and read timeout of every provider call: a hung provider fails the attempt
    (and it is retried) instead of blocking the worker."""
    try:
        segundos = float(valor("NOTIFICACIONES_HTTP_TIMEOUT_S", "10"))
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured("NOTIFICACIONES_HTTP_TIMEOUT_S debe ser un número de segundos") from exc
    if segundos <= 0:
        raise ImproperlyConfigured("NOTIFICACIONES_HTTP_TIMEOUT_S debe ser mayor que 0")
    return segundos


# Twilio ---------------------------------------------------------------------------------------


def twilio_account_sid() -> str:
    return _texto("TWILIO_ACCOUNT_SID")


def twilio_auth_token() -> str:
    return _texto("TWILIO_AUTH_TOKEN")


def twilio_sms_from() -> str:
    return _texto("TWILIO_SMS_FROM")


def twilio_messaging_service_sid() -> str:
    return _texto("TWILIO_MESSAGING_SERVICE_SID")


def twilio_whatsapp_from() -> str:
    remitente = _texto("TWILIO_WHATSAPP_FROM")
    if remitente and not remitente.startswith("whatsapp:"):
        remitente = f"whatsapp:{remitente}"
    return remitente


def twilio_content_sids() -> dict:
    """evento → approved WhatsApp template (Content SID ``HX…``)."""
    return _json("TWILIO_CONTENT_SIDS")


def twilio_api_base() -> str:
    return _texto("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")


def twilio_status_callback_url() -> str:
    """Public URL of ``webhooks:twilio_estado``; empty: Twilio sends no delivery receipts."""
    return _texto("TWILIO_STATUS_CALLBACK_URL")


# Meta (WhatsApp Cloud API) ----------------------------------------------------------------


def meta_token() -> str:
    return _texto("META_WA_TOKEN")


def meta_phone_number_id() -> str:
    return _texto("META_WA_PHONE_NUMBER_ID")


def meta_app_secret() -> str:
    return _texto("META_WA_APP_SECRET")


def meta_verify_token() -> str:
    return _texto("META_WA_VERIFY_TOKEN")


def meta_plantillas() -> dict:
    """evento → approved template name."""
    return _json("META_WA_PLANTILLAS")


def meta_idioma() -> str:
    return _texto("META_WA_IDIOMA", "es")


def meta_api_base() -> str:
    return _texto("META_API_BASE", "https://graph.facebook.com").rstrip("/")


def meta_api_version() -> str:
    return _texto("META_API_VERSION", "v21.0")
