"""Informed consents on the staff site: the clinic's templates (administration) and a patient's
consents (the dentist): list, issue, the consent's page, the tablet page to present it and take
the signature, the signed scan, revoke, annul, and the PDF.

Every view that shows a consent's content is wrapped in ``con_acceso_a_ficha`` with
``Seccion.CONSENTIMIENTO`` (the one access rule and a read-log row per request); the services
check the rule again before they write. Reception does not record acceptances at the desk: a
consent is clinical content, which reception does not read (``ficha.consentimientos``).
Views parse, call one selector or service, respond."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST, require_safe

from ficha.consentimientos import (
    ALTO_FIRMA, ANCHO_FIRMA, aceptar_consentimiento, anular_consentimiento, cambiar_estado_plantilla,
    consentimiento_del_paciente, consentimientos_del_paciente, crear_plantilla, editar_plantilla,
    emitir_consentimiento, puntos_svg, revocar_consentimiento,
)
from ficha.consentimientos_pdf import consentimiento_en_pdf
from ficha.models import Consentimiento, EstadoConsentimiento, PlantillaConsentimiento, RelacionFirmante, Seccion
from gestion_clinica.forms.ficha_consentimientos import (
    FormularioAceptacion, FormularioEmitir, FormularioMotivo, FormularioPlantilla,
)
from gestion_clinica.permisos import ADMINISTRADOR, requiere_rol
from gestion_clinica.views.acceso_ficha import con_acceso_a_ficha
from gestion_clinica.views.comun import ids_validos
from gestion_clinica.views.ficha import _encabezado
from nucleo.pdf import respuesta_pdf
from pacientes.formato import rut_legible
from pacientes.models import Cliente

PLANTILLAS = "gestion_clinica/ficha"
NO_EXISTE = "Ese consentimiento no existe en la ficha de este paciente."
_GATE = {"objeto": "consentimiento_id", "modelo": Consentimiento}


def _url_lista(cliente_id):
    return reverse("gestion:ficha_consentimientos", args=[cliente_id])


def _url_consentimiento(cliente_id, consentimiento_id):
    return reverse("gestion:ficha_consentimiento", args=[cliente_id, consentimiento_id])


def _consentimiento_o_404(cliente_id, consentimiento_id) -> Consentimiento:
    try:
        return consentimiento_del_paciente(cliente_id=cliente_id, consentimiento_id=consentimiento_id)
    except Consentimiento.DoesNotExist:
        raise Http404(NO_EXISTE) from None


def _contexto(cliente_id, consentimiento):
    return {**_encabezado(cliente_id), "consentimiento": consentimiento,
            "trazos": puntos_svg(consentimiento.firma_trazos), "ancho_firma": ANCHO_FIRMA, "alto_firma": ALTO_FIRMA,
            "estados": EstadoConsentimiento}


def _quien(request) -> str:
    return f"{request.user.get_full_name() or request.user.get_username()} ({request.rol_personal.label})"


# A patient's consents ---------------------------------------------------------------------------


@require_safe
@con_acceso_a_ficha(Seccion.CONSENTIMIENTO)
def consentimientos(request, cliente_id):
    """The patient's consents, newest first, with their state."""
    return render(request, f"{PLANTILLAS}/consentimientos.html", {
        **_encabezado(cliente_id), "consentimientos": list(consentimientos_del_paciente(cliente_id)),
    })


@con_acceso_a_ficha(Seccion.CONSENTIMIENTO)
def consentimiento_nuevo(request, cliente_id):
    """GET: the active templates to choose from; POST: ``emitir_consentimiento``."""
    plantillas = list(PlantillaConsentimiento.objects.filter(activa=True).order_by("nombre"))
    form = FormularioEmitir(request.POST if request.method == "POST" else None, plantillas=plantillas)
    if request.method == "POST" and form.is_valid():
        try:
            consentimiento = emitir_consentimiento(actor=request.user, cliente_id=cliente_id,
                                                   plantilla_id=form.cleaned_data["plantilla"])
        except Cliente.DoesNotExist:
            raise Http404("Ese paciente ya no existe.") from None
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, "Consentimiento emitido. Imprímalo o preséntelo en la tableta para su firma.")
            return redirect(_url_consentimiento(cliente_id, consentimiento.pk))
    return render(request, f"{PLANTILLAS}/consentimiento_nuevo.html",
                  {**_encabezado(cliente_id), "form": form, "plantillas": plantillas})


@require_safe
@con_acceso_a_ficha(Seccion.CONSENTIMIENTO, **_GATE)
def consentimiento(request, cliente_id, consentimiento_id):
    """One consent: its text as issued, its state, who signed and how (the drawn signature as
    SVG), and what can be done next."""
    return render(request, f"{PLANTILLAS}/consentimiento.html",
                  _contexto(cliente_id, _consentimiento_o_404(cliente_id, consentimiento_id)))


