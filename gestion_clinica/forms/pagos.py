"""Forms of the cash box and the payments. They only parse: an amount typed as people write it
("$12.500", "12500") becomes an int with ``nucleo.formato.leer_pesos`` (its Spanish message for
anything else); the rules (an accepted quote of this patient, the credit available, the box
open) are ``pagos.services``', whose ``ValidationError`` goes back on the fields."""

import uuid

from django import forms

from gestion_clinica.forms.ficha import _Base
from nucleo.formato import leer_pesos, pesos
from pagos.models import MONTO_MAXIMO
from pagos.services import LARGO_MOTIVO, LARGO_REFERENCIA, MEDIOS_DE_CAJA


def _campo_pesos(etiqueta, ayuda=""):
    return forms.CharField(label=etiqueta, max_length=40, help_text=ayuda,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                         "placeholder": "$0"}),
                           error_messages={"required": "Indique el monto."})


class _ConMonto(_Base):
    minimo = 1
    campos_pesos = ("monto",)

    def _pesos(self, nombre):
        try:
            return leer_pesos(self.cleaned_data[nombre], maximo=MONTO_MAXIMO, minimo=self.minimo)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="monto_invalido") from None

    def clean_monto(self):
        return self._pesos("monto")


class FormularioAbrirCaja(_Base):
    monto_apertura = _campo_pesos("Efectivo en la caja al abrir", "Lo que hay en el cajón ahora (el sencillo).")

    def clean_monto_apertura(self):
        try:
            return leer_pesos(self.cleaned_data["monto_apertura"], maximo=MONTO_MAXIMO, minimo=0)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="monto_invalido") from None


class FormularioCerrarCaja(_Base):
    contado_efectivo = _campo_pesos("Efectivo contado", "Cuente el cajón: billetes y monedas.")
    observacion = forms.CharField(label="Observación", required=False, max_length=300,
                                  widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text="Por ejemplo, por qué hay diferencia.")

    def clean_contado_efectivo(self):
        try:
            return leer_pesos(self.cleaned_data["contado_efectivo"], maximo=MONTO_MAXIMO, minimo=0)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="monto_invalido") from None


_MEDIOS = [(m.value, m.label) for m in MEDIOS_DE_CAJA]
_MEDIO_ERRORES = {"invalid_choice": "Elija el medio de pago: efectivo, débito, crédito o transferencia.",
                  "required": "Elija el medio de pago."}


class FormularioPago(_ConMonto):
    campo_por_codigo = {"sin_caja": None}

    presupuesto = forms.TypedChoiceField(label="Abonar a", required=False, coerce=int, empty_value=None,
                                         error_messages={"invalid_choice": "Elija un presupuesto aceptado de este paciente."})
    monto = _campo_pesos("Monto", "Lo que excede lo que debe el presupuesto queda como saldo a favor.")
    medio = forms.ChoiceField(label="Medio de pago", choices=_MEDIOS, error_messages=_MEDIO_ERRORES)
    referencia = forms.CharField(label="Referencia", required=False, max_length=LARGO_REFERENCIA,
                                 help_text="Transferencia: N° de operación (obligatorio). Tarjeta: N° del voucher (opcional).")

    # A fresh key per form shown: a double click or a resent POST registers the payment once.
    clave = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, presupuestos=(), **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("clave", uuid.uuid4())
        self.fields["presupuesto"].choices = [("", "Solo a la cuenta (saldo a favor)")] + [
            (p.pk, f"Presupuesto {p.folio} · debe {pesos(p.debe)}") for p in presupuestos]
        if not self.is_bound and self.initial.get("presupuesto") is None:
            # At the desk a payment is almost always for the quote being paid off: the first
            # that still owes comes chosen (the first walk put two abonos on the account by default).
            self.initial["presupuesto"] = next((p.pk for p in presupuestos if p.debe > 0), None)


class FormularioUsarSaldo(_ConMonto):
    presupuesto = forms.TypedChoiceField(label="Presupuesto", coerce=int,
                                         error_messages={"invalid_choice": "Elija un presupuesto aceptado de este paciente.",
                                                         "required": "Elija el presupuesto."})
    monto = _campo_pesos("Monto del saldo a usar")

    def __init__(self, *args, presupuestos=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["presupuesto"].choices = [("", "Elija…")] + [
            (p.pk, f"Presupuesto {p.folio} · debe {pesos(p.debe)}") for p in presupuestos]


class FormularioDevolucion(_ConMonto):
    monto = _campo_pesos("Monto a devolver", "Nunca más que el saldo a favor.")
    medio = forms.ChoiceField(label="Medio de la devolución", choices=_MEDIOS, error_messages=_MEDIO_ERRORES)
    referencia = forms.CharField(label="Referencia", required=False, max_length=LARGO_REFERENCIA,
                                 help_text="Transferencia: N° de operación (obligatorio).")
    motivo = forms.CharField(label="Motivo", max_length=LARGO_MOTIVO, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "Indique el motivo."})


class FormularioAnularPago(_Base):
    motivo = forms.CharField(label="Motivo de la anulación", max_length=LARGO_MOTIVO,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "Indique el motivo de la anulación."})
