"""Personal (staff site): list, create with invitation, deactivate, reactivate, invite again."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from gestion_clinica.tests.conftest import cliente_de
from notificaciones.models import Notificacion
from personal.models import Perfil, Rol

LISTA = reverse("gestion:personal")
NUEVO = reverse("gestion:personal_nuevo")
ENTRAR = reverse("gestion:entrar")


def accion(nombre, perfil_id):
    return reverse(f"gestion:personal_{nombre}", args=[perfil_id])


def datos(**cambios):
    return {
        "username": "dr.nuevo", "nombre": "Nicolás", "apellido": "Nuevo", "email": "Nuevo@Clinica.example",
        "rol": Rol.DENTISTA, "especialidad": "Endodoncia", "enviar_invitacion": "on", **cambios,
    }


@pytest.fixture
def admin_cliente(administrador):
    return cliente_de(administrador.user)


@pytest.fixture
def pendiente(crear_personal):
    """A member who never set a password (invitation pending)."""
    perfil = crear_personal(rol=Rol.RECEPCION, nombre="Paula", apellido="Pendiente")
    perfil.user.set_unusable_password()
    perfil.user.save()
    return perfil


# List -----------------------------------------------------------------------------------------


def test_lista_muestra_rol_especialidad_estado_e_invitacion(admin_cliente, dentista, dentista_inactivo, pendiente):
    Perfil.objects.filter(pk=dentista.pk).update(especialidad="Ortodoncia")
    texto = admin_cliente.get(LISTA).text
    assert "Camila Soto" in texto and "Ortodoncia" in texto and "Dentista" in texto
    assert "Inés Inactiva" in texto and "Inactivo" in texto
    assert "Paula Pendiente" in texto and "Invitación pendiente" in texto
    assert texto.count("Invitación pendiente") == 1
    assert accion("invitar", pendiente.pk) in texto
    assert accion("reactivar", dentista_inactivo.pk) in texto
    assert accion("desactivar", dentista.pk) in texto


def test_superusuario_ve_la_lista(clientes):
    assert clientes["superusuario"].get(LISTA).status_code == 200


# Who may -------------------------------------------------------------------------------------


URLS_GET = [LISTA, NUEVO]


@pytest.mark.parametrize("persona", ["recepcion", "dentista", "dentista_inactivo", "paciente"])
def test_otros_roles_reciben_403(clientes, dentista, persona):
    for url in URLS_GET:
        assert clientes[persona].get(url).status_code == 403
    for nombre in ("desactivar", "reactivar", "invitar"):
        assert clientes[persona].post(accion(nombre, dentista.pk)).status_code == 403
    assert clientes[persona].post(NUEVO, datos()).status_code == 403
    assert not get_user_model().objects.filter(username="dr.nuevo").exists()
    assert Perfil.objects.get(pk=dentista.pk).activo


def test_anonimo_va_al_inicio_de_sesion(client, dentista):
    for url in [LISTA, NUEVO, accion("desactivar", dentista.pk)]:
        respuesta = client.post(url) if "desactivar" in url else client.get(url)
        assert respuesta.status_code == 302
        assert respuesta.url == f"{ENTRAR}?next={url}"
    assert Perfil.objects.get(pk=dentista.pk).activo


# Create ----------------------------------------------------------------------------------------


def test_formulario_nuevo_con_invitacion_marcada(admin_cliente):
    texto = admin_cliente.get(NUEVO).text
    assert 'name="enviar_invitacion"' in texto and "checked" in texto


def test_crear_con_invitacion(admin_cliente, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        respuesta = admin_cliente.post(NUEVO, datos(), follow=True)
    assert respuesta.redirect_chain[-1][0] == LISTA
    assert "Se creó la cuenta de Nicolás Nuevo. Se envió la invitación a nuevo@clinica.example." in respuesta.text
    perfil = Perfil.objects.select_related("user").get(user__username="dr.nuevo")
    assert perfil.rol == Rol.DENTISTA and perfil.especialidad == "Endodoncia"
    assert not perfil.user.has_usable_password()
    aviso = Notificacion.objects.get(plantilla="invitacion_personal")
    assert aviso.destinatario == "nuevo@clinica.example"
    assert "Invitación pendiente" in respuesta.text


def test_crear_sin_invitacion_no_envia_aviso(admin_cliente):
    sin = datos()
    del sin["enviar_invitacion"]
    respuesta = admin_cliente.post(NUEVO, sin, follow=True)
    assert "Se creó la cuenta de Nicolás Nuevo." in respuesta.text
    assert "Se envió la invitación" not in respuesta.text
    assert not Notificacion.objects.exists()
    assert Perfil.objects.filter(user__username="dr.nuevo").exists()


def errores(respuesta, campo):
    return [str(e) for e in respuesta.context["formulario"].errors.get(campo, [])]


@pytest.mark.parametrize("campo, valor, mensaje", [
    ("username", "", "Falta el nombre de usuario."),
    ("username", "con espacios", "Ingrese un nombre de usuario válido"),
    ("username", "x" * 151, "150"),
    ("nombre", "", "Ingrese el nombre."),
    ("apellido", "", "Ingrese el apellido."),
    ("nombre", "N" * 151, "150"),
    ("email", "", "Ingrese el correo electrónico."),
    ("email", "no-es-correo", "El correo electrónico no es válido."),
    ("rol", "", "Elija un rol."),
    ("rol", "jefe", "Rol desconocido."),
    ("especialidad", "e" * 121, "120"),
])
def test_errores_junto_a_su_campo(admin_cliente, campo, valor, mensaje):
    respuesta = admin_cliente.post(NUEVO, datos(**{campo: valor}))
    assert respuesta.status_code == 200
    assert any(mensaje in e for e in errores(respuesta, campo)), respuesta.context["formulario"].errors
    assert f'id="id_{campo}_error"' in respuesta.text
    assert not Perfil.objects.filter(user__username="dr.nuevo").exists()


def test_usuario_duplicado_junto_al_campo(admin_cliente, dentista):
    respuesta = admin_cliente.post(NUEVO, datos(username=dentista.user.username.upper()))
    assert errores(respuesta, "username") == [
        "Ya existe una cuenta con ese correo. Inicie sesión o recupere su contraseña."
    ]


def test_nombre_invisible_lo_rechaza_el_servicio(admin_cliente):
    respuesta = admin_cliente.post(NUEVO, datos(nombre="\u200b\u200b"))
    assert errores(respuesta, "nombre") == ["Ingrese el nombre completo."]


def test_mapeo_de_error_dict_del_servicio():
    from django.core.exceptions import ValidationError

    from gestion_clinica.forms.personal import FormularioPersonal

    formulario = FormularioPersonal(datos())
    assert formulario.is_valid()
    formulario.agregar_errores_del_servicio(ValidationError({
        "enviar_invitacion": ValidationError("La invitación es para elegir la contraseña.", code="invitacion_con_clave"),
        "otro": ValidationError("Sin campo.", code="x"),
    }))
    assert formulario.errors["enviar_invitacion"] == ["La invitación es para elegir la contraseña."]
    assert formulario.non_field_errors() == ["Sin campo."]
    formulario.agregar_errores_del_servicio(ValidationError("Raro.", code="desconocido"))
    assert "Raro." in formulario.non_field_errors()


@pytest.mark.parametrize("basura", [
    {"username": "a\x00b"}, {"rol": ["dentista", "recepcion"]}, {"email": "ñ" * 5000}, {"nombre": "\x00"},
])
def test_basura_no_da_500(admin_cliente, basura):
    assert admin_cliente.post(NUEVO, datos(**basura)).status_code in (200, 302)


# Deactivate, reactivate, invite ------------------------------------------------------------------


def test_desactivar_y_reactivar(admin_cliente, dentista):
    respuesta = admin_cliente.post(accion("desactivar", dentista.pk), follow=True)
    assert "Se desactivó a Camila Soto." in respuesta.text
    dentista.refresh_from_db()
    dentista.user.refresh_from_db()
    assert not dentista.activo and not dentista.user.is_active

    respuesta = admin_cliente.post(accion("reactivar", dentista.pk), follow=True)
    assert "Se reactivó a Camila Soto." in respuesta.text
    dentista.refresh_from_db()
    dentista.user.refresh_from_db()
    assert dentista.activo and dentista.user.is_active


def test_no_puede_desactivarse_a_si_mismo(admin_cliente, administrador, crear_personal):
    crear_personal(rol=Rol.ADMINISTRADOR, nombre="Otra", apellido="Admin")
    respuesta = admin_cliente.post(accion("desactivar", administrador.pk), follow=True)
    assert "No puede desactivar su propia cuenta." in respuesta.text
    assert Perfil.objects.get(pk=administrador.pk).activo


def test_ultimo_administrador(superusuario, administrador):
    respuesta = cliente_de(superusuario).post(accion("desactivar", administrador.pk), follow=True)
    assert "Es el último administrador activo: nombre a otro antes de desactivarlo." in respuesta.text
    assert Perfil.objects.get(pk=administrador.pk).activo


def test_reenviar_invitacion(admin_cliente, pendiente):
    respuesta = admin_cliente.post(accion("invitar", pendiente.pk), follow=True)
    assert f"Se envió la invitación a {pendiente.user.email}." in respuesta.text
    assert Notificacion.objects.filter(plantilla="invitacion_personal", destinatario=pendiente.user.email).exists()


def test_invitar_a_quien_ya_tiene_clave(admin_cliente, dentista):
    respuesta = admin_cliente.post(accion("invitar", dentista.pk), follow=True)
    assert "Esta persona ya activó su cuenta" in respuesta.text
    assert not Notificacion.objects.exists()


def test_invitar_a_un_inactivo(admin_cliente, dentista_inactivo):
    respuesta = admin_cliente.post(accion("invitar", dentista_inactivo.pk), follow=True)
    assert "reactívelo antes de invitarlo" in respuesta.text


@pytest.mark.parametrize("nombre", ["desactivar", "reactivar", "invitar"])
def test_ids_desconocidos_dan_404(admin_cliente, nombre):
    assert admin_cliente.post(accion(nombre, 999999)).status_code == 404
    assert admin_cliente.post(f"/gestion/personal/{10**30}/{nombre}/").status_code == 404
    assert admin_cliente.post(f"/gestion/personal/abc/{nombre}/").status_code == 404


@pytest.mark.parametrize("nombre", ["desactivar", "reactivar", "invitar"])
def test_acciones_solo_por_post(admin_cliente, dentista, nombre):
    assert admin_cliente.get(accion(nombre, dentista.pk)).status_code == 405
    assert Perfil.objects.get(pk=dentista.pk).activo


@pytest.mark.parametrize("n", [1, 25])
def test_lista_con_consultas_fijas(admin_cliente, crear_personal, django_assert_num_queries, n):
    for _ in range(n):
        crear_personal(rol=Rol.DENTISTA)
    admin_cliente.get(LISTA)
    # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
    with django_assert_num_queries(4):  # session + user with perfil + second factor's device + the list
        assert admin_cliente.get(LISTA).status_code == 200


def test_un_administrador_no_toca_a_un_superusuario(admin_cliente, crear_personal):
    perfil = crear_personal(rol=Rol.ADMINISTRADOR, nombre="Sara", apellido="Super")
    get_user_model().objects.filter(pk=perfil.user_id).update(is_superuser=True)
    respuesta = admin_cliente.post(accion("desactivar", perfil.pk), follow=True)
    assert "Solo un superusuario puede administrar esta cuenta." in respuesta.text
    assert Perfil.objects.get(pk=perfil.pk).activo
