"""The cash box and the payments (staff site: recepción and administración). Dentists do not
handle money.

- Caja: today's own box (open it with the cash in the drawer; its entries, totals by method, the
  cash expected so far; close it with the count and an observation). A closed box is read-only
  and shows count, expected and difference. Reception sees its own boxes; administration all.
- A patient's payments: register one (their accepted quotes with what each still owes, the
  credit available), use credit on a quote, refund credit, one receipt's page with its PDF, and
  its annulment with a reason.

Views parse, call one service or selector, respond; ``pagos.services`` decides."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from gestion_clinica.forms.pagos import (
    FormularioAbrirCaja, FormularioAnularPago, FormularioCerrarCaja, FormularioDevolucion, FormularioPago,
    FormularioUsarSaldo,
)
from gestion_clinica.permisos import ADMINISTRADOR, RECEPCION, requiere_rol
from gestion_clinica.views.comun import ids_validos
from nucleo.formato import leer_entero, pesos
from nucleo.pdf import respuesta_pdf
from pacientes.models import Cliente
from pagos.comprobantes_pdf import comprobante_en_pdf, destino_de
from pagos.models import Caja, Pago, TipoPago
from pagos.selectors_caja import (
    anulacion_de, caja_de_hoy, caja_por_id, cajas_recientes, efectivo_esperado, movimientos_de_caja,
    pago_del_paciente, pagos_del_paciente, presupuestos_por_pagar, resumen_por_medio, saldo_a_favor,
)
from pagos.services import abrir_caja, anular_pago, cerrar_caja, devolver, registrar_pago, usar_saldo
from personal.models import nombre_de_personal

CAJA = (ADMINISTRADOR, RECEPCION)
PLANTILLAS = "gestion_clinica/pagos"
PAGO_NO_EXISTE = "Ese comprobante no existe para este paciente."


def _quien(request) -> str:
    u = request.user
    return f"{nombre_de_personal(u.first_name, u.last_name, u.get_username())} ({request.rol_personal.label})"


def _caja_visible(request, caja_id) -> Caja:
    """A box the person may see: their own, or any for administration; else 404."""
    try:
        caja = caja_por_id(caja_id)
    except Caja.DoesNotExist:
        raise Http404("Esa caja no existe.") from None
    if caja.cajero_id != request.user.pk and request.rol_personal != ADMINISTRADOR:
        raise Http404("Esa caja no existe.")
    return caja


def _pagina_caja(request, caja, *, form_cierre=None, status=200):
    return render(request, f"{PLANTILLAS}/caja.html", {
        "caja": caja,
        "movimientos": list(movimientos_de_caja(caja.pk)),
        "resumen": resumen_por_medio(caja.pk),
        "esperado": caja.esperado_efectivo if caja.cerrada_en else efectivo_esperado(caja.pk),
        "puede_cerrar": caja.cerrada_en is None and (caja.cajero_id == request.user.pk
                                                     or request.rol_personal == ADMINISTRADOR),
        "form_cierre": form_cierre or FormularioCerrarCaja(),
        "es_propia": caja.cajero_id == request.user.pk,
        "cajas": cajas_recientes(cajero=None if request.rol_personal == ADMINISTRADOR else request.user, limite=10),
    })


@require_safe
@requiere_rol(*CAJA)
def caja(request):
    """Today's own box, or the form to open it."""
    hoy = caja_de_hoy(request.user)
    if hoy is not None:
        return _pagina_caja(request, hoy)
    cajas = cajas_recientes(cajero=None if request.rol_personal == ADMINISTRADOR else request.user, limite=10)
    return render(request, f"{PLANTILLAS}/caja_abrir.html", {"form": FormularioAbrirCaja(), "cajas": cajas})


@require_POST
@requiere_rol(*CAJA)
def caja_abrir(request):
    form = FormularioAbrirCaja(request.POST)
    if form.is_valid():
        try:
            abrir_caja(actor=request.user, monto_apertura=form.cleaned_data["monto_apertura"])
        except ValidationError as error:
            if getattr(error, "code", None) == "caja_duplicada":
                messages.info(request, " ".join(error.messages))
                return redirect("gestion:caja")
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, "Caja abierta.")
            return redirect("gestion:caja")
    cajas = cajas_recientes(cajero=None if request.rol_personal == ADMINISTRADOR else request.user, limite=10)
    return render(request, f"{PLANTILLAS}/caja_abrir.html", {"form": form, "cajas": cajas})


