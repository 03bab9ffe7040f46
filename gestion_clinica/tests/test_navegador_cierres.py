"""In a real browser, as a receptionist: close a dentist's week for holidays with two booked
patients, see it in the day and week views, resolve both bookings (one moved, one cancelled by
the clinic), then block and unblock a single slot. Screenshots go to /tmp/capturas-cierres/."""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from citas.models import Cierre, Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-cierres")


def test_recepcion_cierra_una_semana_y_resuelve_las_citas(page, live_server, errores_de_consola, entrar_a_gestion,
                                                         recepcionista, dentista, crear_personal):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    hoy = timezone.localdate()
    lunes = hoy + datetime.timedelta(days=14 - hoy.weekday())
    otro = crear_personal(nombre="Luis", apellido="Muñoz")

    def hora(perfil, dia, h, paciente=None):
        inicio = timezone.make_aware(datetime.datetime.combine(dia, datetime.time(h)))
        cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=perfil.pk, inicio=inicio)
        if paciente is not None:
            cita = asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=paciente.pk)
        return cita

    ana = registrar_paciente(41, nombre_completo="Ana María Núñez").cliente
    bruno = registrar_paciente(42, nombre_completo="Bruno Díaz Rojas").cliente
    de_ana = hora(dentista, lunes, 10, ana)
    de_bruno = hora(dentista, lunes + datetime.timedelta(days=1), 11, bruno)
    libre_en_vacaciones = hora(dentista, lunes + datetime.timedelta(days=2), 9)
    destino = hora(dentista, lunes + datetime.timedelta(days=7), 10)  # the week after, for Ana
    de_luis = hora(otro, lunes, 11)
    page.set_viewport_size({"width": 1280, "height": 800})

    entrar_a_gestion(recepcionista)
    page.get_by_role("link", name="Agenda", exact=True).click()
    page.get_by_role("link", name="Cierres y ausencias").click()
    page.get_by_label("Quién no atiende").select_option(label="Camila Soto")
    page.get_by_label("Tipo").select_option(label="Vacaciones")
    page.get_by_label("Desde").fill(lunes.isoformat())
    page.get_by_label("Hasta (incluido)").fill((lunes + datetime.timedelta(days=4)).isoformat())
    page.get_by_label("Motivo").fill("Vacaciones de verano")
    page.get_by_role("button", name="Cerrar estos días").click()
    expect(page.get_by_text("Este cierre afecta a 2 citas reservadas.")).to_be_visible()
    captura("1-confirmar-cierre")
    assert not Cierre.objects.exists()
    page.get_by_role("button", name="Cerrar igual").click()

    expect(page.get_by_role("heading", name="Camila Soto: vacaciones")).to_be_visible()
    filas = page.locator("#afectadas tbody tr")
    expect(filas).to_have_count(2)
    expect(filas.nth(0)).to_contain_text("Ana María Núñez")
    expect(filas.nth(1)).to_contain_text("Bruno Díaz Rojas")
    assert Cita.objects.get(pk=libre_en_vacaciones.pk).estado == EstadoCita.BLOQUEADA
    captura("2-citas-por-resolver")
    pagina_del_cierre = page.url

    page.goto(f"{live_server.url}/gestion/agenda/?fecha={lunes.isoformat()}")
    expect(page.get_by_role("columnheader", name="Camila Soto")).to_contain_text("No atiende Vacaciones: Vacaciones de verano")
    captura("3-dia-con-ausencia")
    page.get_by_role("link", name="Camila Soto").click()
    expect(page.get_by_role("heading", name="Camila Soto: semana del")).to_be_visible()
    expect(page.locator("th.ausente")).to_have_count(5)
    captura("4-semana-con-ausencia")

    # Ana: to another time.
    page.goto(pagina_del_cierre)
    page.locator(f"#afectada-{de_ana.pk}").get_by_role("link", name="Cambiar hora").click()
    # The picker: the same dentist, the day after the closed week.
    page.goto(f"{page.url.split('?')[0]}?fecha={(lunes + datetime.timedelta(days=7)).isoformat()}")
    page.get_by_role("button", name=re.compile(r"Cambiar a las\s*10:00")).click()
    expect(page.get_by_role("status").first).to_be_visible()
    assert Cita.objects.get(pk=destino.pk).cliente_id == ana.pk
    assert Cita.objects.get(pk=de_ana.pk).estado == EstadoCita.BLOQUEADA  # its old slot stays closed

    # Bruno: cancelled by the clinic, with the closure's reason.
    page.goto(pagina_del_cierre)
    expect(page.locator("#afectadas tbody tr")).to_have_count(1)
    page.locator(f"#afectada-{de_bruno.pk}").get_by_role("link", name="Cancelar por la clínica").click()
    expect(page.get_by_label("La clínica cancela")).to_be_checked()
    expect(page.get_by_label("Motivo", exact=False)).to_have_value("Vacaciones de verano")  # the closure's
    captura("5-cancelar-por-la-clinica")
    page.get_by_role("button", name="Confirmar la cancelación").click()
    expect(page.get_by_role("status").filter(has_text="Cita cancelada por la clínica")).to_be_visible()
    assert Cita.objects.get(pk=de_bruno.pk).estado == EstadoCita.CANCELADA
    page.goto(pagina_del_cierre)
    expect(page.get_by_text("No quedan citas reservadas en estos días.")).to_be_visible()
    captura("6-cierre-resuelto")

    # One slot blocked for a broken chair, then back.
    page.goto(f"{live_server.url}/gestion/agenda/?fecha={lunes.isoformat()}")
    page.locator(f"#cita-{de_luis.pk}").get_by_role("link", name="Bloquear").click()
    page.get_by_label("Motivo").fill("Sillón en reparación")
    page.get_by_role("button", name="Bloquear").click()
    celda = page.locator(f"#cita-{de_luis.pk}")
    expect(celda).to_contain_text("Bloqueada")
    expect(celda).to_contain_text("Sillón en reparación")
    captura("7-hora-bloqueada")
    celda.get_by_role("button", name="Desbloquear").click()
    expect(page.get_by_role("status").filter(has_text="libre otra vez")).to_be_visible()
    expect(page.locator(f"#cita-{de_luis.pk}")).to_contain_text("Disponible")
    assert Cita.objects.get(pk=de_luis.pk).estado == EstadoCita.DISPONIBLE
    captura("8-hora-desbloqueada")
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"
