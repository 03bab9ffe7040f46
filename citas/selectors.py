"""Reads of appointments that need thought: the staff's home page (today, per dentist).

Days are Santiago days: their bounds are computed as aware datetimes in the current time zone
and compared with the stored UTC values, so a DST change day (23 or 25 hours) is right and the
``(dentista, inicio)`` index is usable (no function on the column).
"""

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from citas import cadenas, estados, reglas
from citas.estados import impedimento_del_paciente, limites_del_dia
from citas.models import (
    Cancelacion,
    Cierre,
    Cita,
    EstadoCita,
    HorarioAtencion,
    PorQuien,
    TipoCierre,
    ViaCancelacion,
)
from nucleo.servicios import es_id_valido
from nucleo.sql import cursor_preparado
from personal.models import Perfil, Rol, condicion_reservable, nombre_de_personal, sql_reservable


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


def resumen_del_dia(*, fecha: datetime.date | None = None, dentista_id: int | None = None, ahora=None) -> ResumenDia:
    """A day's appointments per dentist and the day's counts, in three queries whatever the
    number of appointments or dentists.

    Columns: every bookable dentist (``Perfil.objects.reservables()``), plus any other one who
    still has appointments that day, ordered by name. ``dentista_id`` narrows columns and
    counts to that dentist (a dentist sees only their own). Each appointment carries
    ``nombre_paciente``: the patient's current name, or the snapshot when there is no record
    (a person without one, or a deleted patient).
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
        dentistas.filter(condicion_reservable() | con_citas_hoy)
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
        libres=Count("pk", filter=del_dia & Q(**estados.filtro("asignar", ahora))),
        no_asistio_semana=Count(
            "pk", filter=Q(estado=EstadoCita.NO_ASISTIO, inicio__gte=desde_semana, inicio__lt=hasta_semana)
        ),
    )
    return ResumenDia(
        fecha=fecha,
        columnas=[ColumnaDentista(dentista=d, citas=por_dentista[d.pk]) for d in dentistas],
        **conteos,
    )


# Staff agenda: the day grid (dentists × times) and one dentist's week ----------------------


@dataclass(frozen=True)
class FilaAgenda:
    """One row of a grid: a local wall-clock time and, per column, the appointments that
    start then (usually none or one; two on the April DST day, when 23:xx happens twice)."""

    hora: str
    celdas: list[list[Cita]]


@dataclass(frozen=True, slots=True)
class DentistaEnGrilla:
    """A column of the day grid: what it shows of the dentist (``nombre`` as ``Perfil.nombre``)."""

    pk: int
    nombre: str
    activo: bool
    ausencia: str = ""  # "Vacaciones: congreso" when an absence of theirs covers the day


@dataclass(eq=False)
class CitaEnGrilla:
    """One appointment of the day grid as plain values: building ~300 ORM objects cost more
    than the query. Has what the grid shows and ``transiciones_posibles`` reads (``estado``,
    ``inicio``); ``nombre_paciente`` is the record's name or the snapshot (None without either)."""

    pk: int
    dentista_id: int
    inicio: datetime.datetime
    estado: str
    nombre_paciente: str | None
    dentista: DentistaEnGrilla | None
    hora_local: str = ""  # local "HH:MM", set by _grilla
    alergias: str | None = None  # the patient's allergies (clinical data: who sees them, personal.permisos)
    estado_anterior: str = ""  # what "deshacer" goes back to (``Cita.estado_anterior``)
    cancelaciones: tuple = ()  # CancelacionEnGrilla of this slot that day, oldest first
    bloqueo_motivo: str = ""  # why a ``bloqueada`` slot is not offered
    cierre_id: int | None = None  # the closure that blocked it (None: blocked on its own)
    prestacion: str = ""  # what the visit is for (``Prestacion.nombre``), "" without one
    fin: datetime.datetime | None = None  # its end (a booking of a prestación may hold several slots)
    bloques: int = 1  # how many grid slots it holds (``Cita.bloques``)

    @property
    def hasta_local(self) -> str:
        """Local "HH:MM" of the end, for a booking longer than one slot or of a prestación; ""
        otherwise (the grid's rows already say when a plain slot is)."""
        if self.fin is None or (self.bloques <= 1 and not self.prestacion):
            return ""
        local = self.fin.astimezone(timezone.get_current_timezone())
        return f"{local.hour:02d}:{local.minute:02d}"


@dataclass(frozen=True, slots=True)
class CancelacionEnGrilla:
    """One cancellation of a slot, as the day grid's history line shows it (plain values)."""

    creada: datetime.datetime
    nombre: str
    por: str  # PorQuien
    via: str  # ViaCancelacion
    motivo: str


@dataclass(frozen=True)
class AgendaDia:
    fecha: datetime.date
    dentistas: list[DentistaEnGrilla]
    filas: list[FilaAgenda]  # cells hold CitaEnGrilla
    cierre: str = ""  # "Feriado o cierre de la clínica: Fiestas Patrias" when the clinic is closed that day


@dataclass(frozen=True)
class AgendaSemana:
    dentista: Perfil
    dias: list[datetime.date]
    filas: list[FilaAgenda]
    cierres: list[str]  # per day of ``dias``: the closure or absence that covers it ("" when none)


def _citas_con_paciente(citas):
    return citas.annotate(
        nombre_paciente=Coalesce("cliente__nombre_completo", NullIf("paciente_nombre", Value("")))
    ).order_by("inicio", "pk")


def _grilla(citas, columnas, columna_de):
    """Rows keyed by local start time ``HH:MM``; ``columna_de(cita)`` gives the column key.
    Each appointment gets ``hora_local`` (that ``HH:MM``): a date filter per cell costs more."""
    zona = timezone.get_current_timezone()
    indice = {clave: n for n, clave in enumerate(columnas)}
    filas = {}
    for cita in citas:
        n = indice.get(columna_de(cita))
        if n is None:
            continue
        local = cita.inicio.astimezone(zona)
        hora = cita.hora_local = f"{local.hour:02d}:{local.minute:02d}"
        fila = filas.setdefault(hora, [[] for _ in columnas])
        fila[n].append(cita)
    return [FilaAgenda(hora=hora, celdas=filas[hora]) for hora in sorted(filas)]


