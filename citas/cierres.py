"""Closed days and absences, and single blocked slots (invariant 7: no booking lands in a closed
day, an absence or a blocked slot).

A closure (``Cierre``) covers the whole clinic or one dentist over a date range. It is held on
the slots themselves, not by every reader checking a calendar: ``cerrar_rango`` turns every
free slot of the range into ``bloqueada`` in the transaction that creates it. Booking, staff
assignment and rescheduling are a compare-and-set on ``estado = 'disponible'`` (or a check
under a row lock), so none of them can take a closed slot afterwards, and the free-slot
selectors (portal and staff) list only ``disponible`` ones. Bookings already in the range stay
booked: they are the closure's "afectadas", for reception to move or cancel
(``citas_afectadas``).

Races, and why each one is closed:

- a booking vs. the closure: both are row updates of the same slot; whichever comes second
  re-checks ``estado`` after the first commits (PostgreSQL's READ COMMITTED re-check).
- a slot freed in the range (a cancellation, a move away, a deleted patient's slot) after or
  during the closure: the trigger ``cita_libre_en_cierre`` (``citas.models``) stores it as
  ``bloqueada``; the closure locks every slot of its range before committing, so a concurrent
  freeing waits for it and its trigger then sees the committed closure.
- slot creation (``generar_horas``, ``crear_cita_disponible``) vs. the closure: the new rows are
  invisible to the closure's UPDATE until they commit, so both sides lock the dentists'
  ``personal_perfil`` rows first (``bloquear_dentistas``: the closure FOR NO KEY UPDATE, the
  creation FOR SHARE). One waits for the other; the one that goes second reads the closures or
  the slots as committed. Row locks, not advisory locks: they hold through a transaction
  pooler, and end with the transaction.
"""

import datetime
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from citas import estados
from citas.estados import TRANSICIONES, limites_del_dia
from citas.models import Cierre, Cita, EstadoCita, TipoCierre
from nucleo.registro import registrar_evento
from nucleo.servicios import es_id_valido, exigir_transaccion, operacion
from personal.models import Perfil, Rol

logger = logging.getLogger(__name__)

LARGO_MOTIVO = 200
# A closure longer than a year is a typo (2207 for 2027), not a plan.
MAXIMO_DIAS = 366
# The states of a booking that a closure leaves for reception to resolve.
ESTADOS_AFECTADOS = (EstadoCita.RESERVADA, EstadoCita.CONFIRMADA)


def _limpiar_motivo(motivo, *, requerido):
    motivo = " ".join((motivo or "").split()) if isinstance(motivo, str) else ""
    if requerido and not motivo:
        raise ValidationError({"motivo": ValidationError("Indique el motivo.", code="motivo_requerido")})
    if len(motivo) > LARGO_MOTIVO:
        raise ValidationError(
            {"motivo": ValidationError(f"El motivo no puede superar {LARGO_MOTIVO} caracteres.", code="motivo_largo")}
        )
    return motivo


def _es_fecha(valor):
    return isinstance(valor, datetime.date) and not isinstance(valor, datetime.datetime)


def bloquear_dentistas(dentista_ids=None, *, exclusivo=False) -> None:
    """Lock the ``personal_perfil`` rows of these dentists (all dentists with None) until the
    transaction ends, in id order (two lockers never deadlock): FOR NO KEY UPDATE for a
    closure or a reopening (``exclusivo``), FOR SHARE for slot creation. See the module's
    docstring for the race it closes."""
    exigir_transaccion()
    modo = "NO KEY UPDATE" if exclusivo else "SHARE"
    if dentista_ids is None:
        sql, parametros = f"SELECT id FROM personal_perfil WHERE rol = %s ORDER BY id FOR {modo}", [Rol.DENTISTA.value]
    else:
        sql, parametros = f"SELECT id FROM personal_perfil WHERE id = ANY(%s) ORDER BY id FOR {modo}", [
            sorted(set(dentista_ids))]
    with connection.cursor() as cursor:
        cursor.execute(sql, parametros)


def _del_rango(desde, hasta):
    """``Q`` of the slots that start on the Santiago days ``[desde, hasta]``."""
    inicio, _ = limites_del_dia(desde)
    _, fin = limites_del_dia(hasta)
    return Q(inicio__gte=inicio, inicio__lt=fin)


def _de_cierre(cierre):
    """``Q`` of the slots a closure covers (its dentist's, or every dentist's), by range."""
    q = _del_rango(cierre.desde, cierre.hasta)
    return q if cierre.dentista_id is None else q & Q(dentista_id=cierre.dentista_id)


