"""A copy of a patient's clinical record: as data (the JSON of the portal's and the staff's data
export) and as a readable PDF (the patient's right to a copy, Ley 20.584 art. 14; access and
portability, Ley 21.719).

Neither function checks who asks nor writes the read log: the views that call them do both
(``ficha.acceso`` decides, ``ficha.lecturas.registrar_lectura`` logs), like any other read of a
record. What the copy holds: identification, the medical history with every version (who and
when), the signed progress notes in order with their addenda, the record's documents (their
data; the files are downloaded apart). Drafts are not part of the record until signed, so they
are not in the copy. Nothing of another patient; of the staff, only the names of the people who
wrote in the record.
"""

import datetime

from django.conf import settings
from django.utils import timezone
from reportlab.lib.pagesizes import LETTER

from ficha.antecedentes import autores_de_versiones
from ficha.consentimientos_pdf import dibujo_de_firma
from ficha.models import Antecedentes, Condicion, Consentimiento, EstadoDental, Evolucion, MarcaOdontograma
from ficha.odontograma import describir, nombre_cara
from ficha.odontograma_dibujo import a_reportlab, a_svg, geometria
from ficha.recetas import recetas_del_paciente, texto_de_linea
from nucleo.pdf import MARGEN_LATERAL, DocumentoPDF
from pacientes.models import Cliente, ClienteDocumento

# The medical history's columns in the copy, with the labels the PDF prints.
CAMPOS_ANTECEDENTES = (
    ("enfermedades", "Enfermedades y condiciones"),
    ("medicamentos", "Medicamentos actuales"),
    ("alergias", "Alergias"),
    ("embarazo", "Embarazo"),
    ("tabaquismo", "Tabaquismo"),
    ("anticoagulantes", "Toma anticoagulantes"),
    ("anticoagulantes_detalle", "Anticoagulante"),
    ("cirugias", "Cirugías relevantes"),
    ("observaciones", "Otras observaciones"),
)
CON_OPCIONES = {"embarazo", "tabaquismo"}


def _fecha(valor):
    """ISO 8601; instants in Santiago's time with their offset (as ``cuentas.selectors``)."""
    if valor is None:
        return None
    if isinstance(valor, datetime.datetime):
        return timezone.localtime(valor).isoformat()
    return valor.isoformat()


def _campos(fila) -> dict:
    datos = {}
    for campo, _ in CAMPOS_ANTECEDENTES:
        datos[campo] = getattr(fila, campo)
        if campo in CON_OPCIONES:
            opciones = Antecedentes._meta.get_field(campo).choices
            datos[f"{campo}_texto"] = dict(opciones).get(datos[campo], datos[campo])
    return datos


def _antecedentes(cliente_id) -> dict | None:
    fila = Antecedentes.objects.filter(cliente_id=cliente_id).first()
    if fila is None:
        return None
    eventos = list(fila.events.select_related("pgh_context").order_by("pgh_created_at", "pgh_id"))
    # Who saved each version: the audit trail's user, as the staff's history page says (not the
    # row's actualizado_por, which an allergy written by reception on the patient's data leaves
    # to the dentist who last saved the form).
    autores = autores_de_versiones(eventos)
    return {
        **_campos(fila),
        "version": fila.version,
        "actualizado_en": _fecha(fila.actualizado),
        "actualizado_por": autores[-1] if autores else None,
        # Every version as it was saved (pghistory's events): who and when, and the values.
        "historial": [
            {"version": evento.version, "registrado_en": _fecha(evento.pgh_created_at),
             "por": quien, **_campos(evento)}
            for evento, quien in zip(eventos, autores, strict=True)
        ],
    }


def _nota(nota: Evolucion, por_id: dict) -> dict:
    datos = {
        "atendido_el": _fecha(nota.atendido_el),
        "procedimiento": nota.procedimiento,
        "dientes": list(nota.dientes),
        "texto": nota.texto,
        "dentista": nota.dentista.nombre,
        "firmada_en": _fecha(nota.firmada_en),
        "cita_inicio": _fecha(nota.cita.inicio) if nota.cita_id else None,
    }
    if nota.corrige_id is not None:
        corregida = por_id.get(nota.corrige_id)
        datos["adenda_de"] = {"atendido_el": _fecha(corregida.atendido_el) if corregida else None,
                              "firmada_en": _fecha(corregida.firmada_en) if corregida else None}
    return datos


