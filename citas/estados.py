"""The appointment's state machine: its states, and in one table (``TRANSICIONES``) what may
happen to an appointment: from which states, to which one, when relative to its start, and
whether a patient may do it to their own booking.

The services check a transition here, in their compare-and-set (``filtro``: the table as ORM
lookups) or under their row lock (``exigir``), and report a refusal with ``error_de_transicion``;
the staff site asks ``transiciones_posibles`` which buttons to show and the portal asks
``impedimento_del_paciente``, so buttons and services never disagree. Who may be booked and the
portal's notice and deadlines are not state rules: ``Cita.objects.libres`` and ``citas.reglas``.
Works on anything with ``estado`` and ``inicio`` (a ``Cita`` or a grid's plain value); imports
no model, so ``citas.models`` can build its querysets on it.
"""

import dataclasses
import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from citas import reglas


class EstadoCita(models.TextChoices):
    DISPONIBLE = "disponible", "Disponible"
    RESERVADA = "reservada", "Reservada"
    CONFIRMADA = "confirmada", "Confirmada"
    EN_ESPERA = "en_espera", "Llegó (en sala de espera)"
    ATENDIDA = "atendida", "Atendida"
    NO_ASISTIO = "no_asistio", "No asistió"
    CANCELADA = "cancelada", "Cancelada por la clínica"
    # Not offered: blocked by staff (a meeting, a broken chair) or by a closure (citas.cierres).
    BLOQUEADA = "bloqueada", "Bloqueada"


# States that hold a patient: the slot is someone's (not ``disponible`` nor ``bloqueada``).
ESTADOS_CON_PACIENTE = [
    EstadoCita.RESERVADA,
    EstadoCita.CONFIRMADA,
    EstadoCita.EN_ESPERA,
    EstadoCita.ATENDIDA,
    EstadoCita.NO_ASISTIO,
    EstadoCita.CANCELADA,
]


# Live bookings: the patient still has to come (the per-patient exclusion constraint and the
# portal's cap count these).
ESTADOS_VIVOS = (EstadoCita.RESERVADA, EstadoCita.CONFIRMADA, EstadoCita.EN_ESPERA)


# A mark of what happened at the desk ("Llegó", "Atendida", "No asistió"), and the states it
# may come from: what ``deshacer`` goes back to (``Cita.estado_anterior``).
ESTADOS_MARCADOS = (EstadoCita.EN_ESPERA, EstadoCita.ATENDIDA, EstadoCita.NO_ASISTIO)
ESTADOS_ANTES_DE_UNA_MARCA = (EstadoCita.RESERVADA, EstadoCita.CONFIRMADA, EstadoCita.EN_ESPERA)
# The mark each state is, as its button said it (for "Deshacer «Llegó»").
MARCA_DE_ESTADO = {
    EstadoCita.EN_ESPERA: "Llegó",
    EstadoCita.ATENDIDA: "Atendida",
    EstadoCita.NO_ASISTIO: "No asistió",
}


