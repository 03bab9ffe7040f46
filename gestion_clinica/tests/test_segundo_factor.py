"""The staff second factor: enrolment on the first login, a code at every login, recovery codes
(once each), throttling of wrong codes, ``next`` kept, and the administrator's reset."""

import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from gestion_clinica.tests.conftest import CLAVE_PERSONAL
from personal.models import Perfil
from personal.segundo_factor import (
    CODIGOS_DE_RECUPERACION, codigo_totp, dispositivo_por_confirmar, requiere_segundo_factor,
)
from pruebas.soporte import codigo_de_prueba, dispositivo_de_prueba, huella_bd, iniciar_sesion

pytestmark = pytest.mark.django_db

ENTRAR = reverse("gestion:entrar")
INICIO = reverse("gestion:inicio")
PASO = reverse("gestion:segundo_factor")
INSCRIBIR = reverse("gestion:segundo_factor_inscribir")
AGENDA = reverse("gestion:agenda")


def con_clave(user):
    """A client past the password only (the login form), as a person would be."""
    cliente = Client()
    respuesta = cliente.post(ENTRAR, {"username": user.username, "password": CLAVE_PERSONAL})
    assert respuesta.status_code == 302
    return cliente


def secreto_de(cliente):
    return cliente.session["segundo_factor_secreto"]


def verificada(cliente):
    return DEVICE_ID_SESSION_KEY in cliente.session


def test_el_primer_ingreso_lleva_a_configurar_y_queda_verificado(dentista):
    cliente = con_clave(dentista.user)
    respuesta = cliente.get(AGENDA)
    assert respuesta.status_code == 302 and respuesta.url == f"{PASO}?next={AGENDA}"
    respuesta = cliente.get(respuesta.url)
    assert respuesta.status_code == 302 and respuesta.url == f"{INSCRIBIR}?next=%2Fgestion%2Fagenda%2F"

    antes = huella_bd()
    pagina = cliente.get(respuesta.url)
    assert pagina.status_code == 200
    assert "Configure su segundo factor" in pagina.text
    assert 'src="data:image/svg+xml;base64,' in pagina.text  # the QR, drawn on the server
    assert huella_bd() == antes, "mostrar la página de configuración escribió en la base"
    secreto = secreto_de(cliente)
    dispositivo = dispositivo_por_confirmar(dentista.user, secreto)
    legible = pagina.context["secreto"].replace(" ", "")
    assert dispositivo.config_url.split("secret=")[1].startswith(legible)

    # A wrong code: a Spanish message, nothing saved, still not verified.
    mal = cliente.post(INSCRIBIR, {"codigo": "000000" if codigo_totp(dispositivo) != "000000" else "111111",
                                   "next": AGENDA})
    assert mal.status_code == 200 and "El código no es correcto" in mal.text
    assert not TOTPDevice.objects.filter(user=dentista.user).exists() and not verificada(cliente)
    formato = cliente.post(INSCRIBIR, {"codigo": "12ab", "next": AGENDA})
    assert "El código son 6 dígitos" in formato.text

    hecho = cliente.post(INSCRIBIR, {"codigo": codigo_totp(dispositivo), "next": AGENDA})
    assert hecho.status_code == 200
    assert "Guárdelos en un lugar seguro" in hecho.text
    codigos = hecho.context["codigos"]
    assert len(codigos) == CODIGOS_DE_RECUPERACION == len(set(codigos))
    assert all(c in hecho.text for c in codigos)
    assert f'href="{AGENDA}"' in hecho.text  # "continuar" keeps next
    assert TOTPDevice.objects.get(user=dentista.user).confirmed
    assert verificada(cliente) and "segundo_factor_secreto" not in cliente.session
    assert cliente.get(AGENDA).status_code == 200
    # Enrolled: the enrolment page no longer shows a secret to anyone (a stolen password cannot
    # add a device); the codes are not shown again.
    assert cliente.get(INSCRIBIR).url == INICIO


def test_sin_verificar_no_se_puede_volver_a_inscribir(dentista):
    dispositivo_de_prueba(dentista.user)
    cliente = con_clave(dentista.user)
    respuesta = cliente.get(INSCRIBIR)
    assert respuesta.status_code == 302 and respuesta.url.startswith(PASO)
    assert cliente.post(INSCRIBIR, {"codigo": "123456"}).url.startswith(PASO)
    assert TOTPDevice.objects.filter(user=dentista.user).count() == 1


