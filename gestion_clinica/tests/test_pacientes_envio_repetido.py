"""The walk-in form sent twice: one patient, and the second submit lands on that patient's page."""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from gestion_clinica.tests.conftest import cliente_de
from notificaciones.models import Notificacion
from pacientes.models import Cliente

User = get_user_model()
NUEVO = reverse("gestion:paciente_nuevo")
AVISO_REPETIDO = "Este paciente ya quedó registrado; no se creó de nuevo."
ALTERADO = "El formulario llegó alterado. Revise los datos y vuelva a enviarlo."


@pytest.fixture
def recepcion(recepcionista):
    return cliente_de(recepcionista.user)


def clave_del_formulario(respuesta):
    """The one-time key the page carries in its hidden input."""
    encontrada = re.search(r'<input type="hidden" name="clave_envio" value="([^"]*)"', respuesta.text)
    assert encontrada, "el formulario no trae su clave de envío"
    return encontrada.group(1)


def datos(clave, **extra):
    return {"nombre_completo": "Rosa Pérez Lagos", "alergias": "", "clave_envio": clave, **extra}


def textos(respuesta):
    return [str(m) for m in get_messages(respuesta.wsgi_request)]


def test_cada_formulario_vacio_trae_una_clave_nueva(recepcion):
    primera, segunda = (clave_del_formulario(recepcion.get(NUEVO)) for _ in range(2))
    assert uuid.UUID(primera) != uuid.UUID(segunda)


def test_doble_envio_crea_un_paciente_y_lleva_a_su_ficha(recepcion):
    clave = clave_del_formulario(recepcion.get(NUEVO))
    primero = recepcion.post(NUEVO, datos(clave))
    cliente = Cliente.objects.get()
    assert primero.status_code == 302 and primero.url == reverse("gestion:paciente", args=[cliente.pk])

    segundo = recepcion.post(NUEVO, datos(clave), follow=True)
    assert segundo.redirect_chain == [(reverse("gestion:paciente", args=[cliente.pk]), 302)]
    assert AVISO_REPETIDO in segundo.text
    assert Cliente.objects.count() == 1


def test_doble_envio_con_invitacion_manda_una_sola(recepcion):
    clave = clave_del_formulario(recepcion.get(NUEVO))
    con_invitacion = datos(clave, email="rosa@correo.example", rut="10.000.013-k", enviar_invitacion="on")
    recepcion.post(NUEVO, con_invitacion, follow=True)  # its success message is shown and gone
    segundo = recepcion.post(NUEVO, con_invitacion)
    cliente = Cliente.objects.get()
    assert segundo.url == reverse("gestion:paciente", args=[cliente.pk])
    assert textos(segundo) == [AVISO_REPETIDO]  # not "rut duplicado", not "invitación enviada"
    assert User.objects.filter(is_staff=False).count() == 1
    assert Notificacion.objects.filter(plantilla="invitacion").count() == 1


def test_la_clave_sobrevive_al_error_y_el_reenvio_corregido_crea_uno(recepcion):
    clave = clave_del_formulario(recepcion.get(NUEVO))
    con_error = recepcion.post(NUEVO, datos(clave, nombre_completo=""))
    assert con_error.status_code == 200 and not Cliente.objects.exists()
    assert clave_del_formulario(con_error) == clave
    corregido = datos(clave)
    recepcion.post(NUEVO, corregido)
    recepcion.post(NUEVO, corregido)
    assert Cliente.objects.count() == 1


def test_claves_distintas_son_dos_pacientes_del_mismo_nombre(recepcion):
    for _ in range(2):
        recepcion.post(NUEVO, datos(clave_del_formulario(recepcion.get(NUEVO))))
    assert Cliente.objects.filter(nombre_completo="Rosa Pérez Lagos").count() == 2


def test_sin_clave_se_comporta_como_antes(recepcion):
    sin_clave = {"nombre_completo": "Rosa Pérez Lagos"}
    assert recepcion.post(NUEVO, sin_clave).status_code == 302
    assert recepcion.post(NUEVO, sin_clave).status_code == 302
    assert Cliente.objects.count() == 2


@pytest.mark.parametrize("clave", [
    "no-es-uuid", "x" * 10_000, "1" * 10_000, "<script>alert(1)</script>", "\x00", "' OR 1=1 --",
])
def test_clave_alterada_da_error_en_espanol_y_no_crea_nada(recepcion, clave):
    respuesta = recepcion.post(NUEVO, datos(clave))
    assert respuesta.status_code == 200
    assert ALTERADO in respuesta.text
    assert not Cliente.objects.exists()
    assert "<script>alert(1)" not in respuesta.text
    # A fresh key comes back, so correcting nothing else and resending works once.
    nueva = clave_del_formulario(respuesta)
    assert uuid.UUID(nueva)
    recepcion.post(NUEVO, datos(nueva))
    recepcion.post(NUEVO, datos(nueva))
    assert Cliente.objects.count() == 1


def test_clave_de_otro_paciente_lleva_a_ese_paciente_sin_cambiarlo(recepcion):
    # A key is only a submit's identity: reusing one never edits the patient who holds it.
    clave = clave_del_formulario(recepcion.get(NUEVO))
    recepcion.post(NUEVO, datos(clave))
    recepcion.post(NUEVO, datos(clave, nombre_completo="Otro Nombre", alergias="Látex"))
    cliente = Cliente.objects.get()
    assert (cliente.nombre_completo, cliente.alergias) == ("Rosa Pérez Lagos", "")
