"""Portal area: Mis recetas. The patient's prescriptions (annulled ones marked), each as the
same PDF the clinic prints. Only ``request.paciente``'s: another patient's id is a 404. The list
and every download are reads of the clinical record, logged as the patient's own
(``Seccion.RECETA``, ``Via.PACIENTE``)."""

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cliente_web.permisos import registrar_lectura_propia, requiere_paciente
from ficha.models import Receta, Seccion
from ficha.recetas import receta_del_paciente, recetas_del_paciente
from ficha.recetas_pdf import receta_en_pdf
from nucleo.pdf import respuesta_pdf


@require_safe
@requiere_paciente
def mis_recetas(request):
    registrar_lectura_propia(request, Seccion.RECETA)
    return render(request, "cliente_web/cuenta/recetas.html",
                  {"recetas": recetas_del_paciente(request.paciente.pk)})


@require_safe
@never_cache
@requiere_paciente
def receta_pdf(request, receta_id):
    try:
        receta = receta_del_paciente(cliente_id=request.paciente.pk, receta_id=receta_id)
    except Receta.DoesNotExist:
        raise Http404("Esa receta no existe.") from None
    registrar_lectura_propia(request, Seccion.RECETA, objeto_id=receta.pk)
    contenido = receta_en_pdf(receta, generado_para=f"{request.paciente.nombre_completo} (paciente, desde el portal)")
    return respuesta_pdf(contenido, f"receta-{receta.folio:06d}.pdf")


urlpatterns = [
    path("cuenta/recetas/", mis_recetas, name="mis_recetas"),
    path("cuenta/recetas/<int:receta_id>.pdf", receta_pdf, name="cuenta_receta_pdf"),
]
