"""Treatment plans written by the dentist (issue 17): create a plan, add items (by hand or from
the odontogram's pending findings, one click each), edit or remove a proposed item, cancel an
accepted one, end or annul a plan, and mark an item done from a progress note.

Rules (the model's docstrings and constraints are the backstop, trigger ``item_plan_fijo``):
- Only a dentist who may write the patient's record writes their plan (``ficha.antecedentes.
  exigir_dentista_con_acceso``, the record's one write rule).
- An item's price comes from the arancel when it is added; the dentist may then change price,
  discount, phase and order while it is ``propuesto``. Accepted (a quote was accepted) or done,
  what it is and what it costs never change: it is cancelled, not edited.
- Marking done is a compare-and-set on the item's state: two clicks (two tabs, two dentists)
  mark it once; the second is told so. An item done without a quote is accepted at that moment.
  When the item came from an odontogram finding, the finding is charted ``realizado`` in the
  same transaction, linked to the same progress note.
- Money is integer CLP; totals are SUMs computed by PostgreSQL (``totales_del_plan``).
"""

import functools
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Max
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from ficha.antecedentes import exigir_dentista_con_acceso
from ficha.models import DIENTES_FDI, Condicion, EstadoDental, Evolucion, MarcaOdontograma
from ficha.odontograma import Cambio, hallazgos_pendientes, registrar_cambios_en_transaccion
from nucleo.formato import leer_entero
from nucleo.servicios import es_id_valido, operacion
from nucleo.sql import cursor_preparado
from personal.models import Perfil
from prestaciones.models import PRECIO_MAXIMO, Prestacion
from tratamientos.models import MAXIMO_ITEMS, EstadoItem, EstadoPlan, ItemPlan, PlanTratamiento

LARGO_TITULO = 120
LARGO_OBSERVACIONES = 500
ABIERTOS = (EstadoItem.PROPUESTO, EstadoItem.ACEPTADO)
NO_EXISTE_PLAN = "Ese plan no existe."
NO_EXISTE_ITEM = "Ese ítem del plan no existe."


def _error(campo, mensaje, codigo):
    return ValidationError({campo: ValidationError(mensaje, code=codigo)})


def _texto(valor, campo, largo):
    texto = str(valor if valor is not None else "").strip()
    if "\x00" in texto:
        raise _error(campo, "El texto tiene un carácter no permitido.", "caracter_invalido")
    if len(texto) > largo:
        raise _error(campo, f"Es demasiado largo (máximo {largo} caracteres).", "texto_largo")
    return texto


def _fase(valor):
    fase = leer_entero(valor)
    if fase is None or not 1 <= fase <= 9:
        raise _error("fase", "La fase va de 1 a 9.", "fase_invalida")
    return fase


def _orden(valor):
    orden = leer_entero(valor)
    if orden is None or not 0 <= orden <= 9999:
        raise _error("orden", "El orden es un número de 0 a 9999.", "orden_invalido")
    return orden


def _montos(precio, descuento):
    if isinstance(precio, bool) or not isinstance(precio, int) or not 0 <= precio <= PRECIO_MAXIMO:
        raise _error("precio", "El precio debe estar entre $0 y $100.000.000.", "precio_invalido")
    if isinstance(descuento, bool) or not isinstance(descuento, int) or descuento < 0:
        raise _error("descuento", "El descuento no puede ser negativo.", "descuento_invalido")
    if descuento > precio:
        raise _error("descuento", "El descuento no puede ser mayor que el precio.", "descuento_invalido")
    return precio, descuento


def _diente_y_cara(diente, superficie):
    if diente in (None, ""):
        if superficie:
            raise _error("superficie", "Una cara (O, M, D, V o L) va con su diente.", "superficie_invalida")
        return None, ""
    numero = leer_entero(diente)
    if numero not in DIENTES_FDI:
        raise _error("diente", "Los dientes se indican con la numeración FDI (11 a 48; temporales 51 a 85).",
                     "diente_invalido")
    superficie = str(superficie or "").strip().upper()
    if superficie not in ("", "O", "M", "D", "V", "L"):
        raise _error("superficie", "La cara debe ser O, M, D, V o L, o el diente completo.", "superficie_invalida")
    return numero, superficie


# Reads -------------------------------------------------------------------------------------


def _columnas(modelo, alias):
    campos = list(modelo._meta.concrete_fields)
    return [f.attname for f in campos], ", ".join(f'{alias}."{f.column}"' for f in campos)


