"""A quote as the patient takes it home (``nucleo.pdf``): the clinic on top, "Presupuesto N° 123"
(and its version), the dates (issued, valid until), the patient (name, RUT) and the plan's
dentist, the lines by phase (tooth, price, discount, total), the totals, its state when it is
no longer open ("ACEPTADO el … en el portal", "RECHAZADO", "REEMPLAZADO POR N° 123-2") and a note
on what its validity means. Prices are the quote's own lines: the document reads the same
forever, whatever the plan says today.

It neither checks who asks: its views do."""

import re
from itertools import groupby

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle

from nucleo.formato import pesos
from nucleo.pdf import FUENTE, FUENTE_NEGRITA, MARGEN_LATERAL, DocumentoPDF, texto_seguro
from pacientes.formato import rut_legible
from tratamientos.models import EstadoPresupuesto, Presupuesto, ViaRespuesta

AZUL = colors.HexColor("#0b4f6c")
ROJO = colors.HexColor("#b00020")
VERDE = colors.HexColor("#1b6e3a")
GRIS_CLARO = colors.HexColor("#cccccc")
ANCHO_UTIL = LETTER[0] - 2 * MARGEN_LATERAL
NOTA_VALIDEZ = ("Los precios de este presupuesto se mantienen hasta la fecha de validez indicada. Al aceptarlo, "
                "los tratamientos quedan pendientes de realizar con estos precios. Después de esa fecha, o si el "
                "plan de tratamiento cambia, la clínica emite una versión nueva.")


def documento_del_paciente(cliente) -> str:
    if cliente.rut:
        return rut_legible(cliente.rut)
    return getattr(cliente, "documento_visible", "") or "Sin RUT registrado"


def texto_del_estado(presupuesto: Presupuesto) -> str:
    """The state as printed (also shown on the pages): empty while the quote is open."""
    if presupuesto.estado == EstadoPresupuesto.ACEPTADO:
        cuando = timezone.localtime(presupuesto.respondido_en)
        donde = "en el portal" if presupuesto.via == ViaRespuesta.PORTAL else "en recepción"
        return f"ACEPTADO el {cuando:%d-%m-%Y} a las {cuando:%H:%M} {donde}"
    if presupuesto.estado == EstadoPresupuesto.RECHAZADO:
        cuando = timezone.localtime(presupuesto.respondido_en)
        donde = "en el portal" if presupuesto.via == ViaRespuesta.PORTAL else "en recepción"
        return f"RECHAZADO el {cuando:%d-%m-%Y} {donde}"
    if presupuesto.estado == EstadoPresupuesto.REEMPLAZADO:
        reemplazo = getattr(presupuesto, "reemplazo", None)
        return f"REEMPLAZADO POR {reemplazo.folio}" if reemplazo else "REEMPLAZADO POR UNA VERSIÓN NUEVA"
    return ""


def _aviso_estado(presupuesto: Presupuesto):
    texto = texto_del_estado(presupuesto)
    color = VERDE if presupuesto.estado == EstadoPresupuesto.ACEPTADO else ROJO
    estilo = ParagraphStyle("estado", fontName=FUENTE_NEGRITA, fontSize=14, leading=18, textColor=color)
    filas = [[Paragraph(texto, estilo)]]
    if presupuesto.estado == EstadoPresupuesto.RECHAZADO and presupuesto.motivo_rechazo:
        motivo, _ = texto_seguro(presupuesto.motivo_rechazo)
        filas.append([Paragraph(f"Motivo: {motivo}", ParagraphStyle("motivo", fontName=FUENTE, fontSize=9.5,
                                                                    leading=13, textColor=color))])
    tabla = Table(filas, colWidths=(ANCHO_UTIL,), hAlign="LEFT")
    tabla.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.5, color), ("LEFTPADDING", (0, 0), (-1, -1), 8),
                               ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
    return tabla


_PIEZA = re.compile(r"diente (\d+)(?: ([OMDVL]))?$")


def _pieza_junta(m) -> str:
    return "\u00a0".join(filter(None, ("diente", m[1], m[2])))


