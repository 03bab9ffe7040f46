"""The agenda grid (staff site): the day and a dentist's week, and the helpers the appointment
views share (``gestion_clinica.views.citas``). URLs in ``urlpatterns``, joined by
``gestion_clinica.urls``.

Administrador and recepción manage everything; a dentist sees only their own agenda and may
only mark arrival, attended and no-show on their own appointments, and undo those marks
(another dentist's appointment is a 404 to them, like a missing one).
"""

import datetime
import functools
from dataclasses import dataclass
from html import escape  # = django.utils.html.escape without its lazy-string wrapper (3x the cost per call)
from typing import NamedTuple

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from citas import estados, services
from citas.models import Cita, EstadoCita
from citas.selectors import agenda_del_dia, agenda_semanal
from gestion_clinica.forms.agenda import FormularioCrearHora, fecha_valida
from gestion_clinica.permisos import ADMINISTRADOR, DENTISTA, RECEPCION, TODOS, perfil_de, requiere_rol
from personal.models import Perfil, Rol

GESTION = (ADMINISTRADOR, RECEPCION)

ETIQUETAS = {
    "confirmar": "Confirmar",
    "marcar_llegada": "Llegó",
    "marcar_atendida": "Atendida",
    "marcar_no_asistio": "No asistió",
    "reprogramar": "Cambiar hora",
    "cancelar": "Cancelar…",
}
SERVICIOS = {
    "confirmar": (services.confirmar_cita, "Cita confirmada."),
    "marcar_llegada": (services.marcar_llegada, "Llegada registrada."),
    "marcar_atendida": (services.marcar_atendida, "Cita marcada como atendida."),
    "marcar_no_asistio": (services.marcar_no_asistio, "Cita marcada como «no asistió»."),
}
# A dentist marks their own appointments, and may undo their own wrong mark too (the same
# person, the same day: no reason to make them walk to reception for it).
DEL_DENTISTA = {"marcar_llegada", "marcar_atendida", "marcar_no_asistio", "deshacer"}


def etiqueta_deshacer(estado) -> str:
    """``Deshacer «Llegó»``: the undo of the mark that put the appointment in ``estado``."""
    return f"Deshacer «{estados.MARCA_DE_ESTADO.get(estado, estado)}»"


def texto_cancelacion(cancelacion, fecha) -> str:
    """One history line of a slot: when (the time, with the date when it was not that
    ``fecha``), who was booked, who cancelled and why. Plain text: the template (or the grid,
    ``_Celdas``) escapes it."""
    local = timezone.localtime(cancelacion.creada)
    cuando = f"{local:%H:%M}" if local.date() == fecha else f"{local:%d-%m} {local:%H:%M}"
    quien = QUIEN_CANCELO.get((cancelacion.por, cancelacion.via), cancelacion.por)
    partes = [f"Cancelada {cuando}", cancelacion.nombre or "sin nombre", quien]
    texto = " · ".join(partes)
    return f"{texto}: {cancelacion.motivo}" if cancelacion.motivo else texto


# Who cancelled, as the history says it (PorQuien, ViaCancelacion).
QUIEN_CANCELO = {
    ("paciente", "personal"): "pidió el paciente",
    ("paciente", "portal"): "el paciente, en el portal",
    ("paciente", "enlace"): "el paciente, con el enlace del recordatorio",
    ("clinica", "personal"): "canceló la clínica",
}


def texto_error(error: ValidationError) -> str:
    return " ".join(error.messages)


def url_dia(fecha: datetime.date) -> str:
    return f"{reverse('gestion:agenda')}?fecha={fecha.isoformat()}"


def dentista_propio_de(request):
    """The dentist's own Perfil when the user is a dentist, else None (manages everything)."""
    return perfil_de(request.user) if request.rol_personal == DENTISTA else None


def cita_o_404(request, cita_id, *, relacionados=("dentista__user",)):
    cita = get_object_or_404(Cita.objects.select_related(*relacionados), pk=cita_id)
    propio = dentista_propio_de(request)
    if propio is not None and cita.dentista_id != propio.pk:
        raise Http404("Cita no encontrada.")
    return cita


