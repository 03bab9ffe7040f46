"""How people in Chile read a RUT and a phone: ``12.345.678-5`` and ``+56 9 6123 4567``.

Stored in normal form (``12345678-5``, E.164); formatted only for display.
"""

import re

import phonenumbers
from django import template
from stdnum.cl import rut as stdnum_rut

from pacientes.models import RUT_NORMAL

register = template.Library()


@register.filter
def rut(valor):
    texto = str(valor or "")
    # Anything not in normal form (old or odd data) is shown as stored.
    return stdnum_rut.format(texto) if re.match(RUT_NORMAL, texto) else texto


@register.filter
def telefono(valor):
    if not valor:
        return ""
    try:
        numero = phonenumbers.parse(str(valor), "CL")
    except phonenumbers.NumberParseException:
        return str(valor)
    return phonenumbers.format_number(numero, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
