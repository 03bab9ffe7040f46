"""Appointments: free slots, bookings by patients (seed flow C) and by staff (flow D),
cancellations. Each service is one transaction; taking a slot is a compare-and-set on
``estado = 'disponible'`` (invariant 5), so of many concurrent attempts exactly one wins."""

import dataclasses
import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from citas import enlaces, reglas
from citas.mensajes import contexto_cita
from citas.models import Cita, EstadoCita
from notificaciones.preferencias import Preferencias
from notificaciones.services import notificar
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from pacientes.models import Cliente
from pacientes.validaciones import normalizar_email, normalizar_nombre, normalizar_telefono
from personal.models import Perfil, Rol

logger = logging.getLogger(__name__)

DURACION_MINIMA = 5
DURACION_MAXIMA = 8 * 60
LARGO_MOTIVO = 200


def _error_hora_no_disponible():
    return ValidationError("Esa hora ya no está disponible. Elija otra, por favor.", code="hora_no_disponible")


def _error_dentista_inactivo():
    return ValidationError(
        "El dentista de esa hora está inactivo y no atiende. Elija una hora de otro dentista, por favor.",
        code="dentista_inactivo",
    )


def _dentista_activo(perfil):
    """The portal's rule for offering a dentist's slots (citas.selectors): both flags."""
    return perfil.activo and perfil.user.is_active


# The dentists whose free slots can be given: the same two flags as _dentista_activo, as a
# subquery on ``dentista_id`` (on the updated table's own column, so the compare-and-set still
# re-checks ``estado`` after waiting for a concurrent change).
def _dentistas_activos():
    return Perfil.objects.filter(activo=True, user__is_active=True).values("pk")


def _limpiar_motivo(motivo):
    motivo = " ".join((motivo or "").split())
    if len(motivo) > LARGO_MOTIVO:
        raise ValidationError(
            {"motivo": ValidationError(f"El motivo no puede superar {LARGO_MOTIVO} caracteres.", code="motivo_largo")}
        )
    return motivo


def crear_cita_disponible(*, actor, dentista_id, inicio, duracion_minutos=30) -> Cita:
    """A free slot for a dentist. Raises ValidationError: ``dentista_invalido``,
    ``fecha_sin_zona``, ``duracion_invalida``, or ``traslape`` (the exclusion constraint)."""
    if not Perfil.objects.filter(pk=dentista_id, rol=Rol.DENTISTA, activo=True).exists():
        raise ValidationError({"dentista": ValidationError("Dentista no encontrado o inactivo.", code="dentista_invalido")})
    if not isinstance(inicio, datetime.datetime) or timezone.is_naive(inicio):
        raise ValidationError({"inicio": ValidationError("La hora de inicio no es válida.", code="fecha_sin_zona")})
    if not isinstance(duracion_minutos, int) or not DURACION_MINIMA <= duracion_minutos <= DURACION_MAXIMA:
        raise ValidationError(
            {"duracion_minutos": ValidationError(
                f"La duración debe estar entre {DURACION_MINIMA} y {DURACION_MAXIMA} minutos.", code="duracion_invalida"
            )}
        )
    with operacion("crear_cita_disponible", actor=actor):
        # Aware arithmetic in UTC: a 30-minute slot lasts 30 minutes even across a DST change.
        # Python adds timedelta in wall-clock time within one tzinfo; UTC makes it real minutes.
        inicio = inicio.astimezone(datetime.UTC)
        cita = Cita.objects.create(
            dentista_id=dentista_id, inicio=inicio, fin=inicio + datetime.timedelta(minutes=duracion_minutos)
        )
    registrar_evento(logger, "cita_creada", cita_id=cita.pk, dentista_id=dentista_id,
                     actor_id=getattr(actor, "pk", None))
    return cita


