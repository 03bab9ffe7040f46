"""In a real browser on a phone (390x844), issue 15: a patient opens the readable copy of their
data, reads what their clinical record holds and how long it is kept, and downloads it as a
PDF, which opens and names their note and its addendum. Screenshots under /tmp/capturas-fexp/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from citas.tests.test_services import registrar_paciente
from ficha.models import Antecedentes, LecturaFicha, Seccion
from ficha.tests.test_exportacion import nota
from pruebas.pdf import leer_pdf, pdf_a_png

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-fexp")


def test_el_paciente_lee_que_guarda_su_ficha_y_la_descarga_en_pdf(entrar_al_portal, page, live_server,
                                                                 errores_de_consola, dentista):
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    paciente = registrar_paciente(78, nombre_completo="Ignacio Muñoz Peña")
    Antecedentes.objects.create(cliente=paciente.cliente, alergias="AINES", actualizado_por=dentista.user)
    primera = nota(paciente.cliente, dentista, texto="Exodoncia de la 48; ¿sangrado? leve, se indica reposo.")
    nota(paciente.cliente, dentista, texto="Control: buena cicatrización.", corrige=primera)

    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(paciente)
    page.goto(f"{live_server.url}/portal/cuenta/")
    page.get_by_role("link", name="Ver mis datos (para leer, imprimir o guardar en PDF)").click()
    seccion = page.get_by_role("region", name="Su ficha clínica")
    expect(seccion).to_be_visible()
    expect(seccion.get_by_text("1 evolución firmada.")).to_be_visible()
    expect(seccion.get_by_text("al menos 15 años")).to_be_visible()
    seccion.scroll_into_view_if_needed()
    page.screenshot(path=str(CAPTURAS / "portal-mis-datos-ficha.png"), full_page=False)

    with page.expect_download() as descarga:
        seccion.get_by_role("link", name="Descargar mi ficha clínica (PDF)").click()
    archivo = descarga.value
    assert archivo.suggested_filename.startswith("ficha-clinica-") and archivo.suggested_filename.endswith(".pdf")
    contenido = Path(archivo.path()).read_bytes()
    pdf_a_png(contenido, CAPTURAS, "portal-navegador-ficha")
    leido = leer_pdf(contenido)
    for frase in ("Ignacio Muñoz Peña", "AINES", "Exodoncia de la 48; ¿sangrado? leve", "Adenda del",
                  "Control: buena cicatrización.", "Página 1 de 2"):
        assert leido.contiene(frase), frase
    # Mi cuenta (it shows the allergies), the readable page and the PDF: three reads of the
    # record, all the patient's own.
    assert list(LecturaFicha.objects.order_by("pk").values_list("seccion", "via")) == [
        (Seccion.ANTECEDENTES, "paciente"), (Seccion.EXPORTACION, "paciente"), (Seccion.PDF, "paciente")]
