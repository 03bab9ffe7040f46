"""Lockout as a weapon (issue 14): a stranger cannot lock someone else out.

Failures count per (account, client address); the address is the client behind a trusted proxy,
never a header the client wrote; one address trying many accounts has its own limit; the RUT, the
e-mail and the password re-entry inside a session are one account to the counter; retrying while
locked out does not extend the lockout. Through both sites' login pages, with their Spanish
lockout page.
"""

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from cliente_web.tests.conftest import CLAVE_PACIENTE
from clinica.tests.seguridad import cliente_logueado
from gestion_clinica.tests.conftest import CLAVE_PERSONAL
from nucleo.ip_cliente import ip_del_cliente

pytestmark = pytest.mark.django_db

GESTION = "/gestion/entrar/"
PORTAL = "/portal/entrar/"
ELIMINAR = "/portal/cuenta/eliminar/"
IP_ATACANTE = "198.51.100.7"
IP_VICTIMA = "203.0.113.9"
BLOQUEO = "Demasiados intentos fallidos"


@pytest.fixture
def detras_del_proxy(settings):
    """The documented deployment: nginx on the same host appends the client to X-Forwarded-For
    and the test client's REMOTE_ADDR (127.0.0.1) is that proxy."""
    settings.CLINICA_PROXIES_DE_CONFIANZA = ["127.0.0.1/32", "::1/128"]


def desde(ip, *anteriores):
    """The request as nginx passes it on: what the client sent (``anteriores``), then its address."""
    return {"HTTP_X_FORWARDED_FOR": ", ".join([*anteriores, ip])}


def entrar(url, usuario, clave, **meta):
    return Client().post(url, {"username": usuario, "password": clave}, **meta)


# The client's address ------------------------------------------------------------------------


def _ip(remota, xff=None, **extra):
    meta = {"REMOTE_ADDR": remota, **extra}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return ip_del_cliente(RequestFactory().post("/", **meta))


@pytest.mark.parametrize("xff", ["1.2.3.4", "1.2.3.4, 5.6.7.8", "basura", ""])
def test_sin_proxy_de_confianza_la_cabecera_no_cambia_la_ip(settings, xff):
    settings.CLINICA_PROXIES_DE_CONFIANZA = []
    assert _ip("127.0.0.1", xff) == "127.0.0.1"
    assert _ip("192.0.2.10", xff, HTTP_X_REAL_IP="9.9.9.9") == "192.0.2.10"


def test_la_cabecera_solo_vale_si_viene_de_un_proxy_de_confianza(detras_del_proxy):
    assert _ip("127.0.0.1", IP_ATACANTE) == IP_ATACANTE
    assert _ip("192.0.2.10", IP_VICTIMA) == "192.0.2.10"  # straight to gunicorn, forged header


def test_lo_que_el_cliente_antepone_no_se_lee(detras_del_proxy):
    # The client claims to be the victim; nginx appends its real address.
    assert _ip("127.0.0.1", f"{IP_VICTIMA}, {IP_ATACANTE}") == IP_ATACANTE
    assert _ip("127.0.0.1", f"basura, {IP_ATACANTE}") == IP_ATACANTE
    assert _ip("127.0.0.1", "127.0.0.1") == "127.0.0.1"  # a client on the proxy's own host


def test_cadena_de_proxies_de_confianza(settings):
    settings.CLINICA_PROXIES_DE_CONFIANZA = ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert _ip("127.0.0.1", f"{IP_VICTIMA}, {IP_ATACANTE}, 10.1.2.3") == IP_ATACANTE
    assert _ip("::1", "2001:db8::5, 10.0.0.9") == "2001:db8::5"
    assert _ip("127.0.0.1", "basura") == "127.0.0.1"
    assert _ip("127.0.0.1", "") == "127.0.0.1"


# A stranger cannot lock the owner out --------------------------------------------------------