@functools.cache
def _sql_plan_actual():
    """The SQL of ``plan_actual`` and its three models' field names (built once per process:
    the ORM would compile this join on every plan page, ~1.5 ms of Python, to run in 0.2)."""
    User = get_user_model()
    modelos = [(PlanTratamiento, "t"), (Perfil, "p"), (User, "u")]
    columnas = [_columnas(modelo, alias) for modelo, alias in modelos]
    sql = f"""
        SELECT {", ".join(c for _, c in columnas)}
          FROM {PlanTratamiento._meta.db_table} t
          JOIN {Perfil._meta.db_table} p ON p.id = t.dentista_id
          JOIN {User._meta.db_table} u ON u.id = p.user_id
         WHERE t.cliente_id = %s AND t.estado = '{EstadoPlan.VIGENTE}'
         ORDER BY t.creado DESC, t.id DESC
         LIMIT 1
    """
    return sql, [(modelo, nombres) for (modelo, _), (nombres, _) in zip(modelos, columnas, strict=True)]


def plan_actual(cliente_id) -> PlanTratamiento | None:
    """The patient's plan in force (the newest ``vigente``) with its dentist and their user (as
    ``select_related("dentista__user")``), or None. One prepared query."""
    sql, modelos = _sql_plan_actual()
    with cursor_preparado() as cur:
        cur.execute(sql, [cliente_id])
        fila = cur.fetchone()
    if fila is None:
        return None
    objetos, desde = [], 0
    for modelo, nombres in modelos:
        objetos.append(modelo.from_db(connection.alias, nombres, fila[desde:desde + len(nombres)]))
        desde += len(nombres)
    plan, perfil, usuario = objetos
    perfil.user = usuario
    plan.dentista = perfil
    return plan


def planes_anteriores(cliente_id, cuantos=10) -> list[PlanTratamiento]:
    """The patient's closed plans (not ``vigente``), newest first: one prepared query."""
    nombres, columnas = _columnas(PlanTratamiento, "t")
    with cursor_preparado() as cur:
        cur.execute(f"SELECT {columnas} FROM {PlanTratamiento._meta.db_table} t WHERE t.cliente_id = %s "
                    f"AND t.estado <> '{EstadoPlan.VIGENTE}' ORDER BY t.creado DESC, t.id DESC LIMIT %s",
                    [cliente_id, cuantos])
        return [PlanTratamiento.from_db(connection.alias, nombres, fila) for fila in cur.fetchall()]


def items_del_plan(plan_id):
    """The plan's items in phase and order, with their prestación (one query)."""
    return (ItemPlan.objects.filter(plan_id=plan_id).select_related("prestacion")
            .only("pk", "plan_id", "diente", "superficie", "hallazgo_id", "fase", "orden", "precio", "descuento",
                  "total", "estado", "realizado_en", "evolucion_id", "prestacion__codigo", "prestacion__nombre")
            .order_by("fase", "orden", "pk"))


@dataclass
class Totales:
    """A plan's sums (integer CLP), each the SUM of its items' ``total`` by state; ``por_fase``
    maps a phase to its own ``Totales`` (without ``por_fase``)."""

    propuesto: int = 0
    aceptado: int = 0
    realizado: int = 0
    cancelado: int = 0
    items: int = 0
    por_fase: dict = field(default_factory=dict)
    huella: str = ""

    @property
    def plan(self) -> int:
        """What the plan costs: everything not cancelled."""
        return self.propuesto + self.aceptado + self.realizado


# Everything the items' table shows of a row (its prestación's code and name included): the
# digest of these per phase keys the table's cached HTML, so any change to any shown value,
# by any path (a service, a bulk UPDATE, raw SQL), is a new key. Written in SQL and run through
# ``nucleo.sql.cursor_preparado``: built by the ORM (a Concat of 19 parts, four filtered SUMs)
# this query cost ~4 ms of Python per plan page to compile and ~1 ms to plan, more than it
# takes PostgreSQL to run it (``benchmarks/perfil_plan.py``).
_SQL_TOTALES = f"""
    SELECT i.fase,
           {", ".join(f"coalesce(sum(i.total) FILTER (WHERE i.estado = '{e}'), 0)" for e in EstadoItem.values)},
           count(*) FILTER (WHERE i.estado <> '{EstadoItem.CANCELADO}'),
           md5(string_agg(i.id || '|' || coalesce(i.hallazgo_id, 0) || '|' || i.estado || '|' || i.precio || '|'
                          || i.descuento || '|' || i.orden || '|' || coalesce(i.diente, 0) || '|' || i.superficie
                          || '|' || p.codigo || '|' || p.nombre, ',' ORDER BY i.id))
      FROM tratamientos_itemplan i JOIN prestaciones_prestacion p ON p.id = i.prestacion_id
     WHERE i.plan_id = %s
     GROUP BY i.fase
     ORDER BY i.fase
"""


