"""Channels: one function per channel that sends a recorded notification and returns the
provider's message id. SMS and WhatsApp arrive with the notifications issue."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail import get_connection

from cuentas.models import Canal


class CanalNoDisponible(Exception):
    pass


def entregar(notificacion) -> str:
    if notificacion.canal == Canal.EMAIL:
        return _entregar_email(notificacion)
    raise CanalNoDisponible(f"el canal {notificacion.canal} aún no tiene proveedor")


def _entregar_email(notificacion) -> str:
    # The idempotency key becomes the Message-ID: a mail server that sees a retry of an
    # accepted message can drop the duplicate.
    dominio = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">")
    message_id = f"<{notificacion.clave_idempotencia.replace(':', '.')}@{dominio}>"
    mensaje = EmailMessage(
        subject=notificacion.asunto,
        body=notificacion.cuerpo,
        to=[notificacion.destinatario],
        headers={"Message-ID": message_id},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    mensaje.send()
    return message_id
