"""Integrity reads: orphans, drift between a patient and their login, and the run of every
integrity check the apps register in ``nucleo.integridad`` (each invariant of DESIGN.md that data
imported around the constraints could break).

Every read is one set-wise SQL query (joins and aggregates, never a loop per row), so the
reports stay fast on a million patients. Definitions follow DESIGN.md invariant 2 exactly: a
*patient login* is a ``User`` that is not ``is_staff``, not superuser and has no
``personal_perfil`` row; it is an orphan when no *active* ``Cliente`` points at it (a
deactivated patient's account is one too); a ``PerfilCliente`` is an orphan when its user has no
active ``Cliente``.

One refinement, so that no command destroys what another would repair: a login that belongs to
no patient but whose e-mail or username is the e-mail of an active patient without an account
(the seed's fallback for old data) is *por vincular*, not an orphan. ``sincronizar_clientes``
links it; ``limpiar_registros_huerfanos`` never deletes it; ``verificar_integridad`` reports it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction

from nucleo.integridad import InformeIntegridad, filas, registro, sin_tope

LIMITE_EJEMPLOS = 10
# Memory for the sorts and hashes of one check over whole tables. PostgreSQL's default (4 MB)
# sends a million rows to disk and triples the time; a query holds a few of these at most.
WORK_MEM = os.environ.get("MANTENIMIENTO_WORK_MEM", "128MB")


@contextmanager
def memoria_para_consultas():
    """``work_mem = WORK_MEM`` for the current transaction only (opens one, or a savepoint)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
        yield


# SQL pieces shared with mantenimiento.services ----------------------------------------------


def no_personal(u: str) -> str:
    """SQL: ``u`` (an alias of auth_user) is a patient login, not staff (invariant 2)."""
    return (
        f"(NOT {u}.is_staff AND NOT {u}.is_superuser "
        f"AND NOT EXISTS (SELECT 1 FROM personal_perfil pp WHERE pp.user_id = {u}.id))"
    )


# Python's whitespace (what ``str.split()`` splits on), as SQL: PostgreSQL's ``\s`` leaves out
# some of it (no-break spaces, U+001C..U+001F), and names pasted from documents carry them.
_ESPACIOS = [chr(n) for n in range(0x3001) if chr(n).isspace()]
_CLASE_ESPACIOS = "('[' || " + " || ".join(f"chr({ord(c)})" for c in _ESPACIOS) + " || ']+')"
_OTROS_ESPACIOS = "(" + " || ".join(f"chr({ord(c)})" for c in _ESPACIOS if c != " ") + ")"


def nombre_de_cuenta(columna: str) -> str:
    """SQL for a LATERAL subquery giving ``nombre``/``apellido`` of ``columna`` exactly as
    ``cuentas.services.dividir_nombre`` splits a full name (Chileans carry two surnames)."""
    return f"""
        LATERAL (SELECT array_remove(regexp_split_to_array({columna}, {_CLASE_ESPACIOS}), '') AS p) partes,
        LATERAL (SELECT
            left(CASE WHEN cardinality(partes.p) >= 4
                      THEN array_to_string(partes.p[1:cardinality(partes.p) - 2], ' ')
                      ELSE coalesce(partes.p[1], '') END, 150) AS nombre,
            left(CASE WHEN cardinality(partes.p) >= 4
                      THEN array_to_string(partes.p[cardinality(partes.p) - 1:cardinality(partes.p)], ' ')
                      ELSE array_to_string(partes.p[2:cardinality(partes.p)], ' ') END, 150) AS apellido
        ) nn"""


def nombre_al_dia(nombre: str, first: str, last: str) -> str:
    """SQL: a cheap test, without splitting, that (``first``, ``last``) is exactly
    ``dividir_nombre(nombre)`` for a name whose only whitespace is single spaces. False means
    "split it to know" (the rare case), not necessarily drift."""
    espacios = f"(length({nombre}) - length(replace({nombre}, ' ', '')))"
    return f"""({first} || ' ' || {last} = {nombre}
        AND length({nombre}) <= 150 AND strpos({nombre}, '  ') = 0 AND {nombre} = btrim({nombre})
        AND {nombre} !~ ('[' || {_OTROS_ESPACIOS} || ']')
        AND CASE WHEN {espacios} >= 3 THEN length({last}) - length(replace({last}, ' ', '')) = 1
                 ELSE strpos({first}, ' ') = 0 END)"""


