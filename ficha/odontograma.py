"""The odontogram (issue 16): charting a patient's teeth, and their state at any instant.

The model (``ficha.models.MarcaOdontograma``): an append-only table of changes. A change names a
tooth (FDI), a surface (``""`` = whole tooth), a state, its condition (finding / done) and whether
the mark is in force. The state of the mouth at instant T is, for each (tooth, surface, state),
the latest change with ``registrado_en <= T``, kept when in force (``estado_en``: one query).

Decisions:
- Only a dentist who may write the record charts (``exigir_dentista_con_acceso``, the rule of the
  progress notes); every change is one row with who and when, all of a request in one
  transaction (``registrar_cambios``).
- A change that would not change anything (the same state, condition and presence is already
  current) writes nothing. The check is made under a transaction-level advisory lock per
  patient and tooth, taken in tooth order (no deadlock): two dentists charting the same tooth at
  the same moment are serialized, the second sees the first's change, neither is lost.
- A change is linked to a progress note: the one given (the actor's own draft of this patient),
  or else the actor's draft of today for this patient when there is one. If that draft is
  discarded, the marks stay and lose the link (the trigger allows exactly that).
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from ficha.antecedentes import exigir_dentista_con_acceso
from ficha.evoluciones import FECHA_MINIMA, MENSAJE_FDI
from ficha.models import (
    DIENTES_FDI, ESTADOS_DE_SUPERFICIE, Condicion, EstadoDental, Evolucion, MarcaOdontograma, Superficie,
)
from nucleo.servicios import es_id_valido, exigir_transaccion, operacion
from nucleo.sql import cursor_preparado

LARGO_NOTA = 200
MAXIMO_CAMBIOS = 60
_DIENTES = frozenset(DIENTES_FDI)
NOMBRES_CARA = {
    "O": "oclusal", "M": "mesial", "D": "distal", "V": "vestibular", "L": "lingual",
}


def nombre_cara(diente: int, superficie: str) -> str:
    """The surface's name as a dentist says it: incisal for front teeth, palatino upstairs."""
    posicion, cuadrante = diente % 10, diente // 10
    if superficie == "O" and posicion <= 3:
        return "incisal"
    if superficie == "L" and cuadrante in (1, 2, 5, 6):
        return "palatino"
    return NOMBRES_CARA.get(superficie, "")


@dataclass(frozen=True)
class Cambio:
    """One change asked for: ``quitar`` True removes the mark (a row with ``vigente`` False)."""

    diente: int
    superficie: str
    estado: str
    condicion: str = Condicion.HALLAZGO
    quitar: bool = False
    nota: str = ""

    @property
    def clave(self):
        return (self.diente, self.superficie, self.estado)


def _error(campo, mensaje, codigo):
    return ValidationError({campo: ValidationError(mensaje, code=codigo)})


def limpiar_cambio(*, diente, superficie="", estado, condicion=Condicion.HALLAZGO, quitar=False, nota="") -> Cambio:
    """A change as it will be stored, or ``ValidationError`` per field in Spanish (codes
    ``diente_invalido``, ``superficie_invalida``, ``estado_invalido``, ``condicion_invalida``,
    ``texto_largo``, ``caracter_invalido``)."""
    texto = str(diente if diente is not None else "").strip()
    if not (texto.isascii() and texto.isdigit()) or int(texto) not in _DIENTES:
        raise _error("diente", f"«{texto[:10]}» no es un diente. {MENSAJE_FDI}", "diente_invalido")
    diente = int(texto)
    superficie = str(superficie or "").strip().upper()
    if superficie not in Superficie.values:
        raise _error("superficie", "La cara debe ser O (oclusal o incisal), M (mesial), D (distal), V (vestibular) "
                                   "o L (lingual o palatino), o el diente completo.", "superficie_invalida")
    estado = str(estado or "").strip().lower()
    if estado not in EstadoDental.values:
        raise _error("estado", "Elija un estado de la lista (caries, obturación, corona, …).", "estado_invalido")
    if estado in ESTADOS_DE_SUPERFICIE and not superficie:
        raise _error("superficie", f"{EstadoDental(estado).label} va en una cara: elija cuál.", "estado_invalido")
    if estado not in ESTADOS_DE_SUPERFICIE and superficie:
        raise _error("superficie", f"{EstadoDental(estado).label} es del diente completo: no elija una cara.",
                     "estado_invalido")
    condicion = str(condicion or "").strip().lower()
    if condicion not in Condicion.values:
        raise _error("condicion", "Indique si es un hallazgo (por tratar) o un trabajo realizado.",
                     "condicion_invalida")
    nota = str(nota or "").strip()
    if "\x00" in nota:
        raise _error("nota", "El texto tiene un carácter no permitido.", "caracter_invalido")
    if len(nota) > LARGO_NOTA:
        raise _error("nota", f"La nota es demasiado larga (máximo {LARGO_NOTA} caracteres).", "texto_largo")
    return Cambio(diente=diente, superficie=superficie, estado=estado, condicion=condicion, quitar=bool(quitar),
                  nota=nota)