def totales_del_plan(plan_id) -> Totales:
    """The plan's totals by phase and overall, proposed/accepted/done: one GROUP BY query, the
    sums computed by PostgreSQL (never added up in Python from the rows shown). ``huella``:
    a digest of every shown value of every item, computed in the same query."""
    with cursor_preparado() as cur:
        cur.execute(_SQL_TOTALES, [plan_id])
        filas = cur.fetchall()
    totales = Totales(huella=repr([(fila[0], fila[-1]) for fila in filas]))
    estados = EstadoItem.values
    for fila in filas:
        fase = Totales(**dict(zip(estados, fila[1:1 + len(estados)], strict=True)), items=fila[1 + len(estados)])
        totales.por_fase[fila[0]] = fase
        for nombre in (*estados, "items"):
            setattr(totales, nombre, getattr(totales, nombre) + getattr(fase, nombre))
    return totales


def sugerencias_por_hallazgo() -> dict[str, Prestacion]:
    """For each odontogram state, the active prestación that treats it (``trata_hallazgo``; the
    lowest code when several do): what "Agregar al plan" proposes for a finding."""
    sugeridas = {}
    for prestacion in Prestacion.objects.activas().exclude(trata_hallazgo="").order_by("codigo"):
        sugeridas.setdefault(prestacion.trata_hallazgo, prestacion)
    return sugeridas


def hallazgos_para_el_plan(cliente_id, plan_id=None):
    """The pending findings, each as ``(marca, prestación sugerida or None, ya_en_el_plan)``."""
    sugeridas = sugerencias_por_hallazgo()
    en_plan = set()
    if plan_id is not None:
        en_plan = set(ItemPlan.objects.filter(plan_id=plan_id, hallazgo__isnull=False)
                      .exclude(estado=EstadoItem.CANCELADO).values_list("hallazgo_id", flat=True))
    return [(m, sugeridas.get(m.estado), m.pk in en_plan) for m in hallazgos_pendientes(cliente_id)]


class PrestacionDelArancel(NamedTuple):
    pk: int
    codigo: str
    nombre: str
    precio: int


_SQL_ARANCEL = f"""
    SELECT id, codigo, nombre, precio FROM {Prestacion._meta.db_table} WHERE activa ORDER BY codigo, id
"""


def arancel_para_el_plan() -> list[PrestacionDelArancel]:
    """The active prestaciones a dentist may add to a plan by hand (code order): one prepared
    query, read on every plan page for its "Agregar" list."""
    with cursor_preparado() as cur:
        cur.execute(_SQL_ARANCEL)
        return [PrestacionDelArancel(*fila) for fila in cur.fetchall()]


# What the plan page's findings list depends on besides the plan's items: the odontogram (an
# append-only table: its row count and latest id name its whole state) and the prestaciones that
# treat a finding (everything shown of them). One round trip.
_SQL_HUELLA_HALLAZGOS = """
    SELECT (SELECT count(*) || ':' || coalesce(max(id), 0) FROM ficha_marcaodontograma WHERE cliente_id = %s),
           (SELECT md5(coalesce(string_agg(id || '|' || codigo || '|' || nombre || '|' || precio || '|' || trata_hallazgo,
                                           ',' ORDER BY codigo, id), ''))
              FROM prestaciones_prestacion WHERE activa AND trata_hallazgo <> '')
"""


def huella_de_hallazgos(cliente_id) -> tuple[str, str]:
    """A key for the findings list of the plan page, with the plan's ``Totales.huella``: the
    odontogram's state (its changes are append-only rows) and the suggested prestaciones."""
    with cursor_preparado() as cursor:
        cursor.execute(_SQL_HUELLA_HALLAZGOS, [cliente_id])
        return tuple(cursor.fetchone())


