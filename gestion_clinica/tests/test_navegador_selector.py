"""In a real browser: a receptionist moves an appointment with the time picker (a short page,
the same dentist first, another one a choice away) and gives a patient a time with "Dar hora"
from their record; allergies: the dentist of the appointment reads them on its page (a logged
read), reception sees only "Alerta clínica", and the grid shows everyone only the alert. Screenshots go to /tmp/capturas-citapant/."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.dateformat import format as formato_fecha
from playwright.sync_api import expect

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible
from cuentas.presencial import crear_cliente_presencial
from personal.models import Rol

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-citapant")
ALTO_MAXIMO = 2000  # px at 1280 wide: the old list of every free slot was ~12,000


@pytest.fixture
def foto(page):
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    return lambda nombre: page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)


def _alto(page):
    return page.evaluate("document.documentElement.scrollHeight")


def test_recepcion_usa_el_selector_y_da_hora(page, live_server, foto, errores_de_consola, entrar_a_gestion,
                                             recepcionista, dentista, crear_personal):
    otro = crear_personal(rol=Rol.DENTISTA, nombre="Bruno", apellido="Vera")
    zona = timezone.get_current_timezone()
    hoy = timezone.localdate()
    lunes = hoy + datetime.timedelta(days=7 - hoy.weekday())
    jueves = lunes + datetime.timedelta(days=3)
    # Four weeks of half-hour slots for two dentists, Monday to Friday: ~700 free times.
    for d in (dentista, otro):
        for n in range(28):
            dia = lunes + datetime.timedelta(days=n)
            if dia.weekday() < 5:
                for m in range(16):
                    inicio = datetime.datetime.combine(dia, datetime.time(9), tzinfo=zona) + datetime.timedelta(minutes=30 * m)
                    crear_cita_disponible(actor=recepcionista.user, dentista_id=d.pk, inicio=inicio)
    marta = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz Rojas",
                                     telefono="+56 9 6123 4567", alergias="Penicilina")
    luis = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Luis Paz Mena",
                                    telefono="+56 9 6123 4568")
    primera = Cita.objects.get(dentista=dentista, inicio=datetime.datetime.combine(lunes, datetime.time(9), tzinfo=zona))
    asignar_cita(actor=recepcionista.user, cita_id=primera.pk, cliente_id=marta.pk, motivo="Control")
    errores = errores_de_consola
    page.set_viewport_size({"width": 1280, "height": 800})

    # Reschedule from the day grid.
    entrar_a_gestion(recepcionista)
    # Today has no slots (they start next Monday): the home page links the next working day.
    enlace = page.get_by_role("link", name=f"Próximo día hábil: {formato_fecha(lunes, 'l j \\d\\e F')}")
    expect(enlace).to_be_visible()
    foto("0-inicio-sin-horas")
    enlace.click()
    expect(page.get_by_role("heading", name=f"Agenda del {formato_fecha(lunes, 'l j')}", exact=False)).to_be_visible()
    celda = page.locator(f"#cita-{primera.pk}")
    expect(celda.get_by_text("Alerta clínica")).to_be_visible()
    expect(celda).not_to_contain_text("Penicilina")
    foto("1-agenda-recepcion-alerta")
    celda.get_by_role("link", name="Cambiar hora").click()
    expect(page.get_by_role("heading", name="Cambiar la hora de Marta Díaz Rojas")).to_be_visible()
    expect(page.get_by_label("Dentista", exact=True)).to_have_value(str(dentista.pk))
    expect(page.locator(".hora-libre")).to_have_count(15)  # Monday, the same dentist: 9:00 is hers
    alto = _alto(page)
    assert alto < ALTO_MAXIMO, f"la página del selector mide {alto} px"
    foto("2-selector-lunes")

    # Another dentist is one choice away; the week strip moves day by day and week by week.
    page.get_by_label("Dentista", exact=True).select_option(str(otro.pk))
    page.get_by_role("button", name="Ver otro dentista").click()
    expect(page.get_by_role("heading", name=f"Horas libres del {formato_fecha(lunes, 'l j')}", exact=False)).to_contain_text("Bruno Vera")
    expect(page.locator(".hora-libre")).to_have_count(16)
    page.get_by_label("Dentista", exact=True).select_option(str(dentista.pk))
    page.get_by_role("button", name="Ver otro dentista").click()
    page.get_by_role("link", name="Semana siguiente →").click()
    expect(page.get_by_text(f"Semana del {formato_fecha(lunes + datetime.timedelta(days=7), 'j \\d\\e F')}")).to_be_visible()
    page.get_by_role("link", name="← Semana anterior").click()
    page.get_by_role("navigation", name="Semana").get_by_role("link", name=formato_fecha(jueves, "D j"), exact=False).click()
    expect(page.locator(".hora-libre")).to_have_count(16)
    assert _alto(page) < ALTO_MAXIMO
    foto("3-selector-jueves")
    boton = page.get_by_role("button", name=f"Cambiar a las 10:30 del {formato_fecha(jueves, 'l j')}")
    boton.click()
    expect(page.get_by_role("status").filter(has_text="Hora cambiada al")).to_contain_text("a las 10:30 con Camila Soto")
    nueva = Cita.objects.get(cliente=marta, estado=EstadoCita.RESERVADA)
    assert timezone.localtime(nueva.inicio) == datetime.datetime.combine(jueves, datetime.time(10, 30), tzinfo=zona)
    expect(page.locator(f"#cita-{nueva.pk}")).to_contain_text("Marta Díaz Rojas")
    foto("4-agenda-tras-el-cambio")

    # "Dar hora" from Luis's record, with a reason.
    page.goto(f"{live_server.url}/gestion/pacientes/{luis.pk}/")
    page.get_by_role("link", name="Dar hora").click()
    expect(page.get_by_role("heading", name="Dar hora a Luis Paz Mena")).to_be_visible()
    page.get_by_label("Motivo (opcional)").fill("Dolor de muela")
    assert _alto(page) < ALTO_MAXIMO
    foto("5-dar-hora")
    page.locator(".hora-libre").nth(2).click()
    expect(page.get_by_role("status").filter(has_text="Hora dada a Luis Paz Mena")).to_be_visible()
    expect(page.get_by_role("heading", name="Luis Paz Mena")).to_be_visible()
    expect(page.get_by_role("cell", name="Dolor de muela")).to_be_visible()
    cita_luis = Cita.objects.get(cliente=luis)
    assert cita_luis.motivo == "Dolor de muela" and cita_luis.estado == EstadoCita.RESERVADA
    foto("6-ficha-con-la-hora-dada")

    # Marta's record and appointment page for reception: the alert, not the content.
    page.goto(f"{live_server.url}/gestion/agenda/cita/{nueva.pk}/")
    expect(page.locator("#alergias")).to_contain_text("Alerta clínica")
    expect(page.locator("body")).not_to_contain_text("Penicilina")
    foto("7-cita-recepcion")

    # The dentist of the appointment reads the allergy on the appointment and in the grid.
    page.context.clear_cookies()
    entrar_a_gestion(dentista)
    page.goto(f"{live_server.url}/gestion/agenda/cita/{nueva.pk}/")
    expect(page.locator("#alergias")).to_contain_text("ALERGIAS: Penicilina")
    foto("8-cita-dentista")
    page.goto(f"{live_server.url}/gestion/agenda/?fecha={jueves.isoformat()}")
    # The grid: only the non-clinical marker, for the dentist too (issue 15: no text, no log per cell).
    expect(page.locator(f"#cita-{nueva.pk}").get_by_text("Alerta clínica")).to_be_visible()
    expect(page.locator(f"#cita-{nueva.pk}")).not_to_contain_text("Penicilina")
    foto("9-agenda-dentista")
    assert errores == []
