"""The start-up of ``bin/produccion`` (``clinica.arranque``) with many services starting at once:
the lock waits, says who holds it, gives up instead of hanging and frees itself when its holder
dies; static files are built by one process per host and never rewritten under a running one."""

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import psycopg
import pytest

from clinica import arranque
from clinica.tests.test_produccion import _url_de_la_base
from nucleo.pooler import parametros_de

MANIFIESTO = "clinica.estaticos.ManifiestoAtomico"  # what production uses (WhiteNoise's, atomic manifest)


@pytest.fixture
def sesion_que_tiene_el_candado(db):
    """Another service's start-up: a direct session holding the start-up lock."""
    con = psycopg.connect(**parametros_de("default"), autocommit=True, application_name="otro-servicio")
    con.execute("SELECT pg_advisory_lock(%s)", [arranque.LLAVE_ARRANQUE])
    yield con
    con.close()


def _sesion():
    return psycopg.connect(**parametros_de("default"), autocommit=True)


def test_espera_el_candado_dice_quien_lo_tiene_y_no_cuelga(sesion_que_tiene_el_candado):
    quien = sesion_que_tiene_el_candado.info.backend_pid
    avisos = []
    with _sesion() as con, con.cursor() as cursor:
        inicio = time.monotonic()
        with pytest.raises(arranque.NoAhora) as rechazo:
            arranque.tomar_candado_de_arranque(cursor, espera_max_s=1.0, escribir=avisos.append)
        assert 1.0 <= time.monotonic() - inicio < 5
    assert avisos and f"lo tiene la sesión {quien} de PostgreSQL (aplicación otro-servicio" in avisos[0]
    mensaje = str(rechazo.value)
    assert mensaje.startswith("esperé 1 s el candado de arranque y lo sigue teniendo la sesión")
    assert "pg_terminate_backend" in mensaje


def test_lo_toma_apenas_el_otro_lo_suelta(sesion_que_tiene_el_candado):
    def soltar():
        time.sleep(0.5)
        sesion_que_tiene_el_candado.execute("SELECT pg_advisory_unlock(%s)", [arranque.LLAVE_ARRANQUE])

    hilo = threading.Thread(target=soltar)
    hilo.start()
    with _sesion() as con, con.cursor() as cursor:
        arranque.tomar_candado_de_arranque(cursor, espera_max_s=30, escribir=lambda _: None)
        cursor.execute("SELECT pg_advisory_unlock(%s)", [arranque.LLAVE_ARRANQUE])
        assert cursor.fetchone()[0] is True, "lo tenía esta sesión"
    hilo.join()


def test_si_el_que_lo_tiene_muere_el_candado_queda_libre(sesion_que_tiene_el_candado):
    """A start-up killed in the middle of a migration: PostgreSQL ends its session and its lock;
    the next start does not need a person to kill anything."""
    sesion_que_tiene_el_candado.close()
    with _sesion() as con, con.cursor() as cursor:
        inicio = time.monotonic()
        arranque.tomar_candado_de_arranque(cursor, espera_max_s=10, escribir=lambda _: None)
        assert time.monotonic() - inicio < 5
        cursor.execute("SELECT pg_advisory_unlock(%s)", [arranque.LLAVE_ARRANQUE])


def test_espera_de_arranque_mal_escrita(monkeypatch):
    monkeypatch.setenv("CLINICA_ESPERA_ARRANQUE_S", "diez")
    with pytest.raises(arranque.Rechazo, match="CLINICA_ESPERA_ARRANQUE_S='diez' no es un número"):
        arranque._espera_maxima_s()
    monkeypatch.setenv("CLINICA_ESPERA_ARRANQUE_S", "0")
    with pytest.raises(arranque.Rechazo, match="mayor que 0"):
        arranque._espera_maxima_s()


# Static files, once per host --------------------------------------------------------------------

@pytest.fixture
def estaticos(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFIESTO}}
    return settings.STATIC_ROOT


