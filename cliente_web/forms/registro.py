"""Portal forms for creating an account and for passwords. They only parse: the rules are the
services' (``cuentas.services``, ``pacientes.validaciones``), whose errors go next to the fields."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

from cuentas.autenticacion import identificador_normalizado
from notificaciones.models import Canal
from nucleo.formularios import ConClasesBootstrap, ConErroresDelServicio, EntradaFecha

# Far above any real value: a pasted novel is refused here, in Spanish, before any service.
LARGO_ENTRADA = 300
LARGO_CLAVE = 128
MENSAJE_LARGO = "El texto es demasiado largo."

# The staff site links a duplicate to the existing record; a patient must not even learn whose
# record it is, only what to do next.
MENSAJES_DUPLICADO = {
    "email_duplicado": "Ese correo ya está registrado en otra ficha; si es suyo, hable con la clínica.",
    "telefono_duplicado": "Ese celular ya está registrado en otra ficha; si es suyo, hable con la clínica.",
    "rut_duplicado": "Ese RUT ya está registrado en otra ficha; si es suyo, hable con la clínica.",
}


class ErroresDelPortal(ConErroresDelServicio):
    """Service errors without anything that points at another patient's record; the codes seen
    are kept in ``codigos`` so a page can show the next step (log in, call the clinic)."""

    mensajes_por_codigo: dict[str, str] = MENSAJES_DUPLICADO

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.codigos = set()
        for campo in self.fields.values():
            if isinstance(campo.widget, forms.RadioSelect):
                campo.widget.attrs["class"] = "form-check-input"

    def _sin_referencias(self, error):
        self.codigos.add(error.code)
        # Iterating interpolates the params of Django's own messages (password validators).
        return ValidationError(self.mensajes_por_codigo.get(error.code) or next(iter(error)), code=error.code)

    def agregar_errores_del_servicio(self, error: ValidationError):
        """Fields that already show the form's own error keep just that one (one message per problem)."""
        if hasattr(error, "error_dict"):
            limpio = ValidationError({
                campo: [self._sin_referencias(e) for e in errores]
                for campo, errores in error.error_dict.items() if campo not in self.errors
            })
            if not limpio.error_dict:
                return
        else:
            limpio = ValidationError([self._sin_referencias(e) for e in error.error_list])
        super().agregar_errores_del_servicio(limpio)


def _campo_texto(etiqueta, *, obligatorio="", largo=LARGO_ENTRADA, tipo="text", autocompletar=None, ayuda="",
                 **attrs):
    """A text field; ``obligatorio`` is the message when it is left empty (presence only: the
    services check the content)."""
    attrs = {"autocomplete": autocompletar, **attrs} if autocompletar else attrs
    widget = forms.TextInput(attrs={"type": tipo, **attrs})
    return forms.CharField(label=etiqueta, required=bool(obligatorio), max_length=largo, help_text=ayuda,
                           widget=widget, error_messages={"required": obligatorio, "max_length": MENSAJE_LARGO})


def campo_fecha_nacimiento(*, requerido):
    return forms.DateField(
        label="Fecha de nacimiento", required=requerido,
        widget=EntradaFecha(attrs={"autocomplete": "bday"}),
        error_messages={"invalid": "La fecha de nacimiento no es válida.",
                        "required": "Ingrese su fecha de nacimiento."},
    )


def campo_canal():
    return forms.ChoiceField(
        label="¿Por dónde quiere recibir los avisos de sus horas?", choices=Canal.choices, initial=Canal.EMAIL,
        widget=forms.RadioSelect, error_messages={"invalid_choice": "Elija un canal de la lista.",
                                                  "required": "Elija un canal de la lista."},
        help_text="Siempre le enviaremos también un correo, que le sirve de respaldo.",
    )


def campo_clave(etiqueta, *, obligatorio, autocompletar="new-password", ayuda=""):
    return forms.CharField(
        label=etiqueta, strip=False, max_length=LARGO_CLAVE, help_text=ayuda,
        widget=forms.PasswordInput(attrs={"autocomplete": autocompletar}),
        error_messages={"required": obligatorio,
                        "max_length": f"La contraseña no puede superar {LARGO_CLAVE} caracteres."},
    )


def campo_email():
    return _campo_texto("Correo electrónico", obligatorio="Ingrese su correo electrónico.", tipo="email",
                        autocompletar="email", autocapitalize="none", inputmode="email")


