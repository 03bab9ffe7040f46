"""Scenes for the clinical record's tests: a patient, their dentist (with an appointment) and
a dentist outside the care team."""

import datetime
import uuid

import pytest
from django.utils import timezone

from citas.models import Cita, EstadoCita
from pacientes.models import Cliente
from personal.models import Rol


@pytest.fixture
def paciente_ficha(db):
    return Cliente.objects.create(nombre_completo="Ana Pérez Soto", rut="12345678-5", email="ana@correo.example",
                                  fecha_nacimiento=datetime.date(1985, 3, 14))


@pytest.fixture
def dar_cita():
    """``dar_cita(dentista, cliente, dias=-7, estado=EstadoCita.ATENDIDA)``: an appointment of
    ``cliente`` with ``dentista`` ``dias`` from today at 10:00 (negative: in the past)."""
    def dar(dentista, cliente, *, dias=-7, estado=EstadoCita.ATENDIDA, hora=10):
        dia = timezone.localdate() + datetime.timedelta(days=dias)
        inicio = timezone.make_aware(datetime.datetime.combine(dia, datetime.time(hora, 0)))
        return Cita.objects.create(
            dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30), estado=estado,
            cliente=cliente, paciente_nombre=cliente.nombre_completo, paciente_email=cliente.email,
            reserva_uid=uuid.uuid4(), reservada_en=inicio - datetime.timedelta(days=3),
        )

    return dar


@pytest.fixture
def tratante(crear_personal, paciente_ficha, dar_cita):
    """The patient's dentist: an appointment attended a week ago."""
    perfil = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    dar_cita(perfil, paciente_ficha)
    return perfil


@pytest.fixture
def ajeno(crear_personal):
    """A dentist of the clinic who never saw the patient."""
    return crear_personal(rol=Rol.DENTISTA, username="dr.mora", nombre="Jorge", apellido="Mora")


@pytest.fixture
def superusuario_ficha(db):
    """A Django superuser without a staff profile: an administrator for the services."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("raiz.ficha", "raiz.ficha@clinica.example", "Clave-muy-larga-1")
