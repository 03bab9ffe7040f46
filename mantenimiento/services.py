"""Maintenance writes: delete orphan logins and profiles, repair drift between patients and
their logins.

Each service is one ``operacion`` (durable transaction + audit context), so pghistory's
triggers on ``auth_user`` (``cuentas.UsuarioAuditado``), ``cuentas_perfilcliente`` and
``pacientes_cliente`` record every row changed or deleted, with the service's name in the
context: that is the audit record of what was removed. Set-wise SQL: the same handful of
statements whether there are ten rows to fix or ten thousand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.utils import timezone

from cuentas.models import PerfilCliente
from mantenimiento.selectors import (
    CTE_DERIVA,
    CTE_HUERFANOS,
    CTE_VINCULOS,
    SQL_SIN_PERFIL,
    WORK_MEM,
    CuentaDesajustada,
    Desajustes,
    PerfilHuerfano,
    UsuarioHuerfano,
    Vinculo,
)
from nucleo.servicios import exigir_transaccion, operacion

# Key of the transaction-level advisory lock the maintenance services share: a clean-up never
# runs while a synchronisation links the very logins it is about to delete, and vice versa.
CERROJO_MANTENIMIENTO = 6_360_000_006


# Rows per write statement. PostgreSQL's bookkeeping of the row triggers (pghistory's audit,
# the foreign-key checks) grows faster than linearly within one statement: measured on a
# million patients, deleting 10,000 logins took 2.6 s in one statement and 1.4 s in five.
LOTE = 2000


def _serializar_mantenimiento(cursor):
    exigir_transaccion()
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CERROJO_MANTENIMIENTO])
    cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
    # Foreign keys checked at each statement's end, not queued to the commit: every statement
    # here leaves them consistent, and a long deferred queue slows the audit triggers down.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _tabla_numerada(cursor, nombre, consulta):
    """``consulta``'s rows in a temporary table ``nombre`` (dropped at commit) with a column
    ``n`` = 1, 2, 3...; returns how many."""
    cursor.execute(f"DROP TABLE IF EXISTS {nombre}")
    cursor.execute(
        f"CREATE TEMP TABLE {nombre} ON COMMIT DROP AS SELECT row_number() OVER () AS n, x.* FROM ({consulta}) x"
    )
    cursor.execute(f"ANALYZE {nombre}")
    cursor.execute(f"SELECT coalesce(max(n), 0) FROM {nombre}")
    return cursor.fetchone()[0]


def _por_lotes(cursor, total, sql, parametros=None):
    """Run ``sql`` once per LOTE rows of a numbered table (it filters on ``%(desde)s < n <=
    %(hasta)s``). Returns (rows it returned, rows it changed)."""
    filas, cambiadas = [], 0
    for desde in range(0, total, LOTE):
        cursor.execute(sql, {**(parametros or {}), "desde": desde, "hasta": desde + LOTE})
        cambiadas += cursor.rowcount
        if cursor.description:
            filas.extend(cursor.fetchall())
    return filas, cambiadas


# Django 6.1's database-level on_delete: PostgreSQL itself cascades or nulls those rows.
_LO_HACE_LA_BASE = tuple(
    accion for accion in (getattr(models, n, None) for n in ("DB_CASCADE", "DB_SET_NULL", "DB_SET_DEFAULT")) if accion
)


def _relaciones_con_usuario():
    """(table, column, on_delete) of every managed table with a foreign key to ``auth_user``,
    read from the models, so a table added by another app is handled without touching this one.
    PerfilCliente is left out: the service deletes it first, by itself, to report it."""
    User = get_user_model()
    for campo in User._meta.get_fields(include_hidden=True):
        if not (campo.auto_created and not campo.concrete and (campo.one_to_many or campo.one_to_one)):
            continue
        modelo = campo.related_model
        if modelo._meta.proxy or not modelo._meta.managed or modelo is PerfilCliente:
            continue
        yield modelo._meta.db_table, campo.field.column, campo.on_delete


@dataclass
class ResultadoLimpieza:
    usuarios: list[UsuarioHuerfano] = field(default_factory=list)
    perfiles: list[PerfilHuerfano] = field(default_factory=list)
    fichas_desvinculadas: int = 0  # deactivated patients whose deleted login was unlinked
    otros: dict[str, int] = field(default_factory=dict)  # rows of other tables, per table
    protegidos: int = 0  # orphan logins kept because a PROTECT/RESTRICT row points at them


def limpiar_registros_huerfanos(*, actor=None) -> ResultadoLimpieza:
    """Delete the orphan logins and portal profiles of invariant 2 (see mantenimiento.selectors).

    Never deletes staff, superusers or anyone with a ``personal_perfil`` (a staff member's stray
    PerfilCliente goes, their login stays), nor a login that ``sincronizar_clientes`` would
    link. A deactivated patient keeps their record; only its link to the deleted login is
    cleared. All in one transaction; the audit trail records each deleted row.
    """
    resultado = ResultadoLimpieza()
    with operacion("limpiar_registros_huerfanos", actor=actor), connection.cursor() as cursor:
        _serializar_mantenimiento(cursor)
        total = _tabla_numerada(
            cursor, "_mant_huerfanos",
            f"WITH {CTE_HUERFANOS} SELECT user_id, username, email, ficha_inactiva, es_paciente "
            f"FROM huerfanos ORDER BY user_id",
        )
        # Lock the logins, then drop any that a concurrent transaction gave an active patient.
        cursor.execute(
            "SELECT u.id FROM auth_user u JOIN _mant_huerfanos h ON h.user_id = u.id ORDER BY u.id FOR UPDATE OF u"
        )
        cursor.execute(
            "DELETE FROM _mant_huerfanos h WHERE EXISTS "
            "(SELECT 1 FROM pacientes_cliente c WHERE c.user_id = h.user_id AND c.activo)"
        )
        relaciones = list(_relaciones_con_usuario())
        for tabla, columna, al_borrar in relaciones:
            if al_borrar not in (models.CASCADE, models.SET_NULL, models.DO_NOTHING, *_LO_HACE_LA_BASE):
                # PROTECT, RESTRICT, SET_DEFAULT...: that row says the login must stay.
                cursor.execute(
                    f'DELETE FROM _mant_huerfanos h WHERE h.es_paciente AND EXISTS '
                    f'(SELECT 1 FROM "{tabla}" t WHERE t."{columna}" = h.user_id)'
                )
                resultado.protegidos += cursor.rowcount
        lote = "h.n > %(desde)s AND h.n <= %(hasta)s"
        filas, _ = _por_lotes(cursor, total, f"""
            DELETE FROM cuentas_perfilcliente p USING _mant_huerfanos h WHERE p.user_id = h.user_id AND {lote}
            RETURNING p.id, p.user_id, h.username, NOT h.es_paciente""")
        resultado.perfiles = sorted(PerfilHuerfano(*fila) for fila in filas)
        borrar = f"SELECT h.user_id FROM _mant_huerfanos h WHERE h.es_paciente AND {lote}"
        for tabla, columna, al_borrar in relaciones:
            if al_borrar is models.CASCADE:
                sql = f'DELETE FROM "{tabla}" WHERE "{columna}" IN ({borrar})'
            elif al_borrar is models.SET_NULL:
                sql = f'UPDATE "{tabla}" SET "{columna}" = NULL WHERE "{columna}" IN ({borrar})'
            else:
                continue
            _, cambiadas = _por_lotes(cursor, total, sql)
            if tabla == "pacientes_cliente":
                resultado.fichas_desvinculadas = cambiadas
            elif cambiadas:
                resultado.otros[tabla] = cambiadas
        filas, _ = _por_lotes(cursor, total, f"""
            DELETE FROM auth_user u USING _mant_huerfanos h WHERE u.id = h.user_id AND h.es_paciente AND {lote}
            RETURNING u.id, u.username, u.email, h.ficha_inactiva""")
        resultado.usuarios = sorted(UsuarioHuerfano(*fila) for fila in filas)
    return resultado


@dataclass
class ResultadoSincronizacion:
    vinculados: list[int] = field(default_factory=list)  # Cliente ids linked to their login
    corregidas: list[int] = field(default_factory=list)  # User ids whose e-mail/username/names were set
    perfiles_creados: list[int] = field(default_factory=list)  # User ids that got a PerfilCliente
    pendientes: Desajustes = field(default_factory=Desajustes)  # what is left for a person


def _insertar_perfiles_faltantes(cursor):
    """PerfilCliente for the logins of active patients that lack one, with the model's defaults."""
    ahora = timezone.now()
    columnas, parametros = ["user_id"], []
    for campo in PerfilCliente._meta.concrete_fields:
        if campo.primary_key or campo.column == "user_id":
            continue
        columnas.append(f'"{campo.column}"')
        valor = ahora if campo.name in ("creado", "actualizado") else campo.get_default()
        parametros.append(campo.get_db_prep_save(valor, connection))
    total = _tabla_numerada(cursor, "_mant_sin_perfil", SQL_SIN_PERFIL)
    marcadores = {f"p{i}": valor for i, valor in enumerate(parametros)}
    valores = [f"%(p{i})s" for i in range(len(parametros))]
    filas, _ = _por_lotes(cursor, total, f"""
        INSERT INTO cuentas_perfilcliente ({", ".join(columnas)})
        SELECT x.user_id, {", ".join(valores)} FROM _mant_sin_perfil x
         WHERE x.n > %(desde)s AND x.n <= %(hasta)s
        RETURNING user_id""", marcadores)
    return sorted(fila[0] for fila in filas)