def _tomar_hora(*, cita_id, ahora, cliente, nombre, email, telefono, motivo, estado=EstadoCita.RESERVADA):
    """Compare-and-set: only a free, future slot of an active dentist can be taken; returns
    the booked row. Raises ``hora_no_disponible`` or ``dentista_inactivo``."""
    tomadas = Cita.objects.filter(
        pk=cita_id, estado=EstadoCita.DISPONIBLE, inicio__gt=ahora, dentista_id__in=_dentistas_activos()
    ).update(
        estado=estado, cliente=cliente, paciente_nombre=nombre, paciente_email=email,
        paciente_telefono=telefono, motivo=motivo, reprogramaciones=0, reservada_en=ahora, actualizado=ahora,
    )
    if tomadas != 1:
        # Only on failure: was the slot there for the taking, but its dentist inactive?
        if Cita.objects.filter(pk=cita_id, estado=EstadoCita.DISPONIBLE, inicio__gt=ahora).exists():
            raise _error_dentista_inactivo()
        raise _error_hora_no_disponible()
    return Cita.objects.select_related("dentista__user").get(pk=cita_id)


# The booking hot path, in one hand-written statement on purpose: it is the contested
# resource, and the ORM version (patient lookup, compare-and-set, re-read of the slot) spent
# about four times the Python of this statement per booking (bin/bench-reservas,
# docs/rendimiento.md). It takes the slot for the user's active patient by compare-and-set and
# returns the snapshot and what the confirmation needs. A patient row without a slot means the
# slot was taken (or is past, starts sooner than the portal's minimum notice, or belongs to an
# inactive dentist: the portal does not offer those either); no row at all means the user has
# no active patient. The dentist's rows join the UPDATE itself, which both checks that they are
# active and returns their name; its WHERE keeps ``estado`` on the updated row, so PostgreSQL
# re-checks it after waiting for a concurrent booking.
_RESERVAR_SQL = """
WITH paciente AS (
    SELECT c.id, c.nombre_completo, c.email, c.telefono,
           pf.canal_preferido, pf.whatsapp_aceptado_en, pf.sms_aceptado_en
      FROM pacientes_cliente c
      LEFT JOIN cuentas_perfilcliente pf ON pf.user_id = c.user_id
     WHERE c.user_id = %(user_id)s AND c.activo
), tomada AS (
    UPDATE citas_cita AS cita
       SET estado = %(reservada)s, cliente_id = paciente.id, paciente_nombre = paciente.nombre_completo,
           paciente_email = paciente.email, paciente_telefono = paciente.telefono,
           motivo = %(motivo)s, reprogramaciones = 0, reservada_en = %(ahora)s, actualizado = %(ahora)s
      FROM paciente, personal_perfil d, auth_user u
     WHERE cita.id = %(cita_id)s AND cita.estado = %(disponible)s AND cita.inicio > %(ahora)s
       AND cita.inicio >= %(inicio_minimo)s
       AND d.id = cita.dentista_id AND d.activo AND u.id = d.user_id AND u.is_active
 RETURNING cita.id, cita.dentista_id, cita.inicio, cita.fin, cita.creado, u.first_name, u.last_name, u.username
)
SELECT paciente.id, paciente.nombre_completo, paciente.email, paciente.telefono,
       paciente.canal_preferido, paciente.whatsapp_aceptado_en, paciente.sms_aceptado_en,
       tomada.id, tomada.dentista_id, tomada.inicio, tomada.fin, tomada.creado,
       tomada.first_name, tomada.last_name, tomada.username
  FROM paciente
  LEFT JOIN tomada ON TRUE
"""


