"""Recording notifications with the change that causes them (invariant 6).

``notificar`` runs inside the caller's transaction: the ``Notificacion`` rows and the
delivery jobs commit or roll back with the booking, account or cancellation that asked
for them. Delivery happens after commit, in ``notificaciones.tasks``.
"""

from django.conf import settings
from django.template.loader import render_to_string

from cuentas.models import Canal
from nucleo.servicios import exigir_transaccion
from notificaciones.models import Notificacion

# Channels with a delivery job today. SMS and WhatsApp rows are recorded by preference and stay
# pending (visibly, never marked sent) until their providers are wired in.
CANALES_CON_ENTREGA = {Canal.EMAIL}

EVENTOS = {
    "invitacion",
    "bienvenida",
    "reserva_confirmada",
    "cita_asignada",
    "cita_cancelada_paciente",
    "cita_cancelada_clinica",
}


def _canales(*, email, telefono, perfil):
    """E-mail whenever there is an address (it is the written record), plus the patient's
    preferred phone channel when they opted in to it."""
    canales = []
    if email:
        canales.append((Canal.EMAIL, email))
    if telefono and perfil is not None and perfil.canal_preferido != Canal.EMAIL:
        if perfil.acepta(perfil.canal_preferido):
            canales.append((perfil.canal_preferido, telefono))
    return canales


def notificar(*, evento, referencia, email="", telefono="", perfil=None, cliente=None, cita=None, contexto=None):
    """Record one notification per channel for ``evento`` and defer the delivery jobs.

    ``referencia`` makes the idempotency key (``evento:referencia:canal``): the same event for
    the same thing is recorded once, however often the caller retries.
    Must run inside the caller's service transaction. Returns the created rows.
    """
    exigir_transaccion()
    if evento not in EVENTOS:
        raise ValueError(f"evento desconocido: {evento}")
    contexto = {"clinica": settings.CLINICA_NOMBRE, "url_portal": settings.CLINICA_URL_PORTAL, **(contexto or {})}
    filas = []
    for canal, destinatario in _canales(email=email, telefono=telefono, perfil=perfil):
        # WhatsApp and SMS share one short text, neutral about health details.
        formato = "email" if canal == Canal.EMAIL else "corto"
        asunto = ""
        if canal == Canal.EMAIL:
            asunto = " ".join(render_to_string(f"notificaciones/{evento}/asunto.txt", contexto).split())
        filas.append(
            Notificacion(
                cliente=cliente,
                cita=cita,
                canal=canal,
                plantilla=evento,
                destinatario=destinatario,
                asunto=asunto[:200],
                cuerpo=render_to_string(f"notificaciones/{evento}/{formato}.txt", contexto).strip(),
                clave_idempotencia=f"{evento}:{referencia}:{canal}",
            )
        )
    creadas = Notificacion.objects.bulk_create(filas)
    _programar_entregas([n.pk for n in creadas if n.canal in CANALES_CON_ENTREGA])
    return creadas


def _programar_entregas(ids):
    if not ids:
        return
    # Deferred through Django's connection: the job rows commit or roll back with the change.
    from notificaciones.tasks import enviar_notificacion

    for notificacion_id in ids:
        enviar_notificacion.defer(notificacion_id=notificacion_id)


def contexto_cita(cita, *, nombre):
    """What every appointment message says: who, when (in Santiago's time) and with whom."""
    from django.utils import formats, timezone

    local = timezone.localtime(cita.inicio)
    return {
        "nombre": nombre,
        "fecha": formats.date_format(local, "l j \\d\\e F"),
        "hora": formats.time_format(local, "H:i"),
        "dentista": cita.dentista.nombre,
    }