# Logins without an active patient (``sin_ficha``), the ones the seed's fallback would link
# (``vinculables``) and the true orphans (``huerfanos``: patient logins, and staff logins that
# carry a PerfilCliente). Anti-joins and equality joins only, so PostgreSQL hashes or merges them.
CTE_HUERFANOS = f"""
    sin_ficha AS MATERIALIZED (
        SELECT u.id AS user_id, u.username, u.email, u.is_active, {no_personal('u')} AS es_paciente,
               EXISTS (SELECT 1 FROM pacientes_cliente ci WHERE ci.user_id = u.id) AS ficha_inactiva
          FROM auth_user u
         WHERE NOT EXISTS (SELECT 1 FROM pacientes_cliente c WHERE c.user_id = u.id AND c.activo)
    ),
    sueltas AS MATERIALIZED (
        SELECT c.id AS cliente_id, c.email FROM pacientes_cliente c
         WHERE c.activo AND c.user_id IS NULL AND c.email <> ''
    ),
    candidatos AS MATERIALIZED (
        SELECT x.cliente_id, s.user_id FROM sin_ficha s JOIN sueltas x ON x.email = lower(btrim(s.email))
         WHERE s.es_paciente AND NOT s.ficha_inactiva
        UNION
        SELECT x.cliente_id, s.user_id FROM sin_ficha s JOIN sueltas x ON x.email = lower(btrim(s.username))
         WHERE s.es_paciente AND NOT s.ficha_inactiva
    ),
    huerfanos AS MATERIALIZED (
        SELECT s.* FROM sin_ficha s
         WHERE NOT EXISTS (SELECT 1 FROM candidatos v WHERE v.user_id = s.user_id)
           AND (s.es_paciente OR EXISTS (SELECT 1 FROM cuentas_perfilcliente p WHERE p.user_id = s.user_id))
    )"""


# Orphans (limpiar_registros_huerfanos) --------------------------------------------------------


@dataclass(frozen=True, order=True)
class UsuarioHuerfano:
    id: int
    username: str
    email: str
    ficha_inactiva: bool  # False: no patient at all; True: only deactivated ones


@dataclass(frozen=True, order=True)
class PerfilHuerfano:
    id: int
    user_id: int
    username: str
    de_personal: bool  # the user is staff: only the profile goes, never the login


@dataclass
class Huerfanos:
    usuarios: list[UsuarioHuerfano] = field(default_factory=list)
    total_usuarios: int = 0
    perfiles: list[PerfilHuerfano] = field(default_factory=list)
    total_perfiles: int = 0
    por_vincular: int = 0  # logins kept for sincronizar_clientes (the seed's fallback)

    @property
    def vacio(self):
        return not (self.total_usuarios or self.total_perfiles)


@memoria_para_consultas()
def huerfanos(*, limite=100) -> Huerfanos:
    """The orphan logins and portal profiles (invariant 2), up to ``limite`` of each listed
    (None or 0: all), with the totals. One query."""
    leidas = filas(
        f"""
        WITH {CTE_HUERFANOS},
        usuarios AS (
            SELECT 'usuario' AS tipo, h.user_id AS id, h.user_id, h.username, h.email, h.ficha_inactiva,
                   false AS de_personal, count(*) OVER () AS total
              FROM huerfanos h WHERE h.es_paciente ORDER BY h.user_id LIMIT %(limite)s
        ),
        perfiles AS (
            SELECT 'perfil' AS tipo, p.id, p.user_id, h.username, h.email, h.ficha_inactiva,
                   NOT h.es_paciente AS de_personal, count(*) OVER () AS total
              FROM cuentas_perfilcliente p JOIN huerfanos h ON h.user_id = p.user_id
             ORDER BY p.id LIMIT %(limite)s
        )
        SELECT * FROM usuarios
        UNION ALL SELECT * FROM perfiles
        UNION ALL SELECT 'vinculables', count(DISTINCT user_id), NULL, NULL, NULL, NULL, NULL, NULL FROM candidatos
        """,
        {"limite": sin_tope(limite)},
    )
    resultado = Huerfanos()
    for fila in leidas:
        if fila["tipo"] == "usuario":
            resultado.total_usuarios = fila["total"]
            resultado.usuarios.append(
                UsuarioHuerfano(fila["id"], fila["username"], fila["email"], fila["ficha_inactiva"])
            )
        elif fila["tipo"] == "perfil":
            resultado.total_perfiles = fila["total"]
            resultado.perfiles.append(PerfilHuerfano(fila["id"], fila["user_id"], fila["username"], fila["de_personal"]))
        else:
            resultado.por_vincular = fila["id"]
    return resultado