def _tomar_hora_para_usuario(*, user, cita_id, motivo, ahora):
    """Run ``_RESERVAR_SQL``; returns its row or None (no active patient for ``user``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _RESERVAR_SQL,
            {
                "user_id": user.pk, "cita_id": cita_id, "motivo": motivo, "ahora": ahora,
                "inicio_minimo": reglas.inicio_minimo_para_reservar(ahora),
                "reservada": EstadoCita.RESERVADA, "disponible": EstadoCita.DISPONIBLE,
            },
        )
        return cursor.fetchone()


def _crear_ficha_para_usuario_antiguo(user):
    """Every account made here has its patient (crear_cuenta_portal links it); old data may
    not. An inactive patient is refused; a missing one is made from the login."""
    if Cliente.objects.filter(user=user, activo=False).exists():
        raise ValidationError("Su ficha de paciente está inactiva. Comuníquese con la clínica.", code="cliente_inactivo")
    Cliente.objects.create(
        nombre_completo=user.get_full_name() or user.username, email=(user.email or "").strip().lower(), user=user
    )


def reservar_cita(*, user, cita_id, motivo="") -> Cita:
    """A patient books a free slot on the portal (seed flow C).

    Finds (or, for old data, creates) their ``Cliente``, takes the slot by compare-and-set,
    fills the snapshot and records the confirmation, all in one transaction.
    Raises ValidationError ``hora_no_disponible`` when the slot is gone, past, sooner than
    ``CLINICA_ANTICIPACION_MINIMA_MIN`` from now or of an inactive dentist (the portal shows the
    nearest free slots, as for a taken one), or ``cliente_inactivo``.
    """
    motivo = _limpiar_motivo(motivo)
    if not isinstance(cita_id, int) or isinstance(cita_id, bool) or not 0 < cita_id < 2**63:
        raise _error_hora_no_disponible()
    with operacion("reservar_cita", actor=user):
        ahora = timezone.now()
        fila = _tomar_hora_para_usuario(user=user, cita_id=cita_id, motivo=motivo, ahora=ahora)
        if fila is None:
            _crear_ficha_para_usuario_antiguo(user)
            fila = _tomar_hora_para_usuario(user=user, cita_id=cita_id, motivo=motivo, ahora=ahora)
        (cliente_id, nombre, email, telefono, canal, whatsapp_en, sms_en,
         tomada_id, dentista_id, inicio, fin, creado, dentista_nombre, dentista_apellido, dentista_usuario) = fila
        if tomada_id is None:
            raise _error_hora_no_disponible()
        cita = Cita(
            id=tomada_id, dentista_id=dentista_id, inicio=inicio, fin=fin, estado=EstadoCita.RESERVADA,
            cliente_id=cliente_id, paciente_nombre=nombre, paciente_email=email, paciente_telefono=telefono,
            motivo=motivo, reservada_en=ahora, creado=creado, actualizado=ahora,
        )
        cita._state.adding = False
        perfil = Preferencias.de_valores(canal, whatsapp_en, sms_en)
        dentista = f"{dentista_nombre} {dentista_apellido}".strip() or dentista_usuario
        notificar(
            evento="reserva_confirmada", referencia=f"{cita.pk}:{ahora.isoformat()}", email=email,
            telefono=telefono, perfil=perfil, cliente=Cliente(pk=cliente_id), cita=cita,
            contexto=contexto_cita(inicio=inicio, dentista=dentista, nombre=nombre),
        )
    registrar_evento(logger, "cita_reservada", cita_id=cita.pk, cliente_id=cliente_id, origen="portal")
    return cita


def _perfil_de(cliente):
    """The patient's portal profile (channel preferences), from the select_related cache."""
    if cliente is None or cliente.user is None:
        return None
    return getattr(cliente.user, "perfil_cliente", None)


def _contexto(cita, nombre):
    return contexto_cita(inicio=cita.inicio, dentista=cita.dentista.nombre, nombre=nombre)


def asignar_cita(
    *, actor, cita_id, cliente_id=None, paciente_nombre="", paciente_email="", paciente_telefono="", motivo=""
) -> Cita:
    """Staff give a free slot to a patient (seed flow D), or to a person without a record
    (only the snapshot fields). The patient is told by their channels.
    Raises ValidationError ``cliente_invalido``, ``hora_no_disponible``, ``dentista_inactivo``
    (the slot is free but its dentist no longer works), ``motivo_largo`` or the snapshot's."""
    motivo = _limpiar_motivo(motivo)
    cliente = perfil = None
    if cliente_id is not None:
        cliente = Cliente.objects.select_related("user__perfil_cliente").filter(pk=cliente_id, activo=True).first()
        if cliente is None:
            raise ValidationError({"cliente": ValidationError("Paciente no encontrado o inactivo.", code="cliente_invalido")})
        nombre, email, telefono = cliente.nombre_completo, cliente.email, str(cliente.telefono or "")
        perfil = _perfil_de(cliente)
    else:
        nombre, email, telefono = _snapshot_sin_ficha(paciente_nombre, paciente_email, paciente_telefono)
    with operacion("asignar_cita", actor=actor):
        ahora = timezone.now()
        cita = _tomar_hora(
            cita_id=cita_id, ahora=ahora, cliente=cliente, nombre=nombre, email=email, telefono=telefono,
            motivo=motivo,
        )
        notificar(
            evento="cita_asignada", referencia=f"{cita.pk}:{ahora.isoformat()}", email=email, telefono=telefono,
            perfil=perfil, cliente=cliente, cita=cita, contexto=_contexto(cita, nombre),
        )
    registrar_evento(logger, "cita_asignada", cita_id=cita.pk, cliente_id=getattr(cliente, "pk", None),
                     actor_id=getattr(actor, "pk", None))
    return cita