# The day grid's two queries, written out: building them with the ORM cost more than running
# them (~2.5 ms against ~1 ms for 18 dentists and ~300 appointments). Columns: the columns of
# ``resumen_del_dia`` (bookable dentists, ``sql_reservable``, or with appointments that day, by
# name; citas/tests/test_reglas.py proves they agree); cells: the day's appointments in
# ``_citas_con_paciente``'s order, with the patient's current name or the snapshot, and the
# record's allergies (None when blank; the grid shows them or only an alert, by role).
# Each dentist row also carries their absence that day and the clinic's closure that day (the
# same on every row; the banner): two index lookups, not a third query.
_DENTISTAS_DEL_DIA_SQL = f"""
SELECT p.id, u.first_name, u.last_name, u.username, p.activo, au.tipo, au.motivo, cl.tipo, cl.motivo
  FROM personal_perfil p
  JOIN auth_user u ON u.id = p.user_id
  LEFT JOIN LATERAL (SELECT ci.tipo, ci.motivo FROM citas_cierre ci
                      WHERE ci.dentista_id = p.id AND ci.desde <= %s AND ci.hasta >= %s
                      ORDER BY ci.id LIMIT 1) au ON TRUE
  LEFT JOIN LATERAL (SELECT ci.tipo, ci.motivo FROM citas_cierre ci
                      WHERE ci.dentista_id IS NULL AND ci.desde <= %s AND ci.hasta >= %s
                      ORDER BY ci.id LIMIT 1) cl ON TRUE
 WHERE p.rol = %s{{}}
   AND (({sql_reservable("p", "u")})
        OR EXISTS (SELECT 1 FROM citas_cita c WHERE c.dentista_id = p.id AND c.inicio >= %s AND c.inicio < %s))
 ORDER BY u.first_name, u.last_name, p.id
"""
_CITAS_DEL_DIA_SQL = """
SELECT c.id, c.dentista_id, c.inicio, c.estado, COALESCE(p.nombre_completo, NULLIF(c.paciente_nombre, '')),
       NULLIF(btrim(p.alergias), ''), c.estado_anterior, c.bloqueo_motivo, c.cierre_id,
       COALESCE(pr.nombre, ''), c.fin, c.bloques
  FROM citas_cita c
  LEFT JOIN pacientes_cliente p ON p.id = c.cliente_id
  LEFT JOIN prestaciones_prestacion pr ON pr.id = c.prestacion_id
 WHERE c.inicio >= %s AND c.inicio < %s{}
 ORDER BY c.inicio, c.id
"""

# The day's cancellations (the history the grid keeps in each slot's cell), by the copied
# start (``cancelacion_inicio_idx``): one query for the whole day.
_CANCELACIONES_DEL_DIA_SQL = """
SELECT x.cita_id, x.creada, x.paciente_nombre, x.por, x.via, x.motivo
  FROM citas_cancelacion x
 WHERE x.inicio >= %s AND x.inicio < %s{}
 ORDER BY x.creada, x.id
"""


def agenda_del_dia(*, fecha: datetime.date, dentista_id: int | None = None) -> AgendaDia:
    """The day grid of the staff agenda: dentists as columns, local start times as rows.

    Three queries whatever the number of slots, dentists or cancellations. Columns: active
    dentists plus any inactive one with appointments that day (``dentista_id`` narrows to
    one), as ``DentistaEnGrilla``. Cells hold ``CitaEnGrilla`` values, each with its column's
    dentist and its slot's cancellations (``CancelacionEnGrilla``).
    """
    desde, hasta = limites_del_dia(fecha)
    de_uno = [] if dentista_id is None else [dentista_id]
    with connection.cursor() as cursor:
        cursor.execute(_DENTISTAS_DEL_DIA_SQL.format(" AND p.id = %s" if de_uno else ""),
                       [fecha, fecha, fecha, fecha, Rol.DENTISTA.value, *de_uno, desde, hasta])
        filas_dentistas = cursor.fetchall()
        dentistas = [
            DentistaEnGrilla(pk, nombre_de_personal(nombre, apellido, usuario), activo,
                             _texto_cierre(tipo, motivo))
            for pk, nombre, apellido, usuario, activo, tipo, motivo, *_ in filas_dentistas
        ]
        cursor.execute(_CITAS_DEL_DIA_SQL.format(" AND c.dentista_id = %s" if de_uno else ""),
                       [desde, hasta, *de_uno])
        valores = cursor.fetchall()
        cursor.execute(_CANCELACIONES_DEL_DIA_SQL.format(" AND x.dentista_id = %s" if de_uno else ""),
                       [desde, hasta, *de_uno])
        cancelaciones = {}
        for cita_id, *campos in cursor.fetchall():
            cancelaciones.setdefault(cita_id, []).append(CancelacionEnGrilla(*campos))
    por_pk = {d.pk: d for d in dentistas}
    lista = [
        CitaEnGrilla(pk, dentista, inicio, estado, nombre, por_pk.get(dentista), alergias=alergias,
                     estado_anterior=anterior, cancelaciones=tuple(cancelaciones.get(pk, ())),
                     bloqueo_motivo=motivo, cierre_id=cierre, prestacion=prestacion, fin=fin, bloques=bloques)
        for pk, dentista, inicio, estado, nombre, alergias, anterior, motivo, cierre, prestacion, fin, bloques in valores
    ]
    filas = _grilla(lista, [d.pk for d in dentistas], lambda c: c.dentista_id)
    cierre = _texto_cierre(*filas_dentistas[0][7:9]) if filas_dentistas else ""
    return AgendaDia(fecha=fecha, dentistas=dentistas, filas=filas, cierre=cierre)


_TIPOS = dict(TipoCierre.choices)


def _texto_cierre(tipo, motivo) -> str:
    """"Vacaciones: congreso" (``Cierre.texto``) from the row's values; "" without a closure."""
    return f"{_TIPOS.get(tipo, tipo)}: {motivo}" if tipo else ""


def cancelaciones_de_cita(*, cita_id: int):
    """The cancellations of one slot, oldest first, with who recorded them (``usuario``).
    One query."""
    return list(Cancelacion.objects.filter(cita_id=cita_id).select_related("usuario").order_by("creada", "pk"))


