"""The odontogram's screens (issue 16): the chart (the mouth now, a tooth selected with big
buttons for its surfaces and states, or the mouth as it was on a date, ``?fecha=``), its history
(every change: who, when, the note), and the helpers the ficha page and the draft note use.

Every view is wrapped in ``con_acceso_a_ficha(Seccion.ODONTOGRAMA)``; charting goes through
``ficha.odontograma.registrar_cambios``, which checks the rule again. Works without JavaScript:
each tooth and surface of the drawing is a link that selects it, the panel is a plain form."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_safe

from ficha.acceso import perfil_clinico
from ficha.models import DIENTES_FDI, ESTADOS_DE_DIENTE, ESTADOS_DE_SUPERFICIE, Condicion, EstadoDental, Seccion
from ficha.odontograma import (
    borrador_de_hoy, describir, estado_en, fin_del_dia, historial, limpiar_cambio,
    nombre_cara, registrar_cambios, validar_fecha_de_consulta,
)
from gestion_clinica.views.ficha import PLANTILLAS, _encabezado
from gestion_clinica.views.acceso_ficha import con_acceso_a_ficha
from gestion_clinica.views.odontograma_comun import svg_del_odontograma
from nucleo.servicios import es_id_valido
from pacientes.models import Cliente

CAMBIOS_POR_PAGINA = 50
ESTADOS_CARAS = {"", "O", "M", "D", "V", "L"}


def _url_odontograma(cliente_id, diente=None, cara=None):
    url = reverse("gestion:ficha_odontograma", args=[cliente_id])
    if diente:
        url += f"?diente={diente}" + (f"&cara={cara}" if cara else "") + "#panel"
    return url


def _entero(valor):
    valor = str(valor or "").strip()
    return int(valor) if valor.isascii() and valor.isdigit() and len(valor) < 19 else None


def _diente_pedido(valor, errores):
    if not valor:
        return None
    try:
        return limpiar_cambio(diente=valor, estado=EstadoDental.CORONA).diente
    except ValidationError as error:
        errores += error.messages
        return None


def _contexto_del_grafico(request, cliente_id, *, seleccion=None, errores=None):
    """Everything the chart page shows: the mouth now or as of ``?fecha=``, the tooth selected."""
    errores = list(errores or [])
    contexto = _encabezado(cliente_id)
    fecha = None
    if request.GET.get("fecha"):
        try:
            fecha = validar_fecha_de_consulta(request.GET["fecha"][:20])
        except ValidationError as error:
            errores += error.messages
    seleccion = seleccion or {}
    diente = seleccion.get("diente") or _diente_pedido(request.GET.get("diente", "")[:10], errores)
    cara = seleccion.get("cara") or str(request.GET.get("cara", ""))[:1].upper()
    if cara not in ESTADOS_CARAS:
        cara = ""
    marcas = estado_en(cliente_id, fin_del_dia(fecha) if fecha else None)
    propias = [m for m in marcas if m.diente == diente] if diente else []
    perfil = perfil_clinico(request.user)
    contexto.update({
        "svg": svg_del_odontograma(cliente_id, marcas, seleccionado=diente),
        "marcas": marcas, "fecha": fecha, "errores": errores, "diente": diente if not fecha else None,
        "cara": cara, "marcas_del_diente": [(m, describir(m)) for m in propias],
        "caras": [(c, nombre_cara(diente or 11, c).capitalize()) for c in "OMDVL"] if diente else [],
        "estados_cara": [(e.value, e.label) for e in ESTADOS_DE_SUPERFICIE],
        "estados_diente": [(e.value, e.label) for e in ESTADOS_DE_DIENTE],
        "seleccion": seleccion,
        "borrador": borrador_de_hoy(cliente_id, perfil.pk) if perfil and diente and not fecha else None,
        "descripciones": [describir(m) + (f" — {m.nota}" if m.nota else "") for m in marcas],
    })
    return contexto


def _cambios_del_formulario(post):
    accion = post.get("accion", "marcar")
    superficies = post.getlist("superficie")[:6] or [""]
    return [{"diente": post.get("diente", "")[:10], "superficie": s[:2], "estado": post.get("estado", "")[:20],
             "condicion": post.get("condicion", "")[:20] or Condicion.HALLAZGO, "quitar": accion == "quitar",
             "nota": post.get("nota", "")[:400]} for s in superficies]


@con_acceso_a_ficha(Seccion.ODONTOGRAMA)
def odontograma(request, cliente_id):
    """GET: the chart; POST: one charting step (``registrar_cambios``): a tooth, its surfaces,
    a state, finding or done, or the removal of a mark. ``evolucion`` + ``volver=nota``: from the
    draft note's page, back to it."""
    if request.method == "POST":
        evolucion = _entero(request.POST.get("evolucion"))
        if request.POST.get("evolucion") and evolucion is None:
            evolucion = -1  # not an id: the service says so
        try:
            nuevas = registrar_cambios(actor=request.user, cliente_id=cliente_id,
                                       cambios=_cambios_del_formulario(request.POST),
                                       evolucion_id=evolucion)
        except Cliente.DoesNotExist:
            raise Http404("Ese paciente ya no existe.") from None
        except ValidationError as error:
            diente = _entero(request.POST.get("diente"))
            seleccion = {"diente": diente if diente in DIENTES_FDI else None, "estado": request.POST.get("estado", "")[:20],
                         "superficies": request.POST.getlist("superficie")[:6],
                         "condicion": request.POST.get("condicion", "")[:20], "nota": request.POST.get("nota", "")[:200]}
            contexto = _contexto_del_grafico(request, cliente_id, seleccion=seleccion, errores=error.messages)
            return render(request, f"{PLANTILLAS}/odontograma.html", contexto)
        if nuevas:
            messages.success(request, format_html("Guardado: {}.", "; ".join(describir(m) for m in nuevas)))
        else:
            messages.info(request, "No había nada que cambiar: el odontograma ya estaba así.")
        if request.POST.get("volver") == "nota" and es_id_valido(evolucion):
            return redirect(reverse("gestion:ficha_evolucion", args=[cliente_id, evolucion]) + "#odontograma")
        return redirect(_url_odontograma(cliente_id, _entero(request.POST.get("diente"))))
    return render(request, f"{PLANTILLAS}/odontograma.html", _contexto_del_grafico(request, cliente_id))


@require_safe
@con_acceso_a_ficha(Seccion.ODONTOGRAMA)
def odontograma_historial(request, cliente_id):
    """Every change of the odontogram, newest first, paginated: when, who, what, the note."""
    contexto = _encabezado(cliente_id)
    pagina = Paginator(historial(cliente_id), CAMBIOS_POR_PAGINA).get_page(_entero(request.GET.get("pagina")) or 1)
    propio = perfil_clinico(request.user)
    filas = [{"marca": m, "texto": describir(m),
              "nota_visible": m.evolucion_id and (m.evolucion.firmada or m.evolucion.dentista_id == propio.pk),
              "quien": getattr(getattr(m.registrado_por, "perfil_personal", None), "nombre", None)
              or m.registrado_por.get_full_name() or m.registrado_por.username}
             for m in pagina.object_list]
    return render(request, f"{PLANTILLAS}/odontograma_historial.html", {**contexto, "pagina": pagina, "filas": filas})


_BASE = "pacientes/<int:cliente_id>/ficha/odontograma/"
urlpatterns = [
    path(_BASE, odontograma, name="ficha_odontograma"),
    path(f"{_BASE}historial/", odontograma_historial, name="ficha_odontograma_historial"),
]
