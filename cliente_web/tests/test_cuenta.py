"""Mi cuenta: the record (name, RUT, allergies read-only), contact data through the clinic's
own service, notification preferences with consent dates, password change, the JSON copy of
all the patient's data and deleting the account. Every form refuses bad input without changes."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from citas.services import reservar_cita
from cliente_web.tests.conftest import CLAVE_PACIENTE, cliente_de
from cuentas.models import PerfilCliente
from notificaciones.models import Notificacion
from pruebas.soporte import confirmar_telefono, huella_bd
from pacientes.models import Cliente

pytestmark = pytest.mark.django_db

User = get_user_model()
CUENTA = "/portal/cuenta/"
CONTACTO = "/portal/cuenta/contacto/"
AVISOS = "/portal/cuenta/avisos/"
CLAVE = "/portal/cuenta/clave/"
DATOS = "/portal/cuenta/datos/"
ELIMINAR = "/portal/cuenta/eliminar/"
NUEVA = "Hilo-Dental-2027"


def error_de(respuesta, campo):
    html = respuesta.content.decode()
    marca = f'id="id_{campo}_error">'
    assert marca in html, f"sin error junto a {campo}"
    return html.split(marca, 1)[1].split("</div></div>", 1)[0]


def contacto_valido(cliente, **cambios):
    datos = {"email": cliente.email, "telefono": str(cliente.telefono), "fecha_nacimiento": "1990-01-31",
             "password": CLAVE_PACIENTE}
    datos.update(cambios)
    return datos


# Access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [CUENTA, CONTACTO, AVISOS, CLAVE, DATOS, ELIMINAR])
def test_anonimo_va_a_entrar(db, url):
    respuesta = Client().get(url)
    assert respuesta.status_code == 302 and respuesta["Location"].startswith("/portal/entrar/")


@pytest.mark.parametrize("url", [CUENTA, CONTACTO, AVISOS, CLAVE, DATOS, ELIMINAR])
def test_personal_recibe_un_403(recepcionista, url):
    respuesta = cliente_de(recepcionista.user).get(url)
    assert respuesta.status_code == 403


# The record ------------------------------------------------------------------------------------


def test_mi_cuenta_muestra_la_ficha_y_lo_que_se_cambia_en_la_clinica(portal, paciente, django_assert_num_queries):
    Cliente.objects.filter(pk=paciente.cliente.pk).update(alergias="<b>Látex</b>")
    # 5: session, user with their record, profile, the record's live consents, and the read-log row
    # (the page shows the allergies: the patient's own read of their history is logged like any).
    with django_assert_num_queries(5):
        respuesta = portal.get(CUENTA)
    from ficha.models import LecturaFicha, Seccion, Via

    lectura = LecturaFicha.objects.get()
    assert (lectura.seccion, lectura.via, lectura.cliente_id, lectura.usuario_id) == (
        Seccion.ANTECEDENTES, Via.PACIENTE, paciente.cliente.pk, paciente.pk)
    html = respuesta.content.decode()
    assert "Paciente Número 501" in html and "11.000.501-" in html and "+56 9 6000 0501" in html
    assert "&lt;b&gt;Látex&lt;/b&gt;" in html
    assert "Para cambiar su nombre, RUT o alergias, hable con la clínica" in html
    assert "Aviso aceptado el" in html
    for url in (CONTACTO, AVISOS, CLAVE, DATOS, ELIMINAR):
        assert url in html
    assert 'aria-current="page" href="/portal/cuenta/">Mi cuenta' in html


# Contact data ----------------------------------------------------------------------------------


def test_cambiar_contacto_guarda_lo_demas_y_el_correo_espera_su_enlace(portal, paciente):
    """The e-mail is the login: it changes only from the link sent to it (test_cambio_correo)."""
    anterior = paciente.cliente.email
    respuesta = portal.post(CONTACTO, {"email": "Nuevo.Correo@Correo.example", "telefono": "+56 9 6123 4567",
                                       "fecha_nacimiento": "1990-01-31", "password": CLAVE_PACIENTE})
    assert respuesta.status_code == 302 and respuesta["Location"] == CUENTA
    html = portal.get(CUENTA).content.decode()
    assert "Sus datos de contacto quedaron guardados." in html
    assert "Le enviamos un enlace a nuevo.correo@correo.example; su correo cambiará cuando lo abra." in html
    ficha = Cliente.objects.select_related("user").get(pk=paciente.cliente.pk)
    assert ficha.email == anterior and str(ficha.telefono) == "+56961234567"
    assert ficha.user.username == ficha.user.email == anterior
    assert ficha.nombre_completo == "Paciente Número 501" and ficha.rut == paciente.cliente.rut
    nuevo = Client()
    assert nuevo.post("/portal/entrar/", {"username": anterior, "password": CLAVE_PACIENTE}).status_code == 302


def test_cambiar_contacto_sin_tocar_el_correo_no_envia_enlaces(portal, paciente):
    respuesta = portal.post(CONTACTO, contacto_valido(paciente.cliente, email=paciente.cliente.email.upper(),
                                                      telefono="+56 9 6123 4567"))
    assert respuesta.status_code == 302
    html = portal.get(CUENTA).content.decode()
    assert "Sus datos de contacto quedaron guardados." in html and "Le enviamos un enlace" not in html
    assert str(Cliente.objects.get(pk=paciente.cliente.pk).telefono) == "+56961234567"
    assert not Notificacion.objects.filter(plantilla__startswith="cambio_correo").exists()


def test_contacto_muestra_los_datos_actuales(portal, paciente):
    html = portal.get(CONTACTO).content.decode()
    assert paciente.cliente.email in html and "+56 9 6000 0501" in html


@pytest.mark.parametrize(
    ("cambios", "campo", "mensaje"),
    [
        ({"email": ""}, "email", "Ingrese su correo electrónico."),
        ({"email": "a" * 10_000 + "@x.cl"}, "email", "El texto es demasiado largo."),
        ({"telefono": "9" * 10_000}, "telefono", "El texto es demasiado largo."),
        ({"email": "sin-arroba"}, "email", "El correo electrónico no es válido."),
        ({"email": "<script>alert(1)</script>@x.cl"}, "email", "El correo electrónico no es válido."),
        ({"telefono": "+1 202 555 0143"}, "telefono", "Ingrese un celular chileno válido"),
        ({"telefono": "+56 2 2345 6789"}, "telefono", "Ingrese un celular chileno válido"),
        ({"telefono": "<script>"}, "telefono", "Ingrese un celular chileno válido"),
        ({"fecha_nacimiento": "2999-12-31"}, "fecha_nacimiento", "no puede estar en el futuro"),
        ({"fecha_nacimiento": "x" * 10_000}, "fecha_nacimiento", "no es válida"),
    ],
)
def test_contacto_malo_se_rechaza_sin_cambios(portal, paciente, cambios, campo, mensaje):
    antes = huella_bd()
    respuesta = portal.post(CONTACTO, contacto_valido(paciente.cliente, **cambios))
    assert respuesta.status_code == 200
    assert mensaje in error_de(respuesta, campo)
    assert "<script>alert(1)</script>" not in respuesta.content.decode()
    assert huella_bd() == antes


def test_correo_o_celular_de_otro_paciente_no_revela_su_ficha(portal, paciente, otro_paciente):
    ajeno = otro_paciente.cliente
    confirmar_telefono(cliente=ajeno)  # an unconfirmed number would block nobody (issue 14)
    antes = huella_bd()
    respuesta = portal.post(CONTACTO, contacto_valido(paciente.cliente, email=ajeno.email.upper(),
                                                      telefono=str(ajeno.telefono)))
    html = respuesta.content.decode()
    assert error_de(respuesta, "email").strip() == (
        "<div>Ese correo ya está registrado en otra ficha; si es suyo, hable con la clínica.")  # and nothing else
    assert "Ese celular ya está registrado en otra ficha" in error_de(respuesta, "telefono")
    assert ajeno.nombre_completo not in html and "/gestion/" not in html and f"/{ajeno.pk}/" not in html
    assert huella_bd() == antes


def test_ids_ajenos_en_el_formulario_no_tocan_a_otro_paciente(portal, paciente, otro_paciente):
    ajeno = otro_paciente.cliente
    respuesta = portal.post(CONTACTO, {**contacto_valido(paciente.cliente, email="mio@correo.example"),
                                       "cliente_id": ajeno.pk, "id": ajeno.pk, "user": otro_paciente.pk,
                                       "nombre_completo": "Hackeado", "rut": ajeno.rut, "alergias": "ninguna"})
    assert respuesta.status_code == 302
    ajeno.refresh_from_db()
    assert ajeno.email == "paciente502@correo.example"
    mia = Cliente.objects.get(pk=paciente.cliente.pk)
    assert mia.email == "paciente501@correo.example" and mia.nombre_completo == "Paciente Número 501"
    (enlace,) = Notificacion.objects.filter(plantilla="cambio_correo_confirmar")
    assert enlace.destinatario == "mio@correo.example" and enlace.cliente_id == mia.pk
    assert mia.rut == paciente.cliente.rut and mia.alergias == ""


# Notification preferences ----------------------------------------------------------------------


def test_avisos_guardan_y_muestran_la_fecha_del_consentimiento(portal, paciente):
    respuesta = portal.post(AVISOS, {"canal_preferido": "whatsapp", "acepta_whatsapp": "on"})
    assert respuesta.status_code == 302 and respuesta["Location"] == CUENTA
    perfil = PerfilCliente.objects.get(user=paciente)
    assert perfil.canal_preferido == "whatsapp" and perfil.whatsapp_aceptado_en is not None
    html = portal.get(AVISOS).content.decode()
    fecha = timezone.localtime(perfil.whatsapp_aceptado_en)
    assert f"Aceptado el {fecha.day} de" in html
    assert "checked" in html.split('value="whatsapp"', 1)[1].split(">", 1)[0]

    portal.post(AVISOS, {"canal_preferido": "email"})
    perfil.refresh_from_db()
    assert perfil.whatsapp_aceptado_en is None and perfil.canal_preferido == "email"


@pytest.mark.parametrize(
    ("datos", "campo", "mensaje"),
    [
        ({"canal_preferido": "whatsapp"}, "acepta_whatsapp", "debe aceptarlo expresamente"),
        ({"canal_preferido": "sms", "acepta_whatsapp": "on"}, "acepta_sms", "debe aceptarlo expresamente"),
        ({"canal_preferido": "paloma"}, "canal_preferido", "Elija un canal de la lista."),
        ({"canal_preferido": "<script>alert(1)</script>"}, "canal_preferido", "Elija un canal de la lista."),
        ({"canal_preferido": "x" * 10_000}, "canal_preferido", "Elija un canal de la lista."),
        ({}, "canal_preferido", "Elija un canal de la lista."),
    ],
)
def test_avisos_malos_se_rechazan_sin_cambios(portal, datos, campo, mensaje):
    antes = huella_bd()
    respuesta = portal.post(AVISOS, datos)
    assert respuesta.status_code == 200 and mensaje in error_de(respuesta, campo)
    assert "<script>alert(1)</script>" not in respuesta.content.decode()
    assert huella_bd() == antes


# Password --------------------------------------------------------------------------------------


def test_cambiar_clave_mantiene_la_sesion(portal, paciente):
    respuesta = portal.post(CLAVE, {"old_password": CLAVE_PACIENTE, "new_password1": NUEVA, "new_password2": NUEVA})
    assert respuesta.status_code == 302 and respuesta["Location"] == CUENTA
    assert "Su contraseña quedó cambiada." in portal.get(CUENTA).content.decode()
    paciente.refresh_from_db()
    assert paciente.check_password(NUEVA)


@pytest.mark.parametrize(
    ("datos", "campo", "mensaje"),
    [
        ({"old_password": "", "new_password1": "", "new_password2": ""}, "old_password", "Complete este campo."),
        ({"old_password": "mala-clave-123", "new_password1": NUEVA, "new_password2": NUEVA}, "old_password",
         "La contraseña actual no es correcta."),
        ({"old_password": CLAVE_PACIENTE, "new_password1": NUEVA, "new_password2": "otra"}, "new_password2",
         "Las contraseñas no coinciden."),
        ({"old_password": CLAVE_PACIENTE, "new_password1": "12345678", "new_password2": "12345678"},
         "new_password2", "completamente numérica"),
        ({"old_password": CLAVE_PACIENTE, "new_password1": "x" * 10_000, "new_password2": "x" * 10_000},
         "new_password1", "no puede superar 128"),
        ({"old_password": "<script>", "new_password1": NUEVA, "new_password2": NUEVA}, "old_password",
         "La contraseña actual no es correcta."),
    ],
)
def test_cambio_de_clave_malo_no_cambia_nada(portal, paciente, datos, campo, mensaje):
    respuesta = portal.post(CLAVE, datos)
    assert respuesta.status_code == 200 and mensaje in error_de(respuesta, campo)
    paciente.refresh_from_db()
    assert paciente.check_password(CLAVE_PACIENTE)


# My data ---------------------------------------------------------------------------------------


def test_descargar_mis_datos_trae_solo_lo_mio(portal, paciente, otro_paciente, hora_libre):
    reservar_cita(user=paciente, cita_id=hora_libre.pk)
    respuesta = portal.get(DATOS)
    assert respuesta.status_code == 200
    assert respuesta["Content-Type"] == "application/json; charset=utf-8"
    assert respuesta["Content-Disposition"] == f'attachment; filename="mis-datos-{timezone.localdate().isoformat()}.json"'
    assert "no-store" in respuesta["Cache-Control"]
    datos = json.loads(respuesta.content)
    assert datos["paciente"]["rut"] == paciente.cliente.rut and datos["cuenta"]["usuario"] == paciente.username
    assert len(datos["citas"]) == 1 and datos["citas"][0]["dentista"] == "Camila Soto"
    assert datos["documentos"] == []
    texto = respuesta.content.decode()
    assert otro_paciente.cliente.email not in texto and otro_paciente.cliente.rut not in texto


def test_descarga_con_ids_ajenos_sigue_siendo_la_mia(portal, paciente, otro_paciente, django_assert_num_queries):
    # session, user with their record + the selector's nine (issue 13: consents; issue 14: cancelled;
    # issue 15: the clinical record's three; issue 16: the prescriptions, the odontogram history, the
    # consents) + the read log's row
    with django_assert_num_queries(15):
        respuesta = portal.get(DATOS, {"cliente_id": otro_paciente.cliente.pk, "id": otro_paciente.cliente.pk})
    assert json.loads(respuesta.content)["paciente"]["rut"] == paciente.cliente.rut


def test_datos_solo_por_get(portal):
    assert portal.post(DATOS).status_code == 405


# Deleting the account --------------------------------------------------------------------------


def test_eliminar_explica_que_se_borra_y_que_se_conserva(portal):
    html = portal.get(ELIMINAR).content.decode()
    for texto in ("Se borra", "La clínica conserva", "Su cuenta del portal", "historial de avisos", "documentos",
                  "citas pasadas", "registro de auditoría", "Su contraseña"):
        assert texto in html


@pytest.mark.parametrize(
    ("clave", "mensaje"),
    [
        ("", "Escriba su contraseña para confirmar."),
        ("otra-clave-123", "La contraseña no es correcta."),
        ("x" * 10_000, "La contraseña no puede superar 128 caracteres."),
        ("<script>alert(1)</script>", "La contraseña no es correcta."),
    ],
)
def test_eliminar_con_clave_mala_no_borra_nada(portal, paciente, clave, mensaje):
    antes = huella_bd()
    respuesta = portal.post(ELIMINAR, {"password": clave})
    assert respuesta.status_code == 200 and mensaje in error_de(respuesta, "password")
    assert huella_bd() == antes


def test_eliminar_mi_cuenta_cierra_la_sesion_y_se_despide(portal, paciente, otro_paciente):
    respuesta = portal.post(ELIMINAR, {"password": CLAVE_PACIENTE, "cliente_id": otro_paciente.cliente.pk})
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:cuenta_eliminada")
    despedida = portal.get(respuesta["Location"])
    assert despedida.status_code == 200 and "Su cuenta fue eliminada" in despedida.content.decode()
    assert not Cliente.objects.filter(pk=paciente.cliente.pk).exists()
    assert not User.objects.filter(pk=paciente.pk).exists()
    assert Cliente.objects.filter(pk=otro_paciente.cliente.pk).exists()
    assert portal.get(CUENTA)["Location"].startswith("/portal/entrar/")  # logged out
    assert Client().post("/portal/entrar/", {"username": paciente.cliente.rut,
                                             "password": CLAVE_PACIENTE}).status_code == 200


# Guessing the password inside an open session (a borrowed phone) is limited like the login ----


@pytest.mark.parametrize("url, datos_malos, datos_buenos", [
    (ELIMINAR, {"password": "no-es-la-clave"}, {"password": CLAVE_PACIENTE}),
    (CLAVE, {"old_password": "no-es-la-clave", "new_password1": NUEVA, "new_password2": NUEVA},
     {"old_password": CLAVE_PACIENTE, "new_password1": NUEVA, "new_password2": NUEVA}),
])
def test_adivinar_la_clave_en_la_sesion_bloquea_como_el_inicio(portal, paciente, settings, url, datos_malos,
                                                               datos_buenos):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert portal.post(url, datos_malos).status_code == 200
    assert portal.post(url, datos_malos).status_code == 429  # the limit-th failure locks
    antes = huella_bd()
    respuesta = portal.post(url, datos_buenos)  # the right password, still locked
    assert respuesta.status_code == 429
    assert "Demasiados intentos fallidos" in respuesta.content.decode()
    assert huella_bd() == antes
    paciente.refresh_from_db()
    assert paciente.check_password(CLAVE_PACIENTE)
    # The lockout holds at the login page too (same account, same address).
    entrada = Client().post("/portal/entrar/", {"username": paciente.email, "password": CLAVE_PACIENTE})
    assert entrada.status_code == 429


def test_una_clave_mala_aislada_no_bloquea(portal, paciente):
    assert portal.post(ELIMINAR, {"password": "no-es-la-clave"}).status_code == 200
    assert portal.post(ELIMINAR, {"password": CLAVE_PACIENTE}).status_code == 302
    assert not Cliente.objects.filter(pk=paciente.cliente.pk).exists()


# Takeover with an open session: a new e-mail or phone needs the current password ---------------


@pytest.mark.parametrize("clave", ["", "no-es-la-clave"])
@pytest.mark.parametrize("cambio", [{"email": "ladron@correo.example"}, {"telefono": "+56 9 8765 4321"}])
def test_cambiar_correo_o_celular_sin_la_clave_se_rechaza(portal, paciente, cambio, clave):
    antes, avisos = huella_bd(), Notificacion.objects.count()
    respuesta = portal.post(CONTACTO, contacto_valido(paciente.cliente, password=clave, **cambio))
    assert respuesta.status_code == 200
    assert "escriba su contraseña actual correcta" in error_de(respuesta, "password")
    assert huella_bd() == antes
    assert Notificacion.objects.count() == avisos


def test_solo_la_fecha_de_nacimiento_no_pide_la_clave(portal, paciente):
    respuesta = portal.post(CONTACTO, contacto_valido(paciente.cliente, password="", fecha_nacimiento="1985-05-05"))
    assert respuesta.status_code == 302
    assert str(Cliente.objects.get(pk=paciente.cliente.pk).fecha_nacimiento) == "1985-05-05"


def test_adivinar_la_clave_al_cambiar_el_correo_bloquea_como_el_inicio(portal, paciente, settings):
    malos = contacto_valido(paciente.cliente, email="ladron@correo.example", password="no-es-la-clave")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert portal.post(CONTACTO, malos).status_code == 200
    assert portal.post(CONTACTO, malos).status_code == 429
    antes = huella_bd()
    buenos = contacto_valido(paciente.cliente, email="ladron@correo.example")
    assert portal.post(CONTACTO, buenos).status_code == 429
    assert huella_bd() == antes
    assert Client().post("/portal/entrar/", {"username": paciente.email, "password": CLAVE_PACIENTE}).status_code == 429


def test_sin_la_clave_no_se_sabe_si_un_correo_es_de_otro_paciente(portal, paciente, otro_paciente):
    ajeno = cliente_de(otro_paciente) and otro_paciente.cliente.email
    respuesta = portal.post(CONTACTO, contacto_valido(paciente.cliente, email=ajeno, password="no-es-la-clave"))
    assert respuesta.status_code == 200
    html = respuesta.content.decode()
    assert "escriba su contraseña actual correcta" in error_de(respuesta, "password")
    assert "registrado" not in html