def _aceptar(request, cliente_id, consentimiento_id, *, escaneo):
    actual = _consentimiento_o_404(cliente_id, consentimiento_id)
    if actual.estado != EstadoConsentimiento.EMITIDO:
        messages.info(request, f"Este consentimiento está {actual.get_estado_display().lower()}: "
                               "ya no se puede aceptar.")
        return redirect(_url_consentimiento(cliente_id, actual.pk))
    if request.method == "POST":
        form = FormularioAceptacion(request.POST, request.FILES, escaneo=escaneo)
        if form.is_valid():
            datos = form.datos()
            try:
                aceptar_consentimiento(actor=request.user, cliente_id=cliente_id, consentimiento_id=actual.pk,
                                       **datos)
            except Consentimiento.DoesNotExist:
                raise Http404(NO_EXISTE) from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, "Consentimiento aceptado y registrado.")
                return redirect(_url_consentimiento(cliente_id, actual.pk))
    else:
        cliente = Cliente.objects.only("nombre_completo", "rut").get(pk=cliente_id)
        form = FormularioAceptacion(escaneo=escaneo, initial={
            "firmante_relacion": RelacionFirmante.PACIENTE, "firmante_nombre": cliente.nombre_completo,
            "firmante_rut": rut_legible(cliente.rut)})
    plantilla = "consentimiento_escaneo.html" if escaneo else "consentimiento_tableta.html"
    return render(request, f"{PLANTILLAS}/{plantilla}", {**_contexto(cliente_id, actual), "form": form})


@con_acceso_a_ficha(Seccion.CONSENTIMIENTO, **_GATE)
def consentimiento_tableta(request, cliente_id, consentimiento_id):
    """The consent for the patient to read on a tablet, "He leído…", the signer and a signature
    pad (``firma.js`` writes the strokes into a hidden field); POST: ``aceptar_consentimiento``."""
    return _aceptar(request, cliente_id, consentimiento_id, escaneo=False)


@con_acceso_a_ficha(Seccion.CONSENTIMIENTO, **_GATE)
def consentimiento_escaneo(request, cliente_id, consentimiento_id):
    """The printed consent signed on paper: the signer and the scan; POST: ``aceptar_consentimiento``."""
    return _aceptar(request, cliente_id, consentimiento_id, escaneo=True)


def _con_motivo(request, cliente_id, consentimiento_id, *, servicio, estado, exito, titulo, explicacion, boton):
    actual = _consentimiento_o_404(cliente_id, consentimiento_id)
    form = FormularioMotivo(request.POST if request.method == "POST" else None)
    if actual.estado != estado:
        if request.method == "POST":
            messages.error(request, f"Este consentimiento está {actual.get_estado_display().lower()}: "
                                    f"no se puede {boton.lower()}.")
            return redirect(_url_consentimiento(cliente_id, actual.pk))
    elif request.method == "POST" and form.is_valid():
        try:
            servicio(actor=request.user, cliente_id=cliente_id, consentimiento_id=actual.pk,
                     motivo=form.cleaned_data["motivo"])
        except Consentimiento.DoesNotExist:
            raise Http404(NO_EXISTE) from None
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, exito)
            return redirect(_url_consentimiento(cliente_id, actual.pk))
    return render(request, f"{PLANTILLAS}/consentimiento_motivo.html", {
        **_contexto(cliente_id, actual), "form": form, "titulo": titulo, "explicacion": explicacion,
        "boton": boton, "posible": actual.estado == estado})


@con_acceso_a_ficha(Seccion.CONSENTIMIENTO, **_GATE)
def consentimiento_revocar(request, cliente_id, consentimiento_id):
    """GET: the reason's form; POST: ``revocar_consentimiento`` (an accepted consent only)."""
    return _con_motivo(request, cliente_id, consentimiento_id, servicio=revocar_consentimiento,
                       estado=EstadoConsentimiento.ACEPTADO, exito="Revocación registrada.",
                       titulo="Registrar la revocación",
                       explicacion="El paciente retira su consentimiento. El consentimiento queda en la ficha "
                                   "como revocado, con la fecha de hoy y el motivo; nada se borra.",
                       boton="Revocar")


@con_acceso_a_ficha(Seccion.CONSENTIMIENTO, **_GATE)
def consentimiento_anular(request, cliente_id, consentimiento_id):
    """GET: the reason's form; POST: ``anular_consentimiento`` (before acceptance only)."""
    return _con_motivo(request, cliente_id, consentimiento_id, servicio=anular_consentimiento,
                       estado=EstadoConsentimiento.EMITIDO, exito="Consentimiento anulado.",
                       titulo="Anular el consentimiento",
                       explicacion="Para un consentimiento emitido por error, antes de que el paciente lo acepte. "
                                   "Queda en la ficha como anulado, con el motivo.",
                       boton="Anular")


