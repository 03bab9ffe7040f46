"""Reading the clinic's PDFs in tests: their text and their pages as PNG (pypdfium2, the same
engine as Chromium's viewer), so a test checks what a reader would see and a person can look."""

from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium


@dataclass
class PdfLeido:
    paginas: int
    textos: list[str]  # one per page
    tamanos: list[tuple[float, float]]  # each page's width and height in points

    @property
    def texto(self) -> str:
        return "\n".join(self.textos)

    @property
    def compacto(self) -> str:
        """The text without whitespace: line wrapping may cut a phrase anywhere."""
        return "".join(self.texto.split())

    def contiene(self, frase: str) -> bool:
        return "".join(frase.split()) in self.compacto


def leer_pdf(contenido: bytes) -> PdfLeido:
    """Opens ``contenido`` (fails on a broken PDF) and extracts each page's text."""
    documento = pdfium.PdfDocument(contenido)
    try:
        textos, tamanos = [], []
        for pagina in documento:
            textos.append(pagina.get_textpage().get_text_bounded())
            tamanos.append((pagina.get_width(), pagina.get_height()))
        return PdfLeido(paginas=len(documento), textos=textos, tamanos=tamanos)
    finally:
        documento.close()


def caracteres_fuera(contenido: bytes, *, margen_pt: float = 28) -> int:
    """How many characters are drawn closer than ``margen_pt`` to a page's edge (1 cm by
    default): text that overflows the margins or runs into the paper's edge."""
    documento = pdfium.PdfDocument(contenido)
    fuera = 0
    try:
        for pagina in documento:
            ancho, alto = pagina.get_width(), pagina.get_height()
            textos = pagina.get_textpage()
            for i in range(textos.count_chars()):
                izquierda, abajo, derecha, arriba = textos.get_charbox(i)
                if izquierda < margen_pt or derecha > ancho - margen_pt or abajo < margen_pt or arriba > alto - margen_pt:
                    fuera += 1
    finally:
        documento.close()
    return fuera


def pdf_a_png(contenido: bytes, carpeta: str | Path, nombre: str, *, paginas: int = 2, escala: float = 1.5) -> list[Path]:
    """Renders the first ``paginas`` pages (and the last one) to ``carpeta/nombre-N.png``, to
    look at them; returns the paths."""
    carpeta = Path(carpeta)
    carpeta.mkdir(parents=True, exist_ok=True)
    documento = pdfium.PdfDocument(contenido)
    rutas = []
    try:
        total = len(documento)
        for indice in sorted({*range(min(paginas, total)), total - 1}):
            ruta = carpeta / f"{nombre}-{indice + 1}.png"
            documento[indice].render(scale=escala).to_pil().save(ruta)
            rutas.append(ruta)
    finally:
        documento.close()
    return rutas
