"""``{% load numeros %}``: ``{{ n|numero }}`` writes a quantity as Chile does ("1.234", "10,5")."""

from django import template

from nucleo import formato

register = template.Library()


@register.filter
def numero(valor, decimales=None):
    try:
        return formato.numero(valor, None if decimales in (None, "") else int(decimales))
    except (TypeError, ValueError):
        return valor


@register.filter
def pesos(valor):
    """``{{ monto|pesos }}``: "$12.500" (``nucleo.formato.pesos``)."""
    try:
        return formato.pesos(valor)
    except (TypeError, ValueError):
        return valor
