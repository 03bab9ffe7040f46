"""In a real browser on a phone (390x844): a patient who keeps pressing "Confirmar reserva"
gets, at the eleventh attempt in a minute, the portal's "Demasiados intentos" page with the
clinic's phone, and no booking (issue 14). Screenshot: limites-429 under var/capturas/."""

import datetime

import django_ratelimit.core
import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from citas.models import Cita, EstadoCita
from citas.services import crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from cliente_web.tests.test_limites import _Reloj

pytestmark = pytest.mark.django_db(transaction=True)


def test_demasiados_intentos_en_el_telefono(entrar_al_portal, page, live_server, captura, errores_de_consola, recepcionista, dentista,
                                           monkeypatch):
    monkeypatch.setattr(django_ratelimit.core, "time", _Reloj())  # no window ends mid-test
    dia = timezone.localdate() + datetime.timedelta(days=3)
    zona = timezone.get_current_timezone()
    horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=datetime.datetime.combine(dia, datetime.time(9 + i // 2, 30 * (i % 2)),
                                                                    tzinfo=zona))
             for i in range(11)]
    paciente = registrar_paciente(43, nombre_completo="Ana María Núñez")
    page.set_viewport_size({"width": 390, "height": 844})
    entrar_al_portal(paciente)

    for hora in horas:
        page.goto(f"{live_server.url}/portal/reservar/{hora.pk}/")
        page.get_by_role("button", name="Confirmar reserva").click()
    expect(page.get_by_role("heading", name="Demasiados intentos")).to_be_visible()
    expect(page.get_by_text("Espere unos minutos")).to_be_visible()
    expect(page.get_by_role("link", name=settings.CLINICA_TELEFONO)).to_have_attribute(
        "href", "tel:" + settings.CLINICA_TELEFONO.replace(" ", ""))
    # The page fits the phone: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    captura("limites-429")
    assert Cita.objects.get(pk=horas[-1].pk).estado == EstadoCita.DISPONIBLE
    assert Cita.objects.filter(cliente=paciente.cliente).count() == 2  # the portal's cap
    assert [e for e in errores_de_consola if "429" not in e] == []
    page.get_by_role("link", name="Ver mis citas").click()
    expect(page.get_by_role("heading", name="Mis citas")).to_be_visible()
