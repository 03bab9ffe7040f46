"""In a real browser on a phone (390x844): a patient confirms their mobile number from Mi cuenta
with the code sent by SMS (read from the outbox, as the SMS provider would deliver it), after a
wrong try; the number then shows «Verificado» (issue 14). The staff sees, at 1280 px, the
patient's number confirmed and a notice suppressed by the send budget, with its reason.
Screenshots: telefono-* under var/capturas/."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from citas.services import crear_cita_disponible, reservar_cita
from citas.tests.test_services import registrar_paciente
from notificaciones.models import Canal, Notificacion
from pacientes.models import Cliente

pytestmark = pytest.mark.django_db(transaction=True)


def test_el_paciente_confirma_su_celular_con_el_codigo(entrar_al_portal, page, live_server, captura, errores_de_consola, settings,
                                                      entrar_a_gestion, recepcionista, dentista, manana_10):
    settings.NOTIFICACIONES_MAXIMO_POR_HORA = 1  # the welcome e-mail takes the hour's place
    settings.NOTIFICACIONES_SMS = "consola"  # the SMS stays in the outbox, where the test reads it
    paciente = registrar_paciente(43, nombre_completo="Ana María Núñez", telefono="+56 9 6123 4567",
                                  canal_preferido=Canal.SMS, acepta_sms=True, confirmar_telefono=False)
    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(paciente)

    page.goto(f"{live_server.url}{reverse('portal:mi_cuenta')}")
    celular = page.locator("#celular")
    expect(celular).to_contain_text("Sin confirmar")
    expect(page.locator("#aviso-sin-confirmar")).to_contain_text(
        "Mientras no confirme su celular, le avisaremos solo por correo.")
    captura("telefono-1-mi-cuenta-sin-confirmar")
    celular.get_by_role("link", name="Confirmar con un código").click()
    expect(page.get_by_role("heading", name="Confirmar su celular")).to_be_visible()
    captura("telefono-2-confirmar")
    page.get_by_role("button", name="Enviar código").click()
    expect(page.get_by_text("Le enviamos un código por SMS. Escríbalo abajo: vence en 10 minutos.")).to_be_visible()
    expect(page.get_by_role("button", name="Enviar código", exact=True)).to_have_count(0)

    sms = Notificacion.objects.get(plantilla="codigo_telefono")
    assert (sms.canal, sms.destinatario) == (Canal.SMS, "+56961234567")
    codigo = re.search(r"\b(\d{6})\b", sms.cuerpo).group(1)
    malo = f"{(int(codigo) + 1) % 10**6:06d}"
    page.get_by_label("Código recibido").fill(malo)
    page.get_by_role("button", name="Confirmar", exact=True).click()
    expect(page.locator("#error-codigo")).to_have_text("El código no coincide. Le quedan 4 intentos.")
    captura("telefono-3-codigo-incorrecto")
    page.get_by_role("button", name="¿No le llegó? Enviar otro código").click()  # too soon: refused, said why
    expect(page.locator("#error-codigo")).to_contain_text("Ya le enviamos un código hace menos de un minuto.")
    page.get_by_label("Código recibido").fill(codigo)
    page.get_by_role("button", name="Confirmar", exact=True).click()

    expect(page.get_by_role("heading", name="Mi cuenta")).to_be_visible()
    expect(page.get_by_text("Su celular quedó confirmado")).to_be_visible()
    expect(page.locator("#celular")).to_contain_text("Verificado")
    expect(page.locator("#aviso-sin-confirmar")).to_have_count(0)
    captura("telefono-4-verificado")
    assert Cliente.objects.get(pk=paciente.cliente.pk).telefono_verificado_medio == "codigo"

    # A booking now: its SMS goes (the number's first message this hour), its e-mail is held back
    # by the budget (the welcome took the hour's only place). The staff sees both, and why.
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    reservar_cita(user=paciente, cita_id=hora.pk)
    assert dict(Notificacion.objects.filter(plantilla="reserva_confirmada").values_list("canal", "estado")) == {
        Canal.SMS: "pendiente", Canal.EMAIL: "suprimida"}
    page.set_viewport_size({"width": 1280, "height": 900})
    page.context.clear_cookies()  # the patient's session ends; a receptionist logs in
    entrar_a_gestion(recepcionista)
    page.goto(f"{live_server.url}{reverse('gestion:paciente', args=[paciente.cliente.pk])}")
    expect(page.get_by_text("Confirmado", exact=True)).to_be_visible()
    expect(page.get_by_text("No enviada (límite por hora)")).to_be_visible()
    expect(page.get_by_text("Motivo: No se envió: este destino ya recibió el máximo de 1 por hora")).to_be_visible()
    captura("telefono-5-ficha-personal")
