"""In a real browser at 1280 px, issue 14: reception opens a patient whose account "No fui yo"
locked, reads the state and unlocks it. Screenshots under /tmp/capturas-historial/."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from citas.tests.test_services import registrar_paciente
from cuentas.services import deshacer_cambio_de_correo, token_deshacer_cambio_de_correo
from notificaciones.models import Notificacion
from pacientes.models import Cliente

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()

CAPTURAS = Path("/tmp/capturas-historial")


@pytest.fixture
def foto(page):
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    return lambda nombre: page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)


def test_recepcion_desbloquea_una_cuenta(page, live_server, foto, errores_de_consola, entrar_a_gestion,
                                         recepcionista):
    user = registrar_paciente(31, nombre_completo="Rodrigo Fuentes Lagos")
    cliente = Cliente.objects.get(user=user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())  # the account was in use
    deshacer_cambio_de_correo(token=token_deshacer_cambio_de_correo(cliente=cliente, nonce="n1"))

    page.set_viewport_size({"width": 1280, "height": 900})
    entrar_a_gestion(recepcionista)
    page.goto(f"{live_server.url}/gestion/pacientes/{cliente.pk}/")
    aviso = page.locator("#cuenta-bloqueada")
    expect(aviso).to_contain_text("Cuenta del portal bloqueada por revisión (No fui yo, ")
    expect(page.get_by_text("Bloqueada por revisión", exact=True)).to_be_visible()
    foto("gestion-cuenta-bloqueada")

    aviso.get_by_role("button", name="Desbloquear cuenta").click()
    expect(page.get_by_text("Cuenta del portal desbloqueada.")).to_be_visible()
    expect(page.locator("#cuenta-bloqueada")).to_have_count(0)
    expect(page.get_by_text("Desbloqueada, sin contraseña: se le envió un enlace para crearla")).to_be_visible()
    expect(page.get_by_text("{#")).to_have_count(0)
    expect(page.get_by_role("button", name="Reenviar invitación")).to_have_count(0)  # not an invitation
    foto("gestion-cuenta-desbloqueada")
    user.refresh_from_db()
    assert user.is_active and not user.has_usable_password()
    assert Notificacion.objects.filter(cliente=cliente, plantilla="cuenta_desbloqueada").count() == 1
    assert errores_de_consola == []
