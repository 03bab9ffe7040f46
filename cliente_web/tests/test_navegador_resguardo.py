"""In a real browser on a phone (390x844): a patient with a clinical record deletes their account
and reads, before and after, what the clinic keeps, why and until when (issue 15).
Screenshots go to /tmp/capturas-fret/."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cliente_web.tests.conftest import CLAVE_PACIENTE
from ficha.models import Antecedentes, Resguardo
from ficha.retencion import anos_de_conservacion, sumar_anos
from ficha.tests.escenas_resguardo import cita_pasada
from pacientes.models import Cliente

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-fret")


def test_paciente_con_ficha_elimina_su_cuenta_y_sabe_que_se_conserva(page, entrar_al_portal, paciente, dentista,
                                                                     recepcionista, errores_de_consola):
    cita_pasada(recepcionista, dentista, paciente.cliente, dias=45, motivo="Dolor al masticar")
    Antecedentes.objects.update_or_create(cliente=paciente.cliente, defaults={"enfermedades": "Asma"})
    hasta = sumar_anos(timezone.localdate(), anos_de_conservacion())
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})

    entrar_al_portal(paciente)
    page.goto(page.url.split("/portal/")[0] + "/portal/cuenta/eliminar/")
    expect(page.get_by_role("heading", name="Eliminar mi cuenta")).to_be_visible()
    expect(page.get_by_role("heading", name="La clínica conserva su ficha clínica")).to_be_visible()
    expect(page.locator("#se-borra")).to_contain_text("Sus datos de contacto: correo y teléfono.")
    expect(page.locator("#se-conserva")).to_contain_text("Su nombre, RUT y fecha de nacimiento")
    expect(page.locator("#por-que-se-conserva")).to_contain_text("Decreto 41 de 2012")
    expect(page.locator("#por-que-se-conserva")).to_contain_text("al menos 15 años")
    meses = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
             "noviembre", "diciembre"]
    expect(page.locator("#hasta-cuando")).to_contain_text(f"{hasta.day} de {meses[hasta.month - 1]} de {hasta.year}")
    expect(page.locator("#hasta-cuando")).to_contain_text("Desde el día siguiente la clínica puede borrarla")
    expect(page.locator("#se-conserva")).to_contain_text("Sus consentimientos de WhatsApp y SMS, cerrados")
    expect(page.locator("#se-borra")).not_to_contain_text("consentimientos")
    expect(page.locator("#despues-de-borrarla")).to_contain_text("su nombre en las citas pasadas")
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(CAPTURAS / "portal-eliminar-con-ficha.png"), full_page=True)

    page.get_by_label("Contraseña").fill(CLAVE_PACIENTE)
    page.get_by_role("button", name="Eliminar mi cuenta definitivamente").click()
    expect(page.get_by_role("heading", name="Su cuenta fue eliminada")).to_be_visible()
    expect(page.get_by_text("queda en resguardo legal")).to_be_visible()
    page.screenshot(path=str(CAPTURAS / "portal-cuenta-eliminada.png"), full_page=True)

    cliente = Cliente.objects.get(pk=paciente.cliente.pk)
    assert not cliente.activo and cliente.email == "" and cliente.user_id is None
    resguardo = Resguardo.objects.get(cliente=cliente)
    assert (resguardo.conservar_hasta, resguardo.solicitado_por) == (hasta, "paciente")
    assert datetime.date.today() < hasta
