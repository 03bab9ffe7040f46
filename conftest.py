"""Fixtures shared by every app's tests. Tests run on the real (embedded) PostgreSQL."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from personal.models import Perfil, Rol


@pytest.fixture
def crear_personal(db):
    """Factory for staff members: ``crear_personal(rol="dentista", username="dra.soto")``."""
    contador = {"n": 0}

    def crear(*, rol=Rol.DENTISTA, username=None, nombre="Camila", apellido="Soto", activo=True):
        contador["n"] += 1
        user = get_user_model().objects.create_user(
            username=username or f"{rol}{contador['n']}",
            email=f"{rol}{contador['n']}@clinica.example",
            first_name=nombre,
            last_name=apellido,
            is_staff=True,
            password="clave-de-prueba-1234",
        )
        return Perfil.objects.create(user=user, rol=rol, activo=activo)

    return crear


@pytest.fixture
def dentista(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Camila", apellido="Soto")


@pytest.fixture
def recepcionista(crear_personal):
    return crear_personal(rol=Rol.RECEPCION, nombre="Pedro", apellido="Rojas")


@pytest.fixture
def manana_10():
    """Tomorrow at 10:00 in Santiago, as an aware datetime."""
    manana = timezone.localdate() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(manana, datetime.time(10, 0)))
