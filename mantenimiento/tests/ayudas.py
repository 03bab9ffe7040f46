"""Planting anomalies the way imported data, restored backups or SQL by hand leave them:
raw SQL around the services. Healthy rows come from the services (or a plain ORM insert).

Anomalies that a constraint forbids are planted by dropping that constraint or index first,
inside the test's transaction: PostgreSQL's DDL is transactional, so the rollback that ends the
test puts it back. That is the honest picture of a database where the rows predate the
constraint (a CHECK added NOT VALID, an index built after an import failed and was skipped).
"""

import io

from django.core.management import call_command
from django.db import connection

from pacientes.models import Cliente


def ejecutar(sql, parametros=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, parametros or [])
        return cursor.fetchall() if cursor.description else cursor.rowcount


def valor(sql, parametros=None):
    filas = ejecutar(sql, parametros)
    return filas[0][0] if filas else None


def quitar_restriccion(tabla, nombre):
    # Deferred foreign-key checks of the rows the test already wrote must run before ALTER TABLE.
    ejecutar("SET CONSTRAINTS ALL IMMEDIATE")
    ejecutar(f'ALTER TABLE "{tabla}" DROP CONSTRAINT "{nombre}"')


def quitar_indice(nombre):
    ejecutar("SET CONSTRAINTS ALL IMMEDIATE")
    ejecutar(f'DROP INDEX "{nombre}"')


def cuenta_suelta(username, email=None, *, staff=False, superuser=False, nombre="Suelta", apellido="Cuenta"):
    """An ``auth_user`` row inserted by hand (no patient, no profile)."""
    return valor(
        """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                  is_active, date_joined)
           VALUES ('!', %s, %s, %s, %s, %s, %s, true, now()) RETURNING id""",
        [superuser, username, nombre, apellido, username if email is None else email, staff],
    )


def perfil_a_mano(user_id):
    return valor(
        """INSERT INTO cuentas_perfilcliente (user_id, creado, actualizado)
           VALUES (%s, now(), now()) RETURNING id""",
        [user_id],
    )


def ficha(nombre, *, email="", rut="", telefono="", activo=True, user_id=None):
    """A patient record without going through the services (no validation, no account)."""
    return Cliente.objects.create(
        nombre_completo=nombre, email=email, rut=rut, telefono=telefono, activo=activo, user_id=user_id
    ).pk


def existe(tabla, id_):
    return bool(valor(f'SELECT count(*) FROM "{tabla}" WHERE id = %s', [id_]))


def comando(nombre, *args, **opciones):
    """Run a management command; returns its stdout."""
    salida = io.StringIO()
    call_command(nombre, *args, stdout=salida, stderr=io.StringIO(), **opciones)
    return salida.getvalue()


def eventos(tabla_eventos, etiqueta, servicio):
    """Object ids of the pghistory events ``etiqueta`` recorded under ``servicio``."""
    filas = ejecutar(
        f"""SELECT e.pgh_obj_id FROM "{tabla_eventos}" e JOIN pghistory_context x ON x.id = e.pgh_context_id
             WHERE e.pgh_label = %s AND x.metadata ->> 'servicio' = %s ORDER BY 1""",
        [etiqueta, servicio],
    )
    return [f[0] for f in filas]
