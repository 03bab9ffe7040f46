"""CSRF on every POST of both sites: without a token, 403 and nothing changes, for a user
who may otherwise use the URL. Only the providers' webhooks are exempt (they check the
provider's signature instead: notificaciones/tests/test_webhooks.py)."""

import pytest
from django.test import Client
from django.urls import reverse

from clinica.tests.seguridad import argumentos_de, patrones
from clinica.tests.test_tabla_de_acceso import TABLA
from pruebas.soporte import iniciar_sesion, huella_bd

pytestmark = pytest.mark.django_db

EXENTAS = {"webhooks:twilio", "webhooks:twilio_estado", "webhooks:meta"}
# A valid token pair (cookie secret = submitted token, unmasked 32 characters).
SECRETO = "A" * 32
FILAS = dict(patrones())


def _persona_para(clave):
    """Someone who may use the URL: the CSRF check is the only thing that should stop them."""
    quien = TABLA[clave]
    if "paciente" in quien:
        return "paciente"
    if "administrador" in quien:
        return "administrador"
    return "anonimo"


def _cliente(persona, usuarios):
    cliente = Client(enforce_csrf_checks=True)
    if usuarios[persona] is not None:
        iniciar_sesion(cliente, usuarios[persona])
    return cliente


@pytest.fixture
def usuarios(paciente, administrador, superusuario):
    return {"anonimo": None, "paciente": paciente, "administrador": administrador.user,
            "superusuario": superusuario}


def test_solo_los_webhooks_estan_exentos():
    exentas = {clave for clave, patron in patrones()
               if getattr(getattr(patron, "callback", None), "csrf_exempt", False)}
    assert exentas == EXENTAS
    # The admin site's views are wrapped (``admin_view``) in csrf_protect, none exempt.
    from django.contrib import admin
    assert not any(getattr(p.callback, "csrf_exempt", False) for p in admin.site.get_urls() if hasattr(p, "callback"))


@pytest.mark.parametrize("clave", sorted(c for c in TABLA if c not in ("/", "/admin/")))
def test_post_sin_token_es_403_y_no_cambia_nada(clave, usuarios, registros):
    url = reverse(clave, kwargs=argumentos_de(clave, FILAS[clave], registros))
    persona = _persona_para(clave)
    cliente = _cliente(persona, usuarios)  # logging in writes last_login: before the digest
    antes = huella_bd()
    sin_token = cliente.post(url, {"x": "1"})
    if clave in EXENTAS:
        # No CSRF check: the missing signature is what refuses it.
        assert sin_token.status_code == 403 and b"CSRF" not in sin_token.content
    else:
        assert sin_token.status_code == 403, f"{persona} POST {url} sin token CSRF"
        assert b"CSRF" in sin_token.content
    assert huella_bd() == antes, f"{persona} POST {url} sin token cambió la base de datos"
    # The same POST with a valid token passes the check (the view decides, maybe 405: no POST).
    con_token = _cliente(persona, usuarios)
    con_token.cookies["csrftoken"] = SECRETO
    respuesta = con_token.post(url, {"csrfmiddlewaretoken": SECRETO})
    assert respuesta.status_code < 500
    assert not (respuesta.status_code == 403 and b"CSRF" in respuesta.content), f"{persona} POST {url} con token"


def test_token_por_cabecera_tambien_vale(usuarios, registros):
    """An htmx request may carry the token in ``X-CSRFToken`` instead of the form field."""
    cliente = _cliente("administrador", usuarios)
    cliente.cookies["csrftoken"] = SECRETO
    url = reverse("gestion:agenda_reabrir", args=[registros["cierre_id"]])
    assert cliente.post(url, HTTP_X_CSRFTOKEN=SECRETO, HTTP_HX_REQUEST="true").status_code == 302
    assert cliente.post(url, HTTP_HX_REQUEST="true").status_code == 403


@pytest.mark.parametrize("url", ["/admin/login/", "/admin/logout/", "/admin/pacientes/cliente/add/"])
def test_admin_exige_token(url, usuarios):
    cliente = _cliente("superusuario", usuarios)
    antes = huella_bd()
    respuesta = cliente.post(url, {"username": "x", "password": "y"})
    assert respuesta.status_code == 403 and b"CSRF" in respuesta.content
    assert huella_bd() == antes
