"""Dentists' weekly hours, and free slots generated from them (skipping public holidays and
the closures and absences of ``citas.cierres``).

Generation works in Santiago's wall clock, day by day: a 09:00 block stays at 09:00 across DST
changes, a time that does not exist that day (the September change: 00:00–00:59) is skipped,
a repeated one (the April change: 23:00–23:59 twice) is taken once, and every slot lasts its
real duration (end computed in UTC). Public holidays come from ``holidays.Chile``.
"""

import datetime
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from citas import cierres
from citas.models import Cita, HorarioAtencion
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from personal.models import Perfil, condicion_reservable

logger = logging.getLogger(__name__)

MAXIMO_DIAS_POR_GENERACION = 366


@dataclass(frozen=True)
class Bloque:
    """One block of weekly hours, as ``definir_horario`` receives it."""

    dia_semana: int
    hora_inicio: datetime.time
    hora_fin: datetime.time
    duracion_minutos: int = 30


def _dentista_reservable(dentista_id):
    """The dentist, if bookable (``Perfil.objects.reservables()``); else ``dentista_invalido``."""
    perfil = Perfil.objects.reservables().filter(pk=dentista_id).first()
    if perfil is None:
        raise ValidationError({"dentista": ValidationError("Dentista no encontrado o inactivo.", code="dentista_invalido")})
    return perfil


def _validar_bloques(bloques):
    errores = []
    for numero, bloque in enumerate(bloques, start=1):
        if bloque.dia_semana not in range(7):
            errores.append(ValidationError(f"Bloque {numero}: día de la semana desconocido.", code="dia_invalido"))
        elif bloque.hora_fin <= bloque.hora_inicio:
            errores.append(
                ValidationError(f"Bloque {numero}: la hora de término debe ser posterior a la de inicio.",
                                code="horario_invalido")
            )
        elif not 5 <= bloque.duracion_minutos <= 480:
            errores.append(
                ValidationError(f"Bloque {numero}: la duración debe estar entre 5 y 480 minutos.", code="duracion_invalida")
            )
    ordenados = sorted(bloques, key=lambda b: (b.dia_semana, b.hora_inicio))
    for anterior, siguiente in zip(ordenados, ordenados[1:]):
        if anterior.dia_semana == siguiente.dia_semana and siguiente.hora_inicio < anterior.hora_fin:
            errores.append(ValidationError("Dos bloques del mismo día se cruzan.", code="horario_traslapado"))
    if errores:
        raise ValidationError(errores)


def definir_horario(*, actor, dentista_id, bloques) -> list[HorarioAtencion]:
    """Replace a dentist's weekly hours with ``bloques`` (a list of ``Bloque``), all at once.

    Existing slots are not touched: hours only shape the slots generated from now on.
    """
    _dentista_reservable(dentista_id)
    _validar_bloques(bloques)
    with operacion("definir_horario", actor=actor):
        HorarioAtencion.objects.filter(dentista_id=dentista_id).delete()
        horarios = HorarioAtencion.objects.bulk_create(
            HorarioAtencion(dentista_id=dentista_id, dia_semana=b.dia_semana, hora_inicio=b.hora_inicio,
                            hora_fin=b.hora_fin, duracion_minutos=b.duracion_minutos)
            for b in bloques
        )
    registrar_evento(logger, "horario_definido", dentista_id=dentista_id, bloques=len(horarios),
                     actor_id=getattr(actor, "pk", None))
    return horarios


def horas_del_dia(fecha, bloque, zona=None):
    """The (start, end) aware datetimes of one block on one date, in wall-clock steps.

    Pure: no database, any date (past DST days are testable). Nonexistent local times are
    skipped; repeated ones are taken once (their first occurrence).
    """
    zona = zona or ZoneInfo(settings.TIME_ZONE)
    paso = datetime.timedelta(minutes=bloque.duracion_minutos)
    horas = []
    local = datetime.datetime.combine(fecha, bloque.hora_inicio)
    limite = datetime.datetime.combine(fecha, bloque.hora_fin)
    while local + paso <= limite:
        inicio = local.replace(tzinfo=zona, fold=0)
        # A time in the spring-forward gap does not survive the round trip through UTC.
        existe = inicio.astimezone(datetime.UTC).astimezone(zona).replace(tzinfo=None) == local
        if existe:
            inicio_utc = inicio.astimezone(datetime.UTC)
            horas.append((inicio_utc, inicio_utc + paso))
        local += paso
    return horas


@dataclass
class ResumenGeneracion:
    """What ``generar_horas`` did: slots created, slots already there, days skipped and why."""

    creadas: int = 0
    existentes: int = 0
    dias_omitidos: list[tuple[datetime.date, str]] = field(default_factory=list)


def dias_no_habiles(desde, hasta):
    """{date: reason} for Chile's public holidays in the range (closures: ``_dias_cerrados``)."""
    feriados = holidays.Chile(years=range(desde.year, hasta.year + 1))
    return {dia: nombre for dia, nombre in feriados.items() if desde <= dia <= hasta}