def pendientes_para_la_nota(cliente_id):
    """The items of the patient's plans in force still to do (accepted first, then proposed),
    for the draft note's "Realizado en esta atención"."""
    return list(ItemPlan.objects.filter(plan__cliente_id=cliente_id, plan__estado=EstadoPlan.VIGENTE,
                                        estado__in=ABIERTOS)
                .select_related("prestacion").order_by("estado", "fase", "orden", "pk"))


# Writes ------------------------------------------------------------------------------------


def crear_plan(*, actor, cliente_id, titulo="Plan de tratamiento", observaciones="") -> PlanTratamiento:
    """A new plan in force for the patient, by the acting dentist. Raises ValidationError
    (``sin_acceso``, per field), ``Cliente.DoesNotExist``."""
    titulo = _texto(titulo, "titulo", LARGO_TITULO) or "Plan de tratamiento"
    observaciones = _texto(observaciones, "observaciones", LARGO_OBSERVACIONES)
    with operacion("crear_plan_tratamiento", actor=actor):
        perfil = exigir_dentista_con_acceso(actor, cliente_id)
        return PlanTratamiento.objects.create(cliente_id=cliente_id, dentista=perfil, titulo=titulo,
                                              observaciones=observaciones)


def _plan_abierto(actor, plan_id, cliente_id=None) -> PlanTratamiento:
    """The plan locked, in force, of ``cliente_id`` when given, written by someone allowed."""
    plan = None
    if es_id_valido(plan_id):
        plan = PlanTratamiento.objects.select_for_update().filter(pk=plan_id).first()
    if plan is None or (cliente_id is not None and plan.cliente_id != cliente_id):
        raise PlanTratamiento.DoesNotExist(NO_EXISTE_PLAN)
    exigir_dentista_con_acceso(actor, plan.cliente_id)
    if plan.estado != EstadoPlan.VIGENTE:
        raise ValidationError("Este plan ya está terminado o anulado: no se modifica.", code="plan_cerrado")
    return plan


def _cabe(plan, nuevos=1):
    if ItemPlan.objects.filter(plan=plan).count() + nuevos > MAXIMO_ITEMS:
        raise ValidationError(f"Un plan tiene como máximo {MAXIMO_ITEMS} ítems.", code="plan_lleno")


def _siguiente_orden(plan, fase):
    return (ItemPlan.objects.filter(plan=plan, fase=fase).aggregate(m=Max("orden"))["m"] or 0) + 1


def _prestacion_activa(prestacion_id) -> Prestacion:
    prestacion = Prestacion.objects.filter(pk=prestacion_id, activa=True).first() if es_id_valido(prestacion_id) else None
    if prestacion is None:
        raise _error("prestacion", "Elija una prestación activa del arancel.", "prestacion_invalida")
    return prestacion


def agregar_item(*, actor, plan_id, prestacion_id, diente=None, superficie="", fase=1, descuento=0,
                 cliente_id=None) -> ItemPlan:
    """A proposed item: the prestación (active) on a tooth and surface or the whole mouth, its
    price from the arancel, a discount, in ``fase`` (1–9), last in its phase. Raises
    ValidationError (per field, ``sin_acceso``, ``plan_cerrado``, ``plan_lleno``),
    ``PlanTratamiento.DoesNotExist``."""
    diente, superficie = _diente_y_cara(diente, superficie)
    fase = _fase(fase)
    with operacion("agregar_item_plan", actor=actor):
        plan = _plan_abierto(actor, plan_id, cliente_id)
        prestacion = _prestacion_activa(prestacion_id)
        precio, descuento = _montos(prestacion.precio, descuento)
        _cabe(plan)
        return ItemPlan.objects.create(plan=plan, prestacion=prestacion, diente=diente, superficie=superficie,
                                       fase=fase, orden=_siguiente_orden(plan, fase), precio=precio,
                                       descuento=descuento)


