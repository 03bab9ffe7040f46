"""Mi cuenta: contact data, notification preferences, password, deleting the account. Forms
only parse; the services decide (``pacientes.services.actualizar_cliente``, ``cuentas.services``)."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm

from cliente_web.forms.registro import (
    ConClaveAcotada,
    ErroresDelPortal,
    campo_canal,
    campo_clave,
    campo_email,
    campo_fecha_nacimiento,
    campo_telefono,
)
from nucleo.formularios import ConClasesBootstrap


class FormularioContacto(ErroresDelPortal, forms.Form):
    """What a patient may change themselves; name, RUT and allergies go through the clinic."""

    email = campo_email()
    telefono = campo_telefono()
    fecha_nacimiento = campo_fecha_nacimiento(requerido=False)
    # Checked by the service, and only when the e-mail or the phone changes.
    password = campo_clave("Contraseña actual", obligatorio="", autocompletar="current-password",
                           ayuda="Necesaria para cambiar su correo o su celular.")
    password.required = False

    @classmethod
    def de(cls, cliente, *args, **kwargs):
        inicial = {"email": cliente.email, "telefono": cliente.telefono.as_international if cliente.telefono else "",
                   "fecha_nacimiento": cliente.fecha_nacimiento}
        return cls(*args, initial=inicial, **kwargs)


class FormularioAvisos(ErroresDelPortal, forms.Form):
    canal_preferido = campo_canal()
    acepta_whatsapp = forms.BooleanField(label="Acepto recibir avisos de mis horas por WhatsApp.", required=False)
    acepta_sms = forms.BooleanField(label="Acepto recibir avisos de mis horas por SMS.", required=False)

    @classmethod
    def de(cls, preferencias, *args, **kwargs):
        """From the patient's ``Preferencias`` (their record's channel and live consents)."""
        inicial = {"canal_preferido": "email", "acepta_whatsapp": False, "acepta_sms": False}
        if preferencias is not None:
            inicial = {"canal_preferido": preferencias.canal_preferido,
                       "acepta_whatsapp": preferencias.whatsapp_aceptado_en is not None,
                       "acepta_sms": preferencias.sms_aceptado_en is not None}
        return cls(*args, initial=inicial, **kwargs)


class FormularioCambioClave(ConClaveAcotada, ConClasesBootstrap, PasswordChangeForm):
    """Django's password change (old password, validators), in the portal's words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Contraseña actual"
        self.fields["new_password1"].label = "Nueva contraseña"
        self.fields["new_password1"].help_text = "Al menos 8 caracteres; que no sea solo números ni una muy común."
        self.fields["new_password2"].label = "Repita la nueva contraseña"
        self.error_messages = {
            **self.error_messages,
            "password_incorrect": "La contraseña actual no es correcta.",
            "password_mismatch": "Las contraseñas no coinciden.",
        }
        for nombre in ("old_password", "new_password1", "new_password2"):
            self.fields[nombre].error_messages["required"] = "Complete este campo."
        self.fields["old_password"].widget.attrs.pop("autofocus", None)


class FormularioEliminarCuenta(ErroresDelPortal, forms.Form):
    password = campo_clave("Su contraseña", obligatorio="Escriba su contraseña para confirmar.",
                           autocompletar="current-password")
