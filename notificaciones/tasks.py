"""Delivery of recorded notifications, after commit, by ``procrastinate`` workers."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from notificaciones import entrega
from notificaciones.models import EstadoNotificacion, Notificacion
from nucleo.registro import registrar_evento

logger = logging.getLogger(__name__)


class EntregaFallida(Exception):
    """The provider refused or could not be reached; the job is retried."""


@app.task(
    name="notificaciones.enviar",
    queue="notificaciones",
    pass_context=True,
    retry=RetryStrategy(
        max_attempts=settings.NOTIFICACIONES_MAX_INTENTOS,
        exponential_wait=settings.NOTIFICACIONES_ESPERA_BASE_S,
        retry_exceptions=[EntregaFallida],
    ),
)
def enviar_notificacion(context, *, notificacion_id: int) -> None:
    """Send one notification at most once: the row is locked while it is sent, and a row
    already sent (or failed for good) is left alone."""
    with transaction.atomic():
        notificacion = (
            Notificacion.objects.select_for_update(skip_locked=True)
            .filter(pk=notificacion_id, estado=EstadoNotificacion.PENDIENTE)
            .first()
        )
        if notificacion is None:
            return  # sent already, failed for good, or another worker holds it
        intento = notificacion.intentos + 1
        try:
            proveedor_id = entrega.entregar(notificacion)
        except Exception as exc:  # any provider error is recorded and retried
            error = f"{type(exc).__name__}: {exc}"[:2000]
            ultimo = intento >= settings.NOTIFICACIONES_MAX_INTENTOS
            notificacion.intentos = intento
            notificacion.ultimo_error = error
            if ultimo:
                notificacion.estado = EstadoNotificacion.FALLIDA
            notificacion.save(update_fields=["intentos", "ultimo_error", "estado", "actualizado"])
            registrar_evento(
                logger, "notificacion_error", logging.WARNING,
                notificacion_id=notificacion.pk, canal=notificacion.canal, intento=intento, definitivo=ultimo,
            )
            if ultimo:
                return
            # Raised after the transaction above commits the attempt count: procrastinate retries.
            error_entrega = EntregaFallida(error)
        else:
            notificacion.intentos = intento
            notificacion.estado = EstadoNotificacion.ENVIADA
            notificacion.enviada_en = timezone.now()
            notificacion.proveedor_id = proveedor_id or ""
            notificacion.ultimo_error = ""
            notificacion.save(
                update_fields=["intentos", "estado", "enviada_en", "proveedor_id", "ultimo_error", "actualizado"]
            )
            registrar_evento(
                logger, "notificacion_enviada", notificacion_id=notificacion.pk, canal=notificacion.canal,
                intento=intento,
            )
            return
    raise error_entrega
