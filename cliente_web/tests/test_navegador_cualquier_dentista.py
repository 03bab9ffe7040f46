"""The "any dentist" slot page on a phone (issue 14): it was 4,700 px tall with the dentists'
names cut off. Now each day lists each dentist with their specialty and first 4 times, and
"Más horas" opens that dentist's day. Real browser at 390 px (and 1280 px for a look);
screenshots in /tmp/capturas-avisos/."""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from citas.models import Cita
from personal.models import Perfil

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-avisos")
LARGO = ("María José", "Fernández-Villalobos Undurraga")


@pytest.fixture
def semana_llena(dentista, crear_personal):
    """Three dentists (one with a long name and specialty), 10 free slots a day each for the
    next 5 days from the day after tomorrow."""
    largo = crear_personal(nombre=LARGO[0], apellido=LARGO[1])
    otro = crear_personal(nombre="Tomás", apellido="Vidal")
    Perfil.objects.filter(pk=dentista.pk).update(especialidad="Odontología general")
    Perfil.objects.filter(pk=largo.pk).update(especialidad="Odontopediatría y ortodoncia interceptiva")
    zona = timezone.get_current_timezone()
    hoy = timezone.localdate()
    filas = []
    for dia in range(2, 7):
        fecha = hoy + datetime.timedelta(days=dia)
        for perfil in (dentista, largo, otro):
            for n in range(10):
                inicio = datetime.datetime.combine(fecha, datetime.time(9, 0), tzinfo=zona) + datetime.timedelta(minutes=30 * n)
                filas.append(Cita(dentista=perfil, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30)))
    Cita.objects.bulk_create(filas)
    return dentista, largo, otro, hoy + datetime.timedelta(days=2)


def _mide(page):
    return page.evaluate("""() => ({
        ancho: document.documentElement.scrollWidth, vista: window.innerWidth,
        alto: document.documentElement.scrollHeight,
        cortados: [...document.querySelectorAll('.horas-dentista-nombre, .hora-libre, .mas-horas')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.trim()),
    })""")


def test_cualquier_dentista_cabe_en_un_telefono_y_mas_horas_abre_el_dia(
    page, live_server, errores_de_consola, semana_llena
):
    dentista, largo, otro, primer_dia = semana_llena
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/portal/reservar/")
    expect(page.get_by_role("heading", name="Reservar una hora")).to_be_visible()
    etiqueta = dateformat.format(primer_dia, r"l j \d\e F")
    dia = page.locator(f"#dia-{primer_dia:%Y%m%d}").locator("xpath=..")

    # Every dentist that day, by full name and specialty, with their first 4 times.
    nombre_largo = f"{LARGO[0]} {LARGO[1]}"
    grupo = dia.get_by_role("group", name=nombre_largo)
    expect(grupo).to_be_visible()
    expect(grupo.get_by_text("Odontopediatría y ortodoncia interceptiva")).to_be_visible()
    expect(grupo.locator(".hora-libre")).to_have_count(4)
    expect(dia.get_by_role("group")).to_have_count(3)
    expect(dia.get_by_role("group", name="Camila Soto").get_by_text("Odontología general")).to_be_visible()

    medida = _mide(page)
    page.screenshot(path=str(CAPTURAS / "cualquier-dentista-390.png"), full_page=True)
    assert medida["vista"] == 390 and medida["ancho"] <= 390, medida  # no horizontal scroll
    assert medida["cortados"] == [], medida  # no name or time cut off
    # 5 days x 3 dentists: one row of times each (the old list ran to thousands of pixels).
    assert medida["alto"] < 3200, medida
    print("alto de la página a 390 px:", medida["alto"])

    # "Más horas" opens that dentist's week at that day, with all 10 of their times.
    grupo.get_by_role("link", name=f"Más horas de {nombre_largo} el {etiqueta} (6 más)").click()
    expect(page.get_by_label("Dentista")).to_have_value(str(largo.pk))
    # The closed <select> cuts a long name on a phone: the list says it in full.
    expect(page.get_by_text(f"Horas de {nombre_largo} · Odontopediatría y ortodoncia interceptiva")).to_be_visible()
    assert page.url.endswith(f"#dia-{primer_dia:%Y%m%d}") and f"dentista={largo.pk}" in page.url
    seccion = page.locator(f"section[aria-labelledby='dia-{primer_dia:%Y%m%d}']")
    expect(seccion.locator(".hora-libre")).to_have_count(10)
    expect(seccion.get_by_role("link", name=f"{etiqueta}, 13:30, {nombre_largo}")).to_be_visible()
    assert _mide(page)["ancho"] <= 390
    page.screenshot(path=str(CAPTURAS / "mas-horas-390.png"), full_page=True)
    # And a time from there books as usual (asks to log in first).
    seccion.get_by_role("link", name=f"{etiqueta}, 13:30, {nombre_largo}").click()
    expect(page).to_have_url(re.compile(r"/portal/entrar/\?next=/portal/reservar/\d+/"))

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/portal/reservar/")
    expect(page.get_by_role("heading", name="Reservar una hora")).to_be_visible()
    assert _mide(page)["cortados"] == []
    page.screenshot(path=str(CAPTURAS / "cualquier-dentista-1280.png"), full_page=True)
    assert errores_de_consola == []  # CSP: no inline script or style
