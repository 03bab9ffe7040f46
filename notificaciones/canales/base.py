"""The channel interface: what every way of sending a notification must offer.

A channel sends one recorded ``Notificacion`` and returns the provider's message id. It does
not write to the database: ``notificaciones.tasks`` records the outcome. It tells the task
how a failure should be treated by the exception it raises:

- ``ErrorPermanente``: retrying cannot help (invalid number, template rejected): the row
  becomes ``fallida`` at once, with the error.
- ``ErrorReintentable`` (or any other exception: a timeout, a refused connection): the attempt
  is recorded and retried with backoff; ``espera_s`` asks for at least that wait
  (the provider's ``Retry-After``).
"""

from typing import Protocol


class CanalDeEnvio(Protocol):
    nombre: str

    def enviar(self, notificacion) -> str:
        """Send ``notificacion``; return the provider's message id. Raises ErrorPermanente
        or ErrorReintentable (or any exception, treated as retryable)."""
        ...


class ErrorDeEnvio(Exception):
    """A provider's refusal, described without the recipient's number or address."""

    def __init__(self, mensaje: str, *, estado_http: int | None = None, codigo: str | int | None = None,
                 espera_s: float | None = None):
        super().__init__(mensaje)
        self.estado_http = estado_http
        self.codigo = codigo
        self.espera_s = espera_s


class ErrorPermanente(ErrorDeEnvio):
    """Retrying would fail the same way: the notification is ``fallida`` now."""


class ErrorReintentable(ErrorDeEnvio):
    """The provider is down, slow or rate-limiting: try again later."""


def espera_de(cabeceras) -> float | None:
    """Seconds from a ``Retry-After`` header (only the delta-seconds form; dates are rare)."""
    valor = (cabeceras or {}).get("Retry-After") or (cabeceras or {}).get("retry-after")
    try:
        return max(0.0, float(valor)) if valor is not None else None
    except (TypeError, ValueError):
        return None


def es_reintentable(estado_http: int) -> bool:
    """HTTP statuses worth retrying: rate limits, server errors, and credentials (a
    configuration mistake that an operator can fix within the retry window)."""
    return estado_http in (401, 403, 408, 409, 425, 429) or estado_http >= 500
