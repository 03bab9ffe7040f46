"""Retention of the clinical record (Decreto 41 of 2012 art. 11, Ley 20.584 art. 13): a record is
kept at least ``CLINICA_FICHA_ANOS_CONSERVACION`` (≥ 15) years after its last entry, also when the
patient is erased, and purged only after that. See ``docs/retencion.md``.

What makes a record (``tiene_ficha``): any clinical content the clinic wrote about the patient —
medical history with something in it, any progress note (a draft too: it is the dentist's
clinical writing until discarded), any change of the odontogram (issue 16), any prescription, any
attached document (radiographs, consents: issue 15 made them part of the record), any informed
consent issued (issue 16; its acceptance, revocation or annulment dates count as entries), or any
attended appointment. An attended visit is a health care act:
Decreto 41 art. 6 asks the record to hold every attention, so the visit keeps the record alive
even when nobody wrote a note (and the care team, ``ficha.acceso``, is drawn from those visits).
Booked, cancelled or missed appointments are not care and do not make a record.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from citas.estados import EstadoCita
from citas.services import liberar_citas_del_cliente
from ficha.models import Antecedentes, Consentimiento, Evolucion, MarcaOdontograma, Receta, RecetaMedicamento, Resguardo
from notificaciones.models import Notificacion
from nucleo.registro import registrar_evento
from nucleo.servicios import exigir_transaccion, operacion
from pacientes.documentos import borrar_archivos_tras_commit
from pacientes.models import Cliente, ClienteDocumento

logger = logging.getLogger(__name__)

# The columns of the medical history that hold content (the version and dates do not).
CAMPOS_ANTECEDENTES = ["enfermedades", "medicamentos", "alergias", "embarazo", "tabaquismo",
                       "anticoagulantes_detalle", "cirugias", "observaciones"]

# One statement: whether there is a record and the date of its latest entry, in the clinic's
# time zone. NULL when there is nothing clinical.
_ULTIMA_ENTRADA_SQL = f"""
    SELECT GREATEST(
        (SELECT (a.actualizado AT TIME ZONE %(tz)s)::date FROM ficha_antecedentes a
          WHERE a.cliente_id = %(id)s
            AND ({" OR ".join(f"a.{c} <> ''" for c in CAMPOS_ANTECEDENTES)} OR a.anticoagulantes)),
        (SELECT max(GREATEST(e.atendido_el, (e.actualizado AT TIME ZONE %(tz)s)::date))
           FROM ficha_evolucion e WHERE e.cliente_id = %(id)s),
        (SELECT max((d.creado AT TIME ZONE %(tz)s)::date) FROM pacientes_clientedocumento d
          WHERE d.cliente_id = %(id)s),
        (SELECT max((r.emitida_en AT TIME ZONE %(tz)s)::date) FROM ficha_receta r
          WHERE r.cliente_id = %(id)s),
        (SELECT max((c.inicio AT TIME ZONE %(tz)s)::date) FROM citas_cita c
          WHERE c.cliente_id = %(id)s AND c.estado = %(atendida)s),
        (SELECT max((m.registrado_en AT TIME ZONE %(tz)s)::date) FROM ficha_marcaodontograma m
          WHERE m.cliente_id = %(id)s),
        (SELECT max((GREATEST(k.emitido_en, k.aceptado_en, k.revocado_en, k.anulado_en) AT TIME ZONE %(tz)s)::date)
           FROM ficha_consentimiento k WHERE k.cliente_id = %(id)s)
    )
"""


def anos_de_conservacion() -> int:
    """The legal minimum is 15 years (Decreto 41 art. 11); a setting may only lengthen it."""
    return max(15, int(getattr(settings, "CLINICA_FICHA_ANOS_CONSERVACION", 15)))


def ultima_entrada(cliente_id) -> datetime.date | None:
    """The date of the latest entry of the patient's record (history changed with content, a
    note written or attended, a document attached, an attended visit), or None without a record."""
    with connection.cursor() as cursor:
        cursor.execute(_ULTIMA_ENTRADA_SQL, {"id": cliente_id, "tz": settings.TIME_ZONE,
                                             "atendida": EstadoCita.ATENDIDA})
        return cursor.fetchone()[0]


def tiene_ficha(cliente_id) -> bool:
    """Whether the patient has a clinical record that the law makes the clinic keep."""
    return ultima_entrada(cliente_id) is not None


def sumar_anos(fecha: datetime.date, anos: int) -> datetime.date:
    """``fecha`` plus ``anos`` years; 29 February becomes 28 February in a common year."""
    try:
        return fecha.replace(year=fecha.year + anos)
    except ValueError:
        return fecha.replace(year=fecha.year + anos, day=28)


def plazo_de_conservacion(cliente_id) -> tuple[datetime.date, datetime.date] | None:
    """(last entry, keep until) of the patient's record, or None without a record."""
    ultima = ultima_entrada(cliente_id)
    if ultima is None:
        return None
    return ultima, sumar_anos(ultima, anos_de_conservacion())


