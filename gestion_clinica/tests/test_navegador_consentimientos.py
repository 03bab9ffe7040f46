"""In a real browser on a tablet-sized screen (820 × 1180): a dentist issues an informed consent
from the patient's record, presents it on the tablet, the patient ticks "He leído…", and signs
with the mouse on the signature pad (pointer events); the accepted consent shows the signature
and prints as PDF. Without JavaScript the pad stays hidden and the paper path is offered.
Screenshots go to /tmp/capturas-con/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from ficha.consentimientos import crear_plantilla
from ficha.models import Consentimiento, EstadoConsentimiento
from ficha.tests.conftest import dar_cita, paciente_ficha  # noqa: F401  (pytest fixtures)
from personal.models import Rol
from pruebas.pdf import leer_pdf, pdf_a_png

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-con")
TEXTO = ("En qué consiste: se extrae la pieza 38 bajo anestesia local.\n"
         "Riesgos: dolor, inflamación, sangrado, alveolitis seca, adormecimiento del labio.\n"
         "Alternativas: mantener la pieza en control, con riesgo de dolor e infección.")


def test_dentista_emite_y_el_paciente_firma_en_la_tableta(page, live_server, errores_de_consola, entrar_a_gestion,
                                                         crear_personal, paciente_ficha, dar_cita):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    admin = crear_personal(rol=Rol.ADMINISTRADOR, username="admin.cons", nombre="Rosa", apellido="Vega")
    crear_plantilla(actor=admin.user, nombre="Exodoncia", procedimiento="Extracción del tercer molar 38",
                    texto=TEXTO)
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    dar_cita(dentista, paciente_ficha, dias=-3)
    page.set_viewport_size({"width": 820, "height": 1180})

    entrar_a_gestion(dentista)
    page.goto(f"{live_server.url}/gestion/pacientes/{paciente_ficha.pk}/ficha/")
    page.get_by_role("link", name="Consentimientos", exact=True).click()
    page.get_by_role("link", name="Emitir consentimiento").click()
    page.get_by_label("Procedimiento").select_option(label="Exodoncia")
    captura("1-emitir")
    page.get_by_role("button", name="Emitir").click()
    expect(page.get_by_role("status").filter(has_text="Consentimiento emitido.")).to_be_visible()
    expect(page.locator("#texto-consentimiento")).to_contain_text("alveolitis seca")
    captura("2-consentimiento-emitido")

    # The paper to print before it is signed: blank lines.
    consentimiento = Consentimiento.objects.get(cliente=paciente_ficha)
    enlace_pdf = page.get_by_role("link", name="Imprimir para firmar (PDF)").get_attribute("href")
    respuesta = page.request.get(f"{live_server.url}{enlace_pdf}")
    assert respuesta.ok and respuesta.headers["content-type"] == "application/pdf"
    assert leer_pdf(respuesta.body()).contiene("Nombre de quien firma")
    pdf_a_png(respuesta.body(), CAPTURAS, "3-pdf-para-firmar")

    # The tablet: large text, "He leído…", the signer, the pad.
    page.get_by_role("link", name="Presentar en la tableta").click()
    expect(page.get_by_role("heading", name="Consentimiento informado: Exodoncia")).to_be_visible()
    expect(page.locator("#lienzo-firma")).to_be_visible()
    expect(page.get_by_text("Para firmar en pantalla se necesita JavaScript.")).to_be_hidden()
    captura("4-tableta")
    # Sending without ticking nor signing: told why, in Spanish.
    page.get_by_role("button", name="Acepto y firmo").click()
    expect(page.get_by_text("Marque que el paciente leyó el consentimiento")).to_be_visible()
    expect(page.get_by_text("Firme en el recuadro o adjunte el documento firmado y escaneado.")).to_be_visible()
    captura("5-tableta-errores")

    page.get_by_label("He leído").check()
    expect(page.get_by_label("Nombre completo de quien firma")).to_have_value("Ana Pérez Soto")
    lienzo = page.locator("#lienzo-firma")
    lienzo.scroll_into_view_if_needed()
    caja = lienzo.bounding_box()
    x0, y0, ancho, alto = caja["x"], caja["y"], caja["width"], caja["height"]
    page.mouse.move(x0 + ancho * 0.10, y0 + alto * 0.70)
    page.mouse.down()
    for i in range(1, 21):  # a "A"-like zigzag
        page.mouse.move(x0 + ancho * (0.10 + 0.02 * i), y0 + alto * (0.70 - 0.5 * (1 - abs(10 - i) / 10)), steps=2)
    page.mouse.up()
    page.mouse.move(x0 + ancho * 0.55, y0 + alto * 0.55)
    page.mouse.down()
    page.mouse.move(x0 + ancho * 0.85, y0 + alto * 0.45, steps=12)
    page.mouse.up()
    expect(page.locator("#estado-firma")).to_have_text("Firma registrada. Puede borrarla y firmar de nuevo.")
    captura("6-tableta-firmada")
    page.get_by_role("button", name="Acepto y firmo").click()
    expect(page.get_by_role("status").filter(has_text="Consentimiento aceptado y registrado.")).to_be_visible()
    expect(page.locator("#aceptacion")).to_contain_text("ante Camila Soto")
    expect(page.locator("svg.firma-dibujada polyline")).to_have_count(2)
    captura("7-consentimiento-aceptado")

    consentimiento.refresh_from_db()
    assert consentimiento.estado == EstadoConsentimiento.ACEPTADO and consentimiento.forma == "firma"
    assert len(consentimiento.firma_trazos) == 2 and len(consentimiento.firma_trazos[0]) > 10

    # Printing the accepted consent: the signer, "aceptado ante", the drawn signature.
    enlace_pdf = page.get_by_role("link", name="PDF", exact=True).get_attribute("href")
    respuesta = page.request.get(f"{live_server.url}{enlace_pdf}")
    leido = leer_pdf(respuesta.body())
    assert leido.contiene("Aceptado ante Camila Soto") and leido.contiene("Firma de Ana Pérez Soto")
    pdf_a_png(respuesta.body(), CAPTURAS, "8-pdf-aceptado")
    assert not errores_de_consola, errores_de_consola


def test_sin_javascript_la_tableta_ofrece_el_papel(browser, live_server, entrar_a_gestion, crear_personal,
                                                   paciente_ficha, dar_cita):
    """Without JavaScript the pad stays hidden and the page says how to record the paper."""
    from ficha.consentimientos import emitir_consentimiento

    admin = crear_personal(rol=Rol.ADMINISTRADOR, username="admin.cons2", nombre="Rosa", apellido="Vega")
    plantilla = crear_plantilla(actor=admin.user, nombre="Endodoncia", procedimiento="Endodoncia de 36", texto=TEXTO)
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.soto2", nombre="Camila", apellido="Soto")
    dar_cita(dentista, paciente_ficha, dias=-3)
    consentimiento = emitir_consentimiento(actor=dentista.user, cliente_id=paciente_ficha.pk,
                                           plantilla_id=plantilla.pk)
    contexto = browser.new_context(java_script_enabled=False, viewport={"width": 820, "height": 1180})
    try:
        from pruebas.soporte import iniciar_sesion
        from django.test import Client

        sesion = iniciar_sesion(Client(), dentista.user)
        contexto.add_cookies([{"name": "sessionid", "value": sesion.cookies["sessionid"].value,
                               "url": live_server.url}])
        pagina = contexto.new_page()
        pagina.goto(f"{live_server.url}/gestion/pacientes/{paciente_ficha.pk}/ficha/consentimientos/"
                    f"{consentimiento.pk}/tableta/")
        expect(pagina.get_by_text("Para firmar en pantalla se necesita JavaScript.")).to_be_visible()
        expect(pagina.locator("#lienzo-firma")).to_be_hidden()
        expect(pagina.get_by_role("link", name="Registrar firma en papel")).to_be_visible()
        pagina.screenshot(path=str(CAPTURAS / "9-tableta-sin-javascript.png"), full_page=True)
    finally:
        contexto.close()
