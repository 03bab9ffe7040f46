"""Fixtures shared by every app's tests. Tests run on the real (embedded) PostgreSQL."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from personal.models import Perfil, Rol

# The real SMTP server and worker fixtures (servidor_smtp, cola_vacia) for every app's tests.
pytest_plugins = ["pruebas.soporte"]
pytest.register_assert_rewrite("pruebas.soporte")
from pruebas.pgbouncer import (  # noqa: E402
    COMO_INSTALAR_PGBOUNCER,
    MOTIVO_SIN_PGBOUNCER,
    PgBouncer,
    buscar_pgbouncer,
)
from pruebas.soporte import FallaInyectada, falla_tras_escritura, huella_bd  # noqa: E402


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


CLAVE_PERSONAL = "clave-de-prueba-1234"  # every staff member's password in the tests


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's ``admin_client``, logged in the one way tests log in
    (``pruebas.soporte.iniciar_sesion``): a superuser's session verified with the second factor."""
    from django.test import Client

    from pruebas.soporte import iniciar_sesion

    return iniciar_sesion(Client(), admin_user)


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
            password=CLAVE_PERSONAL,
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
    that write, and asserts each crash left the database exactly as before; the last run goes
    to the end and must change the database. Returns how many writes the service made.

    A service that writes nothing (refused before its first write, or returning at once) fails
    the test: there is no fault to inject, so such a test would prove nothing. ``servicio`` must
    be repeatable (same arguments, same writes each time)."""

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
                    break
            cambios = _cambios(antes, huella_bd())
            assert not cambios, f"falla tras la escritura {n} dejó filas: {cambios}"
            n += 1
        escrituras = vistas[0]
        assert escrituras < n, f"el servicio siguió tras la falla en la escritura {n}: se la tragó"
        assert escrituras > 0, "el servicio no escribió nada: no hay fallas que probar"
        assert escrituras == n - 1, f"el servicio no es repetible: {n - 1} escrituras antes, {escrituras} ahora"
        assert _cambios(antes, huella_bd()), f"la corrida completa ({escrituras} escrituras) no cambió la base"
        return escrituras

    return probar


def _cambios(antes, despues):
    """The tables whose digest differs between two ``huella_bd()`` results."""
    return {t: (antes.get(t), despues.get(t)) for t in antes.keys() | despues.keys() if antes.get(t) != despues.get(t)}


# Browser tests (Playwright driving Debian's Chromium) and pooler tests (Debian's PgBouncer) ------
import os  # noqa: E402

# Live-server tests run Django in a thread while Playwright's event loop runs in the test's own:
# Django would otherwise refuse the test's database calls as "async context".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

# Screenshots that a run leaves behind for people to look at (git-ignored).
CARPETA_CAPTURAS = Path(__file__).resolve().parent / "var" / "capturas"

COMO_INSTALAR_CHROMIUM = "instálelo con `apt-get install chromium` o ejecute bin/test como root"
MOTIVO_SIN_CHROMIUM = f"Sin Chromium: pruebas de navegador omitidas ({COMO_INSTALAR_CHROMIUM})"
# Playwright's fixtures that start the browser; a test using any of them is a browser test.
FIXTURES_DE_NAVEGADOR = {"page", "context", "new_context", "browser", "launch_browser"}
_estado_navegador = {"chromium": None, "omitidas": set(), "contadas": 0}
_estado_pgbouncer = {"ejecutable": None, "omitidas": set(), "contadas": 0}


def buscar_chromium(entorno=os.environ):
    """The Chromium executable the browser tests drive, or None when it is missing.
    ``CLINICA_CHROMIUM`` names another one (a missing path hides Chromium, to try the skip)."""
    pedido = entorno.get("CLINICA_CHROMIUM")
    if pedido:
        return shutil.which(pedido)
    return shutil.which("chromium") or shutil.which("/usr/bin/chromium")


def pytest_configure(config):
    _estado_navegador["chromium"] = buscar_chromium()  # once per run
    _estado_pgbouncer["ejecutable"] = buscar_pgbouncer()


def pytest_collection_modifyitems(config, items):
    """Mark every browser test ``navegador``; without Chromium skip them all with one reason,
    so a machine without it still passes and says what it left out."""
    for item in items:
        if FIXTURES_DE_NAVEGADOR.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.navegador)
        if _estado_navegador["chromium"] is None and item.get_closest_marker("navegador"):
            item.add_marker(pytest.mark.skip(reason=MOTIVO_SIN_CHROMIUM))
            _estado_navegador["omitidas"].add(item.nodeid)
        if "pgbouncer" in getattr(item, "fixturenames", ()) or item.get_closest_marker("pgbouncer"):
            item.add_marker(pytest.mark.pgbouncer)
            if _estado_pgbouncer["ejecutable"] is None:
                item.add_marker(pytest.mark.skip(reason=MOTIVO_SIN_PGBOUNCER))
                _estado_pgbouncer["omitidas"].add(item.nodeid)


def pytest_runtest_logreport(report):
    if report.when == "setup" and report.skipped:
        for estado in (_estado_navegador, _estado_pgbouncer):
            if report.nodeid in estado["omitidas"]:
                estado["contadas"] += 1


def pytest_unconfigure(config):
    """The run's very last lines: how many browser and pooler tests were skipped and why
    (bin/test's summary; pytest's own ``-ra`` list shows them per file above)."""
    lineas = []
    n = _estado_navegador["contadas"]
    if n:
        pruebas = "1 prueba de navegador" if n == 1 else f"{n} pruebas de navegador"
        verbo = "se omitió" if n == 1 else "se omitieron"
        lineas.append(f"AVISO: {verbo} {pruebas} porque falta Chromium; {COMO_INSTALAR_CHROMIUM}.")
    n = _estado_pgbouncer["contadas"]
    if n:
        pruebas = "1 prueba del pooler" if n == 1 else f"{n} pruebas del pooler"
        verbo = "se omitió" if n == 1 else "se omitieron"
        lineas.append(f"AVISO: {verbo} {pruebas} porque falta PgBouncer; {COMO_INSTALAR_PGBOUNCER}.")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for linea in lineas:
        if reporter is not None:
            reporter.write_line(linea, yellow=True, bold=True)
        else:
            print(linea)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = _estado_navegador["chromium"] or buscar_chromium()
    if chromium is None:  # a browser test the marker missed (it asked for the browser another way)
        pytest.skip(MOTIVO_SIN_CHROMIUM)
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
def errores_de_consola(page):
    """Console errors and warnings, and uncaught exceptions, of ``page`` (a CSP violation shows up
    here; so does a date field whose value the browser drops, a warning, seen on the demo)."""
    errores = []
    page.on("console", lambda mensaje: errores.append(f"{mensaje.type}: {mensaje.text}")
            if mensaje.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: errores.append(str(error)))
    return errores


@pytest.fixture
def entrar_a_gestion(page, live_server):
    """``entrar_a_gestion(perfil)``: log ``perfil`` in to the staff site through its login form
    and the second-factor step (a code of their test device, ``pruebas.soporte``)."""
    from playwright.sync_api import expect

    from pruebas.soporte import codigo_de_prueba

    def entrar(perfil):
        codigo = codigo_de_prueba(perfil.user)  # enrolled before the login, as after a first one
        page.goto(f"{live_server.url}/gestion/")
        page.get_by_label("Usuario").fill(perfil.user.username)
        page.get_by_label("Contraseña").fill(CLAVE_PERSONAL)
        page.get_by_role("button", name="Entrar").click()
        expect(page.get_by_role("heading", name="Ingrese el código de su aplicación")).to_be_visible()
        page.get_by_label("Código", exact=True).fill(codigo)
        page.get_by_role("button", name="Verificar").click()
        expect(page.get_by_role("navigation", name="Navegación principal")).to_be_visible()

    return entrar


@pytest.fixture
def captura(page):
    """``captura("agenda-dia")`` saves a full-page PNG under var/capturas/."""
    CARPETA_CAPTURAS.mkdir(parents=True, exist_ok=True)

    def guardar(nombre):
        ruta = CARPETA_CAPTURAS / f"{nombre}.png"
        page.screenshot(path=str(ruta), full_page=True)
        return ruta

    return guardar


@pytest.fixture
def pgbouncer():
    """Debian's PgBouncer in transaction mode in front of the test PostgreSQL (``pruebas.pgbouncer``);
    ``pgbouncer.url(nombre_de_la_base)``. A test that uses it is marked ``pgbouncer`` and is skipped,
    with a notice at the end of the run, where PgBouncer is missing."""
    from django.db import connection

    datos = connection.settings_dict
    with PgBouncer(host=datos["HOST"] or "localhost", puerto=datos["PORT"] or 5432,
                   usuario=datos["USER"] or "postgres", clave=datos.get("PASSWORD") or "") as pooler:
        yield pooler
    pooler.limpiar()
