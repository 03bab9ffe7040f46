"""Qué biblioteca de PDF usa la clínica: fpdf2 frente a reportlab, medidas en esta máquina.

Un script, no una prueba. Para cada candidata, en un proceso nuevo de un intérprete que la
tenga instalada (``--python nombre=ruta``; por omisión, este mismo), mide:

- el tamaño instalado (la suma de los archivos de la distribución y de sus dependencias, como
  los lista su RECORD: lo que ``du`` daría sobre sus carpetas de site-packages);
- el tiempo de ``import`` en un proceso frío (mediana de 5);
- el tiempo de armar una ficha de 200 evoluciones con texto en castellano (á, ñ, ¿, «», —) y una
  tabla de antecedentes (mediana de 3), y el tamaño del PDF;
- y, con ``pypdfium2`` de este intérprete, que el texto extraído del PDF conserve los caracteres
  del castellano y que ninguna línea se salga del margen (el ajuste de líneas funciona).

Cada una se mide dos veces: con las fuentes base del PDF (Helvetica, Latin-1/cp1252, nada que
incrustar) y con DejaVu Sans incrustada (la que trae el proyecto en ``nucleo/fuentes``).

WeasyPrint no es candidata: ``pip install weasyprint`` funciona, pero al importar abre con
``cffi`` las bibliotecas del sistema Pango y HarfBuzz (paquetes ``libpango-1.0-0`` y
``libharfbuzz0b`` de Debian), que pip no instala; en una máquina nueva sin ellas falla con
``OSError: cannot load library 'libgobject-2.0-0'``. El script lo comprueba si se le da su
intérprete (``--python weasyprint=...``): informa qué bibliotecas del sistema carga.

    python -m venv /tmp/v-fpdf2 && /tmp/v-fpdf2/bin/pip install fpdf2==2.8.9
    python -m venv /tmp/v-rl && /tmp/v-rl/bin/pip install reportlab==5.1.0
    .venv/bin/python benchmarks/pdf_bibliotecas.py --python fpdf2=/tmp/v-fpdf2/bin/python \\
        --python reportlab=/tmp/v-rl/bin/python [--python weasyprint=/tmp/v-wp/bin/python]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
FUENTES = RAIZ / "nucleo" / "fuentes"
NOTAS = 200
PRUEBA = "¿Año? Ñandú, pingüino, acción «comillas» — raya"
PARRAFO = (
    "Paciente refiere sensibilidad al frío en el sector posterior derecho desde hace dos semanas. "
    "¿Dolor espontáneo? No. Se realiza limpieza, pulido y aplicación de barniz de flúor; se indica "
    "cepillado con pasta desensibilizante. Control en seis meses. Ñandú: {n}. " + PRUEBA + ". "
)
DISTRIBUCIONES = {"fpdf2": "fpdf2", "fpdf2-dejavu": "fpdf2", "reportlab": "reportlab",
                  "reportlab-dejavu": "reportlab", "weasyprint": "weasyprint"}
MODULOS = {"fpdf2": "fpdf", "fpdf2-dejavu": "fpdf", "reportlab": "reportlab.platypus",
           "reportlab-dejavu": "reportlab.platypus", "weasyprint": "weasyprint"}


def _notas():
    return [(f"{(i % 28) + 1:02d}-{(i % 12) + 1:02d}-2025", "Profilaxis y flúor", "16, 17, 46",
             PARRAFO.format(n=i) * (1 + i % 3)) for i in range(NOTAS)]


ANTECEDENTES = [("Enfermedades", "Hipertensión arterial controlada"), ("Medicamentos", "Losartán 50 mg"),
                ("Alergias", "Penicilina (urticaria)"), ("Anticoagulantes", "No"), ("Tabaquismo", "Ex fumador(a)")]


def _fpdf2(dejavu: bool) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="Letter")
    if dejavu:
        pdf.add_font("DejaVu", "", str(FUENTES / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FUENTES / "DejaVuSans-Bold.ttf"))
        familia = "DejaVu"
    else:
        pdf.core_fonts_encoding = "cp1252"  # latin-1 has no «—»
        familia = "Helvetica"
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font(familia, "B", 14)
    pdf.cell(0, 8, "Ficha clínica — " + PRUEBA, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(familia, "", 10)
    with pdf.table(col_widths=(40, 120)) as tabla:
        for fila in ANTECEDENTES:
            tabla.row(fila)
    for fecha, proc, dientes, texto in _notas():
        pdf.set_font(familia, "B", 10)
        pdf.multi_cell(0, 5, f"{fecha} · {proc} · dientes {dientes}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(familia, "", 10)
        pdf.multi_cell(0, 5, texto, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())


def _reportlab(dejavu: bool) -> bytes:
    from io import BytesIO
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    estilos = getSampleStyleSheet()
    if dejavu:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont("DejaVu", str(FUENTES / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FUENTES / "DejaVuSans-Bold.ttf")))
        for estilo in (e for e in estilos.byName.values() if hasattr(e, "fontName")):
            estilo.fontName = "DejaVu-Bold" if "Bold" in estilo.fontName else "DejaVu"
    salida = BytesIO()
    partes = [Paragraph(escape("Ficha clínica — " + PRUEBA), estilos["Heading2"]),
              Table([list(f) for f in ANTECEDENTES], colWidths=(110, 340))]
    for fecha, proc, dientes, texto in _notas():
        partes.append(Paragraph(escape(f"{fecha} · {proc} · dientes {dientes}"), estilos["Heading5"]))
        partes.append(Paragraph(escape(texto), estilos["BodyText"]))
        partes.append(Spacer(1, 4))
    SimpleDocTemplate(salida, pagesize=letter).build(partes)
    return salida.getvalue()


def _tamano_instalado(distribucion: str) -> int:
    """Bytes of ``distribucion`` and its whole dependency tree, from their RECORD files."""
    from importlib import metadata
    try:
        from packaging.requirements import Requirement
    except ImportError:  # a bare venv: pip vendors it
        from pip._vendor.packaging.requirements import Requirement

    vistas, pendientes, total = set(), [distribucion], 0
    while pendientes:
        nombre = pendientes.pop().lower().replace("_", "-")
        if nombre in vistas:
            continue
        vistas.add(nombre)
        try:
            dist = metadata.distribution(nombre)
        except metadata.PackageNotFoundError:
            continue
        for archivo in dist.files or []:
            ruta = Path(dist.locate_file(archivo))
            if ruta.is_file():
                total += ruta.stat().st_size
        for requisito in dist.requires or []:
            req = Requirement(requisito)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                pendientes.append(req.name)
    return total


def _medir(nombre: str, salida_pdf: str) -> dict:
    """Runs inside the candidate's interpreter; prints JSON."""
    resultado = {"biblioteca": nombre}
    if nombre == "weasyprint":
        import weasyprint  # noqa: F401

        mapas = Path("/proc/self/maps").read_text()
        resultado["bibliotecas_del_sistema"] = sorted({
            Path(linea.split()[-1]).name for linea in mapas.splitlines()
            if any(n in linea for n in ("libpango", "libharfbuzz", "libgobject", "libfontconfig"))
        })
        return resultado
    from importlib import metadata

    resultado["version"] = metadata.version(DISTRIBUCIONES[nombre])
    resultado["instalado_bytes"] = _tamano_instalado(DISTRIBUCIONES[nombre])
    dejavu = nombre.endswith("-dejavu")
    armar = (lambda: _fpdf2(dejavu)) if nombre.startswith("fpdf2") else (lambda: _reportlab(dejavu))
    tiempos = []
    for _ in range(3):
        inicio = time.perf_counter()
        pdf = armar()
        tiempos.append(time.perf_counter() - inicio)
    resultado["render_s"] = statistics.median(tiempos)
    resultado["pdf_bytes"] = len(pdf)
    Path(salida_pdf).write_bytes(pdf)
    return resultado


