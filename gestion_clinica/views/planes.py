"""Treatment plans (issue 17): the dentist's plan page (clinical: the odontogram's pending
findings with "Agregar al plan", the items by phase with state, price, discount and total,
and the totals), an item's edit page, "Realizado en esta atención" from a draft note, and
reception's billing view of the plan.

The dentist's pages are wrapped in ``con_acceso_a_ficha(Seccion.PLAN)`` (they show teeth and
findings, which are the clinical record); ``tratamientos.planes`` checks the write rule again.
Views parse, call one service, respond."""

import hashlib

from django.contrib import messages
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from ficha.models import Seccion
from ficha.odontograma import describir
from gestion_clinica.forms.prestaciones import FormularioEditarItem, FormularioItem
from gestion_clinica.permisos import ADMINISTRADOR, RECEPCION, TODOS, requiere_rol
from gestion_clinica.views.acceso_ficha import con_acceso_a_ficha
from gestion_clinica.views.comun import dentista_solo_de_su_equipo, ids_validos
from gestion_clinica.views.ficha import _encabezado
from pacientes.models import Cliente
from tratamientos.models import EstadoItem, EstadoPlan, ItemPlan, PlanTratamiento
from tratamientos.planes import (
    agregar_desde_hallazgos, agregar_item, arancel_para_el_plan, cancelar_item, cerrar_plan, crear_plan, editar_item,
    hallazgos_para_el_plan, huella_de_hallazgos, items_del_plan, marcar_realizado, plan_actual, planes_anteriores,
    quitar_item, totales_del_plan,
)

PLANTILLAS = "gestion_clinica/planes"


def _url_plan(cliente_id, ancla=""):
    return reverse("gestion:ficha_plan", args=[cliente_id]) + (f"#{ancla}" if ancla else "")


def _items_de_pacientes(request):
    """Plan items with their patient as ``cliente_id``, for the gate's "is it this patient's"."""
    return ItemPlan.objects.annotate(cliente_id=F("plan__cliente_id"))


def _fases(items, totales):
    """The items grouped by phase, each group with its totals (computed by the database)."""
    fases = {}
    for item in items:
        fases.setdefault(item.fase, []).append(item)
    return [(fase, lista, totales.por_fase.get(fase)) for fase, lista in sorted(fases.items())]


def tabla_de_items(cliente_id, plan_id, totales, *, editable):
    """The items' table (by phase, with totals) as HTML, from the "ficha" cache when the plan
    shows the same as when it was drawn: its key is the patient, the plan, the page kind and
    ``totales.huella`` (PostgreSQL's digest of every shown value of every item, from the totals'
    own query). A hit skips the items' query and their rendering (~150 ms for 300 items,
    ``bin/bench-http --casos plan``); a miss only renders. Per process, like the notes' HTML."""
    if not totales.items and not totales.cancelado:
        return ""
    llave_cache = "plan-items:" + hashlib.sha256(repr((cliente_id, plan_id, editable, totales.huella,
                                                 [(f, vars(t)) for f, t in sorted(totales.por_fase.items())])).encode()
                                            ).hexdigest()
    cache = caches["ficha"]
    html = cache.get(llave_cache)
    if html is None:
        html = render_to_string(f"{PLANTILLAS}/_items.html", {
            "cliente": {"pk": cliente_id}, "editable": editable, "totales": totales,
            "fases": _fases(list(items_del_plan(plan_id)), totales)})
        cache.set(llave_cache, html, None)
    return mark_safe(html)  # noqa: S308 (rendered by the template engine, escaped)


def lista_de_hallazgos(cliente_id, plan_id, totales):
    """The plan page's pending findings (each with its suggested prestación and "Agregar al
    plan", or "En el plan") as HTML, and whether any is left to add; from the "ficha" cache
    when the odontogram, the suggestions and the plan's items are as they were
    (``huella_de_hallazgos`` + ``totales.huella``). The list has no form tags: the page wraps
    it in its form with this request's CSRF token."""
    llave_cache = "plan-hallazgos:" + hashlib.sha256(repr((cliente_id, plan_id, huella_de_hallazgos(cliente_id),
                                                     totales.huella)).encode()).hexdigest()
    cache = caches["ficha"]
    guardado = cache.get(llave_cache)
    if guardado is None:
        hallazgos = [(m, describir(m), sugerida, ya) for m, sugerida, ya in hallazgos_para_el_plan(cliente_id, plan_id)]
        guardado = (render_to_string(f"{PLANTILLAS}/_hallazgos.html", {"hallazgos": hallazgos}),
                    any(s and not ya for _, _, s, ya in hallazgos))
        cache.set(llave_cache, guardado, None)
    return mark_safe(guardado[0]), guardado[1]  # noqa: S308 (rendered by the template engine, escaped)


