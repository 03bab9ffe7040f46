"""The one way a service opens its transaction.

``operacion`` = ``atomic(durable=True)`` + the audit context (who, which service) +
translation of constraint violations into ``ValidationError`` with a stable code.
"""

import logging
from contextlib import contextmanager

import pghistory
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from nucleo.registro import registrar_evento

logger = logging.getLogger(__name__)

MENSAJE_INTEGRIDAD_GENERICO = "No se pudo guardar: los datos chocan con otro registro. Revise e intente de nuevo."


# Unique constraints that Django names implicitly (unique=True, OneToOneField): same treatment
# as the named ones in each model's Meta.constraints.
RESTRICCIONES_IMPLICITAS = {
    "auth_user_username_key": (
        "cuenta_duplicada", "Ya existe una cuenta con ese correo. Inicie sesión o recupere su contraseña."
    ),
    "pacientes_cliente_user_id_key": ("cuenta_ya_vinculada", "Esa cuenta ya pertenece a otro paciente."),
    "cuentas_perfilcliente_user_id_key": ("perfil_duplicado", "Esa cuenta ya tiene su perfil del portal."),
    "personal_perfil_user_id_key": ("perfil_duplicado", "Esa cuenta ya pertenece a un miembro del personal."),
    "notificaciones_notificacion_clave_idempotencia_key": (
        "notificacion_duplicada", "Ese aviso ya fue registrado."
    ),
}


def _restricciones_por_nombre():
    restricciones = {}
    for modelo in apps.get_models():
        for restriccion in modelo._meta.constraints:
            restricciones[restriccion.name] = restriccion
    return restricciones


def error_de_integridad(exc: IntegrityError) -> ValidationError:
    """The ValidationError (message and code of the violated constraint) for an IntegrityError."""
    nombre = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if nombre in RESTRICCIONES_IMPLICITAS:
        codigo, mensaje = RESTRICCIONES_IMPLICITAS[nombre]
        return ValidationError(mensaje, code=codigo)
    restriccion = _restricciones_por_nombre().get(nombre)
    if restriccion is None:
        return ValidationError(MENSAJE_INTEGRIDAD_GENERICO, code="integridad")
    return ValidationError(restriccion.violation_error_message, code=restriccion.violation_error_code)


@contextmanager
def operacion(nombre: str, *, actor=None):
    """Run a service's writes in one durable transaction with its audit context.

    Raises ValidationError (with the constraint's code) if the database refuses the writes;
    nothing is kept in that case.
    """
    actor_id = getattr(actor, "pk", None)
    try:
        with transaction.atomic(durable=True), pghistory.context(servicio=nombre, user=actor_id):
            yield
    except IntegrityError as exc:
        error = error_de_integridad(exc)
        _registrar_rechazo(nombre, actor_id, error)
        raise error from exc
    except ValidationError as error:
        _registrar_rechazo(nombre, actor_id, error)
        raise
    except Exception as exc:
        # Nothing was kept (the transaction rolled back); the traceback is the caller's to log.
        registrar_evento(logger, "servicio_fallido", logging.ERROR, servicio=nombre, error=type(exc).__name__,
                         actor_id=actor_id)
        raise


def codigos_de(error: ValidationError) -> str:
    """The error's codes, comma-separated and sorted (``hora_no_disponible``; ``email,rut`` per field)."""
    if hasattr(error, "error_dict"):
        errores = [e for lista in error.error_dict.values() for e in lista]
    else:
        errores = error.error_list
    return ",".join(sorted({str(e.code or "invalido") for e in errores}))


def _registrar_rechazo(nombre, actor_id, error):
    """A service refused inside its transaction (a rule or a constraint): nothing was kept. Codes
    only in the line, never the data that was refused (e-mails, RUTs)."""
    registrar_evento(logger, "servicio_rechazado", logging.WARNING, servicio=nombre, codigos=codigos_de(error),
                     actor_id=actor_id)


def exigir_transaccion():
    """Guard for helpers that are only correct inside a service's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Esta función debe llamarse dentro de la transacción de un servicio.")


def es_id_valido(valor) -> bool:
    """Whether ``valor`` can be a primary key: a positive integer that fits PostgreSQL's bigint
    (not a bool, a string or a float). Ids that arrive from outside (forms, links, jobs) are
    checked with it before a query, so a bad one is a clear "not found", never a 500."""
    return isinstance(valor, int) and not isinstance(valor, bool) and 0 < valor < 2**63