def volver_a(request, cita):
    """Where an action goes back to: the appointment's page when it was sent from there
    (``volver=cita``), else its day in the grid."""
    if request.POST.get("volver") == "cita":
        return reverse("gestion:agenda_cita", args=[cita.pk])
    return url_dia(timezone.localdate(cita.inicio))


def _fecha_pedida(request, parametro):
    """The date in ``?parametro=``, or today with a Spanish message when it is not a date."""
    valor = request.GET.get(parametro)
    hoy = timezone.localdate()
    if valor is None or valor == "":
        return hoy
    fecha = fecha_valida(valor)
    if fecha is None:
        messages.warning(request, "La fecha indicada no es válida (use AAAA-MM-DD). Se muestra hoy.")
        return hoy
    return fecha


class Accion(NamedTuple):
    """One button of an appointment, ready to print: a POST form when ``post``, else a link."""

    etiqueta: str
    url: str
    clase: str
    post: bool = True
    aria: str = ""


_MARCA = "987654321"  # an id for reverse(): replaced by each appointment's own


class Enlaces:
    """The per-appointment URLs of one page: one ``reverse`` per route, then a join per
    appointment (a ``{% url %}`` per cell and button was a large part of the grid's time)."""

    def __init__(self):
        self._partes = {}

    def __call__(self, ruta, cita_id, *resto):
        partes = self._partes.get((ruta, *resto))
        if partes is None:
            partes = self._partes[(ruta, *resto)] = reverse(ruta, args=[_MARCA, *resto]).split(_MARCA)
        return f"{partes[0]}{cita_id}{partes[1]}"


def acciones_de(cita, *, dentista_propio, ahora, enlaces, cita_id=None, hora=None, nombre=None) -> list[Accion]:
    """What the staff may do to ``cita`` now (``transiciones_posibles``, narrowed for a
    dentist), in display order: the service's rules decide ("Llegó" only on the appointment's
    own Santiago day). Links use ``cita_id`` (default ``cita.pk``), labels ``hora`` (default
    its local start time) and ``nombre`` (the patient's, for the cancel link's label).
    Nothing that takes the booking away or undoes a mark is a one-click POST: "Cancelar…" and
    "Deshacer «…»" open a page that says what will happen and asks to confirm."""
    cita_id = cita.pk if cita_id is None else cita_id
    acciones = []
    if dentista_propio is None and estados.permitida("asignar", cita, ahora):
        acciones.append(Accion("Asignar", enlaces("gestion:agenda_asignar", cita_id), "btn-primary", post=False))
    if dentista_propio is None and estados.permitida("bloquear", cita, ahora):
        # A link to a small page that asks the reason: the grid stays one button per action.
        acciones.append(Accion("Bloquear", enlaces("gestion:agenda_bloquear", cita_id), "btn-outline-secondary",
                               post=False))
    # A closure's slots reopen with their closure (Días cerrados), not one by one.
    if dentista_propio is None and cita.cierre_id is None and estados.permitida("desbloquear", cita, ahora):
        acciones.append(Accion("Desbloquear", enlaces("gestion:agenda_desbloquear", cita_id), "btn-outline-secondary"))
    for accion in estados.transiciones_posibles(cita, ahora=ahora):
        if dentista_propio is not None and accion not in DEL_DENTISTA:
            continue
        if accion == "reprogramar":
            acciones.append(Accion(ETIQUETAS[accion], enlaces("gestion:agenda_reprogramar", cita_id),
                                   "btn-outline-secondary", post=False))
        elif accion == "cancelar":
            hora = hora or f"{timezone.localtime(cita.inicio):%H:%M}"
            de_quien = f" de {nombre}" if nombre else ""
            acciones.append(Accion(ETIQUETAS[accion], enlaces("gestion:agenda_cancelar", cita_id),
                                   "btn-outline-danger", post=False,
                                   aria=f"Cancelar la cita de las {hora}{de_quien}"))
        elif accion == "deshacer":
            acciones.append(Accion(etiqueta_deshacer(cita.estado), enlaces("gestion:agenda_deshacer", cita_id),
                                   "btn-outline-dark", post=False))
        else:
            acciones.append(Accion(ETIQUETAS[accion], enlaces("gestion:agenda_accion", cita_id, accion),
                                   "btn-outline-primary"))
    return acciones


