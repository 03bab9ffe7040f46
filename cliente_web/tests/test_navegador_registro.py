"""In a real browser on a phone (390x844), a new patient books before having an account (issue 14):
picks a free slot → "Cree su cuenta" → "Revise su correo" → opens the link of the e-mail the real
SMTP server received → "Confirmar y crear mi cuenta" → back on the slot, logged in → books it.
Screenshots: registro-1-hora … registro-6-reservada under var/capturas/ (and
/tmp/capturas-registro/)."""

import datetime
import re
import shutil
from pathlib import Path

import pytest
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from citas.models import EstadoCita
from citas.services import crear_cita_disponible
from cuentas.models import RegistroPendiente
from pacientes.models import Cliente
from pruebas.soporte import ejecutar_worker

pytestmark = pytest.mark.django_db(transaction=True)

CLAVE = "Sonrisa-Blanca-77"
CARPETA = Path("/tmp/capturas-registro")


@pytest.fixture
def capturar(captura):
    CARPETA.mkdir(parents=True, exist_ok=True)

    def guardar(nombre):
        shutil.copy(captura(nombre), CARPETA / f"{nombre}.png")

    return guardar


def test_elige_hora_crea_cuenta_verifica_el_correo_y_reserva(page, live_server, capturar, errores_de_consola,
                                                             servidor_smtp, cola_vacia, settings, recepcionista,
                                                             dentista):
    settings.CLINICA_URL_PORTAL = live_server.url  # the e-mailed link points at this server
    dia = timezone.localdate() + datetime.timedelta(days=3)
    inicio = datetime.datetime.combine(dia, datetime.time(10, 0), tzinfo=timezone.get_current_timezone())
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
    page.set_viewport_size({"width": 390, "height": 844})

    # A visitor picks a free time without an account.
    page.goto(f"{live_server.url}/portal/reservar/")
    texto_dia = dateformat.format(inicio, r"l j \d\e F")
    page.get_by_role("link", name=f"{texto_dia}, 10:00, Camila Soto").click()
    expect(page.get_by_role("heading", name="Entrar al portal")).to_be_visible()
    capturar("registro-1-entrar")
    page.get_by_role("link", name="Cree su cuenta").click()

    # Sign up.
    expect(page.get_by_role("heading", name="Crear su cuenta")).to_be_visible()
    page.get_by_label("Nombre completo").fill("Valentina Rojas Pérez")
    page.get_by_label("RUT", exact=True).fill("12.345.678-5")
    page.get_by_label("Fecha de nacimiento").fill("1988-03-14")
    page.get_by_role("textbox", name="Correo electrónico").fill("valentina@correo.example")
    page.get_by_role("textbox", name="Celular").fill("9 6123 4567")
    page.get_by_label("Contraseña", exact=True).fill(CLAVE)
    page.get_by_label("Repita la contraseña").fill(CLAVE)
    page.get_by_label("He leído y acepto el aviso de privacidad.").check()
    capturar("registro-2-formulario")
    page.get_by_role("button", name="Crear mi cuenta").click()

    expect(page.get_by_role("heading", name="Revise su correo")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "Le enviamos un enlace a valentina@correo.example para continuar.")
    capturar("registro-3-revise-su-correo")
    assert not Cliente.objects.exists() and RegistroPendiente.objects.count() == 1

    # The e-mail arrives (through the worker and the SMTP server); its link opens the confirmation.
    ejecutar_worker()
    (mensaje,) = servidor_smtp.para("valentina@correo.example")
    assert "confirme su correo para crear su cuenta" in mensaje.asunto
    enlace = re.search(r"https?://\S+/portal/registro/verificar/\S+/", mensaje.cuerpo).group(0)
    page.goto(enlace)
    expect(page.get_by_role("heading", name="Hola, Valentina")).to_be_visible()
    expect(page.get_by_text("Después lo llevamos de vuelta a la hora que eligió")).to_be_visible()
    capturar("registro-4-confirmar-correo")
    page.get_by_role("button", name="Confirmar y crear mi cuenta").click()

    # Back on the chosen slot, logged in: book it.
    expect(page.get_by_role("heading", name="Confirme su hora")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Su correo quedó confirmado y su cuenta creada")).to_be_visible()
    assert page.url.endswith(f"/portal/reservar/{hora.pk}/")
    capturar("registro-5-de-vuelta-en-la-hora")
    page.get_by_role("button", name="Confirmar reserva").click()
    expect(page.get_by_role("status").filter(has_text="Listo: reservó su hora")).to_be_visible()
    capturar("registro-6-reservada")
    hora.refresh_from_db()
    ficha = Cliente.objects.get()
    assert hora.estado == EstadoCita.RESERVADA and hora.cliente_id == ficha.pk and ficha.user is not None
    assert not RegistroPendiente.objects.exists()

    # Opening the used link again in the same browser: already inside.
    page.goto(enlace)
    expect(page.get_by_role("status").filter(has_text="Ese enlace ya se usó")).to_be_visible()
    assert not errores_de_consola, errores_de_consola

    # In another browser (no session) it says it was used (a 400, which the console reports).
    otra = page.context.browser.new_page(viewport={"width": 390, "height": 844})
    otra.goto(enlace)
    expect(otra.get_by_role("heading", name="No pudimos usar este enlace")).to_be_visible()
    otra.screenshot(path=str(CARPETA / "registro-7-enlace-usado.png"), full_page=True)
    otra.close()