def campo_telefono(*, obligatorio=""):
    return _campo_texto("Celular", obligatorio=obligatorio, tipo="tel", autocompletar="tel", inputmode="tel",
                        ayuda="Un celular chileno, por ejemplo +56 9 6123 4567.")


class FormularioRegistro(ErroresDelPortal, forms.Form):
    """A new patient's account: who they are, how to reach them, their password and consents.

    The form checks only that the required fields are there (so an empty submit lists them all
    at once); ``registrar_cliente_web`` checks everything else."""

    nombre_completo = _campo_texto("Nombre completo", obligatorio="Ingrese su nombre completo.",
                                   autocompletar="name", ayuda="Nombres y apellidos.")
    rut = _campo_texto("RUT", obligatorio="Ingrese su RUT.", autocompletar="off", autocapitalize="characters",
                       ayuda="Con o sin puntos y guion, por ejemplo 12.345.678-5.")
    email = campo_email()
    telefono = campo_telefono(obligatorio="Ingrese su celular.")
    fecha_nacimiento = campo_fecha_nacimiento(requerido=True)
    password = campo_clave("Contraseña", obligatorio="Elija una contraseña.",
                           ayuda="Al menos 8 caracteres; que no sea solo números ni una muy común.")
    password2 = campo_clave("Repita la contraseña", obligatorio="Repita la contraseña.")
    canal_preferido = campo_canal()
    acepta_whatsapp = forms.BooleanField(
        label="Acepto recibir avisos de mis horas por WhatsApp en este celular.", required=False
    )
    acepta_sms = forms.BooleanField(label="Acepto recibir avisos de mis horas por SMS en este celular.",
                                    required=False)
    acepta_privacidad = forms.BooleanField(
        label="He leído y acepto el aviso de privacidad.",
        error_messages={"required": "Debe aceptar el aviso de privacidad para crear su cuenta."},
    )

    def clean(self):
        datos = super().clean()
        clave, repetida = datos.get("password"), datos.get("password2")
        if clave and clave != repetida:
            self.add_error("password2", ValidationError("Las contraseñas no coinciden.", code="claves_distintas"))
        return datos

    def datos(self):
        """Keyword arguments for ``registrar_cliente_web``; on an invalid form, what did parse (the
        rest empty), for ``validar_registro_cliente_web``."""
        vacios = {"fecha_nacimiento": None, "canal_preferido": "email", "acepta_whatsapp": False,
                  "acepta_sms": False, "acepta_privacidad": False}
        campos = ("nombre_completo", "rut", "email", "telefono", "fecha_nacimiento", "password", "canal_preferido",
                  "acepta_whatsapp", "acepta_sms", "acepta_privacidad")
        return {campo: self.cleaned_data.get(campo, vacios.get(campo, "")) for campo in campos}


class FormularioRecuperarClave(ConClasesBootstrap, forms.Form):
    identificador = forms.CharField(
        label="RUT o correo electrónico", max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}),
        error_messages={"required": "Escriba su RUT o su correo electrónico.", "max_length": MENSAJE_LARGO},
    )

    def clean_identificador(self):
        # A malformed value cannot be anyone's: say so (that reveals nothing about who has an account).
        valor = self.cleaned_data["identificador"]
        if identificador_normalizado(valor) is None:
            raise ValidationError(
                "Escriba su RUT (por ejemplo 12.345.678-5) o su correo electrónico.", code="identificador_invalido"
            )
        return valor


class ConClaveAcotada:
    """Django's password fields have no maximum: bound them (hashing a pasted book is slow)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for campo in self.fields.values():
            if isinstance(campo.widget, forms.PasswordInput):
                campo.validators.append(MaxLengthValidator(
                    LARGO_CLAVE, message=f"La contraseña no puede superar {LARGO_CLAVE} caracteres."
                ))
                campo.widget.attrs["maxlength"] = str(LARGO_CLAVE)


class FormularioNuevaClave(ConClaveAcotada, ConClasesBootstrap, SetPasswordForm):
    """A patient chooses their password from an e-mailed link (Django's validators apply)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Nueva contraseña"
        self.fields["new_password1"].help_text = "Al menos 8 caracteres; que no sea solo números ni una muy común."
        self.fields["new_password2"].label = "Repita la contraseña"
        self.fields["new_password2"].help_text = "Escriba la misma contraseña otra vez."
        self.error_messages = {**self.error_messages, "password_mismatch": "Las contraseñas no coinciden."}
