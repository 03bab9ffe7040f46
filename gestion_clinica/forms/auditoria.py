"""The Auditoría area's filters: invalid values are dropped (with a message), never a 500."""

from django import forms

from gestion_clinica.forms.filtros import FiltroQuienYFechas
from nucleo.selectors import modelos_auditados


class FiltroAuditoria(FiltroQuienYFechas):
    field_order = ["modelo", "usuario", "desde", "hasta", "registro_id"]

    modelo = forms.ChoiceField(label="Tipo de registro", required=False)
    registro_id = forms.IntegerField(
        label="N.º de registro", required=False, min_value=1, max_value=2**63 - 1,
        error_messages={"invalid": "El número de registro debe ser un número entero."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["modelo"].choices = [("", "Todos")] + [(clave, nombre) for clave, nombre in modelos_auditados()]

    def filtros(self):
        datos = getattr(self, "cleaned_data", {})
        return {**super().filtros(), "modelo": datos.get("modelo") or None, "registro_id": datos.get("registro_id")}
