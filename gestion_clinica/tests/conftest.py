"""Fixtures of the staff site's tests: one logged-in client per kind of user, and
appointments placed on today's Santiago date."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from personal.models import Rol
from pruebas.soporte import iniciar_sesion

CLAVE_PERSONAL = "clave-de-prueba-1234"  # = conftest.CLAVE_PERSONAL (crear_personal's password)


@pytest.fixture
def administrador(crear_personal):
    return crear_personal(rol=Rol.ADMINISTRADOR, nombre="Ana", apellido="Admin")


@pytest.fixture
def superusuario(db):
    """A Django superuser without a staff profile: counts as administrador."""
    return get_user_model().objects.create_superuser("raiz", "raiz@clinica.example", CLAVE_PERSONAL)


@pytest.fixture
def usuario_paciente(db):
    """A portal account: a User with a ``cliente`` and no ``perfil_personal``."""
    return registrar_paciente(901)


@pytest.fixture
def dentista_inactivo(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Inés", apellido="Inactiva", activo=False)


def cliente_de(user):
    """A test client logged in as ``user`` (staff: with a verified second factor)."""
    return iniciar_sesion(Client(), user)


@pytest.fixture
def clientes(administrador, recepcionista, dentista, superusuario, usuario_paciente, dentista_inactivo):
    """One test client per kind of user, by name (``anonimo`` is not logged in)."""
    return {
        "anonimo": Client(),
        "administrador": cliente_de(administrador.user),
        "superusuario": cliente_de(superusuario),
        "recepcion": cliente_de(recepcionista.user),
        "dentista": cliente_de(dentista.user),
        "dentista_inactivo": cliente_de(dentista_inactivo.user),
        "paciente": cliente_de(usuario_paciente),
    }


@pytest.fixture
def cita_hoy(recepcionista):
    """``cita_hoy(dentista, datetime.time(10), estado=..., nombre=..., anterior=...)``: an
    appointment today (``anterior``: the state a mark replaced, what "Deshacer" goes back to).

    Booked through the services on a future day (they refuse the past), then moved to today:
    tests need fixed times on today's date whatever the hour they run at.
    """
    manana = timezone.localdate() + datetime.timedelta(days=30)

    def crear(dentista, hora, *, estado=None, nombre="", fecha=None, minutos=30, anterior=""):
        inicio_futuro = datetime.datetime.combine(manana, hora, tzinfo=timezone.get_current_timezone())
        cita = crear_cita_disponible(
            actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio_futuro, duracion_minutos=minutos
        )
        if nombre:
            cita = asignar_cita(actor=recepcionista.user, cita_id=cita.pk, paciente_nombre=nombre)
        inicio = datetime.datetime.combine(
            fecha or timezone.localdate(), hora, tzinfo=timezone.get_current_timezone()
        )
        cambios = {"inicio": inicio, "fin": inicio + datetime.timedelta(minutes=minutos)}
        if estado:
            cambios["estado"] = estado
        if anterior:
            cambios["estado_anterior"] = anterior  # as the mark's compare-and-set leaves it
        if estado == EstadoCita.BLOQUEADA:  # nobody's, with its reason (markup: it must come out escaped)
            cambios["bloqueo_motivo"] = "Reunión <b>de equipo</b> & \"O'Higgins\""
        Cita.objects.filter(pk=cita.pk).update(**cambios)
        cita.refresh_from_db()
        return cita

    return crear

