"""Patient forms of the staff site. They only parse: normalising and the duplicate rules are
the service's (``pacientes.validaciones``); its ``ValidationError`` is put back on the fields."""

import uuid

from django import forms

from nucleo.formularios import ConErroresDelServicio, EntradaFecha
from pacientes.formato import EntradaRut, EntradaTelefono

# Far above any real value, so a pasted novel is refused here with a Spanish message and
# never reaches the service (which checks the real limits).
LARGO_ENTRADA = 2000


class FormularioPaciente(ConErroresDelServicio, forms.Form):
    """A patient's data as typed; the service normalises (RUT, phone, e-mail) and checks."""

    # Not required here: the service reports a missing name together with every other error.
    nombre_completo = forms.CharField(label="Nombre completo", required=False, max_length=LARGO_ENTRADA)
    rut = forms.CharField(label="RUT", required=False, max_length=LARGO_ENTRADA, widget=EntradaRut(),
                          help_text="Con o sin puntos y guion, por ejemplo 12.345.678-5.")
    email = forms.CharField(label="Correo electrónico", required=False, max_length=LARGO_ENTRADA)
    telefono = forms.CharField(label="Teléfono celular", required=False, max_length=LARGO_ENTRADA,
                               widget=EntradaTelefono(),
                               help_text="Por ejemplo +56 9 6123 4567.")
    fecha_nacimiento = forms.DateField(label="Fecha de nacimiento", required=False,
                                       widget=EntradaFecha(),
                                       error_messages={"invalid": "La fecha de nacimiento no es válida."})
    alergias = forms.CharField(label="Alergias", required=False, max_length=LARGO_ENTRADA * 2,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="Déjelo vacío si no tiene alergias conocidas.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for campo in self.fields.values():
            campo.error_messages["max_length"] = "El texto es demasiado largo."

    def datos(self):
        """Keyword arguments for the service."""
        return {campo: self.cleaned_data[campo] for campo in
                ("nombre_completo", "rut", "email", "telefono", "fecha_nacimiento", "alergias")}


class FormularioPacienteNuevo(FormularioPaciente):
    """A walk-in patient, optionally invited to the portal (which needs an e-mail)."""

    enviar_invitacion = forms.BooleanField(
        label="Enviar invitación al portal", required=False,
        help_text="Le llega un correo para crear su contraseña. Requiere correo electrónico.",
    )

    # One-time key of this form, made when the empty form is shown and carried through
    # re-renders: a second submit of the same form creates nothing (``envio_repetido``).
    clave_envio = forms.UUIDField(
        required=False, initial=uuid.uuid4, widget=forms.HiddenInput,
        error_messages={"invalid": "El formulario llegó alterado. Revise los datos y vuelva a enviarlo."},
    )

    def full_clean(self):
        super().full_clean()
        if "clave_envio" in self.errors:
            # A fresh key for the retry, so one tampered value does not block the form.
            self.data = self.data.copy()
            self.data[self.add_prefix("clave_envio")] = str(uuid.uuid4())

    def datos(self):
        return {**super().datos(), "enviar_invitacion": self.cleaned_data["enviar_invitacion"],
                "clave_envio": self.cleaned_data["clave_envio"]}


class FormularioDocumento(ConErroresDelServicio, forms.Form):
    """A document to attach: title and file. Type, size and emptiness are the service's to judge
    (``pacientes.documentos``), so the messages and codes are the same everywhere."""

    campo_por_codigo = {"cliente_inactivo": None}

    titulo = forms.CharField(label="Título", required=False, max_length=LARGO_ENTRADA,
                             help_text="Por ejemplo «Radiografía panorámica» o «Presupuesto tratamiento».",
                             error_messages={"max_length": "El texto es demasiado largo."})
    archivo = forms.FileField(
        label="Archivo", required=False, allow_empty_file=True,
        error_messages={
            "invalid": "No llegó ningún archivo. Elíjalo de nuevo e inténtelo otra vez.",
            "missing": "No llegó ningún archivo. Elíjalo de nuevo e inténtelo otra vez.",
            "contradiction": "Elija un archivo o deje el campo vacío, no ambos.",
        },
    )

    def __init__(self, *args, maximo_mb=10, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["archivo"].help_text = f"PDF, JPG o PNG, hasta {maximo_mb} MB."
        self.fields["archivo"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"

    def datos(self):
        return {"titulo": self.cleaned_data["titulo"], "archivo": self.cleaned_data["archivo"]}
