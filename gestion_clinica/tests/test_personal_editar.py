"""Editing a staff member from /gestion/personal/ (``editar_personal``)."""

import pytest
from django.urls import reverse

from gestion_clinica.tests.conftest import cliente_de
from personal.models import Perfil, Rol
from pruebas.soporte import huella_bd


def url(perfil):
    return reverse("gestion:personal_editar", args=[perfil.pk])


@pytest.fixture
def admin_cliente(administrador):
    return cliente_de(administrador.user)


def test_la_lista_enlaza_a_editar(admin_cliente, recepcionista):
    respuesta = admin_cliente.get(reverse("gestion:personal"))
    assert f'href="{url(recepcionista)}"' in respuesta.text


def test_formulario_con_los_datos_actuales(admin_cliente, dentista):
    Perfil.objects.filter(pk=dentista.pk).update(especialidad="Endodoncia")
    respuesta = admin_cliente.get(url(dentista))
    assert respuesta.status_code == 200
    assert 'value="Camila"' in respuesta.text and 'value="Soto"' in respuesta.text
    assert 'value="Endodoncia"' in respuesta.text
    assert '<option value="dentista" selected>' in respuesta.text


def test_guarda_y_vuelve_a_la_lista(admin_cliente, recepcionista):
    respuesta = admin_cliente.post(url(recepcionista), {
        "nombre": "Pedro", "apellido": "Rojas Lillo", "rol": Rol.ADMINISTRADOR, "especialidad": ""}, follow=True)
    assert "Se guardaron los datos de Pedro Rojas Lillo." in respuesta.text
    recepcionista.refresh_from_db()
    assert recepcionista.rol == Rol.ADMINISTRADOR and recepcionista.user.last_name == "Rojas Lillo"


def test_ultimo_administrador_mensaje_y_nada_cambia(superusuario, administrador):
    cliente = cliente_de(superusuario)
    antes = huella_bd()
    respuesta = cliente.post(url(administrador), {"nombre": "Ana", "apellido": "Admin", "rol": Rol.RECEPCION})
    assert respuesta.status_code == 200
    assert "Es el último administrador activo" in respuesta.text
    assert huella_bd() == antes


@pytest.mark.parametrize("datos, mensaje", [
    ({"nombre": "", "apellido": "Soto", "rol": "dentista"}, "Ingrese el nombre."),
    ({"nombre": "Camila", "apellido": "Soto", "rol": "jefe"}, "Rol desconocido."),
    ({"nombre": "C", "apellido": "Soto", "rol": "dentista"}, "El nombre es demasiado corto."),
])
def test_datos_malos_mensaje_y_nada_cambia(admin_cliente, dentista, datos, mensaje):
    antes = huella_bd()
    respuesta = admin_cliente.post(url(dentista), datos)
    assert respuesta.status_code == 200 and mensaje in respuesta.text
    assert huella_bd() == antes


def test_miembro_inexistente_404(admin_cliente):
    assert admin_cliente.get(reverse("gestion:personal_editar", args=[987654321])).status_code == 404
