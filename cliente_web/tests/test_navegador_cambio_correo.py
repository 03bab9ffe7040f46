"""In a real browser on a phone-sized screen: a patient asks to change their e-mail, is told a
link went to the new address, and the link's page (opened without a session) changes it only
when its button is pressed. Screenshots go to var/capturas/."""

import re

import pytest
from playwright.sync_api import expect

from cliente_web.tests.conftest import CLAVE_PACIENTE
from notificaciones.models import Notificacion
from pacientes.models import Cliente

pytestmark = pytest.mark.django_db(transaction=True)

NUEVO = "nuevo.correo@correo.example"


def test_cambiar_el_correo_con_su_enlace(page, live_server, captura, paciente):
    errores = []
    page.on("console", lambda mensaje: errores.append(mensaje.text) if mensaje.type == "error" else None)
    page.set_viewport_size({"width": 390, "height": 844})
    anterior = paciente.cliente.email

    page.goto(f"{live_server.url}/portal/entrar/")
    page.get_by_label("RUT o correo electrónico").fill(anterior)
    page.get_by_label("Contraseña").fill(CLAVE_PACIENTE)
    page.get_by_role("button", name="Entrar").click()
    page.goto(f"{live_server.url}/portal/cuenta/")
    page.get_by_role("link", name="Cambiar correo, celular o nacimiento").click()
    page.get_by_label("Correo electrónico").fill(NUEVO)
    page.get_by_label("Contraseña actual").fill(CLAVE_PACIENTE)
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text(f"Le enviamos un enlace a {NUEVO}; su correo cambiará cuando lo abra.")).to_be_visible()
    captura("portal-correo-enlace-enviado")
    assert Cliente.objects.get(pk=paciente.cliente.pk).email == anterior

    cuerpo = Notificacion.objects.get(plantilla="cambio_correo_confirmar").cuerpo
    ruta = re.search(r"(/portal/cuenta/correo/[^/\s]+/)", cuerpo).group(1)
    page.context.clear_cookies()  # the link works without a session
    page.goto(f"{live_server.url}{ruta}")
    expect(page.get_by_text(NUEVO)).to_be_visible()
    captura("portal-correo-confirmar")
    page.get_by_role("button", name="Confirmar mi nuevo correo").click()
    expect(page.get_by_role("heading", name=re.compile("su correo quedó cambiado"))).to_be_visible()
    captura("portal-correo-confirmado")
    assert Cliente.objects.get(pk=paciente.cliente.pk).email == NUEVO

    page.goto(f"{live_server.url}{ruta[:-8]}xyz/")
    expect(page.get_by_role("heading", name="No pudimos usar este enlace")).to_be_visible()
    captura("portal-correo-enlace-malo")
    assert not [e for e in errores if "status of 400" not in e], errores


def test_no_fui_yo_deshace_el_cambio_y_bloquea_la_cuenta(page, live_server, captura, paciente):
    """Someone with the phone and the password changes the e-mail; the owner opens the old
    address's notice link (in another browser) and undoes it: the thief's session ends."""
    errores = []
    page.on("console", lambda mensaje: errores.append(mensaje.text) if mensaje.type in ("error", "warning") else None)
    page.set_viewport_size({"width": 390, "height": 844})
    anterior = paciente.cliente.email
    contexto_ladron = page.context.browser.new_context(viewport={"width": 390, "height": 844})
    ladron = contexto_ladron.new_page()

    ladron.goto(f"{live_server.url}/portal/entrar/")
    ladron.get_by_label("RUT o correo electrónico").fill(anterior)
    ladron.get_by_label("Contraseña").fill(CLAVE_PACIENTE)
    ladron.get_by_role("button", name="Entrar").click()
    ladron.goto(f"{live_server.url}/portal/cuenta/contacto/")
    ladron.get_by_label("Correo electrónico").fill(NUEVO)
    ladron.get_by_role("button", name="Guardar").click()  # without the password
    expect(ladron.get_by_text("escriba su contraseña actual correcta")).to_be_visible()
    ladron.screenshot(path=str(captura("portal-correo-deshacer").parent / "portal-correo-sin-clave.png"),
                      full_page=True)
    assert Cliente.objects.get(pk=paciente.cliente.pk).email == anterior
    ladron.get_by_label("Contraseña actual").fill(CLAVE_PACIENTE)
    ladron.get_by_role("button", name="Guardar").click()
    expect(ladron.get_by_text(f"Le enviamos un enlace a {NUEVO}")).to_be_visible()

    aviso = Notificacion.objects.get(plantilla="cambio_correo_aviso").cuerpo
    deshacer = re.search(r"(/portal/cuenta/correo-deshacer/[^/\s]+/)", aviso).group(1)
    page.goto(f"{live_server.url}{deshacer}")
    expect(page.get_by_role("button", name="No fui yo: anular y bloquear mi cuenta")).to_be_visible()
    captura("portal-correo-deshacer")
    page.get_by_role("button", name="No fui yo: anular y bloquear mi cuenta").click()
    expect(page.get_by_role("heading", name=re.compile("anulamos el cambio"))).to_be_visible()
    captura("portal-correo-deshecho")
    assert not Cliente.objects.select_related("user").get(pk=paciente.cliente.pk).user.is_active

    ladron.goto(f"{live_server.url}/portal/cuenta/")
    expect(ladron).to_have_url(re.compile(r"/portal/entrar/"))
    contexto_ladron.close()
    assert not errores, errores
