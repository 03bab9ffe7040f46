"""Production mode: ``bin/produccion`` refuses a bad configuration, ``collectstatic`` builds the
hashed, compressed static files, and the script really serves the portal through gunicorn with
WhiteNoise and a job worker against the test database, then stops everything on Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from pruebas.soporte import vaciar_cola

RAIZ = Path(__file__).resolve().parents[2]
PRODUCCION = RAIZ / "bin" / "produccion"
CLAVE = "clave-de-prueba-de-produccion-" + "x" * 40
MANIFIESTO = "clinica.estaticos.ManifiestoAtomico"  # what production uses (WhiteNoise's, atomic manifest)


def _env(**cambios):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLINICA_SITIO", "PYTEST"))}
    env.update({"DJANGO_SECRET_KEY": CLAVE, "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"})
    for clave, valor in cambios.items():
        if valor is None:
            env.pop(clave, None)
        else:
            env[clave] = valor
    return env


@pytest.mark.parametrize("cambios,mensaje", [
    ({"DJANGO_SECRET_KEY": None}, "falta DJANGO_SECRET_KEY"),
    ({"DJANGO_SECRET_KEY": ""}, "falta DJANGO_SECRET_KEY"),
    ({"DJANGO_SECRET_KEY": "django-insecure-solo-para-desarrollo-y-pruebas"}, "es la clave de desarrollo"),
    ({"DJANGO_SECRET_KEY": "corta"}, "demasiado corta"),
    ({"DJANGO_ALLOWED_HOSTS": None}, "falta DJANGO_ALLOWED_HOSTS"),
    ({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG está activo"),
    ({"CLINICA_SITIO": "personal"}, "CLINICA_SITIO='personal' no es válido"),
    ({"WORKERS_TAREAS": "dos"}, "WORKERS_TAREAS debe ser un número"),
    ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY debe ser un número"),
])
def test_se_niega_a_partir_sin_configuracion_de_produccion(cambios, mensaje):
    resultado = subprocess.run([PRODUCCION], env=_env(**cambios), capture_output=True, text=True, timeout=30)
    assert resultado.returncode == 2
    assert mensaje in resultado.stderr
    assert "==>" not in resultado.stdout, "no alcanzó a preparar ni iniciar nada"


def test_opcion_desconocida():
    resultado = subprocess.run([PRODUCCION, "--rapido"], env=_env(), capture_output=True, text=True, timeout=30)
    assert resultado.returncode == 2 and "opción desconocida: --rapido" in resultado.stderr


def test_collectstatic_con_manifiesto_y_compresion(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFIESTO}}
    call_command("collectstatic", interactive=False, verbosity=0)
    rutas = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    # Every CSS of the project and of each app (their static/ folders).
    propios = [p.relative_to(d).as_posix() for d in [RAIZ / "static", *RAIZ.glob("*/static")]
               for p in d.rglob("*.css")]
    for nombre in ["vendor/bootstrap/bootstrap.min.css", "vendor/bootstrap/bootstrap.bundle.min.js",
                   "vendor/htmx/htmx.min.js", *propios]:
        assert nombre in rutas, nombre
        assert (tmp_path / rutas[nombre]).exists()
        assert (tmp_path / (rutas[nombre] + ".gz")).exists(), "WhiteNoise sirve la versión comprimida"


# Serving for real ---------------------------------------------------------------------------------

def _puerto_libre():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _url_de_la_base():
    """DATABASE_URL of the test database the pytest run made (embedded or external server)."""
    d = connection.settings_dict
    usuario = urllib.parse.quote(d["USER"] or "", safe="")
    clave = f":{urllib.parse.quote(d['PASSWORD'], safe='')}" if d.get("PASSWORD") else ""
    host = urllib.parse.quote(d["HOST"] or "localhost", safe="")
    return f"postgres://{usuario}{clave}@{host}:{d['PORT'] or 5432}/{d['NAME']}"


class _SinRedireccion(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_abrir = urllib.request.build_opener(_SinRedireccion).open


def _get(url, **cabeceras):
    try:
        with _abrir(urllib.request.Request(url, headers=cabeceras), timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture
def produccion(tmp_path, transactional_db):
    """``bin/produccion`` for the portal alone, 1 web and 1 job worker, on the test database,
    with its static files collected into tmp_path (``DJANGO_STATIC_ROOT``)."""
    puerto = _puerto_libre()
    registro = tmp_path / "produccion.log"
    env = _env(
        CLINICA_SITIO="portal", PORT=str(puerto), WEB_CONCURRENCY="1", WORKERS_TAREAS="1",
        DATABASE_URL=_url_de_la_base(), DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        # Plain http on 127.0.0.1 (no TLS proxy in the test): no redirect to https, cookies
        # still marked Secure as in production.
        DJANGO_SSL_REDIRECT="0",
    )
    with registro.open("w") as salida:
        proceso = subprocess.Popen([PRODUCCION], env=env, stdout=salida, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{puerto}"
    try:
        limite = time.monotonic() + 60
        while True:
            assert proceso.poll() is None, registro.read_text()
            try:
                if _get(f"{base}/portal/entrar/")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < limite, registro.read_text()
            time.sleep(0.2)
        yield {"base": base, "proceso": proceso, "registro": registro, "static": tmp_path / "static"}
    finally:
        if proceso.poll() is None:
            os.killpg(proceso.pid, signal.SIGKILL)  # only if the test failed before its Ctrl-C
            proceso.wait()
        vaciar_cola()  # the worker's periodic jobs, outside Django's flush


def test_bin_produccion_sirve_el_portal_con_gunicorn_y_whitenoise(produccion):
    base = produccion["base"]
    estado, cabeceras, cuerpo = _get(f"{base}/portal/entrar/")
    assert estado == 200 and cabeceras["Server"].startswith("gunicorn")
    assert "nonce-" in cabeceras["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in cabeceras["Content-Security-Policy"]
    assert "base-uri 'self'" in cabeceras["Content-Security-Policy"]
    assert "form-action 'self'" in cabeceras["Content-Security-Policy"]
    assert cabeceras["X-Frame-Options"] == "DENY"
    assert cabeceras["X-Content-Type-Options"] == "nosniff"
    assert cabeceras["Referrer-Policy"] == "same-origin"
    assert "; Secure" in cabeceras["Set-Cookie"], "cookies solo por HTTPS (DJANGO_HTTPS=1 por defecto)"

    # The page links the hashed names of collectstatic's manifest; they are cached for good.
    rutas = json.loads((produccion["static"] / "staticfiles.json").read_text())["paths"]
    css = rutas["vendor/bootstrap/bootstrap.min.css"]
    assert f"/static/{css}".encode() in cuerpo
    estado, cabeceras, _ = _get(f"{base}/static/{css}", **{"Accept-Encoding": "gzip"})
    assert estado == 200
    assert cabeceras["Cache-Control"] == "max-age=315360000, public, immutable"
    assert cabeceras["Content-Encoding"] == "gzip"
    estado, cabeceras, _ = _get(f"{base}/static/vendor/bootstrap/bootstrap.min.css")
    assert estado == 200 and "immutable" not in cabeceras["Cache-Control"]

    # The portal alone: the bare address leads to it; no staff page or admin exists here.
    estado, cabeceras, _ = _get(f"{base}/")
    assert estado == 302 and cabeceras["Location"] == "/portal/"
    assert _get(f"{base}/gestion/")[0] == 404
    assert _get(f"{base}/admin/login/")[0] == 404
    assert _get(f"{base}/portal/entrar/", Host="intruso.example")[0] == 400  # DJANGO_ALLOWED_HOSTS

    # The job worker is up too (it boots slower than gunicorn).
    limite = time.monotonic() + 30
    while "Starting worker on all queues" not in produccion["registro"].read_text():
        assert time.monotonic() < limite, produccion["registro"].read_text()
        time.sleep(0.2)

    # Ctrl-C stops gunicorn and the worker gracefully, and nothing of them is left running.
    proceso = produccion["proceso"]
    proceso.send_signal(signal.SIGINT)
    assert proceso.wait(timeout=30) == 0
    with pytest.raises(ProcessLookupError):
        os.killpg(proceso.pid, 0)
    registro = produccion["registro"].read_text()
    assert '"GET /portal/entrar/ HTTP/1.1" 200' in registro and "ms " in registro  # access log, time
    assert "Deteniendo" in registro and "Stopped worker on all queues" in registro
    assert "Shutting down: Master" in registro