def _evoluciones(cliente_id) -> list[dict]:
    """Signed notes, oldest first; each with its addenda (an addendum to an addendum goes with
    the note at the root of its chain), in the order they were signed."""
    notas = list(
        Evolucion.objects.filter(cliente_id=cliente_id, firmada_en__isnull=False)
        .select_related("dentista__user", "cita")
        .order_by("atendido_el", "firmada_en", "pk")
    )
    por_id = {nota.pk: nota for nota in notas}

    def raiz(nota):
        vistos = set()
        while nota.corrige_id in por_id and nota.pk not in vistos:
            vistos.add(nota.pk)
            nota = por_id[nota.corrige_id]
        return nota

    adendas: dict[int, list[Evolucion]] = {}
    for nota in notas:
        if nota.corrige_id is not None:
            adendas.setdefault(raiz(nota).pk, []).append(nota)
    return [
        {**_nota(nota, por_id),
         "adendas": [_nota(a, por_id) for a in sorted(adendas.get(nota.pk, []), key=lambda a: (a.firmada_en, a.pk))]}
        for nota in notas if nota.corrige_id is None or nota.corrige_id not in por_id
    ]


def ficha_como_datos(cliente_id, *, cliente: Cliente | None = None) -> dict:
    """The clinical record of patient ``cliente_id`` as JSON-ready data (dates in ISO 8601):
    ``paciente`` (identification), ``antecedentes`` (current values, version, who and when, and
    ``historial`` with every version; None when never recorded), ``evoluciones`` (signed notes
    with author, teeth, appointment start and ``adendas``), ``documentos`` (their data, not the
    files), ``recetas`` (``recetas_como_datos``), ``odontograma`` (``odontograma_como_datos``),
    ``consentimientos`` (``consentimientos_como_datos``) and ``conservacion`` (how long the clinic
    keeps it). Nine queries whatever the record's size (one less without a medical history, one
    less without prescriptions, one less when the caller passes the ``cliente`` it already loaded). Raises
    ``Cliente.DoesNotExist`` for an unknown id."""
    if cliente is None or cliente.pk != cliente_id:
        cliente = Cliente.objects.get(pk=cliente_id)
    antecedentes = _antecedentes(cliente.pk)
    evoluciones = _evoluciones(cliente.pk)
    documentos = [
        {"titulo": d.titulo, "nombre": d.nombre_descarga, "tipo": d.tipo_contenido, "tamano_bytes": d.tamano,
         "adjuntado_en": _fecha(d.creado)}
        for d in ClienteDocumento.objects.filter(cliente_id=cliente.pk).order_by("creado", "pk")
    ]
    return {
        "paciente": {
            "nombre_completo": cliente.nombre_completo,
            "documento": cliente.documento_visible,
            "fecha_nacimiento": _fecha(cliente.fecha_nacimiento),
        },
        "antecedentes": antecedentes,
        "evoluciones": evoluciones,
        "documentos": documentos,
        "recetas": recetas_como_datos(cliente.pk),
        "odontograma": odontograma_como_datos(cliente.pk),  # issue 16
        "consentimientos": consentimientos_como_datos(cliente.pk),
        "conservacion": {
            "anos_minimos": settings.CLINICA_FICHA_ANOS_CONSERVACION,
            "norma": "Decreto 41 de 2012 del Ministerio de Salud, art. 11",
            "explicacion": (
                f"La clínica conserva esta ficha al menos {settings.CLINICA_FICHA_ANOS_CONSERVACION} años "
                "desde su última entrada, también si usted elimina su cuenta del portal."
            ),
        },
    }


def _dd(valor: str | None, *, hora: bool = False) -> str:
    """An ISO date of the data as Chileans read it (``dd-mm-aaaa``, with ``hh:mm`` if asked)."""
    if not valor:
        return "—"
    if "T" in valor:
        leido = timezone.localtime(datetime.datetime.fromisoformat(valor))
        return leido.strftime("%d-%m-%Y %H:%M" if hora else "%d-%m-%Y")
    return datetime.date.fromisoformat(valor).strftime("%d-%m-%Y")


def _valor_antecedente(datos: dict, campo: str) -> str:
    if campo == "anticoagulantes":
        return "Sí" if datos[campo] else "No"
    if campo in CON_OPCIONES:
        return datos[f"{campo}_texto"]
    return datos[campo] or "Sin registrar"


