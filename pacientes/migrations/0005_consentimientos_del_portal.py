"""The portal account's channel preference and consent dates (cuentas_perfilcliente) move to
the patient: ``Cliente.canal_preferido`` and one ``ConsentimientoCanal`` per consent given,
recorded as given on the portal by the account itself. Set-wise SQL (one statement each)."""

from django.db import migrations

ADELANTE = [
    """
    UPDATE pacientes_cliente c SET canal_preferido = pf.canal_preferido
      FROM cuentas_perfilcliente pf WHERE pf.user_id = c.user_id
    """,
    """
    INSERT INTO pacientes_consentimientocanal
           (creado, actualizado, cliente_id, canal, otorgado_en, medio, registrado_por_id, revocado_medio)
    SELECT now(), now(), c.id, x.canal, x.fecha, 'portal', pf.user_id, ''
      FROM cuentas_perfilcliente pf
      JOIN pacientes_cliente c ON c.user_id = pf.user_id
     CROSS JOIN LATERAL (VALUES ('whatsapp', pf.whatsapp_aceptado_en), ('sms', pf.sms_aceptado_en)) AS x(canal, fecha)
     WHERE x.fecha IS NOT NULL
    """,
    # Consents already withdrawn: the account's columns only held the live ones, but its audit
    # events (cuentas_perfilclienteevent, one row per change) hold each date until it was
    # cleared. Each such change becomes a withdrawn consent: given at the old date, withdrawn
    # when the event was written, by a BAJA/STOP reply when the change was registrar_baja's,
    # else on the portal by the account itself. The proof Ley 21.719 asks for is kept.
    """
    INSERT INTO pacientes_consentimientocanal
           (creado, actualizado, cliente_id, canal, otorgado_en, medio, registrado_por_id,
            revocado_en, revocado_medio, revocado_por_id)
    SELECT now(), now(), c.id, h.canal, h.antes, 'portal', h.user_id, h.pgh_created_at,
           CASE WHEN ctx.metadata ->> 'servicio' = 'registrar_baja' THEN 'respuesta' ELSE 'portal' END,
           CASE WHEN ctx.metadata ->> 'servicio' = 'registrar_baja' THEN NULL ELSE h.user_id END
      FROM (SELECT e.user_id, e.pgh_created_at, e.pgh_context_id, x.canal, x.fecha,
                   LAG(x.fecha) OVER (PARTITION BY e.pgh_obj_id, x.canal ORDER BY e.pgh_id) AS antes
              FROM cuentas_perfilclienteevent e
             CROSS JOIN LATERAL (VALUES ('whatsapp', e.whatsapp_aceptado_en),
                                        ('sms', e.sms_aceptado_en)) AS x(canal, fecha)) h
      JOIN pacientes_cliente c ON c.user_id = h.user_id
      LEFT JOIN pghistory_context ctx ON ctx.id = h.pgh_context_id
     WHERE h.antes IS NOT NULL AND h.fecha IS DISTINCT FROM h.antes AND h.pgh_created_at >= h.antes
    """,
]

# Back to the account's columns (re-added empty by cuentas' reverse migration first).
ATRAS = [
    """
    UPDATE cuentas_perfilcliente pf SET canal_preferido = c.canal_preferido,
           whatsapp_aceptado_en = (SELECT otorgado_en FROM pacientes_consentimientocanal k
                                    WHERE k.cliente_id = c.id AND k.canal = 'whatsapp' AND k.revocado_en IS NULL),
           sms_aceptado_en = (SELECT otorgado_en FROM pacientes_consentimientocanal k
                               WHERE k.cliente_id = c.id AND k.canal = 'sms' AND k.revocado_en IS NULL)
      FROM pacientes_cliente c WHERE c.user_id = pf.user_id
    """,
    "DELETE FROM pacientes_consentimientocanal",
]


class Migration(migrations.Migration):

    dependencies = [
        ("pacientes", "0004_documento_y_consentimientos"),
        ("cuentas", "0001_initial"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.RunSQL(ADELANTE[0], ATRAS[1]),
        migrations.RunSQL(ADELANTE[1], ATRAS[0]),
        migrations.RunSQL(ADELANTE[2], migrations.RunSQL.noop),
    ]
