"""Fixtures shared by every app's tests. Tests run on the real (embedded) PostgreSQL."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from personal.models import Perfil, Rol

# The real SMTP server and worker fixtures (servidor_smtp, cola_vacia) for every app's tests.
pytest_plugins = ["nucleo.pruebas"]
pytest.register_assert_rewrite("nucleo.pruebas")
from nucleo.pruebas import FallaInyectada, falla_tras_escritura, huella_bd  # noqa: E402


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


# Browser tests (Playwright driving Debian's Chromium) ---------------------------------------
import os  # noqa: E402

# Live-server tests run Django in a thread while Playwright's event loop runs in the test's own:
# Django would otherwise refuse the test's database calls as "async context".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

# Screenshots that a run leaves behind for people to look at (git-ignored).
CARPETA_CAPTURAS = Path(__file__).resolve().parent / "var" / "capturas"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.fail("Falta Chromium: bin/test lo instala con apt-get (como root) o instálelo a mano.")
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        # Without these Chromium keeps trying to reach Google's hosts, refused on this network.
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            # Dates in form fields as in Chile (dd-mm-aaaa), also in the screenshots.
            "--lang=es-CL",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A browser in Chile: Spanish dates in form fields, Santiago's clock."""
    return {**browser_context_args, "locale": "es-CL", "timezone_id": "America/Santiago"}


@pytest.fixture
def captura(page):
    """``captura("agenda-dia")`` saves a full-page PNG under var/capturas/."""
    CARPETA_CAPTURAS.mkdir(parents=True, exist_ok=True)

    def guardar(nombre):
        ruta = CARPETA_CAPTURAS / f"{nombre}.png"
        page.screenshot(path=str(ruta), full_page=True)
        return ruta

    return guardar
