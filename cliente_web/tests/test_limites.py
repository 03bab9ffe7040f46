"""Attempt limits on the portal (cliente_web.limites, counters in nucleo.cache_pg): booking,
cancelling, rescheduling and one-tap links per account and per client address, sign-up and
"forgot password" per address. These tests use the real default rates (clinica/settings.py).

django-ratelimit's windows follow ``time.time()``: the ``reloj`` fixture holds that clock still
(and moves it when a test says so), so that a window never ends in the middle of a test."""

import datetime
import time
import zlib

import django_ratelimit.core
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from citas import enlaces
from citas.models import Cita, EstadoCita
from citas.services import crear_cita_disponible, reservar_cita
from citas.tests.test_services import registrar_paciente
from cliente_web.tests.conftest import cliente_de
from pruebas.soporte import iniciar_sesion, huella_bd

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


class _Reloj:
    def __init__(self):
        self.ahora = float(int(time.time()))

    def time(self):
        return self.ahora


@pytest.fixture
def reloj(monkeypatch):
    reloj = _Reloj()
    monkeypatch.setattr(django_ratelimit.core, "time", reloj)
    return reloj


@pytest.fixture
def horas(dentista, recepcionista):
    def crear(n, desde=30):
        return [
            crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                  inicio=timezone.now() + (desde + i) * H)
            for i in range(n)
        ]

    return crear


def _reservar(cliente, hora, **extra):
    return cliente.post(reverse("portal:reservar_confirmar", args=[hora.pk]), {"motivo": ""}, **extra)


def _cancelar(cliente, cita_id, **extra):
    return cliente.post(reverse("portal:cita_cancelar", args=[cita_id]), **extra)


def _es_la_pagina_de_espera(respuesta, settings):
    contenido = respuesta.content.decode()
    assert respuesta.status_code == 429
    assert "Demasiados intentos" in contenido
    assert "Espere unos minutos" in contenido
    assert "No se hizo ningún cambio" in contenido
    assert settings.CLINICA_TELEFONO in contenido
    assert int(respuesta["Retry-After"]) > 0
    return contenido


def test_los_limites_por_defecto(settings):
    assert settings.CLINICA_LIMITE_CITAS_CUENTA == ("10/m", "30/h")
    assert settings.CLINICA_LIMITE_CITAS_IP == ("60/h",)
    assert settings.CLINICA_LIMITE_ENLACES_IP == ("30/h",)
    assert settings.CLINICA_LIMITE_REGISTRO_IP == ("20/h",)
    assert settings.CLINICA_LIMITE_RECUPERAR_IP == ("10/h",)


