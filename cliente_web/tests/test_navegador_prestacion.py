"""In a real browser on a phone (390x844): a patient books "Limpieza" (60 minutes). The page asks
what the visit is for, then offers only the dentist who does it and only the start times where
60 minutes fit (a slot whose next slot is taken is not offered), each with its end; the patient
books, and sees the prestación in Mis citas. Screenshots under /tmp/capturas-reservas/."""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from prestaciones.models import Prestacion, PrestacionDentista

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-reservas")


def test_paciente_reserva_una_limpieza_solo_donde_cabe(entrar_al_portal, page, live_server, recepcionista, dentista,
                                                      crear_personal, errores_de_consola):
    otro = crear_personal(nombre="Tomás", apellido="Vidal")
    limpieza = Prestacion.objects.create(codigo="LIMP", nombre="Limpieza", duracion_minutos=60, precio=25_000,
                                         reservable_en_linea=True)
    evaluacion = Prestacion.objects.create(codigo="EVAL", nombre="Evaluación", duracion_minutos=30, precio=15_000,
                                           reservable_en_linea=True)
    Prestacion.objects.create(codigo="CORONA", nombre="Corona", duracion_minutos=90, precio=350_000)
    PrestacionDentista.objects.create(prestacion=limpieza, dentista=dentista)
    PrestacionDentista.objects.create(prestacion=evaluacion, dentista=otro)
    dia = timezone.localdate() + datetime.timedelta(days=3)
    zona = timezone.get_current_timezone()
    horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=datetime.datetime.combine(dia, datetime.time(9, 0), tzinfo=zona)
                                   + datetime.timedelta(minutes=30 * i)) for i in range(6)]  # 9:00 … 11:30
    asignar_cita(actor=recepcionista.user, cita_id=horas[2].pk, paciente_nombre="Otra Persona")  # 10:00 taken
    crear_cita_disponible(actor=recepcionista.user, dentista_id=otro.pk,
                          inicio=datetime.datetime.combine(dia, datetime.time(9, 0), tzinfo=zona))
    paciente = registrar_paciente(43, nombre_completo="Ana María Núñez")
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})

    entrar_al_portal(paciente)
    page.get_by_role("navigation", name="Secciones del portal").get_by_role("link", name="Reservar").click()
    expect(page.get_by_role("heading", name="¿Para qué es su visita?")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Corona")).to_have_count(0)  # not online
    opcion = page.get_by_role("listitem").filter(has_text="Limpieza")
    expect(opcion).to_contain_text("60 minutos")
    expect(opcion).to_contain_text("$25.000")
    page.screenshot(path=str(CAPTURAS / "1-que-es-la-visita.png"), full_page=True)
    # Each option is a link a screen reader announces as one (a role on the <a> once hid it).
    opcion.get_by_role("link", name=re.compile("Limpieza")).click()

    texto_dia = dateformat.format(horas[0].inicio.astimezone(zona), r"l j \d\e F")
    expect(page.get_by_text("Limpieza", exact=True)).to_be_visible()
    expect(page.get_by_label("Dentista").locator("option")).to_have_count(2)  # any, or Camila Soto
    expect(page.get_by_label("Dentista")).not_to_contain_text("Tomás Vidal")
    # 9:00 (9:00-10:00) fits; 9:30 does not (10:00 is taken); 10:30 and 11:00 fit; 11:30 is alone.
    expect(page.get_by_role("link", name=f"{texto_dia}, 09:00 a 10:00, Camila Soto")).to_be_visible()
    expect(page.get_by_role("link", name=f"{texto_dia}, 10:30 a 11:30, Camila Soto")).to_be_visible()
    expect(page.locator("a.hora-libre")).to_have_count(3)
    for no in ("09:30", "10:00", "11:30"):
        expect(page.get_by_role("link", name=f"{texto_dia}, {no}")).to_have_count(0)
    page.screenshot(path=str(CAPTURAS / "2-horas-donde-cabe.png"), full_page=True)

    page.get_by_role("link", name=f"{texto_dia}, 10:30 a 11:30, Camila Soto").click()
    expect(page.get_by_role("heading", name="Confirme su hora")).to_be_visible()
    expect(page.get_by_text("Limpieza · 60 minutos")).to_be_visible()
    expect(page.get_by_text("10:30 a 11:30")).to_be_visible()
    page.screenshot(path=str(CAPTURAS / "3-confirmar.png"), full_page=True)
    page.get_by_role("button", name="Confirmar reserva").click()
    expect(page.get_by_role("status").filter(has_text="Listo: reservó su hora para Limpieza")).to_be_visible()
    cita = Cita.objects.get(pk=horas[3].pk)
    assert (cita.estado, cita.bloques, cita.prestacion_id, cita.cliente_id) == (
        EstadoCita.RESERVADA, 2, limpieza.pk, paciente.cliente.pk)
    page.screenshot(path=str(CAPTURAS / "4-su-cita.png"), full_page=True)

    page.get_by_role("navigation", name="Secciones del portal").get_by_role("link", name="Mis citas").click()
    tarjeta = page.get_by_role("article", name=f"Cita del {texto_dia} a las 10:30")
    expect(tarjeta).to_contain_text("Limpieza")
    expect(tarjeta).to_contain_text("10:30 a 11:30")
    page.screenshot(path=str(CAPTURAS / "5-mis-citas.png"), full_page=True)
    assert errores_de_consola == []
