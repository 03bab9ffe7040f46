"""Delivery of recorded notifications, after commit, by ``procrastinate`` workers.

The job carries the notification id only; everything it sends was rendered into the row when
it was recorded. The row is locked while it is sent, so however many jobs exist for one
notification (a retry, a duplicate, a manual re-run), it is sent at most once: a row that is
no longer ``pendiente`` is left alone. Every failed attempt is recorded on the row; after the
last one, or at once when the channel says retrying cannot help (``ErrorPermanente``: an
invalid number), the row is ``fallida`` (visible to staff) and the job fails without retry.

Logs carry ids only: the error text of a provider may quote the address or number, so it is scrubbed
before it is stored or raised (procrastinate logs the raised exception next to the job's
arguments).
"""

import datetime
import logging
import math
import re

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models.functions import Now
from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.retry import RetryDecision

from notificaciones import entrega
from notificaciones.canales import ErrorPermanente, canales_con_entrega
from notificaciones.models import CupoEnvio, EstadoNotificacion, Notificacion
from notificaciones.trabajos import COLA_ENVIO, TAREA_ENVIO, sin_trabajo_vivo
from nucleo.registro import registrar_evento

logger = logging.getLogger(__name__)


class EntregaFallida(Exception):
    """The provider refused or could not be reached; the job is retried (not before
    ``espera_s`` seconds when the provider said so with Retry-After)."""

    def __init__(self, mensaje, *, espera_s=None):
        super().__init__(mensaje)
        self.espera_s = espera_s


class EntregaAbandonada(Exception):
    """The last attempt failed: the row is ``fallida`` and the job ends failed, not retried."""


class Reintentos(RetryStrategy):
    """Exponential backoff (base NOTIFICACIONES_ESPERA_BASE_S, read at call time), stretched
    to the provider's Retry-After when it asks for more."""

    def get_retry_decision(self, *, exception, job):
        if super().get_retry_decision(exception=exception, job=job) is None:
            return None
        espera = settings.NOTIFICACIONES_ESPERA_BASE_S ** (job.attempts + 1)
        espera = max(espera, math.ceil(getattr(exception, "espera_s", None) or 0))
        return RetryDecision(retry_in={"seconds": espera})


# Built once, at import time. procrastinate's ``max_attempts`` counts retries (the job may run
# max_attempts + 1 times); the task itself decides when the row has had its last attempt, from
# NOTIFICACIONES_MAX_INTENTOS read at call time, or when this strategy would not retry again.
# Database errors are retried too (the attempt was not recorded, nothing was sent).
REINTENTOS = Reintentos(
    max_attempts=settings.NOTIFICACIONES_MAX_INTENTOS,
    retry_exceptions=[EntregaFallida, OperationalError, InterfaceError],
)

_CORREO = re.compile(r"[^\s<>()\[\]{}'\",;:@]+@[^\s<>()\[\]{}'\",;:]+")
# A phone number as providers quote it (+56961234567, whatsapp:+569…, 56961234567): 8+ digits,
# so that HTTP statuses and provider error codes (429, 21211, 131026) stay readable.
_TELEFONO = re.compile(r"\+?\d[\d ]{6,}\d")


def describir_error(exc: BaseException) -> str:
    """The error as stored in ``ultimo_error`` and raised to procrastinate: no e-mail
    addresses, no phone numbers."""
    texto = _CORREO.sub("<correo>", f"{type(exc).__name__}: {exc}")
    return _TELEFONO.sub("<telefono>", texto)[:2000]


def _es_ultimo_intento(intento: int, context) -> bool:
    if intento >= settings.NOTIFICACIONES_MAX_INTENTOS:
        return True
    # The job will not run again (its retries were spent, e.g. on database errors): fail the
    # row now rather than leave it pending with no job behind it.
    maximo = REINTENTOS.max_attempts
    return maximo is not None and context.job.attempts >= maximo


