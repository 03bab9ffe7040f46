"""The shape of the agenda (staff site): dentists' weekly hours, generating slots from them,
closures of the clinic and absences of dentists (``citas.cierres``), and blocking a single
slot. URLs in ``urlpatterns``, joined by ``gestion_clinica.urls``."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from citas import cierres, horarios
from citas.models import Cierre, Cita
from citas.selectors import horario_de
from gestion_clinica.forms.agenda import (
    FormularioBloquear, FormularioCierre, FormularioHorario, FormularioRango, FormularioSemanaTipo, fecha_valida,
)
from gestion_clinica.permisos import requiere_rol
from gestion_clinica.views.agenda import GESTION, dentistas_activos, texto_error, url_dia
from nucleo.formato import numero
from personal.models import Perfil, Rol


def _filas_iniciales(bloques):
    return [{"dia_semana": b.dia_semana, "hora_inicio": b.hora_inicio, "hora_fin": b.hora_fin,
             "duracion_minutos": b.duracion_minutos} for b in bloques]


def _guardar_horario(request, dentista, bloques):
    """``definir_horario`` (the only writer); True when saved, else its message is shown."""
    try:
        horarios.definir_horario(actor=request.user, dentista_id=dentista.pk, bloques=bloques)
    except ValidationError as error:
        messages.error(request, texto_error(error))
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
    dentistas = list(dentistas_activos())
    # GET ?desde=&hasta= (the link after reopening a closure) fills the form in.
    inicial = {k: fecha_valida(request.GET.get(k)) for k in ("desde", "hasta") if fecha_valida(request.GET.get(k))}
    formulario = FormularioRango(request.POST if request.method == "POST" else None, dentistas=dentistas,
                                 initial=inicial)
    resumen = None
    if request.method == "POST" and formulario.is_valid():
        datos = formulario.cleaned_data
        try:
            resumen = horarios.generar_horas(actor=request.user, desde=datos["desde"], hasta=datos["hasta"],
                                             dentista_id=datos["dentista"])
        except ValidationError as error:
            formulario.add_error(None, texto_error(error))
        else:
            messages.success(request, f"Horas creadas: {numero(resumen.creadas)}. Ya existían: {numero(resumen.existentes)}.")
    return render(request, "gestion_clinica/agenda/generar.html", {
        "formulario": formulario, "resumen": resumen, "dentistas": dentistas,
    })


def _dentistas_de_la_clinica():
    """Every dentist, active first, by name: a closure may cover an inactive one too."""
    return Perfil.objects.filter(rol=Rol.DENTISTA).select_related("user").order_by(
        "-activo", "user__first_name", "user__last_name", "pk")


@requiere_rol(*GESTION)
def dias_cerrados(request):
    """Closures of the clinic and absences of dentists from today on, each with how many
    bookings it left to resolve, and the form to add one. When the new one affects bookings,
    the form asks once more, saying how many."""
    dentistas = list(_dentistas_de_la_clinica())
    formulario = FormularioCierre(request.POST if request.method == "POST" else None, dentistas=dentistas)
    por_confirmar = None
    if request.method == "POST" and formulario.is_valid():
        datos = formulario.cleaned_data
        argumentos = {"desde": datos["desde"], "hasta": datos["hasta"], "dentista_id": datos["dentista"],
                      "tipo": datos["tipo"], "motivo": datos["motivo"]}
        try:
            if not datos["confirmado"]:  # first ask, when bookings are affected
                cierres.validar_cierre(**argumentos)
                por_confirmar = cierres.contar_afectadas(desde=datos["desde"], hasta=datos["hasta"],
                                                         dentista_id=datos["dentista"]) or None
            if por_confirmar is None:
                resultado = cierres.cerrar_rango(actor=request.user, **argumentos)  # validates again, locked
        except ValidationError as error:
            formulario.agregar_errores_del_servicio(error)
        else:
            if por_confirmar is None:
                cierre = resultado.cierre
                quien = cierre.dentista.nombre if cierre.dentista else "Toda la clínica"
                messages.success(request, f"Cerrado ({quien}, {cierre.get_tipo_display().lower()}, "
                                          f"{cierre.desde:%d-%m-%Y} al {cierre.hasta:%d-%m-%Y}). Horas libres bloqueadas: "
                                          f"{resultado.bloqueadas}. Citas por resolver: {resultado.afectadas}.")
                return redirect("gestion:agenda_cierre", cierre_id=resultado.cierre.pk)
    return render(request, "gestion_clinica/agenda/dias_cerrados.html", {
        "formulario": formulario, "por_confirmar": por_confirmar,
        "cierres": cierres.proximos_cierres(desde=timezone.localdate()),
    })


@requiere_rol(*GESTION)
def cierre(request, cierre_id):
    """One closure: what it covers, and the bookings in it still to resolve, each with
    "Cambiar hora" and "Cancelar por la clínica" (with the closure's reason)."""
    cierre = get_object_or_404(Cierre.objects.select_related("dentista__user", "creado_por"), pk=cierre_id)
    motivo = urlencode({"por_clinica": "1", "motivo": cierre.motivo})
    afectadas = cierres.citas_afectadas(cierre)
    for cita in afectadas:
        cita.url_reprogramar = reverse("gestion:agenda_reprogramar", args=[cita.pk])
        cita.url_cancelar = f"{reverse('gestion:agenda_cancelar', args=[cita.pk])}?{motivo}"
    return render(request, "gestion_clinica/agenda/cierre.html", {"cierre": cierre, "afectadas": afectadas})


@require_POST
@requiere_rol(*GESTION)
def reabrir(request, cierre_id):
    """Undo a closure: its slots free again; days without slots get a link to generate them."""
    try:
        resultado = cierres.reabrir_cierre(actor=request.user, cierre_id=cierre_id)
    except ValidationError as error:
        messages.error(request, texto_error(error))
        return redirect("gestion:agenda_dias_cerrados")
    messages.success(request, f"Cierre reabierto: {resultado.liberadas} horas vuelven a estar libres.")
    dias = resultado.dias_sin_horas
    if dias:
        enlace = f"{reverse('gestion:agenda_generar')}?{urlencode({'desde': dias[0].isoformat(), 'hasta': dias[-1].isoformat()})}"
        lista = ", ".join(f"{d:%d-%m}" for d in dias[:10]) + (" …" if len(dias) > 10 else "")
        messages.info(request, format_html(
            'Días sin horas (no se generaron por el cierre): {}. <a href="{}">Genere horas para esos días</a>.',
            lista, enlace))
    return redirect("gestion:agenda_dias_cerrados")


@requiere_rol(*GESTION)
def bloquear(request, cita_id):
    """Take one free slot out of the offer, with a reason (GET: a small confirm form)."""
    cita = get_object_or_404(Cita.objects.select_related("dentista__user"), pk=cita_id)
    volver = url_dia(timezone.localdate(cita.inicio))
    formulario = FormularioBloquear(request.POST if request.method == "POST" else None)
    if request.method == "POST" and formulario.is_valid():
        try:
            cierres.bloquear_hora(actor=request.user, cita_id=cita.pk, motivo=formulario.cleaned_data["motivo"])
        except ValidationError as error:
            formulario.agregar_errores_del_servicio(error)
        else:
            messages.success(request, f"Hora {timezone.localtime(cita.inicio):%d-%m-%Y %H:%M} bloqueada.")
            return redirect(volver)
    return render(request, "gestion_clinica/agenda/bloquear.html",
                  {"cita": cita, "formulario": formulario, "volver": volver})


@require_POST
@requiere_rol(*GESTION)
def desbloquear(request, cita_id):
    cita = get_object_or_404(Cita, pk=cita_id)
    try:
        cierres.desbloquear_hora(actor=request.user, cita_id=cita.pk)
    except ValidationError as error:
        messages.error(request, texto_error(error))
    else:
        messages.success(request, f"Hora {timezone.localtime(cita.inicio):%d-%m-%Y %H:%M} libre otra vez.")
    if request.POST.get("volver") == "cita":
        return redirect("gestion:agenda_cita", cita_id=cita.pk)
    return redirect(url_dia(timezone.localdate(cita.inicio)))


urlpatterns = [
    path("agenda/dentista/<int:dentista_id>/horario/", horario, name="agenda_horario"),
    path("agenda/generar/", generar, name="agenda_generar"),
    path("agenda/dias-cerrados/", dias_cerrados, name="agenda_dias_cerrados"),
    path("agenda/dias-cerrados/<int:cierre_id>/", cierre, name="agenda_cierre"),
    path("agenda/dias-cerrados/<int:cierre_id>/reabrir/", reabrir, name="agenda_reabrir"),
    path("agenda/cita/<int:cita_id>/bloquear/", bloquear, name="agenda_bloquear"),
    path("agenda/cita/<int:cita_id>/desbloquear/", desbloquear, name="agenda_desbloquear"),
]
