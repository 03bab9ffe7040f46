"""The shape of the agenda (staff site): dentists' weekly hours, generating slots from them,
and the clinic's closed days. URLs in ``urlpatterns``, joined by ``gestion_clinica.urls``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from citas import horarios
from citas.selectors import dias_cerrados_desde, horario_de
from gestion_clinica.forms.agenda import (
    FormularioDiaCerrado, FormularioHorario, FormularioRango, FormularioSemanaTipo, fecha_valida,
)
from gestion_clinica.permisos import requiere_rol
from nucleo.formato import numero
from gestion_clinica.views.agenda import GESTION, _dentistas_activos, _texto_error
from personal.models import Perfil, Rol


def _filas_iniciales(bloques):
    return [{"dia_semana": b.dia_semana, "hora_inicio": b.hora_inicio, "hora_fin": b.hora_fin,
             "duracion_minutos": b.duracion_minutos} for b in bloques]


def _guardar_horario(request, dentista, bloques):
    """``definir_horario`` (the only writer); True when saved, else its message is shown."""
    try:
        horarios.definir_horario(actor=request.user, dentista_id=dentista.pk, bloques=bloques)
    except ValidationError as error:
        messages.error(request, _texto_error(error))
        return False
    messages.success(request, f"Horario de {dentista.nombre} guardado ({len(bloques)} bloques).")
    return True


@requiere_rol(*GESTION)
def horario(request, dentista_id):
    """A dentist's weekly hours: rows of weekday, start, end, slot length (a break = two rows),
    and the usual week in one step (``FormularioSemanaTipo``: the chosen days' rows are replaced
    by a morning and an optional afternoon; the other days keep theirs)."""
    dentista = get_object_or_404(Perfil.objects.select_related("user"), pk=dentista_id, rol=Rol.DENTISTA)
    actuales = [
        horarios.Bloque(dia_semana=h.dia_semana, hora_inicio=h.hora_inicio, hora_fin=h.hora_fin,
                        duracion_minutos=h.duracion_minutos)
        for h in horario_de(dentista_id=dentista.pk)
    ]
    semana = FormularioSemanaTipo()
    formset = None
    if request.method == "POST" and request.POST.get("accion") == "semana":
        semana = FormularioSemanaTipo(request.POST)
        if semana.is_valid():
            dias = set(semana.cleaned_data["dias"])
            bloques = [b for b in actuales if b.dia_semana not in dias] + semana.bloques()
            bloques.sort(key=lambda b: (b.dia_semana, b.hora_inicio))
            if _guardar_horario(request, dentista, bloques):
                return redirect("gestion:agenda_horario", dentista_id=dentista.pk)
        else:
            messages.error(request, "Revise la semana tipo: no se guardó nada.")
    elif request.method == "POST":
        formset = FormularioHorario(request.POST)
        if formset.is_valid():
            bloques = [
                horarios.Bloque(dia_semana=f.cleaned_data["dia_semana"], hora_inicio=f.cleaned_data["hora_inicio"],
                                hora_fin=f.cleaned_data["hora_fin"],
                                duracion_minutos=f.cleaned_data.get("duracion_minutos") or 30)
                for f in formset.forms if f.cleaned_data and not f.vacia
            ]
            if _guardar_horario(request, dentista, bloques):
                return redirect("gestion:agenda_horario", dentista_id=dentista.pk)
        else:
            messages.error(request, "Revise las filas marcadas.")
    if formset is None:
        formset = FormularioHorario(initial=_filas_iniciales(actuales))
    return render(request, "gestion_clinica/agenda/horario.html", {
        "dentista": dentista, "formset": formset, "semana": semana,
    })


@requiere_rol(*GESTION)
def generar(request):
    """Generate free slots for a date range from the weekly hours; shows what it did."""
    dentistas = list(_dentistas_activos())
    formulario = FormularioRango(request.POST if request.method == "POST" else None, dentistas=dentistas)
    resumen = None
    if request.method == "POST" and formulario.is_valid():
        datos = formulario.cleaned_data
        try:
            resumen = horarios.generar_horas(actor=request.user, desde=datos["desde"], hasta=datos["hasta"],
                                             dentista_id=datos["dentista"])
        except ValidationError as error:
            formulario.add_error(None, _texto_error(error))
        else:
            messages.success(request, f"Horas creadas: {numero(resumen.creadas)}. Ya existían: {numero(resumen.existentes)}.")
    return render(request, "gestion_clinica/agenda/generar.html", {
        "formulario": formulario, "resumen": resumen, "dentistas": dentistas,
    })


@requiere_rol(*GESTION)
def dias_cerrados(request):
    """The clinic's closed days from today on, and a form to close one more."""
    formulario = FormularioDiaCerrado(request.POST if request.method == "POST" else None)
    if request.method == "POST" and formulario.is_valid():
        try:
            dia_cerrado = horarios.cerrar_dia(actor=request.user, fecha=formulario.cleaned_data["fecha"],
                                              motivo=formulario.cleaned_data["motivo"])
        except ValidationError as error:
            formulario.add_error(None, _texto_error(error))
        else:
            messages.success(request, f"Día {dia_cerrado.fecha:%d-%m-%Y} cerrado: no se generarán horas.")
            return redirect("gestion:agenda_dias_cerrados")
    return render(request, "gestion_clinica/agenda/dias_cerrados.html", {
        "formulario": formulario, "dias": dias_cerrados_desde(fecha=timezone.localdate()),
    })


@require_POST
@requiere_rol(*GESTION)
def reabrir(request, fecha):
    dia_valido = fecha_valida(fecha)
    if dia_valido is None:
        raise Http404("Fecha no válida.")
    horarios.reabrir_dia(actor=request.user, fecha=dia_valido)
    messages.success(request, f"Día {dia_valido:%d-%m-%Y} reabierto.")
    return redirect("gestion:agenda_dias_cerrados")


urlpatterns = [
    path("agenda/dentista/<int:dentista_id>/horario/", horario, name="agenda_horario"),
    path("agenda/generar/", generar, name="agenda_generar"),
    path("agenda/dias-cerrados/", dias_cerrados, name="agenda_dias_cerrados"),
    path("agenda/dias-cerrados/<str:fecha>/reabrir/", reabrir, name="agenda_reabrir"),
]
