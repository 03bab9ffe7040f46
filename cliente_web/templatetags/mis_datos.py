"""The readable copy of "Mis datos": the export's ISO 8601 dates as Chileans read them."""

import datetime

from django import template
from django.utils import timezone

from notificaciones.models import Canal, EstadoNotificacion
from pacientes.models import TipoDocumento
from pacientes.paises import NOMBRES

register = template.Library()


@register.filter
def fecha_cl(valor):
    """``2026-12-08T10:30:00-03:00`` → ``08-12-2026 10:30`` (Santiago); ``1990-05-17`` →
    ``17-05-1990``; empty → "—". Anything else is shown as it is."""
    if not valor:
        return "—"
    try:
        leido = datetime.datetime.fromisoformat(valor) if "T" in valor else datetime.date.fromisoformat(valor)
    except (TypeError, ValueError):
        return valor
    if isinstance(leido, datetime.datetime):
        if timezone.is_aware(leido):
            leido = timezone.localtime(leido)
        return leido.strftime("%d-%m-%Y %H:%M")
    return leido.strftime("%d-%m-%Y")


@register.filter
def canal(valor):
    """``whatsapp`` → ``WhatsApp`` (the outbox's own labels)."""
    return dict(Canal.choices).get(valor, valor or "—")


@register.filter
def estado_aviso(valor):
    return dict(EstadoNotificacion.choices).get(valor, valor or "—")


@register.filter
def pais(valor):
    return NOMBRES.get(valor, valor) or "—"


# What each notice was, for the patient (the outbox stores the event's key).
EVENTOS = {
    "reserva_confirmada": "Reserva confirmada",
    "cita_asignada": "Hora dada por la clínica",
    "cita_cancelada_paciente": "Cita cancelada por usted",
    "cita_cancelada_clinica": "Cita cancelada por la clínica",
    "cita_reprogramada": "Cita cambiada de hora",
    "recordatorio": "Recordatorio de su hora",
    "invitacion": "Invitación al portal",
    "bienvenida": "Bienvenida al portal",
    "restablecer_clave": "Enlace para cambiar la contraseña",
    "cambio_correo_confirmar": "Confirmación del correo nuevo",
    "cambio_correo_aviso": "Aviso de cambio de correo",
    "cambio_correo_deshecho": "Cuenta bloqueada («No fui yo»)",
    "cuenta_desbloqueada": "Cuenta desbloqueada",
    "cambio_celular_aviso": "Aviso de cambio de celular",
    "codigo_telefono": "Código para confirmar su celular",
    "telefono_liberado": "Aviso: quitamos un celular de su ficha",
    "registro_verificar": "Enlace para confirmar su correo y crear su cuenta",
    "registro_cuenta_existente": "Aviso: ya tenía una cuenta",
    "registro_contactar_clinica": "Aviso: hable con la clínica para activar su cuenta",
    "presupuesto_emitido": "Presupuesto nuevo",  # issue 17
}
# Notices that only ever go to staff: never in a patient's copy.
EVENTOS_DEL_PERSONAL = {"invitacion_personal"}


@register.filter
def legible(valor):
    """An event's key (``cita_cancelada_clinica``) as the patient reads it; an unknown one as
    words (``Reserva confirmada``)."""
    return EVENTOS.get(valor) or str(valor or "").replace("_", " ").capitalize() or "—"


@register.filter
def tipo_documento(valor):
    return dict(TipoDocumento.choices).get(valor, valor or "—")