def cierres_que_cubren(*, desde, hasta, dentista_ids=None):
    """The closures that touch ``[desde, hasta]``: the clinic's, and with ``dentista_ids`` those
    dentists' absences (every dentist's absences with None)."""
    cierres = Cierre.objects.filter(desde__lte=hasta, hasta__gte=desde)
    if dentista_ids is not None:
        cierres = cierres.filter(Q(dentista__isnull=True) | Q(dentista_id__in=list(dentista_ids)))
    return list(cierres.select_related("dentista__user").order_by("desde", "pk"))


def cierre_de(*, dentista_id, fecha):
    """The closure that keeps ``dentista_id`` from attending on ``fecha`` (the clinic's first,
    as the trigger picks), or None."""
    return (
        Cierre.objects.que_cubren(dentista=dentista_id, desde=fecha)
        .order_by(F("dentista_id").asc(nulls_first=True), "pk")
        .first()
    )


def error_dia_cerrado(cierre) -> ValidationError:
    """Why no slot can be created or offered on a day of ``cierre``."""
    if cierre.dentista_id is None:
        mensaje = f"La clínica está cerrada ese día ({cierre.motivo})."
    else:
        mensaje = f"El dentista no atiende ese día ({cierre.texto})."
    return ValidationError(mensaje, code="dia_cerrado")


def citas_afectadas(cierre, *, ahora=None, limite=500):
    """The bookings a closure left for reception: reserved or confirmed, in its range, of its
    dentist (or any dentist), not yet started; in time order, with dentist and patient."""
    ahora = ahora or timezone.now()
    return list(
        Cita.objects.filter(_de_cierre(cierre), estado__in=ESTADOS_AFECTADOS, inicio__gt=ahora)
        .select_related("dentista__user", "cliente")
        .order_by("inicio", "pk")[:limite]
    )


def contar_afectadas(*, desde, hasta, dentista_id=None, ahora=None) -> int:
    """How many bookings a closure of ``[desde, hasta]`` would leave for reception (the form's
    confirmation step)."""
    ahora = ahora or timezone.now()
    citas = Cita.objects.filter(_del_rango(desde, hasta), estado__in=ESTADOS_AFECTADOS, inicio__gt=ahora)
    if dentista_id is not None:
        citas = citas.filter(dentista_id=dentista_id)
    return citas.count()


def validar_cierre(*, desde, hasta, dentista_id=None, tipo=TipoCierre.CLINICA, motivo="", hoy=None):
    """The closure's input, checked and cleaned (the form's confirmation step and
    ``cerrar_rango`` share it): returns ``(dentista or None, tipo, motivo)``. Raises
    ValidationError ``fecha_invalida``, ``rango_invalido``, ``rango_demasiado_largo``,
    ``cierre_pasado``, ``dentista_invalido``, ``tipo_invalido``, ``motivo_requerido``,
    ``motivo_largo``."""
    hoy = hoy or timezone.localdate()
    if not (_es_fecha(desde) and _es_fecha(hasta)):
        raise ValidationError("Las fechas no son válidas.", code="fecha_invalida")
    if not (2000 <= desde.year and hasta.year <= 2100):
        raise ValidationError("Use fechas entre los años 2000 y 2100.", code="fecha_invalida")
    if hasta < desde:
        raise ValidationError({"hasta": ValidationError("La fecha final es anterior a la inicial.",
                                                        code="rango_invalido")})
    if (hasta - desde).days >= MAXIMO_DIAS:
        raise ValidationError({"hasta": ValidationError("Un cierre dura como máximo un año.",
                                                        code="rango_demasiado_largo")})
    if hasta < hoy:
        raise ValidationError({"hasta": ValidationError("Ese período ya pasó.", code="cierre_pasado")})
    if tipo not in TipoCierre.values:
        raise ValidationError({"tipo": ValidationError("Tipo de cierre desconocido.", code="tipo_invalido")})
    dentista = None
    if dentista_id is not None:
        dentista = Perfil.objects.select_related("user").filter(
            pk=dentista_id if es_id_valido(dentista_id) else None, rol=Rol.DENTISTA).first()
        if dentista is None:
            raise ValidationError({"dentista": ValidationError("Dentista no encontrado.", code="dentista_invalido")})
    motivo = _limpiar_motivo(motivo, requerido=True)
    return dentista, tipo, motivo


@dataclass(frozen=True)
class ResultadoCierre:
    cierre: Cierre
    bloqueadas: int  # free slots taken out of the offer
    afectadas: int  # bookings left for reception (``citas_afectadas``)


