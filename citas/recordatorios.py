"""Appointment reminders (issue 5): one ``recordatorio`` notification per appointment, kind
and channel, with one-tap links to confirm or cancel (``citas.enlaces``).

Kinds are hours before the start, ``NOTIFICACIONES_RECORDATORIOS_H`` (default ``(24,)``; e.g.
``(72, 24)``). A run at ``ahora`` gives each live appointment (``reservada``/``confirmada``, of
an active patient or a person without a record, with an e-mail or phone) the reminder of the
*nearest* kind that is due: kind H covers starts in ``(ahora + previous kind, ahora + H]``, so a
run after downtime never sends a 72 h and a 24 h reminder at once, and whatever was missed
while no run happened is still sent while the appointment has not started. Windows are UTC
arithmetic: 24 h are 24 real hours across a DST change.

A kind is skipped for an appointment booked after its window had opened (``Cita.reservada_en >
inicio - H``: booked at 15:00 for tomorrow 10:00, or moved into the window): the booking's own
confirmation went out minutes before, and a "reminder" right after it is noise. Bookings
older than the field (``reservada_en`` NULL) get their reminders as before.

Idempotent: the key names appointment, kind and start (``recordatorio:<cita>:<H>h:<inicio>``),
so a second run creates nothing and a moved appointment gets a fresh reminder. Work goes in
batches of ``LOTE`` appointments, each its own transaction: the rows are made as ``notificar``
makes them (same channel choice, texts and keys; a test holds the two equal) and go in with
their delivery jobs in one statement per batch, ``notificar``'s own insert. With one
``notificar`` call per appointment, 100,000 appointments took about 230 s; this way about 40 s
(``bin/bench-recordatorios``).

The periodic task lives here; the worker finds it because ``citas.tasks`` imports this module.
"""

import collections
import datetime
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone
from procrastinate.contrib.django import app

from citas import enlaces
from citas.mensajes import contexto_cita, url_de_la_cita
from citas.models import EstadoCita
from notificaciones import services as avisos
from notificaciones.models import Canal, Notificacion
from notificaciones.preferencias import Preferencias
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from personal.models import nombre_de_personal

logger = logging.getLogger(__name__)

LOTE = 500
# Any constant: runs that overlap (a manual one beside the periodic one) take turns per batch,
# so the second sees what the first committed and never hits the unique key.
_CERROJO = 0x5EC0_2D47

# The reminder's key: ``recordatorio:<referencia>:<canal>``, where the reference names the
# appointment, the kind and the start (a moved appointment gets a fresh reminder). Written twice
# on purpose, side by side: in Python for the rows, in SQL for the candidates' "not yet sent"
# test (a per-row call back into Python is not possible there);
# ``test_referencia_igual_en_python_y_en_sql`` holds the two equal.
def referencia(cita_id, horas, inicio) -> str:
    inicio_utc = inicio.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{cita_id}:{horas}h:{inicio_utc}"


REFERENCIA_SQL = """(c.id || ':' || %(horas)s || 'h:'
                      || to_char(c.inicio AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))"""

