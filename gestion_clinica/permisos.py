"""Who may open which page of the staff site.

A person's role on this site is the ``rol`` of their active ``personal.Perfil``; an active
superuser counts as ``administrador`` (the clinic's safety net). A deactivated ``Perfil``
refuses access even to a superuser: deactivation is an explicit decision and must win.
Anyone else (a patient, a user without a profile) has no role here.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from personal.models import Rol
from personal.segundo_factor import esta_verificado, requiere_segundo_factor

ADMINISTRADOR = Rol.ADMINISTRADOR
RECEPCION = Rol.RECEPCION
DENTISTA = Rol.DENTISTA
TODOS = (ADMINISTRADOR, RECEPCION, DENTISTA)


def perfil_de(user):
    """The user's ``Perfil`` (active or not), or None. One query, cached on the user."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.perfil_personal
    except ObjectDoesNotExist:
        return None


def rol_de(user) -> Rol | None:
    """The user's role on the staff site (a ``Rol``, so templates can show ``.label``), or
    None when they may not use it at all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    perfil = perfil_de(user)
    if perfil is not None and not perfil.activo:
        return None
    if user.is_superuser:
        return ADMINISTRADOR
    return Rol(perfil.rol) if perfil is not None else None


def respuesta_prohibida(request):
    """The Spanish 403 page (a patient, a deactivated member, or the wrong role)."""
    return render(request, "gestion_clinica/prohibido.html", status=403)


def _a_entrar(request):
    """The login page, coming back here afterwards. An htmx request (session expired while a
    page was open) navigates the whole page: a 302 would swap the login form into a fragment."""
    if getattr(request, "htmx", False):
        actual = request.htmx.current_url_abs_path or reverse("gestion:inicio")
        return HttpResponseClientRedirect(redirect_to_login(actual, reverse("gestion:entrar")).url)
    return redirect_to_login(request.get_full_path(), reverse("gestion:entrar"))


def falta_segundo_factor(request) -> bool:
    """The user must verify a second factor in this session and has not (personal.segundo_factor)."""
    rol = getattr(request, "rol_personal", None) or rol_de(request.user)
    return requiere_segundo_factor(request.user, rol) and not esta_verificado(request.user)


def _a_segundo_factor(request):
    """The second-factor step (enrolment or code), coming back here afterwards; for htmx, the
    whole page navigates, as for the login."""
    destino = reverse("gestion:segundo_factor")
    if getattr(request, "htmx", False):
        actual = request.htmx.current_url_abs_path or reverse("gestion:inicio")
        return HttpResponseClientRedirect(redirect_to_login(actual, destino).url)
    return redirect_to_login(request.get_full_path(), destino)


def requiere_rol(*roles, segundo_factor=True):
    """View decorator: anonymous → the staff login (with ``next``); no role or another role
    → 403; a role that needs the second factor (``CLINICA_MFA_ROLES``, and every superuser) in a
    session not verified with it → the second-factor step (with ``next``). Sets
    ``request.rol_personal`` for the layout (menus shown by role).

    ``segundo_factor=False`` only for the second-factor step's own pages. Every other staff page
    goes through here: clinica/tests/test_segundo_factor_cobertura.py walks them all."""
    desconocidos = set(roles) - set(TODOS)
    if not roles or desconocidos:
        raise ValueError(f"requiere_rol: roles desconocidos {sorted(desconocidos)}")

    def decorador(vista):
        @wraps(vista)
        def envoltura(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return _a_entrar(request)
            request.rol_personal = rol_de(request.user)
            if request.rol_personal is None:
                return respuesta_prohibida(request)
            if segundo_factor and falta_segundo_factor(request):
                return _a_segundo_factor(request)
            if request.rol_personal not in roles:
                return respuesta_prohibida(request)
            return vista(request, *args, **kwargs)

        return envoltura

    return decorador

