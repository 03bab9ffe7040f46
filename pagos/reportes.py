"""The clinic's money reports, computed by PostgreSQL (grouping and sums in SQL, the totals row
by ``ROLLUP``), and their CSV for Excel.

- **Production** (``produccion``): the done plan items (``realizado``) between two days
  (inclusive, days of Santiago), per dentist who did them (``realizado_por``): how many and
  their total. What the clinic produced, whether paid or not.
- **Collections** (``recaudacion``): the ledger entries registered between two days, net
  (payments minus refunds and annulments; a ``traspaso`` moves no money and is left out of the
  methods and the receptionists): per method, per receptionist who registered them, and per
  dentist through what each entry was applied to: a quote counts for its plan's dentist, money
  left on the account counts as "Sin presupuesto". A traspaso in the period moves credit from
  "Sin presupuesto" to the quote's dentist, so the dentists' rows always add up to the net.
- **Pending balances** (``saldos_pendientes``): the patients whose balance (charged − paid, the
  statement's rule: ``pagos.estado_cuenta``) is above zero, largest first, with the day of
  their last payment. As of now: no period.

A period is valid when both days are given, ``desde`` ≤ ``hasta`` and it spans at most two
years (``validar_periodo``, Spanish messages).
"""

import csv
import datetime
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from pacientes.models import rut_legible
from pagos.models import MedioPago, TipoPago
from personal.models import nombre_de_personal
from tratamientos.models import EstadoItem

# Two years (a leap day included): a longer report is a different job (an export of the data).
MAXIMO_DIAS = 731
SIN_PRESUPUESTO = "Sin presupuesto"
_MEDIOS = dict(MedioPago.choices)


def validar_periodo(desde: datetime.date | None, hasta: datetime.date | None) -> None:
    """ValidationError (Spanish, with a code) unless ``desde`` ≤ ``hasta`` and the period spans
    at most ``MAXIMO_DIAS`` days."""
    if desde is None or hasta is None:
        raise ValidationError("Indique las dos fechas del período.", code="periodo_incompleto")
    if desde > hasta:
        raise ValidationError("La fecha «hasta» es anterior a «desde».", code="periodo_invertido")
    if (hasta - desde).days + 1 > MAXIMO_DIAS:
        raise ValidationError("El período no puede superar los dos años.", code="periodo_largo")


# A day of Santiago, [desde 00:00, hasta + 1 00:00), as instants: PostgreSQL does the time zone
# (also on the September day whose midnight does not exist), and the range keeps the index.
_RANGO = """{col} >= (%(desde)s::date)::timestamp AT TIME ZONE %(tz)s
        AND {col} < (%(hasta)s::date + 1)::timestamp AT TIME ZONE %(tz)s"""


def _parametros(desde, hasta, **otros):
    validar_periodo(desde, hasta)
    return {"desde": desde, "hasta": hasta, "tz": settings.TIME_ZONE, **otros}


@dataclass
class Fila:
    """A row of a report; ``total`` marks the totals row (``ROLLUP``)."""
    nombre: str
    cantidad: int
    ingresos: int = 0
    egresos: int = 0
    monto: int = 0
    es_total: bool = False


_SQL_PRODUCCION = f"""
SELECT GROUPING(pf.id), u.first_name, u.last_name, u.username, count(*), coalesce(sum(i.total), 0)
  FROM tratamientos_itemplan i
  JOIN personal_perfil pf ON pf.id = i.realizado_por_id
  JOIN auth_user u ON u.id = pf.user_id
 WHERE i.estado = %(realizado)s AND {_RANGO.format(col="i.realizado_en")}
 GROUP BY ROLLUP ((pf.id, u.first_name, u.last_name, u.username))
 ORDER BY GROUPING(pf.id), sum(i.total) DESC, pf.id
"""


def produccion(*, desde: datetime.date, hasta: datetime.date) -> list[Fila]:
    """Done items per dentist in the period (count and total), largest first, and the totals
    row last (always there, zero when nothing was done). One query."""
    with connection.cursor() as cur:
        cur.execute(_SQL_PRODUCCION, _parametros(desde, hasta, realizado=EstadoItem.REALIZADO))
        filas = [Fila(nombre="Total" if g else nombre_de_personal(fn, ln, un), cantidad=n, monto=total,
                      es_total=bool(g)) for g, fn, ln, un, n, total in cur.fetchall()]
    return filas or [Fila(nombre="Total", cantidad=0, monto=0, es_total=True)]


@dataclass
class Recaudacion:
    por_medio: list
    por_recepcionista: list
    por_dentista: list


