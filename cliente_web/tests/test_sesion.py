"""Portal login: RUT in any format or e-mail; staff and deactivated patients refused; lockout
counts a person once whatever the spelling of their RUT."""

import pytest
from django.test import Client
from django.urls import reverse

from cliente_web.tests.conftest import CLAVE_PACIENTE
from pacientes.services import desactivar_cliente
from pruebas.soporte import iniciar_sesion

pytestmark = pytest.mark.django_db

ENTRAR = "/portal/entrar/"


def entrar(usuario, clave=CLAVE_PACIENTE, cliente=None):
    cliente = cliente or Client()
    return cliente, cliente.post(ENTRAR, {"username": usuario, "password": clave})


def rut_con_puntos(rut):
    cuerpo, dv = rut.split("-")
    return f"{int(cuerpo):,}".replace(",", ".") + f"-{dv}"


@pytest.mark.parametrize("forma", ["normal", "con_puntos", "sin_guion", "correo_mayusculas", "con_espacios"])
def test_entra_con_rut_en_cualquier_forma_o_con_correo(paciente, forma):
    rut, email = paciente.cliente.rut, paciente.cliente.email
    usuario = {
        "normal": rut,
        "con_puntos": rut_con_puntos(rut),
        "sin_guion": rut.replace("-", ""),
        "correo_mayusculas": email.upper(),
        "con_espacios": f"  {email} ",
    }[forma]
    cliente, respuesta = entrar(usuario)
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:inicio")
    assert cliente.get(reverse("portal:inicio")).status_code == 200


def test_clave_equivocada_da_un_mensaje_en_espanol(paciente):
    _, respuesta = entrar(paciente.cliente.rut, clave="otra-clave-cualquiera")
    assert respuesta.status_code == 200
    assert "RUT, correo o contraseña incorrectos." in respuesta.content.decode()


def test_paciente_desactivado_no_entra(paciente, recepcionista):
    desactivar_cliente(actor=recepcionista.user, cliente_id=paciente.cliente.pk)
    for usuario in (paciente.cliente.rut, paciente.cliente.email, paciente.username):
        cliente, respuesta = entrar(usuario)
        assert respuesta.status_code == 200
        assert "_auth_user_id" not in cliente.session


def test_personal_no_entra_al_portal_y_se_le_dice_donde_ir(recepcionista):
    recepcionista.user.set_password("clave-de-prueba-1234")
    recepcionista.user.save()
    cliente, respuesta = entrar(recepcionista.user.username, clave="clave-de-prueba-1234")
    assert respuesta.status_code == 200
    assert "sitio de gestión" in respuesta.content.decode()
    assert "_auth_user_id" not in cliente.session


def test_personal_con_sesion_ve_un_403_en_espanol(recepcionista):
    cliente = Client()
    iniciar_sesion(cliente, recepcionista.user)
    respuesta = cliente.get(reverse("portal:inicio"))
    assert respuesta.status_code == 403
    assert "no tiene una ficha de paciente activa" in respuesta.content.decode()


def test_anonimo_va_a_entrar_y_vuelve(paciente):
    respuesta = Client().get(reverse("portal:inicio"))
    assert respuesta.status_code == 302
    assert respuesta["Location"].startswith(ENTRAR)
    assert Client().get("/")["Location"] == reverse("portal:inicio")


def test_bloqueo_cuenta_el_rut_una_vez_aunque_se_escriba_distinto(paciente, settings):
    rut = paciente.cliente.rut
    formas = [rut, rut_con_puntos(rut), rut.replace("-", ""), rut.lower(), f" {rut} "]
    for forma in formas[: settings.AXES_FAILURE_LIMIT - 1]:
        _, respuesta = entrar(forma, clave="mala-clave-0000")
        assert respuesta.status_code == 200
    _, respuesta = entrar(formas[-1], clave="mala-clave-0000")  # the limit-th failure locks
    assert respuesta.status_code == 429
    cliente, respuesta = entrar(rut_con_puntos(rut))  # right password, still locked
    assert respuesta.status_code == 429
    assert "Demasiados intentos fallidos" in respuesta.content.decode()
    assert "Acceso bloqueado por seguridad" in respuesta.content.decode()
    assert "_auth_user_id" not in cliente.session


@pytest.mark.parametrize("basura", ["", " ", "x" * 5000, "<script>alert(1)</script>", "12.345.678-0", "\x00"])
def test_entrada_con_basura_no_da_500(paciente, basura):
    _, respuesta = entrar(basura, clave=basura)
    assert respuesta.status_code in (200, 400)


def test_salir_solo_por_post(portal):
    assert portal.get("/portal/salir/").status_code == 405
    respuesta = portal.post("/portal/salir/")
    assert respuesta.status_code == 302
    assert portal.get(reverse("portal:inicio")).status_code == 302


def test_inicio_muestra_la_proxima_hora(portal, paciente, hora_libre):
    from citas.services import reservar_cita

    reservar_cita(user=paciente, cita_id=hora_libre.pk)
    contenido = portal.get(reverse("portal:inicio")).content.decode()
    assert "Su próxima hora" in contenido
    assert "Hola, Paciente Número 501" in contenido
