"""One-tap links of the reminders: confirm or cancel an appointment without logging in.

The link's address comes from the sites' adapter (``nucleo.enlaces``). The token is signed with Django's
``signing`` (its own salt) and names one booking, not a slot: the booking's identity
(``Cita.reserva_uid``). It follows the booking when it is moved to another slot; a booking that
was cancelled answers "already cancelled" (``Cancelacion.reserva_uid``) while its slot stays free,
and ``enlace_invalido`` once the slot holds another booking, even of the same patient (a new
booking has a new identity); a booking whose patient was deleted is gone (``enlace_invalido``).
Links expire when the booking's current start comes (``enlace_vencido``). They act once: the
state machine does the rest (a confirmed booking cannot be confirmed again, a freed slot cannot
be cancelled again) and ``situacion_del_enlace`` tells the patient what already happened.
Tokens of the earlier format (slot id, patient, start) are refused as ``enlace_invalido``: they
could not tell two bookings of one slot and patient apart.

Only bookings of a patient record get links (a walk-in without a record has no stable
identity to bind to).
"""

import base64
import binascii
import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef
from django.db.models.functions import TruncDate
from django.utils import timezone

from citas.estados import impedimento_del_paciente
from citas.models import Cancelacion, Cierre, Cita, EstadoCita
from nucleo.enlaces import enlaces

SAL = "citas.enlaces.recordatorio"
# What a token carries for each action (short: the link goes into SMS and WhatsApp).
_CODIGOS = {"confirmar": "c", "cancelar": "x"}
_ACCIONES = {codigo: accion for accion, codigo in _CODIGOS.items()}
ACCIONES = tuple(_CODIGOS)
# A real token is about 80 characters; anything much longer is junk, refused before parsing.
LARGO_MAXIMO = 300

# Situations of a valid, unexpired link.
PENDIENTE = "pendiente"  # the action can be done: show its button
YA_HECHO = "ya_hecho"  # confirmed or cancelled already: say so, change nothing
NO_PERMITIDO = "no_permitido"  # the policy or the state forbids it now: say why and what to do


def error_enlace_invalido() -> ValidationError:
    return ValidationError(
        "Este enlace no es válido o ya no corresponde a una hora suya (quizás la hora cambió). "
        "Ingrese al portal para ver sus citas o llame a la clínica.",
        code="enlace_invalido",
    )


def error_enlace_vencido() -> ValidationError:
    return ValidationError(
        "Este enlace venció: la hora ya comenzó o pasó. Para cualquier cambio, llame a la clínica.",
        code="enlace_vencido",
    )


def _error_ya_confirmada() -> ValidationError:
    return ValidationError("Su hora ya estaba confirmada. No hace falta hacer nada más.", code="ya_confirmada")


def _error_ya_cancelada(accion) -> ValidationError:
    if accion == "confirmar":
        mensaje = "Esta hora fue cancelada, así que ya no se puede confirmar. Si necesita otra, reserve en el portal."
    else:
        mensaje = "Esta hora ya fue cancelada. No hace falta hacer nada más."
    return ValidationError(mensaje, code="ya_cancelada")


def error_dia_cerrado() -> ValidationError:
    """A booking on a day its dentist or the clinic will not attend: nothing to confirm. The
    closure's own reason stays with the clinic (an absence may be a medical leave)."""
    return ValidationError(
        "La clínica no atenderá ese día, así que no hace falta confirmar esta hora: le contactaremos para "
        f"cambiarla. Si prefiere, llame a la clínica al {settings.CLINICA_TELEFONO}.",
        code="dia_cerrado",
    )


def _cierres_del_dia(inicio, dentista):
    """Closures of the clinic or of ``dentista`` (an id or an ``OuterRef``) on ``inicio``'s
    Santiago day."""
    return Cierre.objects.que_cubren(dentista=dentista, desde=timezone.localdate(inicio))


def en_un_cierre_expr() -> Exists:
    """``en_un_cierre`` as an expression on the outer appointment's row (its dentist and its
    start's Santiago date), for a compare-and-set's WHERE."""
    fecha = TruncDate(ExpressionWrapper(OuterRef("inicio"), output_field=DateTimeField()))
    return Exists(Cierre.objects.que_cubren(dentista=OuterRef("dentista_id"), desde=fecha))


