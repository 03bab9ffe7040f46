"""Portal area: book a slot. Say what the visit is for (when the clinic offers prestaciones
online: ``?prestacion=<id>``), choose a dentist who does it (or any), pick a start time where
its whole duration fits, grouped by day, then confirm on one screen. A slot taken meanwhile (or too soon, or gone) gets a friendly page with
the nearest free ones, never an error page."""

import datetime
import hashlib
import pickle
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods

from citas.cadenas import cadena_de
from citas.selectors import (
    OpcionDentista,
    OpcionPrestacion,
    agrupar_por_dia,
    es_reserva_propia,
    filas_de_horas_libres,
    hora_para_reservar,
    horas_cercanas,
    horas_de_filas,
    opciones_de_dentista,
    opciones_de_reserva,
    politica_del_portal,
    prestaciones_en_linea,
    semana_de_reserva,
)
from citas.services import reservar_cita
from cliente_web.forms.reservas import FormularioElegirDentista, FormularioReserva
from cliente_web.limites import limitar
from cliente_web.permisos import requiere_paciente
from prestaciones.models import PrestacionDentista


def cuando(cita):
    """"lunes 30 de noviembre a las 10:00", in Santiago's time (for messages)."""
    local = timezone.localtime(cita.inicio)
    return f"{dateformat.format(local, r'l j \d\e F')} a las {local:%H:%M}"


def _semana(valor, politica):
    """The week asked for (0 = from today), clamped to the booking window; junk → 0."""
    try:
        semana = int(valor or 0)
    except (TypeError, ValueError):
        return 0
    return min(max(semana, 0), max(politica.semanas_reserva - 1, 0))


_MARCA = 987654321


def _enlazar(horas, ruta, *args, sufijo="", consulta=""):
    """``h.enlace`` of each slot: one ``reverse`` for the page, not one per button."""
    plantilla = reverse(ruta, args=[*args, _MARCA] if not sufijo else list(args)) + sufijo + consulta
    for hora in horas:
        hora.enlace = plantilla.replace(str(_MARCA), str(hora.pk))


# The booking pages' rendered parts, in the ``paginas`` cache (settings.CACHES): many patients
# look at the same dentist-week, and rendering its ~100 buttons costs more than the rest of the
# page. Each part is keyed by a digest of everything it shows, so it is never stale and needs no
# invalidation. A part bigger than this is rendered every time (an "any dentist" week can reach
# 0.5 MB): with the cache's MAX_ENTRIES it bounds each worker's memory.
_CACHE = "paginas"
MAX_CARACTERES_EN_CACHE = 512 * 1024


def _llave(*clave):
    """The cache key of a part: a digest of ``clave``, plain values (numbers, strings, dates,
    tuples of them, frozen dataclasses) that hold everything the part shows. Pickled, not
    ``repr``-ed: three times faster for a week's rows."""
    return hashlib.blake2b(pickle.dumps(clave, protocol=5), digest_size=20).hexdigest()


def _en_cache(llave, dibujar):
    """The value kept under ``llave``, else ``dibujar()`` (text, or a tuple of byte strings),
    kept when not too big."""
    cache = caches[_CACHE]
    valor = cache.get(llave)
    if valor is None:
        valor = dibujar()
        tamano = sum(map(len, valor)) if isinstance(valor, tuple) else len(valor)
        if tamano <= MAX_CARACTERES_EN_CACHE:
            cache.set(llave, valor)
    return valor


class _Parte:
    """A rendered part for a template (``{{ horas_html }}``): its key, and its HTML taken from
    the cache (or drawn) only when printed, so a page kept whole never fetches its parts."""

    def __init__(self, llave, dibujar):
        self.llave = llave
        self._dibujar = dibujar
        self._html = None

    def __html__(self):
        if self._html is None:
            self._html = _en_cache(self.llave, self._dibujar)
        return self._html

    __str__ = __html__


def _claves_de(dentistas):
    """What the parts show of each dentist, as plain tuples: pickling the dataclasses themselves
    cost ~45 µs per key (two keys per request)."""
    return tuple((d.pk, d.nombre, d.especialidad) for d in dentistas)


