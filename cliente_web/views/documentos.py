"""Portal area: Mis documentos. What the clinic attached to the patient (x-rays, budgets,
consents), listed and downloaded only by their owner: every query is filtered by
``request.paciente``, so another patient's document id is a 404, never their file. The list and
each download are in the clinical record's read log (``Seccion.DOCUMENTO``)."""

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from cliente_web.permisos import registrar_lectura_propia, requiere_paciente
from ficha.models import Seccion
from pacientes.documentos import respuesta_descarga
from pacientes.models import ClienteDocumento
from pacientes.selectors import documento_de_cliente, documentos_de_cliente


@require_safe
@requiere_paciente
def mis_documentos(request):
    """The list (titles of clinical documents): logged as a read of the record's documents."""
    registrar_lectura_propia(request, Seccion.DOCUMENTO)
    return render(request, "cliente_web/documentos/lista.html", {
        "documentos": documentos_de_cliente(request.paciente.pk),
    })


@require_safe
@requiere_paciente
def documento(request, pk):
    """The file as a download (``respuesta_descarga``: attachment, nosniff, no-store)."""
    try:
        doc = documento_de_cliente(cliente_id=request.paciente.pk, documento_id=pk)
    except ClienteDocumento.DoesNotExist:
        raise Http404("Ese documento no existe.") from None
    registrar_lectura_propia(request, Seccion.DOCUMENTO, objeto_id=doc.pk)
    return respuesta_descarga(doc)


urlpatterns = [
    path("documentos/", mis_documentos, name="mis_documentos"),
    path("documentos/<int:pk>/", documento, name="documento"),
]
