import logging
import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from notificaciones.models import Notificacion
from personal.models import Perfil, Rol
from personal.services import crear_personal, desactivar_personal, invitar_personal, reactivar_personal


def nuevo(actor=None, **extra):
    datos = {
        "actor": actor, "username": "dr.perez", "nombre": "Tomás", "apellido": "Pérez",
        "email": "Tomas.Perez@Clinica.example", "rol": Rol.DENTISTA, "especialidad": "Endodoncia",
    }
    datos.update(extra)
    return crear_personal(**datos)


def test_crear_personal_sin_clave_queda_para_invitacion(db):
    perfil = nuevo()
    assert perfil.user.is_staff and not perfil.user.has_usable_password()
    assert perfil.user.email == "tomas.perez@clinica.example"
    assert str(perfil) == "Tomás Pérez"


def test_crear_personal_rechaza_rol_y_usuario_repetido(db):
    with pytest.raises(ValidationError) as error:
        nuevo(rol="cirujano")
    assert error.value.error_dict["rol"][0].code == "rol_invalido"
    nuevo()
    with pytest.raises(ValidationError) as error:
        nuevo(email="otro@clinica.example")
    assert error.value.code == "cuenta_duplicada"
    assert Perfil.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_fallas_en_crear_personal(probar_fallas):
    assert probar_fallas(lambda: nuevo(password="Clave-Segura-2026")) >= 2


# Staff management: invitar / desactivar / reactivar -----------------------------------------


User = get_user_model()
CLAVE = "Clave-Segura-2026"


def miembro(username, rol=Rol.DENTISTA, *, password=CLAVE, superusuario=False):
    """A staff member created by the system (actor=None), as cargar_demo does."""
    return crear_personal(
        actor=None, username=username, nombre="Nombre", apellido=username.title(),
        email=f"{username}@clinica.example", rol=rol, password=password, es_superusuario=superusuario,
    )


@pytest.fixture
def admin(db):
    return miembro("admin", Rol.ADMINISTRADOR)


@pytest.fixture
def invitado(admin):
    """A dentist created by the administrator, without a password."""
    return nuevo(admin.user)


def codigo(error):
    return error.value.code


def test_crear_personal_con_invitacion_registra_el_enlace_en_la_misma_transaccion(admin):
    perfil = nuevo(admin.user, enviar_invitacion=True)
    aviso = Notificacion.objects.get(plantilla="invitacion_personal")
    assert aviso.destinatario == "tomas.perez@clinica.example"
    assert aviso.cliente_id is None
    assert "sistema de gestión" in aviso.asunto
    uidb64, token = re.search(r"/gestion/activar/([^/]+)/([^/\s]+)/", aviso.cuerpo).groups()
    assert int(force_str(urlsafe_base64_decode(uidb64))) == perfil.user_id
    assert default_token_generator.check_token(perfil.user, token)
    assert "dr.perez" in aviso.cuerpo and "dentista" in aviso.cuerpo
    assert "/portal/" not in aviso.cuerpo


def test_crear_personal_sin_invitacion_no_registra_aviso(admin):
    nuevo(admin.user)
    assert not Notificacion.objects.exists()


def test_crear_personal_con_clave_e_invitacion_se_rechaza(admin):
    with pytest.raises(ValidationError) as error:
        nuevo(admin.user, password=CLAVE, enviar_invitacion=True)
    assert error.value.error_dict["enviar_invitacion"][0].code == "invitacion_con_clave"
    assert not User.objects.filter(username="dr.perez").exists()


@pytest.mark.parametrize("rol", [Rol.RECEPCION, Rol.DENTISTA])
def test_crear_personal_solo_administrador(db, rol):
    actor = miembro("alguien", rol)
    with pytest.raises(ValidationError) as error:
        nuevo(actor.user)
    assert codigo(error) == "no_autorizado"
    with pytest.raises(ValidationError) as error:
        nuevo(AnonymousUser())
    assert codigo(error) == "no_autorizado"
    assert not User.objects.filter(username="dr.perez").exists()


def test_solo_un_superusuario_crea_superusuarios(admin):
    with pytest.raises(ValidationError) as error:
        nuevo(admin.user, es_superusuario=True)
    assert codigo(error) == "no_autorizado"
    raiz = miembro("raiz", Rol.ADMINISTRADOR, superusuario=True)
    assert nuevo(raiz.user, es_superusuario=True).user.is_superuser


@pytest.mark.django_db(transaction=True)
def test_fallas_en_crear_personal_con_invitacion(probar_fallas):
    admin = miembro("admin", Rol.ADMINISTRADOR)
    assert probar_fallas(lambda: nuevo(admin.user, enviar_invitacion=True)) >= 3
    assert Notificacion.objects.filter(plantilla="invitacion_personal").count() == 1


