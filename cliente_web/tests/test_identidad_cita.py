"""Issue 14 on the portal: links of a booking follow it. An old link to the slot a booking was
moved from leads to its current slot; a cancelled booking's link says it was cancelled; the
calendar file keeps its UID and raises its SEQUENCE. Another patient's links stay 404."""

import pytest
from django.urls import reverse
from icalendar import Calendar

from citas.models import Cita
from citas.services import cancelar_cita, reprogramar_cita, reservar_cita
from cliente_web.tests.conftest import cliente_de
from cliente_web.tests.test_reservas import H, horas, otro_dentista  # noqa: F401 (fixtures)
from nucleo.enlaces import enlaces
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db


@pytest.fixture
def reservada(paciente, horas):  # noqa: F811
    return reservar_cita(user=paciente, cita_id=horas(50 * H).pk)


def _uid(cita):
    return Cita.objects.get(pk=cita.pk).reserva_uid


def _evento(respuesta):
    cal = Calendar.from_ical(respuesta.content)
    [evento] = cal.walk("VEVENT")
    return str(cal["METHOD"]), str(evento["UID"]), int(evento["SEQUENCE"])


def test_enlace_antiguo_de_una_cita_movida_lleva_a_su_hora_actual(portal, paciente, reservada, horas):  # noqa: F811
    nueva = horas(60 * H)
    reprogramar_cita(actor=paciente, cita_id=reservada.pk, nueva_cita_id=nueva.pk)
    respuesta = portal.get(reverse("portal:cita", args=[reservada.pk]))
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:cita", args=[nueva.pk])
    # Moved twice: the first link still lands on the current slot.
    tercera = horas(70 * H)
    reprogramar_cita(actor=paciente, cita_id=nueva.pk, nueva_cita_id=tercera.pk)
    for vieja in (reservada, nueva):
        respuesta = portal.get(reverse("portal:cita", args=[vieja.pk]), follow=True)
        assert respuesta.redirect_chain[-1][0] == reverse("portal:cita", args=[tercera.pk])
        assert respuesta.status_code == 200 and "Su cita" in respuesta.content.decode()
    # The .ics of the old address: the booking's file, same UID, version 2.
    respuesta = portal.get(reverse("portal:cita_calendario", args=[reservada.pk]), follow=True)
    assert _evento(respuesta) == ("PUBLISH", f"reserva-{_uid(tercera)}@127.0.0.1", 2)


def test_enlace_por_identidad_lleva_a_la_hora_actual(portal, paciente, reservada, horas):  # noqa: F811
    uid = _uid(reservada)
    enlace = enlaces().cita_paciente(reserva_uid=uid)
    assert enlace.endswith(f"/portal/citas/{uid}/")
    antes = _evento(portal.get(enlaces().calendario_cita(reserva_uid=uid)))
    nueva = horas(60 * H)
    reprogramar_cita(actor=paciente, cita_id=reservada.pk, nueva_cita_id=nueva.pk)
    respuesta = portal.get(reverse("portal:cita_reserva", args=[uid]))
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:cita", args=[nueva.pk])
    despues = _evento(portal.get(reverse("portal:cita_calendario_reserva", args=[uid])))
    assert antes[1] == despues[1] and despues[2] == antes[2] + 1


def test_enlace_de_una_cita_cancelada_dice_que_se_cancelo(portal, paciente, reservada):
    uid = _uid(reservada)
    cancelar_cita(actor=paciente, cita_id=reservada.pk)
    for url in (reverse("portal:cita", args=[reservada.pk]), reverse("portal:cita_reserva", args=[uid])):
        respuesta = portal.get(url)
        texto = respuesta.content.decode()
        assert respuesta.status_code == 200, url
        assert "Esta cita fue cancelada" in texto and "usted la canceló" in texto
        assert "Camila Soto" in texto and reverse("portal:reservar") in texto
    metodo, uid_ics, secuencia = _evento(portal.get(reverse("portal:cita_calendario_reserva", args=[uid])))
    assert (metodo, uid_ics, secuencia) == ("CANCEL", f"reserva-{uid}@127.0.0.1", 1)
    assert _evento(portal.get(reverse("portal:cita_calendario", args=[reservada.pk])))[0] == "CANCEL"


def test_cancelada_y_vuelta_a_reservar_la_direccion_de_la_hora_muestra_la_nueva(portal, paciente, reservada):
    uid = _uid(reservada)
    cancelar_cita(actor=paciente, cita_id=reservada.pk)
    otra_vez = reservar_cita(user=paciente, cita_id=reservada.pk)
    assert _uid(otra_vez) != uid
    assert "Su cita" in portal.get(reverse("portal:cita", args=[reservada.pk])).content.decode()
    # The first booking's own link still says that one was cancelled.
    assert "Esta cita fue cancelada" in portal.get(reverse("portal:cita_reserva", args=[uid])).content.decode()


def test_las_citas_de_otro_paciente_siguen_siendo_404(portal, otro_paciente, horas):  # noqa: F811
    ajena = reservar_cita(user=otro_paciente, cita_id=horas(50 * H).pk)
    uid = _uid(ajena)
    nueva = horas(60 * H)
    reprogramar_cita(actor=otro_paciente, cita_id=ajena.pk, nueva_cita_id=nueva.pk)
    antes = huella_bd()
    for url in (reverse("portal:cita", args=[ajena.pk]), reverse("portal:cita_calendario", args=[ajena.pk]),
                reverse("portal:cita_reserva", args=[uid]), reverse("portal:cita_calendario_reserva", args=[uid])):
        respuesta = portal.get(url)
        assert respuesta.status_code == 404, url
    assert huella_bd() == antes
    cancelar_cita(actor=otro_paciente, cita_id=nueva.pk)
    for url in (reverse("portal:cita", args=[nueva.pk]), reverse("portal:cita_reserva", args=[uid]),
                reverse("portal:cita_calendario_reserva", args=[uid])):
        assert portal.get(url).status_code == 404, url


def test_identidad_desconocida_es_404(portal):
    import uuid

    assert portal.get(reverse("portal:cita_reserva", args=[uuid.uuid4()])).status_code == 404
    assert portal.get(reverse("portal:cita_calendario_reserva", args=[uuid.uuid4()])).status_code == 404
    assert portal.get("/portal/citas/no-es-un-uuid/").status_code == 404


def test_sin_sesion_el_enlace_pide_entrar(reservada):
    from django.test import Client

    respuesta = Client().get(reverse("portal:cita_reserva", args=[_uid(reservada)]))
    assert respuesta.status_code == 302 and "/portal/entrar/" in respuesta["Location"]


def test_el_paciente_que_entra_por_el_enlace_llega_a_su_cita(paciente, reservada):
    cliente = cliente_de(paciente)
    respuesta = cliente.get(reverse("portal:cita_reserva", args=[_uid(reservada)]), follow=True)
    assert respuesta.status_code == 200 and respuesta.redirect_chain[-1][0] == reverse("portal:cita", args=[reservada.pk])
