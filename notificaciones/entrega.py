"""Channels: one function per channel that sends a recorded notification and returns the
provider's message id. SMS and WhatsApp arrive with the notifications issue.

Nothing here writes to the database or logs: ``notificaciones.tasks`` records the outcome.
"""

import re
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME

from cuentas.models import Canal

class CanalNoDisponible(Exception):
    pass


class EnvioNoAceptado(Exception):
    """The mail backend returned without accepting the message."""


def entregar(notificacion) -> str:
    if notificacion.canal == Canal.EMAIL:
        return _entregar_email(notificacion)
    raise CanalNoDisponible(f"el canal {notificacion.canal} aún no tiene proveedor")


# What RFC 5322 allows in the left part of a Message-ID (dot-atom-text), minus the dot.
_NO_ATOMO = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")


def message_id(notificacion) -> str:
    """A Message-ID derived from the idempotency key: every retry of one notification carries
    the same id, so a mail server that already accepted it can drop the duplicate."""
    partes = [_NO_ATOMO.sub("-", p) or "-" for p in notificacion.clave_idempotencia.split(":")]
    dominio = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or str(DNS_NAME)
    return f"<{'.'.join(partes)}@{dominio}>"


def _entregar_email(notificacion) -> str:
    identificador = message_id(notificacion)
    mensaje = EmailMessage(
        subject=notificacion.asunto,
        body=notificacion.cuerpo,
        to=[notificacion.destinatario],
        headers={"Message-ID": identificador},
    )
    # The default mailer (EMAIL_* settings today, MAILERS later) with its timeout
    # (EMAIL_TIMEOUT): a hung server fails the attempt instead of blocking the worker.
    if mensaje.send() != 1:
        raise EnvioNoAceptado("el servidor de correo no aceptó el mensaje")
    return identificador
