"""What every message about an appointment says (the outbox, ``notificaciones``, only renders
and sends what the layer that asks for a message gives it)."""

from django.conf import settings
from django.utils import formats, timezone

from nucleo.enlaces import enlaces


def url_de_la_cita(cita) -> str:
    """The link a notice about ``cita`` carries: its page in the portal (the sites' adapter,
    ``Enlaces.cita``). A booking without a patient record (a walk-in named only by its
    snapshot) has no page of its own to open: the portal's address instead."""
    if cita is None or getattr(cita, "cliente_id", None) is None:
        return settings.CLINICA_URL_PORTAL
    # By the booking's identity when it has one: the link follows a reschedule and, once
    # cancelled, says so (the slot's own page would belong to whoever books it next).
    reserva_uid = getattr(cita, "reserva_uid", None)
    if reserva_uid:
        return enlaces().cita_paciente(reserva_uid=reserva_uid)
    return enlaces().cita(cita)


def contexto_cita(*, inicio, dentista, nombre, cita=None):
    """Who, when (in Santiago's time), with whom, where, and the appointment's page."""
    local = timezone.localtime(inicio)
    return {
        "nombre": nombre,
        "fecha": formats.date_format(local, "l j \\d\\e F"),
        # Day/month, for an SMS that must name two dates and still fit its segments.
        "fecha_corta": formats.date_format(local, "j/n"),
        "hora": formats.time_format(local, "H:i"),
        "dentista": dentista,
        "direccion": settings.CLINICA_DIRECCION,
        "url_cita": url_de_la_cita(cita),
    }


def sin_punto_final(texto) -> str:
    """A phrase the staff typed, ready to sit inside a sentence: "corte de agua." in
    "(corte de agua)." would print "agua.)."."""
    return (texto or "").strip().rstrip(".;,: ").strip()
