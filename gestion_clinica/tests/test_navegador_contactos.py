"""Issue 13, "every patient reachable", in a real browser as a receptionist: a phone-only
walk-in with WhatsApp consent (verbal) gets the confirmation on WhatsApp; a tourist with a
passport and a foreign mobile; a walk-in invited later; a patient with a future booking
deactivated releasing it. Screenshots go to /tmp/capturas-contactos/ (and var/capturas/)."""

import datetime
import pathlib

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible
from cuentas.presencial import crear_cliente_presencial
from notificaciones.models import Canal, Notificacion
from pacientes.models import Cliente, ConsentimientoCanal

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = pathlib.Path("/tmp/capturas-contactos")


@pytest.fixture
def foto(page, captura):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def guardar(nombre):
        captura(f"contactos-{nombre}")
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    return guardar


def _manana(hora):
    manana = timezone.localdate() + datetime.timedelta(days=1)
    return datetime.datetime.combine(manana, datetime.time(hora), tzinfo=timezone.get_current_timezone())


def test_solo_telefono_con_whatsapp_recibe_la_confirmacion(page, live_server, foto, errores_de_consola,
                                                           entrar_a_gestion, recepcionista, dentista):
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=_manana(10))
    # Someone no notice can reach: the assign page's search says so.
    crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Rosa Fijo Mella", telefono="+56 2 2345 6789")
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(recepcionista)

    page.goto(live_server.url + reverse("gestion:paciente_nuevo"))
    page.get_by_label("Nombre completo").fill("Rosa Díaz Mella")
    page.get_by_label("Teléfono", exact=True).fill("+56 2 2345 6780")
    page.get_by_role("radio", name="SMS").check()
    page.get_by_label("El paciente acepta recibir avisos por SMS").check()
    page.get_by_label("Cómo dio su consentimiento").select_option(label="Verbal en recepción")
    page.get_by_role("button", name="Registrar paciente").click()
    # A landline cannot receive SMS: refused in Spanish, next to the box; the help says why.
    expect(page.locator("#id_acepta_sms_error")).to_contain_text("teléfono fijo: no puede recibir SMS")
    expect(page.get_by_text("Este número es un teléfono fijo: no recibe WhatsApp ni SMS")).to_be_visible()
    foto("1-fijo-con-sms-rechazado")
    assert not Cliente.objects.filter(nombre_completo="Rosa Díaz Mella").exists()

    page.get_by_label("Teléfono", exact=True).fill("9 6123 4567")
    page.get_by_role("radio", name="WhatsApp").check()
    page.get_by_label("El paciente acepta recibir avisos por SMS").uncheck()
    page.get_by_label("El paciente acepta recibir avisos por WhatsApp").check()
    page.get_by_role("button", name="Registrar paciente").click()
    expect(page.get_by_role("status").filter(has_text="Paciente Rosa Díaz Mella registrado.")).to_be_visible()
    consentimientos = page.locator("#consentimientos")
    expect(consentimientos).to_contain_text("Verbal en recepción")
    expect(consentimientos).to_contain_text("Pedro Rojas")
    expect(consentimientos).to_contain_text("Vigente")
    expect(page.locator("#sin-avisos")).to_have_count(0)
    foto("2-ficha-con-consentimiento")
    paciente = Cliente.objects.get(nombre_completo="Rosa Díaz Mella")
    assert ConsentimientoCanal.objects.get(cliente=paciente).registrado_por == recepcionista.user

    page.goto(live_server.url + reverse("gestion:agenda_asignar", args=[hora.pk]))
    page.get_by_label("Buscar paciente").press_sequentially("rosa", delay=30)
    sin_avisos = page.get_by_role("radio", name="Rosa Fijo Mella")
    expect(sin_avisos).to_be_visible()
    expect(page.locator("label", has=sin_avisos).get_by_text("Este paciente no recibirá avisos")).to_be_visible()
    con_whatsapp = page.get_by_role("radio", name="Rosa Díaz Mella")
    expect(page.locator("label", has=con_whatsapp).get_by_text("Este paciente no recibirá avisos")).to_have_count(0)
    foto("3-asignar-con-aviso")
    con_whatsapp.check()
    page.get_by_role("button", name="Asignar hora").click()
    expect(page.get_by_role("status").filter(has_text="Hora asignada.")).to_be_visible()

    page.goto(live_server.url + reverse("gestion:agenda_cita", args=[hora.pk]))
    avisos = page.locator("#avisos")
    expect(avisos).to_contain_text("WhatsApp a")
    expect(avisos).to_contain_text("+56 9 6123 4567")
    foto("4-cita-con-aviso-por-whatsapp")
    assert list(Notificacion.objects.filter(cita_id=hora.pk).values_list("canal", flat=True)) == [Canal.WHATSAPP]
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"


