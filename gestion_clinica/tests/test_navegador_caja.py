"""In a real browser (1280 px): reception opens its box, records two partial payments in
different methods against an accepted quote (the second with more than it owes: the rest is
credit), tries a garbage amount, downloads a receipt, and closes the box with a difference.
Screenshots and the receipt as PNG under /tmp/capturas-pagos/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from citas.tests.test_services import registrar_paciente
from pagos.models import Caja, Pago
from pagos.tests.escena import presupuesto
from personal.models import Rol
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-pagos")


def test_recepcion_abre_caja_registra_dos_abonos_y_cierra_con_diferencia(
        page, live_server, errores_de_consola, entrar_a_gestion, crear_personal):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    rosa = crear_personal(rol=Rol.RECEPCION, username="rosa.diaz", nombre="Rosa", apellido="Díaz")
    cliente = registrar_paciente(71, nombre_completo="Rocío Salinas Vega").cliente
    quote = presupuesto(cliente, dentista, rosa.user, precios=(45000, 35000))

    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(rosa)
    page.get_by_role("link", name="Caja", exact=True).click()
    page.get_by_label("Efectivo en la caja al abrir").fill("$20.000")
    captura("1-abrir-caja")
    page.get_by_role("button", name="Abrir caja").click()
    expect(page.get_by_role("status").filter(has_text="Caja abierta.")).to_be_visible()

    # From the patient's page to the payment form: the quote and what it owes.
    page.goto(f"{live_server.url}/gestion/pacientes/{cliente.pk}/")
    page.get_by_role("link", name="Registrar pago").click()
    expect(page.locator("#presupuestos")).to_contain_text("$80.000")
    page.get_by_label("Abonar a").select_option(str(quote.pk))
    page.get_by_label("Monto").fill("12,5")
    page.get_by_role("button", name="Registrar pago").click()
    expect(page.get_by_text("Escriba el monto en pesos, sin decimales")).to_be_visible()
    assert not Pago.objects.exists()
    page.get_by_label("Monto").fill("50.000")
    page.get_by_label("Medio de pago").select_option("efectivo")
    captura("2-registrar-pago")
    page.get_by_role("button", name="Registrar pago").click()
    expect(page.get_by_role("status").filter(has_text="Pago registrado: comprobante N° 000001")).to_be_visible()
    expect(page.get_by_text(f"Presupuesto N° {quote.numero}: $50.000")).to_be_visible()

    # Second payment, by card, more than what is left: $30.000 to the quote, $5.000 credit.
    page.get_by_role("link", name="Registrar otro pago").click()
    expect(page.locator("#presupuestos")).to_contain_text("$30.000")
    page.get_by_label("Abonar a").select_option(str(quote.pk))
    page.get_by_label("Monto").fill("35000")
    page.get_by_label("Medio de pago").select_option("debito")
    page.get_by_label("Referencia").fill("Voucher 004521")
    page.get_by_role("button", name="Registrar pago").click()
    expect(page.get_by_text(f"Presupuesto N° {quote.numero}: $30.000; Saldo a favor: $5.000")).to_be_visible()
    captura("3-comprobante")
    with page.expect_download() as descarga:
        page.get_by_role("link", name="Descargar comprobante (PDF)").click()
    archivo = descarga.value
    assert archivo.suggested_filename == "comprobante-000002.pdf"
    contenido = Path(archivo.path()).read_bytes()
    leido = leer_pdf(contenido)
    assert leido.contiene("Saldo a favor: $5.000") and leido.contiene("Voucher 004521")
    assert caracteres_fuera(contenido) == 0
    pdf_a_png(contenido, CAPTURAS, "navegador-comprobante")

    # The box: two entries, totals by method; closed counting $500 less than expected.
    page.get_by_role("link", name="Caja", exact=True).click()
    expect(page.locator("#movimientos tbody tr")).to_have_count(2)
    expect(page.locator("#totales")).to_contain_text("$35.000")
    expect(page.locator("#efectivo")).to_contain_text("$70.000")
    captura("4-caja-abierta")
    page.get_by_label("Efectivo contado").fill("69.500")
    page.get_by_label("Observación").fill("Faltan $500 de vuelto")
    page.get_by_role("button", name="Cerrar caja").click()
    expect(page.get_by_role("status").filter(has_text="Caja cerrada. Diferencia: -$500.")).to_be_visible()
    expect(page.get_by_role("button", name="Cerrar caja")).to_have_count(0)
    captura("5-caja-cerrada")
    caja = Caja.objects.get(cajero=rosa.user)
    assert (caja.esperado_efectivo, caja.contado_efectivo, caja.diferencia) == (70000, 69500, -500)
