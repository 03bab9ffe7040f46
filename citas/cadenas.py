"""Booking by what the visit is for: a prestación of D minutes holds the chain of contiguous free
slots of one dentist that covers D, merged into one row.

The grid stays as it is (slots pre-generated from the weekly hours, ``citas.horarios``). Booking
prestación P at free slot S of dentist d takes the chain S, S2, … Sk of d's free slots where each
one starts where the previous one ends, the shortest whose total covers P's duration; in the
booking's transaction every row of the chain is locked with the booking rule in its WHERE (a
compare-and-set by row lock: a row taken, blocked or merged meanwhile is not locked, and then
nothing changes and the answer is ``hora_no_disponible``), rows 2..k are deleted and S grows to
the chain's end with ``bloques = k`` and ``prestacion`` set. A duration is rounded UP to whole
slots: a 45-minute prestación on a 30-minute grid holds 60 minutes.

The two exclusion constraints of ``Cita`` then hold the whole duration, for any length, as they
held one slot; and when the row is free again the trigger ``cita_partir_al_liberar`` splits it
back into ``bloques`` slots (``citas.models``).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import connection

from django.db.models import Exists, OuterRef

from citas import estados
from citas.models import Cita, EstadoCita
from prestaciones.models import Prestacion, PrestacionDentista

# A chain longer than this is not a booking (8 h of 5-minute slots): a stop for the recursion.
MAXIMO_DE_BLOQUES = 96

# The chain from one free slot: each next free slot of the same dentist starts where the previous
# one ends, until the chain covers the duration (an index probe per link on (dentista, inicio)).
_CADENA_SQL = f"""
WITH RECURSIVE cadena AS (
    SELECT c.id, c.dentista_id, c.inicio, c.fin, c.inicio AS desde, 1 AS n
      FROM citas_cita c
     WHERE c.id = %(id)s AND c.estado = %(disponible)s
  UNION ALL
    SELECT s.id, s.dentista_id, s.inicio, s.fin, cadena.desde, cadena.n + 1
      FROM cadena
      JOIN citas_cita s ON s.dentista_id = cadena.dentista_id AND s.inicio = cadena.fin
     WHERE s.estado = %(disponible)s AND cadena.fin < cadena.desde + %(duracion)s
       -- Slots of one length only: a freed booking is split back into ``bloques`` equal pieces
       -- (trigger ``cita_partir_al_liberar``), which must be the slots it took.
       AND s.fin - s.inicio = cadena.fin - cadena.inicio
       AND cadena.n < {MAXIMO_DE_BLOQUES}
)
SELECT id, inicio, fin FROM cadena ORDER BY n
"""


def error_prestacion_invalida(mensaje="Esa prestación no existe o no se reserva en línea. Elija otra, por favor."):
    return ValidationError(mensaje, code="prestacion_invalida")


def error_no_cabe(prestacion):
    return ValidationError(
        f"Esa hora ya no tiene tiempo libre suficiente para {prestacion.nombre} ({prestacion.duracion_minutos} "
        "minutos). Elija otra hora, por favor.",
        code="hora_no_disponible",
    )


def cadena_de(*, cita_id: int, duracion: datetime.timedelta) -> list[tuple[int, datetime.datetime, datetime.datetime]]:
    """The rows (id, inicio, fin) of the chain from free slot ``cita_id`` that covers
    ``duracion``, or [] when that slot is not free or its dentist's free time from there is
    shorter. Reads, does not lock. One query."""
    with connection.cursor() as cursor:
        cursor.execute(_CADENA_SQL, {"id": cita_id, "disponible": EstadoCita.DISPONIBLE.value, "duracion": duracion})
        filas = cursor.fetchall()
    if not filas or filas[-1][2] - filas[0][1] < duracion:
        return []
    return filas


def que_caben(filas, duracion: datetime.timedelta) -> dict[int, datetime.datetime]:
    """Of one dentist's free slots ``filas`` ((id, inicio, fin), in start order), those from
    which the chain covers ``duracion``, with the chain's end: ``cadena_de``'s rule over rows
    already read (the staff's time picker, a week of one dentist)."""
    caben = {}
    for i, (pk, inicio, fin) in enumerate(filas):
        hasta, j = fin, i + 1
        # Contiguous slots of this one's length (``_CADENA_SQL``: a freed chain splits in equal pieces).
        while (hasta - inicio < duracion and j < len(filas) and filas[j][1] == hasta
               and filas[j][2] - filas[j][1] == fin - inicio):
            hasta, j = filas[j][2], j + 1
        if hasta - inicio >= duracion:
            caben[pk] = hasta
    return caben


def prestacion_para(*, prestacion_id, dentista_id, en_linea: bool) -> Prestacion:
    """The prestación ``prestacion_id`` if it can be booked with ``dentista_id``: active (and
    online-bookable for the portal, ``en_linea``) and performed by that dentist
    (``PrestacionDentista``). Raises ``prestacion_invalida``. One query."""
    if not isinstance(prestacion_id, int) or isinstance(prestacion_id, bool) or not 0 < prestacion_id < 2**63:
        raise error_prestacion_invalida()
    prestaciones = Prestacion.objects.reservables_en_linea() if en_linea else Prestacion.objects.activas()
    prestacion = prestaciones.filter(pk=prestacion_id).annotate(la_realiza=Exists(
        PrestacionDentista.objects.filter(prestacion_id=OuterRef("pk"), dentista_id=dentista_id)
    )).first()
    if prestacion is None:
        raise error_prestacion_invalida(
            "Esa prestación no existe o no se reserva en línea. Elija otra, por favor." if en_linea
            else "Esa prestación no existe o está inactiva."
        )
    if not prestacion.la_realiza:
        raise error_prestacion_invalida("Ese dentista no realiza esa prestación. Elija otro dentista, por favor.")
    return prestacion


def tomar_cadena(*, cita_id: int, prestacion: Prestacion, ahora, accion: str, anticipacion: bool):
    """Inside the booking's transaction: lock the chain from ``cita_id`` that covers
    ``prestacion`` (every row free, not started, and past the portal's minimum notice when
    ``anticipacion``: ``Cita.objects.libres``), delete its rows 2..k, and return
    ``(fin, k)``: the head's new end and how many slots it holds. The caller's compare-and-set
    on the head then books it with that end. Raises ``hora_no_disponible`` (with the prestación
    in the message when the time left is too short) when the chain is not whole or a row of it
    was taken meanwhile; the transaction then rolls back, so nothing changes.

    A free slot keeps the history of earlier bookings that were on it (cancellations, messages):
    a deleted row's ``Cancelacion`` rows move to the head (the booking that now covers their
    time) and its notifications lose the link (their ``on_delete=SET_NULL``), as deleting it
    through the ORM would do."""
    duracion = datetime.timedelta(minutes=prestacion.duracion_minutos)
    cadena = cadena_de(cita_id=cita_id, duracion=duracion)
    if not cadena:
        if Cita.objects.filter(pk=cita_id, **estados.filtro(accion, ahora)).exists():
            raise error_no_cabe(prestacion)
        raise estados.rechazo("reservar")
    ids = [fila[0] for fila in cadena]
    # ORDER BY before FOR UPDATE: rows locked in id order, as a closure locks them
    # (citas.cierres.cerrar_rango) and as another chain does: they never deadlock.
    tomadas = list(
        Cita.objects.filter(pk__in=ids).libres(ahora=ahora, anticipacion=anticipacion)
        .select_for_update().order_by("pk").values_list("pk", flat=True)
    )
    if len(tomadas) != len(ids):
        raise error_no_cabe(prestacion) if cita_id in tomadas else estados.rechazo("reservar")
    if len(ids) > 1:
        with connection.cursor() as cursor:
            cursor.execute(_FUNDIR_SQL, {"cabeza": cita_id, "resto": ids[1:]})
    return cadena[-1][2], len(ids)


# Rows 2..k of a locked chain go; what pointed at them follows ``tomar_cadena``'s rule. One
# statement (the UPDATEs in a WITH run before the DELETE's foreign-key checks at commit).
_FUNDIR_SQL = """
WITH historia AS (
    UPDATE citas_cancelacion SET cita_id = %(cabeza)s WHERE cita_id = ANY(%(resto)s)
), mensajes AS (
    UPDATE notificaciones_notificacion SET cita_id = NULL WHERE cita_id = ANY(%(resto)s)
)
DELETE FROM citas_cita WHERE id = ANY(%(resto)s)
"""
