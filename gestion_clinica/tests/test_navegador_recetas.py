"""In a real browser: a dentist (1280 px) writes a prescription with two medicines from the
patient's record (adding a line without JavaScript's help), issues it and downloads its PDF;
the patient, on a 390 px phone, finds it in Mi cuenta → Mis recetas and downloads it. Every
read is in the log. Screenshots and the PDFs as PNG under /tmp/capturas-rec/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from citas.tests.test_services import registrar_paciente
from cliente_web.tests.conftest import entrar_al_portal  # noqa: F401  (pytest fixture)
from ficha.models import Antecedentes, LecturaFicha, Receta, Seccion, Via
from ficha.tests.conftest import dar_cita  # noqa: F401  (pytest fixture)
from personal.models import Perfil, Rol
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-rec")


def test_dentista_emite_receta_y_el_paciente_la_descarga_en_el_celular(
        page, live_server, errores_de_consola, entrar_a_gestion, entrar_al_portal, crear_personal, dar_cita):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    user = registrar_paciente(61, nombre_completo="Rocío Salinas Vega")
    cliente = user.cliente
    Antecedentes.objects.create(cliente=cliente, alergias="Penicilina")
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    Perfil.objects.filter(pk=dentista.pk).update(rut="13456789-9", registro_superintendencia="104532",
                                                 especialidad="Odontología general")
    dar_cita(dentista, cliente, dias=0)

    # The dentist, from the record to a new prescription.
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(dentista)
    page.goto(f"{live_server.url}/gestion/pacientes/{cliente.pk}/ficha/")
    page.get_by_role("link", name="Recetas", exact=True).click()
    expect(page.get_by_text("Este paciente no tiene recetas.")).to_be_visible()
    page.get_by_role("link", name="Nueva receta").click()
    expect(page.locator(".linea-receta")).to_have_count(3)
    uno = page.locator("#linea-1")
    uno.get_by_label("Medicamento").fill("Clindamicina")
    uno.get_by_label("Presentación").fill("Cápsulas 300 mg")
    uno.get_by_label("Dosis").fill("1 cápsula")
    uno.get_by_label("Frecuencia").fill("cada 8 horas")
    uno.get_by_label("Días").fill("7")
    # "Agregar línea" (a plain submit): what was typed stays, one more line appears.
    page.get_by_role("button", name="Agregar línea").click()
    expect(page.locator(".linea-receta")).to_have_count(4)
    expect(page.locator("#linea-1").get_by_label("Medicamento")).to_have_value("Clindamicina")
    dos = page.locator("#linea-2")
    dos.get_by_label("Medicamento").fill("Paracetamol")
    dos.get_by_label("Presentación").fill("Comprimidos 500 mg")
    dos.get_by_label("Dosis").fill("1 comprimido")
    dos.get_by_label("Frecuencia").fill("cada 6 horas si hay dolor")
    dos.get_by_label("Días").fill("-3")
    page.get_by_label("Indicaciones generales").fill("Control en 7 días. Si hay fiebre, consultar.")
    page.get_by_role("button", name="Emitir receta").click()
    expect(page.get_by_text("La duración va de 1 a 365 días.")).to_be_visible()
    captura("1-receta-error-dias")
    assert not Receta.objects.exists()
    page.locator("#linea-2").get_by_label("Días").fill("3")
    page.locator("#linea-2").get_by_label("Indicaciones").fill("No más de 4 al día.")
    captura("2-receta-formulario")
    page.get_by_role("button", name="Emitir receta").click()
    expect(page.get_by_role("status").filter(has_text="Receta N° 1 emitida.")).to_be_visible()
    expect(page.locator(".medicamentos li")).to_have_count(2)
    captura("3-receta-emitida")
    with page.expect_download() as descarga:
        page.get_by_role("link", name="Descargar PDF").click()
    archivo = descarga.value
    assert archivo.suggested_filename == "receta-000001.pdf"
    contenido = Path(archivo.path()).read_bytes()
    pdf_a_png(contenido, CAPTURAS, "navegador-receta-dentista")
    leido = leer_pdf(contenido)
    for frase in ("Camila Soto", "Cirujano dentista", "13.456.789-9", "N° 104532", "Rocío Salinas Vega",
                  "1. Clindamicina — Cápsulas 300 mg", "2. Paracetamol — Comprimidos 500 mg", "No más de 4 al día.",
                  "Control en 7 días."):
        assert leido.contiene(frase), frase
    assert caracteres_fuera(contenido) == 0
    receta = Receta.objects.get()

    # The patient, on their phone.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(user)
    page.goto(f"{live_server.url}/portal/cuenta/")
    page.get_by_role("link", name="Mis recetas").click()
    fila = page.locator(f"#receta-{receta.pk}")
    expect(fila).to_contain_text("Clindamicina, Paracetamol")
    expect(fila).to_contain_text("Camila Soto")
    captura("4-portal-mis-recetas")
    ancho = page.evaluate("document.documentElement.scrollWidth")
    assert ancho <= 390, f"la página se sale del celular: {ancho} px"
    with page.expect_download() as descarga:
        fila.get_by_role("link").click()
    contenido = Path(descarga.value.path()).read_bytes()
    pdf_a_png(contenido, CAPTURAS, "navegador-receta-paciente")
    leido = leer_pdf(contenido)
    assert leido.contiene("Clindamicina") and leido.contiene("(paciente, desde el portal)")

    lecturas = list(LecturaFicha.objects.filter(seccion=Seccion.RECETA).order_by("pk")
                    .values_list("via", "objeto_id"))
    assert lecturas[-2:] == [(Via.PACIENTE, None), (Via.PACIENTE, receta.pk)]
    assert (Via.EQUIPO, receta.pk) in lecturas
    assert errores_de_consola == []