def agregar_desde_hallazgos(*, actor, plan_id, hallazgo_ids, cliente_id=None) -> list[ItemPlan]:
    """One proposed item per finding (``hallazgo_ids``: pending findings of the plan's patient),
    with the prestación that treats it (``sugerencias_por_hallazgo``), its tooth and surface,
    ``hallazgo`` set. A finding already in the plan is skipped (two clicks add it once). Raises
    ValidationError (``hallazgo_invalido``, ``sin_prestacion``, ``sin_hallazgos``, …),
    ``PlanTratamiento.DoesNotExist``."""
    ids = {leer_entero(h) for h in hallazgo_ids}
    if not ids or None in ids or not all(es_id_valido(i) for i in ids):
        raise ValidationError("Elija un hallazgo pendiente del odontograma.", code="hallazgo_invalido")
    with operacion("agregar_hallazgos_al_plan", actor=actor):
        plan = _plan_abierto(actor, plan_id, cliente_id)
        pendientes = {m.pk: m for m in hallazgos_pendientes(plan.cliente_id)}
        if not ids <= set(pendientes):
            raise ValidationError("Ese hallazgo ya no está pendiente en el odontograma de este paciente.",
                                  code="hallazgo_invalido")
        ya = set(ItemPlan.objects.filter(plan=plan, hallazgo_id__in=ids).exclude(estado=EstadoItem.CANCELADO)
                 .values_list("hallazgo_id", flat=True))
        sugeridas = sugerencias_por_hallazgo()
        nuevos = []
        for marca in sorted((pendientes[i] for i in ids - ya), key=lambda m: (m.diente, m.superficie, m.estado)):
            prestacion = sugeridas.get(marca.estado)
            if prestacion is None:
                raise ValidationError(
                    f"El arancel no tiene una prestación activa para «{EstadoDental(marca.estado).label.lower()}»: "
                    "agréguela a mano o pida a la administración que la indique en el arancel.",
                    code="sin_prestacion")
            nuevos.append(marca)
        _cabe(plan, len(nuevos))
        orden = _siguiente_orden(plan, 1)
        items = []
        for i, marca in enumerate(nuevos):
            prestacion = sugeridas[marca.estado]
            items.append(ItemPlan.objects.create(
                plan=plan, prestacion=prestacion, diente=marca.diente, superficie=marca.superficie, hallazgo=marca,
                fase=1, orden=orden + i, precio=prestacion.precio, descuento=0))
        return items


def _item_bloqueado(actor, item_id, cliente_id=None) -> ItemPlan:
    item = None
    if es_id_valido(item_id):
        item = ItemPlan.objects.select_for_update().select_related("plan").filter(pk=item_id).first()
    if item is None or (cliente_id is not None and item.plan.cliente_id != cliente_id):
        raise ItemPlan.DoesNotExist(NO_EXISTE_ITEM)
    exigir_dentista_con_acceso(actor, item.plan.cliente_id)
    return item


def editar_item(*, actor, item_id, precio, descuento, fase, orden, cliente_id=None) -> ItemPlan:
    """Change a proposed item's price, discount (integer CLP), phase and order. Raises
    ValidationError (per field, ``item_fijo``, ``plan_cerrado``), ``ItemPlan.DoesNotExist``."""
    precio, descuento = _montos(precio, descuento)
    fase, orden = _fase(fase), _orden(orden)
    with operacion("editar_item_plan", actor=actor):
        item = _item_bloqueado(actor, item_id, cliente_id)
        if item.plan.estado != EstadoPlan.VIGENTE:
            raise ValidationError("Este plan ya está terminado o anulado: no se modifica.", code="plan_cerrado")
        # Compare-and-set on the state: an item accepted meanwhile keeps the quote's price.
        filas = ItemPlan.objects.filter(pk=item.pk, estado=EstadoItem.PROPUESTO).update(
            precio=precio, descuento=descuento, fase=fase, orden=orden, actualizado=timezone.now())
        if filas != 1:
            raise ValidationError("Ese ítem ya fue aceptado o realizado: su precio no cambia (puede cancelarlo).",
                                  code="item_fijo")
        item.refresh_from_db()
        return item


def quitar_item(*, actor, item_id, cliente_id=None) -> None:
    """Remove a proposed item (one never accepted). Raises ValidationError (``item_fijo``,
    ``item_en_presupuesto``), ``ItemPlan.DoesNotExist``."""
    with operacion("quitar_item_plan", actor=actor):
        item = _item_bloqueado(actor, item_id, cliente_id)
        if item.estado != EstadoItem.PROPUESTO:
            raise ValidationError("Ese ítem ya fue aceptado o realizado: no se quita (puede cancelarlo).",
                                  code="item_fijo")
        if item.lineas.exists():
            raise ValidationError("Ese ítem está en un presupuesto emitido: no se quita.", code="item_en_presupuesto")
        item.delete()