def test_una_tasa_mal_escrita_detiene_el_arranque(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from clinica.settings import _env_tasas

    monkeypatch.setenv("CLINICA_LIMITE_X", "5/10m, 100/d")
    assert _env_tasas("CLINICA_LIMITE_X", "1/m") == ("5/10m", "100/d")
    for malo in ("10 por minuto", "10/min", "0/m", "10/m;30/h"):
        monkeypatch.setenv("CLINICA_LIMITE_X", malo)
        with pytest.raises(ImproperlyConfigured, match="no es una tasa"):
            _env_tasas("CLINICA_LIMITE_X", "1/m")
    monkeypatch.setenv("CLINICA_LIMITE_X", "")
    assert _env_tasas("CLINICA_LIMITE_X", "1/m") == ()  # no limit


def test_la_reserva_once_en_un_minuto_es_rechazada_sin_reservar(reloj, portal, paciente, horas, settings):
    libres = horas(11)
    codigos = [_reservar(portal, hora).status_code for hora in libres[:10]]
    # Two bookings (the portal's cap), then the cap's refusal: ten attempts, all answered.
    assert codigos == [302, 302] + [200] * 8
    antes = huella_bd()
    contenido = _es_la_pagina_de_espera(_reservar(portal, libres[10]), settings)
    assert "1 minuto" in contenido
    assert huella_bd() == antes
    assert Cita.objects.get(pk=libres[10].pk).estado == EstadoCita.DISPONIBLE
    # GET is never counted nor refused: the patient can still look.
    assert portal.get(reverse("portal:reservar_confirmar", args=[libres[10].pk])).status_code == 200
    # The next minute the window is new.
    reloj.ahora += 60
    assert _reservar(portal, libres[10]).status_code == 200  # the cap's refusal again, not 429


def test_treinta_intentos_en_una_hora_por_cuenta(reloj, portal, paciente, settings):
    # Start just after this account's hour window opened (django-ratelimit offsets each key's
    # windows by crc32(key) % period), so the next minutes stay in one hour window.
    desfase = zlib.crc32(str(paciente.pk).encode()) % 3600
    reloj.ahora = float((int(reloj.ahora) // 3600) * 3600 + desfase + 1)
    for _ in range(3):
        reloj.ahora += 60
        assert {_cancelar(portal, 999_999).status_code for _ in range(10)} == {404}
    reloj.ahora += 60
    contenido = _es_la_pagina_de_espera(_cancelar(portal, 999_999), settings)
    assert "minutos" in contenido  # the hour window: up to 56 minutes left


def test_cancelar_cuenta_con_reservar_y_el_rechazo_no_cancela(reloj, portal, paciente, horas, settings):
    (hora,) = horas(1)
    cita = reservar_cita(user=paciente, cita_id=hora.pk)
    for _ in range(10):
        assert _cancelar(portal, 999_999).status_code == 404
    antes = huella_bd()
    _es_la_pagina_de_espera(_cancelar(portal, cita.pk), settings)
    assert huella_bd() == antes
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.RESERVADA
    # Another patient is not affected.
    otro = cliente_de(registrar_paciente(777))
    assert _cancelar(otro, 999_999).status_code == 404


def test_reprogramar_tambien_cuenta(reloj, portal, paciente, horas, settings):
    hora, nueva = horas(2)
    cita = reservar_cita(user=paciente, cita_id=hora.pk)
    url = reverse("portal:cita_reprogramar", args=[cita.pk])
    for _ in range(10):
        portal.post(url, {"nueva_cita_id": "basura"})
    antes = huella_bd()
    _es_la_pagina_de_espera(portal.post(url, {"nueva_cita_id": nueva.pk}), settings)
    assert huella_bd() == antes


def _pacientes(n, desde=800):
    return [cliente_de(registrar_paciente(desde + i)) for i in range(n)]


def test_sesenta_intentos_por_direccion_entre_varias_cuentas(reloj, settings):
    """Six accounts × 10 attempts from one address (each within its own limit): the 61st, from
    a seventh account, is refused by the address's limit."""
    clientes = _pacientes(7)
    for cliente in clientes[:6]:
        assert {_cancelar(cliente, 999_999).status_code for _ in range(10)} == {404}
    _es_la_pagina_de_espera(_cancelar(clientes[6], 999_999), settings)


def test_la_direccion_es_la_del_cliente_tras_el_proxy_de_confianza(reloj, settings):
    """Behind the trusted proxy (the test client's 127.0.0.1), each client is counted by its
    X-Forwarded-For address: one client's 60 attempts do not refuse another's."""
    settings.CLINICA_PROXIES_DE_CONFIANZA = ["127.0.0.1/32"]
    clientes = _pacientes(7)
    uno, otro = {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    for cliente in clientes[:6]:
        assert {_cancelar(cliente, 999_999, **uno).status_code for _ in range(10)} == {404}
    _es_la_pagina_de_espera(_cancelar(clientes[6], 999_999, **uno), settings)
    assert _cancelar(clientes[6], 999_999, **otro).status_code == 404
    # A client cannot escape by writing its own header: only what our proxy appended is read.
    falso = {"HTTP_X_FORWARDED_FOR": "192.0.2.99, 203.0.113.5"}
    assert _cancelar(clientes[6], 999_999, **falso).status_code == 429


def test_un_encabezado_falso_sin_proxy_de_confianza_no_cambia_la_direccion(reloj, settings):
    """No trusted proxy (the default): X-Forwarded-For is ignored, so a new forged address on
    every attempt still counts them all under REMOTE_ADDR."""
    assert settings.CLINICA_PROXIES_DE_CONFIANZA == []
    clientes = _pacientes(7)
    n = 0
    for cliente in clientes[:6]:
        for _ in range(10):
            n += 1
            assert _cancelar(cliente, 999_999, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code == 404
    _es_la_pagina_de_espera(_cancelar(clientes[6], 999_999, HTTP_X_FORWARDED_FOR="198.51.100.1"), settings)


def test_enlace_de_un_toque_limitado_por_direccion(reloj, paciente, horas, settings):
    (hora,) = horas(1, desde=48)
    cita = reservar_cita(user=paciente, cita_id=hora.pk)
    anonimo = Client()
    for n in range(30):
        assert anonimo.post(f"/portal/r/no-es-un-token-{n}/").status_code == 404
    token = enlaces.enlace_recordatorio(Cita.objects.get(pk=cita.pk), "cancelar").rstrip("/").rsplit("/", 1)[1]
    url = reverse("portal:recordatorio_enlace", args=[token])
    assert anonimo.get(url).status_code == 200  # looking is never refused
    antes = huella_bd()
    _es_la_pagina_de_espera(anonimo.post(url), settings)
    assert huella_bd() == antes
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.RESERVADA


def test_registro_limitado_por_direccion(reloj, settings):
    anonimo = Client()
    for _ in range(20):
        assert anonimo.post(reverse("portal:registro"), {"nombre_completo": "x"}).status_code == 200
    antes = huella_bd()
    _es_la_pagina_de_espera(anonimo.post(reverse("portal:registro"), {"nombre_completo": "x"}), settings)
    assert huella_bd() == antes
    assert anonimo.get(reverse("portal:registro")).status_code == 200


def test_recuperar_clave_limitado_por_direccion(reloj, paciente, settings):
    anonimo = Client()
    for n in range(10):
        assert anonimo.post(reverse("portal:recuperar_clave"), {"identificador": f"n{n}@correo.example"}).status_code == 302
    antes = huella_bd()
    _es_la_pagina_de_espera(anonimo.post(reverse("portal:recuperar_clave"), {"identificador": paciente.email}), settings)
    assert huella_bd() == antes


def test_el_sitio_del_personal_no_tiene_limites(reloj, client, recepcionista):
    iniciar_sesion(client, recepcionista.user)
    for _ in range(15):
        assert client.post(reverse("gestion:agenda_cancelar", args=[999_999])).status_code == 404