def test_atacante_con_20_claves_malas_no_bloquea_al_personal(detras_del_proxy, recepcionista):
    usuario = recepcionista.user.username
    respuestas = [entrar(GESTION, usuario, f"mala-{n}", **desde(IP_ATACANTE)) for n in range(20)]
    assert [r.status_code for r in respuestas[:4]] == [200] * 4
    assert {r.status_code for r in respuestas[4:]} == {429}  # the attacker is locked out, from A
    assert BLOQUEO in respuestas[-1].text and "30 minutos" in respuestas[-1].text
    assert entrar(GESTION, usuario, CLAVE_PERSONAL, **desde(IP_ATACANTE)).status_code == 429
    # The owner, from another address, logs in.
    respuesta = entrar(GESTION, usuario, CLAVE_PERSONAL, **desde(IP_VICTIMA))
    assert respuesta.status_code == 302 and respuesta["Location"] == "/gestion/"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {IP_ATACANTE}


def test_atacante_con_rut_y_correo_no_bloquea_al_paciente(detras_del_proxy, paciente):
    rut, email = paciente.cliente.rut, paciente.cliente.email
    for n in range(20):
        respuesta = entrar(PORTAL, [rut, email.upper(), rut.replace("-", "")][n % 3], "mala-clave-0000",
                           **desde(IP_ATACANTE, IP_VICTIMA))  # even claiming to be the victim
        assert respuesta.status_code == (200 if n < 4 else 429)
    assert BLOQUEO in respuesta.content.decode()
    respuesta = entrar(PORTAL, rut, CLAVE_PACIENTE, **desde(IP_VICTIMA))
    assert respuesta.status_code == 302 and respuesta["Location"] == "/portal/"


