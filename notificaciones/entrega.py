"""Delivery of one recorded notification through its channel (``notificaciones.canales``).

Returns the provider's message id. Nothing here writes to the database or logs:
``notificaciones.tasks`` records the outcome.
"""

from notificaciones.canales import CanalNoDisponible, canal_para
from notificaciones.canales.correo import EnvioNoAceptado, message_id

__all__ = ["CanalNoDisponible", "EnvioNoAceptado", "entregar", "message_id"]


def entregar(notificacion) -> str:
    return canal_para(notificacion.canal).enviar(notificacion)
