"""Issue 14: a phone number is confirmed (recorded at the desk, or confirmed with a code) or only
claimed, and only confirmed numbers are unique among active patients.

Existing data: a number counts as confirmed when the clinic recorded it: the patient has no
portal account (only the desk could have written it), or the audit log shows a desk service
(``crear_cliente_presencial``, ``actualizar_cliente``) writing that same number on that record.
A number that only came from a portal sign-up or a portal change stays unconfirmed (the
conservative choice: it receives no SMS/WhatsApp until the patient confirms it with a code).

A trigger clears the confirmation whenever the number changes in an UPDATE that does not set
the confirmation itself (the portal, raw SQL, maintenance), so no path keeps a stale one.

Rollback: the old index (unique over every active phone) cannot come back while two active
patients share a number; the reverse step lists those pairs and stops, so they are resolved by
hand first (clear the unconfirmed ones), instead of failing on the bare database error.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

MARCAR_CONFIRMADOS = """
UPDATE pacientes_cliente c
   SET telefono_verificado_en = now(), telefono_verificado_medio = 'recepcion'
 WHERE c.telefono <> ''
   AND (c.user_id IS NULL
        OR EXISTS (SELECT 1 FROM pacientes_clienteevent e
                     JOIN pghistory_context x ON x.id = e.pgh_context_id
                    WHERE e.pgh_obj_id = c.id AND e.telefono = c.telefono
                      AND x.metadata->>'servicio' IN ('crear_cliente_presencial', 'actualizar_cliente')))
"""

DESCONFIRMAR_AL_CAMBIAR = """
CREATE FUNCTION cliente_telefono_desconfirmar() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.telefono IS DISTINCT FROM OLD.telefono
       AND NEW.telefono_verificado_en IS NOT DISTINCT FROM OLD.telefono_verificado_en THEN
        NEW.telefono_verificado_en := NULL;
        NEW.telefono_verificado_medio := '';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER cliente_telefono_desconfirmar BEFORE UPDATE OF telefono ON pacientes_cliente
    FOR EACH ROW EXECUTE FUNCTION cliente_telefono_desconfirmar();
