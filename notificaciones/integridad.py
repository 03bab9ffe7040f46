"""Integrity checks of the outbox (DESIGN.md invariant 6): every notification is eventually sent
or visibly failed, and no background job fails unseen. Registered in ``nucleo.integridad`` by
``NotificacionesConfig.ready``.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from notificaciones.canales import canales_con_entrega
from notificaciones.models import Notificacion
from nucleo.integridad import hallazgo_sql, registrar


def plazo_avisos() -> datetime.timedelta:
    """How long a deliverable notification may stay pending: the whole retry schedule
    (attempt n waits base**n seconds) plus an hour for queues and workers restarting."""
    base, intentos = settings.NOTIFICACIONES_ESPERA_BASE_S, settings.NOTIFICACIONES_MAX_INTENTOS
    return datetime.timedelta(seconds=sum(base**n for n in range(1, intentos + 1)) + 3600)


def _canales():
    """(channels a worker delivers, channels without a provider yet), read at call time:
    settings decide."""
    todos = {valor for valor, _ in Notificacion._meta.get_field("canal").choices}
    con_entrega = set(canales_con_entrega())
    return sorted(con_entrega), sorted(todos - con_entrega)


@registrar("notificaciones")
def avisos_estancados(*, limite):
    """Deliverable notifications still pending after their retries or their retry window."""
    con_entrega, _ = _canales()
    yield hallazgo_sql(
        "aviso_estancado", 6,
        "Avisos pendientes después de agotar sus reintentos o más antiguos que el plazo de reintentos",
        "Revise el proceso de tareas (procrastinate worker) y el proveedor; los avisos se reenvían solos.",
        """SELECT id AS notificacion_id, canal, intentos, creado, count(*) OVER () AS total
             FROM notificaciones_notificacion
            WHERE estado = 'pendiente' AND canal = ANY(%(canales)s)
              AND (intentos >= %(max_intentos)s OR creado < %(limite_fecha)s)
            ORDER BY id""",
        limite=limite,
        parametros={"canales": con_entrega, "max_intentos": settings.NOTIFICACIONES_MAX_INTENTOS,
                    "limite_fecha": timezone.now() - plazo_avisos()},
    )


@registrar("notificaciones")
def trabajos_fallidos(*, limite):
    """Failed background jobs that no notification marked ``fallida`` shows to the staff."""
    yield hallazgo_sql(
        "trabajo_fallido", 6,
        "Trabajos en segundo plano fallidos sin un aviso marcado como fallido que lo muestre",
        "Revise el error del trabajo en el registro del worker y vuelva a encolarlo.",
        """SELECT j.id AS trabajo_id, j.task_name AS tarea, count(*) OVER () AS total
             FROM procrastinate_jobs j
             LEFT JOIN notificaciones_notificacion n
                    ON j.task_name = 'notificaciones.enviar' AND n.id = CASE
                       WHEN j.args ->> 'notificacion_id' ~ '^[0-9]{1,18}$' THEN (j.args ->> 'notificacion_id')::bigint END
            WHERE j.status = 'failed'
              AND (j.task_name <> 'notificaciones.enviar' OR n.id IS NULL OR n.estado = 'pendiente')
            ORDER BY j.id""",
        limite=limite,
    )


@registrar("notificaciones")
def avisos_a_la_vista(*, limite):
    """Shown for context, never a problem: visibly failed notifications (invariant 6 working as
    designed) and those waiting for a channel's provider to be connected."""
    _, sin_proveedor = _canales()
    yield hallazgo_sql(
        "aviso_fallido", 6, "Avisos fallidos tras sus reintentos (visibles al personal)", "",
        """SELECT id AS notificacion_id, canal, count(*) OVER () AS total FROM notificaciones_notificacion
            WHERE estado = 'fallida' ORDER BY id""",
        limite=limite,
        informativo=True,
    )
    yield hallazgo_sql(
        "aviso_sin_proveedor", 6, "Avisos pendientes de canales aún sin proveedor conectado", "",
        """SELECT id AS notificacion_id, canal, count(*) OVER () AS total FROM notificaciones_notificacion
            WHERE estado = 'pendiente' AND canal = ANY(%(canales)s) ORDER BY id""",
        limite=limite,
        parametros={"canales": sin_proveedor},
        informativo=True,
    )
