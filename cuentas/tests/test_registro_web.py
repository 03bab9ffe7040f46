"""The sign-up that waits for its e-mail (``cuentas.registro``): nothing exists until the link is
used; the link works once, for 48 hours, and only as signed; data taken meanwhile is refused with
nothing created; expired sign-ups are purged by a periodic job."""

import datetime
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from procrastinate.contrib.django import app

from citas.tests.test_services import registrar_paciente
from cuentas import tasks
from cuentas.models import RegistroPendiente
from cuentas.presencial import crear_cliente_presencial
from cuentas.registro import (
    SAL_REGISTRO,
    confirmar_registro_web,
    purgar_registros_vencidos,
    revisar_registro_pendiente,
    solicitar_registro_web,
)
from notificaciones.models import Notificacion
from pacientes.models import Cliente
from pruebas.soporte import confirmar_telefono, huella_bd

pytestmark = pytest.mark.django_db

CLAVE = "Sonrisa-Blanca-77"
DATOS = dict(nombre_completo="Valentina Rojas Pérez", rut="12.345.678-5", email="valentina@correo.example",
             telefono="9 6123 4567", password=CLAVE, fecha_nacimiento=datetime.date(1988, 3, 14),
             acepta_privacidad=True)


def solicitar(**cambios):
    return solicitar_registro_web(**{**DATOS, **cambios})


def token_enviado(email="valentina@correo.example"):
    aviso = Notificacion.objects.filter(plantilla="registro_verificar", destinatario=email).latest("pk")
    return re.search(r"/portal/registro/verificar/([^/\s]+)/", aviso.cuerpo).group(1)


def entrar(identificador):
    return Client().post("/portal/entrar/", {"username": identificador, "password": CLAVE})


def codigo(token):
    with pytest.raises(ValidationError) as error:
        confirmar_registro_web(token=token)
    return error.value.code


def test_nada_existe_hasta_usar_el_enlace_y_la_cuenta_pendiente_no_entra():
    assert solicitar(siguiente="/portal/reservar/7/") == "valentina@correo.example"
    pendiente = RegistroPendiente.objects.get()
    assert pendiente.clave != CLAVE and pendiente.clave.startswith("md5$")  # the hash, never the password
    assert pendiente.vence - pendiente.creado == datetime.timedelta(hours=48)
    assert not get_user_model().objects.exists() and not Cliente.objects.exists()
    for identificador in ("valentina@correo.example", "12.345.678-5"):
        assert entrar(identificador).status_code == 200  # the login page again, with its error

    user, siguiente = confirmar_registro_web(token=token_enviado())
    assert siguiente == "/portal/reservar/7/"
    respuesta = entrar("12.345.678-5")
    assert respuesta.status_code == 302 and respuesta.wsgi_request.user == user
    ficha = Cliente.objects.get(user=user)
    assert ficha.email == "valentina@correo.example" and str(ficha.telefono) == "+56961234567"
    assert user.perfil_cliente.privacidad_aceptada_en == pendiente.creado
    assert not RegistroPendiente.objects.exists()
    assert Notificacion.objects.filter(plantilla="bienvenida", cliente=ficha).exists()


def test_el_enlace_sirve_una_sola_vez():
    solicitar()
    token = token_enviado()
    revisar_registro_pendiente(token=token)  # the GET page uses nothing up
    revisar_registro_pendiente(token=token)
    confirmar_registro_web(token=token)
    antes = huella_bd()
    assert codigo(token) == "enlace_invalido"
    with pytest.raises(ValidationError):
        revisar_registro_pendiente(token=token)
    assert huella_bd() == antes and get_user_model().objects.count() == 1


def test_enlace_vencido_por_la_firma_o_por_la_fila(monkeypatch):
    solicitar()
    token = token_enviado()
    ahora = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: ahora + 48 * 3600 + 1)
    assert codigo(token) == "enlace_vencido"
    monkeypatch.undo()
    RegistroPendiente.objects.update(vence=timezone.now() - datetime.timedelta(seconds=1))
    assert codigo(token) == "enlace_vencido"
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize("alterar", [
    lambda t: t[:-2] + ("aa" if not t.endswith("aa") else "bb"),
    lambda t: "x" + t,
    lambda t: "",
    lambda t: "ñ" * 10,
    lambda t: "a" * 5000,
    lambda t: signing.dumps({"p": 1, "n": "adivinado"}, salt=SAL_REGISTRO, compress=True),
    lambda t: signing.dumps({"p": "1; DROP TABLE", "n": "x"}, salt=SAL_REGISTRO),
    lambda t: signing.dumps({"p": 1, "n": "x"}, salt="otra.sal"),
])
def test_enlace_alterado_se_rechaza_sin_crear_nada(alterar):
    solicitar()
    antes = huella_bd()
    assert codigo(alterar(token_enviado())) == "enlace_invalido"
    assert huella_bd() == antes