def _html_elegir_dentista(request, formulario, dentistas, prestacion=None):
    """The dentist choice (``_elegir_dentista_form.html``): a function of the choices, the
    value typed, the prestación and the path alone (its error follows from those)."""
    llave = _llave(
        "dentista", get_language(), request.path, _claves_de(dentistas), formulario.is_bound,
        formulario.data.get("dentista") if formulario.is_bound else None, prestacion,
    )
    return _Parte(llave, lambda: render_to_string(
        "cliente_web/reservas/_elegir_dentista_form.html",
        {"formulario_dentista": formulario, "request": request, "prestacion": prestacion},
    ))


# "Any dentist": this many times per dentist and day, then "Más horas" opens that dentist's day
# (a phone showed 4,700 px of buttons with every time of every dentist).
HORAS_POR_DENTISTA = 4


@dataclass(frozen=True)
class _HorasDeUnDentista:
    dentista: OpcionDentista
    horas: list  # the first HORAS_POR_DENTISTA
    mas: int  # how many more that day


@dataclass(frozen=True)
class _DiaPorDentista:
    fecha: datetime.date
    dentistas: list  # _HorasDeUnDentista, in the choice list's order


def por_dentista(dias, dentistas, *, maximo=HORAS_POR_DENTISTA) -> list[_DiaPorDentista]:
    """Each day's slots (``agrupar_por_dia``) split by dentist, in ``dentistas``' order, the
    first ``maximo`` of each and how many more."""
    resultado = []
    for dia in dias:
        grupos = {}
        for hora in dia.horas:
            grupos.setdefault(hora.dentista_id, []).append(hora)
        resultado.append(_DiaPorDentista(dia.fecha, [
            _HorasDeUnDentista(d, grupos[d.pk][:maximo], max(len(grupos[d.pk]) - maximo, 0))
            for d in dentistas if d.pk in grupos
        ]))
    return resultado


def _html_de_horas(contexto, dentistas, filas, excluir_id):
    """The week's slot list (``_horas_semana.html``): a function of the values in its key
    alone (no request, no user data), so equal keys give equal HTML. The slots enter the key
    as the query's raw rows: on a hit nothing is built from them."""
    politica = contexto["politica"]
    llave = _llave(
        "horas", get_language(), timezone.get_current_timezone_name(), politica.telefono, excluir_id,
        contexto["dentista_id"], contexto["semana"], contexto["semana_desde"], contexto["semana_hasta"],
        contexto["semana_anterior"], contexto["semana_siguiente"], _claves_de(dentistas), tuple(filas),
        contexto["prestacion"],
    )

    def dibujar():
        horas = horas_de_filas(filas, dentistas)
        if excluir_id is None:
            prestacion = contexto["prestacion"]
            _enlazar(horas, "portal:reservar_confirmar",
                     consulta=f"?prestacion={prestacion.pk}" if prestacion is not None else "")
        else:  # rescheduling: the button picks the new time on the reschedule page
            _enlazar(horas, "portal:cita_reprogramar", excluir_id,
                     sufijo=f"?nueva={_MARCA}&dentista={contexto['dentista_id'] or ''}&semana={contexto['semana']}")
        dias = agrupar_por_dia(horas)
        if contexto["dentista_id"] is None:
            dias = por_dentista(dias, dentistas)
        # The chosen one's full name and specialty: a phone's closed <select> cuts a long name.
        elegido = next((d for d in dentistas if d.pk == contexto["dentista_id"]), None)
        return render_to_string("cliente_web/reservas/_horas_semana.html",
                                {**contexto, "dias": dias, "dentista_elegido": elegido})

    return _Parte(llave, dibujar)


