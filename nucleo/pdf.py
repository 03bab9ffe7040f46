"""The clinic's printed documents (the record's copy, prescriptions, consents, quotes): one page
layout and one safe way to put a patient's free text on paper.

Built on reportlab (``benchmarks/pdf_bibliotecas.py`` says why). Every page carries the clinic's
name, address and phone on top and, at the foot, when and for whom the document was generated
and "Página N de M". The font is DejaVu Sans, shipped in ``nucleo/fuentes`` (its license,
``LICENSE-DejaVu.txt``, allows redistributing and embedding it) so a fresh machine prints the
same as this one; only the glyphs used are embedded.

Free text is never trusted: ``texto_seguro`` drops control characters and swaps any character
the font cannot draw (an emoji, a Chinese name) for "?", and escapes what reportlab's paragraph
markup would read as tags. The document then says that something was replaced, and where the
exact text is (the JSON copy). Nothing a patient or a dentist types can break the layout or
the build.

    doc = DocumentoPDF(titulo="Receta", generado_para="Dra. Camila Soto (Dentista)")
    doc.seccion("Indicaciones")
    doc.parrafo(texto_libre)
    contenido = doc.pdf()  # bytes
"""

import datetime
import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (BaseDocTemplate, Frame, KeepTogether, PageTemplate, Paragraph, Spacer, Table,
                                TableStyle)

FUENTES = Path(__file__).resolve().parent / "fuentes"
FUENTE = "DejaVuSans"
FUENTE_NEGRITA = "DejaVuSans-Bold"
REEMPLAZO = "?"
MARGEN_LATERAL = 20 * mm
MARGEN_SUPERIOR = 27 * mm  # room for the clinic's header
MARGEN_INFERIOR = 20 * mm  # room for the footer
GRIS = colors.HexColor("#555555")
AVISO_REEMPLAZOS = ("Algunos caracteres que este PDF no puede dibujar (por ejemplo emojis o escrituras "
                    "no latinas) aparecen como «?». La copia en JSON los conserva tal como se escribieron.")


