"""Staff login, logout, lockout and the invitation's set-password page."""

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from citas.tests.test_services import PASSWORD as CLAVE_PACIENTE
from personal.tokens import enlace_activacion_personal
from gestion_clinica.tests.conftest import CLAVE_PERSONAL
from personal.services import crear_personal as crear_personal_servicio
from pruebas.soporte import iniciar_sesion

ENTRAR = reverse("gestion:entrar")
SALIR = reverse("gestion:salir")
INICIO = reverse("gestion:inicio")


def entrar(client, username, password, **extra):
    return client.post(ENTRAR, {"username": username, "password": password, **extra})


def sesion_de(client):
    return client.session.get(SESSION_KEY)


def test_el_personal_entra_y_llega_al_inicio(client, recepcionista):
    respuesta = entrar(client, recepcionista.user.username, CLAVE_PERSONAL)
    assert respuesta.status_code == 302
    assert respuesta.url == INICIO
    assert sesion_de(client) == str(recepcionista.user.pk)


def test_entrar_respeta_next_interno_y_descarta_externo(client, recepcionista):
    respuesta = entrar(client, recepcionista.user.username, CLAVE_PERSONAL, next=reverse("gestion:agenda"))
    assert respuesta.url == reverse("gestion:agenda")
    client.logout()
    respuesta = entrar(client, recepcionista.user.username, CLAVE_PERSONAL, next="https://malo.example/")
    assert respuesta.url == INICIO


def test_formulario_de_entrada_en_espanol(client, db):
    respuesta = client.get(ENTRAR)
    assert respuesta.status_code == 200
    assert "Acceso del personal" in respuesta.text
    assert "Contraseña" in respuesta.text


def test_clave_incorrecta(client, recepcionista):
    respuesta = entrar(client, recepcionista.user.username, "no-es-la-clave")
    assert respuesta.status_code == 200
    assert "Usuario o contraseña incorrectos" in respuesta.text
    assert sesion_de(client) is None


def test_paciente_rechazado_aunque_la_clave_sea_correcta(client, usuario_paciente):
    respuesta = entrar(client, usuario_paciente.username, CLAVE_PACIENTE)
    assert respuesta.status_code == 200
    assert "Esta es una cuenta de paciente" in respuesta.text
    assert sesion_de(client) is None


def test_perfil_desactivado_rechazado(client, dentista_inactivo):
    respuesta = entrar(client, dentista_inactivo.user.username, CLAVE_PERSONAL)
    assert respuesta.status_code == 200
    assert "Su cuenta del personal está desactivada" in respuesta.text
    assert sesion_de(client) is None


def test_usuario_desactivado_rechazado(client, recepcionista):
    # desactivar_personal also turns User.is_active off: Django's backend refuses it outright.
    get_user_model().objects.filter(pk=recepcionista.user.pk).update(is_active=False)
    respuesta = entrar(client, recepcionista.user.username, CLAVE_PERSONAL)
    assert "Usuario o contraseña incorrectos" in respuesta.text
    assert sesion_de(client) is None


def test_usuario_sin_perfil_ni_ficha_rechazado(client, db):
    get_user_model().objects.create_user("suelto", password=CLAVE_PERSONAL, is_staff=True)
    respuesta = entrar(client, "suelto", CLAVE_PERSONAL)
    assert "no pertenece al personal" in respuesta.text
    assert sesion_de(client) is None


def test_superusuario_sin_perfil_entra(client, superusuario):
    assert entrar(client, superusuario.username, CLAVE_PERSONAL).url == INICIO


def test_bloqueo_tras_n_intentos_fallidos(client, recepcionista, settings):
    settings.AXES_FAILURE_LIMIT = 3
    usuario = recepcionista.user.username
    for _ in range(2):
        assert entrar(client, usuario, "mala").status_code == 200
    bloqueada = entrar(client, usuario, "mala")
    assert bloqueada.status_code == 429
    assert "Demasiados intentos fallidos" in bloqueada.text
    assert "30 minutos" in bloqueada.text
    # Even the right password is refused while locked out.
    correcta = entrar(client, usuario, CLAVE_PERSONAL)
    assert correcta.status_code == 429
    assert "Demasiados intentos fallidos" in correcta.text
    assert sesion_de(client) is None


