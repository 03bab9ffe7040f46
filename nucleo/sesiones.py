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

An ended session goes to its site's login page with a Spanish message (HTMX: a client redirect).
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.urls import NoReverseMatch, reverse
from django_htmx.http import HttpResponseClientRedirect

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
    if getattr(request, "user", None) is not None and request.user.is_authenticated and request.user.pk == user.pk:
        request.session[LOGIN] = user.get_username()


def _motivo(sesion, user, ahora) -> str | None:
    inactividad, maxima = limites(user)
    if sesion.get(LOGIN, user.get_username()) != user.get_username():
        return "login"
    if ahora - sesion.get(ULTIMO_USO, ahora) > inactividad:
        return "inactividad"
    if ahora - sesion.get(INICIO, ahora) > maxima:
        return "maxima"
    return None


def _pagina_de_entrada(user) -> str:
    nombres = ("gestion:entrar", "portal:entrar") if user.is_staff else ("portal:entrar", "gestion:entrar")
    for nombre in nombres:
        try:
            return reverse(nombre)
        except NoReverseMatch:
            continue
    return settings.LOGIN_URL


class VigenciaDeSesionMiddleware:
    """After ``AuthenticationMiddleware`` and ``MessageMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Without a session cookie there is nothing to check, and nothing is read.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and SESSION_KEY in request.session:
            respuesta = self._revisar(request)
            if respuesta is not None:
                return respuesta
        return self.get_response(request)

    def _revisar(self, request):
        user = request.user
        if not user.is_authenticated:
            return None
        sesion, ahora = request.session, int(time.time())
        motivo = _motivo(sesion, user, ahora)
        if motivo is None:
            if INICIO not in sesion:  # opened before these checks existed: it starts now
                sesion[INICIO] = ahora
                sesion[LOGIN] = user.get_username()
            if ahora - sesion.get(ULTIMO_USO, 0) >= GRANO_USO:
                sesion[ULTIMO_USO] = ahora
            return None
        entrada = _pagina_de_entrada(user)
        logout(request)
        messages.info(request, MENSAJES[motivo])
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(redirect_to_login(request.get_full_path(), entrada).url)
        return redirect_to_login(request.get_full_path(), entrada)