def _lineas_nota(nota: dict) -> list[tuple[str, str]]:
    lineas = [("Dentista", nota["dentista"])]
    if nota["cita_inicio"]:
        lineas.append(("Cita", _dd(nota["cita_inicio"], hora=True)))
    if nota["procedimiento"]:
        lineas.append(("Qué se hizo", nota["procedimiento"]))
    if nota["dientes"]:
        lineas.append(("Dientes (FDI)", ", ".join(str(d) for d in nota["dientes"])))
    if nota["texto"]:
        lineas.append(("Evolución", nota["texto"]))
    lineas.append(("Firmada el", _dd(nota["firmada_en"], hora=True)))
    return lineas


def ficha_en_pdf(cliente_id, *, generado_para: str) -> bytes:
    """The clinical record of patient ``cliente_id`` as a readable PDF (``nucleo.pdf``): the
    clinic's data, the patient's identification, the medical history and its versions, the
    signed notes in order with their addenda ("Adenda del … a la evolución del …"), the
    documents' list and how long the record is kept; each page with "Página N de M" and, at the
    foot, when and for whom it was generated (``generado_para``: a name and role). Built from
    ``ficha_como_datos``, so the PDF and the JSON say the same. Raises ``Cliente.DoesNotExist``."""
    datos = ficha_como_datos(cliente_id)
    paciente = datos["paciente"]
    doc = DocumentoPDF(titulo="Ficha clínica", generado_para=generado_para)

    doc.seccion("Paciente")
    doc.datos([("Nombre", paciente["nombre_completo"]), ("Documento", paciente["documento"] or "Sin documento"),
               ("Fecha de nacimiento", _dd(paciente["fecha_nacimiento"]))])

    doc.seccion("Antecedentes médicos")
    antecedentes = datos["antecedentes"]
    if antecedentes is None:
        doc.parrafo("No hay antecedentes médicos registrados.")
    else:
        por = f" por {antecedentes['actualizado_por']}" if antecedentes["actualizado_por"] else ""
        doc.parrafo(f"Versión {antecedentes['version']}, actualizada el "
                    f"{_dd(antecedentes['actualizado_en'], hora=True)}{por}.", estilo="nota")
        for campo, etiqueta in CAMPOS_ANTECEDENTES:
            if campo == "anticoagulantes_detalle" and not antecedentes["anticoagulantes"]:
                continue
            doc.parrafo(_valor_antecedente(antecedentes, campo), negrita=f"{etiqueta}:")
        if len(antecedentes["historial"]) > 1:
            doc.bloque("Historial de cambios", [
                ("", f"Versión {v['version']}: {_dd(v['registrado_en'], hora=True)}"
                     + (f", {v['por']}" if v["por"] else ""))
                for v in antecedentes["historial"]
            ])
            doc.parrafo("Los valores de cada versión están en la copia en JSON.", estilo="nota")

    evoluciones = datos["evoluciones"]
    doc.seccion(f"Evoluciones ({len(evoluciones)})")
    if not evoluciones:
        doc.parrafo("No hay evoluciones firmadas.")
    for nota in evoluciones:
        titulo = f"Evolución del {_dd(nota['atendido_el'])}"
        doc.bloque(titulo, _lineas_nota(nota))
        for adenda in nota["adendas"]:
            corregida = adenda["adenda_de"]["atendido_el"]
            doc.bloque(f"Adenda del {_dd(adenda['firmada_en'])} a la evolución del {_dd(corregida)}",
                       _lineas_nota(adenda), sangria=True)

    odontograma_en_pdf(doc, datos["odontograma"])  # issue 16

    doc.seccion("Documentos")
    if not datos["documentos"]:
        doc.parrafo("No hay documentos en la ficha.")
    for documento in datos["documentos"]:
        doc.parrafo(f"{documento['nombre']} ({documento['tipo']}), adjuntado el "
                    f"{_dd(documento['adjuntado_en'])}", negrita=f"{documento['titulo']}:")
    if datos["documentos"]:
        doc.parrafo("Los archivos se descargan aparte.", estilo="nota")

    recetas_en_pdf(doc, datos["recetas"])
    consentimientos_en_pdf(doc, datos["consentimientos"])

    doc.seccion("Conservación")
    doc.parrafo(f"{datos['conservacion']['explicacion']} ({datos['conservacion']['norma']}.)")
    return doc.pdf()


# Prescriptions (issue 16) ------------------------------------------------------------------


