"""The portal's login: RUT or e-mail (see ``cuentas.autenticacion``) and password."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from cliente_web.permisos import paciente_de
from nucleo.formularios import ConClasesBootstrap


class FormularioEntrada(ConClasesBootstrap, AuthenticationForm):
    """Only active patients get in: a staff account or a deactivated record is refused with
    a message that says where to go instead."""

    username = forms.CharField(
        label="RUT o correo electrónico", max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    error_messages = {
        "invalid_login": "RUT, correo o contraseña incorrectos.",
        "inactive": "Esta cuenta está desactivada. Comuníquese con la clínica.",
        "sin_ficha": (
            "Esta cuenta no tiene una ficha de paciente activa. Si es del personal, entre por el sitio de gestión; "
            "si no, comuníquese con la clínica."
        ),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if paciente_de(user) is None:
            raise forms.ValidationError(self.error_messages["sin_ficha"], code="sin_ficha")