# Entries that moved money (a traspaso is zero), grouped by ``{agrupar}``.
_SQL_RECAUDACION = """
SELECT GROUPING({agrupar}), {nombre}, count(*) FILTER (WHERE p.monto > 0),
       coalesce(sum(p.monto) FILTER (WHERE p.monto > 0), 0), coalesce(sum(p.monto) FILTER (WHERE p.monto < 0), 0),
       coalesce(sum(p.monto), 0)
  FROM pagos_pago p {union}
 WHERE p.tipo <> %(traspaso)s AND {rango}
 GROUP BY ROLLUP (({agrupar}, {nombre}))
 ORDER BY GROUPING({agrupar}), sum(p.monto) DESC, {agrupar}
"""

# Applications of the period's entries, to the quote's plan's dentist or to no quote.
_SQL_POR_DENTISTA = f"""
SELECT GROUPING(t.dentista_id, u.first_name, u.last_name, u.username), t.dentista_id IS NULL,
       u.first_name, u.last_name, u.username, count(DISTINCT p.id) FILTER (WHERE p.monto > 0),
       coalesce(sum(a.monto) FILTER (WHERE a.monto > 0), 0), coalesce(sum(a.monto) FILTER (WHERE a.monto < 0), 0),
       coalesce(sum(a.monto), 0)
  FROM pagos_aplicacionpago a
  JOIN pagos_pago p ON p.id = a.pago_id
  LEFT JOIN tratamientos_presupuesto q ON q.id = a.presupuesto_id
  LEFT JOIN tratamientos_plantratamiento t ON t.id = q.plan_id
  LEFT JOIN personal_perfil pf ON pf.id = t.dentista_id
  LEFT JOIN auth_user u ON u.id = pf.user_id
 WHERE {_RANGO.format(col="p.registrado_en")}
 GROUP BY ROLLUP ((t.dentista_id, u.first_name, u.last_name, u.username))
 ORDER BY GROUPING(t.dentista_id, u.first_name, u.last_name, u.username), t.dentista_id IS NULL, sum(a.monto) DESC,
          t.dentista_id
"""


def _total_vacio(filas):
    return filas or [Fila(nombre="Total", cantidad=0, es_total=True)]


def recaudacion(*, desde: datetime.date, hasta: datetime.date) -> Recaudacion:
    """Net collections of the period per method, per receptionist and per dentist (see the
    module's rule); each list ends with its totals row. Three queries."""
    p = _parametros(desde, hasta, traspaso=TipoPago.TRASPASO)
    rango = _RANGO.format(col="p.registrado_en")
    with connection.cursor() as cur:
        cur.execute(_SQL_RECAUDACION.format(agrupar="p.medio", nombre="p.medio", union="", rango=rango), p)
        por_medio = [Fila(nombre="Total" if g else _MEDIOS.get(medio, medio), cantidad=n, ingresos=i, egresos=e,
                          monto=m, es_total=bool(g)) for g, medio, n, i, e, m in cur.fetchall()]
        cur.execute(_SQL_RECAUDACION.format(
            agrupar="p.registrado_por_id", nombre="u.first_name, u.last_name, u.username",
            union="JOIN auth_user u ON u.id = p.registrado_por_id", rango=rango), p)
        por_recepcionista = [
            Fila(nombre="Total" if g else nombre_de_personal(fn, ln, un), cantidad=n, ingresos=i, egresos=e, monto=m,
                 es_total=bool(g)) for g, fn, ln, un, n, i, e, m in cur.fetchall()]
        cur.execute(_SQL_POR_DENTISTA, p)
        por_dentista = [
            Fila(nombre="Total" if g else SIN_PRESUPUESTO if sin else nombre_de_personal(fn, ln, un), cantidad=n,
                 ingresos=i, egresos=e, monto=m, es_total=bool(g))
            for g, sin, fn, ln, un, n, i, e, m in cur.fetchall()]
    return Recaudacion(por_medio=_total_vacio(por_medio), por_recepcionista=_total_vacio(por_recepcionista),
                       por_dentista=_total_vacio(por_dentista))


@dataclass
class SaldoPendiente:
    cliente_id: int
    nombre: str
    rut: str
    cargado: int
    pagado: int
    saldo: int
    ultimo_pago: datetime.datetime | None


_SQL_SALDOS = """
WITH cargos AS (
    SELECT t.cliente_id, sum(i.total) AS cargado
      FROM tratamientos_itemplan i JOIN tratamientos_plantratamiento t ON t.id = i.plan_id
     WHERE i.estado = %(realizado)s
     GROUP BY t.cliente_id
), pagos AS (
    SELECT p.cliente_id, sum(p.monto) AS pagado, max(p.registrado_en) FILTER (WHERE p.tipo = %(pago)s) AS ultimo
      FROM pagos_pago p
     GROUP BY p.cliente_id
), saldos AS (
    SELECT c.cliente_id, c.cargado, coalesce(g.pagado, 0) AS pagado, c.cargado - coalesce(g.pagado, 0) AS saldo,
           g.ultimo
      FROM cargos c LEFT JOIN pagos g ON g.cliente_id = c.cliente_id
)
SELECT s.cliente_id, cl.nombre_completo, coalesce(cl.rut, ''), s.cargado, s.pagado, s.saldo, s.ultimo,
       count(*) OVER (), sum(s.saldo) OVER ()
  FROM saldos s JOIN pacientes_cliente cl ON cl.id = s.cliente_id
 WHERE s.saldo > 0
 ORDER BY s.saldo DESC, s.cliente_id
 LIMIT %(limite)s OFFSET %(desde)s
"""