def _ultimos(cliente_id, *, hasta=None, dientes=None):
    """The latest change of each (tooth, surface, state) of the patient up to ``hasta``."""
    filas = MarcaOdontograma.objects.filter(cliente_id=cliente_id)
    if hasta is not None:
        filas = filas.filter(registrado_en__lte=hasta)
    if dientes is not None:
        filas = filas.filter(diente__in=dientes)
    return (filas.order_by("diente", "superficie", "estado", "-registrado_en", "-id")
            .distinct("diente", "superficie", "estado"))


# The state at an instant: the latest change of each (tooth, surface, state) up to then (DISTINCT
# ON over ``marca_estado_idx``'s order; the id breaks a tie of instants), kept when in force.
_SQL_ESTADO = """
    SELECT * FROM (
        SELECT DISTINCT ON (diente, superficie, estado) * FROM ficha_marcaodontograma
         WHERE cliente_id = %s AND registrado_en <= COALESCE(%s::timestamptz, 'infinity')
         ORDER BY diente, superficie, estado, registrado_en DESC, id DESC
    ) AS ultimos
    WHERE vigente ORDER BY diente, superficie, estado
"""


def estado_en(cliente_id, hasta: datetime.datetime | None = None) -> list[MarcaOdontograma]:
    """The marks in force of the patient's mouth at instant ``hasta`` (now when None): for each
    (tooth, surface, state), the latest change up to then, when in force. One query, sorted
    by tooth, surface, state (measured: twice as fast as the ORM's ``pk IN (DISTINCT ON …)``)."""
    return list(MarcaOdontograma.objects.raw(_SQL_ESTADO, [cliente_id, hasta]))


# The current state as bare (tooth, surface, state, condition) rows: what the ficha page's small
# drawing shows and keys its cached SVG by (prepared: nucleo.sql.cursor_preparado).
_SQL_ESTADO_ACTUAL = """
    SELECT diente, superficie, estado, condicion FROM (
        SELECT DISTINCT ON (diente, superficie, estado) diente, superficie, estado, condicion, vigente
          FROM ficha_marcaodontograma
         WHERE cliente_id = %s
         ORDER BY diente, superficie, estado, registrado_en DESC, id DESC
    ) AS ultimos
    WHERE vigente ORDER BY diente, superficie, estado
"""


def estado_actual(cliente_id) -> tuple[tuple[int, str, str, str], ...]:
    """The marks in force now, as ``(diente, superficie, estado, condicion)`` tuples in
    ``estado_en``'s order: one prepared query, no model instances (the ficha page draws from
    them, or finds their drawing in its cache)."""
    with cursor_preparado() as cursor:
        cursor.execute(_SQL_ESTADO_ACTUAL, [cliente_id])
        return tuple(tuple(f) for f in cursor.fetchall())


def fin_del_dia(fecha: datetime.date) -> datetime.datetime:
    """The last instant of ``fecha`` in the clinic's time zone (the state "as of" a date)."""
    return timezone.make_aware(datetime.datetime.combine(fecha, datetime.time.max))


def validar_fecha_de_consulta(fecha, *, hoy=None) -> datetime.date:
    """A date to show the odontogram as of, or ``ValidationError`` in Spanish: not before
    ``FECHA_MINIMA``, not in the future."""
    hoy = hoy or timezone.localdate()
    if isinstance(fecha, str):
        try:
            fecha = datetime.date.fromisoformat(fecha.strip())
        except ValueError:
            raise ValidationError("La fecha no es válida: use el formato aaaa-mm-dd.", code="fecha_invalida") from None
    if not isinstance(fecha, datetime.date) or isinstance(fecha, datetime.datetime):
        raise ValidationError("La fecha no es válida: use el formato aaaa-mm-dd.", code="fecha_invalida")
    if fecha < FECHA_MINIMA:
        raise ValidationError(f"Use una fecha desde el {FECHA_MINIMA:%d-%m-%Y}.", code="fecha_invalida")
    if fecha > hoy:
        raise ValidationError("La fecha no puede ser futura.", code="fecha_futura")
    return fecha


def borrador_de_hoy(cliente_id, dentista_id) -> Evolucion | None:
    """The dentist's latest draft note of today for the patient (the visit being charted)."""
    return (Evolucion.objects.filter(cliente_id=cliente_id, dentista_id=dentista_id, firmada_en__isnull=True,
                                     corrige__isnull=True, atendido_el=timezone.localdate())
            .order_by("-pk").first())


