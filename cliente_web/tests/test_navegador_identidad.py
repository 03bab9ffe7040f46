"""In a real browser on a phone (390x844), issue 14: a patient books, moves the booking, opens
the old link (it lands on the new time), downloads the calendar file (same UID, higher
SEQUENCE), cancels, and the booking's link then says it was cancelled. Screenshots under
var/capturas/ (identidad-*)."""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from citas.models import Cita
from citas.services import crear_cita_disponible
from citas.tests.test_services import registrar_paciente

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS_EXTRA = Path(os.environ.get("CLINICA_CAPTURAS_IDENTIDAD", "/tmp/capturas-identidad"))


def _ics(descarga):
    calendario = Calendar.from_ical(Path(descarga.path()).read_bytes())
    [evento] = calendario.walk("VEVENT")
    return str(calendario["METHOD"]), str(evento["UID"]), int(evento["SEQUENCE"])


def test_reservar_cambiar_abrir_el_enlace_viejo_descargar_y_cancelar(entrar_al_portal, page, live_server, captura, errores_de_consola,
                                                                      recepcionista, dentista):
    CAPTURAS_EXTRA.mkdir(parents=True, exist_ok=True)

    def foto(nombre):
        captura(nombre)
        page.screenshot(path=str(CAPTURAS_EXTRA / f"{nombre}.png"), full_page=True)

    dia = timezone.localdate() + datetime.timedelta(days=3)
    zona = timezone.get_current_timezone()
    a_las = lambda h: datetime.datetime.combine(dia, datetime.time(h), tzinfo=zona)  # noqa: E731
    primera = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=a_las(10))
    segunda = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=a_las(12))
    paciente = registrar_paciente(43, nombre_completo="Ana María Núñez")
    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(paciente)

    # Book.
    page.goto(f"{live_server.url}/portal/reservar/{primera.pk}/")
    page.get_by_role("button", name="Confirmar reserva").click()
    expect(page.get_by_role("heading", name="Su cita")).to_be_visible()
    enlace_viejo = page.url
    uid = Cita.objects.get(pk=primera.pk).reserva_uid
    with page.expect_download() as antes:
        page.get_by_role("link", name="Agregar a mi calendario (.ics)").click()
    metodo, uid_antes, secuencia_antes = _ics(antes.value)
    assert metodo == "PUBLISH" and uid_antes.startswith(f"reserva-{uid}@") and secuencia_antes == 0
    foto("identidad-1-reservada")

    # Reschedule to 12:00.
    page.get_by_role("link", name="Cambiar hora").click()
    page.goto(f"{live_server.url}/portal/citas/{primera.pk}/reprogramar/?nueva={segunda.pk}")
    foto("identidad-2-elegir-cambio")
    page.get_by_role("button", name="Confirmar el cambio").click()
    expect(page.get_by_text("Listo: su hora quedó para el")).to_be_visible()
    expect(page.get_by_text("12:00 a 12:30")).to_be_visible()

    # The old link (the address of the first booking's page) lands on the new time.
    page.goto(enlace_viejo)
    assert page.url.endswith(f"/portal/citas/{segunda.pk}/")
    expect(page.get_by_text("12:00 a 12:30")).to_be_visible()
    foto("identidad-3-enlace-viejo-lleva-a-la-hora-nueva")

    # The calendar file: the same event, a newer version.
    with page.expect_download() as despues:
        page.get_by_role("link", name="Agregar a mi calendario (.ics)").click()
    metodo, uid_despues, secuencia_despues = _ics(despues.value)
    assert (metodo, uid_despues) == ("PUBLISH", uid_antes) and secuencia_despues == secuencia_antes + 1

    # Cancel.
    page.get_by_role("link", name="Cancelar hora").click()
    page.get_by_role("button", name="Sí, cancelar mi hora").click()
    expect(page.get_by_text("Canceló su hora del")).to_be_visible()

    # The booking's links now say it was cancelled (the first one too), with a way forward.
    for url in (enlace_viejo, f"{live_server.url}/portal/citas/{uid}/"):
        page.goto(url)
        expect(page.get_by_role("heading", name="Esta cita fue cancelada")).to_be_visible()
        expect(page.get_by_text("usted la canceló")).to_be_visible()
    foto("identidad-4-cancelada")
    with page.expect_download() as cancelada:
        page.get_by_role("link", name="Quitar de mi calendario (.ics)").click()
    metodo, uid_cancelada, secuencia_cancelada = _ics(cancelada.value)
    assert (metodo, uid_cancelada) == ("CANCEL", uid_antes) and secuencia_cancelada == secuencia_despues + 1
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errores_de_consola == []
