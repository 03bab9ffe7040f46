"""Who may read a record (staff site): urgent access from the 403 page, and for
administrators the read log's search, the urgent accesses to review and each patient's care
team. URLs of this area are in ``urlpatterns``, joined by ``gestion_clinica.urls``.

Administrators manage access and read the log; they never read clinical content (the log
shows who read what, not what it said)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from ficha.acceso import acceso_a_ficha
from ficha.accesos import abrir_urgencia, conceder_acceso, revisar_urgencia, revocar_acceso
from ficha.selectors_lecturas import (
    acceso_asignado_de,
    buscar_lecturas,
    cuantas_urgencias_por_revisar,
    equipo_de_cuidado,
    urgencias_por_revisar,
)
from gestion_clinica.forms.ficha_accesos import FiltroLecturas, FormularioConceder, FormularioRevision, FormularioUrgencia
from gestion_clinica.permisos import ADMINISTRADOR, TODOS, requiere_rol
from gestion_clinica.views.acceso_ficha import respuesta_sin_acceso
from gestion_clinica.views.comun import filtros_validos
from pacientes.models import Cliente

POR_PAGINA = 50


def _destino(request, cliente_id):
    """Where to go once urgent access is open: the clinical page the dentist knocked at
    (``next``, only a path of this site), else the patient's page."""
    destino = request.POST.get("next", "")
    if destino.startswith("/") and url_has_allowed_host_and_scheme(destino, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return destino
    return reverse("gestion:paciente", args=[cliente_id])


@require_POST
@requiere_rol(*TODOS)
def urgencia(request, cliente_id):
    """Open "acceso de urgencia" (``abrir_urgencia``) and go back to the clinical page. Who
    already may read the record goes straight there; who may not open one (reception,
    administration) gets the 403 page, nothing written; a refused reason, the 403 page again
    with the reason next to the form."""
    acceso = acceso_a_ficha(request.user, cliente_id)
    if acceso is None:
        raise Http404("Ese paciente no existe.")
    if acceso.permitido:
        messages.info(request, "Usted ya puede ver esta ficha: no necesita un acceso de urgencia.")
        return HttpResponseRedirect(_destino(request, cliente_id))
    if not acceso.puede_urgencia:
        return respuesta_sin_acceso(request, cliente_id, acceso)
    form = FormularioUrgencia(request.POST)
    if form.is_valid():
        try:
            abierta = abrir_urgencia(actor=request.user, cliente_id=cliente_id, motivo=form.cleaned_data["motivo"])
        except ValidationError as error:
            if any(item.code == "no_existe" for item in error.error_list):
                raise Http404("Ese paciente no existe.") from None
            form.agregar_errores_del_servicio(error)
        else:
            messages.warning(request, "Acceso de urgencia abierto hasta las "
                                      f"{timezone.localtime(abierta.vence_en):%H:%M}. Quedó registrado y la "
                                      "administración lo revisará.")
            return HttpResponseRedirect(_destino(request, cliente_id))
    return respuesta_sin_acceso(request, cliente_id, acceso, form_urgencia=form, status=400)


@requiere_rol(ADMINISTRADOR)
def lecturas(request):
    """The read log, filtered and paginated, newest first; bad filter values are ignored and
    said so."""
    filtro = FiltroLecturas(request.GET or None)
    filtros = filtros_validos(request, filtro)
    pagina = Paginator(buscar_lecturas(**filtros), POR_PAGINA).get_page(request.GET.get("pagina"))
    consulta = request.GET.copy()
    consulta.pop("pagina", None)
    return render(request, "gestion_clinica/ficha/lecturas.html",
                  {"filtro": filtro, "pagina": pagina, "consulta": consulta.urlencode()})


@requiere_rol(ADMINISTRADOR)
def urgencias(request):
    """Urgent accesses not reviewed yet, each with its review form."""
    return render(request, "gestion_clinica/ficha/urgencias.html",
                  {"urgencias": list(urgencias_por_revisar()), "ahora": timezone.now()})


@require_safe
@requiere_rol(ADMINISTRADOR)
def urgencias_cuenta(request):
    """The menu's badge: how many urgent accesses wait for review. Asked by htmx after the page
    loads, so no page pays a query for it (their pinned query counts stay)."""
    respuesta = render(request, "gestion_clinica/ficha/_cuenta_urgencias.html",
                       {"cuantas": cuantas_urgencias_por_revisar()})
    respuesta["Cache-Control"] = "no-store"
    return respuesta


@require_POST
@requiere_rol(ADMINISTRADOR)
def revisar(request, urgencia_id):
    """Mark one reviewed (``revisar_urgencia``), with the note."""
    form = FormularioRevision(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errores in form.errors.values() for e in errores))
        return redirect("gestion:ficha_urgencias")
    try:
        revisar_urgencia(actor=request.user, urgencia_id=urgencia_id, nota=form.cleaned_data["nota"])
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, "Acceso de urgencia marcado como revisado.")
    return redirect("gestion:ficha_urgencias")


@requiere_rol(ADMINISTRADOR)
def accesos(request, cliente_id):
    """A patient's care team: the dentists with appointments (the appointments decide), the
    dentists assigned to the treatment (revocable), and the form to assign one."""
    cliente = get_object_or_404(Cliente.objects.only("pk", "nombre_completo", "rut"), pk=cliente_id)
    form = FormularioConceder(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            acceso = conceder_acceso(actor=request.user, cliente_id=cliente_id,
                                     dentista_id=form.cleaned_data["dentista"].pk, motivo=form.cleaned_data["motivo"])
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, f"{form.cleaned_data['dentista'].nombre} ya puede ver la ficha clínica de "
                                      f"{cliente.nombre_completo} (acceso n.º {acceso.pk}).")
            return redirect("gestion:ficha_accesos", cliente_id=cliente_id)
    return render(request, "gestion_clinica/ficha/accesos.html", {
        "cliente": cliente, "equipo": equipo_de_cuidado(cliente_id), "form": form,
    }, status=400 if form.is_bound and form.errors else 200)


@require_POST
@requiere_rol(ADMINISTRADOR)
def revocar(request, cliente_id, acceso_id):
    """Close one assignment of this patient (``revocar_acceso``); another patient's id is a 404."""
    asignado = acceso_asignado_de(cliente_id=cliente_id, acceso_id=acceso_id)
    if asignado is None:
        raise Http404("Ese acceso no es de este paciente.")
    try:
        revocar_acceso(actor=request.user, acceso_id=acceso_id)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, "Acceso revocado: el dentista ya no ve la ficha (salvo que tenga citas con el "
                                  "paciente).")
    return redirect("gestion:ficha_accesos", cliente_id=cliente_id)


urlpatterns = [
    path("pacientes/<int:cliente_id>/ficha/urgencia/", urgencia, name="ficha_urgencia"),
    path("pacientes/<int:cliente_id>/ficha/accesos/", accesos, name="ficha_accesos"),
    path("pacientes/<int:cliente_id>/ficha/accesos/<int:acceso_id>/revocar/", revocar, name="ficha_acceso_revocar"),
    path("ficha/lecturas/", lecturas, name="ficha_lecturas"),
    path("ficha/urgencias/", urgencias, name="ficha_urgencias"),
    path("ficha/urgencias/cuenta/", urgencias_cuenta, name="ficha_urgencias_cuenta"),
    path("ficha/urgencias/<int:urgencia_id>/revisar/", revisar, name="ficha_urgencia_revisar"),
]
