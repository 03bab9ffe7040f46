"""Patient forms of the staff site. They only parse: normalising and the duplicate rules are
the service's (``pacientes.validaciones``); its ``ValidationError`` is put back on the fields."""

import uuid

from django import forms

from notificaciones.models import Canal
from nucleo.formularios import ConErroresDelServicio, EntradaFecha
from pacientes.consentimientos import MEDIOS_EN_RECEPCION, ayuda_canales_del_numero
from pacientes.formato import EntradaRut, EntradaTelefono
from pacientes.models import TipoDocumento
from pacientes.paises import PAISES

# Far above any real value, so a pasted novel is refused here with a Spanish message and
# never reaches the service (which checks the real limits).
LARGO_ENTRADA = 2000


class FormularioPaciente(ConErroresDelServicio, forms.Form):
    """A patient's data as typed; the service normalises (RUT, phone, e-mail) and checks."""

    # Not required here: the service reports a missing name together with every other error.
    nombre_completo = forms.CharField(label="Nombre completo", required=False, max_length=LARGO_ENTRADA)
    tipo_documento = forms.ChoiceField(
        label="Documento de identidad", choices=TipoDocumento.choices, initial=TipoDocumento.RUT, required=False,
        error_messages={"invalid_choice": "Elija un tipo de documento de la lista.",
                        "required": "Elija un tipo de documento de la lista."},
        help_text="Sin RUT chileno (turistas, recién llegados): pasaporte u otro documento, con su país.",
    )
    rut = forms.CharField(label="RUT", required=False, max_length=LARGO_ENTRADA, widget=EntradaRut(),
                          help_text="Con o sin puntos y guion, por ejemplo 12.345.678-5.")
    numero_documento = forms.CharField(label="Número del pasaporte u otro documento", required=False,
                                       max_length=LARGO_ENTRADA, help_text="Solo si no es RUT. Por ejemplo AB123456.")
    pais_documento = forms.ChoiceField(
        label="País que emitió el documento", required=False, choices=[("", "—"), *PAISES],
        error_messages={"invalid_choice": "Elija el país que emitió el documento."},
    )
    email = forms.CharField(label="Correo electrónico", required=False, max_length=LARGO_ENTRADA)
    telefono = forms.CharField(
        label="Teléfono", required=False, max_length=LARGO_ENTRADA, widget=EntradaTelefono(),
        help_text="Celular (+56 9 6123 4567), fijo (+56 2 2345 6789) o extranjero con su código de país. "
                  "Un celular puede recibir WhatsApp y SMS; un fijo, solo llamadas.",
    )
    fecha_nacimiento = forms.DateField(label="Fecha de nacimiento", required=False,
                                       widget=EntradaFecha(),
                                       error_messages={"invalid": "La fecha de nacimiento no es válida."})
    alergias = forms.CharField(label="Alergias", required=False, max_length=LARGO_ENTRADA * 2,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="Déjelo vacío si no tiene alergias conocidas.")
    # Notices: the channel and the patient's consent for WhatsApp/SMS, with how it was given
    # (proof under Ley 21.719; who and when are the service's: the logged-in staff, now).
    canal_preferido = forms.ChoiceField(
        # "Correo", not "Correo electrónico": that is the e-mail field's label (one label, one field).
        label="Canal de avisos preferido", initial=Canal.EMAIL, widget=forms.RadioSelect,
        choices=[(Canal.WHATSAPP, "WhatsApp"), (Canal.SMS, "SMS"), (Canal.EMAIL, "Correo")],
        required=False,
        error_messages={"invalid_choice": "Elija un canal de la lista.", "required": "Elija un canal de la lista."},
        help_text="El correo, si lo hay, siempre recibe una copia.",
    )
    acepta_whatsapp = forms.BooleanField(label="El paciente acepta recibir avisos por WhatsApp", required=False)
    acepta_sms = forms.BooleanField(label="El paciente acepta recibir avisos por SMS", required=False)
    medio_consentimiento = forms.ChoiceField(
        label="Cómo dio su consentimiento", required=False,
        choices=[("", "—"), *[(m.value, m.label) for m in MEDIOS_EN_RECEPCION]],
        error_messages={"invalid_choice": "Elija cómo dio el paciente su consentimiento."},
        help_text="Queda registrado quién lo anotó y cuándo.",
    )

    CAMPOS_CHECK = ("acepta_whatsapp", "acepta_sms")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for campo in self.fields.values():
            campo.error_messages["max_length"] = "El texto es demasiado largo."
        self.fields["canal_preferido"].widget.attrs["class"] = "form-check-input"

    def explicar_telefono(self, telefono):
        """The phone's help text says which channels this number allows (after the server
        validated it, or for the stored number when editing; no script needed)."""
        if telefono:
            # The bound field copied the help text when the form was cleaned: set both.
            self.fields["telefono"].help_text = self["telefono"].help_text = ayuda_canales_del_numero(telefono)

    def datos(self):
        """Keyword arguments for the service."""
        return {campo: self.cleaned_data[campo] for campo in
                ("nombre_completo", "rut", "email", "telefono", "fecha_nacimiento", "alergias", "tipo_documento",
                 "numero_documento", "pais_documento", "canal_preferido", "acepta_whatsapp", "acepta_sms",
                 "medio_consentimiento") if campo in self.fields} | {
            # Not sent (an old page): a RUT, and the channel and consents stay as they are.
            "tipo_documento": self.cleaned_data["tipo_documento"] or TipoDocumento.RUT,
            "canal_preferido": self.cleaned_data["canal_preferido"] or None}