def recetas_como_datos(cliente_id) -> list[dict]:
    """The patient's prescriptions, oldest first, annulled ones included (with when and why):
    folio, date, the dentist's data as printed, the lines and the general indications. Two
    queries (one without prescriptions)."""
    return [
        {
            "folio": receta.folio,
            "emitida_en": _fecha(receta.emitida_en),
            "dentista": receta.dentista_nombre,
            "dentista_rut": receta.dentista_rut,
            "dentista_registro_superintendencia": receta.dentista_registro,
            "dentista_especialidad": receta.dentista_especialidad,
            "medicamentos": [
                {"orden": m.orden, "medicamento": m.medicamento, "presentacion": m.presentacion, "dosis": m.dosis,
                 "frecuencia": m.frecuencia, "duracion_dias": m.duracion_dias, "indicaciones": m.indicaciones}
                for m in receta.medicamentos.all()
            ],
            "indicaciones": receta.indicaciones,
            "anulada_en": _fecha(receta.anulada_en),
            "motivo_anulacion": receta.motivo_anulacion,
        }
        for receta in reversed(recetas_del_paciente(cliente_id))
    ]


def recetas_en_pdf(doc: DocumentoPDF, recetas: list[dict]) -> None:
    """The copy's "Recetas" section, from ``recetas_como_datos``."""
    doc.seccion(f"Recetas ({len(recetas)})")
    if not recetas:
        doc.parrafo("No hay recetas.")
    for receta in recetas:
        titulo = f"Receta N° {receta['folio']:06d} del {_dd(receta['emitida_en'])}"
        if receta["anulada_en"]:
            titulo += " (ANULADA)"
        lineas = [("Dentista", receta["dentista"])]
        for m in receta["medicamentos"]:
            nombre = m["medicamento"] + (f" — {m['presentacion']}" if m["presentacion"] else "")
            lineas.append((f"Rp. {m['orden']}", f"{nombre}. {texto_de_linea(_Linea(**m))}".strip()))
        if receta["indicaciones"]:
            lineas.append(("Indicaciones", receta["indicaciones"]))
        if receta["anulada_en"]:
            lineas.append(("Anulada el", f"{_dd(receta['anulada_en'], hora=True)}: {receta['motivo_anulacion']}"))
        doc.bloque(titulo, lineas)


class _Linea:
    """A line of the data as ``texto_de_linea`` reads it."""

    def __init__(self, **campos):
        self.__dict__.update(campos)


# --- The odontogram (issue 16) -------------------------------------------------------------------


def _quien(usuario) -> str:
    perfil = getattr(usuario, "perfil_personal", None)
    return perfil.nombre if perfil is not None else (usuario.get_full_name() or usuario.username)


def _marca(marca: MarcaOdontograma) -> dict:
    return {
        "diente": marca.diente,
        "superficie": marca.superficie,
        "superficie_texto": nombre_cara(marca.diente, marca.superficie) if marca.superficie else "diente completo",
        "estado": marca.estado,
        "estado_texto": EstadoDental(marca.estado).label,
        "condicion": marca.condicion,
        "condicion_texto": Condicion(marca.condicion).label,
        "descripcion": describir(marca),
        "nota": marca.nota,
        "registrado_en": _fecha(marca.registrado_en),
        "registrado_por": _quien(marca.registrado_por),
    }


def odontograma_como_datos(cliente_id) -> dict:
    """The patient's odontogram for the copy: ``vigente`` (the marks in force now), ``historial``
    (every change, oldest first: a removal is ``"accion": "quitada"``) and ``svg`` (the drawing
    as a standalone SVG, with its own styles). One query: the state is worked out from the
    history (the latest change of each tooth, surface and state, when in force), the same rule
    as ``ficha.odontograma.estado_en``."""
    cambios = list(MarcaOdontograma.objects.filter(cliente_id=cliente_id)
                   .select_related("registrado_por__perfil_personal").order_by("registrado_en", "id"))
    ultimos = {}
    for marca in cambios:
        ultimos[(marca.diente, marca.superficie, marca.estado)] = marca
    vigentes = sorted((m for m in ultimos.values() if m.vigente), key=lambda m: (m.diente, m.superficie, m.estado))
    return {
        "explicacion": ("Numeración FDI (permanentes 11 a 48, temporales 51 a 85). Rojo: hallazgo por tratar; "
                        "azul: trabajo realizado o existente. Cada cambio queda con quién y cuándo."),
        "vigente": [_marca(m) for m in vigentes],
        "historial": [{**_marca(m), "accion": "marcada" if m.vigente else "quitada"} for m in cambios],
        "svg": a_svg(geometria(vigentes), estilos_incrustados=True, titulo="Odontograma"),
    }