def agenda_semanal(*, dentista: Perfil, lunes: datetime.date) -> AgendaSemana:
    """One dentist's week (Monday to Sunday): days as columns, local start times as rows, and
    the closures and absences that cover each day. Two queries."""
    dias = [lunes + datetime.timedelta(days=n) for n in range(7)]
    desde, _ = limites_del_dia(dias[0])
    _, hasta = limites_del_dia(dias[-1])
    lista = list(_citas_con_paciente(Cita.objects.filter(dentista_id=dentista.pk, inicio__gte=desde, inicio__lt=hasta)))
    for cita in lista:
        cita.dentista = dentista
    filas = _grilla(lista, dias, lambda c: timezone.localdate(c.inicio))
    cierres = [""] * 7
    for cierre in Cierre.objects.que_cubren(dentista=dentista.pk, desde=dias[0], hasta=dias[-1]).order_by(
        F("dentista_id").asc(nulls_first=True), "pk"
    ):
        for n, dia in enumerate(dias):
            if cierre.desde <= dia <= cierre.hasta and not cierres[n]:
                cierres[n] = ("Clínica cerrada. " if cierre.dentista_id is None else "") + cierre.texto
    return AgendaSemana(dentista=dentista, dias=dias, filas=filas, cierres=cierres)


def horas_libres(*, desde: datetime.datetime, hasta: datetime.datetime, excluir_id: int | None = None,
                 dentista_id: int | None = None, limite=300):
    """Slots staff can give (``Cita.objects.libres`` at ``desde``, without the portal's notice)
    starting before ``hasta``, of all dentists or one, in time order, with their dentist's
    user: the choices for rescheduling. One query, at most ``limite``."""
    citas = Cita.objects.libres(ahora=desde, anticipacion=False).filter(inicio__lt=hasta)
    if dentista_id is not None:
        citas = citas.filter(dentista_id=dentista_id)
    if excluir_id is not None:
        citas = citas.exclude(pk=excluir_id)
    return list(citas.select_related("dentista__user").order_by("inicio", "dentista__user__first_name", "pk")[:limite])


@dataclass(frozen=True, slots=True)
class DiaDelSelector:
    """One day of the picker's week strip: its date and how many free times it has."""

    fecha: datetime.date
    libres: int


@dataclass(frozen=True)
class SelectorDeHoras:
    """What the staff's time picker shows for one dentist: the week of ``fecha`` (Monday to
    Sunday, with free counts), the free times of ``fecha`` and, when that week has none, the
    next day that has (``proxima``, else None)."""

    dentista_id: int
    fecha: datetime.date
    dias: list[DiaDelSelector]
    horas: list["HoraLibre"]  # ``fecha``'s free times, each with ``hora_local``
    proxima: datetime.date | None

    @property
    def lunes(self) -> datetime.date:
        return self.dias[0].fecha


def selector_de_horas(*, dentista_id: int, fecha: datetime.date | None = None, primer_dia_libre=False,
                      ahora=None, excluir_id: int | None = None, duracion_minutos: int | None = None) -> SelectorDeHoras:
    """The staff's time picker (reschedule, "Dar hora"): the slots staff can give now
    (``Cita.objects.libres`` without the portal's notice) of one dentist in ``fecha``'s week.

    ``fecha`` None: the day of the dentist's next free time (today when there is none).
    ``primer_dia_libre``: the first day of ``fecha``'s week that has free times (``fecha``
    itself when none has). One query for the week (its times are counted here, not by a
    second query), plus one to find the next free day when ``fecha`` is None or the week has
    none.

    ``duracion_minutos`` (moving a booking of a prestación): only the times from which the
    contiguous free time covers it (``citas.cadenas.que_caben``), each with its end.
    """
    ahora = ahora or timezone.now()
    zona = timezone.get_current_timezone()
    libres = Cita.objects.libres(ahora=ahora, anticipacion=False).filter(dentista_id=dentista_id)
    if excluir_id is not None:
        libres = libres.exclude(pk=excluir_id)
    if fecha is None:
        primera = libres.order_by("inicio").values_list("inicio", flat=True).first()
        fecha = primera.astimezone(zona).date() if primera else timezone.localdate(ahora)
    lunes = fecha - datetime.timedelta(days=fecha.weekday())
    desde, _ = limites_del_dia(lunes)
    _, hasta = limites_del_dia(lunes + datetime.timedelta(days=6))
    duracion = datetime.timedelta(minutes=duracion_minutos) if duracion_minutos else None
    # With a duration the chains of the week's last times may reach past its end.
    semana = list(libres.filter(inicio__gte=desde, inicio__lt=hasta + (duracion or datetime.timedelta(0)))
                  .order_by("inicio", "pk").values_list("pk", "inicio", "fin"))
    caben = cadenas.que_caben(semana, duracion) if duracion else None
    por_dia: dict[datetime.date, list] = {}
    for pk, inicio, fin in semana:
        if inicio >= hasta or (caben is not None and pk not in caben):
            continue
        local = inicio.astimezone(zona)
        hora = HoraLibre(pk, inicio, dentista_id, "", hora_local=f"{local.hour:02d}:{local.minute:02d}")
        if caben is not None:
            hora.fin = caben[pk]
            final = hora.fin.astimezone(zona)
            hora.hora_fin_local = f"{final.hour:02d}:{final.minute:02d}"
        por_dia.setdefault(local.date(), []).append(hora)
    dias = [DiaDelSelector(lunes + datetime.timedelta(days=n), 0) for n in range(7)]
    dias = [DiaDelSelector(d.fecha, len(por_dia.get(d.fecha, ()))) for d in dias]
    if primer_dia_libre and fecha not in por_dia and por_dia:
        fecha = min(por_dia)
    proxima = None
    if not por_dia:
        siguiente = libres.filter(inicio__gte=hasta).order_by("inicio").values_list("inicio", flat=True).first()
        proxima = siguiente.astimezone(zona).date() if siguiente else None
    return SelectorDeHoras(dentista_id=dentista_id, fecha=fecha, dias=dias, horas=por_dia.get(fecha, []),
                           proxima=proxima)


def proximo_dia_con_horas(*, despues_de: datetime.date, dentista_id: int | None = None) -> datetime.date | None:
    """The first Santiago day after ``despues_de`` with any slot (free or booked) of any
    dentist, or of ``dentista_id``: the staff home's "next working day". One query (an index
    scan on ``inicio``)."""
    _, hasta = limites_del_dia(despues_de)
    citas = Cita.objects.filter(inicio__gte=hasta)
    if dentista_id is not None:
        citas = citas.filter(dentista_id=dentista_id)
    inicio = citas.order_by("inicio").values_list("inicio", flat=True).first()
    return timezone.localdate(inicio) if inicio else None