def test_con_dispositivo_pide_el_codigo_y_respeta_next(recepcionista):
    dispositivo_de_prueba(recepcionista.user)
    cliente = con_clave(recepcionista.user)
    pagina = cliente.get(PASO, {"next": AGENDA})
    assert pagina.status_code == 200 and "Ingrese el código de su aplicación" in pagina.text
    assert "Navegación principal" not in pagina.text  # no menu of pages that would send back here
    respuesta = cliente.post(PASO, {"codigo": codigo_de_prueba(recepcionista.user), "next": AGENDA})
    assert respuesta.status_code == 302 and respuesta.url == AGENDA
    assert verificada(cliente)
    assert cliente.get(PASO, {"next": AGENDA}).url == AGENDA  # already verified: straight on


@pytest.mark.parametrize("siguiente", ["https://malo.example/", "//malo.example/x", PASO, INSCRIBIR, "javascript:x"])
def test_next_inseguro_va_al_inicio(recepcionista, siguiente):
    dispositivo_de_prueba(recepcionista.user)
    cliente = con_clave(recepcionista.user)
    respuesta = cliente.post(PASO, {"codigo": codigo_de_prueba(recepcionista.user), "next": siguiente})
    assert respuesta.url == INICIO


def test_codigo_incorrecto_mensaje_y_espera(recepcionista):
    dispositivo = dispositivo_de_prueba(recepcionista.user)
    cliente = con_clave(recepcionista.user)
    correcto = codigo_totp(dispositivo)
    incorrecto = f"{(int(correcto) + 1) % 1_000_000:06d}"
    respuesta = cliente.post(PASO, {"codigo": incorrecto})
    assert respuesta.status_code == 200 and "El código no es correcto o ya se usó" in respuesta.text
    # django-otp's throttle: right after a wrong code, even the right one waits.
    respuesta = cliente.post(PASO, {"codigo": correcto})
    assert "Demasiados códigos incorrectos seguidos. Espere" in respuesta.text
    assert not verificada(cliente)
    dispositivo.refresh_from_db()
    assert dispositivo.throttling_failure_count == 1
    # The wait over (the failure moved 2 s back), the right code works and resets the count.
    TOTPDevice.objects.filter(pk=dispositivo.pk).update(
        throttling_failure_timestamp=dispositivo.throttling_failure_timestamp.replace(
            microsecond=0) - __import__("datetime").timedelta(seconds=2))
    assert cliente.post(PASO, {"codigo": correcto}).status_code == 302
    dispositivo.refresh_from_db()
    assert dispositivo.throttling_failure_count == 0 and verificada(cliente)


def test_un_codigo_de_la_aplicacion_sirve_una_vez(recepcionista):
    codigo = codigo_de_prueba(recepcionista.user)
    primero = con_clave(recepcionista.user)
    assert primero.post(PASO, {"codigo": codigo}).status_code == 302
    segundo = con_clave(recepcionista.user)
    respuesta = segundo.post(PASO, {"codigo": codigo})
    assert respuesta.status_code == 200 and "ya se usó" in respuesta.text and not verificada(segundo)


def test_codigo_de_recuperacion_una_sola_vez(dentista):
    cliente = con_clave(dentista.user)
    cliente.get(INSCRIBIR)
    dispositivo = dispositivo_por_confirmar(dentista.user, secreto_de(cliente))
    codigos = cliente.post(INSCRIBIR, {"codigo": codigo_totp(dispositivo)}).context["codigos"]
    cliente.post(reverse("gestion:salir"))

    otro = con_clave(dentista.user)
    respuesta = otro.post(PASO, {"codigo": f" {codigos[3].upper()} "}, follow=True)  # as typed from paper
    assert respuesta.redirect_chain[-1][0] == INICIO
    assert "Usó un código de recuperación; le quedan 9" in respuesta.text
    assert StaticToken.objects.filter(device__user=dentista.user).count() == CODIGOS_DE_RECUPERACION - 1

    tercero = con_clave(dentista.user)
    respuesta = tercero.post(PASO, {"codigo": codigos[3]})
    assert respuesta.status_code == 200 and "El código no es correcto o ya se usó" in respuesta.text
    assert not verificada(tercero)


