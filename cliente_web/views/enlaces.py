"""Portal: the one-tap links of the reminders (``/portal/r/<token>/``), without logging in.

GET only shows the appointment (day, time, dentist; never the reason) and one button: mail
and chat apps open links to preview them, so a GET must never act. The POST of that button
(CSRF-protected like every form) confirms or cancels. The token is the only key: it names one
booking and expires when it starts (``citas.enlaces``).
"""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from citas import enlaces
from citas.selectors import politica_del_portal
from citas.services import cancelar_por_enlace, confirmar_por_enlace
from cliente_web.limites import limitar

SERVICIOS = {"confirmar": confirmar_por_enlace, "cancelar": cancelar_por_enlace}
# Invalid: 404; expired: 410 Gone; anything else (already done, policy) is a normal answer.
ESTADO_HTTP = {"enlace_invalido": 404, "enlace_vencido": 410}


def _primer_nombre(cita) -> str:
    partes = (cita.paciente_nombre or "").split()
    return partes[0] if partes else ""


def _respuesta(request, plantilla, contexto, status=200):
    respuesta = render(request, plantilla, {"politica": politica_del_portal(), **contexto}, status=status)
    # The URL is a key: keep it out of search engines and shared caches.
    respuesta["X-Robots-Tag"] = "noindex, nofollow"
    return respuesta


def _error(request, error: ValidationError):
    codigo = getattr(error, "code", None)
    return _respuesta(request, "cliente_web/enlaces/error.html", {
        "codigo": codigo, "mensaje": error.messages[0],
    }, status=ESTADO_HTTP.get(codigo, 200))


@never_cache
@require_http_methods(["GET", "POST"])
@limitar("portal.enlaces", ip="CLINICA_LIMITE_ENLACES_IP")
def recordatorio_enlace(request, token):
    """GET: the appointment and its one button (or why there is none). POST: act."""
    try:
        situacion = enlaces.situacion_del_enlace(token=token)
    except ValidationError as error:
        return _error(request, error)
    if request.method == "POST" and situacion.estado == enlaces.PENDIENTE:
        try:
            SERVICIOS[situacion.accion](token=token)
        except ValidationError as error:
            return _error(request, error)
        return _respuesta(request, "cliente_web/enlaces/hecho.html", {
            "accion": situacion.accion, "cita": situacion.cita, "nombre": _primer_nombre(situacion.cita),
        })
    return _respuesta(request, "cliente_web/enlaces/enlace.html", {
        "situacion": situacion, "cita": situacion.cita, "nombre": _primer_nombre(situacion.cita),
    })


urlpatterns = [
    path("r/<str:token>/", recordatorio_enlace, name="recordatorio_enlace"),
]
