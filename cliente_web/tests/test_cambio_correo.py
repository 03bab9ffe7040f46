"""Portal: a new e-mail becomes the login only from the link sent to it
(``portal:cuenta_correo_confirmar``), end to end through the real SMTP server and worker; the
link's page without a session, its CSRF, and every refusal as a Spanish page, never a 500."""

import re
import time

import hypothesis
import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from hypothesis import strategies as st

from cliente_web.tests.conftest import CLAVE_PACIENTE, cliente_de
from cuentas.services import SAL_CAMBIO_CORREO
from notificaciones.models import Notificacion
from pruebas.soporte import ejecutar_worker, huella_bd
from pacientes.models import Cliente
from pacientes.services import actualizar_cliente

pytestmark = pytest.mark.django_db

CONTACTO = "/portal/cuenta/contacto/"
NUEVO = "nuevo.correo@correo.example"
ENLACE = re.compile(r"https?://\S+(/portal/cuenta/correo/[^/\s]+/)")


def entra(usuario) -> bool:
    return Client().post("/portal/entrar/", {"username": usuario, "password": CLAVE_PACIENTE}).status_code == 302


def pedir_cambio(portal, paciente, email=NUEVO):
    respuesta = portal.post(CONTACTO, {"email": email, "telefono": str(paciente.cliente.telefono),
                                       "fecha_nacimiento": "", "password": CLAVE_PACIENTE})
    assert respuesta.status_code == 302, respuesta.content.decode()[:2000]


def ruta_enviada(paciente):
    aviso = Notificacion.objects.filter(cliente_id=paciente.cliente.pk, plantilla="cambio_correo_confirmar").latest("pk")
    return ENLACE.search(aviso.cuerpo).group(1)


@pytest.mark.django_db(transaction=True)
def test_de_punta_a_punta_con_el_servidor_smtp(servidor_smtp, cola_vacia, paciente):
    anterior = paciente.cliente.email
    portal = cliente_de(paciente)
    pedir_cambio(portal, paciente, email=NUEVO.upper())
    html = portal.get("/portal/cuenta/").content.decode()
    assert f"Le enviamos un enlace a {NUEVO}; su correo cambiará cuando lo abra." in html
    ejecutar_worker()

    (al_nuevo,) = servidor_smtp.para(NUEVO)
    # The old address also got the registration's welcome: only the notice is ours.
    (al_anterior,) = [m for m in servidor_smtp.para(anterior) if "correo" in m.asunto]
    assert "confirme su nuevo correo" in al_nuevo.asunto
    ruta = ENLACE.search(al_nuevo.cuerpo).group(1)
    assert "se pidió cambiar el correo" in al_anterior.asunto
    assert "llame a la clínica al" in al_anterior.cuerpo
    assert "/portal/cuenta/correo/" not in al_anterior.cuerpo and NUEVO not in al_anterior.cuerpo

    # Until the link's button is pressed, the old e-mail is the login.
    assert entra(anterior) and not entra(NUEVO)
    anonimo = Client()
    antes = huella_bd()
    pagina = anonimo.get(ruta)
    assert pagina.status_code == 200 and "Confirmar mi nuevo correo" in pagina.content.decode()
    assert pagina["X-Robots-Tag"] == "noindex, nofollow" and "no-cache" in pagina["Cache-Control"]
    assert huella_bd() == antes  # a link scanner's GET changes nothing

    hecho = anonimo.post(ruta)
    assert hecho.status_code == 200 and "su correo quedó cambiado" in hecho.content.decode()
    assert entra(NUEVO) and not entra(anterior)
    ficha = Cliente.objects.select_related("user").get(pk=paciente.cliente.pk)
    assert ficha.email == ficha.user.email == ficha.user.username == NUEVO

    otra_vez = Client().post(ruta)
    assert otra_vez.status_code == 200 and "Su correo ya estaba confirmado" in otra_vez.content.decode()
    assert "Su nuevo correo ya estaba confirmado" in Client().get(ruta).content.decode()


DESHACER = re.compile(r"https?://[^\s]+(/portal/cuenta/correo-deshacer/[^/\s]+/)")


@pytest.mark.django_db(transaction=True)
def test_toma_de_cuenta_con_una_sesion_abierta_se_deshace_desde_el_correo_anterior(servidor_smtp, cola_vacia,
                                                                                    paciente):
    """A borrowed phone with an open session: no password, no change; with it (the thief knows
    it), the old address's notice undoes the change even after the thief confirmed, locks the
    account and ends the thief's session."""
    anterior = paciente.cliente.email
    ladron = cliente_de(paciente)
    antes = huella_bd()
    sin_clave = ladron.post(CONTACTO, {"email": NUEVO, "telefono": str(paciente.cliente.telefono),
                                       "fecha_nacimiento": ""})
    assert sin_clave.status_code == 200 and "escriba su contraseña actual" in sin_clave.content.decode()
    assert huella_bd() == antes

    pedir_cambio(ladron, paciente)
    ejecutar_worker()
    (al_nuevo,) = servidor_smtp.para(NUEVO)
    (al_anterior,) = [m for m in servidor_smtp.para(anterior) if "correo" in m.asunto]
    assert ladron.post(ENLACE.search(al_nuevo.cuerpo).group(1)).status_code == 200  # the thief confirms
    assert entra(NUEVO) and not entra(anterior)

    deshacer = DESHACER.search(al_anterior.cuerpo).group(1)
    dueno = Client()
    antes = huella_bd()
    pagina = dueno.get(deshacer)
    assert pagina.status_code == 200 and "No fui yo" in pagina.content.decode()
    assert huella_bd() == antes  # a mail scanner's GET changes nothing
    hecho = dueno.post(deshacer)
    assert hecho.status_code == 200 and "Llame a la clínica" in hecho.content.decode()
    ficha = Cliente.objects.select_related("user").get(pk=paciente.cliente.pk)
    assert ficha.email == ficha.user.username == anterior and not ficha.user.is_active
    # The thief's session is over; nobody logs in until the clinic reviews it.
    assert ladron.get("/portal/cuenta/").status_code == 302
    assert not entra(NUEVO) and not entra(anterior)
    ejecutar_worker()
    assert any("bloqueamos su cuenta" in m.asunto for m in servidor_smtp.para(anterior))


