"""Whether a notification still has a delivery job that may send it: a job of the delivery task
for that notification that is waiting (also in its backoff) or running. One rule for the resend
service, the staff's delivery status and the sweep that re-defers orphans (``tasks``).

Read through procrastinate's own (read-only) Django model of its jobs table.
"""

from django.db.models import BigIntegerField, Exists, OuterRef
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from procrastinate.contrib.django.models import ProcrastinateJob

TAREA_ENVIO = "notificaciones.enviar"
COLA_ENVIO = "notificaciones"
ESTADOS_VIVOS = ("todo", "doing")


def trabajos_vivos():
    """The delivery jobs that may still send, each annotated with its ``notificacion_id``."""
    return ProcrastinateJob.objects.filter(
        task_name=TAREA_ENVIO, status__in=ESTADOS_VIVOS, args__has_key="notificacion_id"
    ).annotate(notificacion_id=Cast(KT("args__notificacion_id"), BigIntegerField()))


def ids_con_trabajo_vivo():
    """The ids of notifications with a live job, as a subquery. Uncorrelated on purpose: used
    as ``pk__in``, PostgreSQL hashes the live jobs once instead of scanning them per row (20
    rows against an outage's 20,000 live jobs took 137 ms as a correlated EXISTS)."""
    return trabajos_vivos().values("notificacion_id")


def sin_trabajo_vivo():
    """A filter for notifications without a live job (NOT EXISTS, correlated per row)."""
    return ~Exists(trabajos_vivos().filter(notificacion_id=OuterRef("pk")))


def tiene_trabajo_vivo(notificacion_id: int) -> bool:
    return trabajos_vivos().filter(notificacion_id=notificacion_id).exists()
