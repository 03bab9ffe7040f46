"""The odontogram's drawing: one geometry (``geometria``: the marks in force → shapes) and two
renderers, SVG for the staff pages and the data export (``a_svg``) and a reportlab ``Drawing``
for PDFs (``a_reportlab``).

Layout (FDI, as the dentist looks at the patient): permanent upper 18…11 | 21…28 on top,
permanent lower 48…41 | 31…38 at the bottom, and the deciduous teeth between them, 55…51 |
61…65 and 85…81 | 71…75, each under its successor (mixed dentition). Each tooth is the
five-surface diagram: vestibular towards the lips (top for the upper teeth, bottom for the
lower), lingual/palatino towards the tongue, mesial towards the midline, oclusal/incisal in the
middle; its number above (upper) or below (lower).

Colour is the condition, as Chilean dentists read it: red a finding (to treat), blue work done
or existing. Shape is the state: caries a solid surface, obturación a light surface with a
coloured border, sellante an "S", fractura a zigzag; corona a ring around the tooth,
endodoncia a vertical line, ausente an X, extracción indicada two horizontal bars, implante a
square frame. The SVG carries classes only (CSP: no style attributes; colours in
``gestion_clinica/odontograma.css``; ``estilos_incrustados`` adds a <style> for a standalone file).
"""

from dataclasses import dataclass, field
from functools import cache
from html import escape

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Polygon, String
from reportlab.lib import colors

from ficha.models import Condicion, EstadoDental
from ficha.odontograma import nombre_cara
from nucleo.pdf import FUENTE, FUENTE_NEGRITA

# Geometry (SVG user units; the PDF scales them).
CELDA = 44
LADO = 32
INTERIOR = 14
MARGEN = 6
MEDIO = 14
ANCHO = 2 * MARGEN + 16 * CELDA + MEDIO
FILAS = {  # row → (top of the diagram, baseline of the number)
    "sup_perm": (22, 15), "sup_temp": (80, 73), "inf_temp": (136, 182), "inf_perm": (194, 240),
}
ALTO_DIENTES = 250
ALTO_LEYENDA = 70

COLORES = {"h": "#c62828", "r": "#1565c0"}
TINTES = {"h": "#f7c6c6", "r": "#c3dbf5"}
BORDE = "#5f6b73"

_DE_SUPERFICIE = ("obturacion", "caries", "sellante", "fractura")  # drawing order, bottom to top


def _fila(diente):
    cuadrante = diente // 10
    return {1: "sup_perm", 2: "sup_perm", 5: "sup_temp", 6: "sup_temp",
            8: "inf_temp", 7: "inf_temp", 4: "inf_perm", 3: "inf_perm"}[cuadrante]


def _x(diente):
    cuadrante, posicion = diente // 10, diente % 10
    if cuadrante in (1, 4, 5, 8):
        return MARGEN + (8 - posicion) * CELDA
    return MARGEN + 8 * CELDA + MEDIO + (posicion - 1) * CELDA


ORDEN = ([18, 17, 16, 15, 14, 13, 12, 11, 21, 22, 23, 24, 25, 26, 27, 28]
         + [55, 54, 53, 52, 51, 61, 62, 63, 64, 65]
         + [85, 84, 83, 82, 81, 71, 72, 73, 74, 75]
         + [48, 47, 46, 45, 44, 43, 42, 41, 31, 32, 33, 34, 35, 36, 37, 38])


@dataclass
class Forma:
    """One shape: ``tipo`` poligono (``puntos``), linea / polilinea (``puntos``), circulo
    (``puntos[0]`` centre, ``r``), rect (``puntos[0]`` corner, ``ancho``, ``alto``), texto
    (``puntos[0]``, ``texto``); ``clases``: its CSS classes (the PDF reads the same)."""

    tipo: str
    puntos: list
    clases: str
    r: float = 0
    ancho: float = 0
    alto: float = 0
    texto: str = ""


@dataclass
class Cara:
    superficie: str
    puntos: list
    titulo: str
    formas: list = field(default_factory=list)
    pts: str = ""  # the points as SVG writes them


@dataclass
class Diente:
    numero: int
    x: float
    y: float
    titulo: str
    caras: list = field(default_factory=list)
    formas: list = field(default_factory=list)  # whole-tooth overlays and the number


@dataclass
class Dibujo:
    dientes: list
    leyenda: list
    ancho: float
    alto: float


