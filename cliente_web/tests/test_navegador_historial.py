"""In a real browser on a phone (390x844), issue 14: a patient cancels an appointment, finds it
in Mis citas under "Canceladas" as "Cancelada por usted" next to one the clinic cancelled, and
opens and downloads the copy of their data. Screenshots under /tmp/capturas-historial/."""

import datetime
import json
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from citas.models import Cita, EstadoCita
from citas.services import cancelar_cita, crear_cita_disponible, reservar_cita
from citas.tests.test_services import registrar_paciente

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-historial")


@pytest.fixture
def foto(page):
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    return lambda nombre: page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)


def test_el_paciente_cancela_y_la_ve_en_su_historial_y_en_sus_datos(entrar_al_portal, page, live_server, foto, errores_de_consola,
                                                                   recepcionista, dentista, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 10
    dia = timezone.localdate() + datetime.timedelta(days=4)
    zona = timezone.get_current_timezone()
    a_las = lambda h, dias=0: datetime.datetime.combine(  # noqa: E731
        dia + datetime.timedelta(days=dias), datetime.time(h), tzinfo=zona)
    paciente = registrar_paciente(77, nombre_completo="Josefa Martínez Soto")
    horas = {h: crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=a_las(h))
             for h in (9, 11, 15)}
    for hora in horas.values():
        reservar_cita(user=paciente, cita_id=hora.pk)
    cancelar_cita(actor=recepcionista.user, cita_id=horas[15].pk, por_clinica=True,
                  motivo="La dentista estará en un congreso ese día")
    pasada = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=a_las(10, dias=-40))
    Cita.objects.filter(pk=pasada.pk).update(estado=EstadoCita.ATENDIDA, cliente=paciente.cliente,
                                             paciente_nombre=paciente.cliente.nombre_completo)

    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(paciente)

    page.goto(f"{live_server.url}/portal/citas/")
    proxima = page.locator("article.cita-proxima").filter(has_text="11:00")
    proxima.get_by_role("link", name="Cancelar hora").click()
    page.get_by_role("button", name="Sí, cancelar mi hora").click()
    expect(page.get_by_text("Canceló su hora del")).to_be_visible()
    canceladas = page.locator("section[aria-labelledby=canceladas-titulo] li.cita-cancelada")
    expect(canceladas).to_have_count(2)
    mia = canceladas.first  # the most recently cancelled first
    expect(mia).to_contain_text("Cancelada por usted")
    expect(mia).to_contain_text("11:00")
    expect(mia).to_contain_text("Camila Soto")
    expect(mia).to_contain_text("(en el portal)")
    expect(canceladas.nth(1)).to_contain_text("Cancelada por la clínica")
    expect(canceladas.nth(1)).to_contain_text("Motivo de la clínica: La dentista estará en un congreso ese día")
    expect(page.locator("section[aria-labelledby=anteriores-titulo] li")).to_have_count(1)
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    foto("mis-citas-canceladas")

    page.get_by_role("navigation", name="Secciones del portal").get_by_role("link", name="Mi cuenta").click()
    page.get_by_role("link", name="Ver mis datos (para leer, imprimir o guardar en PDF)").click()
    expect(page.get_by_role("heading", name="Mis datos en")).to_be_visible()
    filas = page.locator("li.cancelada")
    expect(filas).to_have_count(2)
    expect(filas.first).to_contain_text("Cancelada por usted (en el portal) el ")
    expect(filas.first).to_contain_text(f"{timezone.localtime(horas[11].inicio):%d-%m-%Y} 11:00")
    expect(page.get_by_role("button", name="Imprimir o guardar en PDF")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    foto("mis-datos-legibles")
    page.locator("#t-citas").scroll_into_view_if_needed()
    page.screenshot(path=str(CAPTURAS / "mis-datos-legibles-citas.png"))
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Imprimir o guardar en PDF")).to_be_hidden()
    foto("mis-datos-impresion")
    page.emulate_media(media="screen")

    with page.expect_download() as descarga:
        page.get_by_role("link", name="archivo JSON").click()
    datos = json.loads(Path(descarga.value.path()).read_text(encoding="utf-8"))
    assert [c["cancelada_por"] for c in datos["citas_canceladas"]] == ["usted", "la clínica"]
    assert "id" not in datos["paciente"] and "user_id" not in datos["paciente"]
    assert errores_de_consola == []