def texto_prestacion(cita) -> str | None:
    """"Limpieza · hasta 11:00" for a booking of a prestación (the catalogue's name, not free
    text of a patient: part of a cell's look, no placeholder), "hasta 11:00" for a longer
    block without one; None for a plain slot."""
    nombre, hasta = getattr(cita, "prestacion", "") or "", getattr(cita, "hasta_local", "")
    if not (nombre or hasta):
        return None
    return " · ".join(t for t in (nombre, f"hasta {hasta}" if hasta else "") if t)


class CitaEnCelda(NamedTuple):
    """What the ``cita`` partial of ``_cita.html`` shows of one appointment of the grid."""

    pk: str
    estado: str
    texto: str  # the state's label
    nombre: str | None  # the patient's name (a link to the appointment), None without one
    motivo: str | None  # why a blocked slot is not offered, None for any other
    url: str  # the appointment's page
    acciones: tuple[Accion, ...]
    alerta: bool = False  # the patient has allergies: "Alerta clínica", never their text here
    historial: tuple[str, ...] = ()  # the slot's cancellations that day (``texto_cancelacion``)
    prestacion: str | None = None  # "Limpieza · hasta 11:00": what for, and the end of a longer block


@functools.cache
def _hueco_historial(n, k):
    """The placeholder of the ``k``-th history line of the ``n``-th appointment of a cell."""
    return f"\x00historial{n}.{k}\x00"


@functools.cache
def _huecos(n):
    """The placeholders of the id, local time, patient's name and block reason of the ``n``-th
    appointment of a cell. NUL is in no markup and in no data (PostgreSQL text cannot hold it),
    and escaping leaves it as it is."""
    return tuple(f"\x00{campo}{n}\x00" for campo in ("pk", "hora", "nombre", "motivo"))


