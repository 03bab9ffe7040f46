"""In a real browser: a receptionist opens the agenda, gives a free slot to a patient found
with the search-as-you-type (htmx), then cancels it at the patient's request (through the
confirmation page: who and why). Screenshots go to var/capturas/."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from citas.models import Cita, EstadoCita
from citas.services import crear_cita_disponible
from citas.tests.test_services import registrar_paciente

pytestmark = pytest.mark.django_db(transaction=True)


def test_recepcion_asigna_y_cancela_una_hora(page, live_server, captura, errores_de_consola, entrar_a_gestion, recepcionista, dentista):
    manana = timezone.localdate() + datetime.timedelta(days=1)
    inicio = datetime.datetime.combine(manana, datetime.time(10), tzinfo=timezone.get_current_timezone())
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
    crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio + datetime.timedelta(hours=1))
    paciente = registrar_paciente(31, nombre_completo="Ana María Núñez").cliente
    errores = errores_de_consola
    page.set_viewport_size({"width": 1280, "height": 800})

    entrar_a_gestion(recepcionista)
    page.get_by_role("link", name="Agenda", exact=True).click()
    page.get_by_role("link", name="Día siguiente →").click()
    expect(page.get_by_role("columnheader", name="Camila Soto")).to_be_visible()

    page.get_by_role("link", name="Asignar").first.click()
    page.get_by_label("Buscar paciente").press_sequentially("nunez", delay=30)
    opcion = page.get_by_role("radio", name="Ana María Núñez")
    expect(opcion).to_be_visible()
    opcion.check()
    page.get_by_role("button", name="Asignar hora").click()
    expect(page.get_by_role("status").filter(has_text="Hora asignada.")).to_be_visible()
    expect(page.get_by_role("table").get_by_text("Ana María Núñez")).to_be_visible()
    expect(page.get_by_role("button", name="Confirmar")).to_be_visible()
    expect(page.get_by_role("button", name="Llegó")).to_have_count(0)  # tomorrow: arrival only on the day
    cita.refresh_from_db()
    assert cita.cliente_id == paciente.pk and cita.estado == EstadoCita.RESERVADA
    captura("agenda-dia")

    page.get_by_role("link", name="Cancelar la cita de las 10:00 de Ana María Núñez").click()
    page.get_by_label("El paciente lo pidió").check()
    page.get_by_label("Motivo").fill("llamó por teléfono")
    page.get_by_role("button", name="Confirmar la cancelación").click()
    expect(page.get_by_role("status").filter(has_text="Cita cancelada; la hora quedó libre.")).to_be_visible()
    expect(page.get_by_role("table").get_by_role("link", name="Ana María Núñez", exact=True)).to_have_count(0)
    expect(page.get_by_role("table").get_by_text("Ana María Núñez · pidió el paciente: llamó por teléfono")).to_be_visible()
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.DISPONIBLE

    page.get_by_role("link", name="Camila Soto").click()
    expect(page.get_by_role("heading", name="Camila Soto: semana del")).to_be_visible()
    captura("agenda-semana")
    assert not errores, f"errores en la consola (¿CSP?): {errores}"
