"""A patient's new e-mail proves itself before it becomes their login: the portal's request
(``actualizar_contacto_del_paciente``) and the link's confirmation (``confirmar_cambio_de_correo``),
with every way a link can be refused, each by its code and with nothing changed."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from pghistory.models import Context

from citas.tests.test_services import PASSWORD, registrar_paciente
from cuentas.models import PerfilCliente
from notificaciones.models import Canal
from cuentas.services import (
    SAL_CAMBIO_CORREO,
    SAL_DESHACER_CORREO,
    deshacer_cambio_de_correo,
    revisar_deshacer_cambio_de_correo,
    actualizar_contacto_del_paciente,
    actualizar_preferencias,
    confirmar_cambio_de_correo,
    revisar_cambio_de_correo,
    token_cambio_de_correo,
)
from notificaciones.models import Notificacion
from pruebas.soporte import huella_bd
from pacientes.models import Cliente
from pacientes.services import actualizar_cliente, desactivar_cliente
from personal.models import Rol

User = get_user_model()
pytestmark = pytest.mark.django_db

NUEVO = "nuevo.correo@correo.example"


def pedir(user, email=NUEVO, **otros):
    cliente = Cliente.objects.get(user=user)
    datos = {"email": email, "telefono": str(cliente.telefono), "fecha_nacimiento": None, "password": PASSWORD,
             **otros}
    return actualizar_contacto_del_paciente(user=user, **datos)


def token_enviado(cliente_id):
    """The token of the newest link recorded for this patient."""
    aviso = Notificacion.objects.filter(cliente_id=cliente_id, plantilla="cambio_correo_confirmar").latest("pk")
    return re.search(r"/portal/cuenta/correo/([^/\s]+)/", aviso.cuerpo).group(1)


def firmado_hace(token, segundos):
    """The same data signed ``segundos`` ago (what a link that old carries)."""
    datos = signing.loads(token, salt=SAL_CAMBIO_CORREO)

    class Firmador(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - segundos)

    return Firmador(salt=SAL_CAMBIO_CORREO).sign_object(datos, compress=True)


def rechazo(token):
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        confirmar_cambio_de_correo(token=token)
    assert huella_bd() == antes
    return error.value


# The request -----------------------------------------------------------------------------------


def test_pedir_guarda_lo_demas_y_registra_dos_correos_sin_cambiar_el_login(db):
    user = registrar_paciente(1)
    anterior = user.cliente.email
    assert pedir(user, email=f"  {NUEVO.upper()} ", telefono="+56 9 6123 4567") == NUEVO
    ficha = Cliente.objects.select_related("user").get(pk=user.cliente.pk)
    assert ficha.email == anterior and ficha.user.email == ficha.user.username == anterior
    assert str(ficha.telefono) == "+56961234567"
    enlace = Notificacion.objects.get(plantilla="cambio_correo_confirmar")
    aviso = Notificacion.objects.get(plantilla="cambio_correo_aviso")
    assert (enlace.canal, enlace.destinatario, enlace.cliente_id) == (Canal.EMAIL, NUEVO, ficha.pk)
    assert (aviso.canal, aviso.destinatario, aviso.cliente_id) == (Canal.EMAIL, anterior, ficha.pk)
    assert "/portal/cuenta/correo/" in enlace.cuerpo and "24 horas" in enlace.cuerpo
    assert "/portal/cuenta/correo/" not in aviso.cuerpo and NUEVO not in aviso.cuerpo
    assert "llame a la clínica al" in aviso.cuerpo


def test_solo_por_correo_aunque_el_paciente_prefiera_whatsapp(db):
    user = registrar_paciente(1)
    actualizar_preferencias(user=user, canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True, acepta_sms=False)
    pedir(user)
    assert set(Notificacion.objects.filter(plantilla__startswith="cambio_correo").values_list("canal", flat=True)) \
        == {Canal.EMAIL}


def test_mismo_correo_en_otra_forma_no_es_un_cambio(db):
    user = registrar_paciente(1)
    assert pedir(user, email=user.cliente.email.upper()) == ""
    assert not Notificacion.objects.filter(plantilla__startswith="cambio_correo").exists()


@pytest.mark.parametrize(("email", "codigo"), [
    ("", "email_obligatorio"), ("sin-arroba", "email_invalido"), ("<script>@x.cl", "email_invalido"),
    ("paciente2@correo.example", "email_duplicado"),
])
def test_pedir_con_un_correo_malo_o_ajeno_no_cambia_nada(db, email, codigo):
    user = registrar_paciente(1)
    registrar_paciente(2)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        pedir(user, email=email)
    assert [e.code for e in error.value.error_dict["email"]] == [codigo]
    assert huella_bd() == antes


def test_pedir_el_correo_de_una_cuenta_del_personal_se_rechaza(db, crear_personal):
    user = registrar_paciente(1)
    personal = crear_personal(rol=Rol.RECEPCION, nombre="Rita", apellido="Rojas")
    User.objects.filter(pk=personal.user.pk).update(email=NUEVO)
    with pytest.raises(ValidationError) as error:
        pedir(user)
    assert [e.code for e in error.value.error_dict["email"]] == ["cuenta_duplicada"]


def test_sin_ficha_activa(db, recepcionista):
    user = registrar_paciente(1)
    desactivar_cliente(actor=recepcionista.user, cliente_id=user.cliente.pk)
    with pytest.raises(ValidationError) as error:
        pedir(user)
    assert error.value.code == "sin_ficha"


# The confirmation ------------------------------------------------------------------------------


def test_confirmar_cambia_ficha_y_login_juntos_una_sola_vez(db):
    user = registrar_paciente(1)
    pedir(user)
    token = token_enviado(user.cliente.pk)
    revision = revisar_cambio_de_correo(token=token)
    assert (revision.nuevo, revision.ya_confirmado, revision.nombre) == (NUEVO, False, "Paciente")
    cambio = confirmar_cambio_de_correo(token=token)
    assert cambio.nuevo == NUEVO
    ficha = Cliente.objects.select_related("user").get(pk=user.cliente.pk)
    assert ficha.email == ficha.user.email == ficha.user.username == NUEVO
    assert rechazo(token).code == "ya_confirmado"
    assert revisar_cambio_de_correo(token=token).ya_confirmado is True


def test_vale_24_horas(db):
    user = registrar_paciente(1)
    pedir(user)
    token = token_enviado(user.cliente.pk)
    assert rechazo(firmado_hace(token, 24 * 3600 + 5)).code == "enlace_vencido"
    with pytest.raises(ValidationError) as error:
        revisar_cambio_de_correo(token=firmado_hace(token, 24 * 3600 + 5))
    assert error.value.code == "enlace_vencido"
    confirmar_cambio_de_correo(token=firmado_hace(token, 23 * 3600 + 55 * 60))
    assert Cliente.objects.get(pk=user.cliente.pk).email == NUEVO


def _otro_correo(token, correo):
    datos = signing.loads(token, salt=SAL_CAMBIO_CORREO)
    datos["e"] = correo
    return datos


@pytest.mark.parametrize("forma", [
    "vacio", "basura", "un_caracter_cambiado", "otra_sal", "otra_forma", "id_booleano", "muy_largo", "no_ascii",
    "correo_cambiado_en_el_token",
])
def test_enlace_alterado_o_basura_es_invalido(db, forma):
    user = registrar_paciente(1)
    pedir(user)
    token = token_enviado(user.cliente.pk)
    medio = len(token) // 2
    malo = {
        "vacio": "",
        "basura": "no-es-valido",
        "un_caracter_cambiado": token[:medio] + ("A" if token[medio] != "A" else "B") + token[medio + 1:],
        "otra_sal": signing.dumps(signing.loads(token, salt=SAL_CAMBIO_CORREO), salt="otra"),
        "otra_forma": signing.dumps([user.cliente.pk, NUEVO], salt=SAL_CAMBIO_CORREO),
        "id_booleano": signing.dumps({**signing.loads(token, salt=SAL_CAMBIO_CORREO), "c": True},
                                     salt=SAL_CAMBIO_CORREO),
        "muy_largo": token + "a" * 5000,
        "no_ascii": token + "ñ",
        # Re-signed with another key: only the server's key makes a valid token.
        "correo_cambiado_en_el_token": signing.dumps(_otro_correo(token, "atacante@correo.example"),
                                                     salt=SAL_CAMBIO_CORREO, key="otra-clave" * 5),
    }[forma]
    assert rechazo(malo).code == "enlace_invalido"


def test_un_enlace_antiguo_no_sirve_tras_pedir_otro(db):
    user = registrar_paciente(1)
    pedir(user, email="primero@correo.example")
    primero = token_enviado(user.cliente.pk)
    pedir(user, email="segundo@correo.example")
    assert rechazo(primero).code == "enlace_reemplazado"
    confirmar_cambio_de_correo(token=token_enviado(user.cliente.pk))
    assert Cliente.objects.get(pk=user.cliente.pk).email == "segundo@correo.example"


def test_un_enlace_viejo_no_deshace_un_cambio_posterior(db):
    """A → B (confirmed), B → A (confirmed): B's link, though A is the account's e-mail again,
    cannot take it back to B."""
    user = registrar_paciente(1)
    original = user.cliente.email
    pedir(user)
    hacia_nuevo = token_enviado(user.cliente.pk)
    confirmar_cambio_de_correo(token=hacia_nuevo)
    pedir(User.objects.get(pk=user.pk), email=original)
    confirmar_cambio_de_correo(token=token_enviado(user.cliente.pk))
    assert rechazo(hacia_nuevo).code == "enlace_reemplazado"
    assert Cliente.objects.get(pk=user.cliente.pk).email == original


def test_si_el_correo_cambia_en_la_clinica_el_enlace_muere(db, recepcionista):
    user = registrar_paciente(1)
    pedir(user)
    token = token_enviado(user.cliente.pk)
    ficha = Cliente.objects.get(pk=user.cliente.pk)
    actualizar_cliente(actor=recepcionista.user, cliente_id=ficha.pk, nombre_completo=ficha.nombre_completo,
                       email="de.la.clinica@correo.example", telefono=str(ficha.telefono), rut=ficha.rut)
    assert rechazo(token).code == "enlace_reemplazado"


def test_correo_tomado_entretanto_por_otro_paciente(db, recepcionista):
    user = registrar_paciente(1)
    otro = registrar_paciente(2).cliente
    pedir(user)
    token = token_enviado(user.cliente.pk)
    actualizar_cliente(actor=recepcionista.user, cliente_id=otro.pk, nombre_completo=otro.nombre_completo,
                       email=NUEVO, telefono=str(otro.telefono), rut=otro.rut)
    error = rechazo(token)
    assert error.code == "email_duplicado" and "llame a la clínica" in error.messages[0]
    assert Cliente.objects.get(pk=user.cliente.pk).email == user.cliente.email


def test_correo_tomado_entretanto_por_una_cuenta_del_personal(db, crear_personal):
    user = registrar_paciente(1)
    pedir(user)
    token = token_enviado(user.cliente.pk)
    personal = crear_personal(rol=Rol.DENTISTA, nombre="Luis", apellido="Muñoz")
    User.objects.filter(pk=personal.user.pk).update(email=NUEVO.upper())
    assert rechazo(token).code == "cuenta_duplicada"


def test_paciente_desactivado_o_sin_cuenta(db, recepcionista):
    user = registrar_paciente(1)
    pedir(user)
    token = token_enviado(user.cliente.pk)
    desactivar_cliente(actor=recepcionista.user, cliente_id=user.cliente.pk)
    assert rechazo(token).code == "enlace_invalido"
    sin_pedido = token_cambio_de_correo(cliente=registrar_paciente(3).cliente, nuevo=NUEVO)
    assert rechazo(sin_pedido).code == "enlace_reemplazado"  # well signed, but never requested


def test_la_confirmacion_queda_en_la_auditoria_con_su_usuario(db):
    user = registrar_paciente(1)
    pedir(user)
    confirmar_cambio_de_correo(token=token_enviado(user.cliente.pk))
    contexto = Context.objects.filter(metadata__servicio="confirmar_cambio_de_correo").get()
    assert contexto.metadata["user"] == user.pk
    assert PerfilCliente.objects.filter(user_id=user.pk).exists()


# "It was not me": the old address undoes the change and locks the account -------------------


def token_deshacer(cliente_id):
    aviso = Notificacion.objects.filter(cliente_id=cliente_id, plantilla="cambio_correo_aviso").latest("pk")
    return re.search(r"/portal/cuenta/correo-deshacer/([^/\s]+)/", aviso.cuerpo).group(1)


@pytest.mark.parametrize("confirmado_antes", [False, True])
def test_deshacer_desde_el_correo_anterior_restituye_y_bloquea(db, confirmado_antes):
    user = registrar_paciente(1)
    anterior = user.cliente.email
    pedir(user)
    aviso = Notificacion.objects.get(plantilla="cambio_correo_aviso")
    assert aviso.destinatario == anterior and "llame a la clínica" in aviso.cuerpo
    confirmar = token_enviado(user.cliente.pk)
    if confirmado_antes:  # the thief confirmed at once: the undo still works
        confirmar_cambio_de_correo(token=confirmar)
        assert Cliente.objects.get(pk=user.cliente.pk).email == NUEVO
    deshacer = token_deshacer(user.cliente.pk)
    assert not revisar_deshacer_cambio_de_correo(token=deshacer).ya_bloqueada
    resultado = deshacer_cambio_de_correo(token=deshacer)
    assert resultado.anterior == anterior and not resultado.ya_bloqueada
    ficha = Cliente.objects.select_related("user").get(pk=user.cliente.pk)
    assert ficha.email == ficha.user.username == ficha.user.email == anterior
    assert not ficha.user.is_active and ficha.activo  # the login is locked, the record stays
    aviso = Notificacion.objects.get(plantilla="cambio_correo_deshecho")
    assert aviso.destinatario == anterior and "bloqueada" in aviso.cuerpo
    # The thief's confirmation link is dead, and so is the login (password reset included).
    antes = huella_bd()
    with pytest.raises(ValidationError):
        confirmar_cambio_de_correo(token=confirmar)
    assert huella_bd() == antes
    # Twice: nothing more happens.
    assert deshacer_cambio_de_correo(token=deshacer).ya_bloqueada
    assert huella_bd() == antes


def test_un_enlace_para_deshacer_alterado_o_vencido_no_hace_nada(db):
    user = registrar_paciente(1)
    pedir(user)
    deshacer = token_deshacer(user.cliente.pk)
    datos = signing.loads(deshacer, salt=SAL_DESHACER_CORREO)

    class Firmador(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 8 * 24 * 3600)

    viejo = Firmador(salt=SAL_DESHACER_CORREO).sign_object(datos, compress=True)
    ajeno = signing.dumps({**datos, "c": datos["c"] + 10_000}, salt=SAL_DESHACER_CORREO, compress=True)
    for token, codigo in [(viejo, "enlace_vencido"), (deshacer[:-3] + "abc", "enlace_invalido"),
                          (ajeno, "enlace_invalido"), ("x" * 2000, "enlace_invalido"), (confirmar_de(user), "enlace_invalido")]:
        antes = huella_bd()
        with pytest.raises(ValidationError) as error:
            deshacer_cambio_de_correo(token=token)
        assert error.value.code == codigo
        assert huella_bd() == antes
    assert User.objects.get(pk=user.pk).is_active


def confirmar_de(user):
    return token_enviado(user.cliente.pk)
