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

import threading
from dataclasses import dataclass

import psycopg
from django.db import connections
from psycopg.pq import TransactionStatus

RONDAS = 8
# How long the probe's second client holds a server connection while the first one runs: with a
# pool of one server connection the first one waits for it, and must not wait forever.
ESPERA_S = 3.0
# What a server connection answers when it is handed a statement prepared on another one:
# "prepared statement ... does not exist" (26000), "... already exists" (42P05), and "bind
# message supplies 1 parameters, but prepared statement requires 0" (08P01).
ERRORES_DE_PREPARADAS = {"26000", "42P05", "08P01"}


def parametros_de(alias: str) -> dict:
    """The psycopg keyword arguments of a Django database alias (as procrastinate builds them)."""
    parametros = connections[alias].get_connection_params()
    for clave in ("cursor_factory", "context", "prepare_threshold"):
        parametros.pop(clave, None)
    parametros.setdefault("connect_timeout", 10)
    return parametros


def _pid(conexion) -> int:
    return conexion.execute("SELECT pg_backend_pid()").fetchone()[0]


class PoolerDeSentencias(Exception):
    """A pooler in statement mode (PgBouncer ``pool_mode = statement``) refuses transactions, and
    every write of the clinic is one: it cannot work behind it at all."""


def es_pooler_de_transacciones(parametros: dict) -> bool:
    """True when one client connection's transactions may run on different server backends.
    Raises ``PoolerDeSentencias`` behind a pooler in statement mode."""
    with psycopg.connect(**parametros, autocommit=True) as a, psycopg.connect(**parametros, autocommit=True) as b:
        try:
            b.execute("BEGIN")
        except psycopg.errors.ProtocolViolation as error:
            if "statement pool" in str(error):
                raise PoolerDeSentencias(str(error).strip()) from None
            raise
        b.execute("ROLLBACK")
        for _ in range(RONDAS):
            antes = _pid(a)
            with b.transaction():
                # A pooler gives b the backend a just released (PgBouncer reuses the last one
                # first); PostgreSQL never shares a backend between two connections. Then a's
                # next statement cannot wait for b: we already know.
                if _pid(b) == antes:
                    return True
                if _pid(a) != antes:  # b holds another backend; a moved anyway
                    return True
    return False


@dataclass
class Preparadas:
    """``conservan``: True, False, or None when no round moved the client to another server
    connection (a busy pool): nothing proven either way."""

    conservan: bool | None
    detalle: str = ""


def _mientras_b_retiene(a, b, consulta):
    """Run ``consulta`` on ``a`` while ``b`` holds a server connection in an open transaction,
    for at most ESPERA_S: then b lets it go (from a timer thread), so a pool of one cannot block."""
    b.execute("BEGIN")
    _pid(b)  # holds a server connection, most likely the one a just used
    soltar = threading.Timer(ESPERA_S, lambda: b.execute("COMMIT"))
    soltar.start()
    try:
        return a.execute(consulta, [1]).fetchone()[0]
    finally:
        soltar.cancel()
        soltar.join()
        if b.info.transaction_status != TransactionStatus.IDLE:
            b.execute("COMMIT")


def conserva_preparadas(parametros: dict) -> Preparadas:
    """Whether a statement psycopg prepared still runs after the pooler moved the client to
    another server connection. Through PostgreSQL (or a session pooler) it trivially does.
    Errors other than those of a lost prepared statement are raised (a pooler's timeout is not
    an answer)."""
    consulta = "SELECT pg_backend_pid() WHERE %s::int = 1"
    with (
        psycopg.connect(**parametros, autocommit=True, prepare_threshold=0) as a,
        psycopg.connect(**parametros, autocommit=True) as b,
    ):
        if not es_pooler_de_transacciones(parametros):
            return Preparadas(True, "no hay pooler en modo transacción: cada cliente conserva su conexión")
        for _ in range(4):
            try:
                preparado_en = a.execute(consulta, [1]).fetchone()[0]
                ejecutado_en = _mientras_b_retiene(a, b, consulta)
            except psycopg.DatabaseError as error:
                if error.sqlstate in ERRORES_DE_PREPARADAS:
                    return Preparadas(False, f"{type(error).__name__}: {str(error).strip()}")
                raise
            if ejecutado_en != preparado_en:
                return Preparadas(True, "la sentencia preparada siguió funcionando en otra conexión del servidor")
    return Preparadas(None, "ninguna ronda cambió de conexión del servidor (el pool está ocupado)")
