"""One-tap links of the reminders: confirm or cancel an appointment without logging in.

The link's address comes from the sites' adapter (``nucleo.enlaces``). The token is signed with Django's
``signing`` (its own salt) and names one booking, not just a slot: the appointment's id, its
patient and its start. A booking that was moved, freed, re-booked by someone else or whose
patient was deleted no longer matches, so its old links are invalid (``enlace_invalido``).
Links expire when the appointment starts (``enlace_vencido``). They act once: the state
machine does the rest (a confirmed booking cannot be confirmed again, a freed slot cannot be
cancelled again) and ``situacion_del_enlace`` tells the patient what already happened.

Only bookings of a patient record get links (a walk-in without a record has no stable
identity to bind to).
"""

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef
from django.db.models.functions import TruncDate
from django.utils import timezone

from citas.estados import impedimento_del_paciente
from citas.models import Cierre, Cita, EstadoCita
from nucleo.enlaces import enlaces
from nucleo.servicios import es_id_valido

SAL = "citas.enlaces.recordatorio"
# What a token carries for each action (short: the link goes into SMS and WhatsApp).
_CODIGOS = {"confirmar": "c", "cancelar": "x"}
_ACCIONES = {codigo: accion for accion, codigo in _CODIGOS.items()}
ACCIONES = tuple(_CODIGOS)
# A real token is about 80 characters; anything much longer is junk, refused before parsing.
LARGO_MAXIMO = 300
_EPOCA = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICRO = datetime.timedelta(microseconds=1)
# Services whose freeing of a slot means "the patient cancelled" (not "moved" or "deleted").
_SERVICIOS_DE_CANCELACION = {"cancelar_cita", "cancelar_por_enlace"}

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
    """What a valid token says: which booking (appointment, patient, start) and what to do."""

    cita_id: int
    cliente_id: int
    inicio: datetime.datetime
    accion: str

    def corresponde(self, cita) -> bool:
        """Whether ``cita`` is still the booking the link was made for."""
        return cita is not None and cita.cliente_id == self.cliente_id and cita.inicio == self.inicio


def _microsegundos(momento: datetime.datetime) -> int:
    # Exact integer arithmetic: a float timestamp could round a microsecond away.
    return (momento - _EPOCA) // _MICRO


def token_de(cita, accion: str) -> str:
    """The signed token of ``accion`` on ``cita`` (a booking with a patient record)."""
    if accion not in _CODIGOS:
        raise ValueError(f"acción desconocida: {accion}")
    if cita.cliente_id is None:
        raise ValueError("solo las citas de un paciente con ficha tienen enlaces")
    datos = [cita.pk, cita.cliente_id, _microsegundos(cita.inicio), _CODIGOS[accion]]
    return signing.dumps(datos, salt=SAL, compress=True)


def enlace_recordatorio(cita, accion: str) -> str:
    """The absolute one-tap URL of ``accion`` ("confirmar" | "cancelar") on ``cita``."""
    return enlaces().recordatorio(token=token_de(cita, accion))


def leer_enlace(token, *, accion=None, ahora=None) -> Enlace:
    """The booking and action a token names. With ``accion``, the token must be for it.

    Raises ValidationError ``enlace_invalido`` (tampered, junk, another action) or
    ``enlace_vencido`` (the appointment has started). Never anything else, whatever the input.
    """
    if not isinstance(token, str) or not 0 < len(token) <= LARGO_MAXIMO or not token.isascii():
        raise error_enlace_invalido()
    try:
        datos = signing.loads(token, salt=SAL)
    except (signing.BadSignature, ValueError, TypeError):
        raise error_enlace_invalido() from None
    # A valid signature means we made it; the shape is checked anyway (old formats, bugs).
    if not (isinstance(datos, list) and len(datos) == 4):
        raise error_enlace_invalido()
    cita_id, cliente_id, inicio_us, codigo = datos
    if not (es_id_valido(cita_id) and es_id_valido(cliente_id) and es_id_valido(inicio_us)) or codigo not in _ACCIONES:
        raise error_enlace_invalido()
    if accion is not None and _ACCIONES[codigo] != accion:
        raise error_enlace_invalido()
    try:
        inicio = _EPOCA + datetime.timedelta(microseconds=inicio_us)
    except OverflowError:
        raise error_enlace_invalido() from None
    if (ahora or timezone.now()) >= inicio:
        raise error_enlace_vencido()
    return Enlace(cita_id=cita_id, cliente_id=cliente_id, inicio=inicio, accion=_ACCIONES[codigo])


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


def _cancelada_por_el_paciente(enlace) -> bool:
    """Whether the booking the link names ended with the patient cancelling it (on the portal,
    by a link, or by staff on their behalf), read from the audit trail: a slot freed by a
    move or by deleting the patient looks the same in ``citas_cita``, but not in its history."""
    CitaEvent = apps.get_model("citas", "CitaEvent")  # pghistory's event model of Cita
    ultimo_del_titular = (
        CitaEvent.objects.filter(pgh_obj_id=enlace.cita_id, cliente_id=enlace.cliente_id, inicio=enlace.inicio)
        .order_by("-pgh_id").values("pgh_id")[:1]
    )
    siguiente = (
        CitaEvent.objects.filter(pgh_obj_id=enlace.cita_id, pgh_id__gt=ultimo_del_titular)
        .order_by("pgh_id").values_list("estado", "pgh_context__metadata__servicio").first()
    )
    return siguiente is not None and siguiente[0] == EstadoCita.DISPONIBLE and siguiente[1] in _SERVICIOS_DE_CANCELACION


def situacion(enlace, *, ahora=None) -> SituacionEnlace:
    """Where the booking of a (signature-checked) link stands now.

    Raises ValidationError ``enlace_invalido`` when the booking is gone for another reason
    than the patient cancelling it (moved, re-booked, deleted)."""
    ahora = ahora or timezone.now()
    # With whether its day is closed (an Exists in the same query: the link's page is one query).
    cita = (
        Cita.objects.select_related("dentista__user")
        .annotate(en_cierre=Exists(_cierres_del_dia(enlace.inicio, OuterRef("dentista_id"))))
        .filter(pk=enlace.cita_id)
        .first()
    )
    if cita is None:
        raise error_enlace_invalido()
    if not enlace.corresponde(cita):
        # Still free after the patient cancelled: say so. Taken by someone else since: the
        # link is simply no longer theirs.
        if cita.estado == EstadoCita.DISPONIBLE and _cancelada_por_el_paciente(enlace):
            return SituacionEnlace(enlace, cita, YA_HECHO, _error_ya_cancelada(enlace.accion))
        raise error_enlace_invalido()
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
        actual = situacion(enlace)
    except ValidationError as motivo:
        return motivo
    return actual.error if actual.error is not None else error
