"""In a real browser (1280 px): a dentist outside the care team opens a patient's record with
urgent access and a reason, and sees the banner; an administrator sees the badge, reviews the
access and searches the read log. Screenshots under /tmp/capturas-facc/."""

import pathlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from cuentas.presencial import crear_cliente_presencial
from ficha.models import AccesoUrgencia
from pacientes.documentos import subir_documento
from personal.models import Rol

pytestmark = pytest.mark.django_db(transaction=True)
CAPTURAS = pathlib.Path("/tmp/capturas-facc")
MOTIVO = "Dolor agudo en la pieza 36; su dentista está de vacaciones"
# The browser logs a page answered 400/403 as a console error: those are the refusals we walk.
ESPERADOS = ("status of 400", "status of 403")


def _foto(page, nombre):
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)


def test_urgencia_revision_y_registro(page, live_server, errores_de_consola, entrar_a_gestion, crear_personal,
                                      recepcionista):
    ajeno = crear_personal(rol=Rol.DENTISTA, nombre="Jorge", apellido="Mora")
    admin = crear_personal(rol=Rol.ADMINISTRADOR, nombre="Ana", apellido="Admin")
    marta = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz Rojas", rut="12345678-5",
                                     alergias="Penicilina y látex")
    subir_documento(actor=recepcionista.user, cliente_id=marta.pk, titulo="Radiografía panorámica",
                    archivo=SimpleUploadedFile("rx.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf"))
    page.set_viewport_size({"width": 1280, "height": 800})

    # The dentist outside the care team: the alert, the count of documents, no content.
    entrar_a_gestion(ajeno)
    page.goto(f"{live_server.url}/gestion/pacientes/{marta.pk}/")
    expect(page.get_by_text("⚠ Alerta clínica.")).to_be_visible()
    expect(page.get_by_text("1 documento en la ficha clínica.")).to_be_visible()
    expect(page.get_by_text("Penicilina")).to_have_count(0)
    # The record itself (the gated URL) refuses and logs the attempt; the patient's page did not.
    page.get_by_role("link", name="Ficha clínica").click()
    expect(page.get_by_text("es solo para su equipo de cuidado")).to_be_visible()
    _foto(page, "0-dentista-ajeno-en-la-ficha")
    page.go_back()
    page.get_by_text("¿Necesita su ficha clínica por una urgencia?").click()
    page.get_by_label("Motivo de la urgencia").fill("urgente")
    _foto(page, "1-dentista-ajeno-pide-urgencia")
    page.get_by_role("button", name="Abrir la ficha con acceso de urgencia").click()
    expect(page.get_by_text("Escriba el motivo de la urgencia (al menos 10 caracteres).")).to_be_visible()
    _foto(page, "2-motivo-corto")
    page.get_by_label("Motivo de la urgencia").fill(MOTIVO)
    page.get_by_role("button", name="Abrir la ficha con acceso de urgencia").click()
    aviso = page.locator(".aviso-urgencia")
    expect(aviso).to_contain_text(f"Motivo: «{MOTIVO}»")
    expect(aviso).to_contain_text("Acceso de urgencia, vence a las")
    expect(page.locator("#alergias")).to_contain_text("⚠ ALERGIAS: Penicilina y látex")
    expect(page.get_by_role("cell", name="Radiografía panorámica")).to_be_visible()
    _foto(page, "3-ficha-con-acceso-de-urgencia")
    assert AccesoUrgencia.objects.filter(usuario=ajeno.user, cliente=marta, revisado_en__isnull=True).exists()

    # The administrator: the badge, the review, the log.
    page.context.clear_cookies()
    entrar_a_gestion(admin)
    menu = page.get_by_role("navigation", name="Navegación principal")
    expect(menu.locator("#cuenta-urgencias")).to_have_text("1 acceso de urgencia por revisar")
    menu.get_by_role("link", name="Urgencias").click()
    expect(page.get_by_role("heading", name="Jorge Mora abrió la ficha de Marta Díaz Rojas")).to_be_visible()
    page.get_by_label("Nota de la revisión").fill("Confirmado con el paciente por teléfono.")
    _foto(page, "4-urgencias-por-revisar")
    page.get_by_role("button", name="Marcar como revisado").click()
    expect(page.get_by_role("status").filter(has_text="Acceso de urgencia marcado como revisado.")).to_be_visible()
    expect(page.get_by_text("No hay accesos de urgencia por revisar.")).to_be_visible()
    expect(menu.locator("#cuenta-urgencias")).to_have_count(0)

    menu.get_by_role("link", name="Lecturas de fichas").click()
    page.get_by_label("Paciente (nombre o RUT)").fill("marta")
    page.get_by_role("button", name="Buscar").click()
    tabla = page.locator("#tabla-lecturas")
    expect(tabla.get_by_role("row").filter(has_text="Intento sin acceso")).to_have_count(1)
    expect(tabla.get_by_role("row").filter(has_text="Acceso de urgencia")).to_have_count(2)  # allergies + documents
    _foto(page, "5-registro-de-lecturas")
    page.get_by_label("Solo accesos de urgencia").check()
    page.get_by_label("Desde").fill("2026-12-31")
    page.get_by_label("Hasta").fill("2026-12-01")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_text("Se ignoró el filtro «Hasta»: La fecha «hasta» es anterior a «desde».")).to_be_visible()
    _foto(page, "6-registro-fechas-al-reves")
    errores = [e for e in errores_de_consola if not any(esperado in e for esperado in ESPERADOS)]
    assert not errores, f"errores en la consola (¿CSP?): {errores}"
