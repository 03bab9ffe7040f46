"""What every message about an appointment says (the outbox, ``notificaciones``, only renders
and sends what the layer that asks for a message gives it)."""

from django.utils import formats, timezone


def contexto_cita(*, inicio, dentista, nombre):
    """Who, when (in Santiago's time) and with whom."""
    local = timezone.localtime(inicio)
    return {
        "nombre": nombre,
        "fecha": formats.date_format(local, "l j \\d\\e F"),
        "hora": formats.time_format(local, "H:i"),
        "dentista": dentista,
    }