def cerrar_rango(*, actor, desde, hasta, dentista_id=None, tipo=TipoCierre.CLINICA, motivo="") -> ResultadoCierre:
    """Close ``[desde, hasta]`` (Santiago dates, both included) for the whole clinic
    (``dentista_id`` None) or one dentist, in one transaction: the ``Cierre``, and every free
    slot of the range ``bloqueada`` by it. Bookings in the range stay as they are: they are
    counted as ``afectadas`` and listed by ``citas_afectadas``.

    Raises ValidationError as ``validar_cierre``.
    """
    dentista, tipo, motivo = validar_cierre(desde=desde, hasta=hasta, dentista_id=dentista_id, tipo=tipo,
                                            motivo=motivo)
    with operacion("cerrar_rango", actor=actor):
        ahora = timezone.now()
        bloquear_dentistas(None if dentista is None else [dentista.pk], exclusivo=True)
        cierre = Cierre.objects.create(
            dentista=dentista, desde=desde, hasta=hasta, tipo=tipo, motivo=motivo,
            creado_por=actor if getattr(actor, "pk", None) else None,
        )
        rango = Cita.objects.filter(_de_cierre(cierre))
        # Every slot of the range, locked before the closure commits: a concurrent freeing
        # (cancel, move) waits, and its trigger then sees this closure (module docstring).
        list(rango.exclude(estado=EstadoCita.CANCELADA).order_by("pk").select_for_update().values_list("pk", flat=True))
        bloqueadas = rango.filter(estado=EstadoCita.DISPONIBLE).update(
            estado=EstadoCita.BLOQUEADA, cierre=cierre, bloqueo_motivo=motivo, actualizado=ahora,
        )
        afectadas = rango.filter(estado__in=ESTADOS_AFECTADOS, inicio__gt=ahora).count()
    registrar_evento(logger, "cierre_creado", cierre_id=cierre.pk, dentista_id=cierre.dentista_id,
                     bloqueadas=bloqueadas, afectadas=afectadas, actor_id=getattr(actor, "pk", None))
    return ResultadoCierre(cierre=cierre, bloqueadas=bloqueadas, afectadas=afectadas)


@dataclass(frozen=True)
class ResultadoReapertura:
    liberadas: int  # slots back to free
    dias_sin_horas: list[datetime.date]  # days of the range with no slot of its dentist(s): generate them


def reabrir_cierre(*, actor, cierre_id) -> ResultadoReapertura:
    """Undo a closure in one transaction: the future slots it blocked go back to
    ``disponible`` (a slot blocked on its own, or still inside another closure, stays
    blocked: the trigger gives it to that closure), and the closure is deleted. Reports the
    days of the range without any slot (never generated because of the closure).

    Raises ValidationError ``cierre_no_encontrado``.
    """
    if not es_id_valido(cierre_id):
        raise ValidationError("Ese cierre ya no existe.", code="cierre_no_encontrado")
    with operacion("reabrir_cierre", actor=actor):
        ahora = timezone.now()
        cierre = Cierre.objects.filter(pk=cierre_id).first()
        if cierre is None:
            raise ValidationError("Ese cierre ya no existe.", code="cierre_no_encontrado")
        bloquear_dentistas(None if cierre.dentista_id is None else [cierre.dentista_id], exclusivo=True)
        cierre = Cierre.objects.select_for_update().filter(pk=cierre_id).first()
        if cierre is None:
            raise ValidationError("Ese cierre ya no existe.", code="cierre_no_encontrado")
        desde, hasta = cierre.desde, cierre.hasta
        dentista_id = cierre.dentista_id
        citas = Cita.objects.filter(cierre=cierre, estado=EstadoCita.BLOQUEADA, inicio__gt=ahora)
        ids = list(citas.values_list("pk", flat=True))
        # Deleted first, so that the trigger does not block them again with it; its past slots
        # (``cierre`` SET NULL) stay blocked as history.
        cierre.delete()
        Cita.objects.filter(pk__in=ids, estado=EstadoCita.BLOQUEADA, cierre__isnull=True).update(
            estado=EstadoCita.DISPONIBLE, bloqueo_motivo="", actualizado=ahora,
        )
        # What the trigger gave to another closure still counts as blocked, not freed.
        liberadas = Cita.objects.filter(pk__in=ids, estado=EstadoCita.DISPONIBLE).count()
        dias_sin_horas = _dias_sin_horas(desde=max(desde, timezone.localdate(ahora)), hasta=hasta,
                                         dentista_id=dentista_id)
    registrar_evento(logger, "cierre_reabierto", cierre_id=cierre_id, liberadas=liberadas,
                     actor_id=getattr(actor, "pk", None))
    return ResultadoReapertura(liberadas=liberadas, dias_sin_horas=dias_sin_horas)


