from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from notificaciones.services import reenviar_notificacion


def reenviar_aviso(request, *, notificacion_id, volver):
    """Resend a notification (``reenviar_notificacion``) and go back to ``volver`` saying what
    happened: the same row queued again, a new copy, or why it was not resent. The caller has
    already checked that the notification belongs to the page it came from."""
    try:
        reenviado = reenviar_notificacion(actor=request.user, notificacion_id=notificacion_id)
    except ValidationError as error:
        messages.error(request, "No se reenvió el aviso: " + " ".join(error.messages))
    else:
        if reenviado.pk == notificacion_id:
            messages.success(request, "Aviso puesto de nuevo en la cola de envío; saldrá en unos momentos.")
        else:
            messages.success(request, f"Se envía una copia nueva del aviso por {reenviado.get_canal_display()}.")
    return redirect(volver)
