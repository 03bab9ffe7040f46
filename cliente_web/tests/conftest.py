"""Fixtures of the portal's tests: patients with portal accounts and their logged-in clients."""

import pytest
from django.test import Client

from citas.services import crear_cita_disponible
from citas.tests.test_services import PASSWORD, registrar_paciente
from pruebas.soporte import iniciar_sesion

CLAVE_PACIENTE = PASSWORD  # registrar_paciente's password


@pytest.fixture(autouse=True)
def plazo_de_24_horas(settings):
    """Portal texts name the cut-off for changes ("24 horas antes"): the tests pin it rather than
    depend on the default (12 h)."""
    settings.CLINICA_PLAZO_CAMBIOS_H = 24


@pytest.fixture
def paciente(db):
    """A patient with a portal account (``User``; their record is ``paciente.cliente``)."""
    return registrar_paciente(501)


@pytest.fixture
def otro_paciente(db):
    """Someone else: every id of theirs must be invisible to ``paciente``."""
    return registrar_paciente(502)


def cliente_de(user):
    """A test client logged in as ``user`` (staff: with a verified second factor)."""
    return iniciar_sesion(Client(), user)


@pytest.fixture
def portal(paciente):
    """A test client logged in as ``paciente``."""
    return cliente_de(paciente)


@pytest.fixture
def hora_libre(dentista, recepcionista, manana_10):
    """A free slot tomorrow at 10:00 (well past the minimum notice)."""
    return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)


@pytest.fixture
def entrar_al_portal(page, live_server):
    """``entrar_al_portal(user)``: log a patient in to the portal through its login form, by RUT,
    and wait for their greeting."""
    from playwright.sync_api import expect

    def entrar(user):
        page.goto(f"{live_server.url}/portal/entrar/")
        page.get_by_label("RUT o correo electrónico").fill(user.cliente.rut)
        page.get_by_label("Contraseña").fill(CLAVE_PACIENTE)
        page.get_by_role("button", name="Entrar").click()
        expect(page.get_by_role("heading", name=f"Hola, {user.cliente.nombre_completo}")).to_be_visible()

    return entrar
