"""The patient's one-time link to set their portal password (``nucleo.tokens``)."""

from nucleo.enlaces import enlaces
from nucleo.tokens import credenciales_de_activacion


def enlace_activacion(user) -> str:
    """The patient's one-time link to set their portal password."""
    return enlaces().activacion_paciente(**credenciales_de_activacion(user))
