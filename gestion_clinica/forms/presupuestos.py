"""Forms of quotes on the staff site: they only parse; ``tratamientos.presupuestos`` decides
(the items are the plan's and proposed, the validity is from today to a year ahead)."""

import datetime

from django import forms
from django.utils import timezone

from gestion_clinica.forms.agenda import CampoFecha
from nucleo.formularios import ConErroresDelServicio, EntradaFecha
from tratamientos.presupuestos import DIAS_VALIDEZ, LARGO_MOTIVO, LARGO_OBSERVACIONES

_INCOMPLETO = "El formulario está incompleto: ábralo de nuevo."


class FormularioPresupuesto(ConErroresDelServicio, forms.Form):
    """Issue (or a new version of) a quote: which of the plan's proposed items, valid until when."""

    plan = forms.TypedChoiceField(coerce=int, widget=forms.HiddenInput,
                                  error_messages={"required": _INCOMPLETO, "invalid_choice": _INCOMPLETO})
    items = forms.TypedMultipleChoiceField(
        label="Ítems del presupuesto", coerce=int, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Elija al menos un ítem del plan.",
                        "invalid_choice": "Uno de los ítems elegidos no es de este plan."})
    valido_hasta = CampoFecha(label="Válido hasta", widget=EntradaFecha,
                              error_messages={"required": "Indique hasta cuándo vale el presupuesto.",
                                              "invalid": "Escriba la fecha como día-mes-año."})
    observaciones = forms.CharField(label="Observaciones (opcional)", required=False, max_length=LARGO_OBSERVACIONES,
                                    widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text="Se imprimen en el presupuesto; por ejemplo, formas de pago.")
    campo_por_codigo = {"sin_items": "items", "item_ajeno": "items", "item_no_propuesto": "items",
                        "demasiados_items": "items", "fecha_invalida": "valido_hasta", "validez_pasada": "valido_hasta",
                        "validez_larga": "valido_hasta", "texto_largo": "observaciones"}

    def __init__(self, *args, plan, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("plan", plan.pk)
        kwargs["initial"].setdefault("items", [i.pk for i in plan.items.all()])
        kwargs["initial"].setdefault("valido_hasta", timezone.localdate() + datetime.timedelta(days=DIAS_VALIDEZ))
        super().__init__(*args, **kwargs)
        self.plan_obj = plan
        self.fields["plan"].choices = [(plan.pk, plan.pk)]
        self.fields["items"].choices = [(i.pk, str(i.pk)) for i in plan.items.all()]


class FormularioRechazo(ConErroresDelServicio, forms.Form):
    motivo = forms.CharField(label="Motivo del rechazo", max_length=LARGO_MOTIVO,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "Anote por qué lo rechaza el paciente."})
    campo_por_codigo = {"texto_largo": "motivo"}
