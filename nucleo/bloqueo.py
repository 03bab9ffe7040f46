"""The page django-axes shows after too many failed logins (``AXES_LOCKOUT_CALLABLE``).

Axes replaces the login view's response in its middleware, so the page is chosen here by the
URL namespace of the view that was called, from ``CLINICA_PLANTILLAS_BLOQUEO`` (the project's
settings name each site's page: the staff site's login page with the notice, the portal's
lockout page); a namespace without one (the admin) gets the notice as plain Spanish text (axes
ships no Spanish). The portal also calls
it directly when a password re-entered inside a session is locked (``cliente_web.reintentos``).
"""

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import get_template

from axes.helpers import get_cool_off


def _espera(request) -> str:
    espera = get_cool_off(request)
    if not espera:
        return "hasta que un administrador lo desbloquee"
    minutos = max(1, round(espera.total_seconds() / 60))
    if minutos % 60 == 0:
        horas = minutos // 60
        return f"durante {horas} hora{'s' if horas != 1 else ''}"
    return f"durante {minutos} minuto{'s' if minutos != 1 else ''}"


def mensaje_bloqueo(request) -> str:
    return (
        "Demasiados intentos fallidos. Por seguridad, el acceso de este usuario desde este equipo "
        f"quedó bloqueado {_espera(request)}. Si necesita entrar antes, pida ayuda a un administrador."
    )


def respuesta_bloqueo(request, original_response=None, credentials=None):
    """Axes' lockout response: status ``AXES_HTTP_RESPONSE_CODE`` (429), in Spanish."""
    estado = settings.AXES_HTTP_RESPONSE_CODE
    coincidencia = getattr(request, "resolver_match", None)
    espacio = coincidencia.namespaces[0] if coincidencia and coincidencia.namespaces else ""
    nombre_plantilla = getattr(settings, "CLINICA_PLANTILLAS_BLOQUEO", {}).get(espacio)
    mensaje = mensaje_bloqueo(request)
    if nombre_plantilla is None:
        return HttpResponse(mensaje, status=estado, content_type="text/plain; charset=utf-8")
    plantilla = get_template(nombre_plantilla)
    return HttpResponse(plantilla.render({"mensaje_bloqueo": mensaje}, request), status=estado)