def test_htmx_sin_verificar_navega_la_pagina_entera(recepcionista):
    dispositivo_de_prueba(recepcionista.user)
    cliente = con_clave(recepcionista.user)
    respuesta = cliente.get(AGENDA, headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/gestion/agenda/"})
    assert respuesta.status_code == 200
    assert respuesta["HX-Redirect"] == f"{PASO}?next=/gestion/agenda/"


def test_quien_usa_segundo_factor(dentista, recepcionista, administrador, superusuario, usuario_paciente,
                                  dentista_inactivo, settings):
    assert all(requiere_segundo_factor(p.user) for p in (dentista, recepcionista, administrador))
    assert requiere_segundo_factor(superusuario)
    assert not requiere_segundo_factor(usuario_paciente)  # the portal: password only
    settings.CLINICA_MFA_ROLES = ("dentista",)
    assert requiere_segundo_factor(dentista.user) and not requiere_segundo_factor(recepcionista.user)
    assert requiere_segundo_factor(superusuario)  # the admin site, always
    cliente = iniciar_sesion(Client(), recepcionista.user, segundo_factor=False)
    assert cliente.get(AGENDA).status_code == 200


def test_el_portal_no_pide_segundo_factor(usuario_paciente):
    from citas.tests.test_services import PASSWORD

    cliente = Client()
    respuesta = cliente.post(reverse("portal:entrar"), {"username": usuario_paciente.username, "password": PASSWORD})
    assert respuesta.status_code == 302
    assert cliente.get(reverse("portal:inicio")).status_code == 200


# The administrator's reset (a lost phone) -------------------------------------------------------


def url_restablecer(perfil):
    return reverse("gestion:personal_segundo_factor_restablecer", args=[perfil.pk])


def test_el_administrador_restablece_con_confirmacion_y_queda_auditado(administrador, dentista):
    sesion_del_dentista = iniciar_sesion(Client(), dentista.user)
    assert sesion_del_dentista.get(AGENDA).status_code == 200
    admin = iniciar_sesion(Client(), administrador.user)
    pagina = admin.get(reverse("gestion:personal_editar", args=[dentista.pk]))
    assert "Restablecer segundo factor" in pagina.text

    antes = huella_bd()
    sin_casilla = admin.post(url_restablecer(dentista), follow=True)
    assert "Marque la casilla de confirmación" in sin_casilla.text
    assert huella_bd() == antes

    respuesta = admin.post(url_restablecer(dentista), {"confirmar": "si"}, follow=True)
    assert "Se restableció el segundo factor de Camila Soto" in respuesta.text
    assert not TOTPDevice.objects.filter(user=dentista.user).exists()
    assert "Sin configurar" in respuesta.text
    # The dentist's open session is over (their password changed): the next page is the login.
    siguiente = sesion_del_dentista.get(AGENDA)
    assert siguiente.status_code == 302 and siguiente.url.startswith(ENTRAR)
    # Audited: who reset whose, by which service.
    evento = Perfil.pgh_event_model.objects.filter(pgh_obj_id=dentista.pk).order_by("-pgh_id").first()
    assert evento.segundo_factor_restablecido is not None
    assert evento.pgh_context.metadata["servicio"] == "restablecer_segundo_factor"
    assert evento.pgh_context.metadata["user"] == administrador.user.pk


def test_solo_el_administrador_restablece(recepcionista, dentista):
    recepcion, propio = iniciar_sesion(Client(), recepcionista.user), iniciar_sesion(Client(), dentista.user)
    antes = huella_bd()
    assert recepcion.post(url_restablecer(dentista), {"confirmar": "si"}).status_code == 403
    assert propio.post(url_restablecer(dentista), {"confirmar": "si"}).status_code == 403
    assert huella_bd() == antes


def test_el_administrador_no_restablece_al_superusuario(administrador, superusuario, crear_personal):
    perfil = Perfil.objects.create(user=superusuario, rol="administrador")
    dispositivo_de_prueba(superusuario)
    respuesta = iniciar_sesion(Client(), administrador.user).post(url_restablecer(perfil), {"confirmar": "si"},
                                                                  follow=True)
    assert "Solo un superusuario puede administrar esta cuenta" in respuesta.text
    assert TOTPDevice.objects.filter(user=superusuario).exists()


def test_restablecer_id_inexistente_es_404(administrador):
    assert iniciar_sesion(Client(), administrador.user).post(
        reverse("gestion:personal_segundo_factor_restablecer", args=[987654]), {"confirmar": "si"}).status_code == 404


def test_codigo_totp_coincide_con_la_aplicacion():
    """The code we compute is RFC 6238's (the test vector of its appendix B, SHA-1, 8 digits)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice as Modelo

    vector = Modelo(key="3132333435363738393031323334353637383930", digits=8)
    assert codigo_totp(vector, instante=59) == "94287082"
    assert codigo_totp(vector, instante=1111111109) == "07081804"
    assert len(codigo_totp(Modelo(), instante=time.time())) == 6


# Passkeys (django-otp-webauthn): a second factor only, added from a verified session --------------

LLAVE_REGISTRO = reverse("otp_webauthn:credential-registration-begin")
LLAVE_VERIFICACION = reverse("otp_webauthn:credential-authentication-begin")


def test_llave_solo_se_agrega_con_la_sesion_verificada(recepcionista):
    sin_verificar = iniciar_sesion(Client(), recepcionista.user, segundo_factor=False)
    # Not enrolled yet: the password alone does not add a passkey either (our rule).
    respuesta = sin_verificar.post(LLAVE_REGISTRO)
    assert respuesta.status_code == 403 and respuesta.json()["code"] == "sin_verificar"
    dispositivo_de_prueba(recepcionista.user)  # enrolled, not verified: the library's own rule
    respuesta = sin_verificar.post(LLAVE_REGISTRO)
    assert respuesta.status_code == 403 and respuesta.json()["code"] == "user_not_verified"
    assert "otp_webauthn_register_state" not in sin_verificar.session
    verificado = iniciar_sesion(Client(), recepcionista.user)
    opciones = verificado.post(LLAVE_REGISTRO).json()
    assert opciones["rp"] == {"id": "testserver", "name": "Clínica Dental Sonrisa"}
    assert opciones["user"]["name"] == recepcionista.user.username


def test_llave_nunca_es_el_primer_factor_ni_de_pacientes(usuario_paciente):
    anonimo = Client().post(LLAVE_VERIFICACION)
    assert anonimo.status_code == 403 and anonimo.json()["code"] == "passwordless_login_disabled"
    paciente = iniciar_sesion(Client(), usuario_paciente).post(LLAVE_VERIFICACION)
    assert paciente.status_code == 403 and paciente.json()["code"] == "no_es_personal"


def test_el_paso_ofrece_la_llave_solo_a_quien_tiene_una(dentista):
    from django_otp_webauthn.models import WebAuthnCredential

    dispositivo_de_prueba(dentista.user)
    cliente = con_clave(dentista.user)
    assert "passkey-verification-button" not in cliente.get(PASO).text
    WebAuthnCredential.objects.create(user=dentista.user, name="Llave", confirmed=True, credential_id=b"x",
                                      public_key=b"y", sign_count=0)
    pagina = cliente.get(PASO).text
    assert 'id="passkey-verification-button"' in pagina
    assert 'type="module" src="/static/django_otp_webauthn/otp_webauthn_auth.js"' in pagina


# CLINICA_MFA_ROLES cannot switch the second factor off ---------------------------------------------


@pytest.mark.parametrize("valor", ["", "recepcion", "dentista", "administrador"])
def test_administrador_y_dentista_siempre_con_segundo_factor(valor, settings, dentista, administrador,
                                                              recepcionista, monkeypatch):
    from clinica.settings import _env_roles_mfa

    monkeypatch.setenv("CLINICA_MFA_ROLES", valor)
    roles = _env_roles_mfa("CLINICA_MFA_ROLES", "administrador,recepcion,dentista")
    assert {"administrador", "dentista"} <= set(roles)
    assert ("recepcion" in roles) == ("recepcion" in valor)
    # And the rule holds even if the setting is changed by other means (tests, a settings file).
    settings.CLINICA_MFA_ROLES = tuple(r for r in valor.split(",") if r)
    assert requiere_segundo_factor(dentista.user) and requiere_segundo_factor(administrador.user)
    assert requiere_segundo_factor(recepcionista.user) == ("recepcion" in valor)
    cliente = iniciar_sesion(Client(), dentista.user, segundo_factor=False)
    assert cliente.get(AGENDA).url.startswith(PASO)


@pytest.mark.parametrize("valor", ["dentista,recepcoin", "Administrador", "todos"])
def test_roles_desconocidos_detienen_el_inicio(valor, settings, dentista, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from clinica.settings import _env_roles_mfa

    monkeypatch.setenv("CLINICA_MFA_ROLES", valor)
    with pytest.raises(ImproperlyConfigured, match="no es un rol del personal"):
        _env_roles_mfa("CLINICA_MFA_ROLES", "administrador,recepcion,dentista")
    settings.CLINICA_MFA_ROLES = tuple(valor.split(","))
    with pytest.raises(ImproperlyConfigured, match="no es un rol del personal"):
        requiere_segundo_factor(dentista.user)


def test_llave_exige_sesion_verificada_aunque_el_rol_no_pida_segundo_factor(recepcionista, settings):
    settings.CLINICA_MFA_ROLES = ("administrador", "dentista")
    sin_verificar = iniciar_sesion(Client(), recepcionista.user, segundo_factor=False)
    assert sin_verificar.get(AGENDA).status_code == 200  # reception: password only here
    respuesta = sin_verificar.post(LLAVE_REGISTRO)
    assert respuesta.status_code == 403 and respuesta.json()["code"] == "sin_verificar"
    assert "otp_webauthn_register_state" not in sin_verificar.session
    fin = sin_verificar.post(reverse("otp_webauthn:credential-registration-complete"), {},
                             content_type="application/json")
    assert fin.status_code == 403 and fin.json()["code"] == "sin_verificar"


def test_restablecer_cierra_la_sesion_a_medias_y_envia_la_invitacion(administrador, dentista):
    """An attacker with the stolen password, stopped at the code step, must not be the first to
    enrol after the reset: the reset ends that session and the member chooses a new password."""
    from notificaciones.models import Notificacion

    a_medias = con_clave(dentista.user)  # password only, before the reset
    assert a_medias.get(AGENDA).url.startswith(PASO)
    admin = iniciar_sesion(Client(), administrador.user)
    respuesta = admin.post(url_restablecer(dentista), {"confirmar": "si"}, follow=True)
    assert (f"se envió a {dentista.user.email} un enlace para elegir una contraseña nueva"
            in respuesta.text)
    assert "después de elegir su contraseña con el enlace que recibió por correo" in respuesta.text

    assert "_auth_user_id" not in a_medias.get(AGENDA).wsgi_request.session
    assert a_medias.get(INSCRIBIR).url.startswith(ENTRAR)  # no enrolment from that session
    assert a_medias.get(PASO).url.startswith(ENTRAR)
    dentista.user.refresh_from_db()
    assert not dentista.user.has_usable_password()
    assert Client().post(ENTRAR, {"username": dentista.user.username, "password": CLAVE_PERSONAL}).status_code == 200
    aviso = Notificacion.objects.get(plantilla="invitacion_personal")
    assert aviso.destinatario == dentista.user.email
    assert "restableció el segundo factor" in aviso.cuerpo


def test_ni_el_secreto_ni_los_codigos_quedan_en_cache(dentista):
    cliente = con_clave(dentista.user)
    pagina = cliente.get(INSCRIBIR)
    assert pagina.status_code == 200 and "secreto" in pagina.context
    for respuesta in (pagina, cliente.post(INSCRIBIR, {"codigo": codigo_totp(
            dispositivo_por_confirmar(dentista.user, secreto_de(cliente)))})):
        assert respuesta.status_code == 200
        cache = respuesta["Cache-Control"]
        assert "no-store" in cache and "no-cache" in cache and "private" in cache, cache
    assert "Guárdelos en un lugar seguro" in respuesta.text  # the recovery codes' page
