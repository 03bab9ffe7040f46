"""In a real browser, on a 1280 px screen and on a tablet (820 × 1180): a dentist opens today's
patient from the agenda, writes a draft note, charts three findings by tapping the drawing and the big buttons,
gets a clear message for a wrong combination, marks one finding as done in the note, reads the
history and the mouth as it was a year ago. Screenshots go to /tmp/capturas-odo/."""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from citas.models import EstadoCita
from ficha.models import Evolucion, MarcaOdontograma
from ficha.tests.conftest import dar_cita, paciente_ficha  # noqa: F401  (pytest fixtures)
from personal.models import Rol

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-odo")
PANTALLAS = {"escritorio": {"width": 1280, "height": 800}, "tableta": {"width": 820, "height": 1180}}


@pytest.mark.parametrize("pantalla", list(PANTALLAS))
def test_dentista_registra_en_el_odontograma(page, live_server, errores_de_consola, entrar_a_gestion, crear_personal,
                                             paciente_ficha, dar_cita, pantalla):  # noqa: PLR0915 (one walk)
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{pantalla}-{nombre}.png"), full_page=True)

    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    dar_cita(dentista, paciente_ficha, dias=-400)
    dar_cita(dentista, paciente_ficha, dias=0, hora=10, estado=EstadoCita.CONFIRMADA)
    hace_dos_anos = timezone.now() - datetime.timedelta(days=730)
    MarcaOdontograma.objects.create(cliente=paciente_ficha, registrado_por=dentista.user, registrado_en=hace_dos_anos,
                                    diente=11, superficie="", estado="corona", condicion="realizado")
    page.set_viewport_size(PANTALLAS[pantalla])

    def tocar_diente(numero):
        """A tap on the tooth's number (the surfaces are links of their own)."""
        enlace = page.locator(f'svg.odontograma a[href$="diente={numero}#panel"]')
        caja = enlace.bounding_box()
        arriba = numero // 10 in (1, 2, 5, 6)
        enlace.click(position={"x": caja["width"] / 2, "y": 6 if arriba else caja["height"] - 6})

    entrar_a_gestion(dentista)
    base = f"{live_server.url}/gestion/pacientes/{paciente_ficha.pk}/ficha/"

    # From the agenda to today's patient, their record, and a draft note of this visit.
    page.get_by_role("link", name="Agenda", exact=True).click()
    page.get_by_role("link", name="Ana Pérez Soto").click()
    page.get_by_role("link", name="Ficha", exact=True).click()
    expect(page.locator("#odontograma-ficha svg")).to_be_visible()
    page.get_by_role("link", name="Escribir evolución").click()
    page.get_by_label("Qué se hizo").fill("Control y diagnóstico")
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.get_by_role("status").filter(has_text="Borrador guardado.")).to_be_visible()
    nota = Evolucion.objects.get(cliente=paciente_ficha)
    page.goto(base)
    expect(page.locator("#odontograma-ficha svg")).to_be_visible()
    captura("1-ficha-con-odontograma")
    page.get_by_role("link", name="Registrar en el odontograma").click()
    expect(page.get_by_role("heading", name="Odontograma", exact=True)).to_be_visible()

    # The drawing's teeth are big enough to tap with a glove.
    diente = page.locator('svg.odontograma a[href$="diente=16#panel"] rect').bounding_box()
    assert diente["width"] >= 44, diente

    # 1: caries on 16, occlusal: tap the surface, then the state; "hallazgo" is the default.
    page.locator('svg.odontograma a[href*="diente=16&cara=O"]').click()
    expect(page.get_by_role("heading", name="Diente 16")).to_be_visible()
    expect(page.locator("#cara-O")).to_be_checked()
    boton = page.locator('label[for="estado-caries"]').bounding_box()
    assert boton["height"] >= 44 and boton["width"] >= 44, boton
    page.locator('label[for="estado-caries"]').click()
    captura("2-diente-16-elegido")
    page.get_by_role("button", name="Guardar en el odontograma").click()
    expect(page.get_by_role("status")).to_contain_text("Guardado: Diente 16, cara oclusal: caries (hallazgo).")

    # 2: caries on 26, mesial and distal.
    tocar_diente(26)
    page.locator('label[for="cara-M"]').click()
    page.locator('label[for="cara-D"]').click()
    page.locator('label[for="estado-caries"]').click()
    page.get_by_role("button", name="Guardar en el odontograma").click()
    expect(page.get_by_role("status")).to_contain_text("Diente 26, cara distal: caries (hallazgo)")

    # A wrong combination: a crown on one surface. A clear message, nothing saved.
    tocar_diente(36)
    page.locator('label[for="cara-O"]').click()
    page.locator('label[for="estado-corona"]').click()
    page.get_by_role("button", name="Guardar en el odontograma").click()
    expect(page.locator("#errores-odontograma")).to_contain_text("Corona es del diente completo: no elija una cara.")
    captura("3-error")
    # 3: extraction indicated on 36, the whole tooth.
    page.locator('label[for="cara-O"]').click()  # unchecks it
    page.locator('label[for="estado-extraccion"]').click()
    page.get_by_role("button", name="Guardar en el odontograma").click()
    expect(page.get_by_role("status")).to_contain_text("Diente 36: extracción indicada (hallazgo)")
    expect(page.locator('svg.odontograma a[href$="diente=36#panel"]')).to_have_attribute(
        "aria-label", "Diente 36: extracción indicada (hallazgo)")
    captura("4-tres-hallazgos")
    assert MarcaOdontograma.objects.filter(cliente=paciente_ficha, evolucion=nota).count() == 4

    # In the note: one finding done in this visit.
    page.goto(base + f"evoluciones/{nota.pk}/")
    pendientes = page.locator("#hallazgos-pendientes")
    expect(pendientes.locator("li")).to_have_count(4)
    page.get_by_role("button", name="Realizado en esta atención: Diente 16, cara oclusal: caries (hallazgo)").click()
    expect(page.locator("#marcas-de-la-nota")).to_contain_text("Diente 16, cara oclusal: caries (realizado)")
    expect(pendientes.locator("li")).to_have_count(3)
    captura("5-nota-con-realizado")

    # The history, and the mouth as it was a year ago (only the old crown).
    page.goto(base + "odontograma/")
    page.get_by_role("link", name="Historial de cambios").click()
    expect(page.locator("tr.cambio-odontograma")).to_have_count(6)
    expect(page.locator("#tabla-historial")).to_contain_text("Camila Soto")
    captura("6-historial")
    page.get_by_role("link", name="Odontograma de hoy").click()
    hace_un_ano = timezone.localdate() - datetime.timedelta(days=365)
    page.get_by_label("Ver cómo estaba el").fill(hace_un_ano.isoformat())
    page.get_by_role("button", name="Ver", exact=True).click()
    expect(page.locator("#aviso-fecha")).to_contain_text(f"al final del {hace_un_ano:%d-%m-%Y}")
    expect(page.locator('svg.odontograma a[href$="diente=11#panel"]')).to_have_attribute(
        "aria-label", "Diente 11: corona (realizado)")
    expect(page.locator('svg.odontograma a[href$="diente=16#panel"]')).to_have_attribute(
        "aria-label", "Diente 16: sin marcas")
    captura("7-hace-un-ano")
    # A date in 1800: a Spanish message, the odontogram of today.
    page.goto(base + "odontograma/?fecha=1800-01-01")
    expect(page.locator("#errores-odontograma")).to_contain_text("Use una fecha desde el 01-01-2000.")
    assert re.search(r"diente=16", page.content())
