"""Portal area: Mis presupuestos. The patient's quotes (each version), one quote with its lines
and totals, its PDF, and the patient's answer: accept (after a page that says what it means:
the items become pending treatment at these prices) or reject (with an optional reason). Only
``request.paciente``'s: another patient's id is a 404. A quote is billing, not the clinical
record: no read-log row."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cliente_web.permisos import requiere_paciente
from nucleo.pdf import respuesta_pdf
from tratamientos.models import EstadoPresupuesto, Presupuesto, ViaRespuesta
from tratamientos.presupuestos import (
    LARGO_MOTIVO, aceptar_presupuesto, presupuesto_del_paciente, presupuestos_del_paciente, rechazar_presupuesto,
)
from tratamientos.presupuestos_pdf import presupuesto_en_pdf, texto_del_estado

PLANTILLAS = "cliente_web/presupuestos"


class FormularioRechazo(forms.Form):
    motivo = forms.CharField(label="¿Por qué lo rechaza? (opcional)", required=False, max_length=LARGO_MOTIVO,
                             widget=forms.Textarea(attrs={"rows": 3}))


def _del_paciente(request, presupuesto_id) -> Presupuesto:
    try:
        presupuesto = presupuesto_del_paciente(cliente_id=request.paciente.pk, presupuesto_id=presupuesto_id)
    except Presupuesto.DoesNotExist:
        raise Http404("Ese presupuesto no existe.") from None
    presupuesto.texto_estado = texto_del_estado(presupuesto)
    presupuesto.vencido = presupuesto.valido_hasta < timezone.localdate()
    presupuesto.abierto = presupuesto.estado == EstadoPresupuesto.EMITIDO
    return presupuesto


@require_safe
@requiere_paciente
def mis_presupuestos(request):
    return render(request, f"{PLANTILLAS}/lista.html",
                  {"presupuestos": presupuestos_del_paciente(request.paciente.pk), "hoy": timezone.localdate()})


@require_safe
@requiere_paciente
def presupuesto(request, presupuesto_id):
    return render(request, f"{PLANTILLAS}/detalle.html", {"p": _del_paciente(request, presupuesto_id)})


@require_safe
@never_cache
@requiere_paciente
def presupuesto_pdf(request, presupuesto_id):
    p = _del_paciente(request, presupuesto_id)
    contenido = presupuesto_en_pdf(p, generado_para=f"{request.paciente.nombre_completo} (paciente, desde el portal)")
    return respuesta_pdf(contenido, f"presupuesto-{p.numero}-{p.version}.pdf")


def _responder(request, p, accion, **datos):
    try:
        accion(actor=request.user, presupuesto_id=p.pk, via=ViaRespuesta.PORTAL, **datos)
    except Presupuesto.DoesNotExist:
        raise Http404("Ese presupuesto no existe.") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    return True


@require_http_methods(["GET", "POST"])
@requiere_paciente
def presupuesto_aceptar(request, presupuesto_id):
    """GET: what accepting means; POST: ``aceptar_presupuesto`` (or why not)."""
    p = _del_paciente(request, presupuesto_id)
    if request.method == "POST":
        if _responder(request, p, aceptar_presupuesto):
            messages.success(request, f"Presupuesto {p.folio} aceptado. La clínica lo verá al instante; los "
                                      "tratamientos quedan pendientes de realizar con estos precios.")
        return redirect("portal:presupuesto", presupuesto_id=p.pk)
    if not p.abierto or p.vencido:
        return redirect("portal:presupuesto", presupuesto_id=p.pk)
    return render(request, f"{PLANTILLAS}/aceptar.html", {"p": p})


@require_http_methods(["GET", "POST"])
@requiere_paciente
def presupuesto_rechazar(request, presupuesto_id):
    """GET: the optional reason; POST: ``rechazar_presupuesto`` (or why not)."""
    p = _del_paciente(request, presupuesto_id)
    form = FormularioRechazo(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if _responder(request, p, rechazar_presupuesto, motivo=form.cleaned_data["motivo"]):
            messages.success(request, f"Presupuesto {p.folio} rechazado. Si cambia de opinión, pida a la clínica "
                                      "una versión nueva.")
        return redirect("portal:presupuesto", presupuesto_id=p.pk)
    if request.method == "GET" and not p.abierto:
        return redirect("portal:presupuesto", presupuesto_id=p.pk)
    return render(request, f"{PLANTILLAS}/rechazar.html", {"p": p, "form": form})


urlpatterns = [
    path("cuenta/presupuestos/", mis_presupuestos, name="mis_presupuestos"),
    path("cuenta/presupuestos/<int:presupuesto_id>/", presupuesto, name="presupuesto"),
    path("cuenta/presupuestos/<int:presupuesto_id>.pdf", presupuesto_pdf, name="presupuesto_pdf"),
    path("cuenta/presupuestos/<int:presupuesto_id>/aceptar/", presupuesto_aceptar, name="presupuesto_aceptar"),
    path("cuenta/presupuestos/<int:presupuesto_id>/rechazar/", presupuesto_rechazar, name="presupuesto_rechazar"),
]
