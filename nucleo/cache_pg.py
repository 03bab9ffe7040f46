"""A cache backend of counters on PostgreSQL, for the attempt limits (``CACHES["limites"]``).

django-ratelimit counts attempts in a Django cache: ``add(key, 1, period)`` opens a window,
``incr(key)`` counts each further attempt. The count must be shared by every process that
serves the portal (2 gunicorn workers per host, N hosts on one PostgreSQL: docs/produccion.md)
and each ``incr`` must be atomic, or concurrent attempts are lost and a script that fires in
parallel is never limited. Of the stores this deployment has:

- ``LocMemCache`` is one per process: each worker would count alone (N workers, N× the limit).
- Django's ``DatabaseCache`` is shared, but its ``incr`` is a ``get`` then a ``set``: two workers
  read 5 and both write 6. django-ratelimit's own checks reject both.
- Redis or memcached would be atomic, but they are a new service to run, secure and back up;
  the project starts with one command and an embedded PostgreSQL, in development and tests too.

So the counters live in PostgreSQL, which every deployment already has, and each operation is
one SQL statement: ``add`` is ``INSERT … ON CONFLICT DO UPDATE … WHERE expired`` (a live key is
left alone, an expired one starts over), ``incr`` is ``UPDATE … SET valor = valor + n …
RETURNING valor``. PostgreSQL's row lock serialises concurrent statements on one key, and under
READ COMMITTED each re-reads the row another just wrote: no increment is lost.

Expiry is computed by the database clock (``statement_timestamp()``), never a web host's, so
hosts with skewed clocks agree on a window. Expired rows are invisible at once and deleted by a
periodic job (``nucleo.tasks.borrar_contadores_vencidos``).

Only integers are stored (this is a store of counters, not a general cache): any other value
raises ``TypeError``. The table is ``nucleo_contadorlimite`` (model ``ContadorLimite``,
UNLOGGED). The statements run on the request's connection in autocommit (Django's default, no
``ATOMIC_REQUESTS``), so an attempt is counted even when what it asked for is then refused.
"""

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connections, router

# How long a key lives: seconds from the database's clock, NULL for never.
_EXPIRA = "COALESCE(statement_timestamp() + make_interval(secs => %s::float8), 'infinity')"
_VIGENTE = "expira > statement_timestamp()"


def _entero(valor):
    if isinstance(valor, bool) or not isinstance(valor, int):
        raise TypeError(f"El caché de límites guarda solo números enteros, no {type(valor).__name__}.")
    return valor


class CacheContadoresPG(BaseCache):
    """``LOCATION``: the table (``nucleo_contadorlimite``, created by nucleo's migrations)."""

    def __init__(self, table, params):
        super().__init__(params)
        self._tabla = table

    def _ejecutar(self, sql, parametros):
        from nucleo.models import ContadorLimite

        conexion = connections[router.db_for_write(ContadorLimite)]
        tabla = conexion.ops.quote_name(self._tabla)
        with conexion.cursor() as cursor:
            cursor.execute(sql.format(t=tabla), parametros)
            fila = cursor.fetchone() if cursor.description else None
            return fila, cursor.rowcount

    def _segundos(self, timeout):
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return None if timeout is None else max(float(timeout), 0.0)

    def get(self, key, default=None, version=None):
        clave = self.make_and_validate_key(key, version=version)
        fila, _ = self._ejecutar(f"SELECT valor FROM {{t}} WHERE clave = %s AND {_VIGENTE}", [clave])
        return default if fila is None else fila[0]

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        clave = self.make_and_validate_key(key, version=version)
        self._ejecutar(
            f"INSERT INTO {{t}} (clave, valor, expira) VALUES (%s, %s, {_EXPIRA}) "
            "ON CONFLICT (clave) DO UPDATE SET valor = EXCLUDED.valor, expira = EXCLUDED.expira",
            [clave, _entero(value), self._segundos(timeout)],
        )

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """Store ``value`` unless the key holds a live value; True if stored. One statement:
        of concurrent ``add``s on one key exactly one stores."""
        clave = self.make_and_validate_key(key, version=version)
        fila, _ = self._ejecutar(
            f"INSERT INTO {{t}} AS c (clave, valor, expira) VALUES (%s, %s, {_EXPIRA}) "
            "ON CONFLICT (clave) DO UPDATE SET valor = EXCLUDED.valor, expira = EXCLUDED.expira "
            "WHERE c.expira <= statement_timestamp() RETURNING true",
            [clave, _entero(value), self._segundos(timeout)],
        )
        return fila is not None

    def incr(self, key, delta=1, version=None):
        """Add ``delta`` to a live key and return the new value, in one statement (never a read
        then a write); ``ValueError`` if the key is absent or expired, like Django's caches."""
        clave = self.make_and_validate_key(key, version=version)
        fila, _ = self._ejecutar(
            f"UPDATE {{t}} SET valor = valor + %s WHERE clave = %s AND {_VIGENTE} RETURNING valor",
            [_entero(delta), clave],
        )
        if fila is None:
            raise ValueError(f"Key '{key}' not found")
        return fila[0]

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        clave = self.make_and_validate_key(key, version=version)
        fila, _ = self._ejecutar(
            f"UPDATE {{t}} SET expira = {_EXPIRA} WHERE clave = %s AND {_VIGENTE} RETURNING true",
            [self._segundos(timeout), clave],
        )
        return fila is not None

    def delete(self, key, version=None):
        clave = self.make_and_validate_key(key, version=version)
        fila, _ = self._ejecutar(f"DELETE FROM {{t}} WHERE clave = %s RETURNING {_VIGENTE}", [clave])
        return bool(fila and fila[0])

    def has_key(self, key, version=None):
        clave = self.make_and_validate_key(key, version=version)
        fila, _ = self._ejecutar(f"SELECT true FROM {{t}} WHERE clave = %s AND {_VIGENTE}", [clave])
        return fila is not None

    def clear(self):
        self._ejecutar("DELETE FROM {t}", [])

    def borrar_vencidos(self) -> int:
        """Delete the expired rows (already invisible); how many. For the periodic job."""
        _, borradas = self._ejecutar("DELETE FROM {t} WHERE expira <= statement_timestamp()", [])
        return borradas


def comprobar_cache_de_limites(app_configs=None, **kwargs):
    """System check: the cache django-ratelimit counts in (``RATELIMIT_USE_CACHE``) is this
    backend or one django-ratelimit supports (memcached, django-redis). It replaces
    django-ratelimit's W001 (silenced in the settings), which warns for any other backend."""
    from django.conf import settings
    from django.core.checks import Error
    from django_ratelimit.checks import SUPPORTED_CACHE_BACKENDS

    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(alias, {}).get("BACKEND")
    if backend is None or backend in SUPPORTED_CACHE_BACKENDS or backend == f"{__name__}.CacheContadoresPG":
        return []  # a missing alias is django-ratelimit's own E002
    return [Error(
        f"El caché de los límites de intentos ({alias}: {backend}) no es compartido con incremento atómico.",
        hint="Use nucleo.cache_pg.CacheContadoresPG (PostgreSQL) o un caché de memcached o django-redis.",
        id="nucleo.E001",
    )]