class FormularioPacienteEditado(FormularioPaciente):
    """Editing a patient at the desk. Allergies are clinical data that only the patient's care
    team reads (``ficha.acceso.acceso_a_ficha``), and the desk (administración,
    recepción) edits: so this form never shows what is recorded, it only adds what the patient
    declares now (``actualizar_cliente(agregar_alergias=…)``)."""

    alergias = None
    agregar_alergias = forms.CharField(
        label="Agregar alergias que declara el paciente", required=False, max_length=LARGO_ENTRADA * 2,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Se suma a lo ya anotado. Lo anotado es un dato clínico: lo ve solo el equipo de cuidado "
                  "del paciente (en la ficha verá «Alerta clínica»).",
    )
    # Issue 14: only a confirmed number gets SMS/WhatsApp. A number typed (or changed) here is
    # confirmed by the desk; one that came from the portal is confirmed here on request.
    confirmar_telefono = forms.BooleanField(
        label="El paciente confirmó en recepción que este teléfono es suyo", required=False,
        help_text="Solo un número confirmado (en recepción o con el código del portal) recibe SMS y WhatsApp. "
                  "Un número nuevo o cambiado aquí queda confirmado.",
    )
    field_order = ["nombre_completo", "tipo_documento", "rut", "numero_documento", "pais_documento", "email",
                   "telefono", "confirmar_telefono", "fecha_nacimiento", "agregar_alergias"]

    def datos(self):
        return {**super().datos(), "alergias": None, "agregar_alergias": self.cleaned_data["agregar_alergias"],
                "confirmar_telefono": self.cleaned_data["confirmar_telefono"]}


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
        datos = super().datos()
        return {**datos, "canal_preferido": datos["canal_preferido"] or Canal.EMAIL,
                "enviar_invitacion": self.cleaned_data["enviar_invitacion"],
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


class FormularioDesactivar(ConErroresDelServicio, forms.Form):
    """Deactivating a patient with future bookings: what to do with them (the service decides
    what is valid; without bookings the choice is not asked)."""

    citas_futuras = forms.ChoiceField(
        label="¿Qué hacemos con sus horas futuras?", required=False, widget=forms.RadioSelect,
        choices=[("liberar", "Liberarlas y avisarle al paciente que la clínica canceló sus horas"),
                 ("conservar", "Conservarlas (el paciente sigue citado)")],
        error_messages={"invalid_choice": "Elija qué hacer con sus horas futuras: liberarlas con aviso al paciente, "
                                          "o conservarlas."},
    )
    motivo = forms.CharField(label="Motivo que se le indicará (opcional)", required=False, max_length=LARGO_ENTRADA,
                             error_messages={"max_length": "El texto es demasiado largo."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["citas_futuras"].widget.attrs["class"] = "form-check-input"