def poner_en_resguardo(*, cliente, solicitado_por) -> Resguardo:
    """Put the patient's record under legal hold until its last entry plus the legal years, inside
    the caller's transaction (the erasure, ``cuentas.eliminacion``). ``solicitado_por``:
    "paciente" or "clinica". Raises ValidationError ``sin_ficha`` when there is nothing to keep."""
    exigir_transaccion()
    plazo = plazo_de_conservacion(cliente.pk)
    if plazo is None:
        raise ValidationError("Este paciente no tiene ficha clínica que conservar.", code="sin_ficha")
    ultima, hasta = plazo
    return Resguardo.objects.create(cliente_id=cliente.pk, ultima_entrada=ultima, conservar_hasta=hasta,
                                    solicitado_por=solicitado_por)


@dataclass(frozen=True)
class FichaVencida:
    """A held record whose period ended: what the purge lists before deleting it."""

    cliente_id: int
    nombre: str
    documento: str
    ultima_entrada: datetime.date
    conservar_hasta: datetime.date
    evoluciones: int
    documentos: int


def fichas_vencidas(hoy: datetime.date, *, limite: int | None = None) -> tuple[int, list[FichaVencida]]:
    """(how many, the first ``limite`` of them, oldest period first): the held records whose
    ``conservar_hasta`` is before ``hoy``. Two queries."""
    vencidos = Resguardo.objects.filter(conservar_hasta__lt=hoy)
    total = vencidos.count()
    filas = (vencidos.select_related("cliente").order_by("conservar_hasta", "cliente_id")
             .annotate(n_evoluciones=Count("cliente__evoluciones", distinct=True),
                       n_documentos=Count("cliente__documentos", distinct=True)))
    if limite:
        filas = filas[:limite]
    return total, [
        FichaVencida(cliente_id=r.cliente_id, nombre=r.cliente.nombre_completo,
                     documento=r.cliente.documento_visible, ultima_entrada=r.ultima_entrada,
                     conservar_hasta=r.conservar_hasta, evoluciones=r.n_evoluciones, documentos=r.n_documentos)
        for r in filas
    ]


@dataclass(frozen=True)
class ResultadoPurga:
    """What ``purgar_ficha`` did: ``purgada`` False when a later entry extended the hold
    (``conservar_hasta`` is then the new date)."""

    cliente_id: int
    purgada: bool
    conservar_hasta: datetime.date
    evoluciones: int = 0
    documentos: int = 0


# The audit trail outlives the record (its events are never deleted): once the record is purged,
# what only the record justified keeping goes from its events too (docs/retencion.md). Who did
# what and when (pgh_context, pgh_label, dates, ids) stays, and so does the name, as in the past
# appointments' snapshots (DESIGN.md invariant 4).
def _limpiar_auditoria_de_la_purga(cliente_id: int) -> None:
    exigir_transaccion()
    ClienteEvento = Cliente.pgh_event_models["insert"]
    ClienteEvento.objects.filter(pgh_obj_id=cliente_id).update(
        email="", telefono="", rut="", numero_documento="", fecha_nacimiento=None, alergias="",
    )
    AntecedentesEvento = Antecedentes.pgh_event_models["insert"]
    AntecedentesEvento.objects.filter(cliente_id=cliente_id).update(
        **{campo: "" for campo in CAMPOS_ANTECEDENTES}, anticoagulantes=False
    )
    Evolucion.pgh_event_models["insert"].objects.filter(cliente_id=cliente_id).update(
        procedimiento="", texto="", dientes=[]
    )
    ClienteDocumento.pgh_event_models["insert"].objects.filter(cliente_id=cliente_id).update(
        titulo="", nombre_original=""
    )
    Consentimiento.pgh_event_models["insert"].objects.filter(cliente_id=cliente_id).update(
        texto="", firmante_nombre="", firmante_rut="", firma_trazos=None, revocacion_motivo="", anulacion_motivo=""
    )
    _limpiar_auditoria_de_recetas(cliente_id)


