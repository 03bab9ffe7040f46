"""A staff member's one-time link to set their password on the staff site (``nucleo.tokens``)."""

from nucleo.enlaces import enlaces
from nucleo.tokens import credenciales_de_activacion


def enlace_activacion_personal(user) -> str:
    return enlaces().activacion_personal(**credenciales_de_activacion(user))
