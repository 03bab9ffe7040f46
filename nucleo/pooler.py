"""What a database connection really is: PostgreSQL itself, or a pooler in transaction mode.

``bin/produccion`` asks before it starts anything (``clinica.arranque``), because a pooler in
transaction mode (PgBouncer ``pool_mode = transaction``) breaks what needs a session without a
clear error: an advisory lock taken through it is held by a pooled server connection that no
client owns any more, a worker's LISTEN is lost, and psycopg's prepared statements end up on
the wrong server connection ("prepared statement "_pg3_0" does not exist"). The settings cannot
tell from a URL whether it names a pooler (PgBouncer answers the PostgreSQL protocol on any
port), so these probes look at what the server does:

- ``es_pooler_de_transacciones``: PostgreSQL keeps one backend for a client connection's whole
  life. Through a transaction pooler a connection's next transaction may run on another one: the
  probe holds one server connection in a second client's open transaction and looks at the backend
  (``pg_backend_pid()``) that runs the first client's next statement.
- ``conserva_preparadas``: prepares a statement on one server connection and runs it again after
  the pooler had to move the client to another. PgBouncer < 1.21, or with
  ``max_prepared_statements = 0``, fails; >= 1.21 with it on re-prepares transparently.

A pooler in session mode behaves as PostgreSQL for both, and is reported as no pooler: it carries
everything (and, with the persistent connections of ``CONN_MAX_AGE``, saves nothing either).
"""

from dataclasses import dataclass

import psycopg
from django.db import connections

RONDAS = 4


def parametros_de(alias: str) -> dict:
    """The psycopg keyword arguments of a Django database alias (as procrastinate builds them)."""
    parametros = connections[alias].get_connection_params()
    for clave in ("cursor_factory", "context", "prepare_threshold"):
        parametros.pop(clave, None)
    parametros.setdefault("connect_timeout", 10)
    return parametros


def _pid(conexion) -> int:
    return conexion.execute("SELECT pg_backend_pid()").fetchone()[0]


def es_pooler_de_transacciones(parametros: dict) -> bool:
    """True when one client connection's transactions may run on different server backends."""
    with psycopg.connect(**parametros, autocommit=True) as a, psycopg.connect(**parametros, autocommit=True) as b:
        for _ in range(RONDAS):
            antes = _pid(a)
            with b.transaction():
                # A pooler gives b the backend a just released (PgBouncer reuses the last one
                # first); PostgreSQL never shares a backend between two connections.
                if _pid(b) == antes:
                    return True
                if _pid(a) != antes:  # b holds another backend; a moved anyway
                    return True
    return False


@dataclass
class Preparadas:
    conservan: bool
    detalle: str = ""


def conserva_preparadas(parametros: dict) -> Preparadas:
    """Whether a statement psycopg prepared still runs after the pooler moved the client to
    another server connection. Through PostgreSQL (or a session pooler) it trivially does."""
    consulta = "SELECT pg_backend_pid() WHERE %s::int = 1"
    with (
        psycopg.connect(**parametros, autocommit=True, prepare_threshold=0) as a,
        psycopg.connect(**parametros, autocommit=True) as b,
    ):
        try:
            for _ in range(RONDAS):
                preparado_en = a.execute(consulta, [1]).fetchone()[0]
                with b.transaction():
                    _pid(b)  # holds a server connection, most likely the one a just used
                    ejecutado_en = a.execute(consulta, [1]).fetchone()[0]
                if ejecutado_en != preparado_en:
                    return Preparadas(True, "la sentencia preparada siguió funcionando en otra conexión del servidor")
        except psycopg.DatabaseError as error:
            return Preparadas(False, f"{type(error).__name__}: {str(error).strip()}")
    return Preparadas(True, "todas las sentencias corrieron en la misma conexión del servidor")
