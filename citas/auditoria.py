"""How the audit trail names this app's records, and its one-row summary of a slot generation
(``nucleo.auditoria``)."""

from django.apps import apps
from django.db.models import Count, Max, Min
from django.utils import timezone

from citas.models import Cita, DiaSemana, HorarioAtencion
from nucleo.auditoria import etiquetas, resumen
from nucleo.formato import numero
from personal.models import nombre_de_personal


@etiquetas("citas.Cita")
def citas(ids):
    filas = Cita.objects.filter(pk__in=ids).values_list(
        "pk", "inicio", "dentista__user__first_name", "dentista__user__last_name", "dentista__user__username")
    return {
        str(pk): f"Cita {timezone.localtime(inicio):%H:%M} del {timezone.localtime(inicio):%d-%m-%Y} "
                 f"con {nombre_de_personal(nombre, apellido, usuario)}"
        for pk, inicio, nombre, apellido, usuario in filas
    }


@etiquetas("citas.HorarioAtencion")
def horarios(ids):
    filas = HorarioAtencion.objects.filter(pk__in=ids).values_list(
        "pk", "dia_semana", "hora_inicio", "hora_fin", "dentista__user__first_name", "dentista__user__last_name",
        "dentista__user__username")
    return {
        str(pk): f"Horario de {nombre_de_personal(nombre, apellido, usuario)}: {DiaSemana(dia).label.lower()} "
                 f"{desde:%H:%M}–{hasta:%H:%M}"
        for pk, dia, desde, hasta, nombre, apellido, usuario in filas
    }


@resumen("generar_horas", modelo="citas.Cita", titulo="Generación de horas")
def generaciones(contextos):
    """{context: "192 horas creadas, 01-12 a 31-12"} for runs of ``generar_horas``."""
    evento = apps.get_model("citas", "CitaEvent")  # pghistory's event model of Cita
    filas = (evento.objects.filter(pgh_context_id__in=contextos, pgh_label="insert")
             .values("pgh_context_id").annotate(n=Count("pgh_id"), desde=Min("inicio"), hasta=Max("inicio")))
    textos = {}
    for fila in filas:
        desde, hasta = timezone.localdate(fila["desde"]), timezone.localdate(fila["hasta"])
        anio = "" if desde.year == hasta.year == timezone.localdate().year else "-%Y"
        rango = desde.strftime(f"%d-%m{anio}") if desde == hasta else (
            f"{desde.strftime(f'%d-%m{anio}')} a {hasta.strftime(f'%d-%m{anio}')}")
        textos[fila["pgh_context_id"]] = (
            f"{numero(fila['n'])} hora{'s' if fila['n'] != 1 else ''} creada{'s' if fila['n'] != 1 else ''}, {rango}")
    return textos
