"""Security headers on every page of both sites, HTML that a strict CSP lets run unchanged
(only nonce'd ``<script src>``; no inline handlers or styles), and the cookies' flags with
production settings. The templates on disk are scanned too, so a page no test opens cannot
hide an inline script."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as ajustes
from django.test import Client
from django.urls import reverse

from citas.tests.test_services import PASSWORD
from clinica.tests.seguridad import argumentos_de, cliente_logueado, patrones
from clinica.tests.test_tabla_de_acceso import TABLA

pytestmark = pytest.mark.django_db

RAIZ = Path(ajustes.BASE_DIR)
FILAS = dict(patrones())
PAGINAS = sorted(c for c in TABLA if "firma del proveedor" not in TABLA[c] and c != "/admin/")


class _Etiquetas(HTMLParser):
    """Every start tag with its attributes, and whether a ``<script>`` has a body."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.etiquetas = []
        self._en_script = False
        self.scripts_con_cuerpo = 0

    def handle_starttag(self, tag, attrs):
        self.etiquetas.append((tag, dict(attrs)))
        self._en_script = tag == "script"

    def handle_startendtag(self, tag, attrs):
        self.etiquetas.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        self._en_script = False

    def handle_data(self, data):
        if self._en_script and data.strip():
            self.scripts_con_cuerpo += 1


def directivas(cabecera):
    return {partes[0]: partes[1:] for d in cabecera.split(";") if (partes := d.split())}


def revisar_html(html, nonce):
    """The problems a strict CSP would have with this HTML (empty list: none)."""
    lector = _Etiquetas()
    lector.feed(html)
    problemas = []
    if lector.scripts_con_cuerpo:
        problemas.append(f"{lector.scripts_con_cuerpo} <script> con código en línea")
    for tag, attrs in lector.etiquetas:
        if tag == "script" and (not attrs.get("src") or attrs.get("nonce") != nonce):
            problemas.append(f"<script> sin src o sin el nonce de la respuesta: {attrs}")
        if tag == "style" and attrs.get("nonce") != nonce:
            problemas.append("<style> sin el nonce de la respuesta")
        for nombre, valor in attrs.items():
            if re.fullmatch(r"on\w+|hx-on.*|style", nombre):
                problemas.append(f"<{tag} {nombre}=…> (la CSP lo bloquea)")
            if nombre in ("href", "src", "action") and (valor or "").strip().lower().startswith("javascript:"):
                problemas.append(f"<{tag} {nombre}=javascript:…>")
    return problemas


def _persona(clave):
    quien = TABLA[clave]
    return "paciente" if "paciente" in quien else "administrador" if "administrador" in quien else "anonimo"


@pytest.fixture
def usuarios(paciente, administrador):
    return {"anonimo": None, "paciente": paciente, "administrador": administrador.user}


@pytest.mark.parametrize("clave", PAGINAS)
def test_cabeceras_y_csp_de_cada_pagina(clave, usuarios, registros):
    url = "/" if clave == "/" else reverse(clave, kwargs=argumentos_de(clave, FILAS[clave], registros))
    respuesta = cliente_logueado(usuarios[_persona(clave)]).get(url)
    assert respuesta.status_code < 500
    assert respuesta["X-Content-Type-Options"] == "nosniff"
    assert respuesta["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")
    csp = directivas(respuesta.get("Content-Security-Policy", ""))
    assert csp, f"{url} sin Content-Security-Policy"
    assert respuesta.get("X-Frame-Options") == "DENY" or csp.get("frame-ancestors") == ["'none'"]
    # An injected <base> or <form> cannot send links or typed data (a password) elsewhere.
    assert csp.get("base-uri") == ["'self'"] and csp.get("form-action") == ["'self'"], url
    todas = [fuente for fuentes in csp.values() for fuente in fuentes]
    assert "'unsafe-inline'" not in todas and "'unsafe-eval'" not in todas
    if respuesta.status_code != 200 or not respuesta["Content-Type"].startswith("text/html"):
        return  # a redirect, a download, a 405: no document to run
    html = respuesta.content.decode()
    if "<html" not in html:
        # An htmx fragment, swapped into a page that already loaded the scripts: none here.
        assert "<script" not in html and revisar_html(html, None) == [], url
        return
    nonces = [f.removeprefix("'nonce-").removesuffix("'") for f in csp.get("script-src", []) if f.startswith("'nonce-")]
    assert len(nonces) == 1, f"{url}: script-src sin nonce: {csp.get('script-src')}"
    assert "<script" in html, f"{url}: la página no carga htmx"
    assert revisar_html(html, nonces[0]) == [], url


