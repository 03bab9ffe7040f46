"""Staff sessions: the user with their staff profile in one query (issue 16,
``NombreDeUsuarioBackend``), and a staff login through the form leaves that backend."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.test import Client
from django.urls import reverse

from conftest import CLAVE_PERSONAL
from cuentas.autenticacion import NombreDeUsuarioBackend
from personal.models import Rol

pytestmark = pytest.mark.django_db


def test_el_usuario_de_la_sesion_trae_su_perfil_en_la_misma_consulta(crear_personal, django_assert_num_queries):
    perfil = crear_personal(rol=Rol.RECEPCION, username="recep.uno")
    with django_assert_num_queries(1):
        user = NombreDeUsuarioBackend().get_user(perfil.user_id)
        assert user.perfil_personal.rol == Rol.RECEPCION


def test_sin_perfil_no_hay_consulta_de_mas(django_assert_num_queries):
    """An account without a profile (a patient who somehow logged in by username): the missing
    profile is known from the same query."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="sin.perfil", password=CLAVE_PERSONAL)
    with django_assert_num_queries(1):
        assert not hasattr(NombreDeUsuarioBackend().get_user(user.pk), "perfil_personal")


def test_una_cuenta_inactiva_o_inexistente_no_abre_sesion(crear_personal):
    perfil = crear_personal(rol=Rol.DENTISTA, username="dr.inactivo")
    perfil.user.is_active = False
    perfil.user.save(update_fields=["is_active"])
    assert NombreDeUsuarioBackend().get_user(perfil.user_id) is None
    assert NombreDeUsuarioBackend().get_user(10**9) is None


def test_el_personal_entra_con_su_nombre_de_usuario(crear_personal):
    """The real login form: the session names NombreDeUsuarioBackend, and the next page reads the
    profile through it (the second-factor step: the password alone is not enough)."""
    crear_personal(rol=Rol.DENTISTA, username="dra.form")
    cliente = Client()
    respuesta = cliente.post(reverse("gestion:entrar"), {"username": "dra.form", "password": CLAVE_PERSONAL})
    assert respuesta.status_code == 302
    assert cliente.session[BACKEND_SESSION_KEY] == "cuentas.autenticacion.NombreDeUsuarioBackend"
    siguiente = cliente.get(reverse("gestion:inicio"))
    assert siguiente.status_code == 302 and reverse("gestion:segundo_factor") in siguiente["Location"]