def _snapshot_sin_ficha(nombre, email, telefono):
    errores = {}
    resultado = {}
    for campo, funcion, valor in (
        ("paciente_nombre", normalizar_nombre, nombre),
        ("paciente_email", normalizar_email, email),
        ("paciente_telefono", normalizar_telefono, telefono),
    ):
        if campo != "paciente_nombre" and not (valor or "").strip():
            resultado[campo] = ""
            continue
        try:
            resultado[campo] = funcion(valor)
        except ValidationError as error:
            errores[campo] = error
    if errores:
        raise ValidationError(errores)
    return resultado["paciente_nombre"], resultado["paciente_email"], resultado["paciente_telefono"]


def cancelar_cita(*, actor, cita_id, por_clinica=False, motivo="") -> Cita:
    """Cancel a booking.

    By the patient (or staff on their behalf): the slot goes back to ``disponible`` for someone
    else. By the clinic (``por_clinica``): the appointment becomes ``cancelada``, keeps its
    patient, and the patient is told. A patient can only cancel their own future bookings, and
    only until ``CLINICA_PLAZO_CAMBIOS_H`` hours before (staff any time before the start).
    Raises ValidationError ``cita_no_encontrada``, ``no_cancelable``, ``fuera_de_plazo``,
    ``no_autorizado``.
    """
    motivo = _limpiar_motivo(motivo)
    es_personal = _es_personal(actor)
    if por_clinica and not es_personal:
        raise ValidationError("Solo la clínica puede cancelar una cita por la clínica.", code="no_autorizado")
    if not _id_valido(cita_id):
        raise _error_cita_no_encontrada()
    with operacion("cancelar_cita", actor=actor):
        ahora = timezone.now()
        cita = _cita_para_cancelar(cita_id)
        propia = cita is not None and (es_personal or (cita.cliente and cita.cliente.user_id == actor.pk))
        if not propia:
            raise ValidationError("Cita no encontrada.", code="cita_no_encontrada")
        _cancelar(cita=cita, ahora=ahora, es_personal=es_personal, por_clinica=por_clinica, motivo=motivo)
    registrar_evento(logger, "cita_cancelada", cita_id=cita.pk, por_clinica=por_clinica,
                     actor_id=getattr(actor, "pk", None))
    return cita


def _cita_para_cancelar(cita_id):
    """The appointment, locked, with what cancelling reads (dentist, patient's preferences)."""
    return (
        Cita.objects.select_for_update(of=("self",))
        .select_related("dentista__user", "cliente__user__perfil_cliente")
        .filter(pk=cita_id)
        .first()
    )


def _cancelar(*, cita, ahora, es_personal, por_clinica, motivo):
    """The cancellation itself, on a locked row whose ownership the caller checked: state and
    time rules, the portal's policy for patients, the change and the patient's notification."""
    if cita.estado not in (EstadoCita.RESERVADA, EstadoCita.CONFIRMADA) or cita.inicio <= ahora:
        raise ValidationError("Esta cita ya no se puede cancelar.", code="no_cancelable")
    if not es_personal:
        error = reglas.error_de_politica(
            accion="cancelar", inicio=cita.inicio, reprogramaciones=cita.reprogramaciones, ahora=ahora
        )
        if error is not None:
            raise error
    cliente = cita.cliente
    nombre, email, telefono = cita.paciente_nombre, cita.paciente_email, cita.paciente_telefono
    contexto = {**_contexto(cita, nombre), "motivo": motivo}
    if por_clinica:
        cita.estado = EstadoCita.CANCELADA
        cita.save(update_fields=["estado", "actualizado"])
        evento = "cita_cancelada_clinica"
    else:
        cita.estado = EstadoCita.DISPONIBLE
        cita.cliente = None
        cita.paciente_nombre = cita.paciente_email = cita.paciente_telefono = cita.motivo = ""
        cita.reprogramaciones = 0
        cita.reservada_en = None
        cita.save()
        evento = "cita_cancelada_paciente"
    perfil = _perfil_de(cliente)
    notificar(
        evento=evento, referencia=f"{cita.pk}:{ahora.isoformat()}", email=email, telefono=telefono,
        perfil=perfil, cliente=cliente, cita=cita, contexto=contexto,
    )


