"""The portal's cap on live future bookings per patient (``CLINICA_MAX_RESERVAS_PORTAL``,
issue 14): held by the booking statement under concurrency; staff may exceed it; rescheduling
is not a new booking; cancelled, attended and past appointments do not count."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, cancelar_cita, crear_cita_disponible, reprogramar_cita, reservar_cita
from citas.tests.test_services import registrar_paciente
from notificaciones.models import Notificacion
from pruebas.soporte import huella_bd

H = datetime.timedelta(hours=1)


@pytest.fixture
def horas(dentista, recepcionista, en_tres_dias_10):
    """``horas(n)``: n free slots of the dentist an hour apart from three days ahead at 10:00."""

    def crear(n, desde=0):
        return [
            crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10 + (desde + i) * H)
            for i in range(n)
        ]

    return crear


@pytest.mark.django_db(transaction=True)
def test_diez_reservas_simultaneas_de_un_paciente_con_tope_dos_dan_exactamente_dos(horas, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 2
    libres = horas(10)
    user = registrar_paciente(1)
    barrera = threading.Barrier(len(libres))
    resultados = []

    def intentar(cita):
        try:
            barrera.wait()
            reservar_cita(user=user, cita_id=cita.pk)
            resultados.append("ok")
        except ValidationError as error:
            resultados.append(error.code)
        finally:
            connection.close()

    hilos = [threading.Thread(target=intentar, args=(c,)) for c in libres]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()

    assert sorted(resultados) == ["max_reservas"] * 8 + ["ok"] * 2
    assert Cita.objects.filter(cliente=user.cliente, estado=EstadoCita.RESERVADA).count() == 2
    assert Notificacion.objects.filter(plantilla="reserva_confirmada").count() == 2


def test_el_tope_del_portal_y_lo_que_no_cuenta(horas, recepcionista, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 2
    settings.CLINICA_TELEFONO = "+56 2 2999 0000"
    user = registrar_paciente(1)
    primera, segunda, tercera, cuarta, quinta = horas(5)
    reservar_cita(user=user, cita_id=primera.pk)
    reservar_cita(user=user, cita_id=segunda.pk)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=user, cita_id=tercera.pk)
    assert error.value.code == "max_reservas"
    assert error.value.message == ("Por el portal puede tener hasta 2 horas reservadas a la vez, y ya las tiene: "
                                   "para reservar otra, llame a la clínica al +56 2 2999 0000.")
    assert huella_bd() == antes
    # Rescheduling is not a new booking; the clinic may give more than the cap.
    reprogramar_cita(actor=user, cita_id=segunda.pk, nueva_cita_id=tercera.pk)
    asignar_cita(actor=recepcionista.user, cita_id=cuarta.pk, cliente_id=user.cliente.pk)
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=user, cita_id=quinta.pk)
    assert error.value.code == "max_reservas"
    # A cancelled one (by the patient or by the clinic) and an attended or past one free a place.
    cancelar_cita(actor=user, cita_id=primera.pk)
    cancelar_cita(actor=recepcionista.user, cita_id=cuarta.pk, por_clinica=True, motivo="dentista enfermo")
    reservar_cita(user=user, cita_id=quinta.pk)
    otra, ultima = horas(2, desde=10)
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=user, cita_id=otra.pk)
    assert error.value.code == "max_reservas"
    Cita.objects.filter(pk=tercera.pk).update(estado=EstadoCita.ATENDIDA)
    reservar_cita(user=user, cita_id=otra.pk)
    Cita.objects.filter(pk=quinta.pk).update(inicio=quinta.inicio - 100 * H, fin=quinta.fin - 100 * H)  # now past
    reservar_cita(user=user, cita_id=ultima.pk)


def test_tope_uno_habla_en_singular(horas, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 1
    user = registrar_paciente(1)
    primera, segunda = horas(2)
    reservar_cita(user=user, cita_id=primera.pk)
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=user, cita_id=segunda.pk)
    assert error.value.message.startswith("Por el portal puede tener hasta 1 hora reservada a la vez")