def test_el_nonce_cambia_en_cada_respuesta(client):
    uno, otro = (directivas(client.get(reverse("portal:entrar"))["Content-Security-Policy"])["script-src"]
                 for _ in range(2))
    assert uno != otro


def test_el_revisor_detecta_lo_que_la_csp_bloquea():
    malo = ('<script>alert(1)</script><script src="/x.js"></script><a href="javascript:x()">a</a>'
            '<button onclick="x()">b</button><p style="color:red">c</p><div hx-on:click="x()"></div>')
    assert len(revisar_html(malo, "n")) == 7  # the inline script counts twice: body, no src
    assert revisar_html('<script src="/static/a.js" nonce="n" defer></script>', "n") == []


# Templates on disk: what no request above happens to render -----------------------------------

PLANTILLAS = sorted(
    p for p in RAIZ.glob("**/templates/**/*.html")
    if not any(parte in (".venv", "node_modules", "staticfiles") or parte.startswith(".") for parte in p.relative_to(RAIZ).parts)
)
SCRIPT_EN_LINEA = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
SCRIPT_SIN_NONCE = re.compile(r"<script\b(?![^>]*\bnonce\s*=\s*\"\{\{\s*csp_nonce\s*\}\}\")[^>]*>", re.IGNORECASE)
MANEJADOR = re.compile(r"""<[^>]*\s(on[a-z]+|hx-on[:\w-]*)\s*=""", re.IGNORECASE)
ESTILO = re.compile(r"""<[^>]*\sstyle\s*=""", re.IGNORECASE)


def test_hay_plantillas_que_revisar():
    assert len(PLANTILLAS) > 40
    assert {"gestion_clinica", "cliente_web"} <= {p.relative_to(RAIZ).parts[0] for p in PLANTILLAS}


@pytest.mark.parametrize("patron,que", [
    (SCRIPT_EN_LINEA, "<script> sin src"),
    (SCRIPT_SIN_NONCE, '<script> sin nonce="{{ csp_nonce }}"'),
    (MANEJADOR, "manejador de evento en línea (on…= / hx-on)"),
    (ESTILO, "atributo style="),
])
def test_ninguna_plantilla_trae_lo_que_la_csp_bloquea(patron, que):
    hallazgos = [f"{p.relative_to(RAIZ)}:{texto[:m.start()].count(chr(10)) + 1}"
                 for p in PLANTILLAS if (texto := p.read_text(encoding="utf-8"))
                 for m in patron.finditer(texto)]
    assert not hallazgos, f"{que} en: {hallazgos}"


# Cookies with production settings ------------------------------------------------------------


@pytest.fixture
def produccion(settings):
    """What clinica/settings.py gives with DJANGO_DEBUG=0 and DJANGO_HTTPS=1 (test_despliegue
    checks that it does), served over HTTPS (requests with ``secure=True``)."""
    settings.DEBUG = False
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.ALLOWED_HOSTS = ["clinica.example.cl"]
    return settings


def _cliente_https():
    return Client(HTTP_HOST="clinica.example.cl")


@pytest.mark.parametrize("entrar,usuario", [("portal:entrar", "rut"), ("gestion:entrar", "username")])
def test_cookies_de_sesion_y_csrf(produccion, paciente, administrador, entrar, usuario):
    cliente = _cliente_https()
    formulario = cliente.get(reverse(entrar), secure=True)
    assert formulario.status_code == 200
    assert formulario["Strict-Transport-Security"].startswith("max-age=31536000")
    csrf = formulario.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    token = csrf.value
    nombre = paciente.cliente.rut if usuario == "rut" else administrador.user.username
    clave = PASSWORD if usuario == "rut" else "clave-de-prueba-1234"
    respuesta = cliente.post(reverse(entrar), {"username": nombre, "password": clave, "csrfmiddlewaretoken": token},
                           secure=True, HTTP_REFERER=f"https://clinica.example.cl{reverse(entrar)}")
    assert respuesta.status_code == 302, "la entrada por HTTPS funciona"
    sesion = respuesta.cookies[ajustes.SESSION_COOKIE_NAME]
    assert sesion["secure"] and sesion["httponly"] and sesion["samesite"] == "Lax"


def test_http_plano_redirige_a_https(produccion):
    respuesta = Client(HTTP_HOST="clinica.example.cl").get(reverse("portal:entrar"))
    assert respuesta.status_code == 301 and respuesta.url.startswith("https://clinica.example.cl/")
