"""One appointment (staff site): its page, state changes, assigning, rescheduling and
cancelling. URLs in ``urlpatterns``, joined by ``gestion_clinica.urls``; the same access rules
as the grid (``gestion_clinica.views.agenda``): a dentist acts only on their own appointments."""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from citas import services
from citas.selectors import horas_libres
from gestion_clinica.forms.agenda import FormularioAsignar, FormularioCancelar, FormularioReprogramar
from gestion_clinica.permisos import DENTISTA, TODOS, requiere_rol
from gestion_clinica.views.agenda import (
    DEL_DENTISTA,
    GESTION,
    SERVICIOS,
    _acciones,
    _cita_o_404,
    _dentista_propio,
    _dentistas_activos,
    _Enlaces,
    _texto_error,
    _url_dia,
    _volver,
)
from gestion_clinica.views.comun import reenviar_aviso
from notificaciones.selectors import avisos_de_cita, es_aviso_de
from pacientes.selectors import buscar_pacientes

DIAS_PARA_REPROGRAMAR = 28


@require_POST
@requiere_rol(*TODOS)
def cambiar_estado(request, cita_id, accion):
    """Confirm, arrived, attended, no-show: one service each, then back to the day."""
    if accion not in SERVICIOS:
        raise Http404("Acción desconocida.")
    cita = _cita_o_404(request, cita_id)
    if request.rol_personal == DENTISTA and accion not in DEL_DENTISTA:
        raise Http404("Acción no disponible.")
    servicio, exito = SERVICIOS[accion]
    try:
        servicio(actor=request.user, cita_id=cita.pk)
    except ValidationError as error:
        messages.error(request, _texto_error(error))
    else:
        messages.success(request, exito)
    return redirect(_volver(request, cita))


@requiere_rol(*TODOS)
def detalle_cita(request, cita_id):
    """One appointment: when, with whom, its state and the actions the grid offers, and its
    notifications with their delivery state (and "Reenviar" for administración/recepción).
    A dentist opens only their own appointments (another's is a 404, as in the grid)."""
    cita = _cita_o_404(request, cita_id, relacionados=("dentista__user", "cliente"))
    propio = _dentista_propio(request)
    ahora = timezone.now()
    return render(request, "gestion_clinica/agenda/cita.html", {
        "cita": cita,
        "acciones": _acciones(cita, dentista_propio=propio, ahora=ahora, enlaces=_Enlaces()),
        "avisos": avisos_de_cita(cita.pk),
        "puede_reenviar": propio is None and request.rol_personal in GESTION,
        "volver": _url_dia(timezone.localdate(cita.inicio)),
    })


@require_POST
@requiere_rol(*GESTION)
def aviso_reenviar(request, cita_id, notificacion_id):
    """Resend one of this appointment's notifications (``reenviar_notificacion``); another
    appointment's notification id is a 404."""
    if not es_aviso_de(notificacion_id, cita_id=cita_id):
        raise Http404("Ese aviso no es de esta cita.")
    return reenviar_aviso(request, notificacion_id=notificacion_id,
                          volver=reverse("gestion:agenda_cita", args=[cita_id]) + "#avisos")


@requiere_rol(*GESTION)
def cancelar(request, cita_id):
    """Release the slot, or cancel by the clinic (the patient is told, with the reason).
    GET shows the form (for the clinic's cancellation, with a reason); POST cancels."""
    cita = _cita_o_404(request, cita_id)
    volver = _volver(request, cita)
    if request.method != "POST":
        formulario = FormularioCancelar(initial={"por_clinica": request.GET.get("por_clinica") == "1"})
        return render(request, "gestion_clinica/agenda/cancelar.html",
                      {"cita": cita, "formulario": formulario, "volver": volver})
    formulario = FormularioCancelar(request.POST)
    if not formulario.is_valid():
        messages.error(request, "No se canceló: " + " ".join(e for lista in formulario.errors.values() for e in lista))
        return redirect(volver)
    por_clinica = formulario.cleaned_data["por_clinica"]
    try:
        services.cancelar_cita(actor=request.user, cita_id=cita.pk, por_clinica=por_clinica,
                               motivo=formulario.cleaned_data["motivo"])
    except ValidationError as error:
        messages.error(request, _texto_error(error))
    else:
        messages.success(request, "Cita cancelada por la clínica; se avisó al paciente." if por_clinica
                         else "Cita cancelada; la hora quedó libre.")
    return redirect(volver)