def limites_del_dia(fecha: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """``[inicio, fin)`` of a local (Santiago) day as aware datetimes.

    Chile changes the clock at midnight: on the September day 00:00 does not exist, and
    ``fold=0`` resolves it to the instant the day really starts (01:00 -03).
    """
    zona = timezone.get_current_timezone()
    inicio = datetime.datetime.combine(fecha, datetime.time.min, tzinfo=zona)
    fin = datetime.datetime.combine(fecha + datetime.timedelta(days=1), datetime.time.min, tzinfo=zona)
    return inicio, fin


class Momento:
    """When, relative to the appointment's start, an action is allowed."""

    SIEMPRE = "siempre"
    ANTES_DEL_INICIO = "antes_del_inicio"  # inicio > ahora
    DESDE_EL_INICIO = "desde_el_inicio"  # inicio <= ahora
    TRAS_EL_INICIO = "tras_el_inicio"  # inicio < ahora
    EL_MISMO_DIA = "el_mismo_dia"  # inicio on today's date in Santiago (TIME_ZONE), before or after now


def _filtro_de_momento(momento, ahora) -> dict:
    """The time rule as ORM lookups on ``inicio``."""
    if momento == Momento.EL_MISMO_DIA:
        desde, hasta = limites_del_dia(timezone.localdate(ahora))
        return {"inicio__gte": desde, "inicio__lt": hasta}
    lookup = {
        Momento.SIEMPRE: None,
        Momento.ANTES_DEL_INICIO: "inicio__gt",
        Momento.DESDE_EL_INICIO: "inicio__lte",
        Momento.TRAS_EL_INICIO: "inicio__lt",
    }[momento]
    return {lookup: ahora} if lookup else {}


# The same time rules in Python, for a row already read (the lookups above, one for one).
_CUMPLE_MOMENTO = {
    Momento.SIEMPRE: lambda inicio, ahora: True,
    Momento.ANTES_DEL_INICIO: lambda inicio, ahora: inicio > ahora,
    Momento.DESDE_EL_INICIO: lambda inicio, ahora: inicio <= ahora,
    Momento.TRAS_EL_INICIO: lambda inicio, ahora: inicio < ahora,
    Momento.EL_MISMO_DIA: lambda inicio, ahora: timezone.localdate(inicio) == timezone.localdate(ahora),
}


@dataclasses.dataclass(frozen=True)
class Transicion:
    """An action on an appointment: from which states, to which one, when, and whether a
    patient may do it to their own booking. ``texto`` completes "No se puede …".
    ``rechazo`` (code, message): the one error a refusal gives when the action has its own
    (else ``error_de_transicion`` says which rule failed)."""

    origenes: tuple
    destino: str
    momento: str
    paciente: bool
    texto: str
    rechazo: tuple[str, str] | None = None
    # Goes back to ``estado_anterior`` (``destino`` is None) and needs one to be recorded.
    vuelve_atras: bool = False


_RESERVADA_O_CONFIRMADA = (EstadoCita.RESERVADA, EstadoCita.CONFIRMADA)
_HORA_NO_DISPONIBLE = ("hora_no_disponible", "Esa hora ya no está disponible. Elija otra, por favor.")
_NO_CANCELABLE = ("no_cancelable", "Esta cita ya no se puede cancelar.")

TRANSICIONES = {
    # Taking a free slot: by the patient on the portal (reservar_cita, which adds the portal's
    # minimum notice) or by staff (asignar_cita); either way only a bookable dentist's
    # (``Cita.objects.libres``).
    "reservar": Transicion(
        origenes=(EstadoCita.DISPONIBLE,), destino=EstadoCita.RESERVADA, momento=Momento.ANTES_DEL_INICIO,
        paciente=True, texto="reservar la hora", rechazo=_HORA_NO_DISPONIBLE,
    ),
    "asignar": Transicion(
        origenes=(EstadoCita.DISPONIBLE,), destino=EstadoCita.RESERVADA, momento=Momento.ANTES_DEL_INICIO,
        paciente=False, texto="asignar la hora", rechazo=_HORA_NO_DISPONIBLE,
    ),
    "confirmar": Transicion(
        origenes=(EstadoCita.RESERVADA,), destino=EstadoCita.CONFIRMADA, momento=Momento.ANTES_DEL_INICIO,
        paciente=True, texto="confirmar la cita",
    ),
    # Only on the day: a click on the wrong row of the week view must not "arrive" a patient
    # days ahead (or days late); earlier or later that same day is fine.
    "marcar_llegada": Transicion(
        origenes=_RESERVADA_O_CONFIRMADA, destino=EstadoCita.EN_ESPERA, momento=Momento.EL_MISMO_DIA,
        paciente=False, texto="marcar la llegada del paciente",
    ),
    "marcar_atendida": Transicion(
        origenes=(EstadoCita.EN_ESPERA, *_RESERVADA_O_CONFIRMADA), destino=EstadoCita.ATENDIDA,
        momento=Momento.DESDE_EL_INICIO, paciente=False, texto="marcar la cita como atendida",
    ),
    "marcar_no_asistio": Transicion(
        origenes=_RESERVADA_O_CONFIRMADA, destino=EstadoCita.NO_ASISTIO, momento=Momento.TRAS_EL_INICIO,
        paciente=False, texto="marcar que el paciente no asistió",
    ),
    # A wrong mark undone by the staff on the appointment's own Santiago day: back to the state
    # the mark's compare-and-set recorded (``Cita.estado_anterior``), one step only.
    "deshacer": Transicion(
        origenes=ESTADOS_MARCADOS, destino=None, momento=Momento.EL_MISMO_DIA, paciente=False,
        texto="deshacer la marca", vuelve_atras=True,
    ),
    # The booking leaves this slot, which is freed (``Cita.liberar``), for another one that it
    # takes as a new booking (``reservar``'s rules for that one). Checked under the row lock.
    "reprogramar": Transicion(
        origenes=_RESERVADA_O_CONFIRMADA, destino=EstadoCita.DISPONIBLE, momento=Momento.ANTES_DEL_INICIO,
        paciente=True, texto="cambiar la hora de la cita",
        rechazo=("no_reprogramable", "Esta cita ya no se puede cambiar de hora."),
    ),
    # By the patient, or staff on their behalf: the slot is freed for someone else.
    "cancelar": Transicion(
        origenes=_RESERVADA_O_CONFIRMADA, destino=EstadoCita.DISPONIBLE, momento=Momento.ANTES_DEL_INICIO,
        paciente=True, texto="cancelar la cita", rechazo=_NO_CANCELABLE,
    ),
    # By the clinic: the appointment stays, cancelled, with its patient.
    "cancelar_por_clinica": Transicion(
        origenes=_RESERVADA_O_CONFIRMADA, destino=EstadoCita.CANCELADA, momento=Momento.ANTES_DEL_INICIO,
        paciente=False, texto="cancelar la cita por la clínica", rechazo=_NO_CANCELABLE,
    ),
    # Staff take a free future slot out of the offer, with a reason, and put it back
    # (citas.cierres.bloquear_hora / desbloquear_hora; a closure's slots reopen with it).
    "bloquear": Transicion(
        origenes=(EstadoCita.DISPONIBLE,), destino=EstadoCita.BLOQUEADA, momento=Momento.ANTES_DEL_INICIO,
        paciente=False, texto="bloquear la hora", rechazo=_HORA_NO_DISPONIBLE,
    ),
    "desbloquear": Transicion(
        origenes=(EstadoCita.BLOQUEADA,), destino=EstadoCita.DISPONIBLE, momento=Momento.ANTES_DEL_INICIO,
        paciente=False, texto="desbloquear la hora",
    ),
}

# The actions on a booked appointment that ``transiciones_posibles`` lists, in display order.
# Not listed: reservar, asignar, bloquear and desbloquear (they act on a slot without patient) and cancelar_por_clinica (the
# staff site offers it beside cancelar).
ACCIONES_SOBRE_LA_CITA = (
    "confirmar", "marcar_llegada", "marcar_atendida", "marcar_no_asistio", "deshacer", "reprogramar", "cancelar",
)


def es_personal(actor) -> bool:
    """Staff act on any appointment; anyone else only as the patient of their own."""
    return bool(getattr(actor, "is_staff", False))


def permitida(accion: str, cita, ahora: datetime.datetime) -> bool:
    """Whether the table lets ``accion`` happen to ``cita`` (its state and start) at ``ahora``."""
    regla = TRANSICIONES[accion]
    if regla.vuelve_atras and not getattr(cita, "estado_anterior", ""):
        return False
    return cita.estado in regla.origenes and _CUMPLE_MOMENTO[regla.momento](cita.inicio, ahora)


def filtro(accion: str, ahora: datetime.datetime) -> dict:
    """``permitida`` as ORM lookups (state and start), for a compare-and-set's WHERE."""
    regla = TRANSICIONES[accion]
    origenes = regla.origenes
    estado = {"estado": origenes[0]} if len(origenes) == 1 else {"estado__in": origenes}
    if regla.vuelve_atras:
        estado["estado_anterior__in"] = ESTADOS_ANTES_DE_UNA_MARCA
    return {**estado, **_filtro_de_momento(regla.momento, ahora)}


def rechazo(accion: str) -> ValidationError:
    """The refusal of an action that has its own (``Transicion.rechazo``), e.g. reservar's
    ``hora_no_disponible``."""
    codigo, mensaje = TRANSICIONES[accion].rechazo
    return ValidationError(mensaje, code=codigo)


def error_de_transicion(accion: str, cita, ahora: datetime.datetime) -> ValidationError:
    """Why ``accion`` may not happen to ``cita`` (as read after a compare-and-set found no
    row, in the same transaction): the action's own ``rechazo``, else which rule failed."""
    regla = TRANSICIONES[accion]
    if regla.rechazo is not None:
        return rechazo(accion)
    if regla.vuelve_atras and cita.estado in regla.origenes and not getattr(cita, "estado_anterior", ""):
        return ValidationError("No hay una marca que deshacer en esta cita (ya se deshizo o es anterior a este cambio).",
                               code="nada_que_deshacer")
    if cita.estado not in regla.origenes:
        return ValidationError(
            f"No se puede {regla.texto}: la cita está en estado «{cita.get_estado_display()}».",
            code="transicion_invalida",
        )
    if regla.momento == Momento.ANTES_DEL_INICIO and cita.inicio <= ahora:
        return ValidationError(f"No se puede {regla.texto}: la cita ya comenzó.", code="cita_ya_comenzo")
    if regla.momento in (Momento.DESDE_EL_INICIO, Momento.TRAS_EL_INICIO) and cita.inicio >= ahora:
        return ValidationError(f"No se puede {regla.texto}: la cita aún no comienza.", code="cita_no_comenzada")
    if regla.momento == Momento.EL_MISMO_DIA and not _CUMPLE_MOMENTO[regla.momento](cita.inicio, ahora):
        # marcar_llegada and deshacer have this rule (TRANSICIONES).
        if regla.vuelve_atras:
            return ValidationError("Solo se puede deshacer una marca el mismo día de la cita.",
                                   code="deshacer_fuera_del_dia")
        return ValidationError("Solo se puede marcar la llegada el mismo día de la cita.",
                               code="llegada_fuera_del_dia")
    # The row changed between the update and this read: report what it is now.
    return ValidationError(
        f"No se puede {regla.texto}: la cita está en estado «{cita.get_estado_display()}».",
        code="transicion_invalida",
    )


def exigir(accion: str, cita, ahora: datetime.datetime) -> None:
    """Raise ``error_de_transicion`` unless the table allows ``accion`` on ``cita`` now
    (for a row the service holds locked)."""
    if not permitida(accion, cita, ahora):
        raise error_de_transicion(accion, cita, ahora)


def error_solo_personal(accion: str) -> ValidationError:
    return ValidationError(f"Solo el personal de la clínica puede {TRANSICIONES[accion].texto}.", code="no_autorizado")


def impedimento_del_paciente(cita, accion, *, ahora) -> ValidationError | None:
    """Why the patient who owns ``cita`` may not run ``accion`` on it now (the error the
    service would raise), or None. One rule for the services and the portal's buttons:
    the state and time rules of ``TRANSICIONES``, then the portal's policy (``citas.reglas``).
    Ownership is the caller's business (the portal reads only the patient's own rows)."""
    if not TRANSICIONES[accion].paciente:
        return error_solo_personal(accion)
    if not permitida(accion, cita, ahora):
        return error_de_transicion(accion, cita, ahora)
    return reglas.error_de_politica(
        accion=accion, inicio=cita.inicio, reprogramaciones=cita.reprogramaciones, ahora=ahora
    )


def transiciones_posibles(cita, *, actor=None, ahora=None) -> list[str]:
    """The actions of ``ACCIONES_SOBRE_LA_CITA`` that ``cita`` allows now, in that order.

    Without ``actor`` (or with staff) every action; with a patient only theirs
    (``paciente=True``), only on their own booking (reads ``cita.cliente``: select it) and
    only what the portal's policy allows now (``impedimento_del_paciente``).
    """
    ahora = ahora or timezone.now()
    if actor is not None and not es_personal(actor):
        if cita.cliente_id is None or cita.cliente.user_id != actor.pk:
            return []
        return [a for a in ACCIONES_SOBRE_LA_CITA if impedimento_del_paciente(cita, a, ahora=ahora) is None]
    return [a for a in ACCIONES_SOBRE_LA_CITA if permitida(a, cita, ahora)]
