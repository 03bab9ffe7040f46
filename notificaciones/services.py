"""Recording notifications with the change that causes them (invariant 6).

``notificar`` runs inside the caller's transaction: the ``Notificacion`` rows and the
delivery jobs commit or roll back with the booking, account or cancellation that asked
for them. Delivery happens after commit, in ``notificaciones.tasks``.
"""

from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string

from cuentas.models import Canal
from nucleo.servicios import exigir_transaccion
from notificaciones.models import Notificacion

# Channels with a delivery job today. SMS and WhatsApp rows are recorded by preference and stay
# pending (visibly, never marked sent) until their providers are wired in.
CANALES_CON_ENTREGA = {Canal.EMAIL}

EVENTOS = {
    "invitacion",
    "invitacion_personal",
    "bienvenida",
    "reserva_confirmada",
    "cita_asignada",
    "cita_cancelada_paciente",
    "cita_cancelada_clinica",
    "cita_reprogramada",
    "restablecer_clave",
}


def _canales(*, email, telefono, perfil):
    """E-mail whenever there is an address (it is the written record), plus the patient's
    preferred phone channel when they opted in to it."""
    canales = []
    if email:
        canales.append((Canal.EMAIL, email))
    if telefono and perfil is not None and perfil.canal_preferido != Canal.EMAIL:
        if perfil.acepta(perfil.canal_preferido):
            canales.append((perfil.canal_preferido, telefono))
    return canales


def notificar(*, evento, referencia, email="", telefono="", perfil=None, cliente=None, cita=None, contexto=None):
    """Record one notification per channel for ``evento`` and defer the delivery jobs.

    ``referencia`` makes the idempotency key (``evento:referencia:canal``): the same event for
    the same thing is recorded once, however often the caller retries.
    Must run inside the caller's service transaction. Returns the created rows.
    """
    exigir_transaccion()
    if evento not in EVENTOS:
        raise ValueError(f"evento desconocido: {evento}")
    contexto = {"clinica": settings.CLINICA_NOMBRE, "url_portal": settings.CLINICA_URL_PORTAL, **(contexto or {})}
    filas = []
    for canal, destinatario in _canales(email=email, telefono=telefono, perfil=perfil):
        # WhatsApp and SMS share one short text, neutral about health details.
        formato = "email" if canal == Canal.EMAIL else "corto"
        asunto = ""
        if canal == Canal.EMAIL:
            asunto = " ".join(render_to_string(f"notificaciones/{evento}/asunto.txt", contexto).split())
        filas.append(
            Notificacion(
                cliente_id=getattr(cliente, "pk", None),
                cita_id=getattr(cita, "pk", None),
                canal=canal,
                plantilla=evento,
                destinatario=destinatario,
                asunto=asunto[:200],
                cuerpo=render_to_string(f"notificaciones/{evento}/{formato}.txt", contexto).strip(),
                clave_idempotencia=f"{evento}:{referencia}:{canal}",
            )
        )
    return _insertar_y_programar(filas)


# One statement inserts the rows and defers their delivery jobs through procrastinate's own SQL
# function (the one its Python `defer()` calls; versioned `_v1` for exactly this kind of use).
# Written by hand because every booking pays for it: the ORM insert plus `defer()` cost about
# 1.5 ms of Python per booking, this about 0.1 ms (bin/bench-reservas, docs/rendimiento.md).
_INSERTAR_Y_PROGRAMAR_SQL = """
WITH nuevas AS (
    INSERT INTO notificaciones_notificacion
           (creado, actualizado, cliente_id, cita_id, canal, plantilla, destinatario, asunto, cuerpo,
            estado, intentos, ultimo_error, proveedor_id, clave_idempotencia)
    SELECT now(), now(), f.cliente_id, f.cita_id, f.canal, f.plantilla, f.destinatario, f.asunto, f.cuerpo,
           'pendiente', 0, '', '', f.clave
      FROM unnest(%(clientes)s::bigint[], %(citas)s::bigint[], %(canales)s::text[], %(plantillas)s::text[],
                  %(destinatarios)s::text[], %(asuntos)s::text[], %(cuerpos)s::text[], %(claves)s::text[])
           WITH ORDINALITY AS f(cliente_id, cita_id, canal, plantilla, destinatario, asunto, cuerpo, clave, orden)
     ORDER BY f.orden
 RETURNING id, canal, creado
), trabajos AS (
    SELECT procrastinate_defer_jobs_v1(ARRAY(
               SELECT ROW(%(cola)s, %(tarea)s, 0, NULL, NULL, jsonb_build_object('notificacion_id', id), NULL)
                      ::procrastinate_job_to_defer_v1
                 FROM nuevas WHERE canal = ANY(%(con_entrega)s::text[]) ORDER BY id)) AS ids
)
SELECT nuevas.id, nuevas.creado FROM nuevas, trabajos ORDER BY nuevas.id
"""


def _insertar_y_programar(filas):
    if not filas:
        return []
    from notificaciones.tasks import enviar_notificacion

    with connection.cursor() as cursor:
        cursor.execute(
            _INSERTAR_Y_PROGRAMAR_SQL,
            {
                "clientes": [n.cliente_id for n in filas],
                "citas": [n.cita_id for n in filas],
                "canales": [n.canal for n in filas],
                "plantillas": [n.plantilla for n in filas],
                "destinatarios": [n.destinatario for n in filas],
                "asuntos": [n.asunto for n in filas],
                "cuerpos": [n.cuerpo for n in filas],
                "claves": [n.clave_idempotencia for n in filas],
                "cola": enviar_notificacion.queue,
                "tarea": enviar_notificacion.name,
                "con_entrega": sorted(CANALES_CON_ENTREGA),
            },
        )
        for fila, (pk, creado) in zip(filas, cursor.fetchall(), strict=True):
            fila.pk, fila.creado, fila.actualizado = pk, creado, creado
            fila._state.adding = False
    return filas


def contexto_cita(*, inicio, dentista, nombre):
    """What every appointment message says: who, when (in Santiago's time) and with whom."""
    from django.utils import formats, timezone

    local = timezone.localtime(inicio)
    return {
        "nombre": nombre,
        "fecha": formats.date_format(local, "l j \\d\\e F"),
        "hora": formats.time_format(local, "H:i"),
        "dentista": dentista,
    }