@require_safe
@requiere_rol(*CAJA)
@ids_validos
def caja_detalle(request, caja_id):
    return _pagina_caja(request, _caja_visible(request, caja_id))


@require_POST
@requiere_rol(*CAJA)
@ids_validos
def caja_cerrar(request, caja_id):
    caja = _caja_visible(request, caja_id)
    form = FormularioCerrarCaja(request.POST)
    if form.is_valid():
        try:
            cerrada = cerrar_caja(actor=request.user, caja_id=caja.pk, contado_efectivo=form.cleaned_data["contado_efectivo"],
                                  observacion=form.cleaned_data["observacion"])
        except ValidationError as error:
            if getattr(error, "code", None) in ("caja_cerrada", "caja_ajena"):
                messages.error(request, " ".join(error.messages))
                return redirect("gestion:caja_detalle", caja_id=caja.pk)
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, f"Caja cerrada. Diferencia: {pesos(cerrada.diferencia)}."
                             if cerrada.diferencia else "Caja cerrada, sin diferencia.")
            return redirect("gestion:caja_detalle", caja_id=caja.pk)
    return _pagina_caja(request, caja, form_cierre=form)


# --- A patient's payments ---------------------------------------------------------------------

def _cliente_o_404(cliente_id) -> Cliente:
    cliente = Cliente.objects.filter(pk=cliente_id).first()
    if cliente is None:
        raise Http404("Ese paciente ya no existe.")
    return cliente


def _contexto_paciente(request, cliente):
    presupuestos = list(presupuestos_por_pagar(cliente.pk))
    return {
        "cliente": cliente,
        "presupuestos": presupuestos,
        "saldo": saldo_a_favor(cliente.pk),
        "pagos": pagos_del_paciente(cliente.pk, limite=20),
        "caja": caja_de_hoy(request.user),
    }


def _formulario_de_pago(request, cliente, Formulario, servicio, plantilla, *, exito, campos):
    contexto = _contexto_paciente(request, cliente)
    con_presupuestos = "presupuesto" in Formulario.base_fields
    opciones = {"presupuestos": contexto["presupuestos"]} if con_presupuestos else {}
    inicial = {}
    pedido = leer_entero(request.GET.get("presupuesto"), digitos=18)  # "²" or 5,000 digits: ignored
    if request.method == "GET" and con_presupuestos and pedido is not None:
        inicial["presupuesto"] = pedido
    form = Formulario(request.POST if request.method == "POST" else None, initial=inicial, **opciones)
    if request.method == "POST":
        if form.is_valid():
            try:
                pago = servicio(actor=request.user, cliente_id=cliente.pk,
                                **{k: form.cleaned_data[c] for k, c in campos.items()})
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, exito(pago))
                return redirect("gestion:pago", cliente_id=cliente.pk, pago_id=pago.pk)
    return render(request, f"{PLANTILLAS}/{plantilla}", {**contexto, "form": form})


@require_http_methods(["GET", "POST"])
@requiere_rol(*CAJA)
@ids_validos
def pago_nuevo(request, cliente_id):
    """The patient's accepted quotes with what each still owes, the credit available, and the
    payment's form (``registrar_pago``)."""
    return _formulario_de_pago(
        request, _cliente_o_404(cliente_id), FormularioPago, registrar_pago, "pago_nuevo.html",
        exito=lambda p: (f"Este pago ya estaba registrado (comprobante N° {p.numero:06d}): no se cobró dos veces."
                         if getattr(p, "repetido", False) else f"Pago registrado: comprobante N° {p.numero:06d}."),
        campos={"monto": "monto", "medio": "medio", "referencia": "referencia", "presupuesto_id": "presupuesto",
                "clave": "clave"})


