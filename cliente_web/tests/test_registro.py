"""Portal sign-up: every field checked with a Spanish message next to it, nothing written on
an error; a well-formed sign-up always answers "revise su correo" and the account exists only
once the link in that e-mail is opened (issue 14). Who is already registered is never shown
on the page: see test_registro_sin_enumeracion.py for the e-mail each case gets."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from cuentas.models import PerfilCliente, RegistroPendiente
from notificaciones.models import Notificacion
from pruebas.soporte import confirmar_telefono, huella_bd, rut_valido
from pacientes.models import Cliente
from cuentas.presencial import crear_cliente_presencial

pytestmark = pytest.mark.django_db

REGISTRO = "/portal/registro/"
CLAVE = "Sonrisa-Blanca-77"


def datos_validos(**cambios):
    datos = {
        "nombre_completo": "Valentina Rojas Pérez",
        "rut": "12.345.678-5",
        "email": "valentina@correo.example",
        "telefono": "9 6123 4567",
        "fecha_nacimiento": "1988-03-14",
        "password": CLAVE,
        "password2": CLAVE,
        "canal_preferido": "email",
        "acepta_privacidad": "on",
    }
    datos.update(cambios)
    return {k: v for k, v in datos.items() if v is not None}


def registrar(cliente=None, **cambios):
    cliente = cliente or Client()
    return cliente, cliente.post(REGISTRO, datos_validos(**cambios))


def enlace_de_verificacion(email):
    """The path of the link in the newest sign-up e-mail recorded for ``email``."""
    aviso = Notificacion.objects.filter(plantilla="registro_verificar", destinatario=email).latest("pk")
    return re.search(r"https?://[^/\s]+(/portal/registro/verificar/\S+/)", aviso.cuerpo).group(1)


def registrar_y_verificar(cliente=None, **cambios):
    """Sign up, then open the e-mailed link and press its button: the account is created and the
    browser logged in. Returns (client, the button's response)."""
    cliente, respuesta = registrar(cliente, **cambios)
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:registro_enviado")
    enlace = enlace_de_verificacion(datos_validos(**cambios)["email"].strip().lower())
    assert "Confirmar y crear mi cuenta" in cliente.get(enlace).content.decode()
    return cliente, cliente.post(enlace)


def error_de(respuesta, campo):
    """The text shown under ``campo`` (``comun/_campo.html``'s ``id_<campo>_error`` block)."""
    html = respuesta.content.decode()
    marca = f'id="id_{campo}_error">'
    assert marca in html, f"sin error junto a {campo}"
    return html.split(marca, 1)[1].split("</div></div>", 1)[0]


def test_formulario_en_espanol_con_enlace_al_aviso_de_privacidad(db):
    html = Client().get(REGISTRO).content.decode()
    for texto in ("Crear su cuenta", "Nombre completo", "RUT", "Correo electrónico", "Celular",
                  "Fecha de nacimiento", 'type="date"', "WhatsApp", "SMS", "aviso de privacidad"):
        assert texto in html
    assert reverse("portal:privacidad") in html


def test_aviso_de_privacidad_nombra_responsable_datos_y_derechos(db):
    html = Client().get(reverse("portal:privacidad")).content.decode()
    for texto in ("Quién es responsable", "Ley 21.719", "al menos 15 años", "Acceso", "Rectificación", "Supresión",
                  "Oposición", "Portabilidad", "Mi cuenta"):
        assert texto in html


def test_registro_pide_revisar_el_correo_y_no_crea_nada_todavia(db):
    cliente, respuesta = registrar(email="  Valentina@Correo.Example ")
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:registro_enviado")
    html = cliente.get(respuesta["Location"]).content.decode()
    assert "Revise su correo" in html
    assert "Le enviamos un enlace a <strong class=\"text-break\">valentina@correo.example</strong> para continuar." in html
    assert not Cliente.objects.exists() and not get_user_model().objects.exists()
    assert RegistroPendiente.objects.get().email == "valentina@correo.example"
    assert cliente.get(reverse("portal:inicio")).status_code == 302  # not logged in


def test_registro_exitoso_entra_y_da_la_bienvenida(db):
    cliente, respuesta = registrar_y_verificar(canal_preferido="whatsapp", acepta_whatsapp="on")
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:inicio")
    inicio = cliente.get(respuesta["Location"])
    assert inicio.status_code == 200
    html = inicio.content.decode()
    assert "Su correo quedó confirmado y su cuenta creada" in html and "Hola, Valentina Rojas Pérez" in html
    assert not RegistroPendiente.objects.exists()
    ficha = Cliente.objects.get(rut="12345678-5")
    assert str(ficha.telefono) == "+56961234567" and ficha.fecha_nacimiento.isoformat() == "1988-03-14"
    perfil = PerfilCliente.objects.get(user=ficha.user)
    assert perfil.canal_preferido == "whatsapp" and perfil.whatsapp_aceptado_en and perfil.privacidad_aceptada_en
    assert perfil.sms_aceptado_en is None


def test_paciente_con_sesion_va_al_inicio(portal):
    respuesta = portal.get(REGISTRO)
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:inicio")


def test_formulario_vacio_dice_todo_lo_que_falta_y_no_guarda_nada(db):
    antes = huella_bd()
    respuesta = Client().post(REGISTRO, {})
    assert respuesta.status_code == 200
    esperados = {
        "nombre_completo": "Ingrese su nombre completo.",
        "rut": "Ingrese su RUT.",
        "email": "Ingrese su correo electrónico.",
        "telefono": "Ingrese su celular.",
        "fecha_nacimiento": "Ingrese su fecha de nacimiento.",
        "password": "Elija una contraseña.",
        "acepta_privacidad": "Debe aceptar el aviso de privacidad",
    }
    for campo, mensaje in esperados.items():
        assert mensaje in error_de(respuesta, campo)
    assert "Ingrese el nombre completo." not in respuesta.content.decode()  # one message per problem
    assert huella_bd() == antes


def test_un_solo_envio_muestra_errores_del_formulario_y_del_servicio(db):
    antes = huella_bd()
    _, respuesta = registrar(rut="12.345.678-9", telefono="+1 202 555 0143", acepta_privacidad=None,
                             password2="otra", canal_preferido="whatsapp")
    assert "dígito verificador" in error_de(respuesta, "rut")
    assert "celular chileno" in error_de(respuesta, "telefono")
    assert "Debe aceptar el aviso de privacidad" in error_de(respuesta, "acepta_privacidad")
    assert "no coinciden" in error_de(respuesta, "password2")
    assert "debe aceptarlo expresamente" in error_de(respuesta, "acepta_whatsapp")
    assert huella_bd() == antes


@pytest.mark.parametrize(
    ("cambios", "campo", "mensaje"),
    [
        ({"nombre_completo": "x" * 10_000}, "nombre_completo", "demasiado largo"),
        ({"rut": "1" * 10_000}, "rut", "demasiado largo"),
        ({"email": "a" * 10_000 + "@correo.example"}, "email", "demasiado largo"),
        ({"telefono": "9" * 10_000}, "telefono", "demasiado largo"),
        ({"password": "x" * 10_000, "password2": "x" * 10_000}, "password", "no puede superar 128"),
        ({"nombre_completo": "x" * 250}, "nombre_completo", "no puede superar 200"),
        ({"rut": "12.345.678-9"}, "rut", "dígito verificador del RUT no es correcto"),
        ({"rut": "hola"}, "rut", "El RUT no es válido"),
        ({"telefono": "+1 202 555 0143"}, "telefono", "Ingrese un celular chileno válido"),
        ({"telefono": "+56 2 2345 6789"}, "telefono", "Ingrese un celular chileno válido"),
        ({"email": "<script>alert(1)</script>@x.cl"}, "email", "El correo electrónico no es válido."),
        ({"fecha_nacimiento": "ayer"}, "fecha_nacimiento", "no es válida"),
        ({"fecha_nacimiento": "2999-01-01"}, "fecha_nacimiento", "no puede estar en el futuro"),
        ({"password2": "Otra-Clave-99"}, "password2", "no coinciden"),
        ({"password": "12345678", "password2": "12345678"}, "password", "completamente numérica"),
        ({"password": "corta", "password2": "corta"}, "password", "demasiado corta"),
        ({"canal_preferido": "paloma"}, "canal_preferido", "Elija un canal de la lista."),
        ({"canal_preferido": "whatsapp"}, "acepta_whatsapp", "debe aceptarlo expresamente"),
        ({"canal_preferido": "sms"}, "acepta_sms", "debe aceptarlo expresamente"),
        ({"acepta_privacidad": None}, "acepta_privacidad", "Debe aceptar el aviso de privacidad"),
    ],
)
def test_datos_malos_dan_un_mensaje_junto_al_campo_y_no_guardan_nada(db, cambios, campo, mensaje):
    antes = huella_bd()
    _, respuesta = registrar(**cambios)
    assert respuesta.status_code == 200
    assert mensaje in error_de(respuesta, campo)
    assert 'aria-invalid="true"' in respuesta.content.decode()
    assert huella_bd() == antes


def test_etiquetas_script_se_muestran_escapadas(db):
    cliente, respuesta = registrar_y_verificar(nombre_completo="<script>alert(1)</script> Pérez")
    assert respuesta.status_code == 302
    html = cliente.get(reverse("portal:inicio")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Pérez" in html


def sin_cuenta_nueva(respuesta):
    """The one answer of every well-formed sign-up, and nothing created."""
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:registro_enviado")
    assert not RegistroPendiente.objects.exists()


def test_correo_o_celular_de_otro_paciente_sin_revelar_su_ficha(otro_paciente):
    ajeno = otro_paciente.cliente
    clientes = Cliente.objects.count()
    cliente, respuesta = registrar(email=ajeno.email.upper(), telefono=str(ajeno.telefono))
    sin_cuenta_nueva(respuesta)
    html = cliente.get(respuesta["Location"]).content.decode()
    assert ajeno.nombre_completo not in html and "/gestion/" not in html and "registrado" not in html
    assert Cliente.objects.count() == clientes
    # That address already has an account: its owner is told so, by e-mail.
    (aviso,) = Notificacion.objects.filter(plantilla__startswith="registro_")
    assert aviso.plantilla == "registro_cuenta_existente" and aviso.destinatario == ajeno.email


def test_celular_de_otra_ficha_avisa_por_correo_sin_decir_cual_dato(otro_paciente):
    confirmar_telefono(user=otro_paciente)  # an unconfirmed number would be nobody's yet
    _, respuesta = registrar(telefono=str(otro_paciente.cliente.telefono))
    sin_cuenta_nueva(respuesta)
    (aviso,) = Notificacion.objects.filter(plantilla__startswith="registro_")
    assert aviso.plantilla == "registro_contactar_clinica" and aviso.destinatario == "valentina@correo.example"
    assert "celular" not in aviso.cuerpo and str(otro_paciente.cliente.telefono) not in aviso.cuerpo


def test_rut_con_cuenta_recibe_por_correo_entrar_o_recuperar_la_clave(paciente):
    _, respuesta = registrar(rut=paciente.cliente.rut, email="otra.persona@correo.example")
    sin_cuenta_nueva(respuesta)
    # To the address on file, never to the one typed.
    (aviso,) = Notificacion.objects.filter(plantilla__startswith="registro_")
    assert aviso.plantilla == "registro_cuenta_existente" and aviso.destinatario == paciente.cliente.email
    assert "/portal/entrar/" in aviso.cuerpo and "/portal/recuperar/" in aviso.cuerpo


def test_paciente_de_la_clinica_con_otros_datos_recibe_el_contacto_de_la_clinica(recepcionista, settings):
    crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Valentina Rojas", rut="12.345.678-5",
                             email="valentina.antiguo@correo.example")
    cliente, respuesta = registrar()
    sin_cuenta_nueva(respuesta)
    assert "valentina.antiguo" not in cliente.get(respuesta["Location"]).content.decode()
    (aviso,) = Notificacion.objects.filter(plantilla__startswith="registro_")
    assert aviso.plantilla == "registro_contactar_clinica" and aviso.destinatario == "valentina.antiguo@correo.example"
    assert settings.CLINICA_TELEFONO in aviso.cuerpo and settings.CLINICA_CORREO in aviso.cuerpo
    assert Cliente.objects.get().user_id is None


def test_paciente_de_la_clinica_con_el_mismo_correo_queda_vinculado(recepcionista):
    ficha = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Valentina Rojas",
                                     rut="12345678-5", email="valentina@correo.example", alergias="Látex")
    assert not Notificacion.objects.filter(plantilla="registro_verificar").exists()
    cliente, respuesta = registrar_y_verificar()
    assert respuesta.status_code == 302
    ficha.refresh_from_db()
    assert ficha.user is not None and ficha.alergias == "Látex"
    assert Cliente.objects.count() == 1
    assert cliente.get(reverse("portal:inicio")).status_code == 200


def test_ids_ajenos_en_el_formulario_se_ignoran(otro_paciente):
    cliente, respuesta = registrar_y_verificar(cliente_id=otro_paciente.cliente.pk, user=otro_paciente.pk,
                                               rut=rut_valido(13_000_000))
    assert respuesta.status_code == 302
    otro_paciente.cliente.refresh_from_db()
    assert otro_paciente.cliente.email == "paciente502@correo.example"
    assert get_user_model().objects.get(pk=otro_paciente.pk).cliente == otro_paciente.cliente


def test_registro_solo_get_y_post(db):
    assert Client().put(REGISTRO).status_code == 405