@requiere_rol(*GESTION)
def asignar(request, cita_id):
    """Give a free slot to a patient from the search, or to a person without a record."""
    cita = _cita_o_404(request, cita_id)
    volver = _url_dia(timezone.localdate(cita.inicio))
    formulario = FormularioAsignar(request.POST if request.method == "POST" else None)
    if request.method == "POST" and formulario.is_valid():
        datos = formulario.cleaned_data
        try:
            if datos["cliente"]:
                services.asignar_cita(actor=request.user, cita_id=cita.pk, cliente_id=datos["cliente"],
                                      motivo=datos["motivo"])
            else:
                services.asignar_cita(
                    actor=request.user, cita_id=cita.pk, paciente_nombre=datos["paciente_nombre"],
                    paciente_email=datos["paciente_email"], paciente_telefono=datos["paciente_telefono"],
                    motivo=datos["motivo"],
                )
        except ValidationError as error:
            if getattr(error, "code", None) == "hora_no_disponible":
                messages.error(request, _texto_error(error))
                return redirect(volver)
            if hasattr(error, "error_dict"):
                for campo, errores in error.error_dict.items():
                    visible = campo in formulario.fields and campo != "cliente"
                    formulario.add_error(campo if visible else None, errores)
            else:
                formulario.add_error(None, error)
        else:
            messages.success(request, "Hora asignada.")
            return redirect(volver)
    q = request.GET.get("q", "")
    pacientes = list(buscar_pacientes(q).con_consentimientos()[:10]) if q.strip() else []
    return render(request, "gestion_clinica/agenda/asignar.html", {
        "cita": cita, "formulario": formulario, "volver": volver, "q": q, "pacientes": pacientes,
    })


@requiere_rol(*GESTION)
def buscar(request):
    """htmx: a short list of patients matching ``q`` (radio buttons for the assign form)."""
    q = request.GET.get("q", "")
    # With their live consents: the list warns about a patient no notice would reach.
    pacientes = list(buscar_pacientes(q).con_consentimientos()[:10]) if q.strip() else []
    return render(request, "gestion_clinica/agenda/_pacientes.html", {"pacientes": pacientes, "q": q})


@requiere_rol(*GESTION)
def reprogramar(request, cita_id):
    """Move a booking to another free slot (any dentist), in one service call."""
    cita = _cita_o_404(request, cita_id)
    volver = _url_dia(timezone.localdate(cita.inicio))
    formulario = FormularioReprogramar(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if formulario.is_valid():
            try:
                nueva = services.reprogramar_cita(actor=request.user, cita_id=cita.pk,
                                                  nueva_cita_id=formulario.cleaned_data["nueva"])
            except ValidationError as error:
                messages.error(request, _texto_error(error))
                if error.code in ("hora_no_disponible",):
                    return redirect(request.get_full_path())
                return redirect(volver)
            messages.success(request, "Hora cambiada; se avisó al paciente.")
            return redirect(_url_dia(timezone.localdate(nueva.inicio)))
    ahora = timezone.now()
    dentistas = list(_dentistas_activos())
    elegido = request.GET.get("dentista", "")
    dentista_id = next((d.pk for d in dentistas if str(d.pk) == elegido), None)
    libres = horas_libres(desde=ahora, hasta=ahora + datetime.timedelta(days=DIAS_PARA_REPROGRAMAR),
                          excluir_id=cita.pk, dentista_id=dentista_id)
    return render(request, "gestion_clinica/agenda/reprogramar.html", {
        "cita": cita, "formulario": formulario, "volver": volver, "libres": libres, "dias": DIAS_PARA_REPROGRAMAR,
        "dentistas": dentistas, "dentista_id": dentista_id,
    })


urlpatterns = [
    path("agenda/buscar-pacientes/", buscar, name="agenda_buscar_pacientes"),
    path("agenda/cita/<int:cita_id>/", detalle_cita, name="agenda_cita"),
    path("agenda/cita/<int:cita_id>/avisos/<int:notificacion_id>/reenviar/", aviso_reenviar,
         name="agenda_cita_aviso_reenviar"),
    path("agenda/cita/<int:cita_id>/asignar/", asignar, name="agenda_asignar"),
    path("agenda/cita/<int:cita_id>/reprogramar/", reprogramar, name="agenda_reprogramar"),
    path("agenda/cita/<int:cita_id>/cancelar/", cancelar, name="agenda_cancelar"),
    # Last: "<slug:accion>/" would not clash with the ones above anyway (different segments).
    path("agenda/cita/<int:cita_id>/<slug:accion>/", cambiar_estado, name="agenda_accion"),
]
