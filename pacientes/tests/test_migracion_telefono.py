"""The migration of issue 14 (``pacientes/0006_telefono_verificado``): numbers the desk recorded
count as confirmed, numbers from a portal sign-up do not; the rollback stops with a clear list
while two active patients share a number, and works once they do not."""

import pghistory
import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

ANTES = [("pacientes", "0005_consentimientos_del_portal"), ("cuentas", "0002_preferencias_al_paciente")]
DESPUES = [("pacientes", "0006_telefono_verificado")]


def _migrar(destino=None):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(destino or executor.loader.graph.leaf_nodes())


def _sql(consulta, parametros=()):
    with connection.cursor() as cursor:
        cursor.execute(consulta, parametros)
        return cursor.fetchall() if cursor.description else None


def _usuario(nombre):
    [(uid,)] = _sql("""INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
                       VALUES ('!', false, %s, '', '', '', false, true, now()) RETURNING id""", [nombre])
    return uid


def _paciente(nombre, telefono, user_id, servicio):
    with transaction.atomic(), pghistory.context(servicio=servicio):
        [(pk,)] = _sql("""INSERT INTO pacientes_cliente (creado, actualizado, nombre_completo, email, telefono, rut,
                          alergias, activo, user_id) VALUES (now(), now(), %s, '', %s, '', '', true, %s) RETURNING id""",
                       [nombre, telefono, user_id])
    return pk


def test_confirma_lo_de_recepcion_y_el_rollback_exige_resolver_los_repetidos():
    _migrar(ANTES)
    try:
        _paciente("Sin cuenta", "+56961110001", None, "crear_cliente_presencial")
        _paciente("Del portal", "+56961110002", _usuario("portal"), "registrar_cliente_web")
        _paciente("Invitada", "+56961110003", _usuario("invitada"), "crear_cliente_presencial")
        cambiado = _paciente("Cambió en el portal", "+56961110004", _usuario("cambio"), "crear_cliente_presencial")
        with transaction.atomic(), pghistory.context(servicio="actualizar_contacto_del_paciente"):
            _sql("UPDATE pacientes_cliente SET telefono = '+56961110005' WHERE id = %s", [cambiado])
        _migrar(DESPUES)
        assert _sql("""SELECT nombre_completo, telefono_verificado_en IS NOT NULL, telefono_verificado_medio
                         FROM pacientes_cliente ORDER BY id""") == [
            ("Sin cuenta", True, "recepcion"),
            ("Del portal", False, ""),
            ("Invitada", True, "recepcion"),
            ("Cambió en el portal", False, ""),  # the desk's number was replaced on the portal
        ]
        # A stranger's unconfirmed claim on the walk-in's number: allowed now, and it blocks the way back.
        extrano = _paciente("Extraño", "+56961110001", _usuario("extrano"), "registrar_cliente_web")
        with pytest.raises(RuntimeError, match=r"comparten número \(\+56961110001: pacientes \[\d+, \d+\]\)"):
            _migrar(ANTES)
        assert _sql("SELECT count(*) FROM pacientes_cliente WHERE telefono_verificado_en IS NOT NULL") == [(2,)]
        _sql("UPDATE pacientes_cliente SET telefono = '' WHERE id = %s", [extrano])
        _migrar(ANTES)
        assert _sql("""SELECT count(*) FROM information_schema.columns
                        WHERE table_name = 'pacientes_cliente' AND column_name = 'telefono_verificado_en'""") == [(0,)]
    finally:
        _migrar()
