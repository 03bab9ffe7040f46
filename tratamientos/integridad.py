"""Integrity checks of the quotes (invariant 9: totals computed by the database equal the sum of
their lines; invariant 8: an issued quote is never changed). The triggers already refuse both;
these report drift that arrived another way (a restore, a hand edit with triggers off).
Registered in ``nucleo.integridad`` by ``TratamientosConfig.ready``."""

from __future__ import annotations

from nucleo.integridad import hallazgo_sql, registrar


@registrar("tratamientos")
def presupuestos(*, limite):
    yield hallazgo_sql(
        "presupuesto_no_cuadra", 9,
        "Presupuestos cuyo subtotal o descuento no es la suma de sus líneas",
        "Emita una nueva versión del presupuesto desde el plan y revise quién modificó las líneas.",
        """SELECT p.id AS presupuesto_id, p.numero, p.version, p.subtotal, p.descuento,
                  coalesce(l.subtotal, 0) AS suma_lineas, coalesce(l.descuento, 0) AS suma_descuentos,
                  count(*) OVER () AS total
             FROM tratamientos_presupuesto p
             LEFT JOIN (SELECT presupuesto_id, sum(precio) AS subtotal, sum(descuento) AS descuento
                          FROM tratamientos_itempresupuesto GROUP BY presupuesto_id) l ON l.presupuesto_id = p.id
            WHERE l.presupuesto_id IS NULL OR p.subtotal <> l.subtotal OR p.descuento <> l.descuento
            ORDER BY p.id""",
        limite=limite,
    )
    yield hallazgo_sql(
        "presupuesto_de_otro_paciente", 9,
        "Presupuestos cuyo paciente no es el de su plan, o con líneas de otro plan",
        "Anule el presupuesto con una nueva versión desde el plan correcto.",
        """SELECT p.id AS presupuesto_id, p.numero, p.cliente_id, t.cliente_id AS cliente_del_plan,
                  count(*) OVER () AS total
             FROM tratamientos_presupuesto p JOIN tratamientos_plantratamiento t ON t.id = p.plan_id
            WHERE p.cliente_id <> t.cliente_id
               OR EXISTS (SELECT 1 FROM tratamientos_itempresupuesto l
                            JOIN tratamientos_itemplan i ON i.id = l.item_plan_id
                           WHERE l.presupuesto_id = p.id AND i.plan_id <> p.plan_id)
            ORDER BY p.id""",
        limite=limite,
    )
