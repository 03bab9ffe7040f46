"""In a real browser on a phone-sized screen (390x844): a patient logs in with their RUT, books
with "cualquier dentista", finds the booking in Mis citas, moves it, then cancels it.
Screenshots go to var/capturas/ (portal-reservar, portal-confirmar, portal-mis-citas,
portal-cita, portal-reprogramar, portal-cancelar)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from citas.models import Cita, EstadoCita
from citas.services import crear_cita_disponible
from citas.tests.test_services import registrar_paciente

pytestmark = pytest.mark.django_db(transaction=True)


def test_paciente_reserva_ve_reprograma_y_cancela(entrar_al_portal, page, live_server, captura, recepcionista, dentista, crear_personal):
    otro = crear_personal(nombre="Tomás", apellido="Vidal")
    dia = timezone.localdate() + datetime.timedelta(days=3)
    zona = timezone.get_current_timezone()
    a_las = lambda h, m=0: datetime.datetime.combine(dia, datetime.time(h, m), tzinfo=zona)  # noqa: E731
    primera = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=a_las(10))
    segunda = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=a_las(10, 30))
    de_otro = crear_cita_disponible(actor=recepcionista.user, dentista_id=otro.pk, inicio=a_las(11))
    paciente = registrar_paciente(41, nombre_completo="Ana María Núñez")
    errores = []
    page.on("console", lambda mensaje: errores.append(mensaje.text) if mensaje.type == "error" else None)
    page.on("pageerror", lambda error: errores.append(str(error)))
    page.set_viewport_size({"width": 390, "height": 844})

    entrar_al_portal(paciente)

    # Book: any dentist, the first time of the day.
    page.get_by_role("navigation", name="Secciones del portal").get_by_role("link", name="Reservar").click()
    expect(page.get_by_role("heading", name="Reservar una hora")).to_be_visible()
    expect(page.get_by_label("Dentista")).to_have_value("")
    nombre_dia = primera.inicio.astimezone(zona)
    from django.utils import dateformat

    texto_dia = dateformat.format(nombre_dia, r"l j \d\e F")
    expect(page.get_by_role("heading", name=texto_dia)).to_be_visible()
    expect(page.get_by_role("link", name=f"{texto_dia}, 11:00, Tomás Vidal")).to_be_visible()
    captura("portal-reservar")
    # The dentist list narrows the times in place (htmx), without a full reload.
    page.get_by_label("Dentista").select_option(label="Tomás Vidal")
    expect(page.get_by_role("link", name=f"{texto_dia}, 10:00, Camila Soto")).to_have_count(0)
    expect(page.get_by_role("link", name=f"{texto_dia}, 11:00, Tomás Vidal")).to_be_visible()
    page.get_by_label("Dentista").select_option(label="Cualquier dentista")
    page.get_by_role("link", name=f"{texto_dia}, 10:00, Camila Soto").click()

    expect(page.get_by_role("heading", name="Confirme su hora")).to_be_visible()
    expect(page.get_by_text("24 horas antes")).to_be_visible()
    page.get_by_label("Motivo de la consulta (opcional)").fill("Control anual")
    captura("portal-confirmar")
    page.get_by_role("button", name="Confirmar reserva").click()
    expect(page.get_by_role("status").filter(has_text="Listo: reservó su hora")).to_be_visible()
    primera.refresh_from_db()
    assert primera.estado == EstadoCita.RESERVADA and primera.cliente_id == paciente.cliente.pk

    # See it in Mis citas.
    page.get_by_role("navigation", name="Secciones del portal").get_by_role("link", name="Mis citas").click()
    tarjeta = page.get_by_role("article", name=f"Cita del {texto_dia} a las 10:00")
    expect(tarjeta).to_be_visible()
    expect(tarjeta.get_by_text("Reservada")).to_be_visible()
    captura("portal-mis-citas")
    tarjeta.get_by_role("link", name="Ver detalle").click()
    expect(page.get_by_role("heading", name="Su cita")).to_be_visible()
    expect(page.get_by_text("cambios usados: 0 de 2")).to_be_visible()
    captura("portal-cita")

    # Reschedule to 10:30 with the same dentist.
    page.get_by_role("link", name="Cambiar hora").click()
    expect(page.get_by_role("heading", name="Cambiar la hora")).to_be_visible()
    expect(page.get_by_role("link", name=f"{texto_dia}, 10:00, Camila Soto")).to_have_count(0)  # the current one
    page.get_by_role("link", name=f"{texto_dia}, 10:30, Camila Soto").click()
    expect(page.get_by_text("Será su cambio 1 de 2")).to_be_visible()
    captura("portal-reprogramar")
    page.get_by_role("button", name="Confirmar el cambio").click()
    expect(page.get_by_role("status").filter(has_text="Listo: su hora quedó para")).to_be_visible()
    segunda.refresh_from_db()
    assert segunda.cliente_id == paciente.cliente.pk and segunda.reprogramaciones == 1
    assert Cita.objects.get(pk=primera.pk).estado == EstadoCita.DISPONIBLE

    # Cancel it.
    page.get_by_role("link", name="Cancelar hora").click()
    expect(page.get_by_role("heading", name="¿Cancelar esta hora?")).to_be_visible()
    captura("portal-cancelar")
    page.get_by_role("button", name="Sí, cancelar mi hora").click()
    expect(page.get_by_role("status").filter(has_text="Canceló su hora")).to_be_visible()
    expect(page.get_by_text("No tiene horas reservadas.")).to_be_visible()
    assert not Cita.objects.filter(cliente=paciente.cliente).exists()
    assert Cita.objects.get(pk=de_otro.pk).estado == EstadoCita.DISPONIBLE
    assert not errores, f"errores en la consola (¿CSP?): {errores}"