def contexto_de_horas(request, *, excluir_id=None, prestacion: OpcionPrestacion | None = None,
                      dentistas: list[OpcionDentista] | None = None):
    """The dentist choice and one week of bookable slots grouped by day: shared by the
    booking page and the reschedule page (``excluir_id``: the booking being moved, whose
    buttons pick the new time instead of opening the booking step). With ``prestacion``, only
    the dentists who perform it and the start times where its whole duration fits, each with
    its end. Two queries (dentists, slots) whatever the numbers. ``horas_html`` and
    ``elegir_dentista_html`` are the slot list and the dentist choice, rendered (or taken from
    the cache) when the template prints them. ``dentistas``: already read (``opciones_de_reserva``)."""
    politica = politica_del_portal()
    if dentistas is None:
        dentistas = opciones_de_dentista(prestacion_id=prestacion.pk if prestacion is not None else None)
    formulario = FormularioElegirDentista(request.GET or None, dentistas=dentistas)
    dentista_id = formulario.cleaned_data["dentista"] if formulario.is_bound and formulario.is_valid() else None
    semana = _semana(request.GET.get("semana"), politica)
    filas = filas_de_horas_libres(dentistas=dentistas, dentista_id=dentista_id, semana=semana, excluir_id=excluir_id,
                                  duracion_minutos=prestacion.duracion_minutos if prestacion is not None else None)
    primero, ultimo = semana_de_reserva(semana=semana)
    contexto = {
        "politica": politica,
        "formulario_dentista": formulario,
        "dentista_id": dentista_id,
        "semana": semana,
        "semana_desde": primero,
        "semana_hasta": ultimo,
        "semana_anterior": semana - 1 if semana > 0 else None,
        "semana_siguiente": semana + 1 if semana + 1 < politica.semanas_reserva else None,
        "prestacion": prestacion,
    }
    contexto["horas_html"] = _html_de_horas(contexto, dentistas, filas, excluir_id)
    contexto["elegir_dentista_html"] = _html_elegir_dentista(request, formulario, dentistas, prestacion)
    return contexto


def _id_o_none(valor):
    """A positive id typed in a query string, or None (junk, empty, too big)."""
    valor = (valor or "").strip()
    if not (valor.isascii() and valor.isdecimal()) or not 0 < int(valor) < 2**63:
        return None
    return int(valor)


def _prestacion_pedida(valor, prestaciones):
    """The prestación ``valor`` (``?prestacion=<id>``, or the confirm form's field) names
    among those offered online, or None."""
    return next((p for p in prestaciones if str(p.pk) == (valor or "").strip()), None)


def _elegir_prestacion(request, prestaciones, *, invalida):
    """The booking's first step when the clinic offers prestaciones online: what the visit is
    for, with duration and price."""
    return render(request, "cliente_web/reservas/elegir_prestacion.html", {
        "prestaciones": prestaciones, "invalida": invalida, "politica": politica_del_portal(),
    })


def _pagina_reservar(request, contexto):
    """The whole booking page, rendered for this request."""
    contenido = render_to_string("cliente_web/reservas/_reservar_contenido.html", contexto)
    return render(request, "cliente_web/reservas/reservar.html", {"contenido_html": contenido, "con_pestanas": True})


@require_GET
def reservar(request):
    """The free slots, open to anyone: a new patient sees when they could come before signing
    up, and choosing a time asks to log in (or sign up) and comes back to that slot.

    Nothing on this page depends on who asks (no session, no user, no CSRF token; the tab bar
    is shown to everyone): a logged-in patient's request costs what an anonymous one does, and
    the page is a function of its parts' keys and the policy. It is kept whole in the cache, as
    the bytes around its CSP nonce, and each response joins them with its own nonce (Django's
    advice for caching pages with nonces: a fresh one injected per request). Rendering the
    frame for each response instead costs ~0.6 ms of CPU, 0.69x -> 0.52x the bare one-query
    view in bin/bench-http (docs/rendimiento.md).
    A visitor with a pending message (e.g. "Cerró su sesión") gets the page rendered for them.

    When the clinic offers prestaciones online, the page first asks what the visit is for
    (``?prestacion=<id>``); the clinic offering none books single slots as before."""
    pedida = request.GET.get("prestacion", "").strip()
    prestacion_id = _id_o_none(pedida)
    opciones = opciones_de_reserva(prestacion_id=prestacion_id)
    if (pedida and opciones.prestacion is None) or (not pedida and opciones.pide_prestacion):
        prestaciones = prestaciones_en_linea()
        if not prestaciones:  # ?prestacion= where the clinic offers none online: the plain page
            return redirect("portal:reservar")
        return _elegir_prestacion(request, prestaciones, invalida=bool(pedida))
    contexto = contexto_de_horas(request, prestacion=opciones.prestacion, dentistas=opciones.dentistas)
    if len(messages.get_messages(request)):
        return _pagina_reservar(request, contexto)
    nonce = str(get_nonce(request)).encode()

    def dibujar():
        return tuple(_pagina_reservar(request, contexto).content.split(nonce))

    llave = _llave("pagina", contexto["horas_html"].llave, contexto["elegir_dentista_html"].llave,
                   contexto["politica"], settings.CLINICA_NOMBRE)
    return HttpResponse(nonce.join(_en_cache(llave, dibujar)))