def test_dos_servicios_a_la_vez_los_reune_uno_y_el_otro_espera(estaticos):
    barrera = threading.Barrier(2)
    resultados, avisos = [], []

    def servicio():
        barrera.wait()
        resultados.append(arranque.construir_estaticos(espera_max_s=120, escribir=avisos.append))

    hilos = [threading.Thread(target=servicio) for _ in range(2)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(timeout=180)
    assert sorted(resultados) == [False, True], "uno los reunió y el otro los encontró al día"
    assert any("Archivos estáticos al día" in a for a in avisos)
    rutas = json.loads((estaticos / "staticfiles.json").read_text())["paths"]
    css = rutas["vendor/bootstrap/bootstrap.min.css"]
    assert (estaticos / css).exists() and (estaticos / (css + ".gz")).exists()
    assert (estaticos / arranque.ARCHIVO_HUELLA).read_text().strip() == arranque.huella_de_estaticos()
    assert not list(estaticos.glob(f"{arranque.ARCHIVO_HUELLA}.*")), "sin huellas provisorias"


def test_al_dia_no_toca_nada_y_un_cambio_los_vuelve_a_reunir(estaticos, settings, tmp_path):
    assert arranque.construir_estaticos(espera_max_s=60, escribir=lambda _: None) is True
    manifiesto = estaticos / "staticfiles.json"
    antes = manifiesto.stat().st_mtime_ns
    time.sleep(0.01)
    assert arranque.construir_estaticos(espera_max_s=60, escribir=lambda _: None) is False
    assert manifiesto.stat().st_mtime_ns == antes, "un servicio que parte después no reescribe el manifiesto"

    # New code with a changed static file: another fingerprint, built again.
    propios = tmp_path / "propios"
    (propios / "css").mkdir(parents=True)
    (propios / "css" / "nuevo.css").write_text("body { color: #123; }\n")
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, str(propios)]
    assert arranque.construir_estaticos(espera_max_s=60, escribir=lambda _: None) is True
    assert "css/nuevo.css" in json.loads(manifiesto.read_text())["paths"]


def _fuente_nueva(settings, tmp_path, contenido):
    propios = tmp_path / "propios"
    (propios / "css").mkdir(parents=True, exist_ok=True)
    (propios / "css" / "nuevo.css").write_text(contenido)
    if str(propios) not in settings.STATICFILES_DIRS:
        settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, str(propios)]


