"""The portal's booking policy, in one place: the services enforce it and the selectors show
it (which buttons a patient sees, and why one is missing), so the two never disagree.

Settings: ``CLINICA_ANTICIPACION_MINIMA_MIN`` (a slot is bookable only this far ahead),
``CLINICA_SEMANAS_RESERVA`` (how far ahead the portal offers slots), ``CLINICA_PLAZO_CAMBIOS_H``
(a patient may cancel or move a booking until this many hours before it) and
``CLINICA_MAX_REPROGRAMACIONES`` (how many times a patient may move one booking) and
``CLINICA_MAX_RESERVAS_PORTAL`` (how many live future bookings a patient may hold through it).
Staff are not bound by any of these.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class PoliticaPortal:
    """Plain data for templates: what the patient is told before acting."""

    anticipacion_minima_min: int
    semanas_reserva: int
    plazo_cambios_h: int
    max_reprogramaciones: int
    telefono: str
    max_reservas: int = 2

    @property
    def anticipacion_texto(self) -> str:
        """"2 horas", "1 hora", "90 minutos": the minimum notice as people say it."""
        minutos = self.anticipacion_minima_min
        if minutos and minutos % 60 == 0:
            horas = minutos // 60
            return f"{horas} hora" if horas == 1 else f"{horas} horas"
        return f"{minutos} minutos"


def politica_del_portal() -> PoliticaPortal:
    return PoliticaPortal(
        anticipacion_minima_min=settings.CLINICA_ANTICIPACION_MINIMA_MIN,
        semanas_reserva=settings.CLINICA_SEMANAS_RESERVA,
        plazo_cambios_h=settings.CLINICA_PLAZO_CAMBIOS_H,
        max_reprogramaciones=settings.CLINICA_MAX_REPROGRAMACIONES,
        telefono=settings.CLINICA_TELEFONO,
        max_reservas=settings.CLINICA_MAX_RESERVAS_PORTAL,
    )


def inicio_minimo_para_reservar(ahora: datetime.datetime) -> datetime.datetime:
    """The earliest start a patient may book (or move to): a slot starting exactly then is fine."""
    return ahora + datetime.timedelta(minutes=settings.CLINICA_ANTICIPACION_MINIMA_MIN)


def fin_de_la_ventana(ahora: datetime.datetime) -> datetime.datetime:
    """Slots starting at or after this are not offered on the portal yet."""
    return ahora + datetime.timedelta(weeks=settings.CLINICA_SEMANAS_RESERVA)


def se_puede_reservar(inicio: datetime.datetime, ahora: datetime.datetime) -> bool:
    """The time rule of a patient's booking (the state rule is the slot being free)."""
    return inicio > ahora and inicio >= inicio_minimo_para_reservar(ahora)


def limite_para_cambios(inicio: datetime.datetime) -> datetime.datetime:
    """The last instant a patient may cancel or move an appointment starting at ``inicio``.
    Computed in UTC (aware arithmetic), so 24 hours are 24 real hours across a DST change."""
    return inicio.astimezone(datetime.UTC) - datetime.timedelta(hours=settings.CLINICA_PLAZO_CAMBIOS_H)


def error_fuera_de_plazo() -> ValidationError:
    politica = politica_del_portal()
    return ValidationError(
        f"Faltan menos de {politica.plazo_cambios_h} horas para su cita: para cambiarla o cancelarla, "
        f"llame a la clínica al {politica.telefono}.",
        code="fuera_de_plazo",
    )


def error_max_reprogramaciones() -> ValidationError:
    politica = politica_del_portal()
    return ValidationError(
        f"Esta cita ya se cambió de hora {politica.max_reprogramaciones} veces, el máximo por el portal: "
        f"para otro cambio, llame a la clínica al {politica.telefono}.",
        code="max_reprogramaciones",
    )


def error_max_reservas() -> ValidationError:
    politica = politica_del_portal()
    return ValidationError(
        f"Por el portal puede tener hasta {politica.max_reservas} "
        f"{'hora reservada' if politica.max_reservas == 1 else 'horas reservadas'} a la vez, y ya las tiene: "
        f"para reservar otra, llame a la clínica al {politica.telefono}.",
        code="max_reservas",
    )


def error_de_politica(*, accion: str, inicio, reprogramaciones: int, ahora) -> ValidationError | None:
    """Why the portal's policy forbids a patient's ``accion`` ("cancelar", "reprogramar";
    other actions have no policy) now, or None. The state rules live in ``TRANSICIONES``."""
    if accion not in ("cancelar", "reprogramar"):
        return None
    if ahora > limite_para_cambios(inicio):
        return error_fuera_de_plazo()
    if accion == "reprogramar" and reprogramaciones >= settings.CLINICA_MAX_REPROGRAMACIONES:
        return error_max_reprogramaciones()
    return None
