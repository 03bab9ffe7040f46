"""Issue 14: an account locked by "No fui yo" has its state on the staff patient page and a
"Desbloquear cuenta" button (``cuentas.services.desbloquear_cuenta``): the login comes back
with its password made unusable and a set-password link to the e-mail on file, audited."""

import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from citas.tests.test_services import PASSWORD, registrar_paciente
from cuentas.models import PerfilCliente
from cuentas.presencial import crear_cliente_presencial
from cuentas.services import (
    actualizar_contacto_del_paciente,
    deshacer_cambio_de_correo,
    desbloquear_cuenta,
    token_deshacer_cambio_de_correo,
)
from gestion_clinica.tests.conftest import cliente_de
from notificaciones.models import Notificacion
from pacientes.models import Cliente
from pacientes.services import desactivar_cliente
from pruebas.soporte import ejecutar_worker, huella_bd

pytestmark = pytest.mark.django_db

NUEVA = "Cepillo-Nuevo-2027"
User = get_user_model()


def entra(usuario, clave=PASSWORD) -> bool:
    return Client().post("/portal/entrar/", {"username": usuario, "password": clave}).status_code == 302


def bloquear(user):
    """What "No fui yo" does: the undo link of a (pretended) change request, pressed."""
    cliente = Cliente.objects.get(user=user)
    deshacer_cambio_de_correo(token=token_deshacer_cambio_de_correo(cliente=cliente, nonce="n1"))
    user.refresh_from_db()
    assert not user.is_active
    return cliente


def url(cliente):
    return reverse("gestion:paciente_desbloquear", args=[cliente.pk])


def test_la_ficha_muestra_el_bloqueo_con_su_fecha_y_el_boton(recepcionista, django_assert_max_num_queries):
    user = registrar_paciente(1)
    ficha = reverse("gestion:paciente", args=[user.cliente.pk])
    staff = cliente_de(recepcionista.user)
    html = staff.get(ficha).content.decode()
    assert 'id="cuenta-bloqueada"' not in html and url(user.cliente) not in html
    cliente = bloquear(user)
    desde = PerfilCliente.objects.get(user=user).bloqueada_en
    assert desde is not None
    html = staff.get(ficha).content.decode()
    assert "Cuenta del portal bloqueada por revisión" in html
    assert f"(No fui yo, {timezone.localtime(desde):%d-%m-%Y %H:%M})" in html
    assert f'action="{url(cliente)}"' in html and "Desbloquear cuenta" in html
    assert "Bloqueada por revisión" in html  # the "Portal" line of the contact card


def test_el_dentista_ve_el_estado_pero_no_el_boton(dentista):
    user = registrar_paciente(1)
    cliente = bloquear(user)
    staff = cliente_de(dentista.user)
    html = staff.get(reverse("gestion:paciente", args=[cliente.pk])).content.decode()
    assert "Cuenta del portal bloqueada por revisión" in html and url(cliente) not in html
    antes = huella_bd()
    assert staff.post(url(cliente)).status_code == 403
    assert huella_bd() == antes


def test_solo_post(recepcionista):
    cliente = bloquear(registrar_paciente(1))
    staff = cliente_de(recepcionista.user)
    antes = huella_bd()
    assert staff.get(url(cliente)).status_code == 405
    assert huella_bd() == antes


def test_un_paciente_desactivado_no_muestra_bloqueo(recepcionista):
    """Deactivating turns the login off with the record: that is not a review lock, and
    "Reactivar" is its way back."""
    user = registrar_paciente(1)
    desactivar_cliente(actor=recepcionista.user, cliente_id=user.cliente.pk)
    html = cliente_de(recepcionista.user).get(reverse("gestion:paciente", args=[user.cliente.pk])).content.decode()
    assert 'id="cuenta-bloqueada"' not in html