# Drift between a patient and their login (sincronizar_clientes) --------------------------------

# Active patients linked to a patient login whose e-mail, username or names differ from the
# record. ``conflicto``: the repair would need an e-mail that is empty, too long for a username,
# or already used by another login (validar_username_disponible's rule): reported, never guessed.
CTE_DERIVA = f"""
    deriva_base AS MATERIALIZED (
        SELECT c.id AS cliente_id, u.id AS user_id, c.email AS email_ficha, c.nombre_completo,
               u.first_name, u.last_name, u.email <> c.email AS email_distinto, u.username <> c.email AS usuario_distinto
          FROM pacientes_cliente c JOIN auth_user u ON u.id = c.user_id
         WHERE c.activo AND {no_personal('u')}
           AND (u.email <> c.email OR u.username <> c.email
                OR NOT {nombre_al_dia('c.nombre_completo', 'u.first_name', 'u.last_name')})
    ),
    deriva AS MATERIALIZED (
        SELECT b.cliente_id, b.user_id, b.email_ficha, nn.nombre, nn.apellido, b.email_distinto, b.usuario_distinto,
               (b.first_name <> nn.nombre OR b.last_name <> nn.apellido) AS nombre_distinto
          FROM deriva_base b, {nombre_de_cuenta('b.nombre_completo')}
         WHERE b.email_distinto OR b.usuario_distinto OR b.first_name <> nn.nombre OR b.last_name <> nn.apellido
    ),
    ocupados AS MATERIALIZED (
        SELECT d.cliente_id FROM deriva d JOIN auth_user o ON lower(o.username) = d.email_ficha
         WHERE o.id <> d.user_id AND (d.email_distinto OR d.usuario_distinto)
        UNION
        SELECT d.cliente_id FROM deriva d JOIN auth_user o ON lower(o.email) = d.email_ficha
         WHERE o.id <> d.user_id AND (d.email_distinto OR d.usuario_distinto)
    ),
    deriva_revisada AS (
        SELECT d.*, (d.email_ficha = '' OR length(d.email_ficha) > 150
                     OR d.cliente_id IN (SELECT cliente_id FROM ocupados)
                     OR d.email_ficha IN (SELECT e.email_ficha FROM deriva e
                                           GROUP BY e.email_ficha HAVING count(*) > 1)) AS conflicto
          FROM deriva d
    )"""

# Pairs (active patient without account, free patient login) that the fallback finds; a pair is
# unambiguous when neither side has another candidate.
CTE_VINCULOS = f"""
    {CTE_HUERFANOS},
    vinculos AS (
        SELECT v.cliente_id, v.user_id,
               count(*) OVER (PARTITION BY v.cliente_id) AS por_ficha,
               count(*) OVER (PARTITION BY v.user_id) AS por_cuenta
          FROM candidatos v
    )"""

# Active patients whose patient login has no PerfilCliente (the portal needs one).
SQL_SIN_PERFIL = f"""
    SELECT c.id AS cliente_id, c.user_id, count(*) OVER () AS total
      FROM pacientes_cliente c JOIN auth_user u ON u.id = c.user_id
     WHERE c.activo AND {no_personal('u')}
       AND NOT EXISTS (SELECT 1 FROM cuentas_perfilcliente p WHERE p.user_id = c.user_id)
     ORDER BY c.id
"""


@dataclass(frozen=True)
class CuentaDesajustada:
    cliente_id: int
    user_id: int
    campos: tuple[str, ...]  # which of "email", "usuario", "nombre" differ
    conflicto: bool


@dataclass(frozen=True)
class Vinculo:
    cliente_id: int
    user_id: int