class _Celdas:
    """The cells of one page of the day grid: ``celdas(citas)`` is the ``celda`` partial of
    ``_cita.html`` for those appointments (``CitaEnGrilla``, one cell's).

    A grid has hundreds of appointments with up to five buttons each. Rendering the partial
    for each one (two loops, a partial, six variables and the buttons' loop, each with its
    lookup and escape) took the whole page from 7 to 14-16 ms of CPU (180 free slots) and
    from 8-9 to 22-25 ms (two thirds booked). But appointments that look alike (the same
    state and buttons, with a patient or not) differ only in their id, local time and
    patient's name: the partial is rendered once per look with placeholders for those
    (``_huecos``), and each cell is a copy with its own values put in, the id and the time as
    they are (digits and a colon), the name and the block reason escaped as the template escapes them, and last, so that no text of theirs is
    ever taken for a placeholder. Whether the patient has allergies is part of the look (the
    alert, never their text: clinical data is not shown in the grid). The slot's cancellation history
    (free text: names, reasons) works the same way: the look knows how many lines each
    appointment has, with a placeholder each (``_hueco_historial``), filled last and escaped.
    The tests compare every cell with the partial rendered straight (``render``).
    """

    def __init__(self, *, dentista_propio, ahora, csrf_token, fecha=None):
        self._plantilla = get_template("gestion_clinica/agenda/_cita.html#celda")
        self._csrf_token = csrf_token
        self._dentista_propio = dentista_propio
        # Allergies are clinical data: the grid shows only that there is an alert, to everyone
        # (their text is on the appointment's page, for the care team, each read logged).
        self._ahora = ahora
        self._fecha = fecha or timezone.localdate(ahora)
        self._enlaces = Enlaces()
        self._textos = {valor: str(texto) for valor, texto in EstadoCita.choices}
        self._por_clave = {}  # (state, start, without a patient) per appointment -> its look's HTML
        self._por_aspecto = {}  # the partial's input with placeholders -> its HTML

    def en_celda(self, cita, n=None) -> CitaEnCelda:
        """The ``cita`` partial's input for ``cita``: with its own values, or with ``n`` the
        placeholders of the ``n``-th appointment of a cell."""
        if n is None:
            pk, hora, nombre = str(cita.pk), cita.hora_local, cita.nombre_paciente
            motivo = cita.bloqueo_motivo or None
            historial = tuple([texto_cancelacion(c, self._fecha) for c in cita.cancelaciones])
        else:
            pk, hora, nombre, motivo = _huecos(n)
            nombre = nombre if cita.nombre_paciente else None
            motivo = motivo if cita.bloqueo_motivo else None
            historial = tuple([_hueco_historial(n, k) for k in range(len(cita.cancelaciones))])
        acciones = acciones_de(cita, dentista_propio=self._dentista_propio, ahora=self._ahora, enlaces=self._enlaces,
                             cita_id=pk, hora=hora, nombre=nombre)
        return CitaEnCelda(pk=pk, estado=cita.estado, texto=self._textos.get(cita.estado, cita.estado),
                           nombre=nombre, motivo=motivo, url=self._enlaces("gestion:agenda_cita", pk),
                           acciones=tuple(acciones), alerta=bool(cita.alergias), historial=historial,
                           prestacion=texto_prestacion(cita))

    def render(self, en_celda):
        """The ``celda`` partial for these ``CitaEnCelda``, straight from the template."""
        return self._plantilla.render({"citas": en_celda, "csrf_token": self._csrf_token})

    def __call__(self, citas) -> str:
        clave = tuple([(c.estado, c.inicio, not c.nombre_paciente, not c.alergias, not c.estado_anterior,
                        len(c.cancelaciones), not c.bloqueo_motivo, c.cierre_id is None,
                        getattr(c, "prestacion", ""), getattr(c, "hasta_local", "")) for c in citas])
        html = self._por_clave.get(clave)
        if html is None:
            aspecto = tuple([self.en_celda(cita, n) for n, cita in enumerate(citas)])
            html = self._por_aspecto.get(aspecto)
            if html is None:
                html = self._por_aspecto[aspecto] = self.render(aspecto)
            self._por_clave[clave] = html
        for n, cita in enumerate(citas):
            pk, hora = _huecos(n)[:2]
            html = html.replace(pk, str(cita.pk)).replace(hora, cita.hora_local)
        for n, cita in enumerate(citas):
            if cita.nombre_paciente:
                html = html.replace(_huecos(n)[2], escape(cita.nombre_paciente))
            if cita.bloqueo_motivo:
                html = html.replace(_huecos(n)[3], escape(cita.bloqueo_motivo))
            for k, cancelacion in enumerate(cita.cancelaciones):
                html = html.replace(_hueco_historial(n, k), escape(texto_cancelacion(cancelacion, self._fecha)))
        return html


def _filas(agenda, celdas):
    """``(hora, the row's cells' HTML)`` per row of the grid."""
    return [(fila.hora, mark_safe("".join(map(celdas, fila.celdas)))) for fila in agenda.filas]  # noqa: S308 (partials)


@dataclass(frozen=True, slots=True)
class Columna:
    """One dentist's column header: name and ready-made links (``horario`` empty for a dentist)."""

    nombre: str
    semana: str
    horario: str
    activo: bool
    ausencia: str = ""  # "Vacaciones: congreso" when the dentist does not attend that day


def _columnas(dentistas, fecha, *, gestiona):
    enlaces = Enlaces()
    return [
        Columna(nombre=d.nombre, semana=f"{enlaces('gestion:agenda_semana', d.pk)}?semana={fecha.isoformat()}",
                horario=enlaces("gestion:agenda_horario", d.pk) if gestiona else "", activo=d.activo,
                ausencia=d.ausencia)
        for d in dentistas
    ]


