"""Reads of appointments that need thought: the staff's home page (today, per dentist).

Days are Santiago days: their bounds are computed as aware datetimes in the current time zone
and compared with the stored UTC values, so a DST change day (23 or 25 hours) is right and the
``(dentista, inicio)`` index is usable (no function on the column).
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from citas.models import Cita, EstadoCita
from personal.models import Perfil, Rol


@dataclass(frozen=True)
class ColumnaDentista:
    """One dentist's appointments of the day, in time order."""

    dentista: Perfil
    citas: list[Cita]


@dataclass(frozen=True)
class ResumenDia:
    """What the staff see on their home page for one day."""

    fecha: datetime.date
    columnas: list[ColumnaDentista]
    reservadas: int
    confirmadas: int
    libres: int  # free slots of the day that have not started yet (still bookable)
    no_asistio_semana: int  # no-shows Monday to Sunday of the day's week


def limites_del_dia(fecha: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """``[inicio, fin)`` of a local day as aware datetimes.

    Chile changes the clock at midnight: on the September day 00:00 does not exist, and
    ``fold=0`` resolves it to the instant the day really starts (01:00 -03).
    """
    zona = timezone.get_current_timezone()
    inicio = datetime.datetime.combine(fecha, datetime.time.min, tzinfo=zona)
    fin = datetime.datetime.combine(fecha + datetime.timedelta(days=1), datetime.time.min, tzinfo=zona)
    return inicio, fin


def resumen_del_dia(*, fecha: datetime.date | None = None, dentista_id: int | None = None, ahora=None) -> ResumenDia:
    """A day's appointments per dentist and the day's counts, in three queries whatever the
    number of appointments or dentists.

    Columns: every active dentist, plus any inactive one who still has appointments that day,
    ordered by name. ``dentista_id`` narrows columns and counts to that dentist (a dentist
    sees only their own). Each appointment carries ``nombre_paciente``: the patient's current
    name, or the snapshot when there is no record (a person without one, or a deleted patient).
    """
    ahora = ahora or timezone.now()
    fecha = fecha or timezone.localdate(ahora)
    desde, hasta = limites_del_dia(fecha)
    lunes = fecha - datetime.timedelta(days=fecha.weekday())
    desde_semana, _ = limites_del_dia(lunes)
    _, hasta_semana = limites_del_dia(lunes + datetime.timedelta(days=6))

    citas = Cita.objects.all()
    dentistas = Perfil.objects.filter(rol=Rol.DENTISTA)
    if dentista_id is not None:
        citas = citas.filter(dentista_id=dentista_id)
        dentistas = dentistas.filter(pk=dentista_id)

    del_dia = Q(inicio__gte=desde, inicio__lt=hasta)
    # Exists, not a join: a join would repeat a dentist once per appointment.
    con_citas_hoy = Exists(Cita.objects.filter(del_dia, dentista_id=OuterRef("pk")))
    dentistas = list(
        dentistas.filter(Q(activo=True, user__is_active=True) | con_citas_hoy)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "pk")
    )

    citas_del_dia = list(
        citas.filter(del_dia)
        .annotate(nombre_paciente=Coalesce("cliente__nombre_completo", NullIf("paciente_nombre", Value(""))))
        .order_by("inicio", "pk")
    )
    por_dentista = {d.pk: [] for d in dentistas}
    for cita in citas_del_dia:
        por_dentista.setdefault(cita.dentista_id, []).append(cita)

    # The day lies inside its week: one range scan serves both.
    conteos = citas.filter(inicio__gte=desde_semana, inicio__lt=hasta_semana).aggregate(
        reservadas=Count("pk", filter=del_dia & Q(estado=EstadoCita.RESERVADA)),
        confirmadas=Count("pk", filter=del_dia & Q(estado=EstadoCita.CONFIRMADA)),
        libres=Count("pk", filter=del_dia & Q(estado=EstadoCita.DISPONIBLE, inicio__gt=ahora)),
        no_asistio_semana=Count(
            "pk", filter=Q(estado=EstadoCita.NO_ASISTIO, inicio__gte=desde_semana, inicio__lt=hasta_semana)
        ),
    )
    return ResumenDia(
        fecha=fecha,
        columnas=[ColumnaDentista(dentista=d, citas=por_dentista[d.pk]) for d in dentistas],
        **conteos,
    )
