"""How people in Chile read a RUT and a phone: ``12.345.678-5`` and ``+56 9 6123 4567``.

Stored in normal form (``12345678-5``, E.164); formatted only for display: in templates
(``{% load formato_chile %}``) and in the fields of a form (``EntradaRut``, ``EntradaTelefono``),
whose formatted text ``pacientes.validaciones`` takes back as it is.
"""

import phonenumbers
from django import forms

# Defined beside the normal form it reads (models and PDFs use it too); here for templates and forms.
from pacientes.models import rut_legible


def telefono_legible(valor) -> str:
    if not valor:
        return ""
    try:
        numero = phonenumbers.parse(str(valor), "CL")
    except phonenumbers.NumberParseException:
        return str(valor)
    return phonenumbers.format_number(numero, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class EntradaRut(forms.TextInput):
    """A RUT field that shows ``12.345.678-5`` for a stored ``12345678-5``."""

    def format_value(self, value):
        return rut_legible(super().format_value(value))


class EntradaTelefono(forms.TextInput):
    """A phone field that shows ``+56 9 6123 4567`` for a stored ``+56961234567``; text that is
    not a number (a typo being corrected) is shown as typed."""

    def format_value(self, value):
        texto = super().format_value(value)
        return telefono_legible(texto) if texto and texto.startswith("+") else texto
