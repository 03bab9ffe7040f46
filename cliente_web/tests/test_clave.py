"""Forgotten password and the one-time link: same answer for everyone, invited accounts served,
the link logs the patient in once and then stops working. End to end through a real SMTP server."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from cliente_web.tests.conftest import CLAVE_PACIENTE
from cuentas.tokens import enlace_activacion
from notificaciones.models import Notificacion
from cuentas.tasks import restablecer_clave
from pruebas.soporte import ejecutar_worker, huella_bd, trabajos
from cuentas.presencial import crear_cliente_presencial
from pacientes.services import desactivar_cliente

pytestmark = pytest.mark.django_db

RECUPERAR = "/portal/recuperar/"
RESPUESTA_UNICA = "Si los datos corresponden a una cuenta, le enviamos un correo"
NUEVA = "Cepillo-Nuevo-2027"


def pedir(identificador, cliente=None):
    cliente = cliente or Client()
    respuesta = cliente.post(RECUPERAR, {"identificador": identificador}, follow=True)
    return respuesta


def ruta(enlace):
    return re.sub(r"^https?://[^/]+", "", enlace)


def test_la_pagina_pide_rut_o_correo(db):
    html = Client().get(RECUPERAR).content.decode()
    assert "Recuperar su contraseña" in html and "RUT o correo electrónico" in html


def test_el_enlace_de_olvido_aparece_al_entrar(db):
    assert reverse("portal:recuperar_clave") in Client().get("/portal/entrar/").content.decode()


@pytest.mark.parametrize("existe", [True, False])
def test_misma_respuesta_exista_o_no_la_cuenta(paciente, existe, cola_vacia):
    identificador = paciente.cliente.rut if existe else "nadie@correo.example"
    respuesta = pedir(identificador)
    assert respuesta.redirect_chain == [(reverse("portal:recuperar_clave_enviado"), 302)]
    assert RESPUESTA_UNICA in respuesta.content.decode()
    # The request only queued the lookup: the same single job for a known and an unknown account.
    assert not Notificacion.objects.filter(plantilla="restablecer_clave").exists()
    (trabajo,) = trabajos(tarea="cuentas.restablecer_clave")
    assert trabajo["args"] == {"identificador": identificador}
    restablecer_clave(**trabajo["args"])  # what the worker runs
    assert Notificacion.objects.filter(plantilla="restablecer_clave").exists() is existe


@pytest.mark.parametrize(
    ("identificador", "mensaje"),
    [
        ("", "Escriba su RUT o su correo electrónico."),
        ("   ", "Escriba su RUT o su correo electrónico."),
        ("x" * 10_000, "El texto es demasiado largo."),
        ("<script>alert(1)</script>", "Escriba su RUT (por ejemplo 12.345.678-5) o su correo electrónico."),
        ("12.345.678-0", "Escriba su RUT (por ejemplo 12.345.678-5) o su correo electrónico."),
        ("@@", "Escriba su RUT (por ejemplo 12.345.678-5) o su correo electrónico."),
    ],
)
def test_datos_malos_dan_error_en_espanol_sin_500(paciente, identificador, mensaje):
    antes = huella_bd()
    respuesta = Client().post(RECUPERAR, {"identificador": identificador})
    assert respuesta.status_code == 200
    html = respuesta.content.decode()
    assert mensaje in html and "<script>alert(1)</script>" not in html
    assert huella_bd() == antes


def test_enlace_valido_pide_clave_y_deja_dentro(paciente):
    cliente = Client()
    respuesta = cliente.get(ruta(enlace_activacion(paciente)), follow=True)
    assert "Elegir su contraseña" in respuesta.content.decode() and "Guardar y entrar" in respuesta.content.decode()
    url_form = respuesta.redirect_chain[-1][0]
    respuesta = cliente.post(url_form, {"new_password1": NUEVA, "new_password2": NUEVA})
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:inicio")
    assert "Ya está dentro del portal" in cliente.get(reverse("portal:inicio")).content.decode()
    paciente.refresh_from_db()
    assert paciente.check_password(NUEVA)


@pytest.mark.parametrize(
    ("datos", "mensaje"),
    [
        ({"new_password1": "", "new_password2": ""}, "obligatorio"),
        ({"new_password1": NUEVA, "new_password2": "otra-cosa-123"}, "Las contraseñas no coinciden."),
        ({"new_password1": "12345678", "new_password2": "12345678"}, "completamente numérica"),
        ({"new_password1": "x" * 10_000, "new_password2": "x" * 10_000}, "no puede superar 128"),
    ],
)
def test_clave_nueva_mala_se_rechaza_sin_cambios(paciente, datos, mensaje):
    cliente = Client()
    url_form = cliente.get(ruta(enlace_activacion(paciente)), follow=True).redirect_chain[-1][0]
    respuesta = cliente.post(url_form, datos)
    assert respuesta.status_code == 200 and mensaje in respuesta.content.decode()
    paciente.refresh_from_db()
    assert paciente.check_password(CLAVE_PACIENTE)


def test_enlace_invalido_ofrece_pedir_otro(paciente):
    for url in ("/portal/activar/xx/yy/", ruta(enlace_activacion(paciente))[:-4] + "abc/", "/portal/activar/MQ/definir-clave/"):
        html = Client().get(url, follow=True).content.decode()
        assert "Este enlace no es válido" in html and reverse("portal:recuperar_clave") in html


def test_enlace_de_personal_o_de_paciente_desactivado_no_sirve_aqui(recepcionista, paciente):
    enlace_paciente = ruta(enlace_activacion(paciente))
    desactivar_cliente(actor=recepcionista.user, cliente_id=paciente.cliente.pk)
    for enlace in (ruta(enlace_activacion(recepcionista.user)), enlace_paciente):
        html = Client().get(enlace, follow=True).content.decode()
        assert "Este enlace no es válido" in html


@pytest.mark.django_db(transaction=True)
def test_de_punta_a_punta_con_el_servidor_smtp(servidor_smtp, cola_vacia, paciente):
    pedir(f"  {paciente.cliente.email.upper()} ")
    pedir(paciente.cliente.rut)  # a second request inside 15 minutes sends nothing new
    ejecutar_worker()
    (mensaje,) = [m for m in servidor_smtp.para(paciente.cliente.email) if "cambie su contraseña" in m.asunto]
    enlace = re.search(r"https?://\S+/portal/activar/\S+/", mensaje.cuerpo).group(0)

    cliente = Client()
    url_form = cliente.get(ruta(enlace), follow=True).redirect_chain[-1][0]
    assert cliente.post(url_form, {"new_password1": NUEVA, "new_password2": NUEVA})["Location"] == "/portal/"
    assert cliente.get("/portal/").status_code == 200  # logged in
    html = Client().get(ruta(enlace), follow=True).content.decode()
    assert "Este enlace no es válido" in html  # used once, dead
    nuevo = Client()
    assert nuevo.post("/portal/entrar/", {"username": paciente.cliente.rut, "password": NUEVA}).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_invitado_sin_clave_recupera_y_entra(servidor_smtp, cola_vacia, recepcionista):
    ficha = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Ana Gómez", rut="12.345.678-5",
                                     email="ana@correo.example", enviar_invitacion=True)
    pedir("12345678-5")
    ejecutar_worker()
    asuntos = [m.asunto for m in servidor_smtp.para("ana@correo.example")]
    assert len(asuntos) == 2 and any("cambie su contraseña" in a for a in asuntos)  # invitation + reset
    cuerpo = next(m.cuerpo for m in servidor_smtp.para("ana@correo.example") if "cambie" in m.asunto)
    enlace = re.search(r"https?://\S+/portal/activar/\S+/", cuerpo).group(0)
    cliente = Client()
    url_form = cliente.get(ruta(enlace), follow=True).redirect_chain[-1][0]
    assert cliente.post(url_form, {"new_password1": NUEVA, "new_password2": NUEVA}).status_code == 302
    assert get_user_model().objects.get(pk=ficha.user_id).has_usable_password()
    assert "Hola, Ana Gómez" in cliente.get("/portal/").content.decode()