def test_invitar_personal_registra_aviso_y_linea_de_log_sin_datos_personales(admin, invitado, caplog):
    caplog.set_level(logging.INFO, logger="personal.services")
    invitar_personal(actor=admin.user, perfil_id=invitado.pk)
    invitar_personal(actor=admin.user, perfil_id=invitado.pk)  # "resend": a second, fresh link
    avisos = Notificacion.objects.filter(plantilla="invitacion_personal")
    assert avisos.count() == 2
    assert all("/gestion/activar/" in a.cuerpo for a in avisos)
    linea = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("personal_invitado"))
    assert f"perfil_id={invitado.pk}" in linea and f"actor_id={admin.user.pk}" in linea
    assert "@" not in linea and "perez" not in linea.lower()


def test_el_enlace_de_invitacion_deja_de_valer_al_elegir_la_clave(admin, invitado):
    invitar_personal(actor=admin.user, perfil_id=invitado.pk)
    token = re.search(r"/gestion/activar/[^/]+/([^/\s]+)/", Notificacion.objects.get().cuerpo).group(1)
    user = User.objects.get(pk=invitado.user_id)
    assert default_token_generator.check_token(user, token)
    user.set_password(CLAVE)
    user.save()
    assert not default_token_generator.check_token(user, token)


def test_el_enlace_usa_la_url_del_sitio_de_gestion_si_existe(admin, invitado, settings):
    settings.CLINICA_URL_GESTION = "https://gestion.clinica.example/"
    invitar_personal(actor=admin.user, perfil_id=invitado.pk)
    assert "https://gestion.clinica.example/gestion/activar/" in Notificacion.objects.get().cuerpo


def test_invitar_personal_rechazos(admin, invitado):
    con_clave = miembro("dra.soto")
    with pytest.raises(ValidationError) as error:
        invitar_personal(actor=admin.user, perfil_id=con_clave.pk)
    assert codigo(error) == "cuenta_activa"

    with pytest.raises(ValidationError) as error:
        invitar_personal(actor=admin.user, perfil_id=999_999)
    assert codigo(error) == "personal_no_encontrado"

    User.objects.filter(pk=invitado.user_id).update(email="")
    with pytest.raises(ValidationError) as error:
        invitar_personal(actor=admin.user, perfil_id=invitado.pk)
    assert codigo(error) == "sin_correo"

    User.objects.filter(pk=invitado.user_id).update(email="tomas@clinica.example")
    desactivar_personal(actor=admin.user, perfil_id=invitado.pk)
    with pytest.raises(ValidationError) as error:
        invitar_personal(actor=admin.user, perfil_id=invitado.pk)
    assert codigo(error) == "personal_inactivo"
    assert not Notificacion.objects.exists()


def actores_no_autorizados():
    """(description, factory) pairs: everyone who may not manage staff."""

    def inactivo():
        perfil = miembro("admin.inactivo", Rol.ADMINISTRADOR)
        User.objects.filter(pk=perfil.user_id).update(is_active=False)
        return User.objects.get(pk=perfil.user_id)

    def perfil_inactivo():
        perfil = miembro("admin.de.baja", Rol.ADMINISTRADOR)
        Perfil.objects.filter(pk=perfil.pk).update(activo=False)
        return perfil.user

    def superusuario_de_baja():
        perfil = miembro("raiz.de.baja", Rol.ADMINISTRADOR, superusuario=True)
        Perfil.objects.filter(pk=perfil.pk).update(activo=False)
        return perfil.user

    return [
        ("nadie", lambda: None),
        ("anonimo", AnonymousUser),
        ("recepcion", lambda: miembro("recepcion", Rol.RECEPCION).user),
        ("dentista", lambda: miembro("dentista", Rol.DENTISTA).user),
        ("staff sin perfil", lambda: User.objects.create_user("staff", is_staff=True)),
        ("paciente", lambda: User.objects.create_user("paciente@correo.example")),
        ("administrador sin acceso", inactivo),
        ("administrador dado de baja", perfil_inactivo),
        ("superusuario dado de baja", superusuario_de_baja),
    ]


@pytest.mark.parametrize(("quien", "servicio"), [
    (quien, servicio)
    for quien, _ in actores_no_autorizados()
    for servicio in (invitar_personal, desactivar_personal, reactivar_personal)
])
def test_solo_administradores_gestionan_personal(admin, invitado, quien, servicio):
    actor = dict(actores_no_autorizados())[quien]()
    antes = (Perfil.objects.get(pk=invitado.pk).activo, User.objects.get(pk=invitado.user_id).is_active)
    with pytest.raises(ValidationError) as error:
        servicio(actor=actor, perfil_id=invitado.pk)
    assert codigo(error) == "no_autorizado"
    assert (Perfil.objects.get(pk=invitado.pk).activo, User.objects.get(pk=invitado.user_id).is_active) == antes
    assert not Notificacion.objects.exists()


def test_un_superusuario_sin_perfil_gestiona_personal(admin, invitado):
    raiz = User.objects.create_superuser("raiz", "raiz@clinica.example", CLAVE)
    invitar_personal(actor=raiz, perfil_id=invitado.pk)
    desactivar_personal(actor=raiz, perfil_id=invitado.pk)
    reactivar_personal(actor=raiz, perfil_id=invitado.pk)
    assert Notificacion.objects.count() == 1