def _caras(diente, x0, y0):
    """The five surfaces' polygons: {superficie: puntos}."""
    a = (LADO - INTERIOR) / 2
    s = LADO
    arriba = [(x0, y0), (x0 + s, y0), (x0 + s - a, y0 + a), (x0 + a, y0 + a)]
    abajo = [(x0, y0 + s), (x0 + a, y0 + s - a), (x0 + s - a, y0 + s - a), (x0 + s, y0 + s)]
    izquierda = [(x0, y0), (x0 + a, y0 + a), (x0 + a, y0 + s - a), (x0, y0 + s)]
    derecha = [(x0 + s, y0), (x0 + s, y0 + s), (x0 + s - a, y0 + s - a), (x0 + s - a, y0 + a)]
    centro = [(x0 + a, y0 + a), (x0 + s - a, y0 + a), (x0 + s - a, y0 + s - a), (x0 + a, y0 + s - a)]
    superior = diente // 10 in (1, 2, 5, 6)
    a_la_izquierda = diente // 10 in (1, 4, 5, 8)  # the patient's right: mesial is to the right
    return {
        "V": arriba if superior else abajo,
        "L": abajo if superior else arriba,
        "M": derecha if a_la_izquierda else izquierda,
        "D": izquierda if a_la_izquierda else derecha,
        "O": centro,
    }


def _centro(puntos):
    return (sum(p[0] for p in puntos) / len(puntos), sum(p[1] for p in puntos) / len(puntos))


def _c(condicion):
    return "h" if condicion == Condicion.HALLAZGO else "r"


def _formas_de_cara(estado, condicion, puntos):
    c = _c(condicion)
    cx, cy = _centro(puntos)
    if estado == "caries":
        return [Forma("poligono", puntos, f"odo-lleno {c}")]
    if estado == "obturacion":
        return [Forma("poligono", puntos, f"odo-tenue {c}")]
    if estado == "sellante":
        return [Forma("texto", [(cx, cy + 3.2)], f"odo-letra {c}", texto="S")]
    # fractura
    return [Forma("polilinea", [(cx - 5, cy + 2.5), (cx - 2, cy - 2.5), (cx + 1, cy + 2.5), (cx + 4, cy - 2.5),
                                (cx + 6, cy)], f"odo-trazo {c}")]


def _formas_de_diente(estado, condicion, x0, y0):
    c = _c(condicion)
    s = LADO
    cx, cy = x0 + s / 2, y0 + s / 2
    if estado == "corona":
        return [Forma("circulo", [(cx, cy)], f"odo-trazo {c}", r=s / 2 + 4)]
    if estado == "endodoncia":
        return [Forma("linea", [(cx, y0 - 5), (cx, y0 + s + 5)], f"odo-trazo odo-grueso {c}")]
    if estado == "ausente":
        return [Forma("linea", [(x0 - 3, y0 - 3), (x0 + s + 3, y0 + s + 3)], f"odo-trazo odo-grueso {c}"),
                Forma("linea", [(x0 + s + 3, y0 - 3), (x0 - 3, y0 + s + 3)], f"odo-trazo odo-grueso {c}")]
    if estado == "extraccion":
        return [Forma("linea", [(x0 - 4, cy - 4), (x0 + s + 4, cy - 4)], f"odo-trazo odo-grueso {c}"),
                Forma("linea", [(x0 - 4, cy + 4), (x0 + s + 4, cy + 4)], f"odo-trazo odo-grueso {c}")]
    # implante
    return [Forma("rect", [(x0 - 3, y0 - 3)], f"odo-trazo {c}", ancho=s + 6, alto=s + 6)]


_PALABRAS = {(e.value, c.value): f"{e.label.lower()} ({'hallazgo' if c == Condicion.HALLAZGO else 'realizado'})"
             for e in EstadoDental for c in Condicion}


def _palabras(marca_estado, condicion):
    return _PALABRAS[(marca_estado, condicion)]


@cache
def _plantilla():
    """What never changes (computed once): each tooth's position, its surfaces' polygons (and
    their SVG points), the words of each surface and its number."""
    dientes = []
    for numero in ORDEN:
        x0 = _x(numero) + (CELDA - LADO) / 2
        y0, y_numero = FILAS[_fila(numero)]
        caras = tuple((sup, puntos, _pts(puntos), f"Diente {numero}, cara {nombre_cara(numero, sup)}")
                      for sup, puntos in _caras(numero, x0, y0).items())
        dientes.append((numero, x0, y0, caras, Forma("texto", [(x0 + LADO / 2, y_numero)], "odo-num", texto=str(numero))))
    return tuple(dientes)


def _orden_de_cara(marca):
    return _DE_SUPERFICIE.index(marca[0]) if marca[0] in _DE_SUPERFICIE else 9


