"""In a real browser on a phone-sized screen (390x844, Playwright driving Debian's Chromium): a
new patient registers with WhatsApp opt-in, confirms their e-mail, lands on the home page, opens Mi cuenta, changes
their notification preferences, downloads their data and deletes their account. Screenshots go
to var/capturas/."""

import json

import pytest
from playwright.sync_api import expect

from cliente_web.tests.test_registro import enlace_de_verificacion
from cuentas.models import PerfilCliente
from pacientes.models import Cliente

pytestmark = pytest.mark.django_db(transaction=True)

CLAVE = "Sonrisa-Blanca-77"


def test_paciente_se_registra_ajusta_avisos_descarga_sus_datos_y_se_va(page, live_server, captura):
    errores = []
    page.on("console", lambda mensaje: errores.append(mensaje.text) if mensaje.type == "error" else None)
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{live_server.url}/portal/entrar/")
    page.get_by_role("link", name="Cree su cuenta").click()
    expect(page.get_by_role("heading", name="Crear su cuenta")).to_be_visible()
    captura("portal-registro")

    # Mistakes first: each one is explained next to its field, nothing is saved.
    page.get_by_label("Nombre completo").fill("Valentina Rojas Pérez")
    page.get_by_label("RUT", exact=True).fill("12.345.678-9")
    page.get_by_label("Fecha de nacimiento").fill("1988-03-14")
    page.get_by_role("textbox", name="Correo electrónico").fill("valentina@correo.example")
    page.get_by_label("Celular", exact=True).fill("+1 202 555 0143")
    page.get_by_label("Contraseña", exact=True).fill(CLAVE)
    page.get_by_label("Repita la contraseña").fill(CLAVE)
    page.get_by_label("WhatsApp", exact=True).check()
    page.get_by_role("button", name="Crear mi cuenta").click()
    expect(page.locator("#id_rut_error")).to_have_text("El dígito verificador del RUT no es correcto.")
    expect(page.locator("#id_telefono_error")).to_contain_text("Ingrese un celular chileno válido")
    expect(page.locator("#id_acepta_privacidad_error")).to_be_visible()
    captura("portal-registro-errores")
    assert not Cliente.objects.exists()

    # Fixed: the passwords are not sent back, and consent is given explicitly.
    page.get_by_label("RUT", exact=True).fill("12.345.678-5")
    page.get_by_label("Celular", exact=True).fill("9 6123 4567")
    page.get_by_label("Contraseña", exact=True).fill(CLAVE)
    page.get_by_label("Repita la contraseña").fill(CLAVE)
    page.get_by_label("Acepto recibir avisos de mis horas por WhatsApp en este celular.").check()
    page.get_by_label("He leído y acepto el aviso de privacidad.").check()
    page.get_by_role("button", name="Crear mi cuenta").click()
    expect(page.get_by_role("heading", name="Revise su correo")).to_be_visible()
    # The link of the e-mail (test_navegador_registro follows it through the SMTP server).
    page.goto(live_server.url + enlace_de_verificacion("valentina@correo.example"))
    page.get_by_role("button", name="Confirmar y crear mi cuenta").click()
    expect(page.get_by_text("Su correo quedó confirmado y su cuenta creada")).to_be_visible()
    expect(page.get_by_role("heading", name="Hola, Valentina Rojas Pérez")).to_be_visible()
    captura("portal-inicio")
    perfil = PerfilCliente.objects.get(user__cliente__rut="12345678-5")
    assert perfil.canal_preferido == "whatsapp" and perfil.whatsapp_aceptado_en is not None

    page.get_by_role("navigation", name="Secciones del portal").get_by_role("link", name="Mi cuenta").click()
    expect(page.get_by_role("heading", name="Mi cuenta", exact=True)).to_be_visible()
    expect(page.get_by_text("12.345.678-5")).to_be_visible()
    expect(page.get_by_text("+56 9 6123 4567")).to_be_visible()
    captura("portal-mi-cuenta")

    # Preferences: SMS instead of WhatsApp; withdrawing WhatsApp clears its consent date.
    page.get_by_role("link", name="Cambiar avisos").click()
    page.get_by_label("SMS", exact=True).check()
    page.get_by_label("Acepto recibir avisos de mis horas por SMS.").check()
    page.get_by_label("Acepto recibir avisos de mis horas por WhatsApp.").uncheck()
    page.get_by_role("button", name="Guardar avisos").click()
    expect(page.get_by_text("Sus preferencias de aviso quedaron guardadas.")).to_be_visible()
    perfil.refresh_from_db()
    assert perfil.canal_preferido == "sms" and perfil.sms_aceptado_en and perfil.whatsapp_aceptado_en is None

    with page.expect_download() as descarga:
        page.get_by_role("link", name="Descargar mis datos (JSON)").click()
    archivo = descarga.value
    assert archivo.suggested_filename.startswith("mis-datos-") and archivo.suggested_filename.endswith(".json")
    datos = json.loads(open(archivo.path(), encoding="utf-8").read())
    assert datos["paciente"]["rut"] == "12345678-5" and datos["paciente"]["nombre_completo"] == "Valentina Rojas Pérez"
    assert datos["preferencias"]["canal_preferido"] == "sms"
    assert {n["evento"] for n in datos["notificaciones"]} == {"bienvenida"}

    page.get_by_role("link", name="Eliminar mi cuenta").click()
    expect(page.get_by_text("La clínica conserva")).to_be_visible()
    captura("portal-eliminar-cuenta")
    page.get_by_label("Su contraseña").fill("no-es-mi-clave")
    page.get_by_role("button", name="Eliminar mi cuenta definitivamente").click()
    expect(page.locator("#id_password_error")).to_have_text("La contraseña no es correcta.")
    page.get_by_label("Su contraseña").fill(CLAVE)
    page.get_by_role("button", name="Eliminar mi cuenta definitivamente").click()
    expect(page.get_by_role("heading", name="Su cuenta fue eliminada")).to_be_visible()
    assert not Cliente.objects.exists()
    assert not errores, f"errores en la consola (¿CSP?): {errores}"
