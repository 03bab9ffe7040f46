"""Session lifetimes and the login a session belongs to.

Every signed-in session carries three values, set at login (``user_logged_in``):

- when it began and when it was last used: past ``CLINICA_SESION_MAXIMA_*`` since the start, or
  ``CLINICA_SESION_INACTIVIDAD_*`` without use, it ends; staff (``is_staff``) get the shorter
  ``_PERSONAL`` limits, patients the ``_PORTAL`` ones. The last use is written at most once a
  minute, so a page does not write the session on every request.
- the login name (the portal's login is the patient's e-mail) it was opened with. Django ends
  the other sessions when the password changes (the session keeps a hash of it; the password
  change page keeps its own with ``update_session_auth_hash``) but not when the e-mail changes:
  a session opened with another login ends here. ``renovar_login`` keeps the current one.

The check runs when the request's user is read, like Django's own (pages that never read the
session or the user, like the public free-slot page, still do not). An ended session is flushed
and the request goes on as anonymous, with a Spanish message: each site's permission checks send
it to its login page (HTMX requests get their client redirect there), where the message shows.
"""

import time

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

INICIO = "_clinica_sesion_inicio"
ULTIMO_USO = "_clinica_sesion_uso"
LOGIN = "_clinica_sesion_login"
# The last use is written when at least this old (seconds): one session write a minute at most.
GRANO_USO = 60

MENSAJES = {
    "inactividad": "Su sesión se cerró por inactividad. Ingrese de nuevo para continuar.",
    "maxima": "Su sesión duró el máximo permitido y se cerró por seguridad. Ingrese de nuevo para continuar.",
    "login": "Su sesión se cerró porque cambió el correo de su cuenta. Ingrese de nuevo con el correo nuevo.",
}


def limites(user) -> tuple[int, int]:
    """(idle, absolute) lifetime in seconds of ``user``'s sessions."""
    if user.is_staff:
        return settings.CLINICA_SESION_INACTIVIDAD_PERSONAL, settings.CLINICA_SESION_MAXIMA_PERSONAL
    return settings.CLINICA_SESION_INACTIVIDAD_PORTAL, settings.CLINICA_SESION_MAXIMA_PORTAL


def iniciar(sender, request, user, **kwargs):
    """``user_logged_in``: a new session starts now (a login over an old session restarts it)."""
    if request is None or not hasattr(request, "session"):
        return
    ahora = int(time.time())
    request.session[INICIO] = request.session[ULTIMO_USO] = ahora
    request.session[LOGIN] = user.get_username()


def renovar_login(request, user) -> None:
    """After the login name of ``user`` changed in this very request: this session stays."""
    if request.user.is_authenticated and request.user.pk == user.pk:
        request.session[LOGIN] = user.get_username()


def motivo_de_cierre(sesion, user, ahora) -> str | None:
    """Why ``user``'s session ``sesion`` is over at ``ahora`` (a key of ``MENSAJES``), or None."""
    inactividad, maxima = limites(user)
    if sesion.get(LOGIN, user.get_username()) != user.get_username():
        return "login"
    if ahora - sesion.get(ULTIMO_USO, ahora) > inactividad:
        return "inactividad"
    if ahora - sesion.get(INICIO, ahora) > maxima:
        return "maxima"
    return None


def usuario_vigente(request):
    """The request's user if their session is still valid; else the session ends (flushed, a
    message queued) and the request is anonymous."""
    user = auth.get_user(request)
    if not user.is_authenticated:
        return user
    sesion, ahora = request.session, int(time.time())
    motivo = motivo_de_cierre(sesion, user, ahora)
    if motivo is None:
        if INICIO not in sesion:  # opened before these checks existed: it starts now
            sesion[INICIO] = ahora
            sesion[LOGIN] = user.get_username()
        if ahora - sesion.get(ULTIMO_USO, 0) >= GRANO_USO:
            sesion[ULTIMO_USO] = ahora
        return user
    # What ``logout`` does, without reading ``request.user`` (this is its evaluation).
    auth.user_logged_out.send(sender=user.__class__, request=request, user=user)
    sesion.flush()
    messages.info(request, MENSAJES[motivo])
    return AnonymousUser()


class VigenciaDeSesionMiddleware:
    """Replaces ``AuthenticationMiddleware``'s lazy user (after it and ``MessageMiddleware``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user = SimpleLazyObject(lambda: usuario_vigente(request))
        return self.get_response(request)