@dataclass
class Saldos:
    filas: list
    pacientes: int  # how many patients owe, in all (not only this window)
    total: int  # what they owe in all


def saldos_pendientes(*, desde: int = 0, limite: int | None = None) -> Saldos:
    """Patients with a balance above zero, largest first (a window of ``limite`` rows from
    ``desde``; None: all), with the count and the sum over all of them. One query."""
    with connection.cursor() as cur:
        cur.execute(_SQL_SALDOS, {"realizado": EstadoItem.REALIZADO, "pago": TipoPago.PAGO, "limite": limite,
                                  "desde": max(0, desde)})
        filas = cur.fetchall()
    if not filas and desde > 0:  # past the last page: the count and the sum all the same
        return Saldos([], *(lambda s: (s.pacientes, s.total))(saldos_pendientes(limite=1)))
    pacientes, total = (filas[0][7], filas[0][8]) if filas else (0, 0)
    return Saldos(filas=[SaldoPendiente(*f[:7]) for f in filas], pacientes=pacientes, total=total or 0)


# --- CSV for Excel ---------------------------------------------------------------------------


def csv_para_excel(encabezados, filas) -> bytes:
    """A CSV that Chilean Excel opens right with a double click: UTF-8 with a BOM (accents),
    ``;`` between fields (the comma is the decimal separator there), CRLF line ends. Amounts go
    as plain integers ("45000"), so Excel reads numbers it can add up."""
    salida = io.StringIO()
    escritor = csv.writer(salida, delimiter=";", lineterminator="\r\n")
    escritor.writerow(encabezados)
    for fila in filas:
        escritor.writerow(["" if v is None else _celda(v) for v in fila])
    return ("\ufeff" + salida.getvalue()).encode("utf-8")


def _celda(valor):
    if isinstance(valor, datetime.datetime):
        return timezone.localtime(valor).strftime("%d-%m-%Y %H:%M")
    if isinstance(valor, datetime.date):
        return valor.strftime("%d-%m-%Y")
    if isinstance(valor, str) and valor[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # A text cell that Excel would run as a formula (CSV injection) is kept as text.
        return "'" + valor
    return valor


def csv_produccion(filas) -> bytes:
    return csv_para_excel(["Dentista", "Prestaciones realizadas", "Total (CLP)"],
                          [(f.nombre, f.cantidad, f.monto) for f in filas])


def csv_recaudacion(r: Recaudacion) -> bytes:
    filas = []
    for grupo, lista in (("Medio de pago", r.por_medio), ("Recepcionista", r.por_recepcionista),
                         ("Dentista", r.por_dentista)):
        filas += [(grupo, f.nombre, f.cantidad, f.ingresos, f.egresos, f.monto) for f in lista]
    return csv_para_excel(["Agrupado por", "Nombre", "Pagos", "Ingresos (CLP)", "Devoluciones y anulaciones (CLP)",
                           "Neto (CLP)"], filas)


def csv_saldos(s: Saldos) -> bytes:
    return csv_para_excel(["Paciente", "RUT", "Cargado (CLP)", "Pagado (CLP)", "Saldo pendiente (CLP)", "Último pago"],
                          [(f.nombre, rut_legible(f.rut) if f.rut else "", f.cargado, f.pagado, f.saldo,
                            f.ultimo_pago) for f in s.filas])


def csv_estado_de_cuenta(estado) -> bytes:
    """The whole statement (``pagos.estado_cuenta.EstadoCuenta`` with every row) in one sheet:
    the totals, the charges and the ledger entries."""
    filas = [("Resumen", "Cargado", "", "", "", estado.cargado),
             ("Resumen", "Pagado", "", "", "", estado.pagado),
             ("Resumen", "Saldo (cargado − pagado)", "", "", "", estado.saldo),
             ("Resumen", "Saldo a favor disponible", "", "", "", estado.credito)]
    for c in estado.cargos:
        donde = f"diente {c.diente}{c.superficie}" if c.diente else ""
        filas.append(("Cargo", c.realizado_en, f"{c.codigo} {c.prestacion}", donde, c.dentista, c.total))
    for m in estado.movimientos:
        filas.append((m.tipo_legible, m.registrado_en, f"Comprobante N° {m.numero}", m.medio_legible,
                      m.aplicado_a, m.monto))
    return csv_para_excel(["Tipo", "Fecha", "Detalle", "Diente / medio", "Dentista / aplicado a", "Monto (CLP)"],
                          filas)