# Live appointments of one slice of a window, without this kind's reminder yet. The patient's
# current contact, channel and live consents come from their record (the one source of
# truth: ``pacientes_cliente`` and ``pacientes_consentimientocanal``); a booking without a
# record uses its snapshot. FOR SHARE: a cancellation committing meanwhile waits for this batch
# (or is skipped until the next run), never a reminder for a freed slot.
_CANDIDATAS_SQL = """
SELECT c.id, c.inicio, c.estado, c.cliente_id, c.paciente_nombre,
       CASE WHEN c.cliente_id IS NULL THEN c.paciente_email ELSE cl.email END AS email,
       CASE WHEN c.cliente_id IS NULL THEN c.paciente_telefono ELSE coalesce(cl.telefono, '') END AS telefono,
       cl.canal_preferido, kw.otorgado_en, ks.otorgado_en,
       CASE WHEN cl.telefono_verificado_en IS NOT NULL THEN cl.telefono ELSE '' END AS telefono_verificado,
       u.first_name, u.last_name, u.username, c.reserva_uid
  FROM citas_cita c
  JOIN personal_perfil d ON d.id = c.dentista_id
  JOIN auth_user u ON u.id = d.user_id
  LEFT JOIN pacientes_cliente cl ON cl.id = c.cliente_id
  LEFT JOIN pacientes_consentimientocanal kw
         ON kw.cliente_id = cl.id AND kw.canal = 'whatsapp' AND kw.revocado_en IS NULL
  LEFT JOIN pacientes_consentimientocanal ks
         ON ks.cliente_id = cl.id AND ks.canal = 'sms' AND ks.revocado_en IS NULL
 WHERE c.estado IN (%(reservada)s, %(confirmada)s)
   AND c.inicio > %(desde)s AND c.inicio <= %(hasta)s
   AND (c.cliente_id IS NULL OR cl.activo)
   AND (c.reservada_en IS NULL OR c.reservada_en <= c.inicio - make_interval(hours => %(horas)s))
   AND (CASE WHEN c.cliente_id IS NULL THEN c.paciente_email <> '' OR c.paciente_telefono <> ''
             ELSE cl.email <> '' OR coalesce(cl.telefono, '') <> '' END)
   AND NOT EXISTS (
       SELECT 1 FROM notificaciones_notificacion n
        WHERE n.cita_id = c.id AND n.plantilla = 'recordatorio'
          AND starts_with(n.clave_idempotencia, 'recordatorio:' || {referencia} || ':'))
   -- Not on a day the clinic or the dentist will not attend (citas.cierres): reception calls
   -- those patients; reopening the closure lets a later run remind them.
   AND NOT EXISTS (
       SELECT 1 FROM citas_cierre ci
        WHERE (ci.dentista_id IS NULL OR ci.dentista_id = c.dentista_id)
          AND (c.inicio AT TIME ZONE {zona})::date BETWEEN ci.desde AND ci.hasta)
 ORDER BY c.inicio, c.id
 FOR SHARE OF c SKIP LOCKED
""".replace("{referencia}", REFERENCIA_SQL).replace("{zona}", f"'{settings.TIME_ZONE}'")

# Where a window is cut into slices of about LOTE live appointments (every LOTE-th start).
# Slices by time, not "ORDER BY … LIMIT" with a cursor: that sorted the whole rest of the
# window for every batch (0.5 s a batch at 100,000 appointments); a time range is an index scan.
_CORTES_SQL = """
SELECT DISTINCT inicio FROM (
    SELECT inicio, row_number() OVER (ORDER BY inicio) AS n
      FROM citas_cita
     WHERE estado IN (%(reservada)s, %(confirmada)s) AND inicio > %(desde)s AND inicio < %(hasta)s
) t
 WHERE n %% %(lote)s = 0
 ORDER BY inicio
"""


def tipos_de_recordatorio() -> list[int]:
    """The kinds (hours before the start), nearest first: ``[24, 72]``. Accepts a tuple of
    numbers or the environment's text ``"72,24"``."""
    bruto = getattr(settings, "NOTIFICACIONES_RECORDATORIOS_H", (24,))
    if isinstance(bruto, str):
        bruto = [parte for parte in bruto.replace(";", ",").split(",") if parte.strip()]
    try:
        horas = sorted({int(h) for h in bruto})
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured("NOTIFICACIONES_RECORDATORIOS_H: horas enteras, p. ej. 72,24") from exc
    if any(h <= 0 for h in horas):
        raise ImproperlyConfigured("NOTIFICACIONES_RECORDATORIOS_H: horas mayores que 0")
    return horas




def _primer_nombre(nombre) -> str:
    partes = (nombre or "").split()
    return partes[0] if partes else ""