def geometria(marcas, *, leyenda: bool = True) -> Dibujo:
    """The shapes of a mouth from its marks in force (objects or dicts with ``diente``,
    ``superficie``, ``estado``, ``condicion``)."""
    por_diente: dict[int, dict[str, list]] = {}
    for m in marcas:
        if isinstance(m, dict):
            clave = (m["diente"], m["superficie"], m["estado"], m["condicion"])
        else:
            clave = (m.diente, m.superficie, m.estado, m.condicion)
        por_diente.setdefault(clave[0], {}).setdefault(clave[1], []).append(clave[2:])
    dientes = []
    for numero, x0, y0, plantilla_caras, forma_numero in _plantilla():
        marcas_d = por_diente.get(numero)
        caras = []
        if not marcas_d:
            for sup, puntos, pts, nombre in plantilla_caras:
                caras.append(Cara(sup, puntos, nombre + ": sin marcas", pts=pts))
            dientes.append(Diente(numero, x0 - (CELDA - LADO) / 2, y0, f"Diente {numero}: sin marcas", caras,
                                  [forma_numero]))
            continue
        for sup, puntos, pts, nombre in plantilla_caras:
            lista = sorted(marcas_d.get(sup, ()), key=_orden_de_cara)
            cara = Cara(sup, puntos, f"{nombre}: " + ("; ".join(_palabras(e, c) for e, c in lista) or "sin marcas"),
                        pts=pts)
            for estado, condicion in lista:
                cara.formas += _formas_de_cara(estado, condicion, puntos)
            caras.append(cara)
        enteros = marcas_d.get("", [])
        resumen = [_palabras(e, c) for e, c in enteros]
        resumen += [f"cara {nombre_cara(numero, s)}: {_palabras(e, c)}" for s in "OMDVL" for e, c in marcas_d.get(s, [])]
        diente = Diente(numero, x0 - (CELDA - LADO) / 2, y0, f"Diente {numero}: " + ("; ".join(resumen) or "sin marcas"),
                        caras)
        for estado, condicion in enteros:
            diente.formas += _formas_de_diente(estado, condicion, x0, y0)
        diente.formas.append(forma_numero)
        dientes.append(diente)
    return Dibujo(dientes=dientes, leyenda=_leyenda() if leyenda else (), ancho=ANCHO,
                  alto=ALTO_DIENTES + (ALTO_LEYENDA if leyenda else 0))


@cache
def _leyenda():
    formas = []
    y = ALTO_DIENTES + 8
    formas += [Forma("rect", [(MARGEN, y)], "odo-lleno h", ancho=12, alto=12),
               Forma("texto", [(MARGEN + 17, y + 10)], "odo-ley", texto="Rojo: hallazgo (por tratar)"),
               Forma("rect", [(MARGEN + 230, y)], "odo-lleno r", ancho=12, alto=12),
               Forma("texto", [(MARGEN + 247, y + 10)], "odo-ley", texto="Azul: realizado o existente")]
    estados = [("caries", "Caries"), ("obturacion", "Obturación"), ("sellante", "Sellante (S)"),
               ("fractura", "Fractura"), ("corona", "Corona"), ("endodoncia", "Endodoncia"),
               ("ausente", "Ausente"), ("extraccion", "Extracción indicada"), ("implante", "Implante")]
    paso = (ANCHO - 2 * MARGEN) / 5
    for i, (estado, texto) in enumerate(estados):
        x = MARGEN + (i % 5) * paso + 4
        fila_y = y + 24 + (i // 5) * 22
        if estado in _DE_SUPERFICIE:
            cuadro = [(x, fila_y), (x + 14, fila_y), (x + 14, fila_y + 14), (x, fila_y + 14)]
            formas.append(Forma("poligono", cuadro, "odo-cara"))
            formas += _formas_de_cara(estado, Condicion.HALLAZGO, cuadro)
        else:
            formas.append(Forma("rect", [(x + 2, fila_y + 2)], "odo-cara", ancho=10, alto=10))
            escala = [f for f in _formas_de_diente(estado, Condicion.HALLAZGO, 0, 0)]
            formas += [_escalar(f, x + 2, fila_y + 2, 10 / LADO) for f in escala]
        formas.append(Forma("texto", [(x + 22, fila_y + 11)], "odo-ley", texto=texto))
    return tuple(formas)


def _escalar(forma, dx, dy, k):
    return Forma(forma.tipo, [(dx + px * k, dy + py * k) for px, py in forma.puntos], forma.clases.replace(" odo-grueso", ""),
                 r=forma.r * k, ancho=forma.ancho * k, alto=forma.alto * k, texto=forma.texto)


# --- SVG ----------------------------------------------------------------------------------------

def _n(valor):
    return f"{valor:.1f}".rstrip("0").rstrip(".")


def _pts(puntos):
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in puntos)


