"""What the ficha page reads: the patient's header, history, notes with their addenda and
documents, in a constant number of queries however long the record is."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils import timezone

from django.contrib.auth import get_user_model

from citas.models import Cita
from ficha.acceso import ESTADOS_DE_CUIDADO
from ficha.models import Antecedentes, Embarazo, Evolucion
from nucleo.sql import cursor_preparado
from pacientes.models import Cliente, ClienteDocumento
from personal.models import Perfil, nombre_de_personal

# What the ficha page shows before "Ver todo": a dentist reads the latest visits and the latest
# x-rays first; a record of ten years stays one click away (``?todas=1``). Measured: with 50
# notes and every document the page rendered at 0.07× the bare view in bin/bench-http.
NOTAS_POR_PAGINA = 10
DOCUMENTOS_POR_PAGINA = 10


@dataclass
class Ficha:
    """The ficha page's content: ``cliente`` (with ``edad``), ``antecedentes`` (an unsaved empty
    one with ``version = 0`` when nothing is recorded), ``alertas`` (what a dentist must see
    first), ``notas`` (original notes newest first, each with ``.adendas_firmadas``: plain
    ``NotaEnFicha`` values, see ``notas_de_la_ficha``), ``hay_mas``
    (older notes beyond ``limite``), ``documentos`` and ``hay_mas_documentos``; ``huella_documentos``
    keys the documents' table's cached HTML (everything it shows, as ``huella_de_nota``)."""

    cliente: Cliente
    edad: int | None
    antecedentes: Antecedentes
    alertas: list[str]
    notas: list["NotaEnFicha"]
    hay_mas: bool
    documentos: list[ClienteDocumento] = field(default_factory=list)
    hay_mas_documentos: bool = False
    huella_documentos: str = ""


def edad_de(fecha_nacimiento, hoy=None) -> int | None:
    if fecha_nacimiento is None:
        return None
    hoy = hoy or timezone.localdate()
    return hoy.year - fecha_nacimiento.year - ((hoy.month, hoy.day) < (fecha_nacimiento.month, fecha_nacimiento.day))


def alertas_clinicas(antecedentes: Antecedentes) -> list[str]:
    """The history's facts that change what a dentist may do today: allergies, anticoagulants,
    pregnancy."""
    alertas = []
    if antecedentes.alergias.strip():
        alertas.append(f"Alergias: {antecedentes.alergias.strip()}")
    if antecedentes.anticoagulantes:
        detalle = f" ({antecedentes.anticoagulantes_detalle})" if antecedentes.anticoagulantes_detalle else ""
        alertas.append(f"Toma anticoagulantes{detalle}")
    if antecedentes.embarazo == Embarazo.SI:
        alertas.append("Embarazada")
    return alertas


def notas_visibles(cliente_id, *, dentista_id=None):
    """The patient's original notes (not addenda) a dentist sees: the signed ones, and their
    own drafts. Newest first (index ``evolucion_cliente_idx``)."""
    visibles = Q(firmada_en__isnull=False)
    if dentista_id is not None:
        visibles |= Q(dentista_id=dentista_id)
    return Evolucion.objects.filter(visibles, cliente_id=cliente_id, corrige__isnull=True).order_by("-atendido_el", "-id")


def notas_con_adendas(originales) -> list[Evolucion]:
    """The rule ``notas_de_la_ficha`` writes in SQL, with the ORM (its tests compare the two):
    the notes of ``originales`` (a queryset of original notes, sliced or not) in its order, with
    their author and appointment, each with ``.adendas_firmadas`` (signed, oldest first)."""
    ids = originales.values("pk")
    filas = list(Evolucion.objects.filter(Q(pk__in=ids) | Q(corrige_id__in=ids, firmada_en__isnull=False))
                 .select_related("dentista__user", "cita").order_by("-atendido_el", "-id"))
    return _agrupar(filas)


def _agrupar(filas):
    """Original notes in the rows' order, each with its addenda (``corrige_id``) oldest first."""
    notas = [fila for fila in filas if fila.corrige_id is None]
    por_id = {nota.pk: nota for nota in notas}
    for nota in notas:
        nota.adendas_firmadas = []
    for adenda in sorted((f for f in filas if f.corrige_id is not None), key=lambda a: (a.firmada_en, a.pk)):
        por_id[adenda.corrige_id].adendas_firmadas.append(adenda)
    return notas