def cancelar_item(*, actor, item_id, cliente_id=None) -> ItemPlan:
    """Cancel an accepted item (pending work that will not be done; it is not charged). Raises
    ValidationError (``item_no_cancelable``), ``ItemPlan.DoesNotExist``."""
    with operacion("cancelar_item_plan", actor=actor):
        item = _item_bloqueado(actor, item_id, cliente_id)
        filas = ItemPlan.objects.filter(pk=item.pk, estado=EstadoItem.ACEPTADO).update(
            estado=EstadoItem.CANCELADO, actualizado=timezone.now())
        if filas != 1:
            raise ValidationError("Solo se cancela un ítem aceptado por realizar (uno propuesto se quita).",
                                  code="item_no_cancelable")
        item.refresh_from_db()
        return item


def cerrar_plan(*, actor, plan_id, estado, cliente_id=None) -> PlanTratamiento:
    """End (``terminado``) or annul (``anulado``) a plan in force. Annulling cancels its open
    items and is refused once something was done (end it instead). Raises ValidationError
    (``estado_invalido``, ``plan_con_realizados``, ``plan_cerrado``), ``PlanTratamiento.DoesNotExist``."""
    if estado not in (EstadoPlan.TERMINADO, EstadoPlan.ANULADO):
        raise ValidationError("Acción no reconocida.", code="estado_invalido")
    with operacion("cerrar_plan_tratamiento", actor=actor):
        plan = _plan_abierto(actor, plan_id, cliente_id)
        if estado == EstadoPlan.ANULADO:
            if plan.items.filter(estado=EstadoItem.REALIZADO).exists():
                raise ValidationError("Este plan ya tiene trabajos realizados: no se anula (termínelo).",
                                      code="plan_con_realizados")
            plan.items.filter(estado=EstadoItem.ACEPTADO).update(estado=EstadoItem.CANCELADO,
                                                                  actualizado=timezone.now())
        plan.estado = estado
        plan.save(update_fields=["estado", "actualizado"])
        return plan


def marcar_realizado(*, actor, item_id, evolucion_id, cliente_id=None) -> ItemPlan:
    """The item was done in this visit: ``evolucion_id`` is the acting dentist's own draft note
    of the item's patient. A compare-and-set on the state (proposed or accepted → done, with
    when, who and the note; an item not accepted before is accepted now): of two clicks, one
    marks it. An item made from a finding charts that finding ``realizado`` in the same
    transaction. Raises ValidationError (``ya_realizado``, ``evolucion_invalida``,
    ``sin_acceso``, ``plan_cerrado``), ``ItemPlan.DoesNotExist``."""
    with operacion("marcar_item_realizado", actor=actor):
        item = _item_bloqueado(actor, item_id, cliente_id)
        perfil = exigir_dentista_con_acceso(actor, item.plan.cliente_id)
        nota = None
        if es_id_valido(evolucion_id):
            nota = Evolucion.objects.filter(pk=evolucion_id, cliente_id=item.plan.cliente_id, dentista_id=perfil.pk,
                                            firmada_en__isnull=True).first()
        if nota is None:
            raise _error("evolucion", "Esa evolución no es un borrador suyo de este paciente.", "evolucion_invalida")
        if item.estado == EstadoItem.REALIZADO:
            raise ValidationError("Ese ítem ya estaba marcado como realizado.", code="ya_realizado")
        if item.plan.estado != EstadoPlan.VIGENTE:
            raise ValidationError("Este plan ya está terminado o anulado: no se modifica.", code="plan_cerrado")
        filas = ItemPlan.objects.filter(pk=item.pk, estado__in=ABIERTOS).update(
            estado=EstadoItem.REALIZADO, realizado_en=Now(), realizado_por=perfil, evolucion=nota,
            aceptado_en=Coalesce("aceptado_en", Now()), actualizado=timezone.now())
        if filas != 1:
            raise ValidationError("Ese ítem ya no está pendiente (fue realizado o cancelado).", code="ya_realizado")
        if item.hallazgo_id is not None:
            marca = MarcaOdontograma.objects.filter(pk=item.hallazgo_id).only("diente", "superficie", "estado").first()
            if marca is not None:
                registrar_cambios_en_transaccion(
                    actor=actor, cliente_id=item.plan.cliente_id, evolucion_id=nota.pk,
                    cambios=[Cambio(diente=marca.diente, superficie=marca.superficie, estado=marca.estado,
                                    condicion=Condicion.REALIZADO)])
        item.refresh_from_db()
        return item

