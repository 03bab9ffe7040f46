"""The sites' adapter (``CLINICA_ENLACES``) builds every link the domain sends: each one is an
absolute address on the right site that resolves to the page it names, in the one-process
URLconf and in the split ones alike."""

from urllib.parse import urlsplit

import pytest
from django.urls import resolve

from nucleo.enlaces import enlaces

CASOS = [
    ("activacion_paciente", {"uidb64": "MQ", "token": "abc-123"}, "portal:activar", "portal"),
    ("activacion_personal", {"uidb64": "Mg", "token": "def-456"}, "gestion:activar", "gestion"),
    ("recordatorio", {"token": "eJxz:1vX:a_b-c"}, "portal:recordatorio_enlace", "portal"),
    ("cambio_de_correo", {"token": "eJx.ABC:xyz"}, "portal:cuenta_correo_confirmar", "portal"),
    ("deshacer_cambio_de_correo", {"token": "eJx.ABC:xyz"}, "portal:cuenta_correo_deshacer", "portal"),
    ("verificacion_registro", {"token": "eJx.ABC:xyz"}, "portal:registro_verificar", "portal"),
    ("entrar_portal", {}, "portal:entrar", "portal"),
    ("recuperar_clave", {}, "portal:recuperar_clave", "portal"),
]
URLCONF_DEL_SITIO = {"portal": "clinica.urls_portal", "gestion": "clinica.urls_gestion"}


@pytest.mark.parametrize(("metodo", "argumentos", "vista", "sitio"), CASOS)
def test_cada_enlace_lleva_a_su_pagina(settings, metodo, argumentos, vista, sitio):
    settings.CLINICA_URL_PORTAL = "https://portal.clinica.example"
    settings.CLINICA_URL_GESTION = "https://gestion.clinica.example"
    url = urlsplit(getattr(enlaces(), metodo)(**argumentos))
    assert f"{url.scheme}://{url.netloc}" == f"https://{sitio}.clinica.example"
    for urlconf in ("clinica.urls", URLCONF_DEL_SITIO[sitio]):
        encontrada = resolve(url.path, urlconf=urlconf)
        assert encontrada.view_name == vista
        assert encontrada.kwargs == argumentos


def test_la_descarga_de_un_documento_es_una_ruta_del_portal():
    ruta = enlaces().descarga_documento(documento_id=42)
    encontrada = resolve(ruta, urlconf="clinica.urls_portal")
    assert (encontrada.view_name, encontrada.kwargs) == ("portal:documento", {"pk": 42})


def test_la_eliminacion_de_un_paciente_es_una_ruta_del_sitio_del_personal():
    ruta = enlaces().eliminacion_paciente(cliente_id=7)
    for urlconf in ("clinica.urls", "clinica.urls_gestion"):
        encontrada = resolve(ruta, urlconf=urlconf)
        assert (encontrada.view_name, encontrada.kwargs) == ("gestion:paciente_eliminar", {"cliente_id": 7})


def test_la_pagina_de_una_cita_es_una_direccion_absoluta_del_portal(settings):
    """Every notice about an appointment links to its page (issue 14), on the portal's base."""
    settings.CLINICA_URL_PORTAL = "https://portal.clinica.example"

    class Reserva:
        pk = 58

    url = urlsplit(enlaces().cita(Reserva()))
    assert f"{url.scheme}://{url.netloc}" == "https://portal.clinica.example"
    for urlconf in ("clinica.urls", "clinica.urls_portal"):
        encontrada = resolve(url.path, urlconf=urlconf)
        assert (encontrada.view_name, encontrada.kwargs) == ("portal:cita", {"pk": 58})