def test_la_pagina_del_enlace_pide_csrf_en_el_post(portal, paciente):
    pedir_cambio(portal, paciente)
    ruta = ruta_enviada(paciente)
    estricto = Client(enforce_csrf_checks=True)
    assert 'name="csrfmiddlewaretoken"' in estricto.get(ruta).content.decode()
    antes = huella_bd()
    assert estricto.post(ruta).status_code == 403
    assert huella_bd() == antes


def _vencido(ruta):
    token = ruta.rsplit("/", 2)[1]
    datos = signing.loads(token, salt=SAL_CAMBIO_CORREO)

    class Firmador(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 25 * 3600)

    return f"/portal/cuenta/correo/{Firmador(salt=SAL_CAMBIO_CORREO).sign_object(datos, compress=True)}/"


@pytest.mark.parametrize(("forma", "estado", "texto"), [
    ("vencido", 410, "Este enlace ya venció"),
    ("alterado", 400, "No pudimos usar este enlace"),
    ("basura", 400, "No pudimos usar este enlace"),
    ("script", 400, "No pudimos usar este enlace"),
    ("reemplazado", 410, "ya no sirve"),
    ("tomado", 409, "Ese correo ya está registrado en otra cuenta"),
])
def test_enlaces_que_no_sirven_dan_una_pagina_clara_y_no_cambian_nada(
    portal, paciente, otro_paciente, recepcionista, forma, estado, texto,
):
    pedir_cambio(portal, paciente)
    ruta = ruta_enviada(paciente)
    if forma == "vencido":
        ruta = _vencido(ruta)
    elif forma == "alterado":
        ruta = ruta[:-6] + ("x" if ruta[-6] != "x" else "y") + ruta[-5:]
    elif forma == "basura":
        ruta = "/portal/cuenta/correo/" + "ñ" * 3000 + "/"
    elif forma == "script":
        ruta = "/portal/cuenta/correo/%3Cscript%3Ealert(1)%3C%5Cscript%3E/"
    elif forma == "reemplazado":
        pedir_cambio(portal, paciente, email="otro.mas@correo.example")
    elif forma == "tomado":
        otro = otro_paciente.cliente
        actualizar_cliente(actor=recepcionista.user, cliente_id=otro.pk, nombre_completo=otro.nombre_completo,
                           email=NUEVO, telefono=str(otro.telefono), rut=otro.rut)
    antes = huella_bd()
    for respuesta in (Client().get(ruta), Client().post(ruta)):
        html = respuesta.content.decode()
        if forma == "tomado" and respuesta.request["REQUEST_METHOD"] == "GET":
            assert respuesta.status_code == 200  # the page only shows the button; the POST re-checks
            continue
        assert respuesta.status_code == estado and texto in html, (respuesta.status_code, html[:3000])
        assert "<script>alert(1)</script>" not in html
        assert "Ingresar al portal" in html  # the next step
    assert huella_bd() == antes
    assert Cliente.objects.get(pk=paciente.cliente.pk).email == paciente.cliente.email


def test_el_correo_de_otro_paciente_se_rechaza_en_el_formulario_sin_enviar_nada(portal, paciente, otro_paciente):
    antes = huella_bd()
    respuesta = portal.post(CONTACTO, {"email": otro_paciente.cliente.email, "telefono": str(paciente.cliente.telefono),
                                       "fecha_nacimiento": "", "password": CLAVE_PACIENTE})
    assert respuesta.status_code == 200
    assert "Ese correo ya está registrado en otra ficha" in respuesta.content.decode()
    assert huella_bd() == antes


def test_el_personal_cambia_el_correo_de_inmediato(paciente, recepcionista):
    """At the clinic the person is there: no link, the login follows at once."""
    ficha = paciente.cliente
    actualizar_cliente(actor=recepcionista.user, cliente_id=ficha.pk, nombre_completo=ficha.nombre_completo,
                       email=NUEVO, telefono=str(ficha.telefono), rut=ficha.rut)
    assert entra(NUEVO)
    assert not Notificacion.objects.filter(plantilla__startswith="cambio_correo").exists()


@hypothesis.settings(max_examples=80, deadline=None, database=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(
    token=st.one_of(st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=400),
                    st.from_regex(r"\A[-A-Za-z0-9_:.]{1,600}\Z")),
    datos=st.dictionaries(st.text(max_size=30), st.text(max_size=300), max_size=4),
)
def test_basura_en_el_enlace_nunca_es_5xx_ni_cambia_nada(paciente, token, datos):
    antes = huella_bd()
    url = reverse("portal:cuenta_correo_confirmar", kwargs={"token": token})
    for respuesta in (Client().get(url, datos), Client().post(url, datos)):
        assert respuesta.status_code in (400, 404), (token, respuesta.status_code)
    assert huella_bd() == antes
