"""Quotes (presupuestos) on the staff site: a patient's quotes, issuing one from a plan (choose
its proposed items and the validity date), one quote, its PDF, and the patient's answer recorded
at the desk (acceptance, rejection with the reason) or a new version.

Reception and administration issue and record; a dentist may look. A quote shows the plan's
billing view only (prestación names, tooth numbers, prices): what reception needs to quote and
collect, and nothing of the clinical record (no notes, history or findings), so these pages are
not under the record's access rule. Views parse, call one service, respond; an id that is not
this patient's is a 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from gestion_clinica.forms.presupuestos import FormularioPresupuesto, FormularioRechazo
from gestion_clinica.permisos import ADMINISTRADOR, RECEPCION, TODOS, requiere_rol
from gestion_clinica.views.comun import dentista_solo_de_su_equipo, ids_validos
from nucleo.pdf import respuesta_pdf
from pacientes.models import Cliente
from personal.models import nombre_de_personal
from tratamientos.models import EstadoPresupuesto, PlanTratamiento, Presupuesto, ViaRespuesta
from tratamientos.presupuestos import (
    aceptar_presupuesto, emitir_presupuesto, nueva_version, planes_para_presupuestar, presupuesto_del_paciente,
    presupuestos_del_paciente, rechazar_presupuesto,
)
from tratamientos.presupuestos_pdf import presupuesto_en_pdf, texto_del_estado

PLANTILLAS = "gestion_clinica/presupuestos"
EMITEN = (ADMINISTRADOR, RECEPCION)
NO_EXISTE = "Ese presupuesto no existe para este paciente."


def _cliente_o_404(cliente_id) -> Cliente:
    return get_object_or_404(Cliente, pk=cliente_id)


def _presupuesto_o_404(cliente_id, presupuesto_id) -> Presupuesto:
    try:
        p = presupuesto_del_paciente(cliente_id=cliente_id, presupuesto_id=presupuesto_id)
    except Presupuesto.DoesNotExist:
        raise Http404(NO_EXISTE) from None
    p.texto_estado = texto_del_estado(p)
    p.vencido = p.valido_hasta < timezone.localdate()
    p.abierto = p.estado == EstadoPresupuesto.EMITIDO
    return p


def _quien(request) -> str:
    """Who generated the PDF, as its foot says: "Pedro Rojas (Recepción)"."""
    u = request.user
    return f"{nombre_de_personal(u.first_name, u.last_name, u.get_username())} ({request.rol_personal.label})"


def _a_detalle(cliente_id, presupuesto_id):
    return redirect("gestion:paciente_presupuesto", cliente_id=cliente_id, presupuesto_id=presupuesto_id)


@require_safe
@requiere_rol(*TODOS)
@ids_validos
@dentista_solo_de_su_equipo
def lista(request, cliente_id):
    cliente = _cliente_o_404(cliente_id)
    return render(request, f"{PLANTILLAS}/lista.html", {
        "cliente": cliente, "presupuestos": presupuestos_del_paciente(cliente.pk), "hoy": timezone.localdate(),
        "puede_emitir": request.rol_personal in EMITEN,
    })


def _plan_elegido(planes, valor):
    if isinstance(valor, str) and valor.isascii() and valor.isdigit():
        return next((p for p in planes if p.pk == int(valor)), None)
    return None


@require_http_methods(["GET", "POST"])
@requiere_rol(*EMITEN)
@ids_validos
def emitir(request, cliente_id):
    """GET: the plan's proposed items (all checked) and the validity date (today + 30 days);
    POST: ``emitir_presupuesto`` and on to the quote."""
    cliente = _cliente_o_404(cliente_id)
    planes = [p for p in planes_para_presupuestar(cliente.pk) if p.items.all()]
    datos = request.POST if request.method == "POST" else request.GET
    plan = _plan_elegido(planes, datos.get("plan")) or (planes[0] if planes else None)
    form = None
    if plan is not None:
        form = FormularioPresupuesto(request.POST if request.method == "POST" else None, plan=plan)
        if request.method == "POST" and form.is_valid():
            try:
                p = emitir_presupuesto(actor=request.user, plan_id=plan.pk, item_ids=form.cleaned_data["items"],
                                       valido_hasta=form.cleaned_data["valido_hasta"],
                                       observaciones=form.cleaned_data["observaciones"])
            except PlanTratamiento.DoesNotExist:
                raise Http404("Ese plan ya no existe.") from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, f"Presupuesto {p.folio} emitido. Se avisó al paciente.")
                return _a_detalle(cliente.pk, p.pk)
    return render(request, f"{PLANTILLAS}/emitir.html",
                  {"cliente": cliente, "planes": planes, "plan": plan, "form": form})


@require_safe
@requiere_rol(*TODOS)
@ids_validos
@dentista_solo_de_su_equipo
def detalle(request, cliente_id, presupuesto_id):
    p = _presupuesto_o_404(cliente_id, presupuesto_id)
    return render(request, f"{PLANTILLAS}/detalle.html",
                  {"cliente": p.cliente, "p": p, "puede_emitir": request.rol_personal in EMITEN})


@require_safe
@never_cache
@requiere_rol(*TODOS)
@ids_validos
@dentista_solo_de_su_equipo
def pdf(request, cliente_id, presupuesto_id):
    p = _presupuesto_o_404(cliente_id, presupuesto_id)
    return respuesta_pdf(presupuesto_en_pdf(p, generado_para=_quien(request)),
                         f"presupuesto-{p.numero}-{p.version}.pdf")


@require_http_methods(["GET", "POST"])
@requiere_rol(*EMITEN)
@ids_validos
def aceptar(request, cliente_id, presupuesto_id):
    """GET: what recording the acceptance means; POST: ``aceptar_presupuesto`` at the desk."""
    p = _presupuesto_o_404(cliente_id, presupuesto_id)
    if request.method == "POST":
        try:
            aceptar_presupuesto(actor=request.user, presupuesto_id=p.pk, via=ViaRespuesta.RECEPCION)
        except Presupuesto.DoesNotExist:
            raise Http404(NO_EXISTE) from None
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Aceptación del presupuesto {p.folio} registrada: sus ítems quedan por "
                                      "realizar con estos precios.")
        return _a_detalle(cliente_id, p.pk)
    return render(request, f"{PLANTILLAS}/aceptar.html", {"cliente": p.cliente, "p": p})


@require_http_methods(["GET", "POST"])
@requiere_rol(*EMITEN)
@ids_validos
def rechazar(request, cliente_id, presupuesto_id):
    p = _presupuesto_o_404(cliente_id, presupuesto_id)
    form = FormularioRechazo(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            rechazar_presupuesto(actor=request.user, presupuesto_id=p.pk, via=ViaRespuesta.RECEPCION,
                                 motivo=form.cleaned_data["motivo"])
        except Presupuesto.DoesNotExist:
            raise Http404(NO_EXISTE) from None
        except ValidationError as error:
            if error.code == "texto_largo":
                form.agregar_errores_del_servicio(error)
            else:
                messages.error(request, " ".join(error.messages))
                return _a_detalle(cliente_id, p.pk)
        else:
            messages.success(request, f"Rechazo del presupuesto {p.folio} registrado.")
            return _a_detalle(cliente_id, p.pk)
    return render(request, f"{PLANTILLAS}/rechazar.html", {"cliente": p.cliente, "p": p, "form": form})


@require_http_methods(["GET", "POST"])
@requiere_rol(*EMITEN)
@ids_validos
def version(request, cliente_id, presupuesto_id):
    """GET: the plan's current proposed items and a new validity date; POST: ``nueva_version``."""
    p = _presupuesto_o_404(cliente_id, presupuesto_id)
    plan = next((x for x in planes_para_presupuestar(cliente_id) if x.pk == p.plan_id), None)
    form = None
    if plan is not None and plan.items.all():
        form = FormularioPresupuesto(request.POST if request.method == "POST" else None, plan=plan)
        if request.method == "POST" and form.is_valid():
            try:
                nuevo = nueva_version(actor=request.user, presupuesto_id=p.pk, item_ids=form.cleaned_data["items"],
                                      valido_hasta=form.cleaned_data["valido_hasta"],
                                      observaciones=form.cleaned_data["observaciones"])
            except (Presupuesto.DoesNotExist, PlanTratamiento.DoesNotExist):
                raise Http404(NO_EXISTE) from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, f"Presupuesto {nuevo.folio} emitido; el {p.folio} quedó reemplazado. "
                                          "Se avisó al paciente.")
                return _a_detalle(cliente_id, nuevo.pk)
    return render(request, f"{PLANTILLAS}/version.html", {"cliente": p.cliente, "p": p, "plan": plan, "form": form})


_BASE = "pacientes/<int:cliente_id>/presupuestos/"
urlpatterns = [
    path(_BASE, lista, name="paciente_presupuestos"),
    path(f"{_BASE}emitir/", emitir, name="paciente_presupuesto_emitir"),
    path(f"{_BASE}<int:presupuesto_id>/", detalle, name="paciente_presupuesto"),
    path(f"{_BASE}<int:presupuesto_id>/pdf/", pdf, name="paciente_presupuesto_pdf"),
    path(f"{_BASE}<int:presupuesto_id>/aceptar/", aceptar, name="paciente_presupuesto_aceptar"),
    path(f"{_BASE}<int:presupuesto_id>/rechazar/", rechazar, name="paciente_presupuesto_rechazar"),
    path(f"{_BASE}<int:presupuesto_id>/nueva-version/", version, name="paciente_presupuesto_version"),
]
