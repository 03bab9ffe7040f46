import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from nucleo.servicios import RESTRICCIONES_IMPLICITAS, _restricciones_por_nombre, operacion

TABLAS_DEL_DOMINIO = [
    "auth_user", "pacientes_cliente", "cuentas_perfilcliente", "personal_perfil", "citas_cita",
    "notificaciones_notificacion", "citas_horarioatencion", "citas_cierre",
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


def _lineas(caplog, nivel):
    return [r.getMessage() for r in caplog.records if r.name == "nucleo.servicios" and r.levelno == nivel]


def test_un_rechazo_deja_una_linea_de_aviso_con_sus_codigos(db, caplog):
    from django.core.exceptions import ValidationError

    caplog.set_level(logging.INFO, logger="nucleo.servicios")
    with pytest.raises(ValidationError):
        with operacion("servicio_de_prueba"):
            raise ValidationError({"email": ValidationError("x", code="email_duplicado"),
                                   "rut": ValidationError("y", code="rut_invalido")})
    assert _lineas(caplog, logging.WARNING) == [
        "servicio_rechazado servicio=servicio_de_prueba codigos=email_duplicado,rut_invalido actor_id=None"
    ]


def test_una_restriccion_de_la_base_deja_su_codigo(db, caplog, recepcionista):
    from django.core.exceptions import ValidationError

    from personal.models import Perfil

    caplog.set_level(logging.INFO, logger="nucleo.servicios")
    with pytest.raises(ValidationError):
        with operacion("servicio_de_prueba", actor=recepcionista.user):
            Perfil.objects.create(user=recepcionista.user, rol="recepcion")  # one staff profile per login
    assert _lineas(caplog, logging.WARNING) == [
        f"servicio_rechazado servicio=servicio_de_prueba codigos=perfil_duplicado actor_id={recepcionista.user.pk}"
    ]


def test_una_falla_inesperada_deja_una_linea_de_error_sin_datos(db, caplog):
    caplog.set_level(logging.INFO, logger="nucleo.servicios")
    with pytest.raises(RuntimeError):
        with operacion("servicio_de_prueba"):
            raise RuntimeError("ana@correo.example")
    assert _lineas(caplog, logging.ERROR) == ["servicio_fallido servicio=servicio_de_prueba error=RuntimeError actor_id=None"]
    assert "ana@correo.example" not in caplog.text
