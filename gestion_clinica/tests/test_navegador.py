"""In a real browser (Playwright driving Debian's Chromium): a receptionist logs in, sees the
day, and logs out. Screenshots go to var/capturas/."""

import datetime

import pytest
from playwright.sync_api import expect

from gestion_clinica.tests.conftest import CLAVE_PERSONAL
from pruebas.soporte import codigo_de_prueba

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("ancho, alto, nombre", [(1280, 800, "escritorio"), (820, 1180, "tableta")])
def test_recepcion_entra_ve_el_dia_y_sale(page, live_server, captura, recepcionista, dentista, cita_hoy,
                                           ancho, alto, nombre):
    cita_hoy(dentista, datetime.time(10, 0), nombre="Marta Díaz")
    errores = []
    page.on("console", lambda mensaje: errores.append(mensaje.text) if mensaje.type == "error" else None)
    page.set_viewport_size({"width": ancho, "height": alto})

    codigo = codigo_de_prueba(recepcionista.user)  # their app, enrolled on an earlier login
    page.goto(f"{live_server.url}/gestion/")
    expect(page.get_by_role("heading", name="Acceso del personal")).to_be_visible()
    page.get_by_label("Usuario").fill(recepcionista.user.username)
    page.get_by_label("Contraseña").fill("clave equivocada")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_be_visible()

    page.get_by_label("Contraseña").fill(CLAVE_PERSONAL)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_label("Código", exact=True).fill(codigo)
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_text("Marta Díaz")).to_be_visible()
    captura(f"gestion-inicio-{nombre}")
    assert not errores, f"errores en la consola (¿CSP?): {errores}"