@cache
def _fuentes() -> frozenset[int]:
    """Registers DejaVu Sans (regular and bold, as one family so ``<b>`` works) once per
    process; returns the code points it can draw (the bold face covers the same ones)."""
    normal = TTFont(FUENTE, str(FUENTES / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(normal)
    pdfmetrics.registerFont(TTFont(FUENTE_NEGRITA, str(FUENTES / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FUENTE, normal=FUENTE, bold=FUENTE_NEGRITA, italic=FUENTE,
                                  boldItalic=FUENTE_NEGRITA)
    return frozenset(normal.face.charToGlyph)


def texto_plano_seguro(valor) -> tuple[str, int]:
    """``valor`` as text the font can draw, and how many characters were replaced: NFC
    normalised (an accent typed as a combining mark becomes one letter), control and
    unassigned characters dropped (tabs become spaces, line breaks stay), invisible format
    characters the font lacks (emoji joiners, variation selectors) dropped, any other character
    the font lacks, or beyond U+FFFF, replaced by "?"."""
    dibujables = _fuentes()
    salida, reemplazados = [], 0
    for caracter in unicodedata.normalize("NFC", "" if valor is None else str(valor)):
        if caracter == "\n":
            salida.append(caracter)
            continue
        if caracter == "\t":
            salida.append(" ")
            continue
        categoria = unicodedata.category(caracter)
        if categoria in ("Cc", "Cs", "Cn", "Co", "Zl", "Zp"):
            continue
        # Beyond U+FFFF (emoji, rare ideographs) reportlab draws DejaVu's few glyphs but writes
        # a wrong text layer (😀 is copied as "ὠ"): a "?" is at least honest.
        if ord(caracter) <= 0xFFFF and ord(caracter) in dibujables:
            salida.append(caracter)
        elif categoria not in ("Cf", "Mn", "Sk"):
            salida.append(REEMPLAZO)
            reemplazados += 1
    return "".join(salida).replace("\r", ""), reemplazados


def texto_seguro(valor) -> tuple[str, int]:
    """Like ``texto_plano_seguro``, as reportlab paragraph markup: ``<``, ``>`` and ``&``
    escaped (text that looks like HTML or a tag is printed as typed), line breaks as ``<br/>``."""
    plano, reemplazados = texto_plano_seguro(valor)
    return escape(plano).replace("\n", "<br/>"), reemplazados


@dataclass(frozen=True)
class DatosClinica:
    """Who issues the document: the clinic of the settings (``CLINICA_NOMBRE``,
    ``CLINICA_DIRECCION``, ``CLINICA_TELEFONO``)."""

    nombre: str
    direccion: str
    telefono: str

    @classmethod
    def de_la_configuracion(cls) -> "DatosClinica":
        return cls(nombre=settings.CLINICA_NOMBRE, direccion=getattr(settings, "CLINICA_DIRECCION", ""),
                   telefono=getattr(settings, "CLINICA_TELEFONO", ""))


def _estilos() -> dict[str, ParagraphStyle]:
    _fuentes()
    base = ParagraphStyle("normal", fontName=FUENTE, fontSize=9.5, leading=13, alignment=TA_LEFT,
                          splitLongWords=1, spaceAfter=2)
    return {
        "normal": base,
        "titulo": ParagraphStyle("titulo", parent=base, fontName=FUENTE_NEGRITA, fontSize=16, leading=20,
                                 spaceAfter=6),
        "seccion": ParagraphStyle("seccion", parent=base, fontName=FUENTE_NEGRITA, fontSize=12, leading=15,
                                  spaceBefore=10, spaceAfter=4, textColor=colors.HexColor("#0b4f6c"),
                                  keepWithNext=1),
        "subtitulo": ParagraphStyle("subtitulo", parent=base, fontName=FUENTE_NEGRITA, fontSize=10, leading=13,
                                    spaceBefore=6, spaceAfter=1),
        "nota": ParagraphStyle("nota", parent=base, fontSize=8.5, leading=11, textColor=GRIS),
        "sangria": ParagraphStyle("sangria", parent=base, leftIndent=6 * mm),
        "sangria_subtitulo": ParagraphStyle("sangria_subtitulo", parent=base, fontName=FUENTE_NEGRITA,
                                            leftIndent=6 * mm, spaceBefore=4),
        "etiqueta": ParagraphStyle("etiqueta", parent=base, fontName=FUENTE_NEGRITA, spaceAfter=0),
        "valor": ParagraphStyle("valor", parent=base, spaceAfter=0),
    }


def _recortar(texto: str, fuente: str, tamano: float, ancho: float) -> str:
    """``texto`` cut with "…" to fit ``ancho`` points (header and footer lines are one line)."""
    if pdfmetrics.stringWidth(texto, fuente, tamano) <= ancho:
        return texto
    while texto and pdfmetrics.stringWidth(texto + "…", fuente, tamano) > ancho:
        texto = texto[:-1]
    return texto + "…"


class DocumentoPDF:
    """One printed document: add its parts in order, then ``pdf()``.

    ``titulo``: what it is ("Ficha clínica", "Receta"), printed first and in every page's header;
    ``generado_para``: who asked for it (a name and role), printed at every page's foot with the
    date; ``clinica``: the issuer (default: the settings'); ``subtitulo``: a line under the title
    (e.g. the dentist's name and registration for a prescription)."""

    def __init__(self, *, titulo: str, generado_para: str, clinica: DatosClinica | None = None,
                 subtitulo: str = "", generado_en: datetime.datetime | None = None):
        self.titulo = texto_plano_seguro(titulo)[0]
        self.generado_para = texto_plano_seguro(generado_para)[0]
        self.clinica = clinica or DatosClinica.de_la_configuracion()
        self.generado_en = timezone.localtime(generado_en or timezone.now())
        self.estilos = _estilos()
        self.reemplazados = 0
        self.partes = [Paragraph(escape(self.titulo), self.estilos["titulo"])]
        if subtitulo:
            self.parrafo(subtitulo, estilo="nota")

    def _seguro(self, valor) -> str:
        marcado, reemplazados = texto_seguro(valor)
        self.reemplazados += reemplazados
        return marcado

    def agregar(self, flowable):
        """A reportlab flowable of the caller's own (a drawing, an image)."""
        self.partes.append(flowable)

    def seccion(self, texto: str):
        self.partes.append(Paragraph(self._seguro(texto), self.estilos["seccion"]))

    def parrafo(self, texto, *, estilo: str = "normal", negrita: str = ""):
        """Free text as one paragraph (line breaks kept; long words split to fit); ``negrita``:
        a bold lead-in ("Alergias:")."""
        marcado = self._seguro(texto)
        if negrita:
            marcado = f"<b>{self._seguro(negrita)}</b> {marcado}"
        self.partes.append(Paragraph(marcado, self.estilos[estilo]))

    def bloque(self, titulo: str, lineas: list[tuple[str, str]], *, sangria: bool = False):
        """A subheading and "etiqueta: valor" lines kept on one page when they fit (a note and
        its data); a long text still splits across pages."""
        prefijo = "sangria_" if sangria else ""
        partes = [Paragraph(self._seguro(titulo), self.estilos[f"{prefijo}subtitulo"])]
        for etiqueta, valor in lineas:
            marcado = self._seguro(valor)
            if etiqueta:
                marcado = f"<b>{self._seguro(etiqueta)}:</b> {marcado}"
            partes.append(Paragraph(marcado, self.estilos["sangria" if sangria else "normal"]))
        # KeepTogether moves the block to the next page when it fits there; a block taller than
        # a page is split as usual.
        self.partes.append(KeepTogether(partes))

    def datos(self, filas: list[tuple[str, str]]):
        """Short label–value pairs as a two-column table (identification data). Values must be
        short (a cell cannot split across pages): use ``bloque`` or ``parrafo`` for free text."""
        tabla = Table(
            [[Paragraph(self._seguro(etiqueta), self.estilos["etiqueta"]),
              Paragraph(self._seguro(valor) or "—", self.estilos["valor"])] for etiqueta, valor in filas],
            colWidths=(45 * mm, LETTER[0] - 2 * MARGEN_LATERAL - 45 * mm), hAlign="LEFT",
        )
        tabla.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ]))
        self.partes.append(tabla)

    def espacio(self, alto_mm: float = 3):
        self.partes.append(Spacer(1, alto_mm * mm))

    def _encabezado(self, lienzo, _doc):
        ancho, alto = LETTER
        util = ancho - 2 * MARGEN_LATERAL
        lienzo.saveState()
        y = alto - 14 * mm
        lienzo.setFont(FUENTE_NEGRITA, 11)
        titulo_ancho = pdfmetrics.stringWidth(self.titulo, FUENTE, 9)
        lienzo.drawString(MARGEN_LATERAL, y, _recortar(texto_plano_seguro(self.clinica.nombre)[0], FUENTE_NEGRITA,
                                                       11, util - titulo_ancho - 10 * mm))
        lienzo.setFont(FUENTE, 9)
        lienzo.setFillColor(GRIS)
        lienzo.drawRightString(ancho - MARGEN_LATERAL, y, self.titulo)
        contacto = " · ".join(t for t in (self.clinica.direccion, self.clinica.telefono) if t)
        lienzo.setFont(FUENTE, 8.5)
        lienzo.drawString(MARGEN_LATERAL, y - 11, _recortar(texto_plano_seguro(contacto)[0], FUENTE, 8.5, util))
        lienzo.setStrokeColor(colors.HexColor("#0b4f6c"))
        lienzo.setLineWidth(0.8)
        lienzo.line(MARGEN_LATERAL, y - 17, ancho - MARGEN_LATERAL, y - 17)
        lienzo.restoreState()

    def _pie(self, lienzo, pagina: int, total: int):
        ancho, _ = LETTER
        lienzo.saveState()
        lienzo.setFont(FUENTE, 8)
        lienzo.setFillColor(GRIS)
        y = 12 * mm
        lienzo.setStrokeColor(colors.HexColor("#cccccc"))
        lienzo.setLineWidth(0.5)
        lienzo.line(MARGEN_LATERAL, y + 10, ancho - MARGEN_LATERAL, y + 10)
        numero = f"Página {pagina} de {total}"
        lienzo.drawRightString(ancho - MARGEN_LATERAL, y, numero)
        generado = f"Generado el {self.generado_en:%d-%m-%Y %H:%M} para {self.generado_para}"
        util = ancho - 2 * MARGEN_LATERAL - pdfmetrics.stringWidth(numero, FUENTE, 8) - 8 * mm
        lienzo.drawString(MARGEN_LATERAL, y, _recortar(generado, FUENTE, 8, util))
        lienzo.restoreState()

    def pdf(self) -> bytes:
        """The document as PDF bytes (with the replacement notice at the end when any)."""
        partes = list(self.partes)
        if self.reemplazados:
            partes += [Spacer(1, 4 * mm), Paragraph(escape(AVISO_REEMPLAZOS), self.estilos["nota"])]
        salida = io.BytesIO()
        documento = BaseDocTemplate(
            salida, pagesize=LETTER, leftMargin=MARGEN_LATERAL, rightMargin=MARGEN_LATERAL,
            topMargin=MARGEN_SUPERIOR, bottomMargin=MARGEN_INFERIOR, title=self.titulo,
            author=texto_plano_seguro(self.clinica.nombre)[0], creator=texto_plano_seguro(self.clinica.nombre)[0],
        )
        # No inner padding: text, tables, header and footer share one left and right edge.
        marco = Frame(documento.leftMargin, documento.bottomMargin, documento.width, documento.height,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        documento.addPageTemplates([PageTemplate(id="pagina", frames=[marco], onPage=self._encabezado)])
        pie = self._pie

        class LienzoNumerado(Canvas):
            """Keeps every page until the end, to print "Página N de M" with the real M."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._paginas = []

            def showPage(self):
                self._paginas.append(dict(self.__dict__))
                self._startPage()

            def save(self):
                total = len(self._paginas)
                for numero, estado in enumerate(self._paginas, start=1):
                    self.__dict__.update(estado)
                    pie(self, numero, total)
                    super().showPage()
                super().save()

        documento.build(partes, canvasmaker=LienzoNumerado)
        return salida.getvalue()


def respuesta_pdf(contenido: bytes, nombre: str, *, en_linea: bool = False) -> HttpResponse:
    """A printed document as the browser's download (``en_linea``: opened in the browser's own
    viewer, to print at once, as a consent handed to the patient). Never stored by a cache on
    the way or on the computer: these documents carry health data."""
    respuesta = HttpResponse(contenido, content_type="application/pdf")
    respuesta["Content-Disposition"] = f'{"inline" if en_linea else "attachment"}; filename="{nombre}"'
    respuesta["Cache-Control"] = "no-store"
    return respuesta
