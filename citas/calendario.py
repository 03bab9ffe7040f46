"""A booking as an iCalendar file (RFC 5545, with the iTIP methods of RFC 5546), for the
portal's "add to calendar" download and the e-mails that confirm, move or cancel it.

The event's UID is the booking's own identity (``Cita.reserva_uid``) at the clinic's domain, so
it is the same event across reschedules; ``SEQUENCE`` is the booking's version
(``reserva_secuencia``), so a calendar that imported an earlier version replaces it. A live
booking is ``METHOD:REQUEST`` in e-mails (the calendar updates the event it has) or ``PUBLISH``
for a download; a cancelled one is ``METHOD:CANCEL`` with ``STATUS:CANCELLED`` at the version
of the cancellation. Neutral text: the clinic, the dentist and the time, never the reason.
Times in UTC.
"""

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from citas.models import EstadoCita

SOLICITUD = "REQUEST"
PUBLICACION = "PUBLISH"
CANCELACION = "CANCEL"
# The alarm: this long before the appointment (time to leave home).
AVISO_ANTES = datetime.timedelta(hours=2)


def dominio() -> str:
    """The right-hand side of every UID: the portal's host name."""
    return urlsplit(settings.CLINICA_URL_PORTAL).hostname or "clinica.example"


def uid_de(reserva_uid) -> str:
    return f"reserva-{reserva_uid}@{dominio()}"


def _utc(momento: datetime.datetime) -> datetime.datetime:
    return momento.astimezone(datetime.UTC)


def _direccion(correo, nombre):
    direccion = vCalAddress(f"mailto:{correo}")
    if nombre:
        direccion.params["cn"] = vText(nombre)
    return direccion


def ics(*, reserva_uid, secuencia, inicio, fin, dentista, metodo, correo_paciente="", nombre_paciente="",
        ahora=None, uid=None) -> str:
    """The calendar file's text for one booking. ``metodo``: ``REQUEST`` (e-mail of a live
    booking, names the clinic as organizer and the patient as attendee), ``PUBLISH``
    (download) or ``CANCEL``. ``uid`` replaces the UID made from ``reserva_uid`` (old rows)."""
    if metodo not in (SOLICITUD, PUBLICACION, CANCELACION):
        raise ValueError(f"método desconocido: {metodo}")
    ahora = ahora or timezone.now()
    ubicacion = f"{settings.CLINICA_NOMBRE}, {settings.CLINICA_DIRECCION}"
    calendario = Calendar()
    calendario.add("prodid", f"-//{settings.CLINICA_NOMBRE}//Citas//ES")
    calendario.add("version", "2.0")
    calendario.add("method", metodo)
    evento = Event()
    evento.add("uid", uid or uid_de(reserva_uid))
    evento.add("sequence", secuencia)
    evento.add("dtstamp", _utc(ahora))
    evento.add("dtstart", _utc(inicio))
    evento.add("dtend", _utc(fin))
    evento.add("summary", f"Hora dental con {dentista} · {settings.CLINICA_NOMBRE}")
    evento.add("description", (
        f"Su hora con {dentista} en {settings.CLINICA_NOMBRE}, {settings.CLINICA_DIRECCION}. "
        f"Para cambiarla o cancelarla, entre al portal ({settings.CLINICA_URL_PORTAL}) o llame al "
        f"{settings.CLINICA_TELEFONO}."
    ))
    evento.add("location", ubicacion)
    evento.add("status", "CANCELLED" if metodo == CANCELACION else "CONFIRMED")
    if metodo != PUBLICACION:
        # iTIP: a REQUEST or a CANCEL names who sends it and whom it is for.
        evento.add("organizer", _direccion(settings.CLINICA_CORREO, settings.CLINICA_NOMBRE))
        if correo_paciente:
            asistente = _direccion(correo_paciente, nombre_paciente)
            asistente.params["role"] = vText("REQ-PARTICIPANT")
            evento.add("attendee", asistente)
    if metodo != CANCELACION:
        alarma = Alarm()
        alarma.add("action", "DISPLAY")
        alarma.add("description", f"Hora dental con {dentista} en {settings.CLINICA_NOMBRE}")
        alarma.add("trigger", -AVISO_ANTES)
        evento.add_component(alarma)
    calendario.add_component(evento)
    return calendario.to_ical().decode()


def ics_de_cita(cita, *, dentista, metodo=SOLICITUD, ahora=None) -> str:
    """The file of the booking that ``cita`` (a row holding one) carries: ``metodo`` while it
    lives, a CANCEL when the clinic cancelled it (the row keeps it, at that version)."""
    if cita.estado == EstadoCita.CANCELADA:
        metodo = CANCELACION
    # A booking stored before bookings had an identity and never changed since (history kept
    # as it was): the UID the portal gave it then.
    uid = None if cita.reserva_uid else f"cita-{cita.pk}@{dominio()}"
    return ics(uid=uid,
        reserva_uid=cita.reserva_uid, secuencia=cita.reserva_secuencia, inicio=cita.inicio, fin=cita.fin,
        dentista=dentista, metodo=metodo, correo_paciente=cita.paciente_email,
        nombre_paciente=cita.paciente_nombre, ahora=ahora,
    )


def ics_de_cancelacion(cancelacion, *, fin, dentista, correo_paciente="", ahora=None) -> str:
    """The CANCEL of a cancelled booking (``Cancelacion`` with its ``reserva_uid``), at the
    version the cancellation recorded. ``fin``: the slot's end (the history keeps its start)."""
    return ics(
        reserva_uid=cancelacion.reserva_uid, secuencia=cancelacion.reserva_secuencia, inicio=cancelacion.inicio,
        fin=fin, dentista=dentista, metodo=CANCELACION, correo_paciente=correo_paciente,
        nombre_paciente=cancelacion.paciente_nombre, ahora=ahora or cancelacion.creada,
    )