def campos_para_agregar(form=None):
    """The fields of "Agregar una prestación del arancel" as HTML. A bound form (a POST with
    errors) is drawn as it is; the empty form of every GET comes from the "ficha" cache, keyed
    by everything it lists of the arancel (``arancel_para_el_plan``: any change to an active
    prestación's code, name or price, or to which are active, is a new key). Building the form
    and drawing its five fields through their widget templates cost ~2 ms per page."""
    if form is not None:
        return render_to_string(f"{PLANTILLAS}/_campos_agregar.html", {"form": form})
    arancel = arancel_para_el_plan()
    llave_cache = "plan-agregar:" + hashlib.sha256(repr(arancel).encode()).hexdigest()
    cache = caches["ficha"]
    html = cache.get(llave_cache)
    if html is None:
        html = render_to_string(f"{PLANTILLAS}/_campos_agregar.html",
                                {"form": FormularioItem(prestaciones=arancel)})
        cache.set(llave_cache, html, None)
    return mark_safe(html)  # noqa: S308 (rendered by the template engine, escaped)


def _contexto_del_plan(cliente_id, plan, *, form=None):
    contexto = _encabezado(cliente_id)
    contexto.update({"plan": plan, "form": form, "campos_agregar": campos_para_agregar(form),
                     "anteriores": planes_anteriores(cliente_id)})
    if plan is not None:
        totales = totales_del_plan(plan.pk)
        hallazgos, hay_por_agregar = lista_de_hallazgos(cliente_id, plan.pk, totales)
        contexto.update({"tabla_items": tabla_de_items(cliente_id, plan.pk, totales, editable=True),
                         "totales": totales, "hallazgos": hallazgos, "hay_por_agregar": hay_por_agregar})
    return contexto


@con_acceso_a_ficha(Seccion.PLAN)
def plan(request, cliente_id):
    """GET: the patient's plan in force (or "Crear plan"); POST: ``crear_plan``."""
    if request.method == "POST":
        try:
            crear_plan(actor=request.user, cliente_id=cliente_id, titulo=request.POST.get("titulo", "")[:200],
                       observaciones=request.POST.get("observaciones", "")[:600])
        except Cliente.DoesNotExist:
            raise Http404("Ese paciente ya no existe.") from None
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Plan creado. Agregue los hallazgos del odontograma o prestaciones del arancel.")
        return redirect(_url_plan(cliente_id))
    return render(request, f"{PLANTILLAS}/plan.html", _contexto_del_plan(cliente_id, plan_actual(cliente_id)))


@con_acceso_a_ficha(Seccion.PLAN, objeto="plan_id", modelo=PlanTratamiento)
def plan_accion(request, cliente_id, plan_id):
    """POST, one step on the plan: ``accion`` = agregar (a prestación by hand), hallazgo (one
    finding), todos (every finding not yet in it), terminar, anular. A GET (after the gate
    logged it, like any read of the record) goes to the plan page."""
    if request.method != "POST":
        return redirect(_url_plan(cliente_id))
    accion = request.POST.get("accion", "")
    datos = {"actor": request.user, "plan_id": plan_id, "cliente_id": cliente_id}
    try:
        if accion == "agregar":
            actual = PlanTratamiento.objects.get(pk=plan_id)
            form = FormularioItem(request.POST, prestaciones=arancel_para_el_plan())
            if not form.is_valid():
                return render(request, f"{PLANTILLAS}/plan.html", _contexto_del_plan(cliente_id, actual, form=form))
            try:
                agregar_item(**datos, prestacion_id=form.cleaned_data["prestacion"], diente=form.cleaned_data["diente"],
                             superficie=form.cleaned_data["superficie"], fase=form.cleaned_data["fase"],
                             descuento=form.cleaned_data["descuento"])
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
                return render(request, f"{PLANTILLAS}/plan.html", _contexto_del_plan(cliente_id, actual, form=form))
            messages.success(request, "Ítem agregado al plan.")
        elif accion == "hallazgo":
            nuevos = agregar_desde_hallazgos(**datos, hallazgo_ids=[request.POST.get("hallazgo", "")[:20]])
            messages.success(request, "Hallazgo agregado al plan." if nuevos else "Ese hallazgo ya estaba en el plan.")
        elif accion == "todos":
            pendientes = [m.pk for m, sugerida, ya in hallazgos_para_el_plan(cliente_id, plan_id) if sugerida and not ya]
            if not pendientes:
                messages.info(request, "No quedan hallazgos con prestación sugerida por agregar.")
                return redirect(_url_plan(cliente_id, "hallazgos"))
            nuevos = agregar_desde_hallazgos(**datos, hallazgo_ids=pendientes)
            messages.success(request, f"{len(nuevos)} hallazgo{'s' if len(nuevos) != 1 else ''} agregado"
                                      f"{'s' if len(nuevos) != 1 else ''} al plan.")
        elif accion in ("terminar", "anular"):
            cerrar_plan(**datos, estado=EstadoPlan.TERMINADO if accion == "terminar" else EstadoPlan.ANULADO)
            messages.success(request, "Plan terminado." if accion == "terminar" else "Plan anulado.")
        else:
            messages.error(request, "Acción no reconocida.")
    except PlanTratamiento.DoesNotExist:
        raise Http404("Ese plan no existe.") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_url_plan(cliente_id, "items"))