_Reserva = collections.namedtuple("_Reserva", "pk cliente_id inicio reserva_uid")

# What differs per appointment; everything else in the context is the same for the whole run.
_CAMPOS = ("nombre", "fecha", "hora", "dentista", "url_cita", "enlace_confirmar", "enlace_cancelar")
_FORMATOS = ("asunto", "email", "corto", "variables")


class Textos:
    """The reminder's texts, rendered once per variant of the templates' ``{% if %}``s (first
    name or not, confirmed or not, links or not) with a marker in place of each per-appointment
    value, then filled in per appointment by plain replacement: rendering four templates per
    appointment was most of the run's time at 100,000 appointments (bin/bench-recordatorios).

    Correct because the templates print those values verbatim (``autoescape off``, no filters
    on them); ``test_textos_iguales_a_los_de_notificar`` holds the result to ``notificar``'s.
    """

    def __init__(self, comun):
        self.comun = comun
        self._variantes = {}

    @staticmethod
    def _marca(campo):
        return f"\x00{campo}\x00"

    def _variante(self, clave):
        con_nombre, confirmada, con_enlaces = clave
        contexto = {**self.comun, "confirmada": confirmada}
        for campo in _CAMPOS:
            contexto[campo] = self._marca(campo)
        if not con_nombre:
            contexto["nombre"] = ""
        if not con_enlaces:
            contexto["enlace_confirmar"] = contexto["enlace_cancelar"] = ""
        return {f: render_to_string(f"notificaciones/recordatorio/{f}.txt", contexto) for f in _FORMATOS}

    def de(self, contexto) -> dict:
        """{formato: text} for one appointment's ``contexto``."""
        clave = (bool(contexto["nombre"]), contexto["confirmada"], bool(contexto["enlace_cancelar"]))
        plantillas = self._variantes.get(clave)
        if plantillas is None:
            plantillas = self._variantes[clave] = self._variante(clave)
        textos = {}
        for formato, texto in plantillas.items():
            for campo in _CAMPOS:
                texto = texto.replace(self._marca(campo), str(contexto[campo]))
            textos[formato] = texto
        return textos


def _avisos(fila, *, horas, textos, fechas):
    """The reminder's rows for one candidate row, one per channel (as ``notificar`` makes them)."""
    (cita_id, inicio, estado, cliente_id, paciente_nombre, email, telefono,
     canal_preferido, whatsapp_en, sms_en, telefono_verificado, d_nombre, d_apellido, d_usuario, reserva_uid) = fila
    # Many appointments share a day and a time: format each once.
    local = timezone.localtime(inicio)
    if local not in fechas:
        fechas[local] = contexto_cita(inicio=inicio, dentista="", nombre="")
    contexto = {
        **fechas[local],
        "nombre": _primer_nombre(paciente_nombre),
        "dentista": nombre_de_personal(d_nombre, d_apellido, d_usuario),
        "confirmada": estado == EstadoCita.CONFIRMADA,
        "enlace_confirmar": "",
        "enlace_cancelar": "",
    }
    # What a link binds to: the booking's identity (the reminder SQL reads it).
    cita = _Reserva(pk=cita_id, cliente_id=cliente_id, inicio=inicio, reserva_uid=reserva_uid)
    contexto["url_cita"] = url_de_la_cita(cita)
    if cliente_id is not None and reserva_uid is not None:
        contexto["enlace_confirmar"] = enlaces.enlace_recordatorio(cita, "confirmar")
        contexto["enlace_cancelar"] = enlaces.enlace_recordatorio(cita, "cancelar")
    canales = avisos.canales_de_envio(email=email or "", telefono=str(telefono or ""),
                              perfil=Preferencias.de_valores(canal_preferido, whatsapp_en, sms_en,
                                                             telefono_verificado))
    if not canales:
        return []
    texto = textos.de(contexto)
    ref = referencia(cita_id, horas, inicio)
    filas = []
    for canal, destinatario in canales:
        es_correo = canal == Canal.EMAIL
        filas.append(Notificacion(
            cliente_id=cliente_id, cita_id=cita_id, canal=canal, plantilla="recordatorio",
            destinatario=destinatario,
            asunto=" ".join(texto["asunto"].split())[:200] if es_correo else "",
            cuerpo=(texto["email"] if es_correo else texto["corto"]).strip(),
            # WhatsApp template values: one per line, no new lines or runs of spaces inside.
            variables=[] if es_correo else [" ".join(linea.split()) for linea in texto["variables"].strip().splitlines()],
            clave_idempotencia=f"recordatorio:{ref}:{canal}",
        ))
    return filas


