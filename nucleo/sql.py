"""A cursor for the hot queries written in SQL: PostgreSQL plans each of them once per
connection instead of on every request.

Django's psycopg backend binds parameters on the client by default (the ORM builds SQL that
the server could not always prepare), so every query is parsed and planned anew. For the few
queries we write by hand and run on every page, planning costs more than running them: the
nearest free slots (a four-way UNION) take ~1 ms to plan and ~0.2 ms to run. Through
``cursor_preparado`` they go with server-side binding, and psycopg prepares a statement after it
ran ``prepare_threshold`` times (5) on that connection (persistent: ``CONN_MAX_AGE``).

The cursor is wrapped like Django's own (``make_cursor`` / ``make_debug_cursor``), so tests
count and see its queries. The SQL must be one statement starting with ``SELECT``: within an
audit context pghistory prepends ``set_config`` to any other statement, and two statements
cannot be prepared.
"""

from contextlib import contextmanager

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor


@contextmanager
def cursor_preparado():
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    crudo = ServerBindingCursor(connection.connection)
    cursor = connection.make_debug_cursor(crudo) if connection.queries_logged else connection.make_cursor(crudo)
    try:
        yield cursor
    finally:
        cursor.close()
