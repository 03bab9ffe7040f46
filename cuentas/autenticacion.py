"""Log in with what a patient remembers: their RUT (any format) or their e-mail.

Patients' records, not their logins, hold the RUT and the current e-mail (``Cliente`` is the
source of truth), so the account is found through the active patient. Staff keep logging in
with their username through ``NombreDeUsuarioBackend`` (Django's ``ModelBackend``), listed after
this one, which loads the session's user with their staff profile.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from pacientes.models import Cliente
from pacientes.validaciones import normalizar_email, normalizar_rut


def identificador_normalizado(texto) -> str | None:
    """``texto`` as a normalised RUT (``12345678-5``) or e-mail, or None if it is neither.

    Also the key django-axes counts failures by, so that "12.345.678-5" and "123456785" are
    one person to the lockout.
    """
    texto = str(texto or "").strip()
    if not texto:
        return None
    if "@" in texto:
        try:
            return normalizar_email(texto)
        except ValidationError:
            return None
    try:
        return normalizar_rut(texto)
    except ValidationError:
        return None


def usuario_del_paciente(identificador):
    """The login of the active patient with this RUT or e-mail, or None."""
    clave = identificador_normalizado(identificador)
    if clave is None:
        return None
    filtro = {"email": clave} if "@" in clave else {"rut": clave}
    cliente = Cliente.objects.filter(activo=True, user__isnull=False, **filtro).select_related("user").first()
    return cliente.user if cliente else None


class RutOCorreoBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = usuario_del_paciente(username)
        if user is None:
            # Same work as a real check, so response time does not reveal who is a patient.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The logged-in patient's account with their record in the same query: every portal
        page needs both (``cliente_web.permisos.paciente_de``), one query less per request."""
        return _usuario_con(self, user_id, "cliente")


class NombreDeUsuarioBackend(ModelBackend):
    """Staff and the admin site log in with their username and password: Django's
    ``ModelBackend``, and the session's user comes with their staff profile in the same query:
    every staff page needs both (``gestion_clinica.permisos.rol_de``), one query less per
    request (issue 16). Only the profile: joining the patient's wide row too cost more CPU than
    the query it would save for the rare staff member who is also a patient (measured)."""

    def get_user(self, user_id):
        return _usuario_con(self, user_id, "perfil_personal")


def _usuario_con(backend, user_id, relacion):
    """The account with its one-to-one ``relacion`` (a LEFT JOIN: a missing row is cached as
    missing, no query later), or None for an unknown or inactive one (``ModelBackend.get_user``)."""
    try:
        user = get_user_model()._default_manager.select_related(relacion).get(pk=user_id)
    except get_user_model().DoesNotExist:
        return None
    return user if backend.user_can_authenticate(user) else None