def _forma_svg(f, partes):
    clase = escape(f.clases)
    if f.tipo == "poligono":
        partes.append(f'<polygon class="{clase}" points="{_pts(f.puntos)}"/>')
    elif f.tipo == "polilinea":
        partes.append(f'<polyline class="{clase}" points="{_pts(f.puntos)}"/>')
    elif f.tipo == "linea":
        (x1, y1), (x2, y2) = f.puntos
        partes.append(f'<line class="{clase}" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"/>')
    elif f.tipo == "circulo":
        (cx, cy), = f.puntos
        partes.append(f'<circle class="{clase}" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(f.r)}"/>')
    elif f.tipo == "rect":
        (x, y), = f.puntos
        partes.append(f'<rect class="{clase}" x="{_n(x)}" y="{_n(y)}" width="{_n(f.ancho)}" height="{_n(f.alto)}"/>')
    else:
        (x, y), = f.puntos
        partes.append(f'<text class="{clase}" x="{_n(x)}" y="{_n(y)}">{escape(f.texto)}</text>')


ESTILOS = (
    ".odo-cara{fill:#fff;stroke:%(borde)s;stroke-width:.8}.odo-lleno.h{fill:%(h)s}.odo-lleno.r{fill:%(r)s}"
    ".odo-tenue.h{fill:%(th)s;stroke:%(h)s;stroke-width:1.6}.odo-tenue.r{fill:%(tr)s;stroke:%(r)s;stroke-width:1.6}"
    ".odo-trazo{fill:none;stroke-width:1.8}.odo-trazo.h{stroke:%(h)s}.odo-trazo.r{stroke:%(r)s}.odo-grueso{stroke-width:2.6}"
    ".odo-letra{font:bold 9px sans-serif;text-anchor:middle}.odo-letra.h{fill:%(h)s}.odo-letra.r{fill:%(r)s}"
    ".odo-num{font:11px sans-serif;text-anchor:middle;fill:#333}.odo-ley{font:11px sans-serif;fill:#333}"
    ".odo-hit{fill:transparent}"
) % {"borde": BORDE, "h": COLORES["h"], "r": COLORES["r"], "th": TINTES["h"], "tr": TINTES["r"]}


def a_svg(dibujo: Dibujo, *, enlace=None, seleccionado: int | None = None, titulo: str = "Odontograma",
          estilos_incrustados: bool = False, clase: str = "odontograma", caras_enlazadas: bool = True) -> str:
    """The drawing as an SVG element. ``enlace(diente, superficie)`` → URL makes each tooth
    (``superficie`` "") and, with ``caras_enlazadas``, each surface a link with its description;
    without it (the ficha page's small drawing) the whole tooth is one link and its unmarked
    outline one ``<use>`` (a third of the size). ``seleccionado``: the tooth highlighted."""
    partes = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(clase)}" viewBox="0 0 {_n(dibujo.ancho)} '
              f'{_n(dibujo.alto)}" role="group" aria-label="{escape(titulo)}"><title>{escape(titulo)}</title>']
    if estilos_incrustados:
        partes.append(f"<style>{ESTILOS}</style>")
    compacto = enlace is not None and not caras_enlazadas
    if compacto:
        base = _caras(11, 0, 0)  # the outline is the same for every tooth; only its labels turn
        partes.append('<defs><g id="odo-base">' + "".join(
            f'<polygon class="odo-cara" points="{_pts(p)}"/>' for p in base.values()) + "</g></defs>")
    for d in dibujo.dientes:
        sel = " odo-sel" if d.numero == seleccionado else ""
        partes.append(f'<g class="odo-diente{sel}">')
        arriba = d.y - 22 if d.numero // 10 in (1, 2, 5, 6) else d.y - 4
        if enlace is None:
            partes.append(f"<title>{escape(d.titulo)}</title>")
        else:
            partes.append(f'<a href="{escape(enlace(d.numero, ""))}" aria-label="{escape(d.titulo)}">'
                          f'<title>{escape(d.titulo)}</title>'
                          f'<rect class="odo-hit" x="{_n(d.x)}" y="{_n(arriba)}" width="{CELDA}" height="{LADO + 26}"/>')
            if not compacto:
                partes.append("</a>")
        if compacto:
            x0 = d.x + (CELDA - LADO) / 2
            partes.append(f'<use href="#odo-base" x="{_n(x0)}" y="{_n(d.y)}"/>')
        for cara in d.caras:
            if not compacto:
                if enlace is not None:
                    partes.append(f'<a href="{escape(enlace(d.numero, cara.superficie))}">'
                                  f'<title>{escape(cara.titulo)}</title>')
                partes.append(f'<polygon class="odo-cara" points="{cara.pts or _pts(cara.puntos)}"/>')
            for f in cara.formas:
                _forma_svg(f, partes)
            if enlace is not None and not compacto:
                partes.append("</a>")
        partes.append('<g class="odo-sobre">')
        for f in d.formas:
            _forma_svg(f, partes)
        partes.append("</g>" + ("</a>" if compacto else "") + "</g>")
    if dibujo.leyenda:
        partes.append(_leyenda_svg())
    partes.append("</svg>")
    return "".join(partes)


