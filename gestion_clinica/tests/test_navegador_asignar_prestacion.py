"""In a real browser (1280 px): a receptionist gives a free slot for a "Corona" (90 minutes) to
a patient found with the search; the day grid shows the prestación and the end of the longer
block, and the two slots it took are gone from the grid. Screenshots under
/tmp/capturas-reservas/."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from citas.models import Cita, EstadoCita
from citas.services import crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from prestaciones.models import Prestacion, PrestacionDentista

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-reservas")


def test_recepcion_asigna_una_corona_de_90_minutos(page, live_server, errores_de_consola, entrar_a_gestion,
                                                   recepcionista, dentista):
    manana = timezone.localdate() + datetime.timedelta(days=1)
    inicio = datetime.datetime.combine(manana, datetime.time(10), tzinfo=timezone.get_current_timezone())
    horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=inicio + datetime.timedelta(minutes=30 * i)) for i in range(4)]
    corona = Prestacion.objects.create(codigo="CORONA", nombre="Corona", duracion_minutos=90, precio=350_000)
    PrestacionDentista.objects.create(prestacion=corona, dentista=dentista)
    paciente = registrar_paciente(32, nombre_completo="Ana María Núñez").cliente
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    entrar_a_gestion(recepcionista)
    page.get_by_role("link", name="Agenda", exact=True).click()
    page.get_by_role("link", name="Día siguiente →").click()
    page.get_by_role("link", name="Asignar").first.click()
    page.get_by_label("Buscar paciente").press_sequentially("nunez", delay=30)
    page.get_by_role("radio", name="Ana María Núñez").check()
    page.get_by_label("Prestación").select_option(label="Corona · 90 min · $350.000")
    page.screenshot(path=str(CAPTURAS / "6-recepcion-asignar.png"), full_page=True)
    page.get_by_role("button", name="Asignar hora").click()
    expect(page.get_by_role("status").filter(has_text="Hora asignada.")).to_be_visible()
    expect(page.get_by_role("table").get_by_text("Corona · hasta 11:30")).to_be_visible()
    page.screenshot(path=str(CAPTURAS / "7-recepcion-agenda.png"), full_page=True)
    cita = Cita.objects.get(pk=horas[0].pk)
    assert (cita.estado, cita.bloques, cita.prestacion_id, cita.cliente_id) == (
        EstadoCita.RESERVADA, 3, corona.pk, paciente.pk)
    assert list(Cita.objects.filter(dentista=dentista).values_list("pk", flat=True).order_by("inicio")) == [
        horas[0].pk, horas[3].pk]
    assert errores_de_consola == []
