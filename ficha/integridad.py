"""Integrity checks of the legal hold (``ficha_resguardo``, issue 15): an erased patient whose
record is held keeps only the minimum identification, with no way to reach them or log in, and
every hold names an existing patient. Registered in ``nucleo.integridad`` by ``FichaConfig.ready``.
Both are listed under invariant 8 (the record the law keeps, kept as it must be)."""

from __future__ import annotations

from nucleo.integridad import hallazgo_sql, registrar


@registrar("ficha")
def resguardos(*, limite):
    yield hallazgo_sql(
        "resguardo_con_contacto", 8,
        "Fichas en resguardo legal cuyo paciente aún tiene datos de contacto, cuenta del portal, "
        "consentimientos vigentes o está activo",
        "El paciente fue eliminado: quite su correo, teléfono y cuenta (o revise quién lo reactivó) en la "
        "gestión de pacientes; la ficha clínica se conserva.",
        """SELECT c.id AS cliente_id, to_char(r.conservar_hasta, 'YYYY-MM-DD') AS conservar_hasta,
                  array_remove(ARRAY[
                      CASE WHEN c.email <> '' THEN 'correo' END,
                      CASE WHEN c.telefono <> '' THEN 'telefono' END,
                      CASE WHEN c.user_id IS NOT NULL THEN 'cuenta' END,
                      CASE WHEN c.activo THEN 'activo' END,
                      CASE WHEN EXISTS (SELECT 1 FROM pacientes_consentimientocanal k
                                         WHERE k.cliente_id = c.id AND k.revocado_en IS NULL)
                           THEN 'consentimiento' END], NULL) AS queda,
                  count(*) OVER () AS total
             FROM ficha_resguardo r JOIN pacientes_cliente c ON c.id = r.cliente_id
            WHERE c.email <> '' OR c.telefono <> '' OR c.user_id IS NOT NULL OR c.activo
               OR EXISTS (SELECT 1 FROM pacientes_consentimientocanal k
                           WHERE k.cliente_id = c.id AND k.revocado_en IS NULL)
            ORDER BY c.id""",
        limite=limite,
    )
    yield hallazgo_sql(
        "resguardo_sin_paciente", 8, "Resguardos legales que no corresponden a ningún paciente",
        "Restaure el paciente desde un respaldo o elimine el resguardo huérfano a mano, dejando constancia.",
        """SELECT r.id AS resguardo_id, r.cliente_id, count(*) OVER () AS total
             FROM ficha_resguardo r LEFT JOIN pacientes_cliente c ON c.id = r.cliente_id
            WHERE c.id IS NULL ORDER BY r.id""",
        limite=limite,
    )
