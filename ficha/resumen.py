"""The record's summary (resumen de la ficha) for a referral: a short PDF another professional
reads in a minute — who asks for it (the dentist's professional data), the patient, the clinical
alerts, the current medical history, the last signed progress notes and the prescriptions in
force — unlike the full copy (``ficha.exportacion``), which holds every version and note.

It is built as a sequence of section functions (``SECCIONES``), each ``(doc, datos) -> None``
over one ``DatosResumen`` loaded up front; a new part of the record (the odontogram's drawing,
the consents' list) is one more function in that tuple, loading what it prints for itself. Like the copy, it neither checks who
asks nor logs the read: its view does both."""

from dataclasses import dataclass, field

from django.utils import timezone
from reportlab.lib.pagesizes import LETTER

from ficha.exportacion import CAMPOS_ANTECEDENTES, CON_OPCIONES
from ficha.models import Antecedentes, Condicion, Consentimiento, EstadoConsentimiento, Evolucion, Receta
from ficha.odontograma import describir, estado_en
from ficha.odontograma_dibujo import a_reportlab, geometria
from ficha.recetas import recetas_vigentes, texto_de_linea
from ficha.recetas_pdf import PROFESION, documento_del_paciente, folio_legible
from ficha.selectors import alertas_clinicas, edad_de
from nucleo.pdf import MARGEN_LATERAL, DocumentoPDF
from pacientes.formato import rut_legible
from pacientes.models import Cliente
from personal.models import Perfil

ULTIMAS_EVOLUCIONES = 5


@dataclass
class DatosResumen:
    cliente: Cliente
    solicitante: Perfil
    antecedentes: Antecedentes | None
    alertas: list[str]
    evoluciones: list[Evolucion]
    recetas: list[Receta]
    extra: dict = field(default_factory=dict)  # what a later section loads for itself

    @property
    def edad(self):
        return edad_de(self.cliente.fecha_nacimiento)


def datos_del_resumen(cliente_id, *, solicitante: Perfil, ultimas: int = ULTIMAS_EVOLUCIONES) -> DatosResumen:
    """Everything the summary prints, in four queries. Raises ``Cliente.DoesNotExist``."""
    cliente = Cliente.objects.select_related("antecedentes").get(pk=cliente_id)
    try:
        antecedentes = cliente.antecedentes
    except Antecedentes.DoesNotExist:
        antecedentes = None
    evoluciones = list(
        Evolucion.objects.filter(cliente_id=cliente_id, firmada_en__isnull=False)
        .select_related("dentista__user").order_by("-atendido_el", "-firmada_en", "-pk")[:ultimas]
    )
    return DatosResumen(
        cliente=cliente, solicitante=solicitante, antecedentes=antecedentes,
        alertas=alertas_clinicas(antecedentes) if antecedentes else [],
        evoluciones=evoluciones, recetas=recetas_vigentes(cliente_id),
    )


def seccion_profesional(doc: DocumentoPDF, datos: DatosResumen) -> None:
    perfil = datos.solicitante
    doc.seccion("Profesional que lo emite")
    doc.datos([("Nombre", perfil.nombre), ("Profesión", PROFESION),
               ("RUT", rut_legible(perfil.rut) or "Sin registrar"),
               ("Registro", f"N° {perfil.registro_superintendencia} · Superintendencia de Salud"
                if perfil.registro_superintendencia else "Sin registrar"),
               ("Especialidad", perfil.especialidad or "—")])


def seccion_identificacion(doc: DocumentoPDF, datos: DatosResumen) -> None:
    cliente = datos.cliente
    doc.seccion("Paciente")
    edad = datos.edad
    doc.datos([("Nombre", cliente.nombre_completo), ("RUT", documento_del_paciente(cliente)),
               ("Fecha de nacimiento", f"{cliente.fecha_nacimiento:%d-%m-%Y}" if cliente.fecha_nacimiento else "—"),
               ("Edad", f"{edad} año{'s' if edad != 1 else ''}" if edad is not None else "Sin registrar")])


def seccion_alertas(doc: DocumentoPDF, datos: DatosResumen) -> None:
    doc.seccion("Alertas clínicas")
    if not datos.alertas:
        doc.parrafo("Sin alergias, anticoagulantes ni embarazo registrados.")
    for alerta in datos.alertas:
        doc.parrafo(f"⚠ {alerta}")