def _pendientes(cursor, limite):
    """What the repair left for a person, from the sets it worked on (no second pass over the
    tables): the ambiguous pairs and the conflicting logins."""
    pendientes = Desajustes()
    cursor.execute(
        """SELECT (SELECT count(DISTINCT cliente_id) FROM _mant_vinculos WHERE por_ficha > 1)
                + (SELECT count(DISTINCT user_id) FROM _mant_vinculos WHERE por_cuenta > 1 AND por_ficha = 1),
                  (SELECT count(*) FROM _mant_deriva WHERE conflicto)"""
    )
    pendientes.total_ambiguos, pendientes.total_conflictos = cursor.fetchone()
    pendientes.total_desajustadas = pendientes.total_conflictos
    limite = limite or None
    cursor.execute(
        """SELECT cliente_id, user_id FROM _mant_vinculos WHERE NOT (por_ficha = 1 AND por_cuenta = 1)
            ORDER BY cliente_id, user_id LIMIT %s""",
        [limite],
    )
    pendientes.ambiguos = [Vinculo(*fila) for fila in cursor.fetchall()]
    cursor.execute(
        """SELECT cliente_id, user_id, email_distinto, usuario_distinto, nombre_distinto FROM _mant_deriva
            WHERE conflicto ORDER BY cliente_id LIMIT %s""",
        [limite],
    )
    pendientes.desajustadas = [
        CuentaDesajustada(c, u, tuple(n for n, d in (("email", e), ("usuario", us), ("nombre", no)) if d), True)
        for c, u, e, us, no in cursor.fetchall()
    ]
    return pendientes


