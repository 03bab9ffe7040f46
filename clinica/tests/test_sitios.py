"""The two-process mode (``CLINICA_SITIO``): each site alone serves all of its pages, none of
the other's, and no page of one site reverses the other's namespace (that would be a 500 in the
split deployment). Pages are walked from each site's URLconf, as the matrix tests do."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as ajustes
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

import cliente_web.tests.test_matriz_completa as matriz_portal
import gestion_clinica.tests.test_matriz_completa as matriz_gestion
from clinica.sitios import urlconf_del_sitio
from cliente_web.tests.conftest import cliente_de
from cliente_web.tests.conftest import paciente  # noqa: F401  (fixture)
from cliente_web.tests.test_matriz_completa import objetos  # noqa: F401  (fixture)
from gestion_clinica.tests.conftest import usuario_paciente  # noqa: F401  (fixture)
from gestion_clinica.tests.test_matriz_completa import argumentos  # noqa: F401  (fixture)
from pruebas.soporte import iniciar_sesion

RAIZ = Path(__file__).resolve().parents[2]


# The selector ---------------------------------------------------------------------------------

@pytest.mark.parametrize("nombre,modulo", [
    ("ambos", "clinica.urls"), ("gestion", "clinica.urls_gestion"), ("portal", "clinica.urls_portal"),
    ("", "clinica.urls"), (" Portal ", "clinica.urls_portal"),
])
def test_urlconf_del_sitio(nombre, modulo):
    assert urlconf_del_sitio(nombre) == modulo


@pytest.mark.parametrize("nombre", ["personal", "cliente_web", "gestion,portal", "<script>"])
def test_sitio_desconocido_se_rechaza_con_los_valores_validos(nombre):
    with pytest.raises(ImproperlyConfigured, match="no es válido. Use uno de: ambos, gestion, portal"):
        urlconf_del_sitio(nombre)


def _settings_con(sitio):
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.ROOT_URLCONF)"],
        cwd=RAIZ, env={**os.environ, "DJANGO_SETTINGS_MODULE": "clinica.settings", "CLINICA_SITIO": sitio,
                      "DJANGO_SECRET_KEY": "clave-de-prueba-de-los-sitios-" + "x" * 40},
        capture_output=True, text=True, timeout=60,
    )


def test_settings_elige_el_urlconf_por_clinica_sitio():
    assert _settings_con("portal").stdout.strip() == "clinica.urls_portal"
    malo = _settings_con("otro")
    assert malo.returncode != 0 and "CLINICA_SITIO='otro' no es válido" in malo.stderr


# The portal alone -----------------------------------------------------------------------------

@pytest.fixture
def solo_portal(settings):
    settings.ROOT_URLCONF = "clinica.urls_portal"
    settings.CLINICA_URL_GESTION = "https://personal.clinica.example"


@pytest.fixture
def clientes_portal(paciente, recepcionista):  # noqa: F811
    return {"anonimo": Client(), "paciente": cliente_de(paciente), "personal": cliente_de(recepcionista.user)}


@pytest.mark.django_db
@pytest.mark.parametrize("ruta", ["/gestion/", "/gestion/entrar/", "/gestion/pacientes/", "/admin/", "/admin/login/"])
def test_solo_portal_no_tiene_paginas_del_personal(solo_portal, client, ruta):
    with pytest.raises(Resolver404):
        resolve(ruta)
    assert client.get(ruta).status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("gestion:inicio")


@pytest.mark.django_db
def test_solo_portal_la_raiz_lleva_al_portal_y_los_webhooks_responden(solo_portal, client):
    respuesta = client.get("/")
    assert respuesta.status_code == 302 and respuesta.url == "/portal/"
    assert resolve("/webhooks/twilio/").view_name == "webhooks:twilio"
    assert client.post("/webhooks/twilio/", {"Body": "BAJA"}).status_code == 403  # unsigned


@pytest.mark.django_db
@pytest.mark.parametrize("nombre", matriz_portal.NOMBRES)
def test_solo_portal_toda_pagina_se_muestra(solo_portal, clientes_portal, objetos, nombre):  # noqa: F811
    url, _ = matriz_portal.url_de(nombre, objetos)
    solo_post = clientes_portal["paciente"].get(url).status_code == 405
    for persona, cliente in clientes_portal.items():
        respuesta = (cliente.post if solo_post else cliente.get)(url)
        assert respuesta.status_code < 500, (persona, url)


@pytest.mark.django_db
def test_solo_portal_el_personal_ve_el_enlace_absoluto_al_sitio_de_gestion(solo_portal, recepcionista):
    respuesta = cliente_de(recepcionista.user).get("/portal/citas/")
    assert respuesta.status_code == 403
    assert 'href="https://personal.clinica.example/gestion/"' in respuesta.text


@pytest.mark.django_db
def test_un_proceso_el_enlace_al_sitio_de_gestion_es_relativo(recepcionista):
    assert ajustes.ROOT_URLCONF == "clinica.urls"
    respuesta = cliente_de(recepcionista.user).get("/portal/citas/")
    assert respuesta.status_code == 403 and 'href="/gestion/"' in respuesta.text


# The staff site alone -------------------------------------------------------------------------

@pytest.fixture
def solo_gestion(settings):
    settings.ROOT_URLCONF = "clinica.urls_gestion"


@pytest.fixture
def clientes_gestion(crear_personal, recepcionista, dentista, usuario_paciente):  # noqa: F811
    administrador = crear_personal(rol="administrador", nombre="Ana", apellido="Admin")
    return {"anonimo": Client(), "administrador": cliente_de(administrador.user),
            "recepcion": cliente_de(recepcionista.user), "dentista": cliente_de(dentista.user),
            "paciente": cliente_de(usuario_paciente)}


@pytest.mark.django_db
@pytest.mark.parametrize("ruta", ["/portal/", "/portal/entrar/", "/portal/registro/", "/webhooks/twilio/",
                                  "/webhooks/meta/"])
def test_solo_gestion_no_tiene_paginas_del_portal(solo_gestion, client, ruta):
    with pytest.raises(Resolver404):
        resolve(ruta)
    assert client.get(ruta).status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("portal:inicio")


@pytest.mark.django_db
def test_solo_gestion_la_raiz_lleva_a_gestion_y_el_admin_sigue(solo_gestion, client, admin_user):
    respuesta = client.get("/")
    assert respuesta.status_code == 302 and respuesta.url == "/gestion/"
    iniciar_sesion(client, admin_user)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("nombre", [p.name for p in matriz_gestion.urlpatterns])
def test_solo_gestion_toda_pagina_se_muestra(solo_gestion, clientes_gestion, argumentos, nombre):  # noqa: F811
    url = _url_gestion(nombre, argumentos)
    solo_post = clientes_gestion["administrador"].get(url).status_code == 405
    for persona, cliente in clientes_gestion.items():
        respuesta = (cliente.post if solo_post else cliente.get)(url)
        assert respuesta.status_code < 500, (persona, url)


def _url_gestion(nombre, argumentos):  # noqa: F811  (a parameter, not the fixture)
    patron = next(p for p in matriz_gestion.urlpatterns if p.name == nombre)
    # The invitation link's uidb64/token: an invalid one still renders its page.
    kwargs = {clave: argumentos.get(clave, "no-es-valido") for clave in patron.pattern.converters}
    return reverse(f"gestion:{nombre}", kwargs=kwargs)


# No template or view of one site names the other's namespace ---------------------------------

REFERENCIA = {
    "cliente_web": re.compile(r"""["'](gestion|admin):"""),
    "gestion_clinica": re.compile(r"""["'](portal|webhooks):"""),
}


@pytest.mark.parametrize("paquete", sorted(REFERENCIA))
def test_ningun_sitio_invierte_el_espacio_de_nombres_del_otro(paquete):
    patron = REFERENCIA[paquete]
    culpables = [
        f"{archivo.relative_to(RAIZ)}:{n}"
        for archivo in sorted((RAIZ / paquete).rglob("*"))
        if archivo.suffix in (".html", ".py", ".txt") and "tests" not in archivo.parts
        for n, linea in enumerate(archivo.read_text(errors="replace").splitlines(), 1)
        if patron.search(linea)
    ]
    assert culpables == [], "use url_gestion / url_portal (clinica/contexto.py) para enlazar al otro sitio"
