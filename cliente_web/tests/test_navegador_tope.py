"""In a real browser on a phone (390x844): a patient who already holds the portal's two
bookings tries a third and reads why not and whom to call; a second appointment at the same
time as one of theirs is refused with its own reason (issue 14). Screenshots: acopio-tope,
acopio-traslape under var/capturas/."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from citas.services import crear_cita_disponible, reservar_cita
from citas.tests.test_services import registrar_paciente

pytestmark = pytest.mark.django_db(transaction=True)


def test_el_paciente_ve_por_que_no_puede_reservar_mas(entrar_al_portal, page, live_server, captura, errores_de_consola, recepcionista,
                                                     dentista, crear_personal):
    otro = crear_personal(nombre="Tomás", apellido="Vidal")
    dia = timezone.localdate() + datetime.timedelta(days=3)
    zona = timezone.get_current_timezone()
    a_las = lambda h, m=0: datetime.datetime.combine(dia, datetime.time(h, m), tzinfo=zona)  # noqa: E731
    nueva = lambda perfil, inicio: crear_cita_disponible(  # noqa: E731
        actor=recepcionista.user, dentista_id=perfil.pk, inicio=inicio)
    paciente = registrar_paciente(42, nombre_completo="Ana María Núñez")
    reservar_cita(user=paciente, cita_id=nueva(dentista, a_las(10)).pk)
    a_la_vez = nueva(otro, a_las(10, 15))
    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(paciente)

    page.goto(f"{live_server.url}/portal/reservar/{a_la_vez.pk}/")
    page.get_by_role("button", name="Confirmar reserva").click()
    expect(page.get_by_text("Ya tiene otra cita a esa hora.")).to_be_visible()
    captura("acopio-traslape")

    reservar_cita(user=paciente, cita_id=nueva(dentista, a_las(12)).pk)
    tercera = nueva(otro, a_las(15))
    page.goto(f"{live_server.url}/portal/reservar/{tercera.pk}/")
    page.get_by_role("button", name="Confirmar reserva").click()
    expect(page.get_by_text("Por el portal puede tener hasta 2 horas reservadas a la vez, y ya las tiene: "
                            f"para reservar otra, llame a la clínica al {settings.CLINICA_TELEFONO}.")).to_be_visible()
    captura("acopio-tope")
