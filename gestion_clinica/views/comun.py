from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect

from ficha.acceso import acceso_a_ficha
from gestion_clinica.permisos import DENTISTA, respuesta_prohibida
from notificaciones.services import reenviar_notificacion
from nucleo.servicios import es_id_valido


def ids_validos(vista):
    """View decorator: an integer URL kwarg no row can have (the path's ``int`` takes any size,
    PostgreSQL's bigint does not) is a 404 before it reaches a query or a write."""
    @wraps(vista)
    def envoltura(request, *args, **kwargs):
        if not all(es_id_valido(v) for v in (*args, *kwargs.values()) if isinstance(v, int)):
            raise Http404("No existe.")
        return vista(request, *args, **kwargs)

    return envoltura


def filtros_validos(request, filtro) -> dict:
    """The valid filters of a log page's filter form (``forms.filtros.FiltroQuienYFechas``),
    bound to the query string or empty; every invalid one is dropped and said so."""
    if not filtro.is_bound:
        return {}
    if not filtro.is_valid():
        for campo, errores in filtro.errors.items():
            etiqueta = filtro.fields[campo].label if campo in filtro.fields else "Filtro"
            for error in errores:
                messages.warning(request, f"Se ignoró el filtro «{etiqueta}»: {error}")
    return filtro.filtros()


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


def dentista_solo_de_su_equipo(vista):
    """A patient's billing pages (plan prices, quotes, statement) for a dentist: only of a
    patient in their care team (``ficha.acceso.acceso_a_ficha``), as their record; 403 for
    another, 404 for no such patient. Reception and administration see every patient's: they
    quote and collect. After ``requiere_rol`` and ``ids_validos`` (``cliente_id`` in the URL)."""
    @wraps(vista)
    def envuelta(request, *args, cliente_id, **kwargs):
        if request.rol_personal == DENTISTA:
            acceso = acceso_a_ficha(request.user, cliente_id)
            if acceso is None:
                raise Http404("Ese paciente no existe.")
            if not acceso.permitido:
                return respuesta_prohibida(request)
        return vista(request, *args, cliente_id=cliente_id, **kwargs)

    return envuelta
