"""How people in Chile read a RUT and a phone: ``12.345.678-5`` and ``+56 9 6123 4567``
(``pacientes.formato``). Stored in normal form (``12345678-5``, E.164); formatted only for display.
"""

from django import template

from pacientes.formato import rut_legible, telefono_legible

register = template.Library()


@register.filter
def rut(valor):
    return rut_legible(valor)


@register.filter
def telefono(valor):
    return telefono_legible(valor)
