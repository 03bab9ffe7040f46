"""The data migration of issue 13: the portal account's channel and consent dates
(cuentas_perfilcliente) become the patient's (Cliente.canal_preferido, ConsentimientoCanal),
and back when reversed."""

import pghistory
import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

ANTES = [("pacientes", "0004_documento_y_consentimientos"), ("cuentas", "0001_initial")]
DESPUES = [("pacientes", "0005_consentimientos_del_portal"), ("cuentas", "0002_preferencias_al_paciente")]


def _migrar(destino):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(destino)


def _sql(consulta, parametros=()):
    with connection.cursor() as cursor:
        cursor.execute(consulta, parametros)
        return cursor.fetchall() if cursor.description else None


def test_los_consentimientos_de_la_cuenta_pasan_al_paciente_y_vuelven():
    _migrar(ANTES)
    try:
        usuarios = []
        for n in range(3):
            [(uid,)] = _sql("""INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                               is_staff, is_active, date_joined)
                               VALUES ('!', false, %s, '', '', '', false, true, now()) RETURNING id""", [f"u{n}"])
            usuarios.append(uid)
        _sql("""INSERT INTO cuentas_perfilcliente (creado, actualizado, user_id, canal_preferido, whatsapp_aceptado_en,
                sms_aceptado_en) VALUES
                (now(), now(), %s, 'whatsapp', '2026-01-02T10:00:00Z', NULL),
                (now(), now(), %s, 'sms', '2026-01-03T10:00:00Z', '2026-01-04T10:00:00Z'),
                (now(), now(), %s, 'email', '2026-01-05T10:00:00Z', NULL)""", usuarios)
        # Withdrawn before the migration: only the account's audit events remember them.
        _sql("UPDATE cuentas_perfilcliente SET whatsapp_aceptado_en = NULL WHERE user_id = %s", [usuarios[2]])
        with transaction.atomic(), pghistory.context(servicio="registrar_baja"):
            _sql("UPDATE cuentas_perfilcliente SET sms_aceptado_en = NULL WHERE user_id = %s", [usuarios[1]])
        for n, uid in enumerate(usuarios):
            _sql("""INSERT INTO pacientes_cliente (creado, actualizado, nombre_completo, email, telefono, rut, alergias,
                    activo, user_id) VALUES (now(), now(), %s, '', '', '', '', true, %s)""", [f"Paciente {n}", uid])
        _migrar(DESPUES)
        filas = _sql("""SELECT c.nombre_completo, c.canal_preferido, k.canal, to_char(k.otorgado_en AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), k.medio,
                               k.registrado_por_id = c.user_id, k.revocado_en IS NOT NULL, k.revocado_medio,
                               k.revocado_por_id = c.user_id
                          FROM pacientes_cliente c LEFT JOIN pacientes_consentimientocanal k ON k.cliente_id = c.id
                         ORDER BY 1, 3""")
        assert filas == [
            ("Paciente 0", "whatsapp", "whatsapp", "2026-01-02 10:00", "portal", True, False, "", None),
            # Withdrawn by a BAJA/STOP reply (registrar_baja's change): nobody's account did it.
            ("Paciente 1", "sms", "sms", "2026-01-04 10:00", "portal", True, True, "respuesta", None),
            ("Paciente 1", "sms", "whatsapp", "2026-01-03 10:00", "portal", True, False, "", None),
            # Withdrawn on the portal by the account itself.
            ("Paciente 2", "email", "whatsapp", "2026-01-05 10:00", "portal", True, True, "portal", True),
        ]
        _migrar(ANTES)
        assert _sql("""SELECT canal_preferido, whatsapp_aceptado_en IS NOT NULL, sms_aceptado_en IS NOT NULL
                         FROM cuentas_perfilcliente ORDER BY user_id""") == [
            ("whatsapp", True, False), ("sms", True, False), ("email", False, False)]
    finally:
        # Back to the latest schema (later migrations too), so the tests after this one see it.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
