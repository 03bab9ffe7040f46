"""A receipt (comprobante) as a one-page PDF (``nucleo.pdf``): the clinic on top, "Comprobante
N° …", when, the patient (name, RUT), the amount, method and reference, where it went ("Presupuesto
N° 12: $30.000; Saldo a favor: $5.000"), who registered it; for a refund, an annulment or a use of
credit, its reason (and the receipt an annulment reverses); "ANULADO" in red on a payment that was
annulled, with when, why and the annulment's number. It says that it is not a boleta: the SII's
electronic boleta is issued later by its own record (``pagos.models`` docstring, docs/pagos.md).

Like ``ficha.recetas_pdf``, it neither checks who asks nor logs: its views do."""

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, Table, TableStyle

from nucleo.formato import pesos
from nucleo.pdf import FUENTE, FUENTE_NEGRITA, DocumentoPDF, texto_seguro
from pacientes.models import rut_legible
from pagos.models import TipoPago
from personal.models import nombre_de_personal

ROJO = colors.HexColor("#b00020")
NO_ES_BOLETA = ("Este comprobante no es una boleta: acredita el movimiento registrado en la caja de la "
                "clínica. La boleta electrónica (SII) se emite aparte.")


def numero_legible(numero: int) -> str:
    return f"N° {numero:06d}"


def destino_de(pago) -> str:
    """Where the entry went, in words: "Presupuesto N° 12: $30.000; Saldo a favor: $5.000"."""
    partes = []
    for aplicacion in pago.aplicaciones.all():
        if aplicacion.presupuesto_id is None:
            partes.append(f"Saldo a favor: {pesos(aplicacion.monto)}")
        else:
            partes.append(f"Presupuesto {aplicacion.presupuesto.folio}: {pesos(aplicacion.monto)}")
    return "; ".join(partes) or "—"


def _documento(cliente) -> str:
    if cliente.rut:
        return rut_legible(cliente.rut)
    return getattr(cliente, "documento_visible", "") or "Sin RUT"


def _persona(user) -> str:
    return nombre_de_personal(user.first_name, user.last_name, user.get_username())


def _aviso_anulado(anulacion):
    cuando = timezone.localtime(anulacion.registrado_en).strftime("%d-%m-%Y %H:%M")
    estilo = ParagraphStyle("anulado", fontName=FUENTE_NEGRITA, fontSize=22, leading=26, textColor=ROJO)
    detalle = ParagraphStyle("anulado_detalle", fontName=FUENTE, fontSize=9.5, leading=13, textColor=ROJO)
    motivo, _ = texto_seguro(anulacion.motivo.rstrip(". "))
    tabla = Table([[Paragraph("ANULADO", estilo)],
                   [Paragraph(f"Anulado el {cuando} con el comprobante {numero_legible(anulacion.numero)}. "
                              f"Motivo: {motivo}.", detalle)]], hAlign="LEFT")
    tabla.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 2, ROJO), ("LEFTPADDING", (0, 0), (-1, -1), 8),
                               ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return tabla


def comprobante_en_pdf(pago, *, anulacion=None, generado_para: str) -> bytes:
    """``pago`` (``selectors_caja.pago_del_paciente``: patient, registrar, applications with
    their quotes, what it annuls) as PDF; ``anulacion``: the entry that annulled it, if any."""
    cuando = timezone.localtime(pago.registrado_en)
    titulos = {TipoPago.PAGO: "Comprobante de pago", TipoPago.DEVOLUCION: "Comprobante de devolución",
               TipoPago.ANULACION: "Comprobante de anulación", TipoPago.TRASPASO: "Comprobante de uso de saldo a favor"}
    doc = DocumentoPDF(titulo=titulos.get(pago.tipo, "Comprobante"), generado_para=generado_para,
                       subtitulo=f"Comprobante {numero_legible(pago.numero)} · {cuando:%d-%m-%Y %H:%M}")
    if anulacion is not None:
        doc.agregar(_aviso_anulado(anulacion))
        doc.espacio(2)
    doc.seccion("Paciente")
    doc.datos([("Nombre", pago.cliente.nombre_completo), ("RUT", _documento(pago.cliente))])
    doc.seccion("Movimiento")
    filas = [("Comprobante", numero_legible(pago.numero)), ("Tipo", pago.get_tipo_display()),
             ("Fecha y hora", f"{cuando:%d-%m-%Y %H:%M}"),
             ("Monto", pesos(pago.monto) if pago.tipo != TipoPago.TRASPASO else
              pesos(sum(a.monto for a in pago.aplicaciones.all() if a.presupuesto_id))),
             ("Medio de pago", pago.get_medio_display())]
    if pago.referencia:
        filas.append(("Referencia", pago.referencia))
    if pago.anula_id:
        filas.append(("Anula", f"Comprobante {numero_legible(pago.anula.numero)}"))
    filas.append(("Registrado por", _persona(pago.registrado_por)))
    doc.datos(filas)
    doc.seccion("Aplicado a")
    doc.parrafo(destino_de(pago))
    if pago.motivo:
        doc.seccion("Motivo")
        doc.parrafo(pago.motivo)
    doc.espacio(8)
    doc.parrafo(NO_ES_BOLETA, estilo="nota")
    return doc.pdf()