def test_bloqueo_es_por_usuario(client, recepcionista, dentista, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        entrar(client, recepcionista.user.username, "mala")
    assert entrar(client, dentista.user.username, CLAVE_PERSONAL).status_code == 302


def test_salir_solo_por_post(client, recepcionista):
    iniciar_sesion(client, recepcionista.user)
    assert client.get(SALIR).status_code == 405
    assert sesion_de(client) == str(recepcionista.user.pk)
    respuesta = client.post(SALIR, follow=True)
    assert respuesta.redirect_chain[-1][0] == ENTRAR
    assert "Cerró su sesión" in respuesta.text
    assert sesion_de(client) is None


def test_personal_con_sesion_no_ve_el_formulario(client, recepcionista):
    iniciar_sesion(client, recepcionista.user)
    assert client.get(ENTRAR).url == INICIO


def test_paciente_con_sesion_puede_entrar_con_cuenta_del_personal(client, usuario_paciente, recepcionista):
    iniciar_sesion(client, usuario_paciente)
    respuesta = client.get(ENTRAR)
    assert respuesta.status_code == 200
    assert "al entrar se cerrará" in respuesta.text
    entrar(client, recepcionista.user.username, CLAVE_PERSONAL)
    assert sesion_de(client) == str(recepcionista.user.pk)


# Invitations: set-password page ---------------------------------------------------------------


@pytest.fixture
def invitado(administrador):
    """A staff member created without a password, as an invitation leaves them."""
    return crear_personal_servicio(
        actor=administrador.user, username="nuevo.dentista", nombre="Nora", apellido="Nueva",
        email="nora@clinica.example", rol="dentista",
    ).user


def ruta_de(enlace):
    return enlace[enlace.index("/gestion/"):]


def test_activar_cuenta_con_el_enlace_de_invitacion(client, invitado):
    assert not invitado.has_usable_password()
    respuesta = client.get(ruta_de(enlace_activacion_personal(invitado)))
    assert respuesta.status_code == 302  # the token moves to the session, out of the URL
    formulario = respuesta.url
    assert "definir-clave" in formulario
    assert "Crear su contraseña" in client.get(formulario).text
    respuesta = client.post(formulario, {"new_password1": "Sonrisa-Blanca-77", "new_password2": "Sonrisa-Blanca-77"})
    assert respuesta.url == ENTRAR
    invitado.refresh_from_db()
    assert invitado.check_password("Sonrisa-Blanca-77")
    assert entrar(client, "nuevo.dentista", "Sonrisa-Blanca-77").url == INICIO


def test_activar_muestra_errores_de_clave_en_espanol(client, invitado):
    formulario = client.get(ruta_de(enlace_activacion_personal(invitado))).url
    respuesta = client.post(formulario, {"new_password1": "123", "new_password2": "456"})
    assert respuesta.status_code == 200
    assert "Los dos campos de contraseña no coinciden" in respuesta.text


def test_enlace_usado_ya_no_sirve(client, invitado):
    enlace = ruta_de(enlace_activacion_personal(invitado))
    formulario = client.get(enlace).url
    client.post(formulario, {"new_password1": "Sonrisa-Blanca-77", "new_password2": "Sonrisa-Blanca-77"})
    respuesta = client.get(enlace)
    assert respuesta.status_code == 200
    assert "Este enlace no es válido" in respuesta.text


def test_enlace_de_paciente_no_sirve_en_el_sitio_del_personal(client, usuario_paciente):
    uid = urlsafe_base64_encode(force_bytes(usuario_paciente.pk))
    token = default_token_generator.make_token(usuario_paciente)
    respuesta = client.get(reverse("gestion:activar", args=[uid, token]))
    assert respuesta.status_code == 200
    assert "Este enlace no es válido" in respuesta.text


@pytest.mark.parametrize(
    "uid,token",
    [("x", "y"), ("MTIz", "definir-clave"), ("OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "abc-def"), ("_-_-", "%00"),
     ("w4k", "zz")],
)
def test_enlace_basura_no_es_500(client, db, uid, token):
    respuesta = client.get(f"/gestion/activar/{uid}/{token}/")
    assert respuesta.status_code == 200
    assert "Este enlace no es válido" in respuesta.text
