"""Integrity checks of the ledger (invariant 9: a payment is the sum of its applications, and
what is applied to a quote never exceeds its total; invariant 8: an annulment reverses exactly
what it annuls). The triggers and the services' locks hold these; the checks report drift that
arrived another way. Registered in ``nucleo.integridad`` by ``PagosConfig.ready``."""

from __future__ import annotations

from nucleo.integridad import hallazgo_sql, registrar


@registrar("pagos")
def libro_de_pagos(*, limite):
    yield hallazgo_sql(
        "pago_no_cuadra", 9,
        "Movimientos del libro de pagos cuyo monto no es la suma de sus aplicaciones",
        "Anule el movimiento (queda en el libro) y regístrelo de nuevo; revise quién lo escribió.",
        """SELECT p.id AS pago_id, p.numero, p.tipo, p.monto, coalesce(a.suma, 0) AS aplicado,
                  count(*) OVER () AS total
             FROM pagos_pago p
             LEFT JOIN (SELECT pago_id, sum(monto) AS suma FROM pagos_aplicacionpago GROUP BY pago_id) a
                    ON a.pago_id = p.id
            WHERE coalesce(a.suma, 0) <> CASE WHEN p.tipo = 'traspaso' THEN 0 ELSE p.monto END
            ORDER BY p.id""",
        limite=limite,
    )
    yield hallazgo_sql(
        "presupuesto_sobrepagado", 9,
        "Presupuestos con más pagos aplicados que su total",
        "Traspase el exceso al saldo a favor del paciente (anule y registre de nuevo el pago).",
        """SELECT p.id AS presupuesto_id, p.numero, p.total AS total_presupuesto, sum(a.monto) AS aplicado,
                  count(*) OVER () AS total
             FROM tratamientos_presupuesto p JOIN pagos_aplicacionpago a ON a.presupuesto_id = p.id
            GROUP BY p.id HAVING sum(a.monto) > p.total
            ORDER BY p.id""",
        limite=limite,
    )
    yield hallazgo_sql(
        "saldo_a_favor_negativo", 9,
        "Pacientes cuyo saldo a favor (lo aplicado a la cuenta, sin presupuesto) es negativo",
        "Revise las devoluciones y usos de saldo del paciente: se devolvió o usó más de lo que tenía.",
        """SELECT a.cliente_id, sum(a.monto) AS saldo, count(*) OVER () AS total
             FROM pagos_aplicacionpago a WHERE a.presupuesto_id IS NULL
            GROUP BY a.cliente_id HAVING sum(a.monto) < 0
            ORDER BY a.cliente_id""",
        limite=limite,
    )
    yield hallazgo_sql(
        "anulacion_no_cuadra", 8,
        "Anulaciones que no revierten exactamente el movimiento que anulan",
        "Registre la diferencia como un movimiento nuevo, con su motivo.",
        """SELECT n.id AS anulacion_id, n.numero, n.monto, o.numero AS anula_numero, o.monto AS monto_original,
                  count(*) OVER () AS total
             FROM pagos_pago n JOIN pagos_pago o ON o.id = n.anula_id
            WHERE n.monto <> -o.monto OR n.cliente_id <> o.cliente_id
            ORDER BY n.id""",
        limite=limite,
    )