def odontograma_en_pdf(doc: DocumentoPDF, datos: dict) -> None:
    """The odontogram's part of the PDF copy: the drawing (with its legend) and a table of the
    marks in force (a sentence when there are none); the full history is in the JSON copy."""
    doc.seccion("Odontograma")
    vigentes = datos["vigente"]
    if not vigentes:  # an empty chart says nothing a sentence does not
        doc.parrafo("No hay marcas en el odontograma.")
    else:
        doc.agregar(a_reportlab(geometria(vigentes), ancho_pt=LETTER[0] - 2 * MARGEN_LATERAL))
        doc.espacio(4)
        doc.datos([(f"Diente {m['diente']}" + (f", cara {m['superficie_texto']}" if m["superficie"] else ""),
                    f"{m['estado_texto']} ({'hallazgo' if m['condicion'] == Condicion.HALLAZGO else 'realizado'}), "
                    f"{_dd(m['registrado_en'])}, {m['registrado_por']}" + (f". {m['nota']}" if m["nota"] else ""))
                   for m in vigentes])
    doc.parrafo(f"Cambios registrados: {len(datos['historial'])}. El historial completo está en la copia en JSON.",
                estilo="nota")


# Informed consents (issue 16) -------------------------------------------------------------------


def consentimientos_como_datos(cliente_id) -> list[dict]:
    """The patient's informed consents, oldest first: the text as issued, the state and its
    dates, who signed and how (a drawn signature's strokes included), the revocation or the
    annulment with its reason. One query."""
    filas = (Consentimiento.objects.filter(cliente_id=cliente_id)
             .select_related("dentista__user", "documento").order_by("emitido_en", "pk"))
    return [
        {
            "titulo": c.titulo,
            "procedimiento": c.procedimiento,
            "texto": c.texto,
            "dentista": c.dentista.nombre,
            "estado": c.estado,
            "estado_texto": c.get_estado_display(),
            "emitido_en": _fecha(c.emitido_en),
            "aceptado_en": _fecha(c.aceptado_en),
            "aceptado_ante": c.aceptado_ante_nombre or None,
            "forma": c.forma or None,
            "forma_texto": c.get_forma_display() if c.forma else None,
            "firmante": ({"nombre": c.firmante_nombre, "rut": c.firmante_rut, "documento": c.firmante_documento,
                          "relacion": c.firmante_relacion, "relacion_texto": c.get_firmante_relacion_display()}
                         if c.aceptado_en else None),
            "firma_trazos": c.firma_trazos,
            "documento_firmado": c.documento.titulo if c.documento_id else None,
            "revocado_en": _fecha(c.revocado_en),
            "revocacion_motivo": c.revocacion_motivo or None,
            "anulado_en": _fecha(c.anulado_en),
            "anulacion_motivo": c.anulacion_motivo or None,
        }
        for c in filas
    ]


def consentimientos_en_pdf(doc: DocumentoPDF, consentimientos: list[dict]) -> None:
    """The consents' section of the record's PDF copy, from ``consentimientos_como_datos``."""
    doc.seccion(f"Consentimientos informados ({len(consentimientos)})")
    if not consentimientos:
        doc.parrafo("No hay consentimientos informados.")
    for c in consentimientos:
        lineas = [("Procedimiento", c["procedimiento"]), ("Dentista", c["dentista"]), ("Estado", c["estado_texto"]),
                  ("Emitido el", _dd(c["emitido_en"], hora=True))]
        if c["aceptado_en"]:
            firmante = c["firmante"]
            lineas += [("Aceptado el", _dd(c["aceptado_en"], hora=True)), ("Aceptado ante", c["aceptado_ante"]),
                       ("Firmado por", f"{firmante['nombre']} ({firmante['documento']}, {firmante['relacion_texto']})"),
                       ("Forma", c["forma_texto"])]
        if c["revocado_en"]:
            lineas += [("Revocado el", _dd(c["revocado_en"], hora=True)), ("Motivo", c["revocacion_motivo"])]
        if c["anulado_en"]:
            lineas += [("Anulado el", _dd(c["anulado_en"], hora=True)), ("Motivo", c["anulacion_motivo"])]
        lineas.append(("Texto", c["texto"]))
        doc.bloque(c["titulo"], lineas)
        if c["firma_trazos"]:
            doc.agregar(dibujo_de_firma(c["firma_trazos"], ancho_mm=50))
