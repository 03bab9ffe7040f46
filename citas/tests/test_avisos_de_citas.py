"""Notices that help (issue 14): every notice about an appointment links to that appointment's
page on the configured base (``CLINICA_URL_PORTAL``, through the sites' adapter), and the short
text (SMS, WhatsApp) says with whom and where, never why. Driven through the real services, as
a patient who prefers SMS (the e-mail goes too)."""

import datetime
import math

import pytest
from django.urls import reverse
from django.utils import timezone

from citas.recordatorios import crear_recordatorios
from citas.services import asignar_cita, cancelar_cita, crear_cita_disponible, reprogramar_cita, reservar_cita
from citas.tests.test_services import registrar_paciente
from notificaciones.models import Canal, Notificacion

BASE = "https://portal.clinica.example"
DIRECCION = "Av. Providencia 1234, of. 501, Providencia"


@pytest.fixture
def escena(db, settings, dentista, recepcionista, en_tres_dias_10):
    settings.CLINICA_URL_PORTAL = BASE
    settings.CLINICA_DIRECCION = DIRECCION
    settings.CLINICA_MAX_RESERVAS_PORTAL = 10

    def hora(minutos):
        return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                     inicio=en_tres_dias_10 + datetime.timedelta(minutes=minutos)).pk

    paciente = registrar_paciente(1, canal_preferido=Canal.SMS, acepta_sms=True)
    return paciente, hora


def _pagina(cita):
    """The appointment's page by its booking's identity: it follows a reschedule and says when
    the booking was cancelled."""
    return BASE + reverse("portal:cita_reserva", kwargs={"reserva_uid": cita.reserva_uid})


def _avisos(cita, evento):
    avisos = {n.canal: n for n in Notificacion.objects.filter(cita_id=cita.pk, plantilla=evento)}
    assert set(avisos) == {Canal.EMAIL, Canal.SMS}, avisos
    return avisos[Canal.EMAIL], avisos[Canal.SMS]


def _escenas(paciente, hora, recepcionista):
    """(evento, appointment the notice is about, visit ahead?) for every appointment event but the
    reminder, made by the services."""
    reservada = reservar_cita(user=paciente, cita_id=hora(0), motivo="Dolor en una muela")
    yield "reserva_confirmada", reservada, True
    asignada = asignar_cita(actor=recepcionista.user, cita_id=hora(60), cliente_id=paciente.cliente.pk,
                            motivo="Dolor en una muela")
    yield "cita_asignada", asignada, True
    movida = reprogramar_cita(actor=paciente, cita_id=reservada.pk, nueva_cita_id=hora(120))
    yield "cita_reprogramada", movida, True
    cancelar_cita(actor=paciente, cita_id=movida.pk)
    yield "cita_cancelada_paciente", movida, False
    cancelar_cita(actor=recepcionista.user, cita_id=asignada.pk, por_clinica=True, motivo="corte de agua.")
    yield "cita_cancelada_clinica", asignada, False


def test_cada_aviso_de_una_cita_enlaza_a_su_pagina_y_dice_con_quien_y_donde(escena, recepcionista, dentista):
    paciente, hora = escena
    vistos = []
    for evento, cita, por_venir in _escenas(paciente, hora, recepcionista):
        correo, sms = _avisos(cita, evento)
        for aviso in (correo, sms):
            assert _pagina(cita) in aviso.cuerpo, (evento, aviso.canal, aviso.cuerpo)
            # Never the portal's bare home: every link in it is the appointment's page.
            enlaces = [p for p in aviso.cuerpo.split() if p.startswith("http")]
            assert enlaces and all(e.rstrip(".") == _pagina(cita) for e in enlaces), (evento, enlaces)
        assert dentista.nombre in sms.cuerpo and dentista.nombre in sms.variables
        assert _pagina(cita) in sms.variables
        assert (DIRECCION in sms.cuerpo) is por_venir and (DIRECCION in sms.variables) is por_venir
        assert "muela" not in sms.cuerpo and "muela" not in " ".join(sms.variables)
        vistos.append(evento)
    assert vistos == ["reserva_confirmada", "cita_asignada", "cita_reprogramada", "cita_cancelada_paciente",
                      "cita_cancelada_clinica"]
    # The clinic's reason typed with its own full stop reads once, not "agua.).".
    [sms] = Notificacion.objects.filter(plantilla="cita_cancelada_clinica", canal=Canal.SMS)
    assert "(corte de agua). Disculpe." in sms.cuerpo and ".)." not in sms.cuerpo