def seccion_antecedentes(doc: DocumentoPDF, datos: DatosResumen) -> None:
    doc.seccion("Antecedentes médicos actuales")
    fila = datos.antecedentes
    if fila is None:
        doc.parrafo("No hay antecedentes médicos registrados.")
        return
    for campo, etiqueta in CAMPOS_ANTECEDENTES:
        valor = getattr(fila, campo)
        if campo == "anticoagulantes_detalle" and not fila.anticoagulantes:
            continue
        if campo == "anticoagulantes":
            valor = "Sí" if valor else "No"
        elif campo in CON_OPCIONES:
            valor = getattr(fila, f"get_{campo}_display")() if valor else ""
        if valor:  # a summary: only what was recorded
            doc.parrafo(valor, negrita=f"{etiqueta}:")
    doc.parrafo(f"Versión {fila.version}, actualizada el {timezone.localtime(fila.actualizado):%d-%m-%Y}.", estilo="nota")


def seccion_evoluciones(doc: DocumentoPDF, datos: DatosResumen) -> None:
    doc.seccion(f"Últimas evoluciones firmadas ({len(datos.evoluciones)})")
    if not datos.evoluciones:
        doc.parrafo("No hay evoluciones firmadas.")
    for nota in datos.evoluciones:
        titulo = f"{'Adenda' if nota.corrige_id else 'Evolución'} del {nota.atendido_el:%d-%m-%Y}"
        lineas = [("Dentista", nota.dentista.nombre)]
        if nota.procedimiento:
            lineas.append(("Qué se hizo", nota.procedimiento))
        if nota.dientes:
            lineas.append(("Dientes (FDI)", ", ".join(str(d) for d in nota.dientes)))
        if nota.texto:
            lineas.append(("Evolución", nota.texto))
        doc.bloque(titulo, lineas)


def seccion_recetas(doc: DocumentoPDF, datos: DatosResumen) -> None:
    doc.seccion(f"Recetas vigentes ({len(datos.recetas)})")
    if not datos.recetas:
        doc.parrafo("No hay recetas vigentes (emitidas en los últimos 90 días y no anuladas).")
    for receta in datos.recetas:
        lineas = [("", f"{m.orden}. {m.medicamento}{f' — {m.presentacion}' if m.presentacion else ''}: "
                       f"{texto_de_linea(m)}".rstrip(": ")) for m in receta.medicamentos.all()]
        if receta.indicaciones:
            lineas.append(("Indicaciones", receta.indicaciones))
        doc.bloque(f"Folio {folio_legible(receta.folio)}, {timezone.localtime(receta.emitida_en):%d-%m-%Y}, {receta.dentista_nombre}",
                   lineas)


def seccion_odontograma(doc: DocumentoPDF, datos: DatosResumen) -> None:
    """The mouth as it is now: the drawing (with its legend) and the findings still to treat,
    which is what the receiving professional acts on. One query."""
    vigentes = estado_en(datos.cliente.pk)
    doc.seccion("Odontograma actual")
    if not vigentes:
        doc.parrafo("No hay marcas en el odontograma.")
        return
    doc.agregar(a_reportlab(geometria(vigentes), ancho_pt=LETTER[0] - 2 * MARGEN_LATERAL))
    pendientes = [describir(m) for m in vigentes if m.condicion == Condicion.HALLAZGO]
    if pendientes:
        doc.bloque(f"Hallazgos por tratar ({len(pendientes)})", [("", texto) for texto in pendientes])


def seccion_consentimientos(doc: DocumentoPDF, datos: DatosResumen) -> None:
    """The informed consents in force (accepted and not revoked): what the patient agreed to.
    One query."""
    aceptados = list(Consentimiento.objects.filter(cliente_id=datos.cliente.pk, estado=EstadoConsentimiento.ACEPTADO)
                     .order_by("-aceptado_en", "-pk").values_list("titulo", "procedimiento", "aceptado_en"))
    doc.seccion(f"Consentimientos informados vigentes ({len(aceptados)})")
    if not aceptados:
        doc.parrafo("No hay consentimientos aceptados vigentes.")
    for titulo, procedimiento, aceptado_en in aceptados:
        doc.parrafo(f"{titulo} ({procedimiento}), aceptado el {timezone.localtime(aceptado_en):%d-%m-%Y}.")


SECCIONES = (seccion_profesional, seccion_identificacion, seccion_alertas, seccion_antecedentes,
             seccion_odontograma, seccion_evoluciones, seccion_recetas, seccion_consentimientos)


def resumen_en_pdf(cliente_id, *, solicitante: Perfil, generado_para: str, secciones=SECCIONES,
                   ultimas: int = ULTIMAS_EVOLUCIONES) -> bytes:
    """The summary of patient ``cliente_id``'s record asked by ``solicitante`` (a dentist), as
    PDF: each of ``secciones`` in order. Raises ``Cliente.DoesNotExist``."""
    datos = datos_del_resumen(cliente_id, solicitante=solicitante, ultimas=ultimas)
    doc = DocumentoPDF(titulo="Resumen de la ficha clínica", generado_para=generado_para,
                       subtitulo="Para derivación o interconsulta. La ficha completa está en la clínica.")
    for seccion in secciones:
        seccion(doc, datos)
    return doc.pdf()