# Back office: reschedule and state changes --------------------------------------------------
#
# What may happen to an appointment, in one table: the staff site asks
# ``transiciones_posibles(cita)`` which buttons to show, and the services below check the same
# rules in their compare-and-set (the state changes) or under their row lock (reprogramar).


class Momento:
    """When, relative to the appointment's start, an action is allowed."""

    SIEMPRE = "siempre"
    ANTES_DEL_INICIO = "antes_del_inicio"  # inicio > ahora
    DESDE_EL_INICIO = "desde_el_inicio"  # inicio <= ahora
    TRAS_EL_INICIO = "tras_el_inicio"  # inicio < ahora
    EL_MISMO_DIA = "el_mismo_dia"  # inicio on today's date in Santiago (TIME_ZONE), before or after now


def _limites_del_dia(ahora):
    """[start, end) of ``ahora``'s local day. make_aware takes 00:00 of the September DST day,
    which does not exist in Santiago, at the offset before the change: the day's real start."""
    dia = timezone.localdate(ahora)
    desde = timezone.make_aware(datetime.datetime.combine(dia, datetime.time.min))
    hasta = timezone.make_aware(datetime.datetime.combine(dia + datetime.timedelta(days=1), datetime.time.min))
    return desde, hasta


def _filtro_de_momento(momento, ahora) -> dict:
    """The time rule as ORM lookups on ``inicio`` (part of the compare-and-set)."""
    if momento == Momento.EL_MISMO_DIA:
        desde, hasta = _limites_del_dia(ahora)
        return {"inicio__gte": desde, "inicio__lt": hasta}
    lookup = {
        Momento.SIEMPRE: None,
        Momento.ANTES_DEL_INICIO: "inicio__gt",
        Momento.DESDE_EL_INICIO: "inicio__lte",
        Momento.TRAS_EL_INICIO: "inicio__lt",
    }[momento]
    return {lookup: ahora} if lookup else {}


_CUMPLE_MOMENTO = {
    Momento.SIEMPRE: lambda inicio, ahora: True,
    Momento.ANTES_DEL_INICIO: lambda inicio, ahora: inicio > ahora,
    Momento.DESDE_EL_INICIO: lambda inicio, ahora: inicio <= ahora,
    Momento.TRAS_EL_INICIO: lambda inicio, ahora: inicio < ahora,
    Momento.EL_MISMO_DIA: lambda inicio, ahora: timezone.localdate(inicio) == timezone.localdate(ahora),
}


@dataclasses.dataclass(frozen=True)
class Transicion:
    """An action on an appointment: from which states, to which one (None: the service
    decides, e.g. reprogramar frees the slot and books another), when, and whether a patient
    may do it to their own booking. ``texto`` completes "No se puede …"."""

    origenes: tuple
    destino: str | None
    momento: str
    paciente: bool
    texto: str


_RESERVADA_O_CONFIRMADA = (EstadoCita.RESERVADA, EstadoCita.CONFIRMADA)

TRANSICIONES = {
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
    # Checked under the row lock by reprogramar_cita; the same rule cancelar_cita applies.
    "reprogramar": Transicion(
        origenes=_RESERVADA_O_CONFIRMADA, destino=None, momento=Momento.ANTES_DEL_INICIO,
        paciente=True, texto="cambiar la hora de la cita",
    ),
    "cancelar": Transicion(
        origenes=_RESERVADA_O_CONFIRMADA, destino=None, momento=Momento.ANTES_DEL_INICIO,
        paciente=True, texto="cancelar la cita",
    ),
}


def _es_personal(actor):
    return bool(getattr(actor, "is_staff", False))


def _id_valido(valor):
    return isinstance(valor, int) and not isinstance(valor, bool) and 0 < valor < 2**63


def _error_cita_no_encontrada():
    return ValidationError("Cita no encontrada.", code="cita_no_encontrada")


def _permitida(regla, cita, ahora):
    return cita.estado in regla.origenes and _CUMPLE_MOMENTO[regla.momento](cita.inicio, ahora)