@pytest.mark.parametrize("tomar", ["correo", "rut", "telefono"])
def test_datos_tomados_mientras_tanto_no_crean_nada(tomar):
    solicitar()
    token = token_enviado()
    cambios = {"correo": {"email": "valentina@correo.example"}, "rut": {"rut": "12.345.678-5"},
               "telefono": {"telefono": "+56961234567"}}[tomar]
    otro = registrar_paciente(3, **cambios)
    # A number is someone's once confirmed; an unconfirmed claim blocks nobody (pacientes.telefonos).
    confirmar_telefono(user=otro)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        confirmar_registro_web(token=token)
    assert error.value.code == "datos_tomados" and "llame a la clínica" in error.value.messages[0]
    assert huella_bd() == antes


def test_ficha_de_la_clinica_con_el_mismo_correo_se_vincula_al_verificar(recepcionista):
    ficha = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Valentina Rojas",
                                     rut="12345678-5", email="valentina@correo.example", alergias="Látex")
    solicitar()
    user, _ = confirmar_registro_web(token=token_enviado())
    ficha.refresh_from_db()
    assert ficha.user == user and ficha.alergias == "Látex" and Cliente.objects.count() == 1


def test_ficha_cambiada_en_el_mostrador_despues_no_se_vincula(recepcionista):
    """The e-mail on the desk's record changed after the sign-up: linking rules are checked again."""
    ficha = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Valentina Rojas",
                                     rut="12345678-5", email="valentina@correo.example")
    solicitar()
    Cliente.objects.filter(pk=ficha.pk).update(email="otra@correo.example")
    assert codigo(token_enviado()) == "datos_tomados"
    assert Cliente.objects.get().user_id is None


def test_registrar_el_correo_de_otro_no_bloquea_a_su_dueno():
    solicitar(nombre_completo="Intruso Pérez", rut="11.111.111-1", telefono="9 8765 4321")
    solicitar()  # the owner, with their own data: a second pending sign-up, no claim in the way
    suyo = token_enviado()
    confirmar_registro_web(token=suyo)
    assert Cliente.objects.get().rut == "12345678-5"
    intruso = Notificacion.objects.filter(plantilla="registro_verificar").earliest("pk")
    token_intruso = re.search(r"/portal/registro/verificar/([^/\s]+)/", intruso.cuerpo).group(1)
    assert codigo(token_intruso) == "datos_tomados"


def test_purga_los_vencidos_y_deja_los_vigentes():
    solicitar()
    solicitar(email="otra@correo.example")
    RegistroPendiente.objects.filter(email="valentina@correo.example").update(
        vence=timezone.now() - datetime.timedelta(minutes=1))
    assert purgar_registros_vencidos() == 1
    assert list(RegistroPendiente.objects.values_list("email", flat=True)) == ["otra@correo.example"]
    assert purgar_registros_vencidos(ahora=timezone.now() + datetime.timedelta(hours=47)) == 0
    RegistroPendiente.objects.update(vence=timezone.now() - datetime.timedelta(minutes=1))
    tasks.purgar_registros(timestamp=int(time.time()))  # as the worker calls it
    assert not RegistroPendiente.objects.exists()


def test_la_purga_es_un_trabajo_periodico():
    periodicas = {t.periodic_id: t for t in app.periodic_registry.periodic_tasks.values()}
    assert periodicas["purgar_registros"].task.name == "cuentas.purgar_registros"


def test_fallas_al_solicitar(probar_fallas):
    assert probar_fallas(lambda: solicitar()) >= 3


def test_fallas_al_confirmar(probar_fallas):
    solicitar(canal_preferido="sms", acepta_sms=True)
    token = token_enviado()
    assert probar_fallas(lambda: confirmar_registro_web(token=token)) >= 5
