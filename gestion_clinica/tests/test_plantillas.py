"""The layout works under the CSP: scripts carry the request's nonce, nothing inline, and the
vendored files are where the templates look for them."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from pruebas.soporte import iniciar_sesion

ARCHIVOS = [
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/htmx/htmx.min.js",
    "gestion_clinica/gestion.css",
]


@pytest.mark.parametrize("ruta", ARCHIVOS)
def test_archivos_estaticos_presentes(ruta):
    assert finders.find(ruta)


def test_bootstrap_conserva_su_licencia():
    with open(finders.find("vendor/bootstrap/bootstrap.min.css"), encoding="utf-8") as archivo:
        assert "Licensed under MIT" in archivo.read(400)


@pytest.mark.parametrize("nombre,persona", [("entrar", "anonimo"), ("inicio", "administrador"), ("personal", "recepcion")])
def test_scripts_con_nonce_y_nada_en_linea(clientes, nombre, persona):
    respuesta = clientes[persona].get(reverse(f"gestion:{nombre}"))
    politica = respuesta.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", politica).group(1)
    html = respuesta.text
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 2
    assert all(f'nonce="{nonce}"' in s and "src=" in s for s in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html), "manejador en línea"
    assert not re.search(r"\sstyle\s*=", html), "estilo en línea"
    assert "<style" not in html


def test_mensajes_se_muestran(client, recepcionista):
    iniciar_sesion(client, recepcionista.user)
    respuesta = client.post(reverse("gestion:salir"), follow=True)
    assert 'class="alert alert-info' in respuesta.text