def transiciones_posibles(cita, *, actor=None, ahora=None) -> list[str]:
    """The actions of ``TRANSICIONES`` that ``cita`` allows now, in the table's order.

    Without ``actor`` (or with staff) every action; with a patient only theirs
    (``paciente=True``), only on their own booking (reads ``cita.cliente``: select it) and
    only what the portal's policy allows now (``impedimento_del_paciente``).
    """
    ahora = ahora or timezone.now()
    if actor is not None and not _es_personal(actor):
        if cita.cliente_id is None or cita.cliente.user_id != actor.pk:
            return []
        return [a for a in TRANSICIONES if impedimento_del_paciente(cita, a, ahora=ahora) is None]
    return [a for a, regla in TRANSICIONES.items() if _permitida(regla, cita, ahora)]


def impedimento_del_paciente(cita, accion, *, ahora) -> ValidationError | None:
    """Why the patient who owns ``cita`` may not run ``accion`` on it now (the error the
    service would raise), or None. One rule for the services and the portal's buttons:
    the state and time rules of ``TRANSICIONES``, then the portal's policy (``citas.reglas``).
    Ownership is the caller's business (the portal reads only the patient's own rows)."""
    regla = TRANSICIONES[accion]
    if not regla.paciente:
        return ValidationError(f"Solo el personal de la clínica puede {regla.texto}.", code="no_autorizado")
    if not _permitida(regla, cita, ahora):
        if accion == "cancelar":
            return ValidationError("Esta cita ya no se puede cancelar.", code="no_cancelable")
        if accion == "reprogramar":
            return ValidationError("Esta cita ya no se puede cambiar de hora.", code="no_reprogramable")
        return _error_de_transicion(regla, cita, ahora)
    return reglas.error_de_politica(
        accion=accion, inicio=cita.inicio, reprogramaciones=cita.reprogramaciones, ahora=ahora
    )


def _error_de_transicion(regla, cita, ahora):
    """Why the compare-and-set found no row, read after it (same transaction)."""
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
        # Only marcar_llegada has this rule (TRANSICIONES).
        return ValidationError("Solo se puede marcar la llegada el mismo día de la cita.", code="llegada_fuera_del_dia")
    # The row changed between the update and this read: report what it is now.
    return ValidationError(
        f"No se puede {regla.texto}: la cita está en estado «{cita.get_estado_display()}».",
        code="transicion_invalida",
    )


def _cambiar_estado(*, accion, actor, cita_id, enlace=None) -> Cita:
    """Compare-and-set from the action's source states (and time rule) to its destination.

    A patient (not ``is_staff``) may only run actions marked ``paciente`` on their own booking;
    someone else's looks like a missing one (``cita_no_encontrada``). With ``enlace`` (a
    reminder's one-tap link, ``actor`` None) the booking it names stands for the patient: the
    row must still be that booking, else ``enlace_invalido``.
    """
    regla = TRANSICIONES[accion]
    es_personal = enlace is None and _es_personal(actor)
    if not es_personal and not regla.paciente:
        raise ValidationError(f"Solo el personal de la clínica puede {regla.texto}.", code="no_autorizado")
    if not _id_valido(cita_id):
        raise _error_cita_no_encontrada()
    with operacion(accion if enlace is None else f"{accion}_por_enlace", actor=actor):
        ahora = timezone.now()
        filtro = {"pk": cita_id, "estado__in": regla.origenes, **_filtro_de_momento(regla.momento, ahora)}
        citas = Cita.objects.filter(**filtro)
        if enlace is not None:
            citas = citas.filter(cliente_id=enlace.cliente_id, inicio=enlace.inicio)
        elif not es_personal:
            # A subquery on cliente_id, not a join: with a join Django updates "WHERE id IN
            # (SELECT …)", and PostgreSQL would not re-check the state after a concurrent change.
            citas = citas.filter(cliente_id__in=Cliente.objects.filter(user_id=actor.pk).values("pk"))
        cambiadas = citas.update(estado=regla.destino, actualizado=ahora)
        cita = Cita.objects.select_related("cliente").filter(pk=cita_id).first()
        if enlace is not None:
            if not enlace.corresponde(cita):
                raise enlaces.error_enlace_invalido()
        elif cita is None or (not es_personal and (cita.cliente is None or cita.cliente.user_id != actor.pk)):
            raise _error_cita_no_encontrada()
        if cambiadas != 1:
            raise _error_de_transicion(regla, cita, ahora)
    registrar_evento(logger, f"cita_{regla.destino}", cita_id=cita.pk, accion=accion,
                     actor_id=getattr(actor, "pk", None))
    return cita


