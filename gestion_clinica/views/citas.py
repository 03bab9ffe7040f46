"""One appointment (staff site): its page, state changes, assigning, rescheduling and
cancelling. URLs in ``urlpatterns``, joined by ``gestion_clinica.urls``; the same access rules
as the grid (``gestion_clinica.views.agenda``): a dentist acts only on their own appointments."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as formato_fecha
from django.views.decorators.http import require_GET, require_POST

from citas import estados, services
from citas.models import Cita, EstadoCita
from citas.selectors import cancelaciones_de_cita, reserva, reserva_que_estuvo_en
from ficha.acceso import acceso_a_ficha, perfil_clinico
from ficha.lecturas import registrar_lectura
from ficha.models import Seccion
from gestion_clinica.forms.agenda import FormularioAsignar, FormularioCancelar, FormularioDeshacer, FormularioReprogramar
from gestion_clinica.permisos import DENTISTA, TODOS, requiere_rol
from gestion_clinica.views.agenda import (
    DEL_DENTISTA,
    GESTION,
    QUIEN_CANCELO,
    SERVICIOS,
    Enlaces,
    acciones_de,
    cita_o_404,
    dentista_propio_de,
    texto_error,
    url_dia,
    volver_a,
)
from ficha.acceso import ESTADOS_DE_CUIDADO
from gestion_clinica.views.comun import reenviar_aviso
from gestion_clinica.views.selector_horas import selector_pedido, url_del_selector
from notificaciones.models import Canal
from notificaciones.selectors import avisos_de_cita, es_aviso_de
from notificaciones.services import canales_de_envio
from nucleo.ip_cliente import ip_del_cliente
from pacientes.selectors import buscar_pacientes
from prestaciones.models import Prestacion


@require_POST
@requiere_rol(*TODOS)
def cambiar_estado(request, cita_id, accion):
    """Confirm, arrived, attended, no-show: one service each, then back to the day."""
    if accion not in SERVICIOS:
        raise Http404("Acción desconocida.")
    cita = cita_o_404(request, cita_id)
    if request.rol_personal == DENTISTA and accion not in DEL_DENTISTA:
        raise Http404("Acción no disponible.")
    servicio, exito = SERVICIOS[accion]
    try:
        servicio(actor=request.user, cita_id=cita.pk)
    except ValidationError as error:
        messages.error(request, texto_error(error))
    else:
        messages.success(request, exito)
    return redirect(volver_a(request, cita))


@requiere_rol(*TODOS)
def detalle_cita(request, cita_id):
    """One appointment: when, with whom, its state and the actions the grid offers, the slot's
    cancellations (who, when, why, recorded by whom), and its notifications with their delivery state (and "Reenviar" for administración/recepción).
    A dentist opens only their own appointments (another's is a 404, as in the grid)."""
    cita = cita_o_404(request, cita_id, relacionados=("dentista__user", "cliente", "prestacion"))
    propio = dentista_propio_de(request)
    ahora = timezone.now()
    acceso, ve_alergias = _acceso_y_alergias(request, cita, propio)
    return render(request, "gestion_clinica/agenda/cita.html", {
        "cita": cita,
        "movida_a": _movida_a(cita, propio),
        "acciones": acciones_de(cita, dentista_propio=propio, ahora=ahora, enlaces=Enlaces(),
                              nombre=cita.cliente.nombre_completo if cita.cliente_id else cita.paciente_nombre),
        "avisos": avisos_de_cita(cita.pk),
        "cancelaciones": [(c, QUIEN_CANCELO.get((c.por, c.via), c.por)) for c in cancelaciones_de_cita(cita_id=cita.pk)],
        "puede_reenviar": propio is None and request.rol_personal in GESTION,
        "ve_alergias": ve_alergias,
        "volver": url_dia(timezone.localdate(cita.inicio)),
        # Issue 15: links to the ficha and to a note for this visit for a dentist the access
        # rule lets in (``acceso_a_ficha``, no second decision here); no clinical content.
        "con_ficha": acceso is not None and acceso.permitido,
        "nota_de_esta_cita": cita.estado in ESTADOS_DE_CUIDADO,
    })


def _acceso_y_alergias(request, cita, propio):
    """The access answer for the appointment's patient (one query), asked only of a clinical
    reader on their own appointment, and whether the page shows the patient's allergies
    (clinical data): only with access, and that read logged. Anyone else sees only the alert,
    and nothing is logged (this page shows them no clinical content). No query and no log when
    there is no patient."""
    if propio is None or not cita.cliente_id or perfil_clinico(request.user) is None:
        return None, False
    acceso = acceso_a_ficha(request.user, cita.cliente_id)
    if acceso is None or not acceso.permitido:
        return acceso, False
    if not cita.cliente.alergias:
        return acceso, False
    request.acceso_ficha = acceso
    registrar_lectura(usuario=request.user, cliente_id=cita.cliente_id, seccion=Seccion.ANTECEDENTES, acceso=acceso,
                      ip=ip_del_cliente(request))
    return acceso, True


def _movida_a(cita, propio):
    """For a free or blocked slot whose last booking was moved to another slot: the row that
    holds it now (the page links to it; an old link of the booking lands here). The slot's
    page stays the slot's (the grid links every cell to it), so no redirect. Two queries, only
    for a free or blocked slot."""
    if cita.estado not in (EstadoCita.DISPONIBLE, EstadoCita.BLOQUEADA):
        return None
    reserva_uid = reserva_que_estuvo_en(cita_id=cita.pk)
    encontrada = reserva(reserva_uid=reserva_uid) if reserva_uid else None
    if encontrada is None or encontrada.cita is None or encontrada.cita.pk == cita.pk:
        return None
    if propio is not None and encontrada.cita.dentista_id != propio.pk:
        return None
    return encontrada.cita


@require_GET
@requiere_rol(*TODOS)
def detalle_reserva(request, reserva_uid):
    """A booking by its identity (``Cita.reserva_uid``, the links the domain builds): to the
    slot that holds it now, or, once cancelled, to the slot it was cancelled from (whose page
    lists the cancellation). A dentist only reaches their own (404 otherwise)."""
    encontrada = reserva(reserva_uid=reserva_uid)
    propio = dentista_propio_de(request)
    if encontrada is None or (propio is not None and (encontrada.cita or encontrada.cancelacion).dentista_id != propio.pk):
        raise Http404("Cita no encontrada.")
    if encontrada.cita is not None:
        return redirect("gestion:agenda_cita", cita_id=encontrada.cita.pk)
    cancelacion = encontrada.cancelacion
    messages.info(request, f"Esta cita fue cancelada el {formato_fecha(timezone.localtime(cancelacion.creada), 'd-m-Y')} "
                           f"a las {formato_fecha(timezone.localtime(cancelacion.creada), 'H:i')}: abajo, el historial "
                           "de la hora.")
    return redirect("gestion:agenda_cita", cita_id=cancelacion.cita_id)


@require_POST
@requiere_rol(*GESTION)
def aviso_reenviar(request, cita_id, notificacion_id):
    """Resend one of this appointment's notifications (``reenviar_notificacion``); another
    appointment's notification id is a 404."""
    if not es_aviso_de(notificacion_id, cita_id=cita_id):
        raise Http404("Ese aviso no es de esta cita.")
    return reenviar_aviso(request, notificacion_id=notificacion_id,
                          volver=reverse("gestion:agenda_cita", args=[cita_id]) + "#avisos")


def _volver_de(request, datos, cita):
    """Back to the appointment's page when the page was opened from there (``volver=cita``,
    in the link or the form), else to its day in the grid."""
    if datos.get("volver") == "cita":
        return reverse("gestion:agenda_cita", args=[cita.pk])
    return url_dia(timezone.localdate(cita.inicio))


def _canales(cita):
    """How the patient would be told (the outbox's rule), as labels: ["Correo electrónico", …]."""
    # The patient's record (consents, confirmed phone), as the outbox reads it: also for a
    # patient without a portal account.
    perfil = cita.cliente.preferencias() if cita.cliente_id else None
    canales = canales_de_envio(email=cita.paciente_email, telefono=cita.paciente_telefono, perfil=perfil)
    return [Canal(canal).label for canal, _ in canales]


@requiere_rol(*GESTION)
def cancelar(request, cita_id):
    """Cancel a booking, never in one click. GET says what each kind of cancellation does and
    asks who cancels («El paciente lo pidió»: the slot is freed; «La clínica cancela»: the
    appointment stays cancelled with its patient) and why, both required; ``?por_clinica=1``
    (or ``0``) and ``?motivo=`` fill them in (the closure screen links here with its reason).
    POST cancels (``cancelar_cita``); a missing choice or reason shows the page again with
    the error, and nothing changes."""
    cita = cita_o_404(request, cita_id, relacionados=("dentista__user", "cliente__user__perfil_cliente"))
    datos = request.POST if request.method == "POST" else request.GET
    volver = _volver_de(request, datos, cita)
    if request.method == "POST":
        formulario = FormularioCancelar(request.POST)
        if formulario.is_valid():
            por_clinica = formulario.cleaned_data["por_clinica"]
            try:
                services.cancelar_cita(actor=request.user, cita_id=cita.pk, por_clinica=por_clinica,
                                       motivo=formulario.cleaned_data["motivo"])
            except ValidationError as error:
                if not hasattr(error, "error_dict"):
                    messages.error(request, texto_error(error))
                    return redirect(volver)
                for campo, errores in error.error_dict.items():
                    formulario.add_error(campo if campo in formulario.fields else None, errores)
            else:
                if por_clinica:
                    texto = "Cita cancelada por la clínica; se avisó al paciente."
                elif Cita.objects.filter(pk=cita.pk, estado=EstadoCita.BLOQUEADA).exists():
                    # Freed on a day of a closure: the database keeps the slot blocked (cierres).
                    texto = "Cita cancelada; la hora sigue bloqueada por el cierre de ese día."
                else:
                    texto = "Cita cancelada; la hora quedó libre."
                messages.success(request, texto)
                return redirect(volver)
    else:
        inicial = {"motivo": " ".join(request.GET.get("motivo", "").split())[:200]}
        if request.GET.get("por_clinica") in ("0", "1"):
            inicial["por_clinica"] = request.GET["por_clinica"]
        formulario = FormularioCancelar(initial=inicial)
    return render(request, "gestion_clinica/agenda/cancelar.html", {
        "cita": cita, "formulario": formulario, "volver": volver, "volver_a_la_cita": datos.get("volver") == "cita",
        "cancelable": estados.permitida("cancelar", cita, timezone.now()), "canales": _canales(cita),
    })


@requiere_rol(*TODOS)
def deshacer(request, cita_id):
    """Undo a wrong "Llegó", "Atendida" or "No asistió" (``deshacer_marca``), never in one
    click: GET says which mark and to which state the appointment goes back, POST does it
    (with the state shown, so a mark made meanwhile is not undone by mistake). Reception and
    administration on any appointment; a dentist on their own (another's is a 404)."""
    cita = cita_o_404(request, cita_id, relacionados=("dentista__user", "cliente"))
    datos = request.POST if request.method == "POST" else request.GET
    volver = _volver_de(request, datos, cita)
    if request.method == "POST":
        formulario = FormularioDeshacer(request.POST)
        if not formulario.is_valid():
            messages.error(request, " ".join(e for lista in formulario.errors.values() for e in lista))
            return redirect(volver)
        try:
            services.deshacer_marca(actor=request.user, cita_id=cita.pk, desde=formulario.cleaned_data["desde"])
        except ValidationError as error:
            messages.error(request, texto_error(error))
        else:
            messages.success(request, f"Se deshizo «{estados.MARCA_DE_ESTADO[formulario.cleaned_data['desde']]}».")
        return redirect(volver)
    return render(request, "gestion_clinica/agenda/deshacer.html", {
        "cita": cita, "volver": volver, "volver_a_la_cita": datos.get("volver") == "cita",
        "posible": estados.permitida("deshacer", cita, timezone.now()),
        "marca": estados.MARCA_DE_ESTADO.get(cita.estado, ""),
        "anterior": EstadoCita(cita.estado_anterior).label if cita.estado_anterior else "",
    })


@requiere_rol(*GESTION)
def asignar(request, cita_id):
    """Give a free slot to a patient from the search, or to a person without a record."""
    cita = cita_o_404(request, cita_id)
    volver = url_dia(timezone.localdate(cita.inicio))
    # Any active prestación this dentist performs (not only those offered online).
    prestaciones = Prestacion.objects.activas().filter(dentistas=cita.dentista_id).order_by("nombre", "pk")
    formulario = FormularioAsignar(request.POST if request.method == "POST" else None, prestaciones=prestaciones)
    if request.method == "POST" and formulario.is_valid():
        datos = formulario.cleaned_data
        try:
            if datos["cliente"]:
                services.asignar_cita(actor=request.user, cita_id=cita.pk, cliente_id=datos["cliente"],
                                      motivo=datos["motivo"], prestacion_id=datos["prestacion"])
            else:
                services.asignar_cita(
                    actor=request.user, cita_id=cita.pk, paciente_nombre=datos["paciente_nombre"],
                    paciente_email=datos["paciente_email"], paciente_telefono=datos["paciente_telefono"],
                    motivo=datos["motivo"], prestacion_id=datos["prestacion"],
                )
        except ValidationError as error:
            if getattr(error, "code", None) == "hora_no_disponible":
                messages.error(request, texto_error(error))
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
    """Move a booking to another free slot with the picker (``views.selector_horas``): the same
    dentist by default, one day at a time; each free time is a button that moves it in one
    service call (``reprogramar_cita``). A slot taken meanwhile: back to the picker, same day,
    with the service's message. A booking of a prestación is offered only the times where its
    duration fits, each with its end."""
    cita = cita_o_404(request, cita_id, relacionados=("dentista__user", "prestacion"))
    volver = url_dia(timezone.localdate(cita.inicio))
    formulario = FormularioReprogramar(request.POST if request.method == "POST" else None)
    datos = request.GET
    if request.method == "POST":
        datos = request.POST
        if formulario.is_valid():
            try:
                nueva = services.reprogramar_cita(actor=request.user, cita_id=cita.pk,
                                                  nueva_cita_id=formulario.cleaned_data["nueva"])
            except ValidationError as error:
                messages.error(request, texto_error(error))
                if error.code in ("hora_no_disponible",):
                    return redirect(url_del_selector(request.path, request.POST))
                return redirect(volver)
            inicio = timezone.localtime(nueva.inicio)
            messages.success(request, f"Hora cambiada al {formato_fecha(inicio, 'l j \\d\\e F')} a las "
                                      f"{inicio:%H:%M} con {nueva.dentista.nombre}; se avisó al paciente.")
            return redirect(url_dia(inicio.date()))
    return render(request, "gestion_clinica/agenda/reprogramar.html", {
        "cita": cita, "formulario": formulario, "volver": volver, "url": request.path,
        "dentista_actual": cita.dentista_id,
        # A booking of a prestación moves only where its whole duration fits.
        **selector_pedido(request, datos, dentista_preferido=cita.dentista_id, excluir_id=cita.pk,
                          duracion_minutos=cita.prestacion.duracion_minutos if cita.prestacion_id else None),
    })


urlpatterns = [
    path("agenda/buscar-pacientes/", buscar, name="agenda_buscar_pacientes"),
    path("agenda/cita/<int:cita_id>/", detalle_cita, name="agenda_cita"),
    path("agenda/reserva/<uuid:reserva_uid>/", detalle_reserva, name="agenda_reserva"),
    path("agenda/cita/<int:cita_id>/avisos/<int:notificacion_id>/reenviar/", aviso_reenviar,
         name="agenda_cita_aviso_reenviar"),
    path("agenda/cita/<int:cita_id>/asignar/", asignar, name="agenda_asignar"),
    path("agenda/cita/<int:cita_id>/reprogramar/", reprogramar, name="agenda_reprogramar"),
    path("agenda/cita/<int:cita_id>/cancelar/", cancelar, name="agenda_cancelar"),
    path("agenda/cita/<int:cita_id>/deshacer/", deshacer, name="agenda_deshacer"),
    # Last: "<slug:accion>/" would not clash with the ones above anyway (different segments).
    path("agenda/cita/<int:cita_id>/<slug:accion>/", cambiar_estado, name="agenda_accion"),
]