def _limpiar_auditoria_de_recetas(cliente_id: int) -> None:
    """The purged prescriptions' events keep folio, dates and who; not what was prescribed."""
    eventos = Receta.pgh_event_models["insert"].objects.filter(cliente_id=cliente_id)
    RecetaMedicamento.pgh_event_models["insert"].objects.filter(
        receta_id__in=eventos.values("pgh_obj_id")).update(
        medicamento="", presentacion="", dosis="", frecuencia="", duracion_dias=None, indicaciones="")
    eventos.update(indicaciones="", motivo_anulacion="")


def _borrar_evoluciones(cliente_id: int) -> int:
    """The patient's notes, addenda before the notes they correct (``corrige`` is PROTECT):
    each round deletes the notes nobody left points to."""
    borradas = 0
    while True:
        hojas = Evolucion.objects.filter(cliente_id=cliente_id).exclude(
            Exists(Evolucion.objects.filter(corrige_id=OuterRef("pk")))
        )
        n = hojas.delete()[0]
        if not n:
            return borradas
        borradas += n


def purgar_ficha(*, actor, cliente_id) -> ResultadoPurga:
    """Delete, in one transaction, the record of a patient whose legal hold expired: progress
    notes (addenda first; the database accepts deleting signed ones only now), medical history,
    documents (their files after commit), the hold, and the patient's row. Past appointments stay
    as history under their snapshot name (``liberar_citas_del_cliente``). Prescriptions (and
    their lines) go first: the database accepts it only now, as for signed notes. Under a row lock the
    expiry is checked again, and so is the last entry: a record written to after it was held
    gets its period extended instead (``purgada`` False).

    The read log (``LecturaFicha``) stays: it has no foreign-key constraint on purpose and is the
    proof of who read the record (Decreto 41 art. 9), which must outlive the record itself.

    Raises ValidationError ``sin_resguardo`` (not held) or ``resguardo_vigente`` (period not over).
    """
    hoy = timezone.localdate()
    with operacion("purgar_ficha", actor=actor):
        cliente = Cliente.objects.select_for_update().filter(pk=cliente_id).first()
        resguardo = Resguardo.objects.select_for_update().filter(cliente_id=cliente_id).first()
        if cliente is None or resguardo is None:
            raise ValidationError("Ese paciente no tiene una ficha en resguardo legal.", code="sin_resguardo")
        if resguardo.conservar_hasta >= hoy:
            raise ValidationError(
                f"La ficha debe conservarse hasta el {resguardo.conservar_hasta:%d-%m-%Y}: aún no se puede purgar.",
                code="resguardo_vigente",
            )
        plazo = plazo_de_conservacion(cliente_id)
        if plazo is not None and plazo[1] > resguardo.conservar_hasta and plazo[1] >= hoy:
            resguardo.ultima_entrada, resguardo.conservar_hasta = plazo
            resguardo.save(update_fields=["ultima_entrada", "conservar_hasta"])
            resultado = ResultadoPurga(cliente_id=cliente_id, purgada=False, conservar_hasta=plazo[1])
        else:
            # Prescriptions first: they may name a note (PROTECT); their lines go with them.
            Receta.objects.filter(cliente_id=cliente_id).delete()
            # The odontogram's marks first (the trigger accepts it now: hold expired, marks older
            # than the law's years), so the notes' deletion has no link to clear.
            MarcaOdontograma.objects.filter(cliente_id=cliente_id).delete()
            evoluciones = _borrar_evoluciones(cliente_id)
            Antecedentes.objects.filter(cliente_id=cliente_id).delete()
            Consentimiento.objects.filter(cliente_id=cliente_id).delete()  # before their scans
            documentos = ClienteDocumento.objects.filter(cliente_id=cliente_id)
            archivos = list(documentos.values_list("archivo", flat=True))
            n_documentos = documentos.delete()[0] if archivos else 0
            borrar_archivos_tras_commit(archivos)
            liberar_citas_del_cliente(cliente=cliente, ahora=timezone.now())
            Notificacion.objects.filter(cliente_id=cliente_id).delete()
            resguardo.delete()
            cliente.delete()
            _limpiar_auditoria_de_la_purga(cliente_id)  # last: the deletions' own events too
            resultado = ResultadoPurga(cliente_id=cliente_id, purgada=True, conservar_hasta=resguardo.conservar_hasta,
                                       evoluciones=evoluciones, documentos=n_documentos)
    registrar_evento(logger, "ficha_purgada" if resultado.purgada else "resguardo_extendido",
                     cliente_id=cliente_id, evoluciones=resultado.evoluciones, documentos=resultado.documentos,
                     actor_id=getattr(actor, "pk", None))
    return resultado