def confirmar_cita(*, actor, cita_id) -> Cita:
    """reservada → confirmada, before the start. Staff, or the patient on their own booking.
    Raises ValidationError ``cita_no_encontrada``, ``transicion_invalida``, ``cita_ya_comenzo``."""
    return _cambiar_estado(accion="confirmar", actor=actor, cita_id=cita_id)


def marcar_llegada(*, actor, cita_id) -> Cita:
    """reservada/confirmada → en_espera (the patient is in the waiting room). Staff only, and
    only on the appointment's date in Santiago (before or after its time).
    Raises ValidationError ``no_autorizado``, ``cita_no_encontrada``, ``transicion_invalida``,
    ``llegada_fuera_del_dia``."""
    return _cambiar_estado(accion="marcar_llegada", actor=actor, cita_id=cita_id)


def marcar_atendida(*, actor, cita_id) -> Cita:
    """en_espera/reservada/confirmada → atendida, not before the start. Staff only.
    Raises ValidationError ``no_autorizado``, ``cita_no_encontrada``, ``transicion_invalida``,
    ``cita_no_comenzada``."""
    return _cambiar_estado(accion="marcar_atendida", actor=actor, cita_id=cita_id)


def marcar_no_asistio(*, actor, cita_id) -> Cita:
    """reservada/confirmada → no_asistio, only after the start. Staff only.
    Raises ValidationError ``no_autorizado``, ``cita_no_encontrada``, ``transicion_invalida``,
    ``cita_no_comenzada``."""
    return _cambiar_estado(accion="marcar_no_asistio", actor=actor, cita_id=cita_id)


_CAMPOS_DEL_PACIENTE = ("cliente", "paciente_nombre", "paciente_email", "paciente_telefono", "motivo")


