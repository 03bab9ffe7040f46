"""Prescriptions and the record's summary in the staff site: the patient's prescriptions, a new
one (header and a formset of medicines; "Agregar línea" works without JavaScript), one
prescription, its annulment, its PDF, and the summary PDF for a referral.

Every view is wrapped in ``con_acceso_a_ficha`` (``Seccion.RECETA`` / ``Seccion.RESUMEN``): the
care rule decides, each request writes its read-log row; the services check again."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from ficha.acceso import perfil_clinico
from ficha.models import Evolucion, Receta, Seccion
from ficha.recetas import anular_receta, emitir_receta, receta_del_paciente, recetas_del_paciente
from ficha.recetas_pdf import receta_en_pdf
from ficha.resumen import resumen_en_pdf
from gestion_clinica.forms.ficha_recetas import FormularioAnulacion, FormularioReceta, formset_de_lineas
from gestion_clinica.views.acceso_ficha import con_acceso_a_ficha
from gestion_clinica.views.ficha import PLANTILLAS, _encabezado
from gestion_clinica.views.ficha_exportacion import _quien
from nucleo.pdf import respuesta_pdf
from pacientes.models import Cliente

NO_EXISTE = "Esa receta no existe en la ficha de este paciente."


def _url_receta(cliente_id, receta_id):
    return reverse("gestion:ficha_receta", args=[cliente_id, receta_id])


def _receta_o_404(cliente_id, receta_id) -> Receta:
    try:
        return receta_del_paciente(cliente_id=cliente_id, receta_id=receta_id)
    except Receta.DoesNotExist:
        raise Http404(NO_EXISTE) from None


@require_safe
@con_acceso_a_ficha(Seccion.RECETA)
def recetas(request, cliente_id):
    """The patient's prescriptions, newest first, annulled ones marked."""
    return render(request, f"{PLANTILLAS}/recetas.html",
                  {**_encabezado(cliente_id), "recetas": recetas_del_paciente(cliente_id)})


@require_http_methods(["GET", "POST"])
@con_acceso_a_ficha(Seccion.RECETA)
def receta_nueva(request, cliente_id):
    """GET: the form (three empty lines); POST "agregar": the same with one more line, nothing
    saved; POST: ``emitir_receta`` and on to the prescription's page."""
    contexto = _encabezado(cliente_id)
    propio = perfil_clinico(request.user)
    evoluciones = list(Evolucion.objects.filter(cliente_id=cliente_id, dentista_id=propio.pk)
                       .order_by("-atendido_el", "-pk")[:20])
    if request.method == "POST":
        form = FormularioReceta(request.POST, evoluciones=evoluciones)
        agregar = "agregar" in request.POST
        # "Agregar línea": what was typed again, with one more empty line; nothing is saved (no
        # field is required, so only a bad value, such as "-3" days, shows an error already).
        lineas = formset_de_lineas(request.POST, agregar=agregar)
        if not agregar and form.is_valid() and lineas.is_valid():
            try:
                receta = emitir_receta(actor=request.user, cliente_id=cliente_id, lineas=lineas.lineas(),
                                       indicaciones=form.cleaned_data["indicaciones"],
                                       evolucion_id=form.cleaned_data["evolucion"])
            except Cliente.DoesNotExist:
                raise Http404("Ese paciente ya no existe.") from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, f"Receta N° {receta.folio} emitida.")
                return redirect(_url_receta(cliente_id, receta.pk))
    else:
        hoy = next((n.pk for n in evoluciones if n.atendido_el == timezone.localdate()), None)
        form = FormularioReceta(initial={"evolucion": hoy}, evoluciones=evoluciones)
        lineas = formset_de_lineas()
    sin_datos = not (propio.rut and propio.registro_superintendencia)
    return render(request, f"{PLANTILLAS}/receta_formulario.html",
                  {**contexto, "form": form, "lineas": lineas, "sin_datos": sin_datos})


@require_safe
@con_acceso_a_ficha(Seccion.RECETA, objeto="receta_id", modelo=Receta)
def receta(request, cliente_id, receta_id):
    """One prescription as issued (and its annulment, if any)."""
    receta = _receta_o_404(cliente_id, receta_id)
    return render(request, f"{PLANTILLAS}/receta.html", {
        **_encabezado(cliente_id), "receta": receta,
        "es_autor": receta.dentista_id == perfil_clinico(request.user).pk,
    })


@require_http_methods(["GET", "POST"])
@con_acceso_a_ficha(Seccion.RECETA, objeto="receta_id", modelo=Receta)
def receta_anular(request, cliente_id, receta_id):
    """GET: the prescription and the reason's form; POST: ``anular_receta`` (its author, once)."""
    receta = _receta_o_404(cliente_id, receta_id)
    if receta.anulada:
        messages.info(request, "Esta receta ya está anulada.")
        return redirect(_url_receta(cliente_id, receta.pk))
    form = FormularioAnulacion(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            anular_receta(actor=request.user, receta_id=receta.pk, cliente_id=cliente_id,
                          motivo=form.cleaned_data["motivo"])
        except Receta.DoesNotExist:
            raise Http404(NO_EXISTE) from None
        except ValidationError as error:
            if error.code in ("receta_anulada", "no_es_autor"):
                messages.error(request, " ".join(error.messages))
                return redirect(_url_receta(cliente_id, receta.pk))
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, f"Receta N° {receta.folio} anulada.")
            return redirect(_url_receta(cliente_id, receta.pk))
    return render(request, f"{PLANTILLAS}/receta_anular.html",
                  {**_encabezado(cliente_id), "receta": receta, "form": form})


@require_GET
@never_cache
@con_acceso_a_ficha(Seccion.RECETA, objeto="receta_id", modelo=Receta)
def receta_pdf(request, cliente_id, receta_id):
    receta = _receta_o_404(cliente_id, receta_id)
    return respuesta_pdf(receta_en_pdf(receta, generado_para=_quien(request)), f"receta-{receta.folio:06d}.pdf")


@require_GET
@never_cache
@con_acceso_a_ficha(Seccion.RESUMEN)
def resumen_pdf(request, cliente_id):
    """The record's summary for a referral, with the requesting dentist's data."""
    try:
        contenido = resumen_en_pdf(cliente_id, solicitante=perfil_clinico(request.user),
                                   generado_para=_quien(request))
    except Cliente.DoesNotExist:
        raise Http404("Ese paciente ya no existe.") from None
    return respuesta_pdf(contenido, f"resumen-ficha-{cliente_id}.pdf")


_BASE = "pacientes/<int:cliente_id>/ficha/"
urlpatterns = [
    path(f"{_BASE}recetas/", recetas, name="ficha_recetas"),
    path(f"{_BASE}recetas/nueva/", receta_nueva, name="ficha_receta_nueva"),
    path(f"{_BASE}recetas/<int:receta_id>/", receta, name="ficha_receta"),
    path(f"{_BASE}recetas/<int:receta_id>/anular/", receta_anular, name="ficha_receta_anular"),
    path(f"{_BASE}recetas/<int:receta_id>/pdf/", receta_pdf, name="ficha_receta_pdf"),
    path(f"{_BASE}resumen.pdf", resumen_pdf, name="ficha_resumen_pdf"),
]
