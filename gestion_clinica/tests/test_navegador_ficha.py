"""In a real browser (1280 px): a dentist opens today's patient from the agenda, reads and
updates the medical history, writes and signs a note, adds an addendum; reception opens the
same patient and sees no clinical content. Screenshots go to /tmp/capturas-fpan/."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from citas.models import EstadoCita
from ficha.models import Antecedentes, Evolucion, LecturaFicha, Via
from ficha.tests.conftest import dar_cita, paciente_ficha  # noqa: F401  (pytest fixtures)
from personal.models import Rol

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-fpan")


def test_dentista_escribe_en_la_ficha_y_recepcion_no_la_ve(page, live_server, errores_de_consola, entrar_a_gestion,
                                                          crear_personal, recepcionista, paciente_ficha, dar_cita):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    dar_cita(dentista, paciente_ficha, dias=-30)  # an earlier visit
    dar_cita(dentista, paciente_ficha, dias=0, hora=10, estado=EstadoCita.CONFIRMADA)
    page.set_viewport_size({"width": 1280, "height": 800})

    # From the agenda to the appointment, and from it to the record.
    entrar_a_gestion(dentista)
    page.get_by_role("link", name="Agenda", exact=True).click()
    page.get_by_role("link", name="Ana Pérez Soto").click()
    expect(page.get_by_role("link", name="Escribir evolución")).to_be_visible()
    captura("1-cita-del-dentista")
    page.get_by_role("link", name="Ficha", exact=True).click()
    expect(page.get_by_role("heading", name="Ana Pérez Soto", level=1)).to_be_visible()
    expect(page.get_by_text("Aún no hay antecedentes registrados.")).to_be_visible()
    captura("2-ficha-vacia")

    # The medical history.
    page.get_by_role("link", name="Actualizar").click()
    page.get_by_label("Alergias").fill("Penicilina")
    page.get_by_label("Enfermedades y condiciones").fill("Hipertensión arterial")
    page.get_by_label("Medicamentos actuales").fill("Losartán 50 mg")
    page.get_by_label("Toma anticoagulantes").check()
    page.get_by_label("Cuál anticoagulante").fill("Acenocumarol 4 mg")
    page.get_by_label("Tabaquismo").select_option(label="Ex fumador(a)")
    captura("3-antecedentes-formulario")
    page.get_by_role("button", name="Guardar antecedentes").click()
    expect(page.get_by_role("status").filter(has_text="Antecedentes guardados.")).to_be_visible()
    alertas = page.locator("#alertas-clinicas")
    expect(alertas).to_contain_text("Alergias: Penicilina")
    expect(alertas).to_contain_text("Toma anticoagulantes (Acenocumarol 4 mg)")
    assert Antecedentes.objects.get(cliente=paciente_ficha).version == 1

    # A note: draft with a wrong tooth first, then right, then signed after the confirmation.
    page.get_by_role("link", name="Escribir evolución").click()
    page.get_by_label("Qué se hizo").fill("Obturación con resina")
    page.get_by_label("Dientes (FDI)").fill("16, 19")
    page.get_by_label("Evolución", exact=True).fill("Caries oclusal profunda; resina compuesta A2. Sin dolor.")
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.get_by_text("«19» no es un diente.")).to_be_visible()
    captura("4-evolucion-error-diente")
    page.get_by_label("Dientes (FDI)").fill("16 y 26")
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.get_by_role("status").filter(has_text="Borrador guardado.")).to_be_visible()
    page.get_by_role("link", name="Firmar…").click()
    expect(page.get_by_text("Una evolución firmada no se puede modificar; las correcciones se agregan como adenda."))\
        .to_be_visible()
    captura("5-confirmar-firma")
    page.get_by_role("button", name="Firmar evolución").click()
    expect(page.get_by_role("status").filter(has_text="Evolución firmada.")).to_be_visible()
    nota = Evolucion.objects.get(cliente=paciente_ficha)
    assert nota.firmada and nota.dientes == [16, 26] and nota.cita_id is not None

    # An addendum.
    page.locator(f"#evolucion-{nota.pk}").get_by_role("link", name="Agregar adenda").click()
    page.get_by_label("Adenda").fill("Control en 6 meses; indicar radiografía bite-wing.")
    page.get_by_role("button", name="Agregar y firmar adenda").click()
    expect(page.get_by_role("status").filter(has_text="Adenda agregada y firmada.")).to_be_visible()
    expect(page.locator(f"#evolucion-{nota.pk}")).to_contain_text("Adenda de Camila Soto")
    captura("6-ficha-con-evolucion-y-adenda")
    page.get_by_role("link", name="Versiones").click()
    expect(page.get_by_role("heading", name=re.compile("Versión 1"))).to_be_visible()
    captura("7-versiones-antecedentes")
    assert not errores_de_consola, errores_de_consola

    # Reception: the patient's page has no "Ficha clínica", and the record's URL is refused.
    page.context.clear_cookies()
    entrar_a_gestion(recepcionista)
    page.goto(f"{live_server.url}/gestion/pacientes/{paciente_ficha.pk}/")
    expect(page.get_by_role("heading", name="Ana Pérez Soto")).to_be_visible()
    expect(page.get_by_role("link", name="Ficha clínica")).to_have_count(0)
    captura("8-paciente-visto-por-recepcion")
    respuesta = page.goto(f"{live_server.url}/gestion/pacientes/{paciente_ficha.pk}/ficha/")
    assert respuesta.status == 403
    expect(page.get_by_role("heading", name=re.compile("es solo para su equipo de cuidado"))).to_be_visible()
    contenido = page.content()
    for secreto in ("Hipertensión", "Losartán", "Acenocumarol", "resina compuesta", "bite-wing"):
        assert secreto not in contenido, secreto
    captura("9-ficha-rechazada-a-recepcion")
    assert LecturaFicha.objects.filter(usuario=recepcionista.user, via=Via.DENEGADO).count() == 1
    # The only console message after that: the browser's own line about the 403 response.
    assert all("403" in e for e in errores_de_consola), errores_de_consola
