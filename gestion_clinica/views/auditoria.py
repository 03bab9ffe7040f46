"""Auditoría (staff site). URLs of this area are in ``urlpatterns``, joined by ``gestion_clinica.urls``."""

import functools
import re
import uuid

from django.apps import apps
from django.contrib import messages
from django.db import models
from django.shortcuts import render
from django.urls import path

from gestion_clinica.forms.auditoria import FiltroAuditoria
from gestion_clinica.permisos import ADMINISTRADOR, requiere_rol
from gestion_clinica.views.comun import filtros_validos
from nucleo.selectors import pagina_de_cambios

DATO_CLINICO = "(dato clínico)"
# Clinical content (Ley 20.584 art. 13): administrators audit who changed what and when, never
# what it says. Fields by model label; any other model of the ``ficha`` app is masked whole
# except its relations and dates (a new clinical model is safe before anyone lists it here).
CAMPOS_CLINICOS = {
    "pacientes.Cliente": {"alergias"},
    "pacientes.ClienteDocumento": {"titulo", "archivo", "nombre_original"},
    "ficha.Antecedentes": {"enfermedades", "medicamentos", "alergias", "embarazo", "tabaquismo", "anticoagulantes",
                           "anticoagulantes_detalle", "cirugias", "observaciones"},
    "ficha.Evolucion": {"procedimiento", "dientes", "texto"},
    "ficha.AccesoFicha": set(),
    "ficha.AccesoUrgencia": set(),
    "ficha.Resguardo": set(),
    "tratamientos.PlanTratamiento": {"observaciones"},  # issue 17: the plan's clinical notes
}
_TITULO_DE_DOCUMENTO = re.compile(r"^Documento «.*» de ", re.DOTALL)


@functools.cache
def _clinicos(etiqueta: str) -> frozenset[str]:
    """The verbose names (as ``Cambio.campo`` shows them) of a model's clinical fields."""
    try:
        modelo = apps.get_model(etiqueta)
    except (LookupError, ValueError):
        return frozenset()
    if etiqueta in CAMPOS_CLINICOS:
        nombres = CAMPOS_CLINICOS[etiqueta]
        campos = [modelo._meta.get_field(nombre) for nombre in nombres]
    elif modelo._meta.app_label == "ficha":
        campos = [c for c in modelo._meta.concrete_fields
                  if not c.is_relation and not c.primary_key and not isinstance(c, models.DateField)]
    else:
        return frozenset()
    return frozenset(str(c.verbose_name) for c in campos)


def sin_datos_clinicos(filas):
    """The page's rows with every clinical value replaced by "(dato clínico)": who, when, which
    record and which field changed stay."""
    for fila in filas:
        clinicos = _clinicos(fila.modelo)
        if fila.modelo == "pacientes.ClienteDocumento" and fila.registro_nombre:
            fila.registro_nombre = _TITULO_DE_DOCUMENTO.sub("Documento de ", fila.registro_nombre)
        for cambio in fila.cambios if clinicos else ():
            if cambio.campo in clinicos:
                cambio.antes = None if cambio.antes in (None, "") else DATO_CLINICO
                cambio.despues = None if cambio.despues in (None, "") else DATO_CLINICO
    return filas


@requiere_rol(ADMINISTRADOR)
def auditoria(request):
    """The audit trail, filtered and paginated, without clinical content; bad filter values are
    ignored and said so."""
    filtro = FiltroAuditoria(request.GET or None)
    filtros = filtros_validos(request, filtro)
    # One operation's every row (the link of a summarised row, e.g. a slot generation).
    contexto = None
    if request.GET.get("contexto"):
        try:
            contexto = uuid.UUID(request.GET["contexto"])
        except ValueError:
            messages.warning(request, "Se ignoró el filtro «Operación»: no es válido.")
    pagina = pagina_de_cambios(**filtros, contexto_id=contexto, pagina=request.GET.get("pagina", 1))
    sin_datos_clinicos(pagina.object_list)
    consulta = request.GET.copy()
    consulta.pop("pagina", None)
    return render(request, "gestion_clinica/auditoria/lista.html", {
        "filtro": filtro, "pagina": pagina, "consulta": consulta.urlencode(), "contexto": contexto,
    })


urlpatterns = [
    path("auditoria/", auditoria, name="auditoria"),
]