def test_turista_con_pasaporte_y_celular_extranjero(page, live_server, foto, errores_de_consola, entrar_a_gestion,
                                                    recepcionista):
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(recepcionista)
    page.goto(live_server.url + reverse("gestion:paciente_nuevo"))
    page.get_by_label("Nombre completo").fill("John Smith")
    page.get_by_label("Documento de identidad").select_option(label="Pasaporte")
    page.get_by_label("Número del pasaporte u otro documento").fill("ab 123456")
    page.get_by_label("Teléfono", exact=True).fill("+54 9 11 2345 6789")
    page.get_by_role("radio", name="WhatsApp").check()
    page.get_by_label("El paciente acepta recibir avisos por WhatsApp").check()
    page.get_by_label("Cómo dio su consentimiento").select_option(label="Formulario firmado")
    page.get_by_role("button", name="Registrar paciente").click()
    # The country is missing: a Spanish message next to it; the help now says what the number allows.
    expect(page.locator("#id_pais_documento_error")).to_have_text("Elija el país que emitió el documento.")
    expect(page.get_by_text("Este número es un celular: puede recibir WhatsApp y SMS")).to_be_visible()
    foto("5-turista-sin-pais")
    page.get_by_label("País que emitió el documento").select_option(label="Argentina")
    page.get_by_role("button", name="Registrar paciente").click()
    expect(page.get_by_role("status").filter(has_text="Paciente John Smith registrado.")).to_be_visible()
    expect(page.locator("#documento")).to_have_text("Pasaporte AB123456 (Argentina)")
    expect(page.locator("#consentimientos")).to_contain_text("Formulario firmado")
    foto("6-ficha-turista")
    turista = Cliente.objects.get(nombre_completo="John Smith")
    assert str(turista.telefono) == "+5491123456789" and turista.canales_de_aviso() == [Canal.WHATSAPP]
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"


def test_invitar_despues_y_desactivar_liberando(page, live_server, foto, errores_de_consola, entrar_a_gestion,
                                               recepcionista, dentista):
    sin_invitar = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Soto Díaz",
                                           email="marta@correo.example")
    sin_correo = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Luis Mella",
                                          telefono="+56 2 2345 6789")
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=_manana(11))
    asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=sin_invitar.pk)
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(recepcionista)

    # No e-mail, no phone channel: the warning; and an invitation is refused with the reason.
    page.goto(live_server.url + reverse("gestion:paciente", args=[sin_correo.pk]))
    expect(page.locator("#sin-avisos")).to_contain_text("Este paciente no recibirá avisos")
    page.get_by_role("button", name="Invitar al portal").click()
    expect(page.get_by_text("registre primero su correo electrónico")).to_be_visible()
    foto("7-sin-avisos-e-invitacion-rechazada")

    page.goto(live_server.url + reverse("gestion:paciente", args=[sin_invitar.pk]))
    page.get_by_role("button", name="Invitar al portal").click()
    expect(page.get_by_role("status").filter(has_text="Invitación al portal enviada")).to_be_visible()
    expect(page.get_by_role("button", name="Reenviar invitación")).to_be_visible()
    expect(page.get_by_role("button", name="Invitar al portal")).to_have_count(0)
    sin_invitar.refresh_from_db()
    assert sin_invitar.user is not None
    assert Notificacion.objects.filter(cliente=sin_invitar, plantilla="invitacion").count() == 1

    page.get_by_role("link", name="Desactivar").click()
    expect(page.locator("#citas-futuras")).to_contain_text("Tiene 1 hora por venir")
    page.get_by_role("button", name="Sí, desactivar").click()
    # Not chosen: asked again, nothing changed.
    expect(page.locator("#id_citas_futuras_error")).to_contain_text("Elija qué hacer con sus horas futuras")
    assert Cliente.objects.get(pk=sin_invitar.pk).activo
    page.get_by_label("Liberarlas y avisarle al paciente").check()
    page.get_by_label("Motivo que se le indicará (opcional)").fill("El paciente se cambió de ciudad.")
    foto("8-desactivar-con-horas")
    page.get_by_role("button", name="Sí, desactivar").click()
    expect(page.get_by_role("status").filter(has_text="1 hora(s) futura(s) liberada(s) con aviso")).to_be_visible()
    foto("9-desactivado")
    assert not Cliente.objects.get(pk=sin_invitar.pk).activo
    assert Cita.objects.get(pk=hora.pk).estado == EstadoCita.DISPONIBLE  # free for other patients
    assert Notificacion.objects.filter(cita_id=hora.pk, plantilla="cita_cancelada_clinica").count() == 1
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"
