"""Recording notifications with the change that causes them (invariant 6).

``notificar`` runs inside the caller's transaction: the ``Notificacion`` rows and the
delivery jobs commit or roll back with the booking, account or cancellation that asked
for them. Delivery happens after commit, in ``notificaciones.tasks``.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from notificaciones import eventos, ganchos
from notificaciones.canales import canales_con_entrega
from notificaciones.models import Canal, EstadoNotificacion, Notificacion
from notificaciones.preferencias import canales_del_numero
from notificaciones.tasks import enviar_notificacion
from notificaciones.trabajos import tiene_trabajo_vivo
from nucleo.registro import registrar_evento
from nucleo.servicios import es_id_valido, exigir_transaccion, operacion

logger = logging.getLogger(__name__)

def canales_de_envio(*, email, telefono, perfil):
    """The (channel, destination) pairs of one message. E-mail whenever there is an address (it
    is the written record), plus the patient's preferred phone channel when they opted in to it
    and their number can receive it (``canales_del_numero``: no SMS or WhatsApp to a landline)
    and it is their confirmed number (``Preferencias.telefono_verificado``: recorded at the desk
    or confirmed with a code; issue 14). Reminders too."""
    canales = []
    if email:
        canales.append((Canal.EMAIL, email))
    telefono = str(telefono or "")
    if telefono and perfil is not None and perfil.canal_preferido != Canal.EMAIL and perfil.confirmado(telefono):
        if perfil.acepta(perfil.canal_preferido) and perfil.canal_preferido in canales_del_numero(telefono):
            canales.append((perfil.canal_preferido, telefono))
    return canales


def notificar(*, evento, referencia, email="", telefono="", perfil=None, cliente=None, cita=None, contexto=None,
              adjunto_calendario=None, sms_sin_confirmar="", con_cupo=True):
    """Record one notification per channel for ``evento`` and defer the delivery jobs.

    ``con_cupo=False``: outside the per-destination budget (``registrar_avisos``): a notice the
    clinic's staff caused (a cancellation by the clinic, an assignment, a move): the budget is
    against floods a patient account or a stranger can trigger, and must never silence the
    clinic telling a patient that their appointments changed.

    ``adjunto_calendario``: an iCalendar text (with its METHOD) that the e-mail carries as a
    ``text/calendar`` attachment (stored with the e-mail's row; the other channels ignore it).
    The layer that asks for the message renders it: this one knows no appointments.

    ``sms_sin_confirmar``: the one exception to ``canales_de_envio`` (issue 14): the code that
    confirms a number goes by SMS to that number, and only there, before it is confirmed.

    ``referencia`` makes the idempotency key (``evento:referencia:canal``): the same event for
    the same thing is recorded once, however often the caller retries.
    Must run inside the caller's service transaction. Returns the created rows.
    """
    exigir_transaccion()
    if evento not in eventos.declarados():
        raise ValueError(f"evento desconocido: {evento}")
    contexto = {"clinica": settings.CLINICA_NOMBRE, "url_portal": settings.CLINICA_URL_PORTAL, **(contexto or {})}
    filas = []
    destinos = ([(Canal.SMS, str(sms_sin_confirmar))] if sms_sin_confirmar
                else canales_de_envio(email=email, telefono=telefono, perfil=perfil))
    for canal, destinatario in destinos:
        # WhatsApp and SMS share one short text, neutral about health details.
        formato = "email" if canal == Canal.EMAIL else "corto"
        asunto = ""
        variables = []
        if canal == Canal.EMAIL:
            asunto = " ".join(render_to_string(f"notificaciones/{evento}/asunto.txt", contexto).split())
        else:
            variables = _variables(evento, contexto)
        filas.append(
            Notificacion(
                cliente_id=getattr(cliente, "pk", None),
                cita_id=getattr(cita, "pk", None),
                canal=canal,
                plantilla=evento,
                destinatario=destinatario,
                asunto=asunto[:200],
                cuerpo=render_to_string(f"notificaciones/{evento}/{formato}.txt", contexto).strip(),
                variables=variables,
                adjunto_calendario=(adjunto_calendario or None) if canal == Canal.EMAIL else None,
                clave_idempotencia=f"{evento}:{referencia}:{canal}",
            )
        )
    return registrar_avisos(filas, con_cupo=con_cupo)


def _variables(evento, contexto):
    """The WhatsApp template's positional values: one per line of ``<evento>/variables.txt``
    (a file beside ``corto.txt``, as neutral as it). None without that file."""
    try:
        texto = render_to_string(f"notificaciones/{evento}/variables.txt", contexto)
    except TemplateDoesNotExist:
        return []
    # WhatsApp refuses template parameters with new lines, tabs or 4+ spaces.
    # Empty lines in the middle are kept: a missing value must not shift the positions.
    return [" ".join(linea.split()) for linea in texto.strip().splitlines()]


def registrar_avisos(filas, *, con_cupo=True):
    """Insert ``filas`` (unsaved ``Notificacion``) and defer the delivery job of each one whose
    channel has a provider, in the caller's transaction: procrastinate's Django connector
    writes its jobs through Django's connection, so they commit or roll back with the rows
    (never ``on_commit``: no window to lose a message). No queueing lock, so no conflict can
    abort the transaction. Returns the rows, saved. Two statements, plus one for the send
    budget (``_aplicar_cupo``) when a row counts in it.

    ``con_cupo=False``: outside the budget (a staff member's deliberate resend)."""
    if not filas:
        return []
    if con_cupo:
        _aplicar_cupo(filas)
    Notificacion.objects.bulk_create(filas)
    # Channels without a provider keep their rows pending, with no job; suppressed rows too.
    con_entrega = canales_con_entrega()
    trabajos = [{"notificacion_id": fila.pk} for fila in filas
                if fila.canal in con_entrega and fila.estado != EstadoNotificacion.SUPRIMIDA]
    if trabajos:
        enviar_notificacion.batch_defer(*trabajos)
    return filas


_CUPO_SQL = """
INSERT INTO notificaciones_cupoenvio AS cupo (destinatario, hora, enviados)
SELECT d, date_trunc('hour', %s::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', n
  FROM unnest(%s::text[], %s::int[]) AS x(d, n)
 ORDER BY d
    ON CONFLICT (destinatario, hora) DO UPDATE SET enviados = cupo.enviados + EXCLUDED.enviados
RETURNING destinatario, enviados
"""


def _aplicar_cupo(filas):
    """The per-destination send budget (issue 14): count the rows that are in it (every event
    but ``eventos.fuera_de_cupo()``) on their destination's counter for this clock hour, and
    mark the ones past ``NOTIFICACIONES_MAXIMO_POR_HORA`` as ``suprimida``, with the reason.

    One statement, race-safe: the upsert locks each destination's counter row until the caller
    commits, so a concurrent transaction for the same destination waits and then adds to the
    committed count (READ COMMITTED re-reads the row for ON CONFLICT DO UPDATE); destinations
    are taken in sorted order, so two transactions never wait for each other in a cycle."""
    exentos = eventos.fuera_de_cupo()
    contadas = [fila for fila in filas if fila.plantilla not in exentos and fila.destinatario.strip()]
    if not contadas:
        return
    por_destino = {}
    for fila in contadas:
        por_destino.setdefault(_clave_de_destino(fila.destinatario), []).append(fila)
    destinos = sorted(por_destino)
    with connection.cursor() as cursor:
        cursor.execute(_CUPO_SQL, [timezone.now(), destinos, [len(por_destino[d]) for d in destinos]])
        totales = dict(cursor.fetchall())
    maximo = settings.NOTIFICACIONES_MAXIMO_POR_HORA
    for destino, propias in por_destino.items():
        antes = totales[destino] - len(propias)
        for numero, fila in enumerate(propias, start=antes + 1):
            if numero > maximo:
                fila.estado = EstadoNotificacion.SUPRIMIDA
                fila.ultimo_error = (
                    f"No se envió: este destino ya recibió el máximo de {maximo} por hora (límite contra envíos "
                    "masivos). Si el paciente lo necesita, puede reenviarlo."
                )
    suprimidas = sum(fila.estado == EstadoNotificacion.SUPRIMIDA for fila in contadas)
    if suprimidas:
        registrar_evento(logger, "avisos_suprimidos_por_cupo", suprimidas=suprimidas,
                         eventos=sorted({fila.plantilla for fila in contadas}))


def _clave_de_destino(destinatario: str) -> str:
    """One counter per address or number, whatever its spelling case."""
    return destinatario.strip().lower()


# What the providers tell us back (webhooks) ------------------------------------------------

ESTADOS_PROVEEDOR_FALLIDOS = {"failed", "undelivered"}


def registrar_estado_proveedor(*, proveedor, proveedor_id, estado, error="") -> int:
    """A provider's delivery receipt. A message the provider could not deliver after
    accepting it (``failed``/``undelivered``) becomes visibly ``fallida`` with the reason;
    other states change nothing (the row is already ``enviada``). Returns rows changed."""
    if estado not in ESTADOS_PROVEEDOR_FALLIDOS or not proveedor_id:
        return 0
    with operacion("registrar_estado_proveedor"):
        cambiadas = Notificacion.objects.filter(
            proveedor_id=proveedor_id, estado=EstadoNotificacion.ENVIADA
        ).update(
            estado=EstadoNotificacion.FALLIDA,
            ultimo_error=f"{proveedor}: {estado} {error}".strip()[:2000],
            actualizado=timezone.now(),
        )
    registrar_evento(logger, "entrega_rechazada_por_proveedor", proveedor=proveedor, estado=estado,
                     notificaciones=cambiadas)
    return cambiadas


# Staff: resend a notification (issue 5) ------------------------------------------------------

_SUFIJO_REENVIO = ":reenvio:"


def _clave_de_reenvio(clave: str, ahora) -> str:
    """``<original key>:reenvio:<iso timestamp>``; a copy of a copy keeps the first key as its
    base, so keys never grow past the column."""
    base = clave.split(_SUFIJO_REENVIO, 1)[0]
    sufijo = f"{_SUFIJO_REENVIO}{ahora.isoformat()}"
    return base[: 200 - len(sufijo)] + sufijo


def reenviar_notificacion(*, actor, notificacion_id) -> Notificacion:
    """Send a notification again, on a staff member's request, in one audited transaction.

    - ``fallida``, or ``pendiente`` with no live delivery job: back to ``pendiente`` with
      ``intentos = 0`` and no error, and a fresh job deferred in the same transaction. Its
      idempotency key stays: it was never delivered, so at-most-once per key still holds.
    - ``enviada`` (the patient says it never arrived): a NEW row with the same content,
      channel, destination, appointment and patient, keyed ``<key>:reenvio:<timestamp>``,
      and its job. The original stays as it was.

    Returns the row that will be sent. Raises ValidationError ``no_autorizado`` (only
    administración, recepción or a superuser), ``notificacion_no_encontrada``,
    ``sin_destinatario``, ``canal_sin_proveedor``, ``ya_en_cola``, or
    ``notificacion_duplicada`` (two copies in the same microsecond).
    """
    if not ganchos.puede_reenviar(actor):
        raise ValidationError("Solo administración o recepción pueden reenviar avisos.", code="no_autorizado")
    valido = es_id_valido(notificacion_id)
    with operacion("reenviar_notificacion", actor=actor):
        # Waits for a worker that is sending it right now, then sees what it left.
        original = Notificacion.objects.select_for_update().filter(pk=notificacion_id).first() if valido else None
        if original is None:
            raise ValidationError(
                "Ese aviso no existe (quizás se eliminó junto con el paciente). Recargue la página.",
                code="notificacion_no_encontrada",
            )
        if not original.destinatario.strip():
            raise ValidationError(
                "Este aviso no tiene destinatario (el paciente fue eliminado o no dejó su contacto): no se "
                "puede reenviar. Registre el correo o teléfono en la ficha y vuelva a avisarle.",
                code="sin_destinatario",
            )
        if original.canal not in canales_con_entrega():
            raise ValidationError(
                f"El canal {original.get_canal_display()} no tiene proveedor configurado: el aviso queda "
                "registrado y saldrá cuando la clínica configure el proveedor (vea docs/notificaciones.md).",
                code="canal_sin_proveedor",
            )
        ahora = timezone.now()
        if original.estado == EstadoNotificacion.ENVIADA:
            copia = Notificacion(
                cliente_id=original.cliente_id, cita_id=original.cita_id, canal=original.canal,
                plantilla=original.plantilla, destinatario=original.destinatario, asunto=original.asunto,
                cuerpo=original.cuerpo, variables=original.variables, adjunto_calendario=original.adjunto_calendario,
                clave_idempotencia=_clave_de_reenvio(original.clave_idempotencia, ahora),
            )
            [resultado] = registrar_avisos([copia], con_cupo=False)
            modo = "copia"
        else:
            if original.estado == EstadoNotificacion.PENDIENTE and tiene_trabajo_vivo(original.pk):
                raise ValidationError(
                    "Este aviso ya está en la cola de envío y el sistema lo reintentará solo. Revise su "
                    "estado en unos minutos; si queda «fallida», podrá reenviarlo.",
                    code="ya_en_cola",
                )
            original.estado = EstadoNotificacion.PENDIENTE
            original.intentos = 0
            original.ultimo_error = ""
            # A provider's "undelivered" receipt left the old message's id and date: gone with it.
            original.proveedor_id = ""
            original.enviada_en = None
            original.save(update_fields=["estado", "intentos", "ultimo_error", "proveedor_id", "enviada_en",
                                         "actualizado"])
            # Deferred inside the transaction, never on_commit: no window to lose it.
            enviar_notificacion.defer(notificacion_id=original.pk)
            resultado = original
            modo = "reintento"
    registrar_evento(
        logger, "notificacion_reenviada", notificacion_id=original.pk, reenvio_id=resultado.pk,
        canal=resultado.canal, modo=modo, actor_id=getattr(actor, "pk", None),
    )
    return resultado