def en_un_cierre(cita_id, inicio) -> bool:
    """Whether the appointment ``cita_id`` (starting at ``inicio``) falls on a day of a
    closure of the clinic or of its dentist. One query."""
    return _cierres_del_dia(inicio, Cita.objects.filter(pk=cita_id).values("dentista_id")[:1]).exists()


@dataclass(frozen=True)
class Enlace:
    """What a valid token names, resolved now: the booking (``reserva_uid``), the action, and
    where the booking is: ``cita``, the row holding it (with ``en_cierre``), or, once cancelled,
    ``cancelacion`` (its history row, with the slot it left: ``cancelacion.cita``)."""

    reserva_uid: uuid.UUID
    accion: str
    cita: Cita | None = None
    cancelacion: Cancelacion | None = None

    @property
    def cita_id(self):
        return self.cita.pk if self.cita is not None else self.cancelacion.cita_id

    @property
    def cliente_id(self):
        return self.cita.cliente_id if self.cita is not None else self.cancelacion.cliente_id

    @property
    def inicio(self):
        return self.cita.inicio if self.cita is not None else self.cancelacion.inicio

    def corresponde(self, cita) -> bool:
        """Whether ``cita`` still holds the booking the link was made for."""
        return cita is not None and cita.reserva_uid == self.reserva_uid


def _codificar_uid(reserva_uid: uuid.UUID) -> str:
    # 22 characters instead of 36: the link goes into SMS and WhatsApp.
    return base64.urlsafe_b64encode(reserva_uid.bytes).rstrip(b"=").decode()


def _decodificar_uid(texto) -> uuid.UUID | None:
    if not isinstance(texto, str) or len(texto) != 22 or not texto.isascii():
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(texto + "=="))
    except (binascii.Error, ValueError):
        return None


def token_de(cita, accion: str) -> str:
    """The signed token of ``accion`` on the booking ``cita`` holds (one of a patient record)."""
    if accion not in _CODIGOS:
        raise ValueError(f"acción desconocida: {accion}")
    if cita.cliente_id is None:
        raise ValueError("solo las citas de un paciente con ficha tienen enlaces")
    if cita.reserva_uid is None:
        raise ValueError("solo una hora reservada tiene enlaces")
    datos = [_codificar_uid(cita.reserva_uid), _CODIGOS[accion]]
    return signing.dumps(datos, salt=SAL, compress=True)


def enlace_recordatorio(cita, accion: str) -> str:
    """The absolute one-tap URL of ``accion`` ("confirmar" | "cancelar") on ``cita``."""
    return enlaces().recordatorio(token=token_de(cita, accion))


def leer_enlace(token, *, accion=None, ahora=None) -> Enlace:
    """The booking and action a token names, resolved to where the booking is now (one query
    while it lives, two once cancelled). With ``accion``, the token must be for it.

    Raises ValidationError ``enlace_invalido`` (tampered, junk, another action, an old format,
    a booking that is gone or whose slot now holds another one) or ``enlace_vencido`` (the
    booking has started). Never anything else, whatever the input.
    """
    if not isinstance(token, str) or not 0 < len(token) <= LARGO_MAXIMO or not token.isascii():
        raise error_enlace_invalido()
    try:
        datos = signing.loads(token, salt=SAL)
    except (signing.BadSignature, ValueError, TypeError):
        raise error_enlace_invalido() from None
    # A valid signature means we made it; the shape is checked anyway (old formats, bugs).
    if not (isinstance(datos, list) and len(datos) == 2):
        raise error_enlace_invalido()
    reserva_uid, codigo = _decodificar_uid(datos[0]), datos[1]
    if reserva_uid is None or not isinstance(codigo, str) or codigo not in _ACCIONES:
        raise error_enlace_invalido()
    if accion is not None and _ACCIONES[codigo] != accion:
        raise error_enlace_invalido()
    enlace = _resolver(reserva_uid, _ACCIONES[codigo])
    if (ahora or timezone.now()) >= enlace.inicio:
        raise error_enlace_vencido()
    return enlace