"""
QUITAR_DESCONFIRMAR = """
DROP TRIGGER IF EXISTS cliente_telefono_desconfirmar ON pacientes_cliente;
DROP FUNCTION IF EXISTS cliente_telefono_desconfirmar();
"""


def revisar_antes_de_volver(apps, schema_editor):
    """Reverse only: stop with the list of active patients sharing a number."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """SELECT telefono, array_agg(id ORDER BY id) FROM pacientes_cliente
                WHERE activo AND telefono <> '' GROUP BY telefono HAVING count(*) > 1 ORDER BY 1 LIMIT 50"""
        )
        repetidos = cursor.fetchall()
    if repetidos:
        detalle = "; ".join(f"{telefono}: pacientes {ids}" for telefono, ids in repetidos)
        raise RuntimeError(
            "No se puede volver al índice único sobre todos los teléfonos: hay pacientes activos que comparten "
            f"número ({detalle}). Quite el número no confirmado de esas fichas y repita."
        )


class Migration(migrations.Migration):

    dependencies = [
        ('pacientes', '0005_consentimientos_del_portal'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='cliente',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='cliente',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='cliente',
            name='delete_delete',
        ),
        migrations.RemoveConstraint(
            model_name='cliente',
            name='cliente_telefono_activo_unico',
        ),
        migrations.RunPython(migrations.RunPython.noop, revisar_antes_de_volver),
        migrations.AddField(
            model_name='cliente',
            name='telefono_verificado_en',
            field=models.DateTimeField(blank=True, null=True, verbose_name='teléfono confirmado el'),
        ),
        migrations.AddField(
            model_name='cliente',
            name='telefono_verificado_medio',
            field=models.CharField(blank=True, choices=[('recepcion', 'Registrado en recepción'), ('codigo', 'Código enviado al número')], db_default='', default='', max_length=10, verbose_name='cómo se confirmó el teléfono'),
        ),
        migrations.AddField(
            model_name='clienteevent',
            name='telefono_verificado_en',
            field=models.DateTimeField(blank=True, null=True, verbose_name='teléfono confirmado el'),
        ),
        migrations.AddField(
            model_name='clienteevent',
            name='telefono_verificado_medio',
            field=models.CharField(blank=True, choices=[('recepcion', 'Registrado en recepción'), ('codigo', 'Código enviado al número')], db_default='', default='', max_length=10, verbose_name='cómo se confirmó el teléfono'),
        ),
        migrations.RunSQL(MARCAR_CONFIRMADOS, migrations.RunSQL.noop),
        pgtrigger.migrations.AddTrigger(
            model_name='cliente',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "pacientes_clienteevent" ("activo", "actualizado", "alergias", "canal_preferido", "clave_envio", "creado", "email", "fecha_nacimiento", "id", "nombre_completo", "numero_documento", "pais_documento", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "rut", "telefono", "telefono_verificado_en", "telefono_verificado_medio", "tipo_documento", "user_id") VALUES (NEW."activo", NEW."actualizado", NEW."alergias", NEW."canal_preferido", NEW."clave_envio", NEW."creado", NEW."email", NEW."fecha_nacimiento", NEW."id", NEW."nombre_completo", NEW."numero_documento", NEW."pais_documento", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."rut", NEW."telefono", NEW."telefono_verificado_en", NEW."telefono_verificado_medio", NEW."tipo_documento", NEW."user_id"); RETURN NULL;', hash='2ebdd1e24eee59e280d10c1a818263fc230570f5', operation='INSERT', pgid='pgtrigger_insert_insert_0dcc7', table='pacientes_cliente', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='cliente',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "pacientes_clienteevent" ("activo", "actualizado", "alergias", "canal_preferido", "clave_envio", "creado", "email", "fecha_nacimiento", "id", "nombre_completo", "numero_documento", "pais_documento", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "rut", "telefono", "telefono_verificado_en", "telefono_verificado_medio", "tipo_documento", "user_id") VALUES (NEW."activo", NEW."actualizado", NEW."alergias", NEW."canal_preferido", NEW."clave_envio", NEW."creado", NEW."email", NEW."fecha_nacimiento", NEW."id", NEW."nombre_completo", NEW."numero_documento", NEW."pais_documento", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."rut", NEW."telefono", NEW."telefono_verificado_en", NEW."telefono_verificado_medio", NEW."tipo_documento", NEW."user_id"); RETURN NULL;', hash='d9ea99cd3f6da49d72ff201b63ad2f9bb839ab10', operation='UPDATE', pgid='pgtrigger_update_update_cf784', table='pacientes_cliente', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='cliente',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "pacientes_clienteevent" ("activo", "actualizado", "alergias", "canal_preferido", "clave_envio", "creado", "email", "fecha_nacimiento", "id", "nombre_completo", "numero_documento", "pais_documento", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "rut", "telefono", "telefono_verificado_en", "telefono_verificado_medio", "tipo_documento", "user_id") VALUES (OLD."activo", OLD."actualizado", OLD."alergias", OLD."canal_preferido", OLD."clave_envio", OLD."creado", OLD."email", OLD."fecha_nacimiento", OLD."id", OLD."nombre_completo", OLD."numero_documento", OLD."pais_documento", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."rut", OLD."telefono", OLD."telefono_verificado_en", OLD."telefono_verificado_medio", OLD."tipo_documento", OLD."user_id"); RETURN NULL;', hash='ccfea807f494dc346e74fed0ea93d0a489519d72', operation='DELETE', pgid='pgtrigger_delete_delete_40967', table='pacientes_cliente', when='AFTER')),
        ),
        migrations.AddConstraint(
            model_name='cliente',
            constraint=models.CheckConstraint(condition=models.Q(('telefono_verificado_en__isnull', True), models.Q(('telefono', ''), _negated=True), _connector='OR'), name='cliente_telefono_verificado_con_numero', violation_error_code='telefono_verificado_sin_numero', violation_error_message='Un teléfono confirmado necesita el número.'),
        ),
        migrations.AddConstraint(
            model_name='cliente',
            constraint=models.UniqueConstraint(models.F('telefono'), condition=models.Q(('activo', True), models.Q(('telefono', ''), _negated=True), ('telefono_verificado_en__isnull', False)), name='cliente_telefono_activo_unico', violation_error_code='telefono_duplicado', violation_error_message='Ya existe un paciente activo con ese teléfono.'),
        ),
        migrations.RunSQL(DESCONFIRMAR_AL_CAMBIAR, QUITAR_DESCONFIRMAR),
    ]