@dataclass
class Desajustes:
    por_vincular: list[Vinculo] = field(default_factory=list)
    total_por_vincular: int = 0
    ambiguos: list[Vinculo] = field(default_factory=list)  # every candidate pair of an ambiguous case
    total_ambiguos: int = 0  # patients or logins with more than one candidate
    desajustadas: list[CuentaDesajustada] = field(default_factory=list)
    total_desajustadas: int = 0
    total_conflictos: int = 0
    sin_perfil: list[Vinculo] = field(default_factory=list)
    total_sin_perfil: int = 0

    @property
    def vacio(self):
        return not (self.total_por_vincular or self.total_ambiguos or self.total_desajustadas or self.total_sin_perfil)


@memoria_para_consultas()
def desajustes(*, limite=100) -> Desajustes:
    """What ``sincronizar_clientes`` would repair, and the ambiguous cases it leaves to a person.
    Three queries; up to ``limite`` rows of each kind listed (None or 0: all)."""
    limite = sin_tope(limite)
    resultado = Desajustes()
    for fila in filas(
        f"""
        WITH {CTE_VINCULOS},
        marcados AS (SELECT v.*, (v.por_ficha = 1 AND v.por_cuenta = 1) AS unico FROM vinculos v),
        totales AS (
            SELECT count(*) FILTER (WHERE unico) AS unicos,
                   count(DISTINCT cliente_id) FILTER (WHERE por_ficha > 1)
                   + count(DISTINCT user_id) FILTER (WHERE por_cuenta > 1 AND por_ficha = 1) AS ambiguos
              FROM marcados
        ),
        numerados AS (
            SELECT m.*, row_number() OVER (PARTITION BY m.unico ORDER BY m.cliente_id, m.user_id) AS n
              FROM marcados m
        )
        SELECT x.cliente_id, x.user_id, x.unico, t.unicos, t.ambiguos
          FROM totales t LEFT JOIN numerados x ON (%(limite)s::int IS NULL OR x.n <= %(limite)s::int)
         ORDER BY x.cliente_id, x.user_id
        """,
        {"limite": limite},
    ):
        resultado.total_por_vincular, resultado.total_ambiguos = fila["unicos"], fila["ambiguos"]
        if fila["cliente_id"] is None:
            continue
        vinculo = Vinculo(fila["cliente_id"], fila["user_id"])
        (resultado.por_vincular if fila["unico"] else resultado.ambiguos).append(vinculo)
    for fila in filas(
        f"""
        WITH {CTE_DERIVA}
        SELECT d.*, count(*) OVER () AS total, count(*) FILTER (WHERE d.conflicto) OVER () AS conflictos
          FROM deriva_revisada d ORDER BY d.conflicto DESC, d.cliente_id LIMIT %(limite)s
        """,
        {"limite": limite},
    ):
        campos = tuple(
            nombre for nombre, distinto in (
                ("email", fila["email_distinto"]), ("usuario", fila["usuario_distinto"]),
                ("nombre", fila["nombre_distinto"]),
            ) if distinto
        )
        resultado.desajustadas.append(
            CuentaDesajustada(fila["cliente_id"], fila["user_id"], campos, fila["conflicto"])
        )
        resultado.total_desajustadas = fila["total"]
        resultado.total_conflictos = fila["conflictos"]
    for fila in filas(SQL_SIN_PERFIL + " LIMIT %(limite)s", {"limite": limite}):
        resultado.sin_perfil.append(Vinculo(fila["cliente_id"], fila["user_id"]))
        resultado.total_sin_perfil = fila["total"]
    return resultado


# verificar_integridad -----------------------------------------------------------------------


def verificar_integridad(*, limite_ejemplos=LIMITE_EJEMPLOS, etiquetas=None) -> InformeIntegridad:
    """Run every integrity check the apps registered in ``nucleo.integridad`` (each app's
    ``integridad`` module; invariant 2's, which read the tables of several apps, are in
    ``mantenimiento.integridad``), or only those of ``etiquetas``. Each check is one set-wise
    query or a few; examples carry ids only. Raises ``DatabaseError`` when one fails."""
    with memoria_para_consultas():
        return registro.ejecutar(limite=sin_tope(limite_ejemplos), etiquetas=etiquetas)
