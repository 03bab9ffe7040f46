"""Channels behind one interface (``base.CanalDeEnvio``), chosen by settings.

E-mail always goes through Django's mailer. SMS (``NOTIFICACIONES_SMS``: twilio, consola) and
WhatsApp (``NOTIFICACIONES_WHATSAPP``: twilio, meta, consola) have a channel only when a
provider is configured; without one their rows are recorded and stay ``pendiente``.
"""

from django.core.exceptions import ImproperlyConfigured

from notificaciones import ajustes
from notificaciones.models import Canal
from notificaciones.canales.base import CanalDeEnvio, ErrorDeEnvio, ErrorPermanente, ErrorReintentable

__all__ = [
    "CanalDeEnvio", "ErrorDeEnvio", "ErrorPermanente", "ErrorReintentable", "CanalNoDisponible",
    "canal_para", "canales_con_entrega",
]


class CanalNoDisponible(Exception):
    """No provider is configured for this channel."""


def _proveedor(canal: str) -> str:
    if canal == Canal.EMAIL:
        return "correo"
    try:
        if canal == Canal.SMS:
            return ajustes.proveedor_sms()
        if canal == Canal.WHATSAPP:
            return ajustes.proveedor_whatsapp()
    except ImproperlyConfigured:
        # Reported at startup by the system check (notificaciones.E001). Here, inside a
        # booking's transaction, a typo must not undo the booking: the row waits, pending.
        return ""
    return ""


def canales_con_entrega() -> set[str]:
    """The channels whose provider is configured (e-mail always)."""
    return {canal for canal in Canal.values if _proveedor(canal)}


def canal_para(canal: str) -> CanalDeEnvio:
    """The configured channel object for ``canal``; raises CanalNoDisponible."""
    proveedor = _proveedor(canal)
    if proveedor == "correo":
        from notificaciones.canales.correo import CanalCorreo

        return CanalCorreo()
    if proveedor == "consola":
        from notificaciones.canales.consola import CanalConsola

        return CanalConsola(canal)
    if proveedor == "twilio":
        from notificaciones.canales.twilio import CanalTwilio

        return CanalTwilio(canal)
    if proveedor == "meta":
        from notificaciones.canales.meta import CanalMeta

        return CanalMeta()
    raise CanalNoDisponible(f"el canal {canal} no tiene proveedor configurado")