def _tramos(desde, hasta):
    """Consecutive (start, end] ranges covering (desde, hasta], each with about LOTE live
    appointments (more when many share one start: equal starts stay together)."""
    with connection.cursor() as cursor:
        cursor.execute(_CORTES_SQL, {
            "reservada": EstadoCita.RESERVADA, "confirmada": EstadoCita.CONFIRMADA,
            "desde": desde, "hasta": hasta, "lote": LOTE,
        })
        cortes = [fila[0] for fila in cursor.fetchall()]
    limites = [desde, *cortes, hasta]
    return list(zip(limites, limites[1:]))


def _lote(*, desde, hasta, horas, textos, fechas) -> int:
    """One batch, (desde, hasta], in one transaction: the candidates, their rows and their
    delivery jobs in one insert (``notificar``'s own statement). Returns rows created."""
    with operacion("crear_recordatorios"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CERROJO])
            cursor.execute(_CANDIDATAS_SQL, {
                "reservada": EstadoCita.RESERVADA, "confirmada": EstadoCita.CONFIRMADA,
                "desde": desde, "hasta": hasta, "horas": horas,
            })
            filas = cursor.fetchall()
        nuevas = [n for fila in filas for n in _avisos(fila, horas=horas, textos=textos, fechas=fechas)]
        avisos.registrar_avisos(nuevas)
    return len(nuevas)


def crear_recordatorios(*, ahora=None) -> int:
    """Record the reminders due at ``ahora`` (default: now) and defer their delivery.

    Returns how many notifications were created (0 on a repeated run). Each batch is its own
    transaction (``operacion("crear_recordatorios")``); a failing batch rolls back alone and the
    next run picks it up.
    """
    ahora = (ahora or timezone.now()).astimezone(datetime.UTC)
    comun = {
        "clinica": settings.CLINICA_NOMBRE, "url_portal": settings.CLINICA_URL_PORTAL,
        "direccion": settings.CLINICA_DIRECCION, "plazo_cambios_h": settings.CLINICA_PLAZO_CAMBIOS_H, "telefono_clinica": settings.CLINICA_TELEFONO,
    }
    fechas = {}
    total = 0
    anterior = 0
    for horas in tipos_de_recordatorio():
        textos = Textos({**comun, "horas_antes": horas})
        ventana = (ahora + datetime.timedelta(hours=anterior), ahora + datetime.timedelta(hours=horas))
        for desde, hasta in _tramos(*ventana):
            total += _lote(desde=desde, hasta=hasta, horas=horas, textos=textos, fechas=fechas)
        anterior = horas
    registrar_evento(logger, "recordatorios_creados", cantidad=total, ahora=ahora.isoformat())
    return total


@app.periodic(cron="*/10 * * * *", periodic_id="recordatorios")
@app.task(name="notificaciones.crear_recordatorios", queue="mantenimiento", queueing_lock="crear_recordatorios")
def crear_recordatorios_periodicos(timestamp: int) -> None:
    """Every 10 minutes. A job run late (a worker was down) still uses the present: its
    scheduled time would remind about appointments that started in between."""
    programado = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    crear_recordatorios(ahora=max(programado, timezone.now()))
