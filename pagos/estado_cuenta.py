"""The patient's account statement (estado de cuenta): what they were charged, what they paid,
and the balance. One selector, ``estado_de_cuenta``, read by the staff page, its CSV and the
portal, so both sites show the same numbers.

The rule, in words:

- **Charged** (``cargado``) is the sum of the totals (price − discount) of the patient's plan
  items in state ``realizado``: work is charged when it is done, at the price it was accepted
  at. A proposed, pending (``aceptado``) or cancelled item is not a charge.
- **Paid** (``pagado``) is the sum of the patient's ledger entries (``Pago.monto``): payments
  are positive, refunds and annulments negative (an annulled payment and its annulment add up
  to zero), a move of credit to a quote (``traspaso``) is zero. So it is the money the patient
  has actually left with the clinic.
- **Balance** (``saldo``) = charged − paid. Positive: the patient owes it ("Saldo pendiente").
  Negative: the patient paid for work not done yet, or overpaid ("Saldo a favor").
- **Credit available** (``credito``) is the sum of the applications to the account
  (``AplicacionPago`` with no quote): money not tied to any quote, which reception may move to a
  quote (``traspaso``) or give back (``devolucion``).
- A payment applied to a quote is **not a charge**: an accepted quote is a promise of price for
  work still to do, and a payment against it is an advance (abono). It lowers the balance; the
  charge appears only when the dentist marks each item done. Per accepted quote the statement
  says its total, what was applied to it, what it still owes (total − applied) and how many of
  its items are done or still pending.

Every sum is computed by PostgreSQL (``SUM`` in SQL); the lists are one query each, with the
applications of every payment aggregated in the same statement: four queries whatever the
number of rows.
"""

import datetime
import hashlib
import pickle
from dataclasses import dataclass, field
from functools import cached_property

from nucleo.formato import pesos
from pacientes.models import Cliente
from nucleo.sql import cursor_preparado
from pagos.models import MedioPago, TipoPago
from personal.models import nombre_de_personal
from tratamientos.models import EstadoItem, EstadoPresupuesto

_TIPOS = dict(TipoPago.choices)
_MEDIOS = dict(MedioPago.choices)

_SQL_TOTALES = """
SELECT cl.nombre_completo, coalesce(cl.rut, ''), c.cargado, g.pagado, cr.credito, g.ultimo, c.n, g.n
  FROM pacientes_cliente cl
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(i.total), 0) AS cargado, count(*) AS n
      FROM tratamientos_itemplan i JOIN tratamientos_plantratamiento t ON t.id = i.plan_id
     WHERE t.cliente_id = cl.id AND i.estado = %(realizado)s) c
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(p.monto), 0) AS pagado, max(p.registrado_en) FILTER (WHERE p.tipo = %(pago)s) AS ultimo,
           count(*) AS n
      FROM pagos_pago p WHERE p.cliente_id = cl.id) g
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(a.monto), 0) AS credito
      FROM pagos_aplicacionpago a WHERE a.cliente_id = cl.id AND a.presupuesto_id IS NULL) cr
 WHERE cl.id = %(c)s
"""

_SQL_CARGOS = """
SELECT i.id, (extract(epoch FROM i.realizado_en) * 1000000)::bigint, pr.codigo, pr.nombre, i.diente, i.superficie, u.first_name, u.last_name, u.username,
       i.precio, i.descuento, i.total
  FROM tratamientos_itemplan i
  JOIN tratamientos_plantratamiento t ON t.id = i.plan_id
  JOIN prestaciones_prestacion pr ON pr.id = i.prestacion_id
  JOIN personal_perfil pf ON pf.id = i.realizado_por_id
  JOIN auth_user u ON u.id = pf.user_id
 WHERE t.cliente_id = %(c)s AND i.estado = %(realizado)s
 ORDER BY i.realizado_en DESC, i.id DESC
 LIMIT %(limite)s OFFSET %(desde)s
"""