def test_una_reconstruccion_cortada_no_deja_una_huella_vieja(estaticos, settings, tmp_path, monkeypatch):
    """Version 1 built; version 2's build is cut short: no fingerprint is left, neither the new
    nor the old one, so neither code says "al día" about a half-built folder."""
    assert arranque.construir_estaticos(espera_max_s=60, escribir=lambda _: None) is True
    _fuente_nueva(settings, tmp_path, "body { color: #123; }\n")
    from django.core.management import call_command as real

    def falla(nombre, *args, **kwargs):
        if nombre == "collectstatic":
            raise KeyboardInterrupt
        return real(nombre, *args, **kwargs)

    monkeypatch.setattr(arranque, "call_command", falla)
    with pytest.raises(KeyboardInterrupt):
        arranque.construir_estaticos(espera_max_s=60, escribir=lambda _: None)
    assert not (estaticos / arranque.ARCHIVO_HUELLA).exists()
    monkeypatch.undo()
    assert arranque.construir_estaticos(espera_max_s=60, escribir=lambda _: None) is True
    assert "css/nuevo.css" in json.loads((estaticos / "staticfiles.json").read_text())["paths"]
    # And the interrupted one released the lock (its descriptor closed).
    descriptor = os.open(estaticos, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(descriptor)


def test_el_manifiesto_nunca_falta_mientras_se_reconstruye(estaticos, settings, tmp_path, monkeypatch):
    """A service already serving on this host (its workers recycle and read the manifest) must
    find a whole manifest at every moment of another service's rebuild: it is replaced, never
    deleted and rewritten (Django's own save_manifest deletes it first)."""
    from django.core.files.storage import FileSystemStorage

    assert arranque.construir_estaticos(espera_max_s=60, escribir=lambda _: None) is True
    borrados = []
    borrar = FileSystemStorage.delete
    monkeypatch.setattr(FileSystemStorage, "delete", lambda self, nombre: (borrados.append(nombre), borrar(self, nombre)))
    _fuente_nueva(settings, tmp_path, "body { color: #456; }\n")
    assert arranque.construir_estaticos(espera_max_s=60, escribir=lambda _: None) is True
    assert "staticfiles.json" not in borrados
    manifiesto = json.loads((estaticos / "staticfiles.json").read_text())
    assert "css/nuevo.css" in manifiesto["paths"]
    assert not list(estaticos.glob(".staticfiles.json.*")), "sin manifiestos provisorios"


def _solo_estaticos(carpeta):
    """``python -m clinica.arranque --solo-estaticos`` in a clean process, with no database
    reachable (as when building an image) and ``carpeta`` as STATIC_ROOT."""
    entorno = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    entorno.update(DJANGO_SETTINGS_MODULE="clinica.settings", DJANGO_SECRET_KEY="x" * 60,
                   DATABASE_URL="postgres://nadie@127.0.0.1:9/nada", DJANGO_STATIC_ROOT=str(carpeta))
    return subprocess.run([sys.executable, "-m", "clinica.arranque", "--solo-estaticos"],
                          cwd=Path(arranque.__file__).resolve().parent.parent, env=entorno,
                          capture_output=True, text=True, timeout=120)


def test_sin_permiso_para_los_estaticos_se_niega_con_un_mensaje(tmp_path):
    archivo = tmp_path / "no-es-carpeta"
    archivo.write_text("")
    resultado = _solo_estaticos(archivo / "static")
    assert resultado.returncode == 2, resultado.stderr
    assert f"ERROR: no puedo escribir los archivos estáticos en {archivo / 'static'}" in resultado.stderr
    assert "Traceback" not in resultado.stderr


def test_solo_estaticos_al_construir_una_imagen_sin_base(tmp_path):
    """``python -m clinica.arranque --solo-estaticos`` (the Dockerfile's build step) needs no
    database; a container started later finds them current and writes nothing."""
    primera = _solo_estaticos(tmp_path / "static")
    assert primera.returncode == 0, primera.stderr
    assert "static files copied" in primera.stdout
    manifiesto = tmp_path / "static" / "staticfiles.json"
    antes = manifiesto.stat().st_mtime_ns
    segunda = _solo_estaticos(tmp_path / "static")
    assert segunda.returncode == 0 and "Archivos estáticos al día" in segunda.stdout
    assert manifiesto.stat().st_mtime_ns == antes


@pytest.fixture
def base_vacia(db):
    """A new, empty database on the test server, dropped afterwards."""
    nombre = f"arranque_{os.getpid()}_{int(time.time())}"
    parametros = {**parametros_de("default"), "dbname": "postgres"}
    with psycopg.connect(**parametros, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{nombre}"')
    yield urllib.parse.urlsplit(_url_de_la_base())._replace(path=f"/{nombre}").geturl()
    with psycopg.connect(**parametros, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')


def test_tres_servicios_a_la_vez_sobre_una_base_nueva_migran_una_vez(base_vacia):
    """Three start-ups at the same moment on an empty database: one applies the migrations while
    the others wait for the lock (saying who holds it), then find nothing to apply."""
    entorno = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    entorno.update(DJANGO_SETTINGS_MODULE="clinica.settings", DJANGO_SECRET_KEY="x" * 60,
                   DJANGO_ALLOWED_HOSTS="localhost", DATABASE_URL=base_vacia, DJANGO_LOG_LEVEL="WARNING")
    raiz = Path(arranque.__file__).resolve().parent.parent
    procesos = [
        subprocess.Popen([sys.executable, "-m", "clinica.arranque", "--sin-web"], cwd=raiz, env=entorno,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    salidas = [p.communicate(timeout=600)[0] for p in procesos]
    assert [p.returncode for p in procesos] == [0, 0, 0], salidas
    aplicaron = [s for s in salidas if "Applying citas.0001" in s]
    assert len(aplicaron) == 1, salidas
    esperaron = [s for s in salidas if "No migrations to apply." in s]
    assert len(esperaron) == 2, salidas
    # Who waited said who held the lock (a start slower than the whole migration may not have
    # waited at all; the waiting itself is tested above, with a lock held on purpose).
    for salida in esperaron:
        if "==> Esperando el candado de arranque" in salida:
            assert "lo tiene la sesión" in salida and "(aplicación clinica arranque ambos en " in salida


def test_durante_el_arranque_el_orm_va_por_la_conexion_que_migra():
    """A data migration that uses ``Model.objects`` without ``.using(alias)`` runs on the session
    that holds the lock and the migration's open transaction, not on "default" (where it would
    wait for that transaction's table locks forever)."""
    from django.db import router

    from citas.models import Cita

    assert router.db_for_write(Cita) == "default"
    with arranque.todo_por_la_directa():
        assert router.db_for_read(Cita) == "directa"
        assert router.db_for_write(Cita) == "directa"
    assert router.db_for_read(Cita) == "default"