def _resolver(reserva_uid, accion) -> Enlace:
    """Where the booking ``reserva_uid`` is now: its row (with whether its day is closed, in the
    same query), or its cancellation while the slot it left holds no other booking."""
    cita = (
        Cita.objects.select_related("dentista__user").annotate(en_cierre=en_un_cierre_expr())
        .filter(reserva_uid=reserva_uid).first()
    )
    if cita is not None:
        return Enlace(reserva_uid=reserva_uid, accion=accion, cita=cita)
    cancelacion = (
        Cancelacion.objects.select_related("dentista__user", "cita").filter(reserva_uid=reserva_uid)
        .order_by("-pk").first()
    )
    # Freed and then taken again (even by the same patient: a new booking): not this link's.
    if cancelacion is None or cancelacion.cita.reserva_uid is not None:
        raise error_enlace_invalido()
    return Enlace(reserva_uid=reserva_uid, accion=accion, cancelacion=cancelacion)


@dataclass(frozen=True)
class SituacionEnlace:
    """What the link's page shows: the booking and whether its button may be offered."""

    enlace: Enlace
    cita: Cita
    estado: str  # PENDIENTE | YA_HECHO | NO_PERMITIDO
    error: ValidationError | None = None  # why there is no button (YA_HECHO, NO_PERMITIDO)

    @property
    def accion(self):
        return self.enlace.accion

    @property
    def inicio(self):
        return self.enlace.inicio

    @property
    def mensaje(self):
        return self.error.messages[0] if self.error is not None else ""

    @property
    def codigo(self):
        return getattr(self.error, "code", None)


def situacion(enlace, *, ahora=None) -> SituacionEnlace:
    """Where the booking of a resolved link (``leer_enlace``) stands now: no query.

    A cancelled booking shows its cancelled time (the slot it left, as it was)."""
    ahora = ahora or timezone.now()
    cita = enlace.cita
    if cita is None:
        cancelacion = enlace.cancelacion
        hora = Cita(pk=cancelacion.cita_id, inicio=cancelacion.inicio, fin=cancelacion.cita.fin,
                    dentista=cancelacion.dentista, estado=EstadoCita.CANCELADA,
                    paciente_nombre=cancelacion.paciente_nombre)
        return SituacionEnlace(enlace, hora, YA_HECHO, _error_ya_cancelada(enlace.accion))
    if cita.estado == EstadoCita.CANCELADA:
        return SituacionEnlace(enlace, cita, YA_HECHO, _error_ya_cancelada(enlace.accion))
    if enlace.accion == "confirmar" and cita.en_cierre:
        return SituacionEnlace(enlace, cita, NO_PERMITIDO, error_dia_cerrado())
    if enlace.accion == "confirmar" and cita.estado == EstadoCita.CONFIRMADA:
        return SituacionEnlace(enlace, cita, YA_HECHO, _error_ya_confirmada())
    error = impedimento_del_paciente(cita, enlace.accion, ahora=ahora)
    if error is None:
        return SituacionEnlace(enlace, cita, PENDIENTE)
    return SituacionEnlace(enlace, cita, NO_PERMITIDO, error)


def situacion_del_enlace(*, token) -> SituacionEnlace:
    """The link page's read (GET never acts). Raises ValidationError ``enlace_invalido`` or
    ``enlace_vencido``."""
    return situacion(leer_enlace(token))


def explicar_fallo(enlace, error: ValidationError) -> ValidationError:
    """The error to report when a link's action did not happen: what the booking's state says
    (already confirmed, already cancelled, moved…), else the service's own ``error``."""
    try:
        actual = situacion(leer_enlace_por_uid(enlace.reserva_uid, enlace.accion))
    except ValidationError as motivo:
        return motivo
    return actual.error if actual.error is not None else error


def leer_enlace_por_uid(reserva_uid, accion, *, ahora=None) -> Enlace:
    """``leer_enlace`` again from what an earlier read found (a fresh look after a failed
    action). Raises its errors."""
    enlace = _resolver(reserva_uid, accion)
    if (ahora or timezone.now()) >= enlace.inicio:
        raise error_enlace_vencido()
    return enlace