@require_http_methods(["GET", "POST"])
@requiere_rol(*CAJA)
@ids_validos
def pago_usar_saldo(request, cliente_id):
    return _formulario_de_pago(
        request, _cliente_o_404(cliente_id), FormularioUsarSaldo, usar_saldo, "pago_usar_saldo.html",
        exito=lambda p: f"Saldo a favor aplicado: comprobante N° {p.numero:06d}.",
        campos={"monto": "monto", "presupuesto_id": "presupuesto"})


@require_http_methods(["GET", "POST"])
@requiere_rol(*CAJA)
@ids_validos
def pago_devolver(request, cliente_id):
    return _formulario_de_pago(
        request, _cliente_o_404(cliente_id), FormularioDevolucion, devolver, "pago_devolver.html",
        exito=lambda p: f"Devolución registrada: comprobante N° {p.numero:06d}.",
        campos={"monto": "monto", "medio": "medio", "referencia": "referencia", "motivo": "motivo"})


def _pago_o_404(cliente_id, pago_id) -> Pago:
    try:
        return pago_del_paciente(cliente_id=cliente_id, pago_id=pago_id)
    except Pago.DoesNotExist:
        raise Http404(PAGO_NO_EXISTE) from None


@require_safe
@requiere_rol(*CAJA)
@ids_validos
def pago(request, cliente_id, pago_id):
    """One receipt: what, how, where it went, who; its annulment, or the button to annul it."""
    pago = _pago_o_404(cliente_id, pago_id)
    return render(request, f"{PLANTILLAS}/pago.html", {
        "cliente": pago.cliente, "pago": pago, "destino": destino_de(pago), "anulacion": anulacion_de(pago),
        "anulable": pago.tipo == TipoPago.PAGO and not pago.anulado,
    })


@require_http_methods(["GET", "POST"])
@requiere_rol(*CAJA)
@ids_validos
def pago_anular(request, cliente_id, pago_id):
    pago = _pago_o_404(cliente_id, pago_id)
    if pago.anulado or pago.tipo != TipoPago.PAGO:
        messages.info(request, "Este comprobante ya está anulado." if pago.anulado else "Solo se anula un pago.")
        return redirect("gestion:pago", cliente_id=cliente_id, pago_id=pago.pk)
    form = FormularioAnularPago(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                anulacion = anular_pago(actor=request.user, pago_id=pago.pk, cliente_id=cliente_id,
                                        motivo=form.cleaned_data["motivo"])
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, f"Comprobante N° {pago.numero:06d} anulado con el N° {anulacion.numero:06d}.")
                return redirect("gestion:pago", cliente_id=cliente_id, pago_id=anulacion.pk)
    return render(request, f"{PLANTILLAS}/pago_anular.html",
                  {"cliente": pago.cliente, "pago": pago, "destino": destino_de(pago), "form": form,
                   "caja": caja_de_hoy(request.user)})


@require_GET
@never_cache
@requiere_rol(*CAJA)
@ids_validos
def comprobante_pdf(request, cliente_id, pago_id):
    pago = _pago_o_404(cliente_id, pago_id)
    contenido = comprobante_en_pdf(pago, anulacion=anulacion_de(pago) if pago.anulado else None,
                                   generado_para=_quien(request))
    return respuesta_pdf(contenido, f"comprobante-{pago.numero:06d}.pdf")


_PACIENTE = "pacientes/<int:cliente_id>/pagos/"
urlpatterns = [
    path("caja/", caja, name="caja"),
    path("caja/abrir/", caja_abrir, name="caja_abrir"),
    path("caja/<int:caja_id>/", caja_detalle, name="caja_detalle"),
    path("caja/<int:caja_id>/cerrar/", caja_cerrar, name="caja_cerrar"),
    path(f"{_PACIENTE}nuevo/", pago_nuevo, name="pago_nuevo"),
    path(f"{_PACIENTE}usar-saldo/", pago_usar_saldo, name="pago_usar_saldo"),
    path(f"{_PACIENTE}devolver/", pago_devolver, name="pago_devolver"),
    path(f"{_PACIENTE}<int:pago_id>/", pago, name="pago"),
    path(f"{_PACIENTE}<int:pago_id>/anular/", pago_anular, name="pago_anular"),
    path(f"{_PACIENTE}<int:pago_id>/comprobante.pdf", comprobante_pdf, name="comprobante_pdf"),
]
