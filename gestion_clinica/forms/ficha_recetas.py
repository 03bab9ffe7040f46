"""Forms of prescriptions: the header (note of the visit, general indications) and a formset of
medicine lines (three empty ones, "Agregar línea" adds one more without JavaScript). They only
parse; ``ficha.recetas`` decides (at least one medicine, lengths, days) and its Spanish
``ValidationError`` goes back to the top of the form."""

from django import forms

from ficha.recetas import DURACION_MAXIMA, LARGO_INDICACIONES, LARGO_MOTIVO, LARGOS_LINEA, MAX_LINEAS
from gestion_clinica.forms.ficha import _Base

LINEAS_INICIALES = 3


class FormularioReceta(_Base):
    evolucion = forms.TypedChoiceField(
        label="Evolución de la visita", required=False, coerce=int, empty_value=None,
        error_messages={"invalid_choice": "Elija una de sus evoluciones de este paciente, o ninguna."},
    )
    indicaciones = forms.CharField(label="Indicaciones generales", required=False, max_length=LARGO_INDICACIONES,
                                   widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text="Por ejemplo: control en 7 días; si hay fiebre, consultar.")

    def __init__(self, *args, evoluciones=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evolucion"].choices = [("", "Ninguna")] + [
            (n.pk, f"{n.atendido_el:%d-%m-%Y}{' · ' + n.procedimiento if n.procedimiento else ''}"
                   f"{'' if n.firmada else ' (borrador)'}") for n in evoluciones]


class FormularioLinea(_Base):
    medicamento = forms.CharField(label="Medicamento", required=False, max_length=LARGOS_LINEA["medicamento"],
                                  widget=forms.TextInput(attrs={"placeholder": "Amoxicilina"}))
    presentacion = forms.CharField(label="Presentación", required=False, max_length=LARGOS_LINEA["presentacion"],
                                   widget=forms.TextInput(attrs={"placeholder": "Cápsulas 500 mg"}))
    dosis = forms.CharField(label="Dosis", required=False, max_length=LARGOS_LINEA["dosis"],
                            widget=forms.TextInput(attrs={"placeholder": "1 cápsula"}))
    frecuencia = forms.CharField(label="Frecuencia", required=False, max_length=LARGOS_LINEA["frecuencia"],
                                 widget=forms.TextInput(attrs={"placeholder": "cada 8 horas"}))
    duracion_dias = forms.IntegerField(
        label="Días", required=False, min_value=1, max_value=DURACION_MAXIMA,
        error_messages={"invalid": "Indique los días con un número.",
                        "min_value": f"La duración va de 1 a {DURACION_MAXIMA} días.",
                        "max_value": f"La duración va de 1 a {DURACION_MAXIMA} días."},
    )
    indicaciones = forms.CharField(label="Indicaciones", required=False, max_length=LARGOS_LINEA["indicaciones"],
                                   widget=forms.TextInput(attrs={"placeholder": "Después de las comidas"}))


class _Lineas(forms.BaseFormSet):
    default_error_messages = {
        "missing_management_form": "El formulario está incompleto: ábralo de nuevo.",
        "too_many_forms": f"Una receta lleva hasta {MAX_LINEAS} medicamentos.",
        "too_few_forms": "Agregue al menos un medicamento a la receta.",
    }

    def lineas(self) -> list[dict]:
        return [f.cleaned_data for f in self.forms if getattr(f, "cleaned_data", None)]


FormularioLineas = forms.formset_factory(FormularioLinea, formset=_Lineas, extra=LINEAS_INICIALES,
                                         max_num=MAX_LINEAS, absolute_max=MAX_LINEAS, validate_max=True)


def formset_de_lineas(data=None, *, agregar=False):
    """The lines' formset; ``agregar``: the same data with one more empty line (up to the
    maximum), to show again without saving."""
    if data is not None and agregar:
        data = data.copy()
        campo_total = "lineas-TOTAL_FORMS"
        valor = data.get(campo_total, "")
        total = int(valor) if valor.isascii() and valor.isdigit() and len(valor) < 4 else LINEAS_INICIALES
        data[campo_total] = str(min(max(total, 0) + 1, MAX_LINEAS))
    formset = FormularioLineas(data, prefix="lineas")
    # Examples only on the first line: on empty ones below they read as if already filled in.
    for form in formset.forms[1:]:
        for campo in form.fields.values():
            campo.widget.attrs.pop("placeholder", None)
    return formset


class FormularioAnulacion(_Base):
    motivo = forms.CharField(label="Motivo de la anulación", max_length=LARGO_MOTIVO,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "Escriba el motivo de la anulación."},
                             help_text="Queda en la receta; el paciente y la farmacia verán que está anulada.")