# Each entry with what it was applied to (quote folio and amount, or the account), in one row.
_SQL_PAGOS = """
SELECT p.id, p.numero, (extract(epoch FROM p.registrado_en) * 1000000)::bigint, p.tipo, p.medio, p.referencia, p.monto, p.motivo,
       orig.numero, anul.numero, u.first_name, u.last_name, u.username,
       a.folios, a.versiones, a.montos
  FROM pagos_pago p
  JOIN auth_user u ON u.id = p.registrado_por_id
  LEFT JOIN pagos_pago orig ON orig.id = p.anula_id
  LEFT JOIN pagos_pago anul ON anul.anula_id = p.id
  CROSS JOIN LATERAL (
    SELECT array_agg(q.numero ORDER BY a.id) AS folios, array_agg(q.version ORDER BY a.id) AS versiones,
           array_agg(a.monto ORDER BY a.id) AS montos
      FROM pagos_aplicacionpago a LEFT JOIN tratamientos_presupuesto q ON q.id = a.presupuesto_id
     WHERE a.pago_id = p.id) a
 WHERE p.cliente_id = %(c)s
 ORDER BY p.registrado_en DESC, p.id DESC
 LIMIT %(limite)s OFFSET %(desde)s
"""

_SQL_PRESUPUESTOS = """
SELECT q.id, q.numero, q.version, q.respondido_en, q.total, t.titulo,
       coalesce((SELECT sum(a.monto) FROM pagos_aplicacionpago a WHERE a.presupuesto_id = q.id), 0),
       l.realizados, l.pendientes, l.lineas
  FROM tratamientos_presupuesto q
  JOIN tratamientos_plantratamiento t ON t.id = q.plan_id
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE i.estado = %(realizado)s) AS realizados,
           count(*) FILTER (WHERE i.estado = %(aceptado)s) AS pendientes,
           count(*) AS lineas
      FROM tratamientos_itempresupuesto li JOIN tratamientos_itemplan i ON i.id = li.item_plan_id
     WHERE li.presupuesto_id = q.id) l
 WHERE q.cliente_id = %(c)s AND q.estado = %(aceptado_q)s
 ORDER BY q.respondido_en DESC, q.id DESC
"""


@dataclass
class Cargo:
    """A done item: what the patient is charged."""
    item_id: int
    realizado_en: datetime.datetime
    codigo: str
    prestacion: str
    diente: int | None
    superficie: str
    dentista: str
    precio: int
    descuento: int
    total: int


@dataclass
class Movimiento:
    """One ledger entry of the patient, and where it went."""
    pago_id: int
    numero: int
    registrado_en: datetime.datetime
    tipo: str
    medio: str
    referencia: str
    monto: int
    motivo: str
    anula_numero: int | None
    anulado_por_numero: int | None
    registrado_por: str
    aplicaciones: list  # [(folio or None for the account, amount)]

    @property
    def tipo_legible(self) -> str:
        return _TIPOS.get(self.tipo, self.tipo)

    @property
    def medio_legible(self) -> str:
        return _MEDIOS.get(self.medio, self.medio)

    @property
    def aplicado_a(self) -> str:
        """"Presupuesto N° 12: $30.000 · Saldo a favor: $5.000"."""
        return " · ".join(f"{'Presupuesto ' + folio if folio else 'Saldo a favor'}: {pesos(monto)}"
                          for folio, monto in self.aplicaciones)


@dataclass
class PresupuestoEnCuenta:
    """An accepted quote, with what was applied to it and how far its work is."""
    presupuesto_id: int
    folio: str
    aceptado_en: datetime.datetime | None
    total: int
    plan: str
    aplicado: int
    realizados: int
    pendientes: int
    lineas: int

    @property
    def debe(self) -> int:
        return self.total - self.aplicado


