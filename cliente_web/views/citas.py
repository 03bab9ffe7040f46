"""Portal area: "Mis citas". Upcoming and past appointments; confirm, cancel or reschedule
within the clinic's policy (shown before acting); add to calendar (.ics).

Every appointment is read through ``cita_del_paciente(cliente_id=request.paciente.pk, ...)``:
another patient's id, a free slot or a junk id all answer 404 alike.

A booking keeps its identity when it moves to another slot (``Cita.reserva_uid``). Links sent
from now on name it (``citas/<uuid>/``): it leads to the slot the booking is in now, or to a
"this appointment was cancelled" page. The slot's own address (``citas/<id>/``, kept for the
pages and old links) resolves an old link through the slot's history the same way.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citas import calendario
from citas.cadenas import cadena_de
from citas.selectors import (
    OpcionPrestacion,
    cita_del_paciente,
    citas_del_paciente,
    hora_para_reservar,
    horas_cercanas,
    politica_del_portal,
    Reserva,
    reserva,
    reserva_que_estuvo_en,
)
from citas.services import cancelar_cita, confirmar_cita, reprogramar_cita
from cliente_web.forms.reservas import FormularioReprogramar
from cliente_web.limites import limitar
from cliente_web.permisos import requiere_paciente
from cliente_web.views.reservas import contexto_de_horas, cuando


def _cita_o_404(request, pk):
    cita = cita_del_paciente(cliente_id=request.paciente.pk, cita_id=pk)
    if cita is None:
        raise Http404("Cita no encontrada.")
    return cita


def _primer_mensaje(error: ValidationError) -> str:
    return error.messages[0] if error.messages else "No se pudo completar. Intente de nuevo."


@require_GET
@requiere_paciente
def mis_citas(request):
    return render(request, "cliente_web/citas/mis_citas.html", {
        "citas": citas_del_paciente(cliente_id=request.paciente.pk), "politica": politica_del_portal(),
    })


def _reserva_o_404(request, reserva_uid):
    encontrada = reserva(reserva_uid=reserva_uid, cliente_id=request.paciente.pk) if reserva_uid else None
    if encontrada is None:
        raise Http404("Cita no encontrada.")
    return encontrada


def _cancelada(request, encontrada):
    """The page of a cancelled booking (its link still works for its patient)."""
    return render(request, "cliente_web/citas/cancelada.html", {
        "cita": encontrada.cita, "cancelacion": encontrada.cancelacion,
    })


def _seguir_reserva(request, pk, destino):
    """An old link to slot ``pk`` that no longer holds this patient's booking: to where that
    booking is now (``destino``: "cita" or "cita_calendario"), or its cancelled page; 404 when
    the slot never held one of theirs."""
    reserva_uid = reserva_que_estuvo_en(cita_id=pk, cliente_id=request.paciente.pk)
    encontrada = _reserva_o_404(request, reserva_uid)
    if encontrada.cita is not None:
        if encontrada.cita.pk == pk:  # e.g. still there, but no longer the patient's: not theirs
            raise Http404("Cita no encontrada.")
        return redirect(f"portal:{destino}", pk=encontrada.cita.pk)
    if destino == "cita_calendario":
        return _ics_de_reserva(encontrada)
    return _cancelada(request, encontrada)


@require_GET
@requiere_paciente
def cita(request, pk):
    encontrada = cita_del_paciente(cliente_id=request.paciente.pk, cita_id=pk)
    if encontrada is None:
        return _seguir_reserva(request, pk, "cita")
    return render(request, "cliente_web/citas/detalle.html", {
        "cita": encontrada, "politica": politica_del_portal(),
    })


@require_GET
@requiere_paciente
def cita_reserva(request, reserva_uid):
    """A booking by its identity (the links of notices): to its current slot, or "cancelled"."""
    encontrada = _reserva_o_404(request, reserva_uid)
    if encontrada.cita is not None:
        return redirect("portal:cita", pk=encontrada.cita.pk)
    return _cancelada(request, encontrada)


@require_POST
@requiere_paciente
def cita_confirmar(request, pk):
    cita = _cita_o_404(request, pk)
    try:
        confirmar_cita(actor=request.user, cita_id=cita.pk)
    except ValidationError as error:
        messages.error(request, _primer_mensaje(error))
    else:
        messages.success(request, f"Gracias: confirmó su hora del {cuando(cita)}.")
    return redirect("portal:cita", pk=cita.pk)


@require_http_methods(["GET", "POST"])
@requiere_paciente
@limitar("portal.citas", cuenta="CLINICA_LIMITE_CITAS_CUENTA", ip="CLINICA_LIMITE_CITAS_IP")
def cita_cancelar(request, pk):
    """GET: what cancelling means (the slot is freed) and the policy; POST: cancel."""
    cita = _cita_o_404(request, pk)
    if request.method == "POST":
        try:
            cancelar_cita(actor=request.user, cita_id=cita.pk)
        except ValidationError as error:
            messages.error(request, _primer_mensaje(error))
            return redirect("portal:cita", pk=cita.pk)
        messages.success(request, f"Canceló su hora del {cuando(cita)}. Puede reservar otra cuando quiera.")
        return redirect("portal:mis_citas")
    return render(request, "cliente_web/citas/cancelar.html", {"cita": cita, "politica": politica_del_portal()})


@require_http_methods(["GET", "POST"])
@requiere_paciente
@limitar("portal.citas", cuenta="CLINICA_LIMITE_CITAS_CUENTA", ip="CLINICA_LIMITE_CITAS_IP")
def cita_reprogramar(request, pk):
    """GET: free slots like the booking page (without the current one); ``?nueva=<id>`` shows
    the chosen one to confirm. POST ``nueva_cita_id``: move the booking."""
    cita = _cita_o_404(request, pk)
    formulario = FormularioReprogramar(request.POST if request.method == "POST" else None)
    if request.method == "POST" and formulario.is_valid():
        try:
            nueva = reprogramar_cita(actor=request.user, cita_id=cita.pk,
                                     nueva_cita_id=formulario.cleaned_data["nueva_cita_id"])
        except ValidationError as error:
            if getattr(error, "code", None) != "hora_no_disponible":
                messages.error(request, _primer_mensaje(error))
                return redirect("portal:cita", pk=cita.pk)
            return render(request, "cliente_web/citas/reprogramar.html", {
                "cita": cita, "no_disponible": True, "politica": politica_del_portal(),
                "cercanas": horas_cercanas(cita_id=formulario.cleaned_data["nueva_cita_id"], excluir_id=cita.pk),
            }, status=409)
        messages.success(request, f"Listo: su hora quedó para el {cuando(nueva)}. Le enviamos el aviso.")
        return redirect("portal:cita", pk=nueva.pk)
    contexto = {"cita": cita, "formulario": formulario}
    if cita.acciones.reprogramar:
        # A booking with a prestación moves only to a time where its whole duration fits.
        prestacion = None
        if cita.prestacion is not None:
            p = cita.prestacion
            prestacion = OpcionPrestacion(p.pk, p.nombre, p.duracion_minutos, p.precio, p.especialidad)
        contexto.update(contexto_de_horas(request, excluir_id=cita.pk, prestacion=prestacion))
        elegida = request.GET.get("nueva", "")
        if elegida:
            valida = elegida.isascii() and elegida.isdecimal()
            nueva = hora_para_reservar(cita_id=int(elegida)) if valida else None
            if nueva is not None and prestacion is not None:
                cadena = cadena_de(cita_id=nueva.pk, duracion=datetime.timedelta(minutes=prestacion.duracion_minutos))
                nueva.fin = cadena[-1][2] if cadena else None
                nueva = nueva if cadena else None
            if nueva is None or nueva.pk == cita.pk:
                contexto["elegida_no_disponible"] = True
            else:
                contexto["elegida"] = nueva
    else:
        contexto["politica"] = politica_del_portal()
    return render(request, "cliente_web/citas/reprogramar.html", contexto)


def _ics_de_reserva(encontrada):
    """The booking as an iCalendar file to download (``citas.calendario``): PUBLISH while it
    lives, CANCEL once cancelled; the same UID across its reschedules."""
    if encontrada.cita is not None:
        cita = encontrada.cita
        texto = calendario.ics_de_cita(cita, dentista=cita.dentista.nombre, metodo=calendario.PUBLICACION)
    else:
        cancelacion = encontrada.cancelacion
        texto = calendario.ics_de_cancelacion(cancelacion, fin=cancelacion.cita.fin,
                                              dentista=cancelacion.dentista.nombre)
    respuesta = HttpResponse(texto, content_type="text/calendar; charset=utf-8")
    respuesta["Content-Disposition"] = 'attachment; filename="cita.ics"'
    return respuesta


@require_GET
@requiere_paciente
def cita_calendario(request, pk):
    """The appointment as an iCalendar file: neutral summary (no reason, no treatment), the
    clinic's name and address as location, the dentist, a reminder alarm, times in UTC, and the
    booking's UID with its version as SEQUENCE (re-importing after a move updates the event)."""
    cita = cita_del_paciente(cliente_id=request.paciente.pk, cita_id=pk)
    if cita is None:
        return _seguir_reserva(request, pk, "cita_calendario")
    return _ics_de_reserva(Reserva(cita=cita))


@require_GET
@requiere_paciente
def cita_calendario_reserva(request, reserva_uid):
    return _ics_de_reserva(_reserva_o_404(request, reserva_uid))


urlpatterns = [
    path("citas/", mis_citas, name="mis_citas"),
    path("citas/<int:pk>/", cita, name="cita"),
    path("citas/<int:pk>/confirmar/", cita_confirmar, name="cita_confirmar"),
    path("citas/<int:pk>/cancelar/", cita_cancelar, name="cita_cancelar"),
    path("citas/<int:pk>/reprogramar/", cita_reprogramar, name="cita_reprogramar"),
    path("citas/<int:pk>/calendario.ics", cita_calendario, name="cita_calendario"),
    path("citas/<uuid:reserva_uid>/", cita_reserva, name="cita_reserva"),
    path("citas/<uuid:reserva_uid>/calendario.ics", cita_calendario_reserva, name="cita_calendario_reserva"),
]
