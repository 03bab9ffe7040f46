"""A prescription as the patient takes it to the pharmacy (``nucleo.pdf``): the clinic on top,
the dentist's professional data as they were when it was issued (name, "Cirujano dentista",
RUT, Superintendencia de Salud registry number, specialty), the patient (name, RUT, age),
date and folio, the "Rp." lines, the general indications and the signature line. An annulled
prescription says "ANULADA" in red before anything else, with when and why.

Like ``ficha.exportacion``, it neither checks who asks nor logs the read: its views do both."""

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle

from ficha.models import Receta
from ficha.recetas import texto_de_linea
from ficha.selectors import edad_de
from nucleo.pdf import FUENTE, FUENTE_NEGRITA, DocumentoPDF, texto_seguro
from pacientes.formato import rut_legible

PROFESION = "Cirujano dentista"
ROJO = colors.HexColor("#b00020")


def folio_legible(folio: int) -> str:
    return f"N° {folio:06d}"


def documento_del_paciente(cliente) -> str:
    if cliente.tipo_documento == "rut" or cliente.rut:
        return rut_legible(cliente.rut) or "Sin RUT"
    return cliente.documento_visible or "Sin documento"


def _aviso_anulada(receta: Receta):
    cuando = timezone.localtime(receta.anulada_en).strftime("%d-%m-%Y %H:%M")
    estilo = ParagraphStyle("anulada", fontName=FUENTE_NEGRITA, fontSize=22, leading=26, textColor=ROJO)
    detalle = ParagraphStyle("anulada_detalle", fontName=FUENTE, fontSize=9.5, leading=13, textColor=ROJO)
    motivo, _ = texto_seguro(receta.motivo_anulacion.rstrip(". "))
    tabla = Table([[Paragraph("RECETA ANULADA", estilo)],
                   [Paragraph(f"Anulada el {cuando}. Motivo: {motivo}. No es válida para dispensar.", detalle)]],
                  hAlign="LEFT")
    tabla.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 2, ROJO), ("LEFTPADDING", (0, 0), (-1, -1), 8),
                               ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return tabla


def _firma(receta: Receta):
    estilo = ParagraphStyle("firma", fontName=FUENTE, fontSize=9.5, leading=13, alignment=1)
    nombre, _ = texto_seguro(receta.dentista_nombre)
    tabla = Table([[""], [Paragraph(f"{nombre}<br/>{PROFESION} · RUT {rut_legible(receta.dentista_rut)}", estilo)]],
                  colWidths=(80 * mm,), rowHeights=[22 * mm, None], hAlign="RIGHT")
    tabla.setStyle(TableStyle([("LINEBELOW", (0, 0), (0, 0), 0.8, colors.black)]))
    return tabla


def receta_en_pdf(receta: Receta, *, generado_para: str) -> bytes:
    """``receta`` (with ``cliente`` and its ``medicamentos`` loaded: ``receta_del_paciente``)
    as a one-page PDF."""
    cliente = receta.cliente
    emitida = timezone.localtime(receta.emitida_en)
    titulo = "Receta ANULADA" if receta.anulada else "Receta"
    doc = DocumentoPDF(titulo=titulo, generado_para=generado_para,
                       subtitulo=f"Folio {folio_legible(receta.folio)} · emitida el {emitida:%d-%m-%Y %H:%M}")
    if receta.anulada:
        doc.agregar(_aviso_anulada(receta))
        doc.espacio(2)
    doc.seccion("Profesional")
    doc.datos([("Nombre", receta.dentista_nombre), ("Profesión", PROFESION),
               ("RUT", rut_legible(receta.dentista_rut)),
               ("Registro", f"N° {receta.dentista_registro} · Superintendencia de Salud"),
               ("Especialidad", receta.dentista_especialidad or "—")])
    doc.seccion("Paciente")
    edad = edad_de(cliente.fecha_nacimiento, emitida.date())
    doc.datos([("Nombre", cliente.nombre_completo), ("RUT", documento_del_paciente(cliente)),
               ("Edad", f"{edad} año{'s' if edad != 1 else ''}" if edad is not None else "Sin registrar"),
               ("Fecha", f"{emitida:%d-%m-%Y}"), ("Folio", folio_legible(receta.folio))])
    doc.seccion("Rp.")
    for linea in receta.medicamentos.all():
        nombre = linea.medicamento + (f" — {linea.presentacion}" if linea.presentacion else "")
        texto = texto_de_linea(linea)
        doc.bloque(f"{linea.orden}. {nombre}", [("", texto)] if texto else [], sangria=True)
    if receta.indicaciones:
        doc.seccion("Indicaciones")
        doc.parrafo(receta.indicaciones)
    doc.espacio(6)
    doc.agregar(_firma(receta))
    return doc.pdf()
