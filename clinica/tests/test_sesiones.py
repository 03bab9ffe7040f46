"""Sessions end: idle and absolute lifetimes (shorter for staff), and the account's other
sessions after a password or e-mail change (the current one stays). Time is frozen by writing
the session's own timestamps, never by sleeping."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from cliente_web.tests.conftest import CLAVE_PACIENTE, cliente_de
from notificaciones.models import Notificacion
from nucleo.sesiones import INICIO, LOGIN, ULTIMO_USO
from pruebas.soporte import iniciar_sesion

pytestmark = pytest.mark.django_db

CUENTA = "/portal/cuenta/"
NUEVA = "Hilo-Dental-2027"


def envejecer(cliente, *, sin_uso=0, desde_inicio=0):
    """Make ``cliente``'s session look ``sin_uso`` seconds unused and ``desde_inicio`` old."""
    sesion = cliente.session
    ahora = int(time.time())
    sesion[ULTIMO_USO] = ahora - sin_uso
    sesion[INICIO] = ahora - max(desde_inicio, sin_uso)
    sesion.save()


def cerrada(cliente, url, entrada, mensaje):
    respuesta = cliente.get(url)
    assert respuesta.status_code == 302 and respuesta["Location"].startswith(entrada + "?next="), respuesta
    pagina = cliente.get(respuesta["Location"])
    assert mensaje in pagina.content.decode()
    # Logged out for good: the next page asks to log in again.
    assert cliente.get(url).status_code == 302


def test_la_sesion_del_portal_vence_por_inactividad(paciente, settings):
    portal = cliente_de(paciente)
    envejecer(portal, sin_uso=settings.CLINICA_SESION_INACTIVIDAD_PORTAL - 60)
    assert portal.get(CUENTA).status_code == 200  # just under the limit: still open (and used now)
    assert portal.session[ULTIMO_USO] >= int(time.time()) - 5
    envejecer(portal, sin_uso=settings.CLINICA_SESION_INACTIVIDAD_PORTAL + 1)
    cerrada(portal, CUENTA, "/portal/entrar/", "Su sesión se cerró por inactividad.")


def test_la_sesion_del_portal_vence_aunque_se_use(paciente, settings):
    portal = cliente_de(paciente)
    envejecer(portal, desde_inicio=settings.CLINICA_SESION_MAXIMA_PORTAL - 60)
    assert portal.get(CUENTA).status_code == 200
    envejecer(portal, desde_inicio=settings.CLINICA_SESION_MAXIMA_PORTAL + 1)
    cerrada(portal, CUENTA, "/portal/entrar/", "Su sesión duró el máximo permitido")


def test_el_personal_tiene_limites_mas_cortos(administrador, paciente, settings):
    assert settings.CLINICA_SESION_INACTIVIDAD_PERSONAL < settings.CLINICA_SESION_INACTIVIDAD_PORTAL
    assert settings.CLINICA_SESION_MAXIMA_PERSONAL < settings.CLINICA_SESION_MAXIMA_PORTAL
    sin_uso = settings.CLINICA_SESION_INACTIVIDAD_PERSONAL + 1
    portal = cliente_de(paciente)
    envejecer(portal, sin_uso=sin_uso)
    assert portal.get(CUENTA).status_code == 200  # a patient's session still lives
    gestion = cliente_de(administrador.user)
    envejecer(gestion, sin_uso=sin_uso)
    cerrada(gestion, reverse("gestion:agenda"), reverse("gestion:entrar"), "Su sesión se cerró por inactividad.")
    gestion = cliente_de(administrador.user)
    envejecer(gestion, desde_inicio=settings.CLINICA_SESION_MAXIMA_PERSONAL + 1)
    cerrada(gestion, reverse("gestion:agenda"), reverse("gestion:entrar"), "Su sesión duró el máximo permitido")


def test_htmx_recibe_una_redireccion_del_cliente(administrador, settings):
    gestion = cliente_de(administrador.user)
    envejecer(gestion, sin_uso=settings.CLINICA_SESION_INACTIVIDAD_PERSONAL + 1)
    respuesta = gestion.get(reverse("gestion:agenda"), headers={"HX-Request": "true"})
    assert respuesta["HX-Redirect"].startswith(reverse("gestion:entrar") + "?next=")
    assert "Su sesión se cerró por inactividad." in gestion.get(respuesta["HX-Redirect"]).content.decode()


def test_entrar_de_nuevo_reinicia_la_sesion(paciente, settings):
    cliente = Client()
    assert cliente.post("/portal/entrar/", {"username": paciente.email, "password": CLAVE_PACIENTE}).status_code == 302
    envejecer(cliente, desde_inicio=settings.CLINICA_SESION_MAXIMA_PORTAL - 10)
    # A login over the same old session (django.contrib.auth.login keeps its data) starts its
    # lifetime again.
    iniciar_sesion(cliente, paciente)
    assert cliente.session[INICIO] >= int(time.time()) - 5
    assert cliente.session[LOGIN] == paciente.username


def test_cambiar_la_clave_cierra_las_otras_sesiones(paciente):
    esta, otra = cliente_de(paciente), cliente_de(paciente)
    assert otra.get(CUENTA).status_code == 200
    respuesta = esta.post("/portal/cuenta/clave/", {"old_password": CLAVE_PACIENTE, "new_password1": NUEVA,
                                                    "new_password2": NUEVA})
    assert respuesta.status_code == 302
    assert esta.get(CUENTA).status_code == 200
    assert otra.get(CUENTA).status_code == 302


def test_cambiar_el_correo_cierra_las_otras_sesiones(paciente):
    esta, otra = cliente_de(paciente), cliente_de(paciente)
    nuevo = "nuevo.correo@correo.example"
    respuesta = esta.post("/portal/cuenta/contacto/", {"email": nuevo, "telefono": str(paciente.cliente.telefono),
                                                       "fecha_nacimiento": "", "password": CLAVE_PACIENTE})
    assert respuesta.status_code == 302
    assert otra.get(CUENTA).status_code == 200  # requested only: nothing ends yet
    aviso = Notificacion.objects.filter(plantilla="cambio_correo_confirmar").latest("pk")
    ruta = re.search(r"(/portal/cuenta/correo/[^/\s]+/)", aviso.cuerpo).group(1)
    assert esta.post(ruta).status_code == 200  # confirmed in this session's browser
    assert esta.get(CUENTA).status_code == 200
    cerrada(otra, CUENTA, "/portal/entrar/", "cambió el correo de su cuenta")


def test_confirmar_el_correo_sin_sesion_cierra_todas(paciente):
    abierta = cliente_de(paciente)
    abierta.post("/portal/cuenta/contacto/", {"email": "otro.nuevo@correo.example",
                                             "telefono": str(paciente.cliente.telefono), "fecha_nacimiento": "",
                                             "password": CLAVE_PACIENTE})
    aviso = Notificacion.objects.filter(plantilla="cambio_correo_confirmar").latest("pk")
    ruta = re.search(r"(/portal/cuenta/correo/[^/\s]+/)", aviso.cuerpo).group(1)
    assert Client().post(ruta).status_code == 200
    assert abierta.get(CUENTA).status_code == 302