def _dias_cerrados(desde, hasta, dentista_ids):
    """The closures of the range as ({date: reason} of the clinic's, {dentist: {date: reason}}
    of those dentists' absences)."""
    de_la_clinica, ausencias = {}, {}
    for cierre in cierres.cierres_que_cubren(desde=desde, hasta=hasta, dentista_ids=dentista_ids):
        dia = max(cierre.desde, desde)
        while dia <= min(cierre.hasta, hasta):
            if cierre.dentista_id is None:
                de_la_clinica.setdefault(dia, f"Clínica cerrada: {cierre.motivo}")
            else:
                ausencias.setdefault(cierre.dentista_id, {}).setdefault(
                    dia, f"{cierre.dentista.nombre}: {cierre.texto}")
            dia += datetime.timedelta(days=1)
    return de_la_clinica, ausencias


def generar_horas(*, actor, desde, hasta, dentista_id=None) -> ResumenGeneracion:
    """Create the free slots of ``[desde, hasta]`` from the dentists' weekly hours (all bookable
    dentists, ``Perfil.objects.reservables()``, or one). Idempotent: a slot that exists (or would overlap a live one) is left as
    it is. Skips public holidays, the clinic's closures, each dentist's absences (reported in
    ``dias_omitidos``, an absence as "name: type: reason") and times already past.

    The closures are read under a lock on the dentists' rows (``cierres.bloquear_dentistas``,
    shared), which a closure takes exclusively: a concurrent closure either sees these slots
    or is seen here, never neither.
    """
    if not all(isinstance(d, datetime.date) and not isinstance(d, datetime.datetime) for d in (desde, hasta)):
        raise ValidationError("Las fechas no son válidas.", code="fecha_invalida")
    if not (2000 <= desde.year and hasta.year <= 2100):
        # Stepping past 9999-12-31 (or converting its evening to UTC) overflows.
        raise ValidationError("Use fechas entre los años 2000 y 2100.", code="fecha_fuera_de_rango")
    if hasta < desde:
        raise ValidationError("La fecha final es anterior a la inicial.", code="rango_invalido")
    if (hasta - desde).days >= MAXIMO_DIAS_POR_GENERACION:
        raise ValidationError("Genere como máximo un año de horas a la vez.", code="rango_demasiado_largo")
    if dentista_id is not None:
        _dentista_reservable(dentista_id)
    horarios = HorarioAtencion.objects.filter(condicion_reservable("dentista__"))
    if dentista_id is not None:
        horarios = horarios.filter(dentista_id=dentista_id)
    por_dia = {}
    for horario in horarios:
        por_dia.setdefault(horario.dia_semana, []).append(horario)

    resumen = ResumenGeneracion()
    feriados = dias_no_habiles(desde, hasta)
    ahora = timezone.now()
    with operacion("generar_horas", actor=actor):
        con_horario = sorted({h.dentista_id for dia_semana in por_dia.values() for h in dia_semana})
        cierres.bloquear_dentistas(con_horario)
        de_la_clinica, ausencias = _dias_cerrados(desde, hasta, con_horario)
        nuevas = []
        dia = desde
        while dia <= hasta:
            omitido = feriados.get(dia) or de_la_clinica.get(dia)
            if omitido:
                resumen.dias_omitidos.append((dia, omitido))
            else:
                for horario in por_dia.get(dia.weekday(), []):
                    ausencia = ausencias.get(horario.dentista_id, {}).get(dia)
                    if ausencia:
                        if (dia, ausencia) not in resumen.dias_omitidos:
                            resumen.dias_omitidos.append((dia, ausencia))
                        continue
                    nuevas.extend(
                        Cita(dentista_id=horario.dentista_id, inicio=inicio, fin=fin)
                        for inicio, fin in horas_del_dia(dia, horario)
                        if inicio > ahora
                    )
            dia += datetime.timedelta(days=1)
        dentistas = {c.dentista_id for c in nuevas}
        rango = Cita.objects.filter(dentista_id__in=dentistas, inicio__gte=min((c.inicio for c in nuevas), default=ahora),
                                    inicio__lte=max((c.inicio for c in nuevas), default=ahora))
        antes = rango.count()
        # ON CONFLICT DO NOTHING also answers to the exclusion constraint: what exists stays.
        Cita.objects.bulk_create(nuevas, ignore_conflicts=True, batch_size=1000)
        resumen.creadas = rango.count() - antes
    resumen.existentes = len(nuevas) - resumen.creadas
    registrar_evento(
        logger, "horas_generadas", creadas=resumen.creadas, existentes=resumen.existentes,
        dias_omitidos=len(resumen.dias_omitidos), dentista_id=dentista_id, actor_id=getattr(actor, "pk", None),
    )
    return resumen
