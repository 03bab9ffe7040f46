"""In a real browser: an administrator creates a staff member with an invitation, then sees
the creation in Auditoría. Screenshot: var/capturas/auditoria.png."""

import pytest
from playwright.sync_api import expect


pytestmark = pytest.mark.django_db(transaction=True)


def test_administrador_crea_personal_y_lo_ve_en_auditoria(page, live_server, captura, errores_de_consola, entrar_a_gestion, administrador):
    errores = errores_de_consola
    page.set_viewport_size({"width": 1280, "height": 800})

    entrar_a_gestion(administrador)

    page.get_by_role("link", name="Personal").click()
    page.get_by_role("link", name="Nuevo miembro del personal").click()
    page.get_by_role("button", name="Crear").click()
    expect(page.get_by_text("Ingrese el nombre.")).to_be_visible()

    page.get_by_label("Nombre", exact=True).fill("Rosa")
    page.get_by_label("Apellido").fill("Fuentes")
    page.get_by_label("Nombre de usuario").fill("rosa.fuentes")
    page.get_by_label("Correo electrónico").fill("rosa@clinica.example")
    page.get_by_label("Rol").select_option(label="Recepción")
    expect(page.get_by_label("Enviar invitación")).to_be_checked()
    page.get_by_role("button", name="Crear").click()

    expect(page.get_by_text("Se envió la invitación a rosa@clinica.example.")).to_be_visible()
    fila = page.locator("tr", has_text="Rosa Fuentes")
    expect(fila.get_by_text("Invitación pendiente")).to_be_visible()
    captura("personal")

    page.get_by_role("link", name="Auditoría").click()
    page.get_by_label("Tipo de registro").select_option(label="Miembro del personal")
    page.get_by_role("button", name="Filtrar").click()
    creacion = page.locator("#tabla-auditoria tbody tr").first
    expect(creacion).to_contain_text("Creación")
    expect(creacion).to_contain_text("Ana Admin")
    expect(creacion).to_contain_text("crear_personal")
    expect(creacion).to_contain_text("rol: Recepción")
    captura("auditoria")
    assert not errores, f"errores en la consola (¿CSP?): {errores}"