def _dias_sin_horas(*, desde, hasta, dentista_id):
    """Days of ``[desde, hasta]`` on which the dentist (any dentist with None) has no slot."""
    if hasta < desde:
        return []
    citas = Cita.objects.filter(_del_rango(desde, hasta))
    if dentista_id is not None:
        citas = citas.filter(dentista_id=dentista_id)
    con_horas = {timezone.localdate(inicio) for inicio in citas.values_list("inicio", flat=True)}
    dias, dia = [], desde
    while dia <= hasta:
        if dia not in con_horas:
            dias.append(dia)
        dia += datetime.timedelta(days=1)
    return dias


def bloquear_hora(*, actor, cita_id, motivo) -> Cita:
    """A free future slot → ``bloqueada`` with a reason (a meeting, a broken chair), by
    compare-and-set (a booking that came first wins). Staff only.
    Raises ValidationError ``no_autorizado``, ``motivo_requerido``, ``motivo_largo``,
    ``cita_no_encontrada``, ``hora_no_disponible``."""
    if not estados.es_personal(actor):
        raise estados.error_solo_personal("bloquear")
    motivo = _limpiar_motivo(motivo, requerido=True)
    if not es_id_valido(cita_id):
        raise ValidationError("Cita no encontrada.", code="cita_no_encontrada")
    with operacion("bloquear_hora", actor=actor):
        ahora = timezone.now()
        cambiadas = Cita.objects.filter(pk=cita_id, **estados.filtro("bloquear", ahora)).update(
            estado=TRANSICIONES["bloquear"].destino, bloqueo_motivo=motivo, actualizado=ahora,
        )
        cita = Cita.objects.filter(pk=cita_id).first()
        if cita is None:
            raise ValidationError("Cita no encontrada.", code="cita_no_encontrada")
        if cambiadas != 1:
            raise estados.error_de_transicion("bloquear", cita, ahora)
    registrar_evento(logger, "hora_bloqueada", cita_id=cita.pk, actor_id=getattr(actor, "pk", None))
    return cita


def desbloquear_hora(*, actor, cita_id) -> Cita:
    """A slot blocked on its own → ``disponible`` again. One blocked by a closure reopens
    only with its closure (``cierre_bloqueado``). Staff only.
    Raises ValidationError ``no_autorizado``, ``cita_no_encontrada``, ``cierre_bloqueado``,
    ``transicion_invalida``, ``cita_ya_comenzo``."""
    if not estados.es_personal(actor):
        raise estados.error_solo_personal("desbloquear")
    if not es_id_valido(cita_id):
        raise ValidationError("Cita no encontrada.", code="cita_no_encontrada")
    with operacion("desbloquear_hora", actor=actor):
        ahora = timezone.now()
        cambiadas = Cita.objects.filter(pk=cita_id, cierre__isnull=True, **estados.filtro("desbloquear", ahora)).update(
            estado=TRANSICIONES["desbloquear"].destino, bloqueo_motivo="", actualizado=ahora,
        )
        cita = Cita.objects.select_related("cierre").filter(pk=cita_id).first()
        if cita is None:
            raise ValidationError("Cita no encontrada.", code="cita_no_encontrada")
        if cita.cierre is not None:
            # Blocked by a closure: before, or by the trigger just now (a closed day).
            raise ValidationError(
                f"Esta hora es parte de un cierre ({cita.cierre.texto}): se libera al reabrir ese cierre.",
                code="cierre_bloqueado",
            )
        if cambiadas != 1:
            raise estados.error_de_transicion("desbloquear", cita, ahora)
    registrar_evento(logger, "hora_desbloqueada", cita_id=cita.pk, actor_id=getattr(actor, "pk", None))
    return cita


def proximos_cierres(*, desde, limite=200):
    """Closures that end on or after ``desde``, in date order, with their dentist and how many
    bookings each still leaves for reception (``afectadas``). Two queries."""
    cierres = list(
        Cierre.objects.filter(hasta__gte=desde).select_related("dentista__user", "creado_por")
        .order_by("desde", "pk")[:limite]
    )
    ahora = timezone.now()
    for cierre in cierres:
        cierre.afectadas = 0
    if cierres:
        condicion = Q()
        for cierre in cierres:
            condicion |= _de_cierre(cierre)
        filas = Cita.objects.filter(condicion, estado__in=ESTADOS_AFECTADOS, inicio__gt=ahora).values_list(
            "dentista_id", "inicio")
        for dentista_id, inicio in filas:
            dia = timezone.localdate(inicio)
            for cierre in cierres:
                if cierre.desde <= dia <= cierre.hasta and cierre.dentista_id in (None, dentista_id):
                    cierre.afectadas += 1
    return cierres