@require_safe
@con_acceso_a_ficha(Seccion.CONSENTIMIENTO, **_GATE)
def consentimiento_pdf(request, cliente_id, consentimiento_id):
    """The consent as PDF: to print and sign (blank lines) or as accepted."""
    actual = _consentimiento_o_404(cliente_id, consentimiento_id)
    cliente = Cliente.objects.get(pk=cliente_id)
    return respuesta_pdf(consentimiento_en_pdf(actual, cliente=cliente, generado_para=_quien(request)),
                         f"consentimiento-{actual.pk}.pdf", en_linea=True)


# The clinic's templates (administration) ------------------------------------------------------


@require_safe
@requiere_rol(ADMINISTRADOR)
def plantillas(request):
    """Every template, active first."""
    return render(request, f"{PLANTILLAS}/plantillas_consentimiento.html", {
        "plantillas": PlantillaConsentimiento.objects.order_by("-activa", "nombre")})


@requiere_rol(ADMINISTRADOR)
def plantilla_nueva(request):
    form = FormularioPlantilla(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            crear_plantilla(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, "Plantilla creada.")
            return redirect("gestion:plantillas_consentimiento")
    return render(request, f"{PLANTILLAS}/plantilla_consentimiento.html", {"form": form, "plantilla": None})


@requiere_rol(ADMINISTRADOR)
@ids_validos
def plantilla(request, plantilla_id):
    actual = PlantillaConsentimiento.objects.filter(pk=plantilla_id).first()
    if actual is None:
        raise Http404("Esa plantilla no existe.")
    if request.method == "POST":
        form = FormularioPlantilla(request.POST)
        if form.is_valid():
            try:
                editar_plantilla(actor=request.user, plantilla_id=actual.pk, **form.cleaned_data)
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, "Plantilla guardada. Los consentimientos ya emitidos conservan su texto.")
                return redirect("gestion:plantillas_consentimiento")
    else:
        form = FormularioPlantilla(initial={"nombre": actual.nombre, "procedimiento": actual.procedimiento,
                                            "texto": actual.texto})
    return render(request, f"{PLANTILLAS}/plantilla_consentimiento.html", {"form": form, "plantilla": actual})


@require_POST
@requiere_rol(ADMINISTRADOR)
@ids_validos
def plantilla_estado(request, plantilla_id):
    """Deactivate (``activa=0``) or activate again (``activa=1``)."""
    activa = request.POST.get("activa")
    if activa not in ("0", "1"):
        messages.error(request, "Acción no reconocida.")
        return redirect("gestion:plantillas_consentimiento")
    try:
        cambiar_estado_plantilla(actor=request.user, plantilla_id=plantilla_id, activa=activa == "1")
    except PlantillaConsentimiento.DoesNotExist:
        raise Http404("Esa plantilla no existe.") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Plantilla activada." if activa == "1" else
                         "Plantilla desactivada: ya no se emiten consentimientos con ella.")
    return redirect("gestion:plantillas_consentimiento")


_BASE = "pacientes/<int:cliente_id>/ficha/consentimientos/"
urlpatterns = [
    path(_BASE, consentimientos, name="ficha_consentimientos"),
    path(f"{_BASE}nuevo/", consentimiento_nuevo, name="ficha_consentimiento_nuevo"),
    path(f"{_BASE}<int:consentimiento_id>/", consentimiento, name="ficha_consentimiento"),
    path(f"{_BASE}<int:consentimiento_id>/tableta/", consentimiento_tableta, name="ficha_consentimiento_tableta"),
    path(f"{_BASE}<int:consentimiento_id>/escaneo/", consentimiento_escaneo, name="ficha_consentimiento_escaneo"),
    path(f"{_BASE}<int:consentimiento_id>/revocar/", consentimiento_revocar, name="ficha_consentimiento_revocar"),
    path(f"{_BASE}<int:consentimiento_id>/anular/", consentimiento_anular, name="ficha_consentimiento_anular"),
    path(f"{_BASE}<int:consentimiento_id>/pdf/", consentimiento_pdf, name="ficha_consentimiento_pdf"),
    path("consentimientos/plantillas/", plantillas, name="plantillas_consentimiento"),
    path("consentimientos/plantillas/nueva/", plantilla_nueva, name="plantilla_consentimiento_nueva"),
    path("consentimientos/plantillas/<int:plantilla_id>/", plantilla, name="plantilla_consentimiento"),
    path("consentimientos/plantillas/<int:plantilla_id>/estado/", plantilla_estado,
         name="plantilla_consentimiento_estado"),
]
