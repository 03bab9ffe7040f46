"""An informed consent on paper (``nucleo.pdf``): to print and sign before it is accepted (blank
signature lines), or as it was accepted (the signer, when, before whom, the drawn signature as
reportlab lines, or a note that the signed paper is attached as a scan). The clinic's data in
every page's header; the dentist's in the subtitle.

It checks no access and writes no read log: the view that calls it does both."""

from django.utils import timezone
from reportlab.graphics.shapes import Drawing, PolyLine, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle

from ficha.consentimientos import ALTO_FIRMA, ANCHO_FIRMA
from ficha.models import Consentimiento, EstadoConsentimiento, FormaAceptacion
from nucleo.pdf import MARGEN_LATERAL, DocumentoPDF

ANCHO_FIRMA_MM = 80


def dibujo_de_firma(trazos, *, ancho_mm: float = ANCHO_FIRMA_MM) -> Drawing:
    """The signature's strokes as a reportlab drawing ``ancho_mm`` wide (the 1000 × 400 box of
    ``ficha.consentimientos`` scaled; y grows downwards on screen, upwards in PDF)."""
    escala = ancho_mm * mm / ANCHO_FIRMA
    dibujo = Drawing(ANCHO_FIRMA * escala, ALTO_FIRMA * escala)
    dibujo.add(Rect(0, 0, ANCHO_FIRMA * escala, ALTO_FIRMA * escala, fillColor=None,
                    strokeColor=colors.HexColor("#cccccc"), strokeWidth=0.5))
    for trazo in trazos or []:
        puntos = []
        for x, y in trazo:
            puntos += [x * escala, (ALTO_FIRMA - y) * escala]
        if len(trazo) == 1:  # a dot
            puntos += [puntos[0] + 0.6, puntos[1]]
        dibujo.add(PolyLine(puntos, strokeColor=colors.HexColor("#1a237e"), strokeWidth=1.3,
                            strokeLineCap=1, strokeLineJoin=1))
    return dibujo


def _lineas_en_blanco(doc, etiquetas) -> Table:
    """Labelled lines tall enough to write on by hand."""
    tabla = Table([[Paragraph(f"<b>{e}:</b>", doc.estilos["normal"]), ""] for e in etiquetas],
                  colWidths=(55 * mm, LETTER[0] - 2 * MARGEN_LATERAL - 55 * mm), rowHeights=10 * mm, hAlign="LEFT")
    tabla.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black)]))
    return tabla


def _lineas_de_firma(doc, textos) -> Table:
    """Two signature lines side by side, a gap between them, each with its caption underneath."""
    hueco = 15 * mm
    ancho = (LETTER[0] - 2 * MARGEN_LATERAL - hueco) / 2
    tabla = Table([[Paragraph(textos[0], doc.estilos["nota"]), "", Paragraph(textos[1], doc.estilos["nota"])]],
                  colWidths=[ancho, hueco, ancho], hAlign="LEFT")
    tabla.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("LINEABOVE", (0, 0), (0, 0), 0.6, colors.black),
                               ("LINEABOVE", (2, 0), (2, 0), 0.6, colors.black)]))
    return tabla


def _fecha_hora(valor) -> str:
    return f"{timezone.localtime(valor):%d-%m-%Y %H:%M}" if valor else "—"


def consentimiento_en_pdf(consentimiento: Consentimiento, *, cliente, generado_para: str) -> bytes:
    """The consent as a PDF (see the module). ``cliente``: the patient (name, document)."""
    dentista = consentimiento.dentista
    subtitulo = f"Dentista tratante: {dentista.nombre}" + (f", {dentista.especialidad}" if dentista.especialidad else "")
    doc = DocumentoPDF(titulo=f"Consentimiento informado: {consentimiento.titulo}", generado_para=generado_para,
                       subtitulo=subtitulo)
    doc.datos([
        ("Paciente", cliente.nombre_completo),
        ("Documento", cliente.documento_visible or "Sin documento"),
        ("Procedimiento", consentimiento.procedimiento),
        ("Emitido el", _fecha_hora(consentimiento.emitido_en)),
        ("Estado", consentimiento.get_estado_display()),
    ])
    doc.seccion("Información del procedimiento")
    doc.parrafo(consentimiento.texto)
    doc.espacio(2)
    doc.parrafo("Declaro que se me explicó el procedimiento, sus riesgos y alternativas, que pude hacer preguntas "
                "y que se me respondieron, y que acepto que se realice. Sé que puedo revocar este consentimiento "
                "en cualquier momento antes del procedimiento.")

    if consentimiento.estado == EstadoConsentimiento.ANULADO:
        doc.seccion("Consentimiento anulado")
        doc.parrafo(f"Anulado el {_fecha_hora(consentimiento.anulado_en)}. Motivo: {consentimiento.anulacion_motivo}")
        return doc.pdf()

    doc.seccion("Aceptación")
    if consentimiento.aceptado_en is None:
        doc.parrafo("Complete a mano. Si firma un representante legal, indique su relación con el paciente "
                    "(padre o madre, tutor o curador, apoderado).", estilo="nota")
        doc.agregar(_lineas_en_blanco(doc, ["Nombre de quien firma", "RUT", "Relación con el paciente",
                                            "Fecha y hora"]))
        doc.espacio(16)
        doc.agregar(_lineas_de_firma(doc, ["Firma del paciente o de su representante legal",
                                           f"Firma del dentista: {dentista.nombre}"]))
        return doc.pdf()

    doc.datos([
        ("Firmado por", consentimiento.firmante_nombre),
        ("Documento", consentimiento.firmante_documento),
        ("Relación con el paciente", consentimiento.get_firmante_relacion_display()),
        ("Aceptado el", _fecha_hora(consentimiento.aceptado_en)),
        ("Aceptado ante", consentimiento.aceptado_ante_nombre),
        ("Forma", consentimiento.get_forma_display()),
    ])
    if consentimiento.forma == FormaAceptacion.FIRMA:
        doc.espacio(2)
        doc.agregar(dibujo_de_firma(consentimiento.firma_trazos))
        doc.parrafo(f"Firma de {consentimiento.firmante_nombre}, dibujada en pantalla.", estilo="nota")
    else:
        doc.parrafo("El documento firmado en papel está adjunto a la ficha del paciente como escaneo"
                    + (f" («{consentimiento.documento.titulo}»)." if consentimiento.documento_id else "."),
                    estilo="nota")
    doc.parrafo(f"Aceptado ante {consentimiento.aceptado_ante_nombre} el {_fecha_hora(consentimiento.aceptado_en)}.")
    if consentimiento.estado == EstadoConsentimiento.REVOCADO:
        doc.seccion("Revocación")
        doc.parrafo(f"El paciente revocó este consentimiento. Registrado el {_fecha_hora(consentimiento.revocado_en)}."
                    f" Motivo: {consentimiento.revocacion_motivo}")
    return doc.pdf()
