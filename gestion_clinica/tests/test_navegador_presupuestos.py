"""In a real browser: reception (1280 px) issues a quote from the patient's page (two of the
plan's three items, a validity date) and downloads its PDF; the patient, on a 390 px phone, finds
it from the portal's home, reads the lines and total, confirms the acceptance after the page that
says what it means, and sees it accepted; the plan's items are pending work at the quote's
prices. Screenshots and the PDF as PNG under /tmp/capturas-presupuestos/."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from citas.tests.test_services import registrar_paciente
from cliente_web.tests.conftest import entrar_al_portal  # noqa: F401  (pytest fixture)
from personal.models import Rol
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png
from tratamientos.models import EstadoItem, ItemPlan, Presupuesto
from tratamientos.tests.fabricas import plan_con_items

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-presupuestos")


def test_recepcion_emite_y_el_paciente_acepta_en_el_celular(
        page, live_server, errores_de_consola, entrar_a_gestion, entrar_al_portal, crear_personal):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    user = registrar_paciente(71, nombre_completo="Rocío Salinas Vega")
    cliente = user.cliente
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    recepcion = crear_personal(rol=Rol.RECEPCION, username="pedro.rojas", nombre="Pedro", apellido="Rojas")
    plan, items = plan_con_items(cliente, dentista)

    # Reception, from the patient's page.
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(recepcion)
    page.goto(f"{live_server.url}/gestion/pacientes/{cliente.pk}/")
    page.get_by_role("link", name="Presupuestos", exact=True).click()
    expect(page.get_by_text("Este paciente no tiene presupuestos.")).to_be_visible()
    page.get_by_role("link", name="Emitir presupuesto").click()
    expect(page.locator("input[name=items]:checked")).to_have_count(3)
    # A validity date in the past is refused with a message; nothing is issued.
    page.get_by_label("Válido hasta").fill((timezone.localdate() - datetime.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Emitir y avisar al paciente").click()
    expect(page.get_by_text("La fecha de validez no puede estar en el pasado.")).to_be_visible()
    assert not Presupuesto.objects.exists()
    # Only the two fillings, for 15 days.
    page.locator(f"#item-{items[2].pk}").uncheck()
    valido = timezone.localdate() + datetime.timedelta(days=15)
    page.get_by_label("Válido hasta").fill(valido.isoformat())
    page.get_by_label("Observaciones (opcional)").fill("Se puede pagar en dos cuotas.")
    captura("1-recepcion-emitir")
    page.get_by_role("button", name="Emitir y avisar al paciente").click()
    expect(page.get_by_text("emitido. Se avisó al paciente.")).to_be_visible()
    p = Presupuesto.objects.get()
    expect(page.get_by_role("heading", name=f"Presupuesto {p.folio}")).to_be_visible()
    expect(page.locator("#total")).to_have_text("$85.000")
    expect(page.locator("#lineas .linea")).to_have_count(2)
    captura("2-recepcion-detalle")
    with page.expect_download() as descarga:
        page.get_by_role("link", name="Descargar PDF").click()
    contenido = Path(descarga.value.path()).read_bytes()
    leido = leer_pdf(contenido)
    assert leido.contiene(f"Presupuesto {p.folio}") and leido.contiene("$85.000")
    assert leido.contiene("Obturación resina · diente 16 O") and leido.contiene(f"{valido:%d-%m-%Y}")
    assert caracteres_fuera(contenido) == 0
    pdf_a_png(contenido, CAPTURAS, "3-presupuesto-emitido")
    page.get_by_role("link", name="Presupuestos", exact=True).click()
    expect(page.locator(f"#presupuesto-{p.pk}")).to_contain_text("Emitido · por responder")
    captura("3b-recepcion-lista")

    # The patient, on a phone: home → Mis presupuestos → the quote → accept.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(user)
    page.get_by_role("link", name="Mis presupuestos").click()
    expect(page.locator(f"#presupuesto-{p.pk}")).to_contain_text("$85.000")
    expect(page.locator(f"#presupuesto-{p.pk}")).to_contain_text("Por responder")
    captura("4-portal-lista")
    page.locator(f"#presupuesto-{p.pk} a").click()
    expect(page.locator("#total")).to_have_text("$85.000")
    expect(page.locator(".linea")).to_have_count(2)
    expect(page.locator("#validez")).to_contain_text("Válido hasta")
    captura("5-portal-detalle")
    page.get_by_role("link", name="Aceptar").click()
    expect(page.locator("#que-significa")).to_contain_text("pendientes de realizar")
    expect(page.locator("#que-significa")).to_contain_text("precios quedan fijos")
    captura("6-portal-confirmar")
    page.get_by_role("button", name="Sí, acepto el presupuesto").click()
    expect(page.locator("#estado")).to_contain_text("ACEPTADO el")
    expect(page.locator("#estado")).to_contain_text("en el portal")
    expect(page.get_by_role("link", name="Aceptar")).to_have_count(0)
    captura("7-portal-aceptado")
    p.refresh_from_db()
    assert (p.estado, p.via) == ("aceptado", "portal")
    estados = dict(ItemPlan.objects.values_list("pk", "estado"))
    assert estados == {items[0].pk: EstadoItem.ACEPTADO, items[1].pk: EstadoItem.ACEPTADO,
                       items[2].pk: EstadoItem.PROPUESTO}
    with page.expect_download() as descarga:
        page.get_by_role("link", name="Descargar PDF").click()
    contenido = Path(descarga.value.path()).read_bytes()
    assert leer_pdf(contenido).contiene("ACEPTADO el")
    pdf_a_png(contenido, CAPTURAS, "8-presupuesto-aceptado")
    assert not errores_de_consola
