"""Forms of the Personal area: they parse; ``personal.services`` decides."""

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from nucleo.formularios import ConErroresDelServicio
from personal.models import Rol


# The service's codes that carry no field (plain ValidationError) → the field they are about.
CAMPO_POR_CODIGO = {
    "username_obligatorio": "username",
    "cuenta_duplicada": "username",
    "email_obligatorio": "email",
    "email_invalido": "email",
    "rol_invalido": "rol",
    "invitacion_con_clave": "enviar_invitacion",
    "nombre_obligatorio": "nombre",
    "nombre_corto": "nombre",
    "nombre_largo": "nombre",
}


class FormularioPersonal(ConErroresDelServicio, forms.Form):
    """A new staff member. Lengths are the ``auth_user`` columns' (longer would not fit)."""

    username = forms.CharField(
        label="Nombre de usuario", max_length=150, validators=[UnicodeUsernameValidator(
            message="Ingrese un nombre de usuario válido: solo letras, números y . @ + - _ (sin espacios)."
        )],
        help_text="Con él entrará al sistema. Letras, números y . @ + - _",
        error_messages={"required": "Falta el nombre de usuario."},
    )
    nombre = forms.CharField(label="Nombre", max_length=150, error_messages={"required": "Ingrese el nombre."})
    apellido = forms.CharField(
        label="Apellido", max_length=150, error_messages={"required": "Ingrese el apellido."}
    )
    email = forms.CharField(
        label="Correo electrónico", max_length=254,
        error_messages={"required": "Ingrese el correo electrónico."},
        widget=forms.EmailInput,
    )
    rol = forms.ChoiceField(
        label="Rol", choices=[("", "Elija un rol")] + Rol.choices,
        error_messages={"required": "Elija un rol.", "invalid_choice": "Rol desconocido."},
    )
    especialidad = forms.CharField(
        label="Especialidad", max_length=120, required=False, help_text="Solo para dentistas, si corresponde."
    )
    enviar_invitacion = forms.BooleanField(
        label="Enviar invitación", required=False, initial=True,
        help_text="Le llega un enlace por correo para que elija su contraseña.",
    )

    campo_por_codigo = CAMPO_POR_CODIGO


class FormularioEditarPersonal(ConErroresDelServicio, forms.Form):
    """A staff member's name, role and specialty (``editar_personal``); the login stays."""

    nombre = FormularioPersonal.base_fields["nombre"]
    apellido = FormularioPersonal.base_fields["apellido"]
    rol = forms.ChoiceField(
        label="Rol", choices=Rol.choices,
        error_messages={"required": "Elija un rol.", "invalid_choice": "Rol desconocido."},
        help_text="Administrador: todo, también el personal y la auditoría. Recepción: agenda y pacientes. "
                  "Dentista: su agenda y sus pacientes.",
    )
    especialidad = forms.CharField(
        label="Especialidad", max_length=120, required=False, help_text="Solo para dentistas, si corresponde."
    )
    # What a prescription prints under the dentist's name (ficha.recetas); the service validates.
    rut = forms.CharField(label="RUT", max_length=20, required=False,
                          help_text="Solo para dentistas: aparece en sus recetas. Ejemplo: 12.345.678-5.")
    registro_superintendencia = forms.CharField(
        label="N° de registro en la Superintendencia de Salud", max_length=20, required=False,
        help_text="Registro Nacional de Prestadores Individuales; aparece en sus recetas.",
    )

    campo_por_codigo = CAMPO_POR_CODIGO