@pytest.mark.django_db(transaction=True)
def test_recepcion_desbloquea_y_la_clave_del_intruso_ya_no_sirve(servidor_smtp, cola_vacia, recepcionista):
    """The intruder knew the password (a contact change needs it): after the unlock it no longer
    works; the owner sets a new one from the link sent to the e-mail on file."""
    user = registrar_paciente(1)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())  # the account was in use
    correo = user.cliente.email
    cliente = bloquear(user)
    assert not entra(correo)

    respuesta = cliente_de(recepcionista.user).post(url(cliente), follow=True)
    html = respuesta.content.decode()
    assert "Cuenta del portal desbloqueada" in html and correo in html and 'id="cuenta-bloqueada"' not in html
    user.refresh_from_db()
    assert user.is_active and not user.has_usable_password()
    assert PerfilCliente.objects.get(user=user).bloqueada_en is None
    assert not entra(correo)  # the old password is dead
    assert "{#" not in html and "Reenviar invitación" not in html  # unlocked, not invited

    # Audited: who unlocked it, in which service.
    evento = (apps.get_model("cuentas", "UserEvent").objects.filter(pgh_obj_id=user.pk, is_active=True)
              .select_related("pgh_context").latest("pgh_id"))
    assert evento.pgh_context.metadata["servicio"] == "desbloquear_cuenta"
    assert evento.pgh_context.metadata["user"] == recepcionista.user.pk

    ejecutar_worker()
    (mensaje,) = [m for m in servidor_smtp.para(correo) if "desbloqueada" in m.asunto]
    assert "su contraseña anterior ya no sirve" in mensaje.cuerpo
    enlace = re.search(r"https?://\S+(/portal/activar/\S+/)", mensaje.cuerpo).group(1)
    dueno = Client()
    formulario = dueno.get(enlace, follow=True).redirect_chain[-1][0]
    assert dueno.post(formulario, {"new_password1": NUEVA, "new_password2": NUEVA})["Location"] == "/portal/"
    assert entra(correo, NUEVA) and not entra(correo)


def test_rechazos_no_cambian_nada(recepcionista):
    sin_cuenta = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Sin Cuenta")
    activa = registrar_paciente(1)
    desactivada = registrar_paciente(2)
    bloquear(desactivada)
    desactivar_cliente(actor=recepcionista.user, cliente_id=desactivada.cliente.pk)
    staff = cliente_de(recepcionista.user)
    for cliente, codigo in ((sin_cuenta, "sin_cuenta"), (activa.cliente, "no_bloqueada"),
                            (Cliente.objects.get(user=desactivada), "cliente_inactivo")):
        antes = huella_bd()
        with pytest.raises(ValidationError) as error:
            desbloquear_cuenta(actor=recepcionista.user, cliente_id=cliente.pk)
        assert error.value.code == codigo
        assert huella_bd() == antes
        html = staff.post(url(cliente), follow=True).content.decode()
        assert error.value.messages[0] in html
        assert huella_bd() == antes
    assert staff.post(reverse("gestion:paciente_desbloquear", args=[999999])).status_code == 404


def test_desbloquear_dos_veces_envia_un_solo_enlace(recepcionista):
    cliente = bloquear(registrar_paciente(1))
    desbloquear_cuenta(actor=recepcionista.user, cliente_id=cliente.pk)
    with pytest.raises(ValidationError) as error:
        desbloquear_cuenta(actor=recepcionista.user, cliente_id=cliente.pk)
    assert error.value.code == "no_bloqueada"
    assert Notificacion.objects.filter(cliente=cliente, plantilla="cuenta_desbloqueada").count() == 1


def test_fallas_en_desbloquear(probar_fallas, recepcionista):
    cliente = bloquear(registrar_paciente(1))
    assert probar_fallas(lambda: desbloquear_cuenta(actor=recepcionista.user, cliente_id=cliente.pk)) >= 3


def test_no_fui_yo_tras_un_cambio_de_celular_tambien_queda_en_la_ficha(recepcionista):
    """The phone-change notice's "No fui yo" (issue 14) locks the account the same way."""
    user = registrar_paciente(1)
    actualizar_contacto_del_paciente(user=user, email=user.cliente.email, telefono="+56 9 6123 4567",
                                     password=PASSWORD)
    aviso = Notificacion.objects.get(cliente=user.cliente, plantilla="cambio_celular_aviso")
    token = re.search(r"/portal/cuenta/correo-deshacer/([^/\s]+)/", aviso.cuerpo).group(1)
    deshacer_cambio_de_correo(token=token)
    html = cliente_de(recepcionista.user).get(reverse("gestion:paciente", args=[user.cliente.pk])).content.decode()
    assert "Cuenta del portal bloqueada por revisión" in html