def horario_de(*, dentista_id: int):
    """A dentist's weekly hours, by weekday and start (for the hours form)."""
    return list(HorarioAtencion.objects.filter(dentista_id=dentista_id).order_by("dia_semana", "hora_inicio"))


def proxima_cita(*, cliente_id: int, ahora=None):
    """The patient's next reserved or confirmed appointment (for the portal's home), or None."""
    ahora = ahora or timezone.now()
    return (
        Cita.objects.filter(
            cliente_id=cliente_id, estado__in=(EstadoCita.RESERVADA, EstadoCita.CONFIRMADA), inicio__gt=ahora
        )
        .select_related("dentista__user")
        .order_by("inicio")
        .first()
    )


# Patient portal: free slots to book, and the patient's own appointments ---------------------


def semana_de_reserva(*, semana: int, ahora=None) -> tuple[datetime.date, datetime.date]:
    """First and last local day of the ``semana``-th week (0 = starting today) of the window."""
    ahora = ahora or timezone.now()
    primero = timezone.localdate(ahora) + datetime.timedelta(weeks=semana)
    return primero, primero + datetime.timedelta(days=6)


@dataclass(slots=True)
class HoraLibre:
    """A bookable slot as the portal's buttons show it: plain values, no model instances (a
    week may hold hundreds of buttons; three ORM objects each cost more than the page)."""

    pk: int
    inicio: datetime.datetime
    dentista_id: int
    nombre: str  # the dentist's (``nombre_de_personal``)
    hora_local: str = ""  # set by ``agrupar_por_dia``
    enlace: str = ""  # set by the view
    fin: datetime.datetime | None = None  # set by ``hora_para_reservar`` (the confirm step shows it)
    hora_fin_local: str = ""  # set by ``agrupar_por_dia`` when ``fin`` is known (a prestación's end)

    @property
    def minutos_reservados(self) -> int:
        return int((self.fin - self.inicio).total_seconds() // 60) if self.fin else 0


# The free slots a patient may book, ``Cita.objects.libres(ahora=…).en_la_ventana(ahora=…)``
# written out in SQL and on one table (citas/tests/test_reglas.py proves they agree): building
# the query with the ORM cost more than running it, and the booking page asks for it on every
# view. The bookable dentists and their names come from ``opciones_de_dentista`` (the page reads
# them anyway), so PostgreSQL plans and runs a plain index scan. The start comes as
# microseconds since the epoch (exact): converting each one to an aware datetime costs more
# than the rest of the row, and the page needs it only when it renders the list (not when it
# reuses it).
_HORAS_LIBRES_SQL = """
SELECT c.id, (extract(epoch FROM c.inicio) * 1000000)::int8, c.dentista_id
  FROM citas_cita c
 WHERE c.estado = %s AND c.inicio > %s AND c.inicio >= %s AND c.inicio < %s AND c.dentista_id = ANY(%s){}
 ORDER BY c.inicio, c.id
"""


# The start times where a prestación fits (issue 17), written out for the same reason: each free
# slot of the chosen dentists from which the run of contiguous free slots (each starting where the
# previous one ends) covers the prestación's duration D. One window over each dentist's free slots
# in start order: the frame ``RANGE BETWEEN CURRENT ROW AND <D - 1 µs> FOLLOWING`` holds the slots
# that start before the slot's start + D, which is the chain booking it would take
# (``citas.cadenas``) when they are contiguous. Free slots of one dentist never overlap (the
# exclusion constraint), so they are contiguous exactly when their lengths add up to the span
# from the slot's start to their latest end (a gap makes the sum shorter); the chain covers D when
# that end is at least start + D, and that end is where the booking would end (the button shows
# it). Gaps and islands without numbering the islands: one sort, one window (numbering them took
# three windows and four times the time). The scan reaches one duration past the last start
# offered, for the chains of the last slots; the start alone must satisfy the window, the notice
# and the week.
_HORAS_QUE_CABEN_SQL = """
SELECT id, (extract(epoch FROM inicio) * 1000000)::int8, dentista_id, (extract(epoch FROM hasta) * 1000000)::int8
  FROM (
    SELECT c.id, c.inicio, c.dentista_id, max(c.fin) OVER w AS hasta, sum(c.fin - c.inicio) OVER w AS ocupado,
           min(c.fin - c.inicio) OVER w AS corto, max(c.fin - c.inicio) OVER w AS largo
      FROM citas_cita c
     WHERE c.estado = %(disponible)s AND c.dentista_id = ANY(%(dentistas)s) AND c.inicio > %(ahora)s
       AND c.inicio >= %(desde)s AND c.inicio < %(hasta)s + %(duracion)s
    WINDOW w AS (PARTITION BY c.dentista_id ORDER BY c.inicio RANGE BETWEEN CURRENT ROW AND %(alcance)s FOLLOWING)
  ) cadenas
 WHERE inicio < %(hasta)s AND hasta >= inicio + %(duracion)s AND ocupado = hasta - inicio AND corto = largo
   AND id <> %(excluir)s
 ORDER BY inicio, id
"""


def _filas_que_caben(*, activos, ahora, semana, excluir_id, duracion_minutos) -> list[tuple]:
    """``filas_de_horas_libres`` for a prestación of ``duracion_minutos``: rows (id, start,
    dentist, end of the chain), times in microseconds since the epoch. One prepared query."""
    duracion = datetime.timedelta(minutes=duracion_minutos)
    desde, hasta = reglas.inicio_minimo_para_reservar(ahora), reglas.fin_de_la_ventana(ahora)
    if semana is not None:
        primero, ultimo = semana_de_reserva(semana=semana, ahora=ahora)
        desde = max(desde, limites_del_dia(primero)[0])
        hasta = min(hasta, limites_del_dia(ultimo)[1])
    with cursor_preparado() as cursor:
        cursor.execute(_HORAS_QUE_CABEN_SQL, {
            "disponible": EstadoCita.DISPONIBLE.value, "dentistas": activos, "ahora": ahora, "desde": desde,
            "hasta": hasta, "duracion": duracion, "alcance": duracion - datetime.timedelta(microseconds=1),
            "excluir": excluir_id or 0,
        })
        return cursor.fetchall()


def filas_de_horas_libres(*, dentistas: list["OpcionDentista"], dentista_id: int | None = None, ahora=None,
                          semana: int | None = None, excluir_id: int | None = None,
                          duracion_minutos: int | None = None) -> list[tuple]:
    """Free slots a patient may book now (free, past the minimum notice, inside the booking
    window: the time rule of ``reservar_cita``, ``citas.reglas``), of the ``dentistas`` given
    (the active ones: ``opciones_de_dentista()``) or one of them, optionally one week
    (``semana_de_reserva``) and without ``excluir_id``; as raw rows (id, start in microseconds
    since the epoch, dentist id) in start order: hashable, so the portal can tell whether the
    list it rendered last is still the same without building it. One query. (The plain ORM
    definition it must equal: ``Cita.objects.libres(...).en_la_ventana(...)``.)

    With ``duracion_minutos`` (booking a prestación): only the starts where that much contiguous
    free time of the same dentist begins, each row with a fourth value, the end of the time the
    booking would hold (``_HORAS_QUE_CABEN_SQL``)."""
    ahora = ahora or timezone.now()
    activos = [d.pk for d in dentistas]
    if dentista_id is not None:
        activos = [dentista_id] if dentista_id in activos else []
    if duracion_minutos is not None:
        return _filas_que_caben(activos=activos, ahora=ahora, semana=semana, excluir_id=excluir_id,
                                duracion_minutos=duracion_minutos)
    condiciones = []
    parametros = [EstadoCita.DISPONIBLE.value, ahora, reglas.inicio_minimo_para_reservar(ahora),
                  reglas.fin_de_la_ventana(ahora), activos]
    if excluir_id is not None:
        condiciones.append(" AND c.id <> %s")
        parametros.append(excluir_id)
    if semana is not None:
        primero, ultimo = semana_de_reserva(semana=semana, ahora=ahora)
        desde, _ = limites_del_dia(primero)
        _, hasta = limites_del_dia(ultimo)
        condiciones.append(" AND c.inicio >= %s AND c.inicio < %s")
        parametros += [desde, hasta]
    with cursor_preparado() as cursor:
        cursor.execute(_HORAS_LIBRES_SQL.format("".join(condiciones)), parametros)
        return cursor.fetchall()


_EPOCA = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def horas_de_filas(filas, dentistas: list["OpcionDentista"]) -> list["HoraLibre"]:
    """``HoraLibre`` values of ``filas_de_horas_libres``' rows, same-time slots in the order of
    ``dentistas``."""
    posicion = {d.pk: (i, d.nombre) for i, d in enumerate(dentistas)}
    ordenadas = sorted(filas, key=lambda f: (f[1], posicion[f[2]][0], f[0]))
    return [
        HoraLibre(pk, _EPOCA + datetime.timedelta(microseconds=micros), dentista, posicion[dentista][1],
                  fin=_EPOCA + datetime.timedelta(microseconds=fin[0]) if fin else None)
        for pk, micros, dentista, *fin in ordenadas
    ]


def horas_libres_para_reservar(*, dentista_id: int | None = None, ahora=None, semana: int | None = None,
                               excluir_id: int | None = None) -> list["HoraLibre"]:
    """Free slots a patient may book (``filas_de_horas_libres``) as ``HoraLibre`` values, in time
    order. Two queries (dentists, slots)."""
    dentistas = opciones_de_dentista()
    filas = filas_de_horas_libres(dentistas=dentistas, dentista_id=dentista_id, ahora=ahora, semana=semana,
                                  excluir_id=excluir_id)
    return horas_de_filas(filas, dentistas)


@dataclass(frozen=True)
class DiaConHoras:
    fecha: datetime.date
    horas: list  # Cita or HoraLibre, each with ``hora_local`` ("10:30", Santiago)


def agrupar_por_dia(horas) -> list[DiaConHoras]:
    """Slots (in time order) grouped by their Santiago day. Each gets ``hora_local``: computed
    once here, not by a template filter per button (hundreds of buttons on the page)."""
    zona = timezone.get_current_timezone()
    dias: dict[datetime.date, list[Cita]] = {}
    for hora in horas:
        local = hora.inicio.astimezone(zona)
        hora.hora_local = f"{local.hour:02d}:{local.minute:02d}"  # = "%H:%M", without strftime
        if isinstance(hora, HoraLibre) and hora.fin is not None:
            fin = hora.fin.astimezone(zona)
            hora.hora_fin_local = f"{fin.hour:02d}:{fin.minute:02d}"
        dias.setdefault(local.date(), []).append(hora)
    return [DiaConHoras(fecha=fecha, horas=lista) for fecha, lista in dias.items()]


@dataclass(frozen=True, slots=True)
class OpcionDentista:
    pk: int
    nombre: str  # ``nombre_de_personal``, as ``Perfil.nombre``
    especialidad: str = ""  # ``Perfil.especialidad``: shown beside the name on the portal


# ``Perfil.objects.reservables()`` by name, written out for the same reason as _HORAS_LIBRES_SQL.
_OPCIONES_DE_DENTISTA_SQL = f"""
SELECT p.id, p.especialidad, u.first_name, u.last_name, u.username
  FROM personal_perfil p JOIN auth_user u ON u.id = p.user_id
 WHERE {sql_reservable("p", "u")}
 ORDER BY u.first_name, u.last_name, p.id
"""


_OPCIONES_DE_DENTISTA_DE_SQL = _OPCIONES_DE_DENTISTA_SQL.replace(" ORDER BY", """
   AND EXISTS (SELECT 1 FROM prestaciones_prestaciondentista pd WHERE pd.dentista_id = p.id AND pd.prestacion_id = %s)
 ORDER BY""")


def opciones_de_dentista(*, prestacion_id: int | None = None) -> list[OpcionDentista]:
    """Bookable dentists (``Perfil.objects.reservables()``), by name, as plain values: the
    portal's choice list needs id, name and specialty; with ``prestacion_id``, only those who
    perform it (``PrestacionDentista``). One query."""
    with cursor_preparado() as cursor:
        if prestacion_id is None:
            cursor.execute(_OPCIONES_DE_DENTISTA_SQL)
        else:
            cursor.execute(_OPCIONES_DE_DENTISTA_DE_SQL, [prestacion_id])
        filas = cursor.fetchall()
    return [OpcionDentista(pk, nombre_de_personal(*nombres), especialidad or "") for pk, especialidad, *nombres in filas]


@dataclass(frozen=True, slots=True)
class OpcionPrestacion:
    """A prestación as the portal's first booking step shows it."""

    pk: int
    nombre: str
    duracion_minutos: int
    precio: int  # integer CLP
    especialidad: str = ""


_PRESTACIONES_EN_LINEA_SQL = """
SELECT id, nombre, duracion_minutos, precio, especialidad FROM prestaciones_prestacion
 WHERE activa AND reservable_en_linea ORDER BY nombre, id
"""


# The booking page's first query, written out: the bookable dentists (as
# ``_OPCIONES_DE_DENTISTA_SQL``) and whether the clinic offers any prestación online (then the
# page asks what the visit is for first). One row even without dentists.
_OPCIONES_Y_OFERTA_SQL = f"""
SELECT h.hay, p.id, p.especialidad, u.first_name, u.last_name, u.username
  FROM (SELECT EXISTS (SELECT 1 FROM prestaciones_prestacion WHERE activa AND reservable_en_linea) AS hay) h
  LEFT JOIN (personal_perfil p JOIN auth_user u ON u.id = p.user_id) ON {sql_reservable("p", "u")}
 ORDER BY u.first_name, u.last_name, p.id
"""
# With a prestación chosen: that prestación (if online-bookable) and the bookable dentists who
# perform it, in one query (one row with NULL dentist when nobody does).
_PRESTACION_Y_DENTISTAS_SQL = f"""
SELECT pr.id, pr.nombre, pr.duracion_minutos, pr.precio, pr.especialidad,
       d.id, d.especialidad, d.first_name, d.last_name, d.username
  FROM prestaciones_prestacion pr
  LEFT JOIN LATERAL (
    SELECT p.id, p.especialidad, u.first_name, u.last_name, u.username
      FROM personal_perfil p JOIN auth_user u ON u.id = p.user_id
      JOIN prestaciones_prestaciondentista pd ON pd.dentista_id = p.id AND pd.prestacion_id = pr.id
     WHERE {sql_reservable("p", "u")}
  ) d ON TRUE
 WHERE pr.id = %s AND pr.activa AND pr.reservable_en_linea
 ORDER BY d.first_name, d.last_name, d.id
"""


@dataclass(frozen=True)
class OpcionesDeReserva:
    """What the booking page offers before the slots: the prestación chosen (None: none chosen,
    or the clinic offers none online), the dentists to choose from (who perform it), and
    whether the clinic offers prestaciones online at all (``pide_prestacion``: then a booking
    needs one)."""

    prestacion: "OpcionPrestacion | None"
    dentistas: list[OpcionDentista]
    pide_prestacion: bool


def opciones_de_reserva(*, prestacion_id: int | None = None) -> OpcionesDeReserva:
    """The booking page's first read. Without ``prestacion_id``: the bookable dentists and
    whether prestaciones are offered online. With it: that online-bookable prestación and the
    dentists who perform it (``prestacion`` None when it is not one: the page asks again).
    One query either way (the page before prestaciones made one too)."""
    with cursor_preparado() as cursor:
        if prestacion_id is None:
            cursor.execute(_OPCIONES_Y_OFERTA_SQL)
            filas = cursor.fetchall()
            return OpcionesDeReserva(None, [
                OpcionDentista(pk, nombre_de_personal(*nombres), especialidad or "")
                for _, pk, especialidad, *nombres in filas if pk is not None
            ], bool(filas[0][0]))
        cursor.execute(_PRESTACION_Y_DENTISTAS_SQL, [prestacion_id])
        filas = cursor.fetchall()
    if not filas:
        return OpcionesDeReserva(None, [], True)
    return OpcionesDeReserva(OpcionPrestacion(*filas[0][:5]), [
        OpcionDentista(pk, nombre_de_personal(*nombres), especialidad or "")
        for pk, especialidad, *nombres in (fila[5:] for fila in filas) if pk is not None
    ], True)


def prestaciones_en_linea() -> list[OpcionPrestacion]:
    """What a patient may book on the portal (``Prestacion.objects.reservables_en_linea()``,
    written out and prepared: the booking page asks on every view), by name. Empty: the clinic
    offers none online, and the portal books single slots as before prestaciones. One query."""
    with cursor_preparado() as cursor:
        cursor.execute(_PRESTACIONES_EN_LINEA_SQL)
        return [OpcionPrestacion(*fila) for fila in cursor.fetchall()]


# ``filas_de_horas_libres``' rule (``Cita.objects.libres(…).en_la_ventana(…)``) for one slot,
# written out and prepared (nucleo.sql): every booking attempt asks it first, and the ORM took
# longer to build it than PostgreSQL to run it.
_HORA_PARA_RESERVAR_SQL = f"""
SELECT c.id, c.inicio, c.dentista_id, u.first_name, u.last_name, u.username, c.fin
  FROM citas_cita c
  JOIN personal_perfil p ON p.id = c.dentista_id JOIN auth_user u ON u.id = p.user_id
 WHERE c.id = %(id)s AND c.estado = %(disponible)s AND c.inicio > %(ahora)s AND c.inicio >= %(minimo)s
   AND c.inicio < %(fin)s AND {sql_reservable("p", "u")}
"""


def hora_para_reservar(*, cita_id: int, ahora=None) -> HoraLibre | None:
    """The slot ``cita_id`` if a patient may book it now (free, in the window, an active
    dentist's), as a ``HoraLibre`` with its end; else None. One query."""
    if not es_id_valido(cita_id):
        return None
    ahora = ahora or timezone.now()
    with cursor_preparado() as cursor:
        cursor.execute(_HORA_PARA_RESERVAR_SQL, {
            "id": cita_id, "disponible": EstadoCita.DISPONIBLE.value, "ahora": ahora,
            "minimo": reglas.inicio_minimo_para_reservar(ahora), "fin": reglas.fin_de_la_ventana(ahora),
        })
        fila = cursor.fetchone()
    if fila is None:
        return None
    pk, inicio, dentista, nombre, apellido, usuario, fin = fila
    return HoraLibre(pk, inicio, dentista, nombre_de_personal(nombre, apellido, usuario), fin=fin)


def es_reserva_propia(*, cita_id, user) -> bool:
    """Whether the slot ``cita_id`` is a live booking (``estados.ESTADOS_VIVOS``) of ``user``'s
    patient: a patient back on the booking page of a slot they just took is told it is theirs,
    not that somebody else took it. One query."""
    if not es_id_valido(cita_id) or not getattr(user, "pk", None):
        return False
    return Cita.objects.filter(pk=cita_id, cliente__user_id=user.pk, estado__in=estados.ESTADOS_VIVOS).exists()


# The nearest bookable slots, written out: only the ``limite`` nearest on each side of the
# reference time, of all dentists and of the same one, can make the list, so four short index
# scans replace sorting every bookable slot (~13 ms with 10,000 of them, paid by each patient
# who lost a race for a slot). Order and ties as before: same dentist first, distance, id.
# ``_LIBRE`` is ``Cita.objects.libres(…).en_la_ventana(…)`` written out.
_LIBRE = f"""
SELECT c.id FROM citas_cita c
  JOIN personal_perfil p ON p.id = c.dentista_id JOIN auth_user u ON u.id = p.user_id
 WHERE c.estado = %(disponible)s AND c.inicio > %(ahora)s AND c.inicio >= %(minimo)s AND c.inicio < %(fin)s
   AND {sql_reservable("p", "u")} AND c.id <> ALL(%(excluir)s::bigint[])"""
# One SELECT (no WITH): prepared once per connection (nucleo.sql). The reference slot and the
# moment are scalar subqueries, each evaluated once.
_REF_INICIO = "COALESCE((SELECT inicio FROM citas_cita WHERE id = %(ref)s), %(ahora)s)"
_REF_DENTISTA = "(SELECT dentista_id FROM citas_cita WHERE id = %(ref)s)"
_HORAS_CERCANAS_SQL = f"""
SELECT c.id, c.inicio, c.dentista_id, u.first_name, u.last_name, u.username FROM citas_cita c
  JOIN personal_perfil p ON p.id = c.dentista_id JOIN auth_user u ON u.id = p.user_id
 WHERE c.id IN (
   ({_LIBRE} AND c.inicio >= {_REF_INICIO} ORDER BY c.inicio, c.id LIMIT %(limite)s)
   UNION ALL
   ({_LIBRE} AND c.inicio < {_REF_INICIO} ORDER BY c.inicio DESC, c.id LIMIT %(limite)s)
   UNION ALL
   ({_LIBRE} AND c.dentista_id = {_REF_DENTISTA} AND c.inicio >= {_REF_INICIO}
     ORDER BY c.inicio, c.id LIMIT %(limite)s)
   UNION ALL
   ({_LIBRE} AND c.dentista_id = {_REF_DENTISTA} AND c.inicio < {_REF_INICIO}
     ORDER BY c.inicio DESC, c.id LIMIT %(limite)s)
 )
 ORDER BY (c.dentista_id IS DISTINCT FROM {_REF_DENTISTA}),
          ABS(EXTRACT(EPOCH FROM (c.inicio - {_REF_INICIO}))), c.id
 LIMIT %(limite)s
"""


def horas_cercanas(*, cita_id: int | None, ahora=None, limite: int = 6,
                   excluir_id: int | None = None) -> list[HoraLibre]:
    """Bookable slots nearest in time to slot ``cita_id`` (taken or gone meanwhile), the same
    dentist's first; from now on when that slot does not exist. As ``HoraLibre`` values (the
    page of a patient who lost a race shows date, time and dentist). One query."""
    ahora = ahora or timezone.now()
    referencia = cita_id if es_id_valido(cita_id) else None
    excluir = [i for i in (referencia, excluir_id) if es_id_valido(i)]
    with cursor_preparado() as cursor:
        cursor.execute(_HORAS_CERCANAS_SQL, {
            "disponible": EstadoCita.DISPONIBLE.value, "ahora": ahora,
            "minimo": reglas.inicio_minimo_para_reservar(ahora), "fin": reglas.fin_de_la_ventana(ahora),
            "excluir": excluir, "ref": referencia, "limite": limite,
        })
        filas = cursor.fetchall()
    return [
        HoraLibre(pk, inicio, dentista, nombre_de_personal(nombre, apellido, usuario))
        for pk, inicio, dentista, nombre, apellido, usuario in filas
    ]


@dataclass(frozen=True)
class AccionesDelPaciente:
    """What the patient may do to their appointment now, and why not (the service's message)."""

    confirmar: bool
    cancelar: bool
    reprogramar: bool
    por_que_no_cancelar: str
    por_que_no_reprogramar: str
    limite_cambios: datetime.datetime  # until when the portal accepts a cancel or a move


def acciones_del_paciente(cita: Cita, *, ahora) -> AccionesDelPaciente:
    """The flags of the portal's buttons, from the same rules the services enforce."""
    impedimentos = {a: impedimento_del_paciente(cita, a, ahora=ahora) for a in ("confirmar", "cancelar", "reprogramar")}
    return AccionesDelPaciente(
        confirmar=impedimentos["confirmar"] is None,
        cancelar=impedimentos["cancelar"] is None,
        reprogramar=impedimentos["reprogramar"] is None,
        por_que_no_cancelar=impedimentos["cancelar"].messages[0] if impedimentos["cancelar"] else "",
        por_que_no_reprogramar=impedimentos["reprogramar"].messages[0] if impedimentos["reprogramar"] else "",
        limite_cambios=reglas.limite_para_cambios(cita.inicio),
    )


_ESTADOS_VIGENTES = (EstadoCita.RESERVADA, EstadoCita.CONFIRMADA, EstadoCita.EN_ESPERA)


# The reason migration 0007 gave the clinic's cancellations older than the history table: a
# note for the staff, not something the clinic told the patient.
MOTIVO_NO_REGISTRADO = "(motivo no registrado: cancelada antes del historial)"

_VIA_PARA_EL_PACIENTE = {
    ViaCancelacion.PORTAL: "en el portal",
    ViaCancelacion.ENLACE: "con el enlace del aviso",
    ViaCancelacion.PERSONAL: "avisando a la clínica",
}


@dataclass(frozen=True, slots=True)
class CitaCancelada:
    """One cancelled appointment as its patient sees it (``Cancelacion`` row): the original day,
    time and dentist, when it was cancelled and by whom — the patient or the clinic, never which
    staff member (``usuario``). ``motivo`` is only the clinic's reason, which the patient's
    notice carried (``cita_cancelada_clinica``); a patient's own cancellation shows none (the
    desk's note of how they asked is internal). ``cita_id``: the appointment's page, only while
    the cancelled appointment is still theirs (the clinic's; a patient's frees the slot)."""

    inicio: datetime.datetime
    dentista: str
    cancelada_en: datetime.datetime
    por_paciente: bool
    como: str  # "en el portal", "con el enlace del aviso", "avisando a la clínica" ("" for the clinic's)
    motivo: str
    cita_id: int | None

    @property
    def quien(self) -> str:
        return "Cancelada por usted" if self.por_paciente else "Cancelada por la clínica"


def canceladas_del_paciente(*, cliente_id: int, limite: int = 50) -> list[CitaCancelada]:
    """The patient's cancelled appointments, the most recently cancelled first (at most
    ``limite``). One query."""
    filas = (Cancelacion.objects.filter(cliente_id=cliente_id)
             .select_related("dentista__user", "cita").order_by("-creada", "-pk")[:limite])
    return [
        CitaCancelada(
            inicio=x.inicio, dentista=x.dentista.nombre, cancelada_en=x.creada,
            por_paciente=x.por == PorQuien.PACIENTE,
            como=_VIA_PARA_EL_PACIENTE.get(x.via, "") if x.por == PorQuien.PACIENTE else "",
            motivo="" if x.por == PorQuien.PACIENTE or x.motivo == MOTIVO_NO_REGISTRADO else x.motivo,
            cita_id=x.cita_id if (x.por == PorQuien.CLINICA and x.cita.cliente_id == cliente_id
                                  and x.cita.estado == EstadoCita.CANCELADA) else None,
        )
        for x in filas
    ]


@dataclass(frozen=True)
class CitasDelPaciente:
    proximas: list[Cita]  # in time order, each with ``acciones``
    anteriores: list[Cita]  # most recent first: attended, no-show, past bookings never marked
    canceladas: list[CitaCancelada]  # most recently cancelled first, by the patient or the clinic


def citas_del_paciente(*, cliente_id: int, ahora=None, limite_anteriores: int = 50) -> CitasDelPaciente:
    """The patient's upcoming appointments (with what they may do to each), their past ones and
    their cancelled ones (``canceladas_del_paciente``: a patient's cancellation frees the slot,
    so only its history row remembers it). Three queries whatever the number. A live booking
    stays "upcoming" until it ends."""
    ahora = ahora or timezone.now()
    propias = Cita.objects.filter(cliente_id=cliente_id).select_related("dentista__user", "prestacion")
    vigentes = Q(estado__in=_ESTADOS_VIGENTES, fin__gt=ahora)
    proximas = list(propias.filter(vigentes).order_by("inicio", "pk"))
    for cita in proximas:
        cita.acciones = acciones_del_paciente(cita, ahora=ahora)
    # The clinic's cancellations are listed once, with the others (every one has its history row).
    anteriores = list(propias.exclude(vigentes).exclude(estado=EstadoCita.CANCELADA)
                      .order_by("-inicio", "-pk")[:limite_anteriores])
    return CitasDelPaciente(proximas=proximas, anteriores=anteriores,
                            canceladas=canceladas_del_paciente(cliente_id=cliente_id, limite=limite_anteriores))


def cita_del_paciente(*, cliente_id: int, cita_id: int, ahora=None) -> Cita | None:
    """The patient's own appointment ``cita_id`` with ``acciones``, or None (someone else's,
    a free slot, or no such id): the portal answers 404 for all of them alike. One query."""
    if not es_id_valido(cita_id):
        return None
    ahora = ahora or timezone.now()
    cita = Cita.objects.select_related("dentista__user", "prestacion").filter(pk=cita_id, cliente_id=cliente_id).first()
    if cita is not None:
        cita.acciones = acciones_del_paciente(cita, ahora=ahora)
    return cita
politica_del_portal = reglas.politica_del_portal  # plain data for the portal: re-exported for the views


def reservas_futuras_del_dentista(dentista_id) -> int:
    """How many live bookings (reserved, confirmed, waiting) a dentist has from now on.
    ``PERSONAL_RESERVAS_FUTURAS`` names it for ``personal.services.editar_personal``."""
    return Cita.objects.filter(
        dentista_id=dentista_id, inicio__gte=timezone.now(),
        estado__in=(EstadoCita.RESERVADA, EstadoCita.CONFIRMADA, EstadoCita.EN_ESPERA),
    ).count()


# A booking's identity (``Cita.reserva_uid``): where it is now, for links made before a move ---


@dataclass(frozen=True)
class Reserva:
    """Where a booking is now: ``cita``, the row holding it, or, once cancelled,
    ``cancelacion`` (its history row, with the dentist and the slot it left)."""

    cita: Cita | None = None
    cancelacion: Cancelacion | None = None

    @property
    def cancelada(self) -> bool:
        return self.cita is None or self.cita.estado == EstadoCita.CANCELADA


def reserva(*, reserva_uid, cliente_id=None) -> Reserva | None:
    """The booking ``reserva_uid`` (only the patient ``cliente_id``'s, when given): its live
    row, else its cancellation; None when there is neither (or it is someone else's). One
    query while the booking lives, two once cancelled."""
    citas = Cita.objects.select_related("dentista__user").filter(reserva_uid=reserva_uid)
    if cliente_id is not None:
        citas = citas.filter(cliente_id=cliente_id)
    cita = citas.first()
    if cita is not None:
        return Reserva(cita=cita)
    cancelaciones = Cancelacion.objects.select_related("dentista__user", "cita").filter(reserva_uid=reserva_uid)
    if cliente_id is not None:
        cancelaciones = cancelaciones.filter(cliente_id=cliente_id)
    cancelacion = cancelaciones.order_by("-pk").first()
    return Reserva(cancelacion=cancelacion) if cancelacion is not None else None


def reserva_que_estuvo_en(*, cita_id, cliente_id=None):
    """The identity of the last booking (of ``cliente_id``, when given) that the slot row
    ``cita_id`` held, read from its audit trail (``CitaEvent``): what an old link to a slot
    names after its booking moved away or was cancelled. None when there was none. One query."""
    if not es_id_valido(cita_id):
        return None
    CitaEvent = apps.get_model("citas", "CitaEvent")  # pghistory's event model of Cita
    eventos = CitaEvent.objects.filter(pgh_obj_id=cita_id, reserva_uid__isnull=False)
    if cliente_id is not None:
        eventos = eventos.filter(cliente_id=cliente_id)
    return eventos.order_by("-pgh_id").values_list("reserva_uid", flat=True).first()
