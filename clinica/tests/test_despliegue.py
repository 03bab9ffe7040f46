"""Production settings, as a real process reads them from the environment: `check --deploy`
is clean, the security settings hold, and without DJANGO_SECRET_KEY the site does not start.

Each test runs Django in a subprocess (settings are read once per process).
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

RAIZ = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.lento  # each test starts a Django process
AJUSTES = "clinica.settings"

# What an operator sets in production. DJANGO_SSL_REDIRECT and the HSTS variables are left to
# their production defaults on purpose (the settings turn them on without DEBUG).
PRODUCCION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "clinica.example.cl",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://clinica.example.cl",
    "DJANGO_HTTPS": "1",
    "DJANGO_LOG_LEVEL": "WARNING",
}


def ejecutar(*argumentos, **entorno):
    """Run ``python *argumentos`` in the project with a clean Django environment plus ``entorno``
    (``None`` removes a variable). Not a test's child as far as the settings can tell."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "SECURE_")) and k not in ("PYTEST_CURRENT_TEST", "PYTEST_VERSION")}
    base["DJANGO_SETTINGS_MODULE"] = AJUSTES
    for clave, valor in entorno.items():
        if valor is None:
            base.pop(clave, None)
        else:
            base[clave] = valor
    return subprocess.run([sys.executable, *argumentos], cwd=RAIZ, env=base, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_sin_advertencias():
    resultado = ejecutar("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCCION)
    salida = resultado.stdout + resultado.stderr
    assert resultado.returncode == 0, salida
    assert "System check identified no issues" in resultado.stdout, salida
    assert "WARNINGS" not in salida


LEER_AJUSTES = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({n: getattr(s, n) for n in (
    "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS",
    "ALLOWED_HOSTS")}, default=str))
"""


def test_ajustes_de_produccion():
    resultado = ejecutar("-c", LEER_AJUSTES, **PRODUCCION)
    assert resultado.returncode == 0, resultado.stderr
    ajustes = json.loads(resultado.stdout.strip().splitlines()[-1])
    assert ajustes == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True, "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True, "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31_536_000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True, "SECURE_CONTENT_TYPE_NOSNIFF": True, "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY", "ALLOWED_HOSTS": ["clinica.example.cl"],
    }


def test_sin_clave_secreta_no_arranca():
    resultado = ejecutar("manage.py", "check", **{**PRODUCCION, "DJANGO_SECRET_KEY": None})
    assert resultado.returncode != 0
    assert "ImproperlyConfigured" in resultado.stderr and "DJANGO_SECRET_KEY" in resultado.stderr


@pytest.mark.parametrize("entorno", [
    {"DJANGO_DEBUG": "1"},  # development (bin/run): the fixed development key is fine
    {"DJANGO_DEBUG": "0", "PYTEST_CURRENT_TEST": "x"},  # a process started by a test
])
def test_desarrollo_y_pruebas_arrancan_sin_clave(entorno):
    resultado = ejecutar("manage.py", "check", **entorno)
    assert resultado.returncode == 0, resultado.stderr


def test_el_modo_de_pruebas_no_redirige_a_https(settings):
    """This very run: DEBUG off but plain http (test client, live server), never a 301."""
    assert settings.SECURE_SSL_REDIRECT is False


def test_check_deploy_avisa_el_proxy_sin_proxies_de_confianza():
    """Behind nginx every client has the proxy's address unless it is listed as trusted."""
    resultado = ejecutar("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCCION,
                         DJANGO_BEHIND_PROXY="1")
    assert resultado.returncode != 0 and "nucleo.W001" in resultado.stdout + resultado.stderr
    resultado = ejecutar("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCCION,
                         DJANGO_BEHIND_PROXY="1", CLINICA_PROXIES_DE_CONFIANZA="127.0.0.1,::1")
    assert resultado.returncode == 0, resultado.stdout + resultado.stderr
