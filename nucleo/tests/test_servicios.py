import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from nucleo.servicios import RESTRICCIONES_IMPLICITAS, _restricciones_por_nombre, operacion

TABLAS_DEL_DOMINIO = [
    "auth_user", "pacientes_cliente", "cuentas_perfilcliente", "personal_perfil", "citas_cita",
    "notificaciones_notificacion", "citas_horarioatencion", "citas_diacerrado",
]


def test_toda_restriccion_de_la_base_tiene_mensaje_en_espanol(db):
    """Every unique, check or exclusion constraint a service can hit maps to a stable code."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conname FROM pg_constraint
            WHERE contype IN ('u', 'c', 'x') AND conrelid::regclass::text = ANY(%s)
            UNION
            SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indisunique AND NOT i.indisprimary AND i.indrelid::regclass::text = ANY(%s)
            """,
            [TABLAS_DEL_DOMINIO, TABLAS_DEL_DOMINIO],
        )
        en_la_base = {fila[0] for fila in cursor.fetchall()}
    conocidas = set(_restricciones_por_nombre()) | set(RESTRICCIONES_IMPLICITAS)
    # Django's NOT NULL-like checks on positive integers carry no business meaning.
    sin_mensaje = {n for n in en_la_base - conocidas if not n.endswith("_check")}
    assert not sin_mensaje


def test_restriccion_implicita_se_traduce(db):
    get_user_model().objects.create_user(username="ana@correo.example")
    with pytest.raises(ValidationError) as error:
        with operacion("prueba"):
            get_user_model().objects.create_user(username="ana@correo.example")
    assert error.value.code == "cuenta_duplicada"
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_un_servicio_no_se_anida_en_otro():
    """Each service owns its transaction: calling one inside another is a programming error."""
    with pytest.raises(RuntimeError):
        with operacion("exterior"):
            with operacion("interior"):
                pass
