"""Forms of the staff site. Rules live in services and in ``permisos``; forms only parse."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm

from nucleo.formularios import ConClasesBootstrap
from gestion_clinica.permisos import perfil_de, rol_de


class FormularioEntrada(ConClasesBootstrap, AuthenticationForm):
    """Staff login: the right password is not enough, the account must have a role here."""

    error_messages = {
        "invalid_login": "Usuario o contraseña incorrectos. Revise mayúsculas y minúsculas.",
        "inactive": "Esta cuenta está desactivada.",
        "paciente": (
            "Esta es una cuenta de paciente. Para ver sus horas, entre por el portal de pacientes."
        ),
        "personal_inactivo": (
            "Su cuenta del personal está desactivada. Si es un error, hable con el administrador de la clínica."
        ),
        "sin_rol": "Esta cuenta no pertenece al personal de la clínica.",
    }

    def clean_username(self):
        # AuthenticationForm sets max_length without its validator: an over-long name would
        # reach django-axes, whose attempt log (varchar 255) fails with a 500.
        username = self.cleaned_data["username"]
        if len(username) > self.username_field.max_length:
            raise self.get_invalid_login_error()
        return username

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if rol_de(user) is not None:
            return
        perfil = perfil_de(user)
        if perfil is not None and not perfil.activo:
            codigo = "personal_inactivo"
        elif hasattr(user, "cliente"):
            codigo = "paciente"
        else:
            codigo = "sin_rol"
        raise forms.ValidationError(self.error_messages[codigo], code=codigo)


class FormularioActivacion(ConClasesBootstrap, SetPasswordForm):
    """A new staff member chooses their password (Django's validators apply)."""
