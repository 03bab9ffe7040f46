"""In a real browser (1280 px): reception deletes a patient who has a clinical record, reads what
is kept, why and until when, and then finds them only as "Ficha en resguardo legal (paciente
eliminado)", with nothing to edit, reactivate or book (issue 15). Screenshots go to
/tmp/capturas-fret/."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from citas.tests.test_services import registrar_paciente
from ficha.models import Resguardo
from ficha.retencion import anos_de_conservacion, sumar_anos
from ficha.tests.escenas_resguardo import cita_pasada, subir_pdf

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-fret")


def test_recepcion_elimina_un_paciente_con_ficha(page, live_server, entrar_a_gestion, recepcionista, dentista,
                                                 errores_de_consola, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    user = registrar_paciente(31, nombre_completo="Marta Díaz Rojas")
    cliente = user.cliente
    cita_pasada(recepcionista, dentista, cliente, dias=60, motivo="Sangrado de encías")
    subir_pdf(recepcionista.user, cliente)
    hasta = sumar_anos(timezone.localdate(), anos_de_conservacion())
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    entrar_a_gestion(recepcionista)
    page.goto(f"{live_server.url}/gestion/pacientes/{cliente.pk}/")
    page.get_by_role("link", name="Eliminar", exact=True).first.click()
    expect(page.get_by_role("heading", name="¿Eliminar a Marta Díaz Rojas?")).to_be_visible()
    caja = page.locator("#resguardo")
    expect(caja.get_by_role("heading")).to_have_text(f"Su ficha clínica se conserva hasta el {hasta:%d-%m-%Y}")
    expect(caja).to_contain_text("Decreto 41 de 2012")
    expect(caja).to_contain_text("1 documento adjunto")
    expect(caja).to_contain_text("Su nombre, su RUT o documento y su fecha de nacimiento")
    expect(page.locator("#consecuencias")).to_contain_text("Se elimina su cuenta del portal de pacientes.")
    expect(page.locator("#consecuencias")).not_to_contain_text("Se elimina 1 documento")
    page.screenshot(path=str(CAPTURAS / "gestion-eliminar-con-ficha.png"), full_page=True)

    page.get_by_role("button", name="Sí, eliminar definitivamente").click()
    expect(page.get_by_role("alert").or_(page.locator(".alert-success")).first).to_contain_text(
        f"queda en resguardo legal hasta el {hasta:%d-%m-%Y}")
    page.screenshot(path=str(CAPTURAS / "gestion-eliminado-mensaje.png"), full_page=True)

    # Not among active patients; with the deactivated ones, marked for what it is.
    page.get_by_label("Buscar paciente").fill("Marta")
    expect(page.locator("#conteo-pacientes")).to_contain_text("0 pacientes")
    page.get_by_label("Incluir desactivados").check()
    fila = page.get_by_role("row").filter(has_text="Marta Díaz Rojas")
    expect(fila).to_contain_text("Ficha en resguardo legal (paciente eliminado)")
    expect(fila).to_contain_text("—")  # no e-mail, no phone
    page.screenshot(path=str(CAPTURAS / "gestion-lista-resguardo.png"), full_page=True)

    fila.get_by_role("link", name="Marta Díaz Rojas").click()
    expect(page.locator("#aviso-resguardo")).to_contain_text(f"hasta el {hasta:%d-%m-%Y}")
    for boton in ("Editar", "Reactivar", "Eliminar", "Dar hora", "Invitar al portal"):
        expect(page.get_by_role("link", name=boton, exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name=boton, exact=True)).to_have_count(0)
    page.screenshot(path=str(CAPTURAS / "gestion-paciente-en-resguardo.png"), full_page=True)

    # Typing the reactivation address by hand leads back to the record, with the reason in Spanish.
    page.goto(f"{live_server.url}/gestion/pacientes/{cliente.pk}/reactivar/")
    expect(page.get_by_text("no se puede reactivar ni editar")).to_be_visible()
    expect(page.locator("#aviso-resguardo")).to_be_visible()
    page.screenshot(path=str(CAPTURAS / "gestion-reactivar-rechazado.png"), full_page=True)
    assert Resguardo.objects.filter(cliente=cliente).exists()
