"""In a real browser (1280 px): reception opens a patient's statement from their page; the
administrator walks the money reports, gets a Spanish message for a reversed period and
downloads the collections' CSV. Screenshots under /tmp/capturas-cuenta/."""

import pathlib

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pagos.tests.conftest import armar_cuenta, cuenta  # noqa: F401 (the scene)
from personal.models import Rol

pytestmark = pytest.mark.django_db(transaction=True)
CAPTURAS = pathlib.Path("/tmp/capturas-cuenta")


def test_recepcion_ve_el_estado_de_cuenta(page, live_server, errores_de_consola, entrar_a_gestion,
                                          cuenta):  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(cuenta.pedro)
    page.goto(f"{live_server.url}/gestion/pacientes/{cuenta.ana.pk}/")
    page.get_by_role("link", name="Estado de cuenta").click()
    expect(page.get_by_role("heading", name="Estado de cuenta")).to_be_visible()
    expect(page.locator("#cargado")).to_have_text("$115.000")
    expect(page.locator("#pagado")).to_have_text("$145.000")
    expect(page.locator("#saldo")).to_have_text("$30.000")
    expect(page.locator("#tabla-cargos tbody tr")).to_have_count(3)
    expect(page.locator("#tabla-pagos tbody tr")).to_have_count(6)
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(CAPTURAS / "3-gestion-estado-de-cuenta.png"), full_page=True)
    with page.expect_download() as descarga:
        page.get_by_role("link", name="Descargar CSV (Excel)").click()
    contenido = pathlib.Path(descarga.value.path()).read_bytes()
    assert contenido.startswith(b"\xef\xbb\xbf") and "Resumen;Cargado;;;;115000" in contenido.decode("utf-8-sig")
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"


def test_administrador_ve_reportes_y_descarga_csv(page, live_server, errores_de_consola, entrar_a_gestion,
                                                  crear_personal, cuenta):  # noqa: F811
    admin = crear_personal(rol=Rol.ADMINISTRADOR, nombre="Alba", apellido="Admin")
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(admin)
    page.get_by_role("link", name="Reportes").click()
    expect(page.get_by_role("heading", name="Producción por dentista")).to_be_visible()
    expect(page.locator("#tabla-produccion")).to_contain_text("Camila Soto")
    expect(page.locator("#tabla-produccion tbody tr").last).to_contain_text("$115.000")
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(CAPTURAS / "4-gestion-produccion.png"), full_page=True)
    page.get_by_role("link", name="Recaudación").click()
    hoy = timezone.localdate()
    page.get_by_label("Desde").fill(hoy.isoformat())
    page.get_by_label("Hasta").fill(hoy.isoformat())
    page.get_by_role("button", name="Ver").click()
    expect(page.locator("#tabla-dentista")).to_contain_text("Sin presupuesto")
    expect(page.locator("#tabla-medio tbody tr").last).to_contain_text("$145.000")
    page.screenshot(path=str(CAPTURAS / "5-gestion-recaudacion.png"), full_page=True)
    with page.expect_download() as descarga:
        page.get_by_role("link", name="Descargar CSV (Excel)").click()
    assert descarga.value.suggested_filename == f"recaudacion-{hoy:%Y-%m-%d}-a-{hoy:%Y-%m-%d}.csv"
    texto = pathlib.Path(descarga.value.path()).read_bytes().decode("utf-8-sig")
    assert "Medio de pago;Total;3;160000;-15000;145000" in texto.split("\r\n")
    # A reversed period: said in Spanish, no table.
    page.get_by_label("Desde").fill(hoy.isoformat())
    page.get_by_label("Hasta").fill(hoy.replace(year=hoy.year - 1).isoformat())
    page.get_by_role("button", name="Ver").click()
    expect(page.get_by_text("La fecha «hasta» es anterior a «desde».")).to_be_visible()
    expect(page.locator("#tabla-medio")).to_have_count(0)
    page.screenshot(path=str(CAPTURAS / "6-gestion-periodo-invertido.png"), full_page=True)
    page.get_by_role("link", name="Saldos pendientes").click()
    expect(page.locator("#resumen-saldos")).to_contain_text("0 pacientes")
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"