def _tabla_lineas(lineas, estilos):
    normal = ParagraphStyle("celda", parent=estilos["normal"], spaceAfter=0)
    derecha = ParagraphStyle("celda_derecha", parent=normal, alignment=2)
    cabecera = ParagraphStyle("cabecera", parent=normal, fontName=FUENTE_NEGRITA)
    cabecera_derecha = ParagraphStyle("cabecera_derecha", parent=cabecera, alignment=2)
    filas = [[Paragraph("Prestación", cabecera), Paragraph("Precio", cabecera_derecha),
              Paragraph("Descuento", cabecera_derecha), Paragraph("Total", cabecera_derecha)]]
    for linea in lineas:
        # "diente 37 O" stays on one line: a face letter alone on the next line reads as noise.
        descripcion, _ = texto_seguro(_PIEZA.sub(_pieza_junta, linea.descripcion))
        filas.append([Paragraph(descripcion, normal), Paragraph(pesos(linea.precio), derecha),
                      Paragraph(pesos(linea.descuento) if linea.descuento else "—", derecha),
                      Paragraph(pesos(linea.total), derecha)])
    ancho_monto = 26 * mm  # "$100.000.000", the ceiling, fits
    tabla = Table(filas, colWidths=(ANCHO_UTIL - 3 * ancho_monto, ancho_monto, ancho_monto, ancho_monto),
                  hAlign="LEFT", repeatRows=1)
    tabla.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, AZUL),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, GRIS_CLARO),
        ("LEFTPADDING", (0, 0), (0, -1), 0), ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return tabla


def _tabla_totales(presupuesto, estilos):
    normal = ParagraphStyle("total", parent=estilos["normal"], alignment=2, spaceAfter=0)
    negrita = ParagraphStyle("total_negrita", parent=normal, fontName=FUENTE_NEGRITA, fontSize=11, leading=14)
    filas = [[Paragraph("Subtotal", normal), Paragraph(pesos(presupuesto.subtotal), normal)],
             [Paragraph("Descuentos", normal), Paragraph(pesos(-presupuesto.descuento) if presupuesto.descuento
                                                         else "$0", normal)],
             [Paragraph("Total", negrita), Paragraph(pesos(presupuesto.total), negrita)]]
    tabla = Table(filas, colWidths=(40 * mm, 35 * mm), hAlign="RIGHT")
    tabla.setStyle(TableStyle([("LINEABOVE", (0, 2), (-1, 2), 0.8, AZUL), ("TOPPADDING", (0, 0), (-1, -1), 2),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return tabla


def presupuesto_en_pdf(presupuesto: Presupuesto, *, generado_para: str) -> bytes:
    """``presupuesto`` (loaded by ``presupuesto_del_paciente``: lines, patient, plan's dentist,
    the version that replaced it) as a PDF."""
    cliente = presupuesto.cliente
    emitido = timezone.localtime(presupuesto.emitido_en)
    version = f" · versión {presupuesto.version}" if presupuesto.version > 1 else ""
    doc = DocumentoPDF(titulo=f"Presupuesto {presupuesto.folio}", generado_para=generado_para,
                       subtitulo=f"Emitido el {emitido:%d-%m-%Y}{version} · válido hasta el "
                                 f"{presupuesto.valido_hasta:%d-%m-%Y}")
    if presupuesto.estado != EstadoPresupuesto.EMITIDO:
        doc.agregar(_aviso_estado(presupuesto))
        doc.espacio(2)
    doc.seccion("Paciente")
    doc.datos([("Nombre", cliente.nombre_completo), ("RUT", documento_del_paciente(cliente)),
               ("Dentista tratante", presupuesto.plan.dentista.nombre),
               ("Fecha", f"{emitido:%d-%m-%Y}"), ("Válido hasta", f"{presupuesto.valido_hasta:%d-%m-%Y}")])
    lineas = list(presupuesto.lineas.all())
    fases = [(fase, list(grupo)) for fase, grupo in groupby(lineas, key=lambda linea: linea.fase)]
    for fase, grupo in fases:
        doc.seccion(f"Fase {fase}" if len(fases) > 1 else "Tratamientos")
        doc.agregar(_tabla_lineas(grupo, doc.estilos))
    doc.espacio(3)
    doc.agregar(_tabla_totales(presupuesto, doc.estilos))
    if presupuesto.observaciones:
        doc.seccion("Observaciones")
        doc.parrafo(presupuesto.observaciones)
    doc.espacio(4)
    doc.parrafo(NOTA_VALIDEZ, estilo="nota")
    return doc.pdf()
