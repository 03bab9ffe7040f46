"""Forms of the clinical record (ficha). They only parse; the rules (who may write, the FDI
teeth, the version of the history) are the services' (``ficha.antecedentes``,
``ficha.evoluciones``), whose ``ValidationError`` goes back on the fields."""

from django import forms
from django.utils import timezone

from ficha.antecedentes import LARGO_TEXTO
from ficha.evoluciones import LARGO_PROCEDIMIENTO
from ficha.evoluciones import LARGO_TEXTO as LARGO_EVOLUCION
from ficha.models import Embarazo, Tabaquismo
from nucleo.formularios import ConErroresDelServicio, EntradaFecha

_LARGO = "El texto es demasiado largo."
_NULO = "El texto tiene un carácter no permitido."


class _Base(ConErroresDelServicio, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for campo in self.fields.values():
            campo.error_messages["max_length"] = _LARGO
            campo.error_messages["null_characters_not_allowed"] = _NULO
            for validador in campo.validators:
                if type(validador).__name__ == "ProhibitNullCharactersValidator":
                    validador.message = _NULO


def _texto(etiqueta, *, largo, filas=3, ayuda=""):
    return forms.CharField(label=etiqueta, required=False, max_length=largo, help_text=ayuda,
                           widget=forms.Textarea(attrs={"rows": filas}))


class FormularioAntecedentes(_Base):
    """The medical history, with the version it was opened with (hidden)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1,
                                 error_messages={"invalid": "El formulario está incompleto: ábralo de nuevo.",
                                                 "required": "El formulario está incompleto: ábralo de nuevo.",
                                                 "min_value": "El formulario está incompleto: ábralo de nuevo.",
                                                 "max_value": "El formulario está incompleto: ábralo de nuevo."})
    alergias = _texto("Alergias", largo=LARGO_TEXTO, filas=2,
                      ayuda="Medicamentos, látex, anestésicos… Déjelo vacío si no tiene alergias conocidas.")
    enfermedades = _texto("Enfermedades y condiciones", largo=LARGO_TEXTO,
                          ayuda="Diabetes, hipertensión, cardiopatías, epilepsia…")
    medicamentos = _texto("Medicamentos actuales", largo=LARGO_TEXTO)
    anticoagulantes = forms.BooleanField(label="Toma anticoagulantes", required=False)
    anticoagulantes_detalle = forms.CharField(label="Cuál anticoagulante", required=False, max_length=200,
                                              help_text="Por ejemplo, acenocumarol 4 mg.")
    embarazo = forms.ChoiceField(label="Embarazo", choices=Embarazo.choices, required=False,
                                 error_messages={"invalid_choice": "Elija una opción de la lista."})
    tabaquismo = forms.ChoiceField(label="Tabaquismo", choices=Tabaquismo.choices, required=False,
                                   error_messages={"invalid_choice": "Elija una opción de la lista."})
    cirugias = _texto("Cirugías relevantes", largo=LARGO_TEXTO)
    observaciones = _texto("Otras observaciones", largo=LARGO_TEXTO)

    def datos(self) -> dict:
        return dict(self.cleaned_data)


class FormularioEvolucion(_Base):
    """A draft note: date, the appointment (one of the dentist's own with this patient), what
    was done, teeth as typed ("16, 26 y 11"), the note."""

    campo_por_codigo = {"cita_invalida": "cita", "diente_invalido": "dientes", "fecha_futura": "atendido_el",
                        "evolucion_vacia": "texto"}

    atendido_el = forms.DateField(label="Fecha de la atención", required=False, widget=EntradaFecha(),
                                  error_messages={"invalid": "La fecha no es válida."},
                                  help_text="Vacía: la fecha de la cita elegida, o hoy.")
    cita = forms.TypedChoiceField(label="Cita", required=False, coerce=int, empty_value=None,
                                  error_messages={"invalid_choice": "Elija una de sus citas con este paciente."})
    procedimiento = forms.CharField(label="Qué se hizo", required=False, max_length=LARGO_PROCEDIMIENTO,
                                    help_text="Por ejemplo: obturación con resina, destartraje, control.")
    dientes = forms.CharField(label="Dientes (FDI)", required=False, max_length=300,
                              help_text="Números FDI separados por coma, espacio o «y»: 16, 26 y 11.")
    texto = _texto("Evolución", largo=LARGO_EVOLUCION, filas=6)

    def __init__(self, *args, citas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cita"].choices = [("", "Sin cita")] + [
            (c.pk, f"{timezone.localtime(c.inicio):%d-%m-%Y %H:%M}") for c in citas]
        if not citas:
            del self.fields["cita"]

    def datos(self) -> dict:
        datos = dict(self.cleaned_data)
        if "cita" in datos:
            datos["cita_id"] = datos.pop("cita")
        return datos


class FormularioAdenda(_Base):
    texto = _texto("Adenda", largo=LARGO_EVOLUCION, filas=4,
                   ayuda="Queda firmada con su nombre al guardarla y no se puede modificar.")
