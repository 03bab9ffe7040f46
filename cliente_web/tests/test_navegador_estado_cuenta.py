"""In a real browser, on a phone (390 px): the patient opens "Estado de cuenta" from the home
page and sees their balance, their accepted quotes and their payments. Screenshots under
/tmp/capturas-cuenta/."""

import pathlib

import pytest
from playwright.sync_api import expect

from pagos.tests.conftest import armar_cuenta  # noqa: F401 (the scene)
from pagos.tests.escena import hecho, plan_de

pytestmark = pytest.mark.django_db(transaction=True)
CAPTURAS = pathlib.Path("/tmp/capturas-cuenta")


def test_el_paciente_ve_su_saldo_en_el_telefono(page, errores_de_consola, entrar_al_portal, paciente,
                                                armar_cuenta):  # noqa: F811
    escena = armar_cuenta(paciente.cliente)
    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(paciente)
    page.get_by_role("link", name="Estado de cuenta").click()
    expect(page.get_by_role("heading", name="Estado de cuenta")).to_be_visible()
    expect(page.locator("#titulo-saldo")).to_have_text("Saldo a favor")
    expect(page.locator("#saldo")).to_have_text("$30.000")
    expect(page.locator("#presupuestos > li")).to_have_count(2)
    expect(page.locator("#presupuestos")).to_contain_text("le falta pagar $12.000")
    expect(page.locator("#pagos > li")).to_have_count(6)
    expect(page.locator("#pagos > li").filter(has_text="anulado")).to_have_count(1)
    ancho = page.evaluate("document.documentElement.scrollWidth")
    assert ancho <= 390, f"la página se sale del teléfono: {ancho}px"
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(CAPTURAS / "1-portal-saldo-a-favor.png"), full_page=True)
    # Work done today that is not paid yet: now they owe.
    hecho(plan_de(paciente.cliente, escena.mora), escena.lim, 75000, escena.mora)
    page.reload()
    expect(page.locator("#titulo-saldo")).to_have_text("Saldo pendiente")
    expect(page.locator("#saldo")).to_have_text("$45.000")
    page.screenshot(path=str(CAPTURAS / "2-portal-saldo-pendiente.png"), full_page=False)
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"
