"""A copy of a patient's clinical record from the staff site: the patient asks for it at the
desk (their right to a copy, Ley 20.584 art. 14), a dentist of their care team downloads it as
a PDF to print or hand over, or as JSON (portability). Both through ``con_acceso_a_ficha``:
the care rule decides, the read is logged; reception and administration get the 403 page."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ficha.exportacion import ficha_como_datos, ficha_en_pdf
from ficha.models import Seccion
from gestion_clinica.views.acceso_ficha import con_acceso_a_ficha
from personal.models import nombre_de_personal


def _quien(request) -> str:
    """Who generated the copy, as its foot says: "Camila Soto (Dentista)"."""
    usuario = request.user
    nombre = nombre_de_personal(usuario.first_name, usuario.last_name, usuario.get_username())
    return f"{nombre} ({request.acceso_ficha.rol})"


def _adjunto(respuesta, cliente_id, extension):
    # The id, not the name: a file name travels (mail, downloads folder) further than its content.
    nombre = f"ficha-clinica-{cliente_id}-{timezone.localdate().isoformat()}.{extension}"
    respuesta["Content-Disposition"] = f'attachment; filename="{nombre}"'
    return respuesta


@require_GET
@never_cache
@con_acceso_a_ficha(Seccion.PDF)
def ficha_pdf(request, cliente_id):
    contenido = ficha_en_pdf(cliente_id, generado_para=_quien(request))
    return _adjunto(HttpResponse(contenido, content_type="application/pdf"), cliente_id, "pdf")


@require_GET
@never_cache
@con_acceso_a_ficha(Seccion.EXPORTACION)
def ficha_datos(request, cliente_id):
    datos = {"generado_en": timezone.localtime().isoformat(), "generado_por": _quien(request),
             **ficha_como_datos(cliente_id)}
    contenido = json.dumps(datos, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    return _adjunto(HttpResponse(contenido, content_type="application/json; charset=utf-8"), cliente_id, "json")


urlpatterns = [
    path("pacientes/<int:cliente_id>/ficha/pdf/", ficha_pdf, name="ficha_pdf"),
    path("pacientes/<int:cliente_id>/ficha/datos.json", ficha_datos, name="ficha_datos"),
]