def _bloquear_dientes(cliente_id, dientes):
    """Transaction-level advisory locks, one per (patient, tooth), in tooth order."""
    exigir_transaccion()
    with connection.cursor() as cursor:
        for diente in sorted(set(dientes)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"odontograma:{cliente_id}:{diente}"])


def _nota_del_cambio(actor, cliente_id, perfil, evolucion_id):
    if evolucion_id in (None, ""):
        return borrador_de_hoy(cliente_id, perfil.pk)
    nota = None
    if es_id_valido(evolucion_id):
        nota = Evolucion.objects.filter(pk=evolucion_id, cliente_id=cliente_id, dentista_id=perfil.pk,
                                        firmada_en__isnull=True).first()
    if nota is None:
        raise ValidationError({"evolucion": ValidationError(
            "Esa evolución no es un borrador suyo de este paciente.", code="evolucion_invalida")})
    return nota


def registrar_cambios(*, actor, cliente_id, cambios, evolucion_id=None) -> list[MarcaOdontograma]:
    """Chart: each change in ``cambios`` (``Cambio`` or dicts for ``limpiar_cambio``) becomes one
    row, in one transaction, with the actor and the note of the visit (see the module's
    decisions). Changes that change nothing are skipped. Returns the rows written (maybe none).
    Raises ``ValidationError`` (per field, ``sin_acceso``, ``evolucion_invalida``,
    ``sin_cambios``), ``Cliente.DoesNotExist``."""
    cambios = [c if isinstance(c, Cambio) else limpiar_cambio(**c) for c in cambios]
    if not cambios:
        raise ValidationError("Elija un diente, una cara y un estado.", code="sin_cambios")
    if len(cambios) > MAXIMO_CAMBIOS:
        raise ValidationError(f"Son demasiados cambios a la vez (máximo {MAXIMO_CAMBIOS}).", code="sin_cambios")
    with operacion("registrar_odontograma", actor=actor):
        return registrar_cambios_en_transaccion(actor=actor, cliente_id=cliente_id, cambios=cambios,
                                                evolucion_id=evolucion_id)


def registrar_cambios_en_transaccion(*, actor, cliente_id, cambios, evolucion_id=None) -> list[MarcaOdontograma]:
    """``registrar_cambios``' writes inside a caller's service transaction (a plan item marked
    done charts its finding in the same transaction); ``cambios`` already ``Cambio``s."""
    exigir_transaccion()
    perfil = exigir_dentista_con_acceso(actor, cliente_id)
    nota = _nota_del_cambio(actor, cliente_id, perfil, evolucion_id)
    dientes = {c.diente for c in cambios}
    _bloquear_dientes(cliente_id, dientes)
    actuales = {(m.diente, m.superficie, m.estado): m for m in _ultimos(cliente_id, dientes=dientes)}
    nuevas = []
    for cambio in cambios:
        actual = actuales.get(cambio.clave)
        vigente = not cambio.quitar
        if actual is None and not vigente:
            continue  # removing what is not there
        if actual is not None and actual.vigente == vigente and (not vigente or actual.condicion == cambio.condicion):
            continue  # already so
        condicion = actual.condicion if cambio.quitar else cambio.condicion
        marca = MarcaOdontograma.objects.create(
            cliente_id=cliente_id, diente=cambio.diente, superficie=cambio.superficie, estado=cambio.estado,
            condicion=condicion, vigente=vigente, evolucion=nota, registrado_por=actor, nota=cambio.nota,
        )
        actuales[cambio.clave] = marca
        nuevas.append(marca)
    return nuevas


def historial(cliente_id):
    """Every change of the patient's odontogram, newest first, with who and the note."""
    return (MarcaOdontograma.objects.filter(cliente_id=cliente_id)
            .select_related("registrado_por__perfil_personal", "evolucion")
            .order_by("-registrado_en", "-id"))


def hallazgos_pendientes(cliente_id) -> list[MarcaOdontograma]:
    """The findings in force now (red): what a dentist may mark as done in a note."""
    return [m for m in estado_en(cliente_id) if m.condicion == Condicion.HALLAZGO]


def describir(marca) -> str:
    """"Diente 16, cara oclusal: caries (hallazgo)" — the mark in words (titles, tables)."""
    cara = f", cara {nombre_cara(marca.diente, marca.superficie)}" if marca.superficie else ""
    condicion = "hallazgo" if marca.condicion == Condicion.HALLAZGO else "realizado"
    return f"Diente {marca.diente}{cara}: {EstadoDental(marca.estado).label.lower()} ({condicion})"