def test_la_posicion_de_las_variables_de_whatsapp_no_cambia(escena, dentista, settings):
    """Approved WhatsApp templates keep their positions: what was there stays ({{4}} is still the
    link, now to the appointment's page); dentist and address were added at the end."""
    paciente, hora = escena
    cita = reservar_cita(user=paciente, cita_id=hora(0))
    [sms] = Notificacion.objects.filter(cita_id=cita.pk, plantilla="reserva_confirmada", canal=Canal.SMS)
    local = timezone.localtime(cita.inicio)
    assert sms.variables[0] == settings.CLINICA_NOMBRE and sms.variables[2] == f"{local:%H:%M}"
    assert sms.variables[3:] == [_pagina(cita), dentista.nombre, DIRECCION]


def test_el_recordatorio_enlaza_a_la_cita_y_dice_con_quien_y_donde(escena, dentista):
    paciente, hora = escena
    cita = reservar_cita(user=paciente, cita_id=hora(0))
    Notificacion.objects.all().delete()
    Cita = type(cita)
    Cita.objects.filter(pk=cita.pk).update(reservada_en=cita.inicio - datetime.timedelta(days=7))
    assert crear_recordatorios(ahora=cita.inicio - datetime.timedelta(hours=23)) == 2
    correo, sms = _avisos(cita, "recordatorio")
    assert _pagina(cita) in correo.cuerpo
    # The SMS carries the one-tap links of this booking, on the same base.
    enlaces = [p for p in sms.cuerpo.split() if p.startswith("http")]
    assert len(enlaces) == 2 and all(e.startswith(BASE + "/portal/r/") for e in enlaces)
    assert dentista.nombre in sms.cuerpo and DIRECCION in sms.cuerpo
    assert sms.variables[6:] == [dentista.nombre, DIRECCION]


def test_una_hora_sin_ficha_enlaza_al_portal(escena, recepcionista):
    """A walk-in named only by the snapshot has no page of their own: the portal's address."""
    _, hora = escena
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora(0), paciente_nombre="Rosa Díaz",
                        paciente_email="rosa@correo.example")
    [correo] = Notificacion.objects.filter(cita_id=cita.pk)
    assert f"{BASE}\n" in correo.cuerpo and "/portal/citas/" not in correo.cuerpo


# SMS length -----------------------------------------------------------------------------------

# GSM 03.38's basic set: anything outside it (á, í, ó, ú, ¡ …) sends the whole SMS as UCS-2.
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_DOBLES = set("^{}\\[~]|€")


def segmentos_sms(texto):
    """(encoding, segments): 160/153 septets in GSM-7 (extension characters count two), else
    70/67 UCS-2 characters."""
    if all(c in _GSM7 or c in _GSM7_DOBLES for c in texto):
        largo = sum(2 if c in _GSM7_DOBLES else 1 for c in texto)
        return "GSM-7", 1 if largo <= 160 else math.ceil(largo / 153)
    largo = len(texto.encode("utf-16-le")) // 2
    return "UCS-2", 1 if largo <= 70 else math.ceil(largo / 67)


def test_el_sms_de_cada_evento_cabe_en_pocos_segmentos(escena, recepcionista):
    """Accents make every SMS UCS-2 (67 characters per segment once split): the appointment
    notices stay within 4 segments with a real base URL; the reminder, with its two one-tap
    links (about 120 characters each), within 7."""
    paciente, hora = escena
    for evento, cita, _ in _escenas(paciente, hora, recepcionista):
        _, sms = _avisos(cita, evento)
        codificacion, segmentos = segmentos_sms(sms.cuerpo)
        print(f"{evento}: {len(sms.cuerpo)} caracteres, {codificacion}, {segmentos} segmentos")
        assert codificacion == "UCS-2" and segmentos <= 4, (evento, len(sms.cuerpo), sms.cuerpo)
    Notificacion.objects.all().delete()
    cita = reservar_cita(user=paciente, cita_id=hora(300))
    type(cita).objects.filter(pk=cita.pk).update(reservada_en=cita.inicio - datetime.timedelta(days=7))
    crear_recordatorios(ahora=cita.inicio - datetime.timedelta(hours=23))
    _, sms = _avisos(cita, "recordatorio")
    codificacion, segmentos = segmentos_sms(sms.cuerpo)
    print(f"recordatorio: {len(sms.cuerpo)} caracteres, {codificacion}, {segmentos} segmentos")
    assert segmentos <= 7, (len(sms.cuerpo), sms.cuerpo)


def test_segmentos_sms():
    assert segmentos_sms("a" * 160) == ("GSM-7", 1)
    assert segmentos_sms("a" * 161) == ("GSM-7", 2)
    assert segmentos_sms("é" * 160) == ("GSM-7", 1)  # é is in the basic set
    assert segmentos_sms("á" * 70) == ("UCS-2", 1)
    assert segmentos_sms("á" * 71) == ("UCS-2", 2)
    assert segmentos_sms("€" * 80) == ("GSM-7", 1) and segmentos_sms("€" * 81) == ("GSM-7", 2)
