"""The Auditoría area's filters: invalid values are dropped (with a message), never a 500."""

import datetime

from django import forms
from django.contrib.auth import get_user_model

from nucleo.formularios import ConClasesBootstrap, EntradaFecha
from nucleo.selectors import modelos_auditados


class NombreDeUsuario(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class FiltroAuditoria(ConClasesBootstrap, forms.Form):
    modelo = forms.ChoiceField(label="Tipo de registro", required=False)
    usuario = NombreDeUsuario(
        label="Quién", required=False, queryset=get_user_model().objects.none(), empty_label="Todos",
        error_messages={"invalid_choice": "Ese usuario no existe."},
    )
    desde = forms.DateField(label="Desde", required=False, widget=EntradaFecha())
    hasta = forms.DateField(label="Hasta", required=False, widget=EntradaFecha())
    registro_id = forms.IntegerField(
        label="N.º de registro", required=False, min_value=1, max_value=2**63 - 1,
        error_messages={"invalid": "El número de registro debe ser un número entero."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["modelo"].choices = [("", "Todos")] + [(clave, nombre) for clave, nombre in modelos_auditados()]
        # The staff (who act on this site) and superusers; a patient's own changes are still listed.
        self.fields["usuario"].queryset = (
            get_user_model().objects.filter(is_staff=True).order_by("first_name", "last_name", "username")
        )

    def clean(self):
        datos = super().clean()
        desde, hasta = datos.get("desde"), datos.get("hasta")
        if desde and hasta and desde > hasta:
            self.add_error("hasta", "La fecha «hasta» es anterior a «desde».")
        return datos

    def filtros(self):
        """The valid filters (``is_valid()`` must have run); invalid ones are left out."""
        datos = getattr(self, "cleaned_data", {})
        usuario = datos.get("usuario")
        hasta = datos.get("hasta")
        return {
            "modelo": datos.get("modelo") or None,
            "usuario_id": usuario.pk if usuario else None,
            "desde": datos.get("desde"),
            "hasta": hasta if hasta != datetime.date.max else None,
            "registro_id": datos.get("registro_id"),
        }