@functools.lru_cache(maxsize=64)
def _campos_crear_hora(dentistas: tuple, fecha: datetime.date, idioma: str) -> tuple:
    """The unbound "crear una hora" form's fields as ``(id, label, HTML)``: the same for every
    view of a day with the same dentists, and Django's widget templates (a select of ~20
    dentists) cost about as much as the whole grid. The key is everything they show
    (``idioma``: the active language, which the date's format follows)."""
    formulario = FormularioCrearHora(dentistas=dentistas, initial={"fecha": fecha})
    return tuple((campo.id_for_label, campo.label, str(campo)) for campo in formulario)


@requiere_rol(*TODOS)
def dia(request):
    """The day grid: dentists as columns, times as rows; a dentist sees only their column."""
    fecha = _fecha_pedida(request, "fecha")
    propio = dentista_propio_de(request)
    agenda = agenda_del_dia(fecha=fecha, dentista_id=propio.pk if propio else None)
    un_dia = datetime.timedelta(days=1)
    return render(request, "gestion_clinica/agenda/dia.html", {
        "agenda": agenda,
        "columnas": _columnas(agenda.dentistas, fecha, gestiona=propio is None),
        "filas": _filas(agenda, _Celdas(dentista_propio=propio, ahora=timezone.now(), csrf_token=get_token(request),
                                        fecha=fecha)),
        "anterior": fecha - un_dia,
        "siguiente": fecha + un_dia,
        "hoy": timezone.localdate(),
        "gestiona": propio is None,
        "crear": _campos_crear_hora(tuple(agenda.dentistas), fecha, get_language()) if propio is None else None,
    })


@require_POST
@requiere_rol(*GESTION)
def crear_hora(request):
    """One free slot outside the generated ones; back to its day."""
    formulario = FormularioCrearHora(request.POST, dentistas=dentistas_activos())
    if not formulario.is_valid():
        errores = [e for lista in formulario.errors.values() for e in lista]
        messages.error(request, "No se creó la hora: " + " ".join(errores))
        fecha = fecha_valida(request.POST.get("fecha")) or timezone.localdate()
        return redirect(url_dia(fecha))
    datos = formulario.cleaned_data
    try:
        services.crear_cita_disponible(actor=request.user, dentista_id=datos["dentista"], inicio=datos["inicio"],
                                       duracion_minutos=datos["duracion_minutos"])
    except ValidationError as error:
        messages.error(request, "No se creó la hora: " + texto_error(error))
    else:
        messages.success(request, f"Hora libre creada: {datos['fecha']:%d-%m-%Y} {datos['hora']:%H:%M}.")
    return redirect(url_dia(datos["fecha"]))


@requiere_rol(*TODOS)
def semana(request, dentista_id):
    """One dentist's week, Monday to Sunday; a dentist may only open their own."""
    dentista = get_object_or_404(Perfil.objects.select_related("user"), pk=dentista_id, rol=Rol.DENTISTA)
    propio = dentista_propio_de(request)
    if propio is not None and propio.pk != dentista.pk:
        raise Http404("Dentista no encontrado.")
    fecha = _fecha_pedida(request, "semana")
    lunes = fecha - datetime.timedelta(days=fecha.weekday())
    agenda = agenda_semanal(dentista=dentista, lunes=lunes)
    siete = datetime.timedelta(days=7)
    return render(request, "gestion_clinica/agenda/semana.html", {
        "agenda": agenda, "anterior": lunes - siete, "siguiente": lunes + siete, "hoy": timezone.localdate(),
        "dias_con_cierre": list(zip(agenda.dias, agenda.cierres, strict=True)),
    })


def dentistas_activos():
    """The dentists who can be given slots (``Perfil.objects.reservables``), by name."""
    return Perfil.objects.reservables().select_related("user").order_by("user__first_name", "user__last_name", "pk")


urlpatterns = [
    path("agenda/", dia, name="agenda"),
    path("agenda/dentista/<int:dentista_id>/", semana, name="agenda_semana"),
    path("agenda/crear-hora/", crear_hora, name="agenda_crear_hora"),
]