@dataclass(frozen=True)
class Autor:
    """A note's author as the page shows them (``Perfil.nombre``)."""

    nombre: str


@dataclass(frozen=True)
class CitaDeNota:
    inicio: datetime.datetime


@dataclass
class NotaEnFicha:
    """A note (or an addendum) as the ficha page shows it: the ``Evolucion`` fields it uses,
    under the model's names, with ``dentista.nombre`` and ``cita.inicio``."""

    pk: int
    cliente_id: int
    atendido_el: datetime.date
    procedimiento: str
    dientes: list[int]
    texto: str
    firmada_en: datetime.datetime | None
    cita_id: int | None
    dentista_id: int
    corrige_id: int | None
    dentista: Autor
    cita: CitaDeNota | None
    adendas_firmadas: list["NotaEnFicha"] = field(default_factory=list)
    huella: str | None = None

    @property
    def id(self):
        return self.pk

    @property
    def firmada(self) -> bool:
        return self.firmada_en is not None


# ``notas_visibles`` + ``notas_con_adendas`` as one prepared statement (nucleo.sql): the ficha
# page's notes and their signed addenda. Through the ORM, building the query and the ~60 model
# instances of a page (note, profile, user, appointment) cost ~3.4 ms of CPU per request; this
# ~0.15 ms (benchmarks/perfil_ficha.py). ficha/tests/test_selectors.py checks it returns what
# the ORM rule returns. ``LIMIT NULL`` is no limit (``?todas=1``).
_NOTAS_SQL = f"""
WITH originales AS (
    SELECT id FROM {Evolucion._meta.db_table}
     WHERE cliente_id = %s AND corrige_id IS NULL AND (firmada_en IS NOT NULL OR dentista_id = %s)
     ORDER BY atendido_el DESC, id DESC
     LIMIT %s)
SELECT e.id, e.cliente_id, e.atendido_el, e.procedimiento, e.dientes, e.texto, e.firmada_en, e.cita_id,
       e.dentista_id, e.corrige_id, c.inicio, u.first_name, u.last_name, u.username
  FROM {Evolucion._meta.db_table} e
  JOIN {Perfil._meta.db_table} p ON p.id = e.dentista_id
  JOIN {get_user_model()._meta.db_table} u ON u.id = p.user_id
  LEFT JOIN {Cita._meta.db_table} c ON c.id = e.cita_id
 WHERE e.id IN (SELECT id FROM originales)
    OR (e.corrige_id IN (SELECT id FROM originales) AND e.firmada_en IS NOT NULL)
 ORDER BY e.atendido_el DESC, e.id DESC"""


def notas_de_la_ficha(cliente_id, *, dentista_id=None, limite: int | None = None) -> list[NotaEnFicha]:
    """The ``limite`` newest original notes the dentist sees (signed, and their own drafts;
    None: all), newest first, each with its signed addenda, in one query: what
    ``notas_con_adendas(notas_visibles(...)[:limite])`` returns, as ``NotaEnFicha`` values."""
    with cursor_preparado() as cursor:
        cursor.execute(_NOTAS_SQL, [cliente_id, dentista_id, limite])
        filas = cursor.fetchall()
    return _agrupar([
        NotaEnFicha(pk=f[0], cliente_id=f[1], atendido_el=f[2], procedimiento=f[3], dientes=f[4], texto=f[5],
                    firmada_en=f[6], cita_id=f[7], dentista_id=f[8], corrige_id=f[9],
                    cita=CitaDeNota(f[10]) if f[7] is not None else None,
                    dentista=Autor(nombre_de_personal(f[11], f[12], f[13])))
        for f in filas
    ])


