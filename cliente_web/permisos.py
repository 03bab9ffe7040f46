"""Who may use the patient portal: a logged-in user with an active patient record.

``request.paciente`` (their ``Cliente``) is set for the views: every query a portal view makes
about appointments, documents or data is filtered by it, so another patient's id finds nothing
(404), never their data.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse

from ficha.acceso import acceso_del_paciente
from ficha.lecturas import registrar_lectura
from nucleo.ip_cliente import ip_del_cliente
from pacientes.models import Cliente


def paciente_de(user) -> Cliente | None:
    """The active patient record of ``user``, or None (anonymous, staff, deactivated)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    # Loaded with the user by the login backend (``RutOCorreoBackend.get_user``); otherwise
    # this reads it (staff logged in through ModelBackend, a user from elsewhere).
    cliente = getattr(user, "cliente", None)
    return cliente if cliente is not None and cliente.activo else None


def requiere_paciente(vista):
    """View decorator: anonymous → the portal's login (with ``next``); a logged-in user who is
    not an active patient (staff, deactivated record) → a Spanish 403 that says what to do."""

    @wraps(vista)
    def envoltura(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:entrar"))
        request.paciente = paciente_de(request.user)
        if request.paciente is None:
            return render(request, "cliente_web/sin_ficha.html", status=403)
        return vista(request, *args, **kwargs)

    return envoltura


def registrar_lectura_propia(request, seccion: str, objeto_id: int | None = None) -> None:
    """The patient's own read of a part of their clinical record (``ficha.models.Seccion``: the
    exports, their documents, their allergies), in the read log like anyone's (Decreto 41
    art. 9). For views under ``requiere_paciente``."""
    registrar_lectura(usuario=request.user, cliente_id=request.paciente.pk, seccion=seccion, objeto_id=objeto_id,
                      acceso=acceso_del_paciente(request.user, request.paciente.pk), ip=ip_del_cliente(request))
