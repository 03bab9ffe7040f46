"""Auditoría (staff site). URLs of this area are in ``urlpatterns``, joined by ``gestion_clinica.urls``."""

import uuid

from django.contrib import messages
from django.shortcuts import render
from django.urls import path

from gestion_clinica.forms.auditoria import FiltroAuditoria
from gestion_clinica.permisos import ADMINISTRADOR, requiere_rol
from nucleo.selectors import pagina_de_cambios


@requiere_rol(ADMINISTRADOR)
def auditoria(request):
    """The audit trail, filtered and paginated; bad filter values are ignored and said so."""
    filtro = FiltroAuditoria(request.GET or None)
    if filtro.is_bound and not filtro.is_valid():
        for campo, errores in filtro.errors.items():
            etiqueta = filtro.fields[campo].label if campo in filtro.fields else "Filtro"
            for error in errores:
                messages.warning(request, f"Se ignoró el filtro «{etiqueta}»: {error}")
    filtros = filtro.filtros() if filtro.is_bound else {}
    # One operation's every row (the link of a summarised row, e.g. a slot generation).
    contexto = None
    if request.GET.get("contexto"):
        try:
            contexto = uuid.UUID(request.GET["contexto"])
        except ValueError:
            messages.warning(request, "Se ignoró el filtro «Operación»: no es válido.")
    pagina = pagina_de_cambios(**filtros, contexto_id=contexto, pagina=request.GET.get("pagina", 1))
    consulta = request.GET.copy()
    consulta.pop("pagina", None)
    return render(request, "gestion_clinica/auditoria/lista.html", {
        "filtro": filtro, "pagina": pagina, "consulta": consulta.urlencode(), "contexto": contexto,
    })


urlpatterns = [
    path("auditoria/", auditoria, name="auditoria"),
]
