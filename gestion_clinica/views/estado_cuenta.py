"""Estado de cuenta (staff site): a patient's charges, payments and balance
(``pagos.estado_cuenta``), as a page and as a CSV for Excel.

Who: administración and recepción (reception registers the payments and answers "¿cuánto
debo?"); a dentist only for a patient in their care team (``ficha.acceso.acceso_a_ficha``), who
may need to know what was done and paid before starting the next phase, and not for anyone
else's patients. The page is the billing view of the plan: done items (prestación, tooth,
price, who did them) and the ledger, with no clinical notes, findings or record content. That
is what reception needs to charge and is not the clinical record, so it writes no read-log row.
"""

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from gestion_clinica.permisos import TODOS, requiere_rol
from gestion_clinica.views.comun import dentista_solo_de_su_equipo, ids_validos
from pacientes.models import Cliente
from pagos.estado_cuenta import estado_de_cuenta
from pagos.reportes import csv_estado_de_cuenta

# Rows per page of each list (the newest first; the CSV has them all). bin/bench-http --casos
# cuenta (300 charges, 200 payments, a shared machine at load 5-7) decided it: 100 rows per list,
# all drawn: 0.06× the bare view (32 ms web CPU per request); their HTML cached by a digest of
# the rows (the "cuenta" cache) and the queries prepared: 0.11-0.18×; 50 rows per list: 0.10-0.19×,
# about 0.54× the bare view that reads the session and the user (8.6-9.1 ms web CPU).
POR_PAGINA = 50
YA_NO_EXISTE = "Ese paciente no existe."


def _estado_o_404(cliente_id, **ventanas):
    try:
        return estado_de_cuenta(cliente_id, **ventanas)
    except Cliente.DoesNotExist:
        raise Http404(YA_NO_EXISTE) from None


def _pagina_pedida(valor) -> int:
    try:
        return max(1, min(int(valor), 10**6))
    except (TypeError, ValueError):
        return 1


def _ventana(numero):
    return ((numero - 1) * POR_PAGINA, POR_PAGINA)


@require_safe
@requiere_rol(*TODOS)
@ids_validos
@dentista_solo_de_su_equipo
def estado_cuenta(request, cliente_id):
    pedidas = _pagina_pedida(request.GET.get("cargos")), _pagina_pedida(request.GET.get("pagos"))
    estado = _estado_o_404(cliente_id, cargos=_ventana(pedidas[0]), movimientos=_ventana(pedidas[1]))
    paginas = (Paginator(range(estado.total_cargos), POR_PAGINA).get_page(pedidas[0]),
               Paginator(range(estado.total_movimientos), POR_PAGINA).get_page(pedidas[1]))
    if (paginas[0].number, paginas[1].number) != pedidas:  # past the last page: the last one
        estado = _estado_o_404(cliente_id, cargos=_ventana(paginas[0].number), movimientos=_ventana(paginas[1].number))
    return render(request, "gestion_clinica/cuenta/estado.html", {
        "estado": estado, "pagina_cargos": paginas[0], "pagina_pagos": paginas[1],
    })


@require_safe
@requiere_rol(*TODOS)
@ids_validos
@dentista_solo_de_su_equipo
def estado_cuenta_csv(request, cliente_id):
    respuesta = HttpResponse(csv_estado_de_cuenta(_estado_o_404(cliente_id)), content_type="text/csv; charset=utf-8")
    respuesta["Content-Disposition"] = f'attachment; filename="estado-de-cuenta-{cliente_id}.csv"'
    return respuesta


urlpatterns = [
    path("pacientes/<int:cliente_id>/estado-de-cuenta/", estado_cuenta, name="paciente_estado_cuenta"),
    path("pacientes/<int:cliente_id>/estado-de-cuenta.csv", estado_cuenta_csv, name="paciente_estado_cuenta_csv"),
]
