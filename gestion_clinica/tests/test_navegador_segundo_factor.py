"""In a real browser (1280 px): a dentist's first login enrols an authenticator app (the test
computes its code from the secret shown on the page), sees the recovery codes and reaches the
agenda; logs in again with a code; uses a recovery code once (the second use is refused). An
administrator then resets the dentist's second factor. Screenshots: /tmp/capturas-mfa/."""

import base64
import time
from pathlib import Path

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from gestion_clinica.tests.conftest import CLAVE_PERSONAL
from personal.segundo_factor import codigo_totp

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURAS = Path("/tmp/capturas-mfa")


def test_dentista_configura_entra_con_codigo_y_con_recuperacion(page, live_server, errores_de_consola, dentista,
                                                                 entrar_a_gestion, administrador):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    def con_clave():
        page.get_by_label("Usuario").fill(dentista.user.username)
        page.get_by_label("Contraseña").fill(CLAVE_PERSONAL)
        page.get_by_role("button", name="Entrar").click()

    def salir():
        page.get_by_role("button", name=dentista.nombre).click()  # the user's menu
        page.get_by_role("button", name="Cerrar sesión").click()
        expect(page.get_by_role("heading", name="Acceso del personal")).to_be_visible()

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/gestion/agenda/")
    con_clave()

    # First login: enrolment, with the QR and the secret to type.
    expect(page.get_by_role("heading", name="Configure su segundo factor")).to_be_visible()
    expect(page.get_by_role("img", name="Código QR para configurar la aplicación de autenticación")).to_be_visible()
    secreto = page.locator("#secreto").inner_text().replace(" ", "")
    app = TOTPDevice(key=base64.b32decode(secreto).hex())  # what the phone holds
    captura("1-configurar")
    correcto = codigo_totp(app)
    page.get_by_label("Código de 6 dígitos").fill(f"{(int(correcto) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Confirmar").click()
    expect(page.get_by_text("El código no es correcto o ya se usó.")).to_be_visible()
    captura("2-configurar-codigo-malo")
    page.get_by_label("Código de 6 dígitos").fill(codigo_totp(app))
    page.get_by_role("button", name="Confirmar").click()

    # The recovery codes, once.
    expect(page.get_by_role("heading", name="Sus códigos de recuperación")).to_be_visible()
    expect(page.get_by_text("Guárdelos en un lugar seguro")).to_be_visible()
    codigos = page.get_by_role("list", name="Códigos de recuperación").get_by_role("listitem").all_inner_texts()
    assert len(codigos) == 10
    captura("3-codigos-de-recuperacion")
    page.get_by_role("link", name="Ya los guardé, continuar").click()
    expect(page).to_have_url(f"{live_server.url}/gestion/agenda/")
    expect(page.get_by_role("navigation", name="Navegación principal")).to_be_visible()
    captura("4-agenda")
    salir()

    # Next login: the code of the app (the next 30-second step: the enrolment spent this one).
    con_clave()
    expect(page.get_by_role("heading", name="Ingrese el código de su aplicación")).to_be_visible()
    captura("5-ingrese-el-codigo")
    page.get_by_label("Código", exact=True).fill(codigo_totp(app, instante=time.time() + 30))
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_role("navigation", name="Navegación principal")).to_be_visible()
    salir()

    # A recovery code: once.
    con_clave()
    page.get_by_label("Código", exact=True).fill(codigos[0])
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_text("Usó un código de recuperación; le quedan 9.")).to_be_visible()
    captura("6-entro-con-recuperacion")
    salir()
    con_clave()
    page.get_by_label("Código", exact=True).fill(codigos[0])
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_text("El código no es correcto o ya se usó.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Navegación principal")).to_have_count(0)
    captura("7-recuperacion-usada")
    page.get_by_role("button", name="Cerrar sesión").click()

    # The administrator resets it (a lost phone).
    entrar_a_gestion(administrador)
    page.goto(f"{live_server.url}/gestion/personal/{dentista.pk}/editar/")
    expect(page.get_by_text("Configurado: entra con su contraseña")).to_be_visible()
    page.get_by_label(f"Confirmo que verifiqué la identidad de {dentista.nombre}").check()
    captura("8-restablecer")
    page.get_by_role("button", name="Restablecer segundo factor").click()
    expect(page.get_by_text(f"Se restableció el segundo factor de {dentista.nombre}")).to_be_visible()
    expect(page.get_by_text("Sin configurar: lo configurará la próxima vez que entre, después de elegir su "
                            "contraseña con el enlace que recibió por correo.")).to_be_visible()
    captura("9-restablecido")
    assert not TOTPDevice.objects.filter(user=dentista.user).exists()
    assert not errores_de_consola, errores_de_consola


def test_dentista_agrega_una_llave_de_acceso_y_entra_con_ella(page, live_server, errores_de_consola, dentista,
                                                              settings):
    """Passkeys (django-otp-webauthn) with Chromium's virtual authenticator: added on the recovery
    codes' page, then used instead of the code. Its script is a static file: no CSP error."""
    from django_otp_webauthn.models import WebAuthnCredential

    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    page.set_viewport_size({"width": 1280, "height": 800})

    def con_clave():
        page.get_by_label("Usuario").fill(dentista.user.username)
        page.get_by_label("Contraseña").fill(CLAVE_PERSONAL)
        page.get_by_role("button", name="Entrar").click()

    page.goto(f"{live_server.url}/gestion/agenda/")
    con_clave()
    secreto = page.locator("#secreto").inner_text().replace(" ", "")
    page.get_by_label("Código de 6 dígitos").fill(codigo_totp(TOTPDevice(key=base64.b32decode(secreto).hex())))
    page.get_by_role("button", name="Confirmar").click()
    page.get_by_role("button", name="Agregar llave de acceso").click()
    expect(page.locator("#passkey-register-status-message")).not_to_be_empty()
    captura_llave = CAPTURAS / "10-llave-agregada.png"
    page.screenshot(path=str(captura_llave), full_page=True)
    assert WebAuthnCredential.objects.filter(user=dentista.user, confirmed=True).count() == 1

    page.get_by_role("link", name="Ya los guardé, continuar").click()
    expect(page).to_have_url(f"{live_server.url}/gestion/agenda/")
    page.get_by_role("button", name=dentista.nombre).click()
    page.get_by_role("button", name="Cerrar sesión").click()

    page.goto(f"{live_server.url}/gestion/agenda/")
    con_clave()
    expect(page.get_by_role("heading", name="Ingrese el código de su aplicación")).to_be_visible()
    page.screenshot(path=str(CAPTURAS / "11-codigo-o-llave.png"), full_page=True)
    page.get_by_role("button", name="Usar mi llave de acceso").click()
    expect(page).to_have_url(f"{live_server.url}/gestion/agenda/")
    expect(page.get_by_role("navigation", name="Navegación principal")).to_be_visible()
    assert not errores_de_consola, errores_de_consola
