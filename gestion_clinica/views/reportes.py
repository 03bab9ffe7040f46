"""Reportes de dinero (staff site): production per dentist, collections, pending balances
(``pagos.reportes``), each a table and a CSV for Excel (``?formato=csv``).

Production and collections are for administración (the clinic's business); pending balances
also for recepción, who calls the patients that owe. A period that is not valid (a bad date,
reversed, longer than two years) is said in Spanish on the form, and no table is computed.
"""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from gestion_clinica.forms.reportes import FormularioPeriodo
from gestion_clinica.permisos import ADMINISTRADOR, RECEPCION, requiere_rol
from pagos import reportes

POR_PAGINA = 50


def _csv(contenido, nombre):
    respuesta = HttpResponse(contenido, content_type="text/csv; charset=utf-8")
    respuesta["Content-Disposition"] = f'attachment; filename="{nombre}.csv"'
    return respuesta


def _es_csv(request):
    return request.GET.get("formato") == "csv"


def _con_periodo(request, plantilla, calcular, a_csv, nombre):
    """The report of the form's period as a page, or as a CSV with ``formato=csv``; an invalid
    period: the form with its Spanish errors and no table (400 for a CSV that cannot be made)."""
    formulario = FormularioPeriodo(request.GET)
    datos = calcular(**formulario.periodo()) if formulario.is_valid() else None
    if datos is not None and _es_csv(request):
        periodo = formulario.periodo()
        return _csv(a_csv(datos), f"{nombre}-{periodo['desde']:%Y-%m-%d}-a-{periodo['hasta']:%Y-%m-%d}")
    return render(request, f"gestion_clinica/reportes/{plantilla}.html", {"formulario": formulario, "datos": datos},
                  status=400 if datos is None and _es_csv(request) else 200)


@require_safe
@requiere_rol(ADMINISTRADOR)
def produccion(request):
    return _con_periodo(request, "produccion", reportes.produccion, reportes.csv_produccion, "produccion")


@require_safe
@requiere_rol(ADMINISTRADOR)
def recaudacion(request):
    return _con_periodo(request, "recaudacion", reportes.recaudacion, reportes.csv_recaudacion, "recaudacion")


@require_safe
@requiere_rol(ADMINISTRADOR, RECEPCION)
def saldos(request):
    if _es_csv(request):
        return _csv(reportes.csv_saldos(reportes.saldos_pendientes()), "saldos-pendientes")
    try:
        numero = max(1, min(int(request.GET.get("pagina", 1)), 10**6))
    except (TypeError, ValueError):
        numero = 1
    datos = reportes.saldos_pendientes(desde=(numero - 1) * POR_PAGINA, limite=POR_PAGINA)
    pagina = Paginator(range(datos.pacientes), POR_PAGINA).get_page(numero)
    if pagina.number != numero:
        datos = reportes.saldos_pendientes(desde=(pagina.number - 1) * POR_PAGINA, limite=POR_PAGINA)
    return render(request, "gestion_clinica/reportes/saldos.html", {"datos": datos, "pagina": pagina})


urlpatterns = [
    path("reportes/produccion/", produccion, name="reporte_produccion"),
    path("reportes/recaudacion/", recaudacion, name="reporte_recaudacion"),
    path("reportes/saldos/", saldos, name="reporte_saldos"),
]