def test_cabecera_falsa_sin_proxy_de_confianza_no_esquiva_el_bloqueo(settings, recepcionista):
    settings.CLINICA_PROXIES_DE_CONFIANZA = []
    usuario = recepcionista.user.username
    for n in range(settings.AXES_FAILURE_LIMIT):
        respuesta = entrar(GESTION, usuario, "mala", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert respuesta.status_code == 429
    assert entrar(GESTION, usuario, CLAVE_PERSONAL, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


def test_reintentar_bloqueado_no_alarga_el_bloqueo(detras_del_proxy, recepcionista, settings):
    usuario = recepcionista.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        entrar(GESTION, usuario, "mala", **desde(IP_VICTIMA))
    antes = AccessAttempt.objects.values_list("failures_since_start", "attempt_time").get()
    for clave in ["mala", CLAVE_PERSONAL, "otra"]:
        respuesta = entrar(GESTION, usuario, clave, **desde(IP_VICTIMA))
        assert respuesta.status_code == 429 and BLOQUEO in respuesta.text
    assert AccessAttempt.objects.values_list("failures_since_start", "attempt_time").get() == antes


# One address, many accounts ------------------------------------------------------------------


def test_una_ip_que_prueba_muchas_cuentas_se_bloquea(detras_del_proxy, settings, recepcionista, dentista,
                                                     paciente):
    settings.CLINICA_LIMITE_FALLOS_POR_IP = 6
    # Fewer failures per account than AXES_FAILURE_LIMIT: only the per-address count can lock.
    for n in range(6):
        respuesta = entrar(GESTION, f"nadie-{n}", "mala", **desde(IP_ATACANTE))
        assert respuesta.status_code == (200 if n < 5 else 429)
    assert BLOQUEO in respuesta.text
    # From that address, even a right password of an untouched account is refused, on both sites.
    assert entrar(GESTION, dentista.user.username, CLAVE_PERSONAL, **desde(IP_ATACANTE)).status_code == 429
    assert entrar(PORTAL, paciente.cliente.rut, CLAVE_PACIENTE, **desde(IP_ATACANTE)).status_code == 429
    # Everyone else is unaffected.
    assert entrar(GESTION, dentista.user.username, CLAVE_PERSONAL, **desde(IP_VICTIMA)).status_code == 302
    assert entrar(PORTAL, paciente.cliente.rut, CLAVE_PACIENTE, **desde(IP_VICTIMA)).status_code == 302


def test_bajo_el_limite_por_ip_cada_cuenta_tiene_el_suyo(detras_del_proxy, settings, recepcionista, dentista):
    settings.CLINICA_LIMITE_FALLOS_POR_IP = 30
    for _ in range(settings.AXES_FAILURE_LIMIT):
        entrar(GESTION, recepcionista.user.username, "mala", **desde(IP_ATACANTE))
    assert entrar(GESTION, recepcionista.user.username, CLAVE_PERSONAL, **desde(IP_ATACANTE)).status_code == 429
    assert entrar(GESTION, dentista.user.username, CLAVE_PERSONAL, **desde(IP_ATACANTE)).status_code == 302


# One account, one counter --------------------------------------------------------------------


def test_rut_y_correo_comparten_un_contador(paciente, settings):
    rut, email = paciente.cliente.rut, paciente.cliente.email
    formas = [rut, email, rut.replace("-", ""), email.upper(), f" {rut} "]
    for n in range(settings.AXES_FAILURE_LIMIT):
        respuesta = entrar(PORTAL, formas[n % len(formas)], "mala-clave-0000")
    assert respuesta.status_code == 429
    for forma in (rut, email):
        respuesta = entrar(PORTAL, forma, CLAVE_PACIENTE)
        assert respuesta.status_code == 429 and "Acceso bloqueado por seguridad" in respuesta.content.decode()
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [paciente.get_username()]


def test_reingreso_de_la_clave_en_la_sesion_usa_el_mismo_contador(paciente, settings):
    portal = cliente_logueado(paciente)
    rut, email = paciente.cliente.rut, paciente.cliente.email
    assert settings.AXES_FAILURE_LIMIT == 5
    assert entrar(PORTAL, rut, "mala-clave-0000").status_code == 200
    assert entrar(PORTAL, email, "mala-clave-0000").status_code == 200
    assert portal.post(ELIMINAR, {"password": "mala"}).status_code == 200
    assert portal.post(ELIMINAR, {"password": "mala"}).status_code == 200
    respuesta = entrar(PORTAL, rut_con_puntos(rut), "mala-clave-0000")  # the fifth, by any door
    assert respuesta.status_code == 429
    respuesta = portal.post(ELIMINAR, {"password": CLAVE_PACIENTE})
    assert respuesta.status_code == 429 and BLOQUEO in respuesta.content.decode()
    paciente.refresh_from_db()
    assert paciente.is_active
    assert AccessAttempt.objects.get().failures_since_start == 5


def test_la_cuenta_se_busca_una_vez_por_intento(paciente):
    with CaptureQueriesContext(connection) as consultas:
        assert entrar(PORTAL, paciente.cliente.rut, "mala-clave-0000").status_code == 200
    busquedas = [q["sql"] for q in consultas.captured_queries if 'FROM "pacientes_cliente"' in q["sql"]]
    assert len(busquedas) == 2  # axes' key (once, however often axes asks) + the backend's check


def rut_con_puntos(rut):
    cuerpo, dv = rut.split("-")
    return f"{int(cuerpo):,}".replace(",", ".") + f"-{dv}"


def test_check_deploy_avisa_detras_de_un_proxy_sin_proxies_de_confianza(settings):
    from nucleo.ip_cliente import comprobar_proxies

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.CLINICA_PROXIES_DE_CONFIANZA = []
    assert [aviso.id for aviso in comprobar_proxies()] == ["nucleo.W001"]
    settings.CLINICA_PROXIES_DE_CONFIANZA = ["127.0.0.1/32"]
    assert comprobar_proxies() == []
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.CLINICA_PROXIES_DE_CONFIANZA = []
    assert comprobar_proxies() == []