@dataclass
class EstadoCuenta:
    cliente_id: int
    nombre: str  # the patient's
    rut: str
    cargado: int
    pagado: int
    credito: int
    ultimo_pago: datetime.datetime | None
    total_cargos: int
    total_movimientos: int
    presupuestos: list = field(default_factory=list)
    # The lists' rows as PostgreSQL sent them: turned into ``Cargo`` / ``Movimiento`` only when
    # read (a page whose rows' HTML is cached never builds them).
    _filas_cargos: list = field(default_factory=list, repr=False)
    _filas_movimientos: list = field(default_factory=list, repr=False)

    @cached_property
    def cargos(self) -> list[Cargo]:
        return [Cargo(item_id=f[0], realizado_en=_instante(f[1]), codigo=f[2], prestacion=f[3], diente=f[4], superficie=f[5],
                      dentista=nombre_de_personal(f[6], f[7], f[8]), precio=f[9], descuento=f[10], total=f[11])
                for f in self._filas_cargos]

    @cached_property
    def movimientos(self) -> list[Movimiento]:
        return [Movimiento(pago_id=f[0], numero=f[1], registrado_en=_instante(f[2]), tipo=f[3], medio=f[4], referencia=f[5],
                           monto=f[6], motivo=f[7], anula_numero=f[8], anulado_por_numero=f[9],
                           registrado_por=nombre_de_personal(f[10], f[11], f[12]),
                           aplicaciones=[(_folio(n, v), m) for n, v, m in zip(f[13] or (), f[14] or (), f[15] or ())])
                for f in self._filas_movimientos]

    @property
    def saldo(self) -> int:
        """Charged − paid: positive owed by the patient, negative in their favour."""
        return self.cargado - self.pagado

    @property
    def huella_cargos(self) -> str:
        """A digest of everything the charges' rows show: the key of their rendered HTML (a
        page's rows change only when a row is added, and then the digest changes)."""
        return _huella(self._filas_cargos)

    @property
    def huella_movimientos(self) -> str:
        return _huella(self._filas_movimientos)

    @property
    def saldo_pendiente(self) -> int:
        return max(self.saldo, 0)

    @property
    def saldo_a_favor(self) -> int:
        return max(-self.saldo, 0)


_EPOCA = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _instante(microsegundos: int) -> datetime.datetime:
    # The lists' instants come as epoch microseconds: rows of ints and text pickle fast for
    # their digest (``_huella``); a datetime is built only for a row that is drawn.
    return _EPOCA + datetime.timedelta(microseconds=microsegundos)


def _huella(filas) -> str:
    return hashlib.sha256(pickle.dumps(filas, protocol=5)).hexdigest()


def _folio(numero, version):
    if numero is None:
        return None
    return f"N° {numero}" + (f"-{version}" if version > 1 else "")


def estado_de_cuenta(cliente_id: int, *, cargos=(0, None), movimientos=(0, None)) -> EstadoCuenta:
    """The statement of patient ``cliente_id`` (see the module's rule). ``cargos`` and
    ``movimientos`` are ``(offset, limit)`` windows of the two lists, newest first (``None``:
    every row); the totals always cover everything. ``Cliente.DoesNotExist`` when there is no
    such patient. Four queries, prepared on the server
    (``nucleo.sql.cursor_preparado``: planning them costs more than running them)."""
    p = {"c": cliente_id, "realizado": EstadoItem.REALIZADO, "aceptado": EstadoItem.ACEPTADO,
         "aceptado_q": EstadoPresupuesto.ACEPTADO, "pago": TipoPago.PAGO}
    with cursor_preparado() as cur:
        cur.execute(_SQL_TOTALES, p)
        fila = cur.fetchone()
        if fila is None:
            raise Cliente.DoesNotExist(f"No existe el paciente {cliente_id}.")
        nombre, rut, cargado, pagado, credito, ultimo, n_cargos, n_movs = fila
        estado = EstadoCuenta(cliente_id=cliente_id, nombre=nombre, rut=rut, cargado=cargado, pagado=pagado, credito=credito,
                              ultimo_pago=ultimo, total_cargos=n_cargos, total_movimientos=n_movs)
        cur.execute(_SQL_CARGOS, {**p, "desde": cargos[0], "limite": cargos[1]})
        estado._filas_cargos = cur.fetchall()
        cur.execute(_SQL_PAGOS, {**p, "desde": movimientos[0], "limite": movimientos[1]})
        estado._filas_movimientos = cur.fetchall()
        cur.execute(_SQL_PRESUPUESTOS, p)
        estado.presupuestos = [
            PresupuestoEnCuenta(presupuesto_id=f[0], folio=_folio(f[1], f[2]), aceptado_en=f[3], total=f[4],
                                plan=f[5], aplicado=f[6], realizados=f[7], pendientes=f[8], lineas=f[9])
            for f in cur.fetchall()
        ]
    return estado