def _tiempo_import(python: str, modulo: str) -> float:
    tiempos = []
    for _ in range(5):
        codigo = f"import time; t = time.perf_counter(); import {modulo}; print(time.perf_counter() - t)"
        tiempos.append(float(subprocess.run([python, "-c", codigo], capture_output=True, text=True,
                                            check=True).stdout))
    return statistics.median(tiempos)


def _revisar_pdf(ruta: str) -> dict:
    """Text and geometry checks with pypdfium2 (this interpreter's)."""
    import pypdfium2 as pdfium

    documento = pdfium.PdfDocument(ruta)
    texto, fuera = [], 0
    for pagina in documento:
        ancho = pagina.get_width()
        pagina_texto = pagina.get_textpage()
        texto.append(pagina_texto.get_text_bounded())
        for i in range(pagina_texto.count_chars()):
            izquierda, _, derecha, _ = pagina_texto.get_charbox(i)
            if derecha > ancho - 28 or izquierda < 28:  # 28 pt ≈ 1 cm from the edge
                fuera += 1
    todo = "".join(texto)
    # pdfium may extract a line-break hyphenation or spacing differently: compare without whitespace
    compacto = "".join(todo.split())
    return {"paginas": len(documento), "castellano_intacto": "".join(PRUEBA.split()) in compacto,
            "caracteres_fuera_del_margen": fuera}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", action="append", default=[], metavar="NOMBRE=RUTA")
    parser.add_argument("--medir", help=argparse.SUPPRESS)
    parser.add_argument("--salida", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.medir:
        print(json.dumps(_medir(args.medir, args.salida)))
        return
    interpretes = dict(par.split("=", 1) for par in args.python) or {"fpdf2": sys.executable,
                                                                     "reportlab": sys.executable}
    for nombre in ("fpdf2", "reportlab"):
        if nombre in interpretes:
            interpretes.setdefault(f"{nombre}-dejavu", interpretes[nombre])
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} núcleos; ficha de {NOTAS} evoluciones\n")
    with tempfile.TemporaryDirectory() as carpeta:
        for nombre in sorted(interpretes, key=list(DISTRIBUCIONES).index):
            python = interpretes[nombre]
            salida = os.path.join(carpeta, f"{nombre}.pdf")
            proceso = subprocess.run([python, __file__, "--medir", nombre, "--salida", salida],
                                     capture_output=True, text=True)
            if proceso.returncode != 0:
                print(f"{nombre}: falló\n{proceso.stderr.strip().splitlines()[-1]}\n")
                continue
            r = json.loads(proceso.stdout)
            if nombre == "weasyprint":
                print(f"weasyprint: carga del sistema {', '.join(r['bibliotecas_del_sistema'])} "
                      "(no vienen con pip: descartada)\n")
                continue
            r["import_s"] = _tiempo_import(python, MODULOS[nombre])
            r.update(_revisar_pdf(salida))
            print(f"{nombre} {r['version']}: instalado {r['instalado_bytes'] / 1e6:.1f} MB, "
                  f"import {r['import_s'] * 1000:.0f} ms, ficha {r['render_s'] * 1000:.0f} ms, "
                  f"PDF {r['pdf_bytes'] / 1e3:.0f} kB en {r['paginas']} páginas, "
                  f"castellano intacto: {'sí' if r['castellano_intacto'] else 'NO'}, "
                  f"caracteres fuera del margen: {r['caracteres_fuera_del_margen']}\n")


if __name__ == "__main__":
    main()