def test_desactivar_y_reactivar_personal(admin, invitado, caplog):
    caplog.set_level(logging.INFO, logger="personal.services")
    desactivar_personal(actor=admin.user, perfil_id=invitado.pk)
    invitado.refresh_from_db()
    invitado.user.refresh_from_db()
    assert not invitado.activo and not invitado.user.is_active
    # Idempotent: deactivating twice changes nothing and raises nothing.
    desactivar_personal(actor=admin.user, perfil_id=invitado.pk)

    reactivar_personal(actor=admin.user, perfil_id=invitado.pk)
    invitado.refresh_from_db()
    invitado.user.refresh_from_db()
    assert invitado.activo and invitado.user.is_active
    mensajes = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"personal_desactivado perfil_id={invitado.pk} ") for m in mensajes)
    assert any(m.startswith(f"personal_reactivado perfil_id={invitado.pk} ") for m in mensajes)


def test_la_desactivacion_cierra_el_acceso(admin, rf):
    dentista = miembro("dra.soto")
    backend = ModelBackend()
    assert backend.authenticate(rf.post("/"), username="dra.soto", password=CLAVE) is not None
    desactivar_personal(actor=admin.user, perfil_id=dentista.pk)
    # No new login, and an open session's user is no longer loaded on its next request.
    assert backend.authenticate(rf.post("/"), username="dra.soto", password=CLAVE) is None
    assert backend.get_user(dentista.user_id) is None
    reactivar_personal(actor=admin.user, perfil_id=dentista.pk)
    assert backend.get_user(dentista.user_id) is not None


def test_nadie_se_desactiva_a_si_mismo(admin):
    miembro("otro.admin", Rol.ADMINISTRADOR)  # not the last one: the rule is about oneself
    with pytest.raises(ValidationError) as error:
        desactivar_personal(actor=admin.user, perfil_id=admin.pk)
    assert codigo(error) == "no_puede_desactivarse"
    admin.refresh_from_db()
    assert admin.activo


def test_el_ultimo_administrador_no_se_desactiva(admin):
    raiz = User.objects.create_superuser("raiz", "raiz@clinica.example", CLAVE)
    with pytest.raises(ValidationError) as error:
        desactivar_personal(actor=raiz, perfil_id=admin.pk)
    assert codigo(error) == "ultimo_administrador"
    # With a second one, either may go; then the other is the last.
    segundo = miembro("segundo.admin", Rol.ADMINISTRADOR)
    desactivar_personal(actor=admin.user, perfil_id=segundo.pk)
    with pytest.raises(ValidationError) as error:
        desactivar_personal(actor=raiz, perfil_id=admin.pk)
    assert codigo(error) == "ultimo_administrador"


def test_un_administrador_inactivo_no_cuenta_como_el_que_queda(admin):
    raiz = User.objects.create_superuser("raiz", "raiz@clinica.example", CLAVE)
    segundo = miembro("segundo.admin", Rol.ADMINISTRADOR)
    User.objects.filter(pk=segundo.user_id).update(is_active=False)  # blocked outside the services
    with pytest.raises(ValidationError) as error:
        desactivar_personal(actor=raiz, perfil_id=admin.pk)
    assert codigo(error) == "ultimo_administrador"


def test_un_administrador_no_toca_la_cuenta_de_un_superusuario(admin):
    raiz = miembro("raiz", Rol.ADMINISTRADOR, superusuario=True)
    for servicio in (desactivar_personal, reactivar_personal):
        with pytest.raises(ValidationError) as error:
            servicio(actor=admin.user, perfil_id=raiz.pk)
        assert codigo(error) == "no_autorizado"
    raiz.refresh_from_db()
    assert raiz.activo


@pytest.mark.django_db(transaction=True)
def test_dos_administradores_que_se_desactivan_a_la_vez_dejan_uno():
    """A deactivates B and, while A's transaction is still open, B deactivates A. Without the
    lock on the administrators both would succeed and leave the clinic with none."""
    a = miembro("admin.a", Rol.ADMINISTRADOR)
    b = miembro("admin.b", Rol.ADMINISTRADOR)
    escribio, resultados = threading.Event(), {}

    def pausa_tras_escribir(execute, sql, params, many, context):
        resultado = execute(sql, params, many, context)
        if sql.startswith('UPDATE "auth_user"'):
            escribio.set()
            threading.Event().wait(0.5)  # B runs now, against A's uncommitted change
        return resultado

    def correr(nombre, actor, perfil_id, envoltura=None):
        try:
            if envoltura:
                with connection.execute_wrapper(envoltura):
                    desactivar_personal(actor=actor, perfil_id=perfil_id)
            else:
                escribio.wait(5)
                desactivar_personal(actor=actor, perfil_id=perfil_id)
            resultados[nombre] = "ok"
        except ValidationError as error:
            resultados[nombre] = error.code
        finally:
            connection.close()

    hilos = [
        threading.Thread(target=correr, args=("a", a.user, b.pk, pausa_tras_escribir)),
        threading.Thread(target=correr, args=("b", b.user, a.pk)),
    ]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(10)
    assert resultados == {"a": "ok", "b": "no_autorizado"}
    assert list(Perfil.objects.filter(rol=Rol.ADMINISTRADOR, activo=True).values_list("pk", flat=True)) == [a.pk]
