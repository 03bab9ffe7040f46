"""Fixtures shared by every app's tests. Tests run on the real (embedded) PostgreSQL."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from personal.models import Perfil, Rol

# The real SMTP server and worker fixtures (servidor_smtp, cola_vacia) for every app's tests.
pytest_plugins = ["nucleo.pruebas"]


@pytest.fixture(autouse=True)
def _estaticos_sin_manifiesto(settings):
    """Production serves hashed static files from `collectstatic`'s manifest; tests render
    pages without running collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    """Password hashing is deliberately slow; tests create hundreds of accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def crear_personal(db):
    """Factory for staff members: ``crear_personal(rol="dentista", username="dra.soto")``."""
    contador = {"n": 0}

    def crear(*, rol=Rol.DENTISTA, username=None, nombre="Camila", apellido="Soto", activo=True):
        contador["n"] += 1
        user = get_user_model().objects.create_user(
            username=username or f"{rol}{contador['n']}",
            email=f"{rol}{contador['n']}@clinica.example",
            first_name=nombre,
            last_name=apellido,
            is_staff=True,
            password="clave-de-prueba-1234",
        )
        return Perfil.objects.create(user=user, rol=rol, activo=activo)

    return crear


@pytest.fixture
def dentista(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Camila", apellido="Soto")


@pytest.fixture
def recepcionista(crear_personal):
    return crear_personal(rol=Rol.RECEPCION, nombre="Pedro", apellido="Rojas")


@pytest.fixture
def manana_10():
    """Tomorrow at 10:00 in Santiago, as an aware datetime."""
    manana = timezone.localdate() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(manana, datetime.time(10, 0)))


# Fault injection ------------------------------------------------------------------------------
import re  # noqa: E402
from contextlib import contextmanager  # noqa: E402

from django.db import connection  # noqa: E402

# Writes as the database sees them, including procrastinate's job insert (a SELECT of a function).
_ESCRITURA = re.compile(r"\b(INSERT|UPDATE|DELETE)\b|procrastinate_defer", re.IGNORECASE)


class FallaInyectada(Exception):
    """Raised by ``falla_tras_escritura``: a crash between two writes of a service."""


@contextmanager
def falla_tras_escritura(n):
    """Raise FallaInyectada right after the n-th write statement on this connection.

    Yields a list whose only item counts the writes seen, so a caller can tell whether the
    service finished before reaching the n-th write.
    """
    vistas = [0]

    def envoltura(execute, sql, params, many, context):
        resultado = execute(sql, params, many, context)
        if _ESCRITURA.search(sql):
            vistas[0] += 1
            if vistas[0] == n:
                raise FallaInyectada(f"falla tras la escritura {n}")
        return resultado

    with connection.execute_wrapper(envoltura):
        yield vistas


def huella_bd():
    """A digest of every table the clinic writes (domain, auth, audit, jobs): equal digests
    mean the database holds exactly the same rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
              AND table_name NOT LIKE 'django_%%' AND table_name NOT LIKE 'axes_%%'
            ORDER BY table_name
            """
        )
        tablas = [fila[0] for fila in cursor.fetchall()]
        huella = {}
        for tabla in tablas:
            cursor.execute(f'SELECT count(*), md5(coalesce(string_agg(t::text, \',\' ORDER BY t::text), \'\')) FROM "{tabla}" t')
            huella[tabla] = cursor.fetchone()
    return huella


@pytest.fixture
def probar_fallas():
    """``probar_fallas(servicio)`` runs ``servicio()`` once per write it makes, crashing after
    that write, and asserts each crash left the database exactly as before. Returns how many
    writes were tried. ``servicio`` must be repeatable (same arguments each time)."""

    def probar(servicio):
        n = 1
        while True:
            antes = huella_bd()
            with falla_tras_escritura(n) as vistas:
                try:
                    servicio()
                except FallaInyectada:
                    pass
                else:
                    assert vistas[0] < n, "el servicio terminó sin llegar a la falla"
                    return n - 1
            despues = huella_bd()
            cambios = {t: (antes[t], despues.get(t)) for t in antes if antes[t] != despues.get(t)}
            assert not cambios, f"falla tras la escritura {n} dejó filas: {cambios}"
            n += 1

    return probar
