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
    ]

    operations = [
        migrations.RunSQL(ADELANTE[0], ATRAS[1]),
        migrations.RunSQL(ADELANTE[1], ATRAS[0]),
    ]
