"""E-mail through Django's default mailer (MAILERS / EMAIL_* settings, with its timeout)."""

import re
from email.message import MIMEPart
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME

from notificaciones.canales.base import ErrorReintentable

# What RFC 5322 allows in the left part of a Message-ID (dot-atom-text), minus the dot.
_NO_ATOMO = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")


# The iTIP method an iCalendar text states (its first METHOD line).
_METODO = re.compile(r"^METHOD:([A-Z-]+)\r?$", re.MULTILINE)
NOMBRE_ADJUNTO = "cita.ics"


def parte_calendario(texto: str) -> MIMEPart:
    """The ``text/calendar; method=…`` part of an e-mail. Built by hand: Django's
    ``EmailMessage.attach(name, text, mimetype)`` splits the type at the first "/" and would take
    "calendar; method=REQUEST" as the subtype; calendar clients need ``method`` as a parameter
    of the part's Content-Type to treat it as an invitation, update or cancellation."""
    parte = MIMEPart()
    encontrado = _METODO.search(texto)
    parametros = {"method": encontrado.group(1)} if encontrado else {}
    parte.set_content(texto, subtype="calendar", charset="utf-8", params=parametros,
                      disposition="attachment", filename=NOMBRE_ADJUNTO)
    return parte


class EnvioNoAceptado(ErrorReintentable):
    """The mail backend returned without accepting the message."""


def message_id(notificacion) -> str:
    """A Message-ID derived from the idempotency key: every retry of one notification carries
    the same id, so a mail server that already accepted it can drop the duplicate."""
    partes = [_NO_ATOMO.sub("-", p) or "-" for p in notificacion.clave_idempotencia.split(":")]
    dominio = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or str(DNS_NAME)
    return f"<{'.'.join(partes)}@{dominio}>"


class CanalCorreo:
    nombre = "correo"

    def enviar(self, notificacion) -> str:
        identificador = message_id(notificacion)
        mensaje = EmailMessage(
            subject=notificacion.asunto,
            body=notificacion.cuerpo,
            to=[notificacion.destinatario],
            headers={"Message-ID": identificador},
        )
        if notificacion.adjunto_calendario:
            mensaje.attach(parte_calendario(notificacion.adjunto_calendario))
        # SMTP errors (refused recipient included) stay retryable, as before: a mailbox may be
        # full for a while.
        if mensaje.send() != 1:
            raise EnvioNoAceptado("el servidor de correo no aceptó el mensaje")
        return identificador