@con_acceso_a_ficha(Seccion.PLAN, objeto="item_id", modelo=_items_de_pacientes)
def plan_item(request, cliente_id, item_id):
    """GET: a proposed item's form (price, discount, phase, order); POST ``accion`` = guardar,
    quitar (a proposed item) or cancelar (an accepted one)."""
    item = ItemPlan.objects.select_related("prestacion", "plan").get(pk=item_id)
    accion = request.POST.get("accion", "guardar") if request.method == "POST" else None
    form = None
    if accion in ("quitar", "cancelar"):
        try:
            if accion == "quitar":
                quitar_item(actor=request.user, item_id=item.pk, cliente_id=cliente_id)
                messages.success(request, "Ítem quitado del plan.")
            else:
                cancelar_item(actor=request.user, item_id=item.pk, cliente_id=cliente_id)
                messages.success(request, "Ítem cancelado: no se realizará ni se cobrará.")
        except ItemPlan.DoesNotExist:
            messages.info(request, "Ese ítem ya no está en el plan.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(_url_plan(cliente_id, "items"))
    if accion is not None:
        form = FormularioEditarItem(request.POST)
        if form.is_valid():
            try:
                editar_item(actor=request.user, item_id=item.pk, cliente_id=cliente_id, **form.cleaned_data)
            except ItemPlan.DoesNotExist:
                raise Http404("Ese ítem ya no está en el plan.") from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, "Ítem guardado.")
                return redirect(_url_plan(cliente_id, f"item-{item.pk}"))
    elif item.estado == EstadoItem.PROPUESTO:
        form = FormularioEditarItem(initial={"precio": item.precio, "descuento": item.descuento, "fase": item.fase,
                                             "orden": item.orden})
    return render(request, f"{PLANTILLAS}/item.html", {**_encabezado(cliente_id), "item": item, "form": form})


@con_acceso_a_ficha(Seccion.PLAN, objeto="item_id", modelo=_items_de_pacientes)
def plan_item_realizado(request, cliente_id, item_id):
    """POST, "Realizado en esta atención" from the draft note (``evolucion``):
    ``marcar_realizado``, back to the note. A GET goes to the plan page."""
    if request.method != "POST":
        return redirect(_url_plan(cliente_id, "items"))
    evolucion = str(request.POST.get("evolucion", ""))[:20]
    evolucion_id = int(evolucion) if evolucion.isascii() and evolucion.isdigit() else None
    try:
        item = marcar_realizado(actor=request.user, item_id=item_id, evolucion_id=evolucion_id, cliente_id=cliente_id)
    except ItemPlan.DoesNotExist:
        raise Http404("Ese ítem ya no está en el plan.") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Realizado en esta atención: {item.prestacion.nombre}"
                                  + (f", diente {item.diente} {item.superficie}".rstrip() + "." if item.diente else "."))
    if evolucion_id is not None:
        return redirect(reverse("gestion:ficha_evolucion", args=[cliente_id, evolucion_id]) + "#plan-en-nota")
    return redirect(_url_plan(cliente_id, "items"))


@require_safe
@requiere_rol(*TODOS)
@ids_validos
@dentista_solo_de_su_equipo
def paciente_plan(request, cliente_id):
    """Reception's billing view of the patient's plan in force: prestación names, tooth
    numbers, prices, discounts, states and totals. That is billing data, not the clinical
    record: it is what the patient is quoted and charged (what a quote and a receipt print),
    the same data reception already handles at the desk. It holds no findings, diagnoses,
    notes or observations (``PlanTratamiento.observaciones`` is not shown), so it needs no
    care-team access and writes no read-log row (Ley 20.584 art. 13 guards the clinical
    content, which stays behind ``con_acceso_a_ficha``)."""
    cliente = Cliente.objects.filter(pk=cliente_id).only("pk", "nombre_completo", "rut", "activo").first()
    if cliente is None:
        raise Http404("Ese paciente no existe.")
    actual = plan_actual(cliente_id)
    # Reception and administration issue quotes and take payments from here (a dentist only looks).
    contexto = {"cliente": cliente, "plan": actual, "cobra": request.rol_personal in (ADMINISTRADOR, RECEPCION)}
    if actual is not None:
        totales = totales_del_plan(actual.pk)
        contexto.update({"tabla_items": tabla_de_items(cliente_id, actual.pk, totales, editable=False),
                         "totales": totales})
    return render(request, f"{PLANTILLAS}/cobro.html", contexto)


_BASE = "pacientes/<int:cliente_id>/ficha/plan/"
urlpatterns = [
    path(_BASE, plan, name="ficha_plan"),
    path(f"{_BASE}<int:plan_id>/", plan_accion, name="ficha_plan_accion"),
    path(f"{_BASE}items/<int:item_id>/", plan_item, name="ficha_plan_item"),
    path(f"{_BASE}items/<int:item_id>/realizado/", plan_item_realizado, name="ficha_plan_item_realizado"),
    path("pacientes/<int:cliente_id>/plan/", paciente_plan, name="paciente_plan"),
]
