"""The whole role × URL matrix of the staff site, the 403 page, and garbage input."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from gestion_clinica.permisos import requiere_rol, rol_de

ENTRAR = reverse("gestion:entrar")

PERSONAS = ["anonimo", "administrador", "superusuario", "recepcion", "dentista", "dentista_inactivo", "paciente"]

# url name → expected status per person (GET). 302 for the anonymous is always to the login.
MATRIZ = {
    #              anonimo admin  super  recep  dent   dent_inact paciente
    "inicio":     (302,    200,   200,   200,   200,   403,       403),
    "pacientes":  (302,    200,   200,   200,   200,   403,       403),
    "agenda":     (302,    200,   200,   200,   200,   403,       403),
    "personal":   (302,    200,   200,   403,   403,   403,       403),
    "auditoria":  (302,    200,   200,   403,   403,   403,       403),
    # Staff already in go to Inicio; anyone else sees the form.
    "entrar":     (200,    302,   302,   302,   302,   200,       200),
    # Logging out is POST only.
    "salir":      (405,    405,   405,   405,   405,   405,       405),
}
CASOS = [
    (nombre, persona, esperado)
    for nombre, fila in MATRIZ.items()
    for persona, esperado in zip(PERSONAS, fila, strict=True)
]


@pytest.mark.parametrize("nombre,persona,esperado", CASOS, ids=[f"{n}-{p}" for n, p, _ in CASOS])
def test_matriz_de_roles(clientes, nombre, persona, esperado):
    url = reverse(f"gestion:{nombre}")
    respuesta = clientes[persona].get(url)
    assert respuesta.status_code == esperado
    if esperado == 302 and persona == "anonimo":
        assert respuesta.url == f"{ENTRAR}?next={url}"
    elif esperado == 302:
        assert respuesta.url == reverse("gestion:inicio")
    elif esperado == 403:
        assert "No tiene permiso para ver esta página" in respuesta.text


@pytest.mark.parametrize("persona", PERSONAS)
def test_salir_por_post_para_todos(clientes, persona):
    respuesta = clientes[persona].post(reverse("gestion:salir"))
    assert respuesta.status_code == 302
    assert respuesta.url == ENTRAR


@pytest.mark.parametrize("persona", PERSONAS)
def test_pagina_de_activacion_responde_a_todos(clientes, persona):
    assert clientes[persona].get(reverse("gestion:activar", args=["eA", "x-y"])).status_code == 200


def test_menu_segun_rol(clientes):
    def enlaces(persona):
        texto = clientes[persona].get(reverse("gestion:inicio")).text
        return {nombre for nombre in ("personal", "auditoria", "agenda") if f'href="{reverse(f"gestion:{nombre}")}"' in texto}

    assert enlaces("administrador") == {"personal", "auditoria", "agenda"}
    assert enlaces("superusuario") == {"personal", "auditoria", "agenda"}
    assert enlaces("recepcion") == {"agenda"}
    assert enlaces("dentista") == {"agenda"}


def test_403_por_rol_dice_cual_es_el_rol(clientes):
    respuesta = clientes["recepcion"].get(reverse("gestion:personal"))
    assert "Su rol (Recepción) no incluye esta sección" in respuesta.text


def test_403_del_paciente_ofrece_entrar_como_personal(clientes):
    respuesta = clientes["paciente"].get(reverse("gestion:inicio"))
    assert "solo para el personal activo" in respuesta.text
    assert f'action="{reverse("gestion:salir")}"' in respuesta.text


def test_rol_de(administrador, superusuario, dentista_inactivo, usuario_paciente, dentista):
    assert rol_de(AnonymousUser()) is None
    assert rol_de(administrador.user) == "administrador"
    assert rol_de(superusuario) == "administrador"
    assert rol_de(dentista.user).label == "Dentista"
    assert rol_de(dentista_inactivo.user) is None
    assert rol_de(usuario_paciente) is None
    # A superuser whose staff profile was deactivated is refused too: deactivation wins.
    dentista_inactivo.user.is_superuser = True
    assert rol_de(dentista_inactivo.user) is None


def test_requiere_rol_rechaza_roles_desconocidos():
    with pytest.raises(ValueError):
        requiere_rol("jefe")
    with pytest.raises(ValueError):
        requiere_rol()


BASURA = [
    "?next=https://malo.example/",
    "?next=javascript:alert(1)",
    "?next=%00",
    "?fecha=9999-99-99&dentista=abc&page=-1",
    "?q=%27%20OR%201%3D1--",
    "?q=%ff%fe%00",
    "?q=" + "x" * 5000,
    "?a[]=1&a[]=2&a=%",
    "?%00=%00",
    "?next=" + "/" * 2000,
]


@pytest.mark.parametrize("persona", ["anonimo", "administrador", "dentista", "paciente"])
@pytest.mark.parametrize("nombre", [n for n in MATRIZ if n != "salir"])
def test_basura_en_la_url_no_es_500(clientes, persona, nombre):
    url = reverse(f"gestion:{nombre}")
    for consulta in BASURA:
        respuesta = clientes[persona].get(url + consulta)
        assert respuesta.status_code in (200, 302, 403), (consulta, respuesta.status_code)
        if respuesta.status_code == 302:
            assert not respuesta.url.startswith(("http", "javascript", "//")), respuesta.url


@pytest.mark.parametrize(
    "datos",
    [
        {},
        {"username": "\x00", "password": "\x00"},
        {"username": "a" * 10_000, "password": "b"},
        {"username": ["x", "y"], "password": "z"},
        {"username": "' OR 1=1 --", "password": "%", "next": "//malo.example"},
    ],
)
def test_basura_al_entrar_no_es_500(client, db, datos):
    respuesta = client.post(ENTRAR, datos)
    assert respuesta.status_code == 200


def test_htmx_sin_sesion_navega_la_pagina_entera_al_login(client, db):
    respuesta = client.get(
        reverse("gestion:agenda"), headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/gestion/agenda/?dia=2"}
    )
    assert respuesta.status_code == 200
    assert respuesta.headers["HX-Redirect"] == f"{ENTRAR}?next=/gestion/agenda/%3Fdia%3D2"


def test_requiere_rol_en_una_vista(rf, recepcionista, dentista):
    from django.http import HttpResponse

    from gestion_clinica.permisos import RECEPCION

    @requiere_rol(RECEPCION)
    def vista(request):
        return HttpResponse(request.rol_personal.label)

    from django_otp.middleware import OTPMiddleware

    from pruebas.soporte import dispositivo_de_prueba

    def verificado(user):  # as django-otp's middleware leaves a session verified with a device
        OTPMiddleware._init_user_fields(user)
        user.otp_device = dispositivo_de_prueba(user)
        return user

    sin_verificar = type(recepcionista.user).objects.get(pk=recepcionista.user.pk)
    OTPMiddleware._init_user_fields(sin_verificar)
    respuestas = {}
    for persona, user in (("recepcion", verificado(recepcionista.user)), ("dentista", verificado(dentista.user)),
                          ("anonimo", AnonymousUser()), ("recepcion_sin_verificar", sin_verificar)):
        peticion = rf.get("/gestion/x/")
        peticion.user = user
        respuestas[persona] = vista(peticion)
    assert respuestas["recepcion_sin_verificar"].status_code == 302
    assert respuestas["recepcion_sin_verificar"].url == f"{reverse('gestion:segundo_factor')}?next=/gestion/x/"
    assert respuestas["recepcion"].status_code == 200
    assert respuestas["recepcion"].content.decode() == RECEPCION.label
    assert respuestas["dentista"].status_code == 403
    assert respuestas["anonimo"].status_code == 302
    assert respuestas["anonimo"].url == f"{ENTRAR}?next=/gestion/x/"
