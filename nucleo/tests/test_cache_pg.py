"""The attempt limits' cache on PostgreSQL (nucleo.cache_pg): shared, atomic, expiring."""

import threading
import time

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection

from nucleo.cache_pg import CacheContadoresPG, comprobar_cache_de_limites
from nucleo.tasks import borrar_contadores_vencidos


@pytest.fixture
def cache(db):
    return caches["limites"]


def _filas():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM nucleo_contadorlimite")
        return cursor.fetchone()[0]


def _en_hilos(n, trabajo):
    """Run ``trabajo(i)`` in ``n`` threads released together, each on its own database
    connection; return their results."""
    barrera = threading.Barrier(n)
    resultados, errores = [None] * n, []

    def correr(i):
        from django.db import connection as propia

        try:
            barrera.wait()
            resultados[i] = trabajo(i)
        except Exception as error:  # noqa: BLE001 - reported below
            errores.append(error)
        finally:
            propia.close()

    hilos = [threading.Thread(target=correr, args=(i,)) for i in range(n)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    assert not errores, errores
    return resultados


def test_es_el_cache_de_los_limites(settings):
    assert settings.RATELIMIT_USE_CACHE == "limites"
    assert isinstance(caches["limites"], CacheContadoresPG)
    # The rest of the project keeps its in-memory caches.
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert settings.CACHES["paginas"]["BACKEND"].endswith("LocMemCache")


def test_add_get_incr_delete(cache):
    assert cache.get("k") is None
    assert cache.add("k", 1, 60) is True
    assert cache.add("k", 7, 60) is False  # a live key is left alone
    assert cache.get("k") == 1
    assert cache.incr("k") == 2
    assert cache.incr("k", 5) == 7
    assert cache.has_key("k")
    cache.set("k", 3, 60)
    assert cache.get("k") == 3
    assert cache.delete("k") is True
    assert cache.delete("k") is False
    with pytest.raises(ValueError):
        cache.incr("k")


def test_solo_guarda_enteros(cache):
    for valor in ("1", 1.5, True, None, [1]):
        with pytest.raises(TypeError, match="enteros"):
            cache.add("k", valor, 60)
    assert _filas() == 0


def test_vencimiento(cache):
    cache.add("corta", 1, 1)
    cache.add("larga", 1, 60)
    cache.add("eterna", 1, None)
    assert cache.incr("corta") == 2
    time.sleep(1.1)
    # Expired: invisible at once, not incrementable, and a new add starts it over.
    assert cache.get("corta") is None
    assert not cache.has_key("corta")
    with pytest.raises(ValueError):
        cache.incr("corta")
    assert cache.touch("corta", 60) is False
    assert cache.get("larga") == 1 and cache.get("eterna") == 1
    assert _filas() == 3
    # The periodic job deletes the expired row only.
    assert borrar_contadores_vencidos() == 1
    assert _filas() == 2
    assert cache.add("corta", 1, 60) is True
    assert cache.get("corta") == 1


def test_vencimiento_cero_no_guarda(cache):
    assert cache.add("nada", 1, 0) is True  # stored already expired, like Django's caches
    assert cache.get("nada") is None


@pytest.mark.django_db(transaction=True)
def test_incr_concurrente_no_pierde_ninguno():
    """20 threads × 10 increments on one key, each thread on its own connection: exactly 200.
    (Django's DatabaseCache reads then writes: there the same run loses increments.)"""
    cache = caches["limites"]
    cache.add("carrera", 0, 300)

    def incrementar(_):
        return [cache.incr("carrera") for _ in range(10)]

    vistos = [v for lista in _en_hilos(20, incrementar) for v in lista]
    assert cache.get("carrera") == 200
    assert sorted(vistos) == list(range(1, 201))  # each increment saw its own value


@pytest.mark.django_db(transaction=True)
def test_add_concurrente_abre_la_ventana_una_vez():
    cache = caches["limites"]
    resultados = _en_hilos(20, lambda i: cache.add("ventana", 1, 300))
    assert resultados.count(True) == 1
    assert cache.get("ventana") == 1


@pytest.mark.django_db(transaction=True)
def test_la_base_de_pruebas_vacia_la_tabla_entre_pruebas_transaccionales():
    """The table belongs to a model: Django's flush after a transactional test empties it, so
    no test inherits another's counters (the others roll back)."""
    assert _filas() == 0
    caches["limites"].add("queda", 1, 300)


def test_la_tabla_no_registra_wal(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'nucleo_contadorlimite'")
        assert cursor.fetchone()[0] == "u"  # UNLOGGED


def test_chequeo_rechaza_un_cache_no_compartido(settings):
    assert comprobar_cache_de_limites() == []
    for backend in ("django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.db.DatabaseCache"):
        settings.CACHES = {**settings.CACHES, "limites": {"BACKEND": backend, "LOCATION": "x"}}
        assert [e.id for e in comprobar_cache_de_limites()] == ["nucleo.E001"]
    settings.CACHES = {**settings.CACHES, "limites": {"BACKEND": "django_redis.cache.RedisCache"}}
    assert comprobar_cache_de_limites() == []


@pytest.mark.django_db(databases=["default", "directa"])  # generated columns: the check asks each server its version
def test_check_del_proyecto_sin_avisos_de_ratelimit():
    """django-ratelimit's checks run (its app is installed) and find nothing to report about our
    backend: E003 does not list it, W001 is silenced, and nucleo.E001 is satisfied."""
    call_command("check", "--fail-level", "WARNING")


def test_la_limpieza_es_una_tarea_periodica():
    from procrastinate.contrib.django import app

    tarea = app.tasks["nucleo.borrar_contadores_vencidos"]
    assert tarea.queue == "mantenimiento"
    periodicas = {p.periodic_id: p for p in app.periodic_registry.periodic_tasks.values()}
    assert periodicas["borrar_contadores_vencidos"].cron == "*/15 * * * *"
