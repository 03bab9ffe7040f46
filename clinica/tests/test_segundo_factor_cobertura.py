"""No staff page without the second factor: every URL of the staff site (namespace ``gestion``,
ids filled from the records of the access table's fixture) and the admin, asked by enrolled
people who gave their password only, answers a redirect to the second-factor step (or 403),
never the page. The same people, verified, get through. Someone not enrolled is sent to the
enrolment."""

import pytest
from django.test import Client
from django.urls import reverse

from clinica.tests.seguridad import argumentos_de
from clinica.tests.test_tabla_de_acceso import FILAS, TABLA, _pedir
from personal.models import Rol
from pruebas.soporte import dispositivo_de_prueba, huella_bd, iniciar_sesion

pytestmark = pytest.mark.django_db

PASO = reverse("gestion:segundo_factor")
# The pages before the second factor: the login, the logout, the invitation's link and the step
# itself (enrolment and code).
ANTES_DEL_SEGUNDO_FACTOR = {"gestion:entrar", "gestion:salir", "gestion:activar", "gestion:segundo_factor",
                            "gestion:segundo_factor_inscribir"}
DEL_PERSONAL = sorted(c for c in FILAS if c.startswith("gestion:"))
PROTEGIDAS = [c for c in DEL_PERSONAL if c not in ANTES_DEL_SEGUNDO_FACTOR]
ADMIN = ("/admin/", "/admin/pacientes/cliente/", "/admin/auth/user/", "/admin/personal/perfil/")


def test_la_lista_cubre_el_sitio_del_personal():
    """Every staff URL is either protected here or, by name, one of the few before the step;
    those few are public in the access table, or the step's own pages."""
    assert len(PROTEGIDAS) > 40
    assert ANTES_DEL_SEGUNDO_FACTOR <= set(DEL_PERSONAL)
    for clave in ANTES_DEL_SEGUNDO_FACTOR - {"gestion:segundo_factor", "gestion:segundo_factor_inscribir"}:
        assert TABLA[clave] == {"publica"}, clave


@pytest.fixture
def inscritos(administrador, recepcionista, dentista, superusuario):
    """One enrolled member per role (the access table's people: the records' appointments are
    the dentist's own) and the superuser."""
    personas = {Rol.ADMINISTRADOR.value: administrador.user, Rol.RECEPCION.value: recepcionista.user,
                Rol.DENTISTA.value: dentista.user, "superusuario": superusuario}
    for user in personas.values():
        dispositivo_de_prueba(user)
    return personas


def _url(clave, registros):
    return reverse(clave, kwargs=argumentos_de(clave, FILAS[clave], registros))


def test_sin_segundo_factor_ninguna_pagina_del_personal(inscritos, registros):
    for persona, user in inscritos.items():
        cliente = iniciar_sesion(Client(), user, segundo_factor=False)
        for clave in PROTEGIDAS:
            url = _url(clave, registros)
            antes = huella_bd()
            metodo, respuesta = _pedir(cliente, url)
            caso = f"{persona} sin verificar: {metodo} {url} → {respuesta.status_code}"
            assert respuesta.status_code in (302, 403), caso
            if respuesta.status_code == 302:
                assert respuesta.url.startswith(f"{PASO}?next="), caso
            assert huella_bd() == antes, f"{caso}: cambió la base de datos"


def test_sin_segundo_factor_tampoco_el_admin(inscritos):
    cliente = iniciar_sesion(Client(), inscritos["superusuario"], segundo_factor=False)
    for url in ADMIN:
        respuesta = cliente.get(url, follow=True)
        caso = f"superusuario sin verificar: {url}"
        assert respuesta.redirect_chain, caso
        assert respuesta.redirect_chain[-1][0].startswith(f"{PASO}?next="), caso
        assert "Ingrese el código de su aplicación" in respuesta.text, caso


def test_con_segundo_factor_pasan(inscritos, registros):
    """The same people verified: each page they may use answers (the access table's rows)."""
    clientes = {persona: iniciar_sesion(Client(), user) for persona, user in inscritos.items()}
    for clave in PROTEGIDAS:  # URL by URL: a page is read by all before a later POST changes it
        url = _url(clave, registros)
        for persona, cliente in clientes.items():
            rol = "administrador" if persona == "superusuario" else persona
            if rol not in TABLA[clave]:
                continue
            metodo, respuesta = _pedir(cliente, url)
            caso = f"{persona} verificado: {metodo} {url} → {respuesta.status_code}"
            # A POST of an earlier person may have used the record up (a closure reopened): a 404
            # then comes from the view itself, past the gate.
            assert respuesta.status_code in ((200, 302, 404) if metodo == "POST" else (200, 302)), caso
            if respuesta.status_code == 302:
                assert not respuesta.url.startswith(PASO) and not respuesta.url.startswith("/gestion/entrar/"), caso
    admin = iniciar_sesion(Client(), inscritos["superusuario"])
    for url in ADMIN:
        assert admin.get(url).status_code == 200, url


def test_quien_no_se_inscribio_va_a_configurar(crear_personal, superusuario):
    """The first login of every role (and of the superuser, also from the admin's login) ends
    on the enrolment page, whatever page was asked for."""
    for user in [crear_personal(rol=rol).user for rol in Rol.values]:
        cliente = Client()
        cliente.post(reverse("gestion:entrar"), {"username": user.username, "password": "clave-de-prueba-1234"})
        respuesta = cliente.get(reverse("gestion:agenda"), follow=True)
        assert respuesta.redirect_chain[-1][0].startswith(reverse("gestion:segundo_factor_inscribir")), user
        assert "Configure su segundo factor" in respuesta.text
    cliente = Client()
    respuesta = cliente.post("/admin/login/?next=/admin/", {"username": superusuario.username,
                                                             "password": "clave-de-prueba-1234"}, follow=True)
    assert respuesta.redirect_chain[-1][0] == f"{reverse('gestion:segundo_factor_inscribir')}?next=%2Fadmin%2F"
    assert "Configure su segundo factor" in respuesta.text
