"""The base's background jobs: the attempt limits' expired counters are deleted now and then
(``nucleo.cache_pg``; they are invisible from the moment they expire, this only keeps the
table small)."""

import logging

from django.conf import settings
from django.core.cache import caches
from procrastinate.contrib.django import app

from nucleo.registro import registrar_evento

logger = logging.getLogger(__name__)


def borrar_contadores_vencidos() -> int:
    """Delete the expired counters of the limits' cache; how many (0 for a cache that expires
    its own keys, like Redis)."""
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    borrar = getattr(cache, "borrar_vencidos", None)
    borradas = borrar() if borrar is not None else 0
    if borradas:
        registrar_evento(logger, "contadores_vencidos_borrados", cantidad=borradas)
    return borradas


@app.periodic(cron="*/15 * * * *", periodic_id="borrar_contadores_vencidos")
@app.task(name="nucleo.borrar_contadores_vencidos", queue="mantenimiento", queueing_lock="borrar_contadores_vencidos")
def tarea_borrar_contadores_vencidos(timestamp: int) -> None:
    borrar_contadores_vencidos()
