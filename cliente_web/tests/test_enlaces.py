"""Portal: the reminders' one-tap links (/portal/r/<token>/). GET shows, POST acts, no login."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from citas import enlaces
from citas.models import Cita, EstadoCita
from citas.services import cancelar_cita, crear_cita_disponible, reprogramar_cita, reservar_cita
from citas.tests.test_services import registrar_paciente
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db


def _en(horas):
    return (timezone.now() + datetime.timedelta(hours=horas)).replace(second=0, microsecond=0)


@pytest.fixture
def reservada(dentista, recepcionista, paciente):
    """Booked two days ahead: beyond the 24 h cut-off these tests pin."""
    libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=_en(48))
    return reservar_cita(user=paciente, cita_id=libre.pk, motivo="Dolor de muela del juicio")


def _url(cita, accion):
    return enlaces.enlace_recordatorio(Cita.objects.get(pk=cita.pk), accion).split("://", 1)[1].split("/", 1)[1]


def _ruta(cita, accion):
    return "/" + _url(cita, accion)


def test_get_muestra_la_hora_y_no_actua(reservada, dentista):
    antes = huella_bd()
    respuesta = Client().get(_ruta(reservada, "confirmar"))
    assert respuesta.status_code == 200
    html = respuesta.content.decode()
    assert "Confirmar mi hora" in html and "Cancelar mi hora" not in html
    assert "Hola, Paciente" in html and dentista.nombre in html
    # First name, day, time and dentist only: no reason, no surname, no contact data.
    for dato in ("muela", "Número", "paciente601@", "+5696"):
        assert dato not in html
    assert respuesta["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in respuesta["Cache-Control"]
    assert huella_bd() == antes


def test_get_del_enlace_de_cancelar_muestra_la_politica(reservada, settings):
    respuesta = Client().get(_ruta(reservada, "cancelar"))
    html = respuesta.content.decode()
    assert respuesta.status_code == 200
    assert "Cancelar mi hora" in html and "Confirmar mi hora" not in html
    assert f"{settings.CLINICA_PLAZO_CAMBIOS_H} horas antes" in html
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA


def test_get_hace_una_consulta(reservada, django_assert_num_queries):
    ruta = _ruta(reservada, "confirmar")
    cliente = Client()
    with django_assert_num_queries(1):
        assert cliente.get(ruta).status_code == 200


def test_post_confirma_y_la_segunda_vez_solo_informa(reservada):
    cliente = Client()
    ruta = _ruta(reservada, "confirmar")
    respuesta = cliente.post(ruta)
    assert respuesta.status_code == 200
    assert "quedó confirmada" in respuesta.content.decode()
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.CONFIRMADA
    antes = huella_bd()
    for metodo in (cliente.post, cliente.get):
        otra = metodo(ruta)
        assert otra.status_code == 200
        assert "ya estaba confirmada" in otra.content.decode()
        assert "Confirmar mi hora" not in otra.content.decode()
    assert huella_bd() == antes


def test_post_cancela_y_luego_el_enlace_dice_que_ya_fue(reservada):
    cliente = Client()
    ruta = _ruta(reservada, "cancelar")
    confirmar = _ruta(reservada, "confirmar")
    respuesta = cliente.post(ruta)
    assert respuesta.status_code == 200
    assert "quedó cancelada" in respuesta.content.decode()
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.DISPONIBLE
    antes = huella_bd()
    for r in (cliente.get(ruta), cliente.post(ruta), cliente.get(confirmar), cliente.post(confirmar)):
        assert r.status_code == 200
        assert "fue cancelada" in r.content.decode()
        assert "mi hora</button>" not in r.content.decode()
    assert huella_bd() == antes


def test_funciona_con_la_sesion_de_otro_paciente(reservada, otro_paciente):
    """The token is the key: whoever holds it acts for the booking it names."""
    from cliente_web.tests.conftest import cliente_de

    assert cliente_de(otro_paciente).post(_ruta(reservada, "confirmar")).status_code == 200
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.CONFIRMADA


def test_csrf_exigido(reservada):
    cliente = Client(enforce_csrf_checks=True)
    ruta = _ruta(reservada, "cancelar")
    assert cliente.post(ruta).status_code == 403
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA
    html = cliente.get(ruta).content.decode()
    ficha = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert cliente.post(ruta, {"csrfmiddlewaretoken": ficha}).status_code == 200
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.DISPONIBLE


def test_enlace_invalido_404_con_telefono_y_entrada(reservada, settings):
    ruta = _ruta(reservada, "confirmar")
    manipulada = ruta[:-3] + ("A" if ruta[-3] != "A" else "B") + ruta[-2:]
    for r in (Client().get(manipulada), Client().post(manipulada)):
        assert r.status_code == 404
        html = r.content.decode()
        assert "No pudimos usar este enlace" in html
        assert settings.CLINICA_TELEFONO in html and reverse("portal:entrar") in html
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA


@pytest.mark.parametrize("basura", ["x", "a" * 299, "a" * 301, "b" * 5000, ".eJy:abc:def", "%00", "ñ", "..%2F"])
def test_basura_nunca_da_500(basura):
    respuesta = Client().get(f"/portal/r/{basura}/")
    assert respuesta.status_code == 404


def test_enlace_vencido_410(reservada):
    comenzo = timezone.now() - datetime.timedelta(minutes=1)
    Cita.objects.filter(pk=reservada.pk).update(inicio=comenzo, fin=comenzo + datetime.timedelta(minutes=30))
    ruta = _ruta(reservada, "cancelar")
    for r in (Client().get(ruta), Client().post(ruta)):
        assert r.status_code == 410
        assert "venció" in r.content.decode()
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA


def test_cita_movida_el_enlace_la_sigue(reservada, dentista, recepcionista):
    # Issue 14: the one-tap link names the booking, not the slot it was in.
    ruta = _ruta(reservada, "cancelar")
    nueva = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=_en(50))
    reprogramar_cita(actor=recepcionista.user, cita_id=reservada.pk, nueva_cita_id=nueva.pk)
    pagina = Client().get(ruta)
    assert pagina.status_code == 200
    assert timezone.localtime(nueva.inicio).strftime("%H:%M") in pagina.content.decode()
    assert Client().post(ruta).status_code == 200
    assert Cita.objects.get(pk=nueva.pk).estado == EstadoCita.DISPONIBLE
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.DISPONIBLE


def test_liberada_y_tomada_por_otro_404(reservada, recepcionista):
    ruta = _ruta(reservada, "confirmar")
    cancelar_cita(actor=recepcionista.user, cita_id=reservada.pk, motivo="llamó por teléfono")
    otro = registrar_paciente(610)
    reservar_cita(user=otro, cita_id=reservada.pk)
    assert Client().post(ruta).status_code == 404
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA


def test_cancelar_fuera_de_plazo_muestra_telefono_sin_boton(dentista, recepcionista, paciente, settings):
    libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=_en(20))
    cita = reservar_cita(user=paciente, cita_id=libre.pk)
    ruta = _ruta(cita, "cancelar")
    for r in (Client().get(ruta), Client().post(ruta)):
        html = r.content.decode()
        assert r.status_code == 200
        assert "Faltan menos de 24 horas" in html and settings.CLINICA_TELEFONO in html
        assert "Cancelar mi hora</button>" not in html
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.RESERVADA


def test_otros_metodos_no(reservada):
    assert Client().put(_ruta(reservada, "confirmar")).status_code == 405
    assert Cita.objects.get(pk=reservada.pk).estado == EstadoCita.RESERVADA


@pytest.mark.django_db(transaction=True)
def test_navegador_confirma_desde_el_enlace(page, live_server, captura, dentista, recepcionista):
    """A phone (390x844), not logged in, opens the reminder's link and taps the one button.
    Screenshots: var/capturas/portal-enlace-confirmar.png, portal-enlace-confirmada.png."""
    from playwright.sync_api import expect

    paciente = registrar_paciente(620, nombre_completo="Ana María Núñez")
    libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=_en(30))
    cita = reservar_cita(user=paciente, cita_id=libre.pk)
    errores = []
    page.on("console", lambda mensaje: errores.append(mensaje.text) if mensaje.type == "error" else None)
    page.on("pageerror", lambda error: errores.append(str(error)))
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(live_server.url + _ruta(cita, "confirmar"))
    expect(page.get_by_role("heading", name="Hola, Ana")).to_be_visible()
    expect(page.get_by_text("Camila Soto")).to_be_visible()
    captura("portal-enlace-confirmar")
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.RESERVADA
    page.get_by_role("button", name="Confirmar mi hora").click()
    expect(page.get_by_role("heading", name="¡Gracias, Ana! Su hora quedó confirmada")).to_be_visible()
    captura("portal-enlace-confirmada")
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.CONFIRMADA
    page.goto(live_server.url + _ruta(cita, "confirmar"))
    expect(page.get_by_text("Su hora ya estaba confirmada")).to_be_visible()
    assert errores == []
    page.goto(live_server.url + "/portal/r/no-es-un-enlace/")
    expect(page.get_by_role("heading", name="No pudimos usar este enlace")).to_be_visible()
    expect(page.get_by_role("link", name="Ingresar al portal")).to_be_visible()
    captura("portal-enlace-invalido")
    # Chromium logs the page's own 404 as a console error; nothing else may fail.
    assert [e for e in errores if "status of 404" not in e] == []