def reprogramar_cita(*, actor, cita_id, nueva_cita_id) -> Cita:
    """Move a booked future appointment to another free future slot, in one transaction.

    Locks both rows in id order (two reschedulings never deadlock), moves the patient, the
    snapshot and the reason to the new slot (``reservada``: the new time needs confirming
    again), frees the old one and records the ``cita_reprogramada`` notification.
    A patient (not ``is_staff``) may only move their own booking, within the portal's policy
    (``citas.reglas``: until the cut-off, at most N times, to a slot past the minimum notice);
    their move counts in ``reprogramaciones``, a staff move carries the count unchanged.
    The new slot's dentist must be active: staff get ``dentista_inactivo``, a patient the
    portal's ``hora_no_disponible`` (such slots are not offered there).
    Returns the new Cita. Raises ValidationError ``cita_no_encontrada``, ``no_reprogramable``,
    ``fuera_de_plazo``, ``max_reprogramaciones``, ``hora_no_disponible``, ``dentista_inactivo``.
    """
    if not _id_valido(cita_id):
        raise _error_cita_no_encontrada()
    if not _id_valido(nueva_cita_id):
        raise _error_hora_no_disponible()
    if cita_id == nueva_cita_id:
        raise ValidationError("La nueva hora debe ser distinta de la actual.", code="hora_no_disponible")
    es_personal = _es_personal(actor)
    regla = TRANSICIONES["reprogramar"]
    with operacion("reprogramar_cita", actor=actor):
        ahora = timezone.now()
        # ORDER BY before FOR UPDATE: PostgreSQL locks the rows in that order.
        filas = {
            c.pk: c
            for c in Cita.objects.select_for_update(of=("self",))
            .select_related("dentista__user", "cliente__user__perfil_cliente")
            .filter(pk__in=(cita_id, nueva_cita_id))
            .order_by("pk")
        }
        origen, destino = filas.get(cita_id), filas.get(nueva_cita_id)
        if origen is None or not (es_personal or (origen.cliente and origen.cliente.user_id == actor.pk)):
            raise _error_cita_no_encontrada()
        if not _permitida(regla, origen, ahora):
            raise ValidationError("Esta cita ya no se puede cambiar de hora.", code="no_reprogramable")
        if not es_personal:
            error = reglas.error_de_politica(
                accion="reprogramar", inicio=origen.inicio, reprogramaciones=origen.reprogramaciones, ahora=ahora
            )
            if error is not None:
                raise error
        if destino is None or destino.estado != EstadoCita.DISPONIBLE or destino.inicio <= ahora:
            raise _error_hora_no_disponible()
        if not es_personal and not reglas.se_puede_reservar(destino.inicio, ahora):
            raise _error_hora_no_disponible()
        if not _dentista_activo(destino.dentista):
            raise _error_dentista_inactivo() if es_personal else _error_hora_no_disponible()
        for campo in _CAMPOS_DEL_PACIENTE:
            setattr(destino, campo, getattr(origen, campo))
        destino.estado = EstadoCita.RESERVADA
        destino.reprogramaciones = origen.reprogramaciones + (0 if es_personal else 1)
        destino.reservada_en = ahora  # a new booking for the reminders: its own notice just went out
        campos = [*_CAMPOS_DEL_PACIENTE, "estado", "reprogramaciones", "reservada_en", "actualizado"]
        destino.save(update_fields=campos)
        origen.estado = EstadoCita.DISPONIBLE
        origen.cliente = None
        origen.paciente_nombre = origen.paciente_email = origen.paciente_telefono = origen.motivo = ""
        origen.reprogramaciones = 0
        origen.reservada_en = None
        origen.save(update_fields=campos)
        nombre = destino.paciente_nombre
        anterior = _contexto(origen, nombre)
        # Neutral text: dates and dentist only, never the reason (it may describe a condition).
        notificar(
            evento="cita_reprogramada", referencia=f"{origen.pk}:{destino.pk}:{ahora.isoformat()}",
            email=destino.paciente_email, telefono=destino.paciente_telefono, perfil=_perfil_de(destino.cliente),
            cliente=destino.cliente, cita=destino,
            contexto={
                **_contexto(destino, nombre), "fecha_anterior": anterior["fecha"],
                "hora_anterior": anterior["hora"], "dentista_anterior": anterior["dentista"],
            },
        )
    registrar_evento(logger, "cita_reprogramada", cita_id=origen.pk, nueva_cita_id=destino.pk,
                     cliente_id=destino.cliente_id, actor_id=getattr(actor, "pk", None))
    return destino


# One-tap links of the reminders (citas.enlaces) ------------------------------------------------


def confirmar_por_enlace(*, token) -> Cita:
    """reservada → confirmada through a reminder's link, as the patient would on the portal,
    without logging in (audit: ``confirmar_por_enlace``, no user).

    Raises ValidationError ``enlace_invalido``, ``enlace_vencido``, ``ya_confirmada``,
    ``ya_cancelada``, or the state machine's ``transicion_invalida`` / ``cita_ya_comenzo``.
    """
    enlace = enlaces.leer_enlace(token, accion="confirmar")
    try:
        cita = _cambiar_estado(accion="confirmar", actor=None, cita_id=enlace.cita_id, enlace=enlace)
    except ValidationError as error:
        raise enlaces.explicar_fallo(enlace, error) from error
    return cita


def cancelar_por_enlace(*, token) -> Cita:
    """Free the booking a reminder's link names, as the patient would on the portal (the
    portal's policy applies: ``fuera_de_plazo`` says to call the clinic), with the patient's
    cancellation notice; without logging in (audit: ``cancelar_por_enlace``, no user).
    Returns the freed slot.

    Raises ValidationError ``enlace_invalido``, ``enlace_vencido``, ``ya_cancelada``,
    ``fuera_de_plazo``, ``no_cancelable``.
    """
    enlace = enlaces.leer_enlace(token, accion="cancelar")
    try:
        with operacion("cancelar_por_enlace", actor=None):
            ahora = timezone.now()
            cita = _cita_para_cancelar(enlace.cita_id)
            if not enlace.corresponde(cita):
                raise enlaces.error_enlace_invalido()
            _cancelar(cita=cita, ahora=ahora, es_personal=False, por_clinica=False, motivo="")
    except ValidationError as error:
        raise enlaces.explicar_fallo(enlace, error) from error
    registrar_evento(logger, "cita_cancelada", cita_id=cita.pk, por_clinica=False, actor_id=None, origen="enlace")
    return cita
