"""In a real browser, on a phone (390 px): the patient opens "Quién vio mi ficha" from Mi
cuenta and sees who read their record, the urgent access flagged and the refused attempt.
Screenshot under /tmp/capturas-facc/."""

import pathlib

import pytest
from playwright.sync_api import expect

from ficha.acceso import Acceso
from ficha.lecturas import registrar_lectura
from ficha.models import Seccion, Via
from personal.models import Rol

pytestmark = pytest.mark.django_db(transaction=True)
CAPTURAS = pathlib.Path("/tmp/capturas-facc")


def test_el_paciente_ve_quien_vio_su_ficha(page, errores_de_consola, entrar_al_portal, paciente, dentista,
                                           crear_personal):
    ajeno = crear_personal(rol=Rol.DENTISTA, nombre="Jorge", apellido="Mora")
    for usuario, seccion, via in [(dentista.user, Seccion.ANTECEDENTES, Via.EQUIPO),
                                  (ajeno.user, Seccion.DOCUMENTO, Via.DENEGADO),
                                  (ajeno.user, Seccion.DOCUMENTO, Via.URGENCIA),
                                  (dentista.user, Seccion.EVOLUCION, Via.EQUIPO)]:
        registrar_lectura(usuario=usuario, cliente_id=paciente.cliente.pk, seccion=seccion, ip="10.0.0.9",
                          acceso=Acceso(permitido=via != Via.DENEGADO, via=via, rol="Dentista",
                                        motivo_urgencia="Motivo interno" if via == Via.URGENCIA else ""))
    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(paciente)
    page.goto(page.url.split("/portal/")[0] + "/portal/cuenta/")
    page.get_by_role("link", name="Quién vio mi ficha").click()
    expect(page.get_by_role("heading", name="Quién vio mi ficha")).to_be_visible()
    lecturas = page.locator("#lecturas-ficha > li")
    expect(lecturas).to_have_count(4)
    expect(lecturas.first).to_contain_text("Camila Soto")
    expect(lecturas.first).to_contain_text("Vio: Evolución")
    expect(lecturas.filter(has_text="Acceso de urgencia")).to_have_count(1)
    expect(lecturas.filter(has_text="Intento sin acceso")).to_have_count(1)
    expect(page.get_by_text("10.0.0.9")).to_have_count(0)
    expect(page.get_by_text("Motivo interno")).to_have_count(0)
    ancho = page.evaluate("document.documentElement.scrollWidth")
    assert ancho <= 390, f"la página se sale del teléfono: {ancho}px"
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(CAPTURAS / "7-portal-quien-vio-mi-ficha.png"), full_page=True)
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"