def sincronizar_clientes(*, actor=None, limite=100) -> ResultadoSincronizacion:
    """Repair drift between active patients and their logins, in one transaction:

    1. link an active patient without an account to the free patient login whose e-mail or
       username is the patient's e-mail (the seed's fallback), only when neither side has another
       candidate;
    2. set each linked login's e-mail, username (= e-mail) and names from the ``Cliente`` (the
       source of truth), unless that e-mail is empty or used by another login;
    3. give a PerfilCliente to the logins of active patients that lack one.

    Ambiguous cases and conflicts are left as they are and returned in ``pendientes`` (up to
    ``limite`` of each kind listed). Staff logins are never touched.
    """
    resultado = ResultadoSincronizacion()
    with operacion("sincronizar_clientes", actor=actor), connection.cursor() as cursor:
        _serializar_mantenimiento(cursor)
        lote = "x.n > %(desde)s AND x.n <= %(hasta)s"
        # Every candidate pair is kept: the unique ones are linked, the rest is the report.
        total = _tabla_numerada(
            cursor, "_mant_vinculos",
            f"WITH {CTE_VINCULOS} SELECT cliente_id, user_id, por_ficha, por_cuenta FROM vinculos "
            f"ORDER BY (por_ficha = 1 AND por_cuenta = 1) DESC, cliente_id, user_id",
        )
        filas, _ = _por_lotes(cursor, total, f"""
            UPDATE pacientes_cliente c SET user_id = x.user_id, actualizado = %(ahora)s
              FROM _mant_vinculos x
             WHERE c.id = x.cliente_id AND c.user_id IS NULL AND x.por_ficha = 1 AND x.por_cuenta = 1 AND {lote}
            RETURNING c.id""", {"ahora": timezone.now()})
        resultado.vinculados = sorted(fila[0] for fila in filas)
        # Drift is read after the links, so a login just linked follows its record too.
        total = _tabla_numerada(
            cursor, "_mant_deriva",
            f"WITH {CTE_DERIVA} SELECT cliente_id, user_id, email_ficha, nombre, apellido, email_distinto, "
            f"usuario_distinto, nombre_distinto, conflicto FROM deriva_revisada ORDER BY conflicto, user_id",
        )
        filas, _ = _por_lotes(cursor, total, f"""
            UPDATE auth_user u SET email = x.email_ficha, username = x.email_ficha, first_name = x.nombre,
                                   last_name = x.apellido
              FROM _mant_deriva x WHERE u.id = x.user_id AND NOT x.conflicto AND {lote}
            RETURNING u.id""")
        resultado.corregidas = sorted(fila[0] for fila in filas)
        resultado.perfiles_creados = _insertar_perfiles_faltantes(cursor)
        resultado.pendientes = _pendientes(cursor, limite)
    return resultado
