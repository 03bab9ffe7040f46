"""The money reports' period (staff site): two days of Santiago, valid by
``pagos.reportes.validar_periodo`` (Spanish messages), this month by default."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from nucleo.formularios import ConClasesBootstrap, EntradaFecha
from pagos.reportes import validar_periodo


class FormularioPeriodo(ConClasesBootstrap, forms.Form):
    desde = forms.DateField(label="Desde", widget=EntradaFecha(),
                            error_messages={"invalid": "Escriba una fecha válida.", "required": "Indique la fecha «desde»."})
    hasta = forms.DateField(label="Hasta", widget=EntradaFecha(),
                            error_messages={"invalid": "Escriba una fecha válida.", "required": "Indique la fecha «hasta»."})

    def __init__(self, datos=None):
        # No dates at all: this month so far (a first visit shows a table, not errors).
        if not datos or not ({"desde", "hasta"} & set(datos)):
            hoy = timezone.localdate()
            datos = {"desde": hoy.replace(day=1).isoformat(), "hasta": hoy.isoformat()}
        super().__init__(datos)

    def clean(self):
        datos = super().clean()
        desde, hasta = datos.get("desde"), datos.get("hasta")
        if desde and hasta:
            try:
                validar_periodo(desde, hasta)
            except ValidationError as error:
                self.add_error("hasta" if error.code == "periodo_invertido" else None, error)
        return datos

    def periodo(self) -> dict:
        return {"desde": self.cleaned_data["desde"], "hasta": self.cleaned_data["hasta"]}

