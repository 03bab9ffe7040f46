"""In a real browser, as the administrator: the usual week (Monday to Friday with a lunch break)
in one step, a staff member's role changed (and one's own refused), and the audit log that shows
all of it in Santiago's time, with names and one row for a slot generation.
Screenshots: /tmp/capturas-admin/."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from citas.models import HorarioAtencion

pytestmark = pytest.mark.django_db(transaction=True)
CAPTURAS = Path("/tmp/capturas-admin")


def test_administrador_semana_tipo_rol_y_auditoria(page, live_server, errores_de_consola, entrar_a_gestion,
                                                   administrador, recepcionista, dentista):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(administrador)

    # Weekly hours: Monday to Friday, 09–13 and 14–18, in one step.
    page.goto(live_server.url + reverse("gestion:agenda_horario", args=[dentista.pk]))
    semana = page.get_by_role("region", name="Semana tipo en un paso")
    for dia in ("Lunes", "Martes", "Miércoles", "Jueves", "Viernes"):
        expect(semana.get_by_label(dia, exact=True)).to_be_checked()
    expect(semana.get_by_label("Sábado")).not_to_be_checked()
    expect(semana.get_by_text("cada hora libre que se genere dura esto")).to_be_visible()
    semana.get_by_label("Mañana: hasta").fill("12:00")
    semana.get_by_label("Tarde: desde").fill("11:00")  # overlaps the morning: refused, nothing saved
    semana.get_by_role("button", name="Guardar semana tipo").click()
    expect(page.get_by_text("La tarde debe empezar cuando termina la mañana o después.")).to_be_visible()
    assert not HorarioAtencion.objects.exists()
    captura("horario-error")
    semana = page.get_by_role("region", name="Semana tipo en un paso")
    semana.get_by_label("Mañana: hasta").fill("13:00")
    semana.get_by_label("Tarde: desde").fill("14:00")
    semana.get_by_role("button", name="Guardar semana tipo").click()
    expect(page.get_by_text("Horario de Camila Soto guardado (10 bloques).")).to_be_visible()
    assert HorarioAtencion.objects.filter(dentista=dentista).count() == 10
    expect(page.locator("#id_form-9-hora_fin")).to_have_value("18:00")
    captura("horario")

    # Slots for one week from those hours.
    page.goto(live_server.url + reverse("gestion:agenda_generar"))
    page.get_by_label("Desde").fill("2030-09-02")
    page.get_by_label("Hasta").fill("2030-09-06")
    page.get_by_role("button", name=re.compile("Generar")).click()
    expect(page.locator("#creadas")).to_have_text("80")

    # A receptionist becomes administrator; one's own role cannot change.
    page.get_by_role("link", name="Personal").click()
    page.get_by_role("link", name="Editar a Pedro Rojas").click()
    page.get_by_label("Rol").select_option(label="Administrador")
    page.get_by_label("Especialidad").fill("Caja y recepción")
    captura("personal-editar")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("Se guardaron los datos de Pedro Rojas.")).to_be_visible()
    expect(page.locator(f"#miembro-{recepcionista.pk}")).to_contain_text("Administrador")
    page.get_by_role("link", name="Editar a Ana Admin").click()
    page.get_by_label("Rol").select_option(label="Recepción")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("No puede cambiar su propio rol: pídaselo a otro administrador.")).to_be_visible()
    captura("personal-rol-propio")

    # The audit log: names, Santiago's clock, one row for the generation.
    page.get_by_role("link", name="Auditoría").click()
    tabla = page.locator("#tabla-auditoria")
    generacion = tabla.locator("tr", has_text="Generación de horas")
    expect(generacion).to_have_count(1)
    expect(generacion).to_contain_text("80 horas creadas, 02-09-2030 a 06-09-2030, por Ana Admin.")
    cambio = tabla.locator("tr", has_text="editar_personal").filter(has_text="Miembro del personal")
    expect(cambio).to_contain_text("Pedro Rojas")
    expect(cambio).to_contain_text("rol: Recepción → Administrador")
    expect(tabla).not_to_contain_text("+00:00")
    captura("auditoria")
    generacion.get_by_role("link", name="Ver cada hora creada").click()
    expect(page.get_by_text("Cada registro de una sola operación.")).to_be_visible()
    expect(page.get_by_text("80 cambios.")).to_be_visible()
    expect(page.locator("#tabla-auditoria tbody tr", has_text="Cita 17:30 del 06-09-2030 con Camila Soto")).to_have_count(1)
    captura("auditoria-generacion")
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"
