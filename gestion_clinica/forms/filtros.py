"""The base of the staff site's log filters (the audit trail, the read log of clinical records):
who, from, to. Invalid values are dropped by the view with a message (``views.comun.filtros_validos``),
never a 500."""

import datetime

from django import forms
from django.contrib.auth import get_user_model

from nucleo.formularios import ConClasesBootstrap, EntradaFecha


class NombreDeUsuario(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class FiltroQuienYFechas(ConClasesBootstrap, forms.Form):
    usuario = NombreDeUsuario(
        label="Quién", required=False, queryset=get_user_model().objects.none(), empty_label="Todos",
        error_messages={"invalid_choice": "Esa persona no existe."},
    )
    desde = forms.DateField(label="Desde", required=False, widget=EntradaFecha(),
                            error_messages={"invalid": "Escriba una fecha válida."})
    hasta = forms.DateField(label="Hasta", required=False, widget=EntradaFecha(),
                            error_messages={"invalid": "Escriba una fecha válida."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The staff (who act on this site) and superusers.
        self.fields["usuario"].queryset = (
            get_user_model().objects.filter(is_staff=True).order_by("first_name", "last_name", "username")
        )

    def clean(self):
        datos = super().clean()
        desde, hasta = datos.get("desde"), datos.get("hasta")
        if desde and hasta and desde > hasta:
            self.add_error("hasta", "La fecha «hasta» es anterior a «desde».")
        return datos

    def filtros(self) -> dict:
        """The valid filters (``is_valid()`` must have run); invalid ones are left out. A
        subclass adds its own to these."""
        datos = getattr(self, "cleaned_data", {})
        usuario = datos.get("usuario")
        hasta = datos.get("hasta")
        return {
            "usuario_id": usuario.pk if usuario else None,
            "desde": datos.get("desde"),
            # The last representable day has no "next day" to compare with: no upper limit.
            "hasta": hasta if hasta and hasta < datetime.date.max else None,
        }
