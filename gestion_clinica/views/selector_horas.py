"""The staff's time picker, shared by "Cambiar hora" (``views.citas.reprogramar``) and "Dar
hora" (``views.pacientes.dar_hora``): one dentist, a week strip with free counts, the chosen
day's free times as buttons (the partial ``agenda/_selector_horas.html``). Reads its choices
from ``?dentista=``, ``?fecha=`` (a day) or ``?semana=`` (that week's first day with free
times); a bad value gets a Spanish message and a sensible default, never an error page."""

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.utils import timezone

from citas.selectors import opciones_de_dentista, selector_de_horas
from gestion_clinica.forms.agenda import fecha_valida

HORIZONTE = datetime.timedelta(days=730)  # how far ahead the picker goes (slots are generated weeks ahead)
PARAMETROS = ("dentista", "fecha")  # what a POST carries back to the picker after an error


def _fecha(request, datos, nombre, hoy):
    """``datos[nombre]`` as a date from today to the horizon, else None (with a message)."""
    valor = datos.get(nombre, "")
    if not valor:
        return None
    fecha = fecha_valida(valor)
    if fecha is None:
        messages.warning(request, "La fecha indicada no es válida (use AAAA-MM-DD). Se muestra la próxima hora libre.")
        return None
    lunes_de_hoy = hoy - datetime.timedelta(days=hoy.weekday())
    if fecha < (lunes_de_hoy if nombre == "semana" else hoy):
        messages.warning(request, "Esa fecha ya pasó: se muestra desde hoy.")
        return hoy
    if fecha > hoy + HORIZONTE:
        messages.warning(request, "Esa fecha está demasiado lejos: se muestra la próxima hora libre.")
        return None
    return fecha


def selector_pedido(request, datos, *, dentista_preferido=None, excluir_id=None, duracion_minutos=None) -> dict:
    """The partial's context for the choices in ``datos`` (``request.GET``, or the POST that
    failed): ``dentistas``, ``dentista`` (None when no dentist can be booked), ``selector``
    (``SelectorDeHoras``), ``anterior``/``siguiente`` (Mondays, or None) and ``hoy``.
    Two queries (dentists, the week), one more for the next free day when no day is asked for
    or the week has none (``selector_de_horas``)."""
    hoy = timezone.localdate()
    dentistas = opciones_de_dentista()
    por_pk = {str(d.pk): d for d in dentistas}
    preferido = por_pk.get(str(dentista_preferido))
    pedido = datos.get("dentista", "")
    dentista = por_pk.get(pedido) if pedido else None
    if pedido and dentista is None:
        messages.warning(request, "Ese dentista no existe o no tiene horas para dar: se muestran las de otro.")
    dentista = dentista or preferido or (dentistas[0] if dentistas else None)
    contexto = {"dentistas": dentistas, "dentista": dentista, "hoy": hoy, "selector": None,
                "anterior": None, "siguiente": None}
    if dentista is None:
        return contexto
    fecha = _fecha(request, datos, "fecha", hoy)
    semana = None if fecha else _fecha(request, datos, "semana", hoy)
    selector = selector_de_horas(dentista_id=dentista.pk, fecha=fecha or semana, primer_dia_libre=semana is not None,
                                 excluir_id=excluir_id, duracion_minutos=duracion_minutos)
    siete = datetime.timedelta(days=7)
    contexto.update(
        selector=selector,
        anterior=selector.lunes - siete if selector.lunes > hoy - datetime.timedelta(days=hoy.weekday()) else None,
        siguiente=selector.lunes + siete if selector.lunes + siete <= hoy + HORIZONTE else None,
    )
    return contexto


def url_del_selector(url, datos) -> str:
    """``url`` with the picker's choices of ``datos`` (a failed POST goes back to them)."""
    consulta = {clave: datos[clave] for clave in PARAMETROS if datos.get(clave)}
    return f"{url}?{urlencode(consulta)}" if consulta else url
