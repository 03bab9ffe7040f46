"""What the ficha page and the draft note's page show of the odontogram (issue 16), apart from
``ficha_odontograma`` so that ``ficha`` can use it without a circular import."""

import hashlib

from django.core.cache import caches
from django.urls import reverse
from django.utils.safestring import mark_safe

from ficha.odontograma import describir, estado_actual, estado_en, hallazgos_pendientes
from ficha.odontograma_dibujo import a_svg, geometria


def svg_del_odontograma(cliente_id, marcas=None, *, seleccionado=None, leyenda=True, clase="odontograma",
                        caras_enlazadas=True) -> str:
    """The drawing of the patient's mouth (``marcas``: the marks in force; now when None), each
    tooth and surface a link to the chart with it selected. Safe HTML (built with escaping)."""
    if marcas is None:
        marcas = estado_en(cliente_id)
    base = reverse("gestion:ficha_odontograma", args=[cliente_id])

    def enlace(diente, cara):
        return f"{base}?diente={diente}" + (f"&cara={cara}" if cara else "") + "#panel"

    svg = a_svg(geometria(marcas, leyenda=leyenda), enlace=enlace, seleccionado=seleccionado, clase=clase,
                caras_enlazadas=caras_enlazadas, titulo="Odontograma: toque un diente o una cara para registrar")
    return mark_safe(svg)  # noqa: S308 (built by a_svg, every text and URL escaped)


def svg_de_la_ficha(cliente_id) -> str:
    """The ficha page's small drawing (compact, teeth as links), from the "ficha" cache when the mouth
    is as it was when it was drawn. The key is everything the SVG depends on: the patient (its
    links), the chart page's URL, and the marks in force (``estado_actual``, what ``geometria``
    reads): never stale, never another patient's. Drawing it costs ~5 ms; its key, the state
    query (which runs on every request: the page always shows the current mouth)."""
    marcas = estado_actual(cliente_id)
    base = reverse("gestion:ficha_odontograma", args=[cliente_id])
    huella = "odontograma-mini:" + hashlib.sha256(repr((cliente_id, base, marcas)).encode()).hexdigest()
    cache = caches["ficha"]
    svg = cache.get(huella)
    if svg is None:
        svg = svg_del_odontograma(
            cliente_id, [{"diente": d, "superficie": s, "estado": e, "condicion": c} for d, s, e, c in marcas],
            clase="odontograma-mini", caras_enlazadas=False)
        cache.set(huella, str(svg), None)
    return mark_safe(svg)  # noqa: S308 (built by a_svg, every text and URL escaped)


def hallazgos_para_la_nota(nota) -> dict:
    """For a draft note's page: the patient's pending findings (each may be marked "realizado en
    esta atención") and what was already charted with this note."""
    return {"hallazgos": [(m, describir(m)) for m in hallazgos_pendientes(nota.cliente_id)],
            "marcas_de_la_nota": [describir(m) for m in nota.marcas_odontograma.order_by("registrado_en", "pk")]}