def ficha_del_paciente(cliente_id, *, dentista_id=None, limite: int | None = NOTAS_POR_PAGINA,
                       limite_documentos: int | None = DOCUMENTOS_POR_PAGINA) -> Ficha:
    """Everything the ficha page shows, in three queries whatever the number of notes, addenda
    and documents: the patient with their history, the notes (``limite`` newest, None for all;
    one more is read to know whether there are older ones) with their addenda, the documents.
    Raises ``Cliente.DoesNotExist``."""
    cliente = Cliente.objects.select_related("antecedentes").get(pk=cliente_id)
    try:
        antecedentes = cliente.antecedentes
    except Antecedentes.DoesNotExist:
        antecedentes = Antecedentes(cliente_id=cliente_id, version=0)
    notas = notas_de_la_ficha(cliente_id, dentista_id=dentista_id, limite=None if limite is None else limite + 1)
    hay_mas = limite is not None and len(notas) > limite
    documentos = (ClienteDocumento.objects.filter(cliente_id=cliente_id)
                  .only("pk", "cliente_id", "titulo", "creado", "tamano", "nombre_original")
                  .order_by("-creado", "-pk"))
    documentos = list(documentos if limite_documentos is None else documentos[: limite_documentos + 1])
    hay_mas_documentos = limite_documentos is not None and len(documentos) > limite_documentos
    zona = timezone.get_current_timezone_name()
    for nota in notas:
        if nota.firmada:
            nota.huella = huella_de_nota(nota, zona)
    documentos = documentos[:limite_documentos] if hay_mas_documentos else documentos
    huella_documentos = repr((cliente.pk, zona, hay_mas_documentos,
                              [(d.pk, d.titulo, d.creado, d.tamano) for d in documentos]))
    return Ficha(cliente=cliente, edad=edad_de(cliente.fecha_nacimiento), antecedentes=antecedentes,
                 alertas=alertas_clinicas(antecedentes), notas=notas[:limite] if hay_mas else notas,
                 hay_mas=hay_mas, documentos=documentos, hay_mas_documentos=hay_mas_documentos,
                 huella_documentos=huella_documentos)


def huella_de_nota(nota: NotaEnFicha, zona: str) -> str:
    """The key of a signed note's HTML on the ficha page (``{% cache %}`` in ficha.html, cache
    "ficha"): everything that block shows, so a kept copy is never stale and never another
    note's. The note's own fields are fixed by the trigger once signed, and keyed anyway (an id
    from another database, e.g. between tests, must not bring back its text); the author's and
    each addendum's author's names and the appointment's start can change; a new addendum
    changes the list; dates are shown in the time zone ``zona``."""
    return repr((
        nota.pk, nota.cliente_id, nota.atendido_el, nota.procedimiento, nota.dientes, nota.texto, nota.firmada_en,
        nota.dentista.nombre, nota.cita.inicio if nota.cita_id else None, zona,
        [(a.pk, a.dentista.nombre, a.firmada_en, a.texto) for a in nota.adendas_firmadas],
    ))


def evolucion_del_paciente(*, cliente_id, evolucion_id) -> Evolucion:
    """One note of that patient (another patient's id finds nothing), with its author, its
    appointment, what it corrects and its signed addenda. Raises ``Evolucion.DoesNotExist``."""
    adendas = (Evolucion.objects.filter(firmada_en__isnull=False).select_related("dentista__user")
               .order_by("firmada_en", "pk"))
    return (Evolucion.objects.select_related("dentista__user", "cita", "corrige")
            .prefetch_related(Prefetch("adendas", queryset=adendas, to_attr="adendas_firmadas"))
            .get(pk=evolucion_id, cliente_id=cliente_id))


def citas_para_evolucion(*, cliente_id, dentista_id, hoy: datetime.date | None = None, limite=20):
    """The dentist's appointments with the patient a note may name, newest first (up to today)."""
    hoy = hoy or timezone.localdate()
    fin = timezone.make_aware(datetime.datetime.combine(hoy + datetime.timedelta(days=1), datetime.time()))
    return list(Cita.objects.filter(cliente_id=cliente_id, dentista_id=dentista_id, estado__in=ESTADOS_DE_CUIDADO,
                                    inicio__lt=fin).only("pk", "inicio").order_by("-inicio")[:limite])