@app.task(name=TAREA_ENVIO, queue=COLA_ENVIO, pass_context=True, retry=REINTENTOS)
def enviar_notificacion(context, *, notificacion_id: int) -> None:
    """Send one notification at most once."""
    with transaction.atomic():
        # Waits for another worker holding the row, then sees what it left (sent or pending).
        notificacion = Notificacion.objects.select_for_update().filter(pk=notificacion_id).first()
        if notificacion is None:
            registrar_evento(logger, "notificacion_inexistente", logging.WARNING, notificacion_id=notificacion_id)
            return
        if notificacion.estado != EstadoNotificacion.PENDIENTE:
            registrar_evento(
                logger, "notificacion_ya_resuelta", notificacion_id=notificacion.pk, estado=notificacion.estado
            )
            return
        if notificacion.canal not in canales_con_entrega():
            # No provider for this channel yet: it stays visibly pending, never marked sent.
            registrar_evento(
                logger, "notificacion_sin_proveedor", logging.WARNING,
                notificacion_id=notificacion.pk, canal=notificacion.canal,
            )
            return
        intento = notificacion.intentos + 1
        try:
            proveedor_id = entrega.entregar(notificacion)
        except Exception as exc:  # any provider error is recorded and retried
            error = describir_error(exc)
            # A permanent refusal (invalid number, no approved template) would fail the same
            # way every time: visibly failed now, not after a day of retries.
            ultimo = isinstance(exc, ErrorPermanente) or _es_ultimo_intento(intento, context)
            notificacion.intentos = intento
            notificacion.ultimo_error = error
            if ultimo:
                notificacion.estado = EstadoNotificacion.FALLIDA
            notificacion.save(update_fields=["intentos", "ultimo_error", "estado", "actualizado"])
            registrar_evento(
                logger, "notificacion_fallida" if ultimo else "notificacion_error",
                logging.ERROR if ultimo else logging.WARNING,
                notificacion_id=notificacion.pk, canal=notificacion.canal, intento=intento,
                error=type(exc).__name__,
            )
            # Raised below, after the attempt is committed.
            if ultimo:
                fallo = EntregaAbandonada(f"notificacion_id={notificacion.pk} intentos={intento} {error}")
            else:
                fallo = EntregaFallida(
                    f"notificacion_id={notificacion.pk} intento={intento} {error}",
                    espera_s=getattr(exc, "espera_s", None),
                )
        else:
            notificacion.intentos = intento
            notificacion.estado = EstadoNotificacion.ENVIADA
            notificacion.enviada_en = timezone.now()
            notificacion.proveedor_id = (proveedor_id or "")[:200]
            notificacion.ultimo_error = ""
            notificacion.save(
                update_fields=["intentos", "estado", "enviada_en", "proveedor_id", "ultimo_error", "actualizado"]
            )
            registrar_evento(
                logger, "notificacion_enviada", notificacion_id=notificacion.pk, canal=notificacion.canal,
                intento=intento,
            )
            return
    raise fallo


# Sweeps: invariant 6 must hold even when a worker dies mid-job ------------------------------

def reprogramar_pendientes_sin_trabajo() -> int:
    """Defer a job for each deliverable pending row that has none (its job failed for a
    reason other than the provider, or was deleted by hand). Returns how many."""
    ids = list(
        Notificacion.objects.filter(
            sin_trabajo_vivo(), estado=EstadoNotificacion.PENDIENTE, canal__in=sorted(canales_con_entrega()),
            creado__lt=Now() - datetime.timedelta(minutes=5),
        ).order_by("id").values_list("id", flat=True)[:1000]
    )
    for notificacion_id in ids:
        enviar_notificacion.defer(notificacion_id=notificacion_id)
    if ids:
        registrar_evento(logger, "notificaciones_reprogramadas", logging.WARNING, cantidad=len(ids))
    return len(ids)


def barrer_cupos() -> int:
    """Delete the send-budget counters of hours already over (``CupoEnvio``); returns how many."""
    borrados, _ = CupoEnvio.objects.filter(hora__lt=Now() - datetime.timedelta(hours=2)).delete()
    return borrados


@app.periodic(cron="*/5 * * * *", periodic_id="barrido_pendientes")
@app.task(name="notificaciones.barrer_pendientes", queue="mantenimiento", queueing_lock="barrer_pendientes")
def barrer_pendientes(timestamp: int) -> None:
    reprogramar_pendientes_sin_trabajo()
    barrer_cupos()


@app.periodic(cron="*/5 * * * *", periodic_id="reintentar_estancados")
@app.task(
    name="notificaciones.reintentar_estancados", queue="mantenimiento", queueing_lock="reintentar_estancados",
    pass_context=True,
)
async def reintentar_trabajos_estancados(context, timestamp: int) -> None:
    """Jobs left in ``doing`` by a worker that stopped sending heartbeats (killed, host lost)
    go back to the queue; the row lock in ``enviar_notificacion`` keeps them at-most-once."""
    # The running worker's own job manager (its connector), not the deferring app's.
    gestor = context.app.job_manager
    for trabajo in await gestor.get_stalled_jobs():
        await gestor.retry_job(trabajo)
        registrar_evento(logger, "trabajo_estancado_reintentado", logging.WARNING, job_id=trabajo.id)