@cache
def _leyenda_svg() -> str:
    """The legend (always the same) as SVG, rendered once."""
    partes = ['<g class="odo-leyenda" aria-hidden="true">']
    for f in _leyenda():
        _forma_svg(f, partes)
    partes.append("</g>")
    return "".join(partes)


# --- reportlab ----------------------------------------------------------------------------------

def a_reportlab(dibujo: Dibujo, *, ancho_pt: float):
    """The drawing as a reportlab ``Drawing`` ``ancho_pt`` points wide (for ``DocumentoPDF.agregar``)."""
    k = ancho_pt / dibujo.ancho
    alto = dibujo.alto
    grupo = Group()

    def y(v):
        return alto - v  # SVG's y grows downwards, reportlab's upwards

    def color(clases, tabla):
        return colors.HexColor(tabla["h" if "h" in clases.split() else "r"])

    def agregar(f):
        clases = f.clases
        if f.tipo in ("poligono", "rect"):
            if f.tipo == "rect":
                (x0, y0), = f.puntos
                puntos = [(x0, y0), (x0 + f.ancho, y0), (x0 + f.ancho, y0 + f.alto), (x0, y0 + f.alto)]
            else:
                puntos = f.puntos
            plano = [c for x, yy in puntos for c in (x, y(yy))]
            if "odo-cara" in clases:
                forma = Polygon(plano, fillColor=colors.white, strokeColor=colors.HexColor(BORDE), strokeWidth=0.8)
            elif "odo-lleno" in clases:
                forma = Polygon(plano, fillColor=color(clases, COLORES), strokeColor=colors.HexColor(BORDE), strokeWidth=0.8)
            elif "odo-tenue" in clases:
                forma = Polygon(plano, fillColor=color(clases, TINTES), strokeColor=color(clases, COLORES), strokeWidth=1.6)
            else:
                forma = Polygon(plano, fillColor=None, strokeColor=color(clases, COLORES), strokeWidth=1.8)
            grupo.add(forma)
        elif f.tipo in ("linea", "polilinea"):
            ancho = 2.6 if "odo-grueso" in clases else 1.8
            plano = [c for x, yy in f.puntos for c in (x, y(yy))]
            grupo.add(PolyLine(plano, strokeColor=color(clases, COLORES), strokeWidth=ancho)
                      if f.tipo == "polilinea" else Line(*plano, strokeColor=color(clases, COLORES), strokeWidth=ancho))
        elif f.tipo == "circulo":
            (cx, cy), = f.puntos
            grupo.add(Circle(cx, y(cy), f.r, fillColor=None, strokeColor=color(clases, COLORES), strokeWidth=1.8))
        else:
            (x, yy), = f.puntos
            if "odo-letra" in clases:
                grupo.add(String(x, y(yy), f.texto, fontName=FUENTE_NEGRITA, fontSize=9, textAnchor="middle",
                                 fillColor=color(clases, COLORES)))
            elif "odo-num" in clases:
                grupo.add(String(x, y(yy), f.texto, fontName=FUENTE, fontSize=10, textAnchor="middle",
                                 fillColor=colors.HexColor("#333333")))
            else:
                grupo.add(String(x, y(yy), f.texto, fontName=FUENTE, fontSize=10, fillColor=colors.HexColor("#333333")))

    for d in dibujo.dientes:
        for cara in d.caras:
            agregar(Forma("poligono", cara.puntos, "odo-cara"))
            for f in cara.formas:
                agregar(f)
        for f in d.formas:
            agregar(f)
    for f in dibujo.leyenda:
        agregar(f)
    grupo.scale(k, k)
    dibujo_pdf = Drawing(ancho_pt, alto * k)
    dibujo_pdf.add(grupo)
    return dibujo_pdf
