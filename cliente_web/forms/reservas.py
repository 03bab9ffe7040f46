"""The portal's booking forms: choose a dentist, confirm a slot (with an optional reason),
choose the new slot of a reschedule. Bad input gets a Spanish message, never a 500."""

from django import forms

from citas.models import Cita
from nucleo.formularios import ConClasesBootstrap, ConErroresDelServicio

MAX_ID = 2**63 - 1


def _sin_marcas(texto):
    """Plain text only: ``<`` and ``>`` are refused (they are never needed in a reason)."""
    if "<" in texto or ">" in texto:
        raise forms.ValidationError("Escriba el motivo sin los signos < ni >.", code="motivo_con_marcas")
    return texto


def _etiqueta(dentista):
    """"Camila Soto (Ortodoncia)": the specialty helps a patient choose."""
    return f"{dentista.nombre} ({dentista.especialidad})" if dentista.especialidad else dentista.nombre


class FormularioElegirDentista(ConClasesBootstrap, forms.Form):
    """``?dentista=<id>``, empty for any dentist."""

    dentista = forms.TypedChoiceField(
        label="Dentista", required=False, coerce=int, empty_value=None,
        error_messages={"invalid_choice": "Ese dentista no está en la lista. Elija otro o «Cualquier dentista»."},
    )

    def __init__(self, *args, dentistas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dentista"].choices = [("", "Cualquier dentista"), *((d.pk, _etiqueta(d)) for d in dentistas)]


class FormularioReserva(ConErroresDelServicio, forms.Form):
    """The confirm step of a booking: only the optional reason is typed."""

    motivo = forms.CharField(
        label="Motivo de la consulta (opcional)", required=False,
        max_length=Cita._meta.get_field("motivo").max_length,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text="Por ejemplo: control, limpieza, dolor. Solo lo ve el equipo de la clínica.",
        error_messages={"max_length": "El motivo puede tener hasta %(limit_value)d caracteres (tiene %(show_value)d)."},
    )
    campo_por_codigo = {"motivo_largo": "motivo"}

    def clean_motivo(self):
        return _sin_marcas(self.cleaned_data["motivo"])


class FormularioReprogramar(ConErroresDelServicio, forms.Form):
    """The new slot of a reschedule, by id (the service checks it is free and bookable)."""

    nueva_cita_id = forms.IntegerField(
        label="Nueva hora", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput,
        error_messages={
            "required": "Elija la nueva hora.",
            "invalid": "Esa hora no es válida. Elija una de la lista.",
            "min_value": "Esa hora no es válida. Elija una de la lista.",
            "max_value": "Esa hora no es válida. Elija una de la lista.",
        },
    )
