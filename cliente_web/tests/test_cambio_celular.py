"""Issue 14: a phone change on the portal is told to the e-mail on file (never only to the new
number), with a "No fui yo" link that locks the account for the clinic's review."""

import re

import pytest
from django.test import Client

from cliente_web.tests.conftest import CLAVE_PACIENTE, cliente_de
from notificaciones.models import Notificacion
from pacientes.models import Cliente
from pruebas.soporte import ejecutar_worker, huella_bd

pytestmark = pytest.mark.django_db

CONTACTO = "/portal/cuenta/contacto/"
NUEVO_CELULAR = "+56 9 6123 4567"
DESHACER = re.compile(r"https?://[^\s]+(/portal/cuenta/correo-deshacer/[^/\s]+/)")


def cambiar(portal, paciente, **cambios):
    datos = {"email": paciente.cliente.email, "telefono": NUEVO_CELULAR, "fecha_nacimiento": "",
             "password": CLAVE_PACIENTE, **cambios}
    respuesta = portal.post(CONTACTO, datos)
    assert respuesta.status_code == 302, respuesta.content.decode()[:2000]


def avisos(paciente):
    return Notificacion.objects.filter(cliente_id=paciente.cliente.pk, plantilla="cambio_celular_aviso")


@pytest.mark.django_db(transaction=True)
def test_el_aviso_llega_al_correo_y_no_fui_yo_bloquea_la_cuenta(servidor_smtp, cola_vacia, paciente):
    correo = paciente.cliente.email
    ladron = cliente_de(paciente)
    cambiar(ladron, paciente)
    ejecutar_worker()
    (aviso,) = [m for m in servidor_smtp.para(correo) if "celular" in m.asunto]
    assert "se cambió el celular de su cuenta" in aviso.asunto
    assert "el nuevo termina en 4567" in aviso.cuerpo and "6123 4567" not in aviso.cuerpo
    assert "llame a la clínica al" in aviso.cuerpo
    assert (avisos(paciente).get().canal, avisos(paciente).get().destinatario) == ("email", correo)

    ruta = DESHACER.search(aviso.cuerpo).group(1)
    dueno = Client()
    antes = huella_bd()
    pagina = dueno.get(ruta).content.decode()
    assert "Se cambió el celular de su cuenta del portal" in pagina and "No fui yo: bloquear mi cuenta" in pagina
    assert "cambiar el correo" not in pagina
    assert huella_bd() == antes  # a mail scanner's GET changes nothing
    hecho = dueno.post(ruta).content.decode()
    assert "bloqueamos su cuenta" in hecho and "Llame a la clínica" in hecho
    ficha = Cliente.objects.select_related("user").get(pk=paciente.cliente.pk)
    assert not ficha.user.is_active and ficha.email == correo
    assert ladron.get("/portal/cuenta/").status_code == 302  # the intruder's session is over
    ejecutar_worker()
    (bloqueo,) = [m for m in servidor_smtp.para(correo) if "bloqueamos" in m.asunto]
    assert "bloqueamos su cuenta del portal" in bloqueo.asunto and "anulamos el cambio de correo" not in bloqueo.asunto
    assert "celular" in bloqueo.cuerpo


def test_sin_cambio_de_celular_no_hay_aviso(portal, paciente):
    cambiar(portal, paciente, telefono=str(paciente.cliente.telefono), fecha_nacimiento="1990-01-31")
    cambiar(portal, paciente, telefono="+56 9 6000 0501")  # the same number, written another way
    assert not avisos(paciente).exists()


def test_con_correo_y_celular_nuevos_el_aviso_va_al_correo_actual(portal, paciente):
    actual = paciente.cliente.email
    cambiar(portal, paciente, email="otro.correo@correo.example")
    (aviso,) = avisos(paciente)
    assert aviso.destinatario == actual
    assert Notificacion.objects.filter(plantilla="cambio_correo_aviso", destinatario=actual).exists()


def test_sin_clave_no_cambia_ni_avisa(portal, paciente):
    antes = huella_bd()
    respuesta = portal.post(CONTACTO, {"email": paciente.cliente.email, "telefono": NUEVO_CELULAR,
                                       "fecha_nacimiento": "", "password": "otra"})
    assert respuesta.status_code == 200
    assert huella_bd() == antes
