"""In a real browser (Playwright driving Debian's Chromium): a receptionist registers a walk-in
patient with a portal invitation, finds them with the live search, opens their record and
deletes them through the confirmation page. Screenshots go to var/capturas/."""

import re

import pytest
from playwright.sync_api import expect

from notificaciones.models import Notificacion
from pacientes.models import Cliente
from cuentas.presencial import crear_cliente_presencial

pytestmark = pytest.mark.django_db(transaction=True)


def test_recepcion_registra_busca_y_elimina_un_paciente(page, live_server, captura, errores_de_consola, entrar_a_gestion, recepcionista):
    crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz Rojas", rut="12.345.678-5",
                             alergias="Látex")
    errores = errores_de_consola
    page.set_viewport_size({"width": 1280, "height": 800})

    entrar_a_gestion(recepcionista)
    page.get_by_role("link", name="Pacientes").first.click()
    expect(page.get_by_role("heading", name="Pacientes")).to_be_visible()

    # Walk-in with invitation.
    page.get_by_role("link", name="Nuevo paciente").click()
    # A duplicate RUT is refused next to its field, with a link to the existing record.
    page.get_by_label("Nombre completo").fill("Marta Repetida")
    page.get_by_label("RUT", exact=True).fill("12345678-5")
    page.get_by_role("button", name="Registrar paciente").click()
    expect(page.locator("#id_rut_error")).to_have_text("Ya existe un paciente activo con ese RUT.")
    expect(page.get_by_role("link", name="Ver la ficha existente")).to_be_visible()
    captura("paciente-nuevo-duplicado")
    page.get_by_label("Nombre completo").fill("Javiera Fuentes Muñoz")
    page.get_by_label("RUT", exact=True).fill("10.000.013-k")
    page.get_by_label("Correo electrónico").fill("javiera@correo.example")
    page.get_by_label("Teléfono", exact=True).fill("9 6123 4567")
    page.get_by_label("Alergias").fill("Penicilina")
    page.get_by_label("Enviar invitación al portal").check()
    page.get_by_role("button", name="Registrar paciente").click()
    expect(page.get_by_text("Paciente Javiera Fuentes Muñoz registrado. Se le envió la invitación al portal.")).to_be_visible()
    cliente = Cliente.objects.get(rut="10000013-K")
    assert cliente.user_id is not None
    assert Notificacion.objects.filter(cliente=cliente, plantilla="invitacion").exists()

    # Live search (htmx): typing filters the list without pressing Enter.
    page.get_by_role("link", name="← Pacientes").click()
    expect(page.locator("#conteo-pacientes")).to_contain_text("2 pacientes")
    page.get_by_label("Buscar paciente").press_sequentially("10.000.013", delay=20)
    expect(page.locator("#conteo-pacientes")).to_contain_text("1 paciente para «10.000.013»")
    expect(page).to_have_url(re.compile(r"q=10\.000\.013"))
    captura("pacientes-lista")

    page.get_by_role("link", name="Javiera Fuentes Muñoz").click()
    # Allergies are clinical data: reception sees only the alert (their content: the dentist).
    expect(page.locator("#alergias")).to_contain_text("Alerta clínica")
    expect(page.locator("#alergias")).not_to_contain_text("Penicilina")
    expect(page.get_by_text("Invitado, sin activar")).to_be_visible()
    expect(page.get_by_role("heading", name="Historial de cambios de los datos del paciente")).to_be_visible()
    captura("paciente-detalle")

    # Delete through the confirmation page.
    page.get_by_role("link", name="Eliminar").click()
    expect(page.get_by_text("Se elimina su cuenta del portal de pacientes.")).to_be_visible()
    expect(page.get_by_text("0 horas futuras reservadas quedan libres para otros pacientes.")).to_be_visible()
    captura("paciente-eliminar")
    page.get_by_role("button", name="Sí, eliminar definitivamente").click()
    expect(page.get_by_text("Paciente eliminado.")).to_be_visible()
    expect(page.get_by_role("heading", name="Pacientes")).to_be_visible()
    # Issue 15: her allergies are clinical content, kept under legal hold without contact data.
    guardada = Cliente.objects.get(pk=cliente.pk)
    assert not guardada.activo and guardada.email == "" and guardada.resguardo
    assert not errores, f"errores en la consola (¿CSP?): {errores}"
