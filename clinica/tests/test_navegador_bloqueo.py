"""In a real browser, through the documented proxy (X-Forwarded-For from 127.0.0.1): a stranger's
wrong passwords lock out the stranger, not the account's owner, on both sites; the owner's own
mistakes still lock them out with the Spanish page. Screenshots go to /tmp/capturas-bloqueo/."""

from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from cliente_web.tests.conftest import CLAVE_PACIENTE
from gestion_clinica.tests.conftest import CLAVE_PERSONAL

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-bloqueo")
IP_ATACANTE = "198.51.100.7"


@pytest.fixture
def foto(page):
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    return lambda nombre: page.screenshot(path=str(CAPTURAS / f"bloqueo-{nombre}.png"), full_page=True)


@pytest.fixture(autouse=True)
def detras_del_proxy(settings):
    settings.CLINICA_PROXIES_DE_CONFIANZA = ["127.0.0.1/32", "::1/128"]


def _sin_errores(errores):
    # The lockout page answers 429 on purpose; Chromium logs that status as a console error.
    return [e for e in errores if "status of 429" not in e]


def test_portal_el_atacante_no_bloquea_al_paciente(page, live_server, foto, errores_de_consola, paciente):
    page.set_viewport_size({"width": 390, "height": 844})
    rut, email = paciente.cliente.rut, paciente.cliente.email
    atacante = Client(HTTP_X_FORWARDED_FOR=IP_ATACANTE)
    for n in range(20):
        atacante.post("/portal/entrar/", {"username": [rut, email][n % 2], "password": f"mala-{n}"})
    assert atacante.post("/portal/entrar/", {"username": rut, "password": CLAVE_PACIENTE}).status_code == 429

    page.goto(f"{live_server.url}/portal/entrar/")
    page.get_by_label("RUT o correo electrónico").fill(rut)
    page.get_by_label("Contraseña").fill(CLAVE_PACIENTE)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(f"{live_server.url}/portal/")
    foto("portal-la-duena-entra")

    # Her own five mistakes (RUT or e-mail alike) do lock her out, in Spanish.
    page.context.clear_cookies()
    for n in range(5):
        page.goto(f"{live_server.url}/portal/entrar/")
        page.get_by_label("RUT o correo electrónico").fill([rut, email][n % 2])
        page.get_by_label("Contraseña").fill("no-es-la-clave")
        page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_text("Demasiados intentos fallidos")).to_be_visible()
    foto("portal-bloqueada")
    assert _sin_errores(errores_de_consola) == []


def test_gestion_el_atacante_se_bloquea_y_el_personal_entra(page, live_server, foto, errores_de_consola,
                                                           recepcionista, entrar_a_gestion):
    page.set_viewport_size({"width": 1280, "height": 800})
    # The browser as the attacker: its requests reach Django through the proxy, from IP_ATACANTE.
    page.set_extra_http_headers({"X-Forwarded-For": IP_ATACANTE})
    for _ in range(5):
        page.goto(f"{live_server.url}/gestion/entrar/")
        page.get_by_label("Usuario").fill(recepcionista.user.username)
        page.get_by_label("Contraseña").fill("adivinando")
        page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_text("Demasiados intentos fallidos")).to_be_visible()
    foto("gestion-atacante-bloqueado")

    page.set_extra_http_headers({})  # the receptionist, from the clinic
    entrar_a_gestion(recepcionista)
    foto("gestion-la-recepcionista-entra")
    assert _sin_errores(errores_de_consola) == []