def _no_disponible(request, cita_id, *, status, prestacion=None):
    """The slot is gone, too soon or never existed: say so and offer the nearest free ones
    (for a prestación, the way back to the times where it fits: a nearby single slot may not).
    When it is gone because this patient booked it (Back after booking, a second tap), say it
    is theirs and show it."""
    if es_reserva_propia(cita_id=cita_id, user=request.user):
        messages.info(request, "Esta hora ya es suya: la reservó usted. Aquí está su cita.")
        return redirect("portal:cita", pk=cita_id)
    return render(
        request, "cliente_web/reservas/no_disponible.html",
        {"cercanas": horas_cercanas(cita_id=cita_id) if prestacion is None else [], "prestacion": prestacion,
         "politica": politica_del_portal()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@requiere_paciente
@limitar("portal.citas", cuenta="CLINICA_LIMITE_CITAS_CUENTA", ip="CLINICA_LIMITE_CITAS_IP")
def reservar_confirmar(request, cita_id):
    """One screen: date, time (start and end), dentist, what the visit is for, the policy, an
    optional reason, "Confirmar reserva". With prestaciones offered online the link carries
    ``?prestacion=<id>`` (the form posts it back): without a valid one the patient is sent to
    choose it first; a slot from which it no longer fits is "not available"."""
    prestaciones = prestaciones_en_linea()
    prestacion = None
    if prestaciones:
        datos = request.POST if request.method == "POST" else request.GET
        prestacion = _prestacion_pedida(datos.get("prestacion"), prestaciones)
        if prestacion is None:
            messages.info(request, "Primero elija para qué es la visita: así le mostramos las horas en que cabe.")
            return redirect("portal:reservar")
    hora = hora_para_reservar(cita_id=cita_id)
    if hora is not None and prestacion is not None:
        cadena = cadena_de(cita_id=hora.pk, duracion=datetime.timedelta(minutes=prestacion.duracion_minutos))
        realiza = PrestacionDentista.objects.filter(prestacion_id=prestacion.pk, dentista_id=hora.dentista_id).exists()
        hora = hora if cadena and realiza else None
        if hora is not None:
            hora.fin = cadena[-1][2]
    if hora is None:
        # GET 404 (nothing to book at that id), POST 409 (it was taken meanwhile): same friendly page.
        return _no_disponible(request, cita_id, status=409 if request.method == "POST" else 404, prestacion=prestacion)
    formulario = FormularioReserva(request.POST if request.method == "POST" else None)
    if request.method == "POST" and formulario.is_valid():
        try:
            cita = reservar_cita(user=request.user, cita_id=hora.pk, motivo=formulario.cleaned_data["motivo"],
                                 prestacion_id=prestacion.pk if prestacion is not None else None)
        except ValidationError as error:
            if getattr(error, "code", None) == "hora_no_disponible":
                return _no_disponible(request, cita_id, status=409, prestacion=prestacion)
            formulario.agregar_errores_del_servicio(error)
        else:
            para = f" para {prestacion.nombre}" if prestacion is not None else ""
            messages.success(request, f"Listo: reservó su hora{para} del {cuando(cita)}. Le enviamos la confirmación.")
            return redirect("portal:cita", pk=cita.pk)
    return render(request, "cliente_web/reservas/confirmar.html", {
        "hora": hora, "formulario": formulario, "politica": politica_del_portal(), "prestacion": prestacion,
    })


urlpatterns = [
    path("reservar/", reservar, name="reservar"),
    path("reservar/<int:cita_id>/", reservar_confirmar, name="reservar_confirmar"),
]
