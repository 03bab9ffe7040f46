"""A booking keeps its identity (issue 14): ``Cita.reserva_uid`` is set when a slot is taken,
moves with the booking on every reschedule (``reserva_secuencia`` + 1), is recorded with its
cancellation and leaves the slot when it is freed; the calendar file (UID, SEQUENCE, METHOD)
follows it, and the e-mails carry it as a ``text/calendar`` attachment."""

import datetime
import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from icalendar import Calendar

from citas import calendario
from citas.models import Cancelacion, Cita, EstadoCita
from citas.services import (
    asignar_cita,
    cancelar_cita,
    crear_cita_disponible,
    reprogramar_cita,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from notificaciones.models import Canal, EstadoNotificacion, Notificacion
from pruebas.soporte import ejecutar_worker

pytestmark = pytest.mark.django_db


def _hora(dentista, recepcionista, inicio):
    return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)


@pytest.fixture
def paciente(db):
    return registrar_paciente(701)


@pytest.fixture
def reservada(dentista, recepcionista, paciente, en_tres_dias_10):
    return reservar_cita(user=paciente, cita_id=_hora(dentista, recepcionista, en_tres_dias_10).pk)


def _evento(texto):
    """(METHOD, the VEVENT) of an iCalendar text, parsed with icalendar."""
    cal = Calendar.from_ical(texto)
    [evento] = cal.walk("VEVENT")
    return str(cal["METHOD"]), evento


def _adjunto(plantilla):
    return Notificacion.objects.get(plantilla=plantilla, canal=Canal.EMAIL).adjunto_calendario


# The identity on the row ------------------------------------------------------------------------


def test_reservar_y_asignar_dan_una_identidad_nueva(reservada, dentista, recepcionista, en_tres_dias_10, paciente):
    fila = Cita.objects.get(pk=reservada.pk)
    assert isinstance(fila.reserva_uid, uuid.UUID) and fila.reserva_secuencia == 0
    assert reservada.reserva_uid == fila.reserva_uid  # the booking statement returned it
    otra = _hora(dentista, recepcionista, en_tres_dias_10 + datetime.timedelta(hours=2))
    asignada = asignar_cita(actor=recepcionista.user, cita_id=otra.pk, paciente_nombre="Ana Sin Ficha")
    assert asignada.reserva_uid is not None and asignada.reserva_uid != fila.reserva_uid
    libre = _hora(dentista, recepcionista, en_tres_dias_10 + datetime.timedelta(hours=4))
    assert libre.reserva_uid is None and Cita.objects.get(pk=libre.pk).reserva_uid is None


def test_reprogramar_conserva_la_identidad_y_sube_la_version(reservada, dentista, recepcionista, en_tres_dias_10,
                                                             paciente):
    uid = Cita.objects.get(pk=reservada.pk).reserva_uid
    primera = _hora(dentista, recepcionista, en_tres_dias_10 + datetime.timedelta(hours=1))
    segunda = _hora(dentista, recepcionista, en_tres_dias_10 + datetime.timedelta(hours=3))
    movida = reprogramar_cita(actor=paciente, cita_id=reservada.pk, nueva_cita_id=primera.pk)  # by the patient
    assert (movida.reserva_uid, movida.reserva_secuencia) == (uid, 1)
    otra_vez = reprogramar_cita(actor=recepcionista.user, cita_id=primera.pk, nueva_cita_id=segunda.pk)  # staff
    assert (otra_vez.reserva_uid, otra_vez.reserva_secuencia) == (uid, 2)
    # The slots it left hold nothing: exactly one row carries the booking.
    assert list(Cita.objects.filter(reserva_uid=uid).values_list("pk", flat=True)) == [segunda.pk]
    for pk in (reservada.pk, primera.pk):
        assert Cita.objects.filter(pk=pk, reserva_uid__isnull=True, reserva_secuencia=0,
                                   estado=EstadoCita.DISPONIBLE).exists()


def test_cancelar_guarda_la_identidad_en_el_historial_y_libera_la_hora(reservada, paciente):
    uid = Cita.objects.get(pk=reservada.pk).reserva_uid
    cancelar_cita(actor=paciente, cita_id=reservada.pk)
    cancelacion = Cancelacion.objects.get(cita_id=reservada.pk)
    assert (cancelacion.reserva_uid, cancelacion.reserva_secuencia) == (uid, 1)
    assert Cita.objects.get(pk=reservada.pk).reserva_uid is None


def test_la_clinica_cancela_y_la_fila_conserva_la_reserva(reservada, recepcionista):
    uid = Cita.objects.get(pk=reservada.pk).reserva_uid
    cancelar_cita(actor=recepcionista.user, cita_id=reservada.pk, por_clinica=True, motivo="Dentista enfermo")
    fila = Cita.objects.get(pk=reservada.pk)
    assert (fila.estado, fila.reserva_uid, fila.reserva_secuencia) == (EstadoCita.CANCELADA, uid, 1)
    assert Cancelacion.objects.get(cita_id=reservada.pk).reserva_uid == uid


def test_eliminar_al_paciente_quita_la_identidad_de_sus_horas_futuras(reservada, recepcionista, paciente):
    from cuentas.eliminacion import eliminar_cliente

    eliminar_cliente(actor=recepcionista.user, cliente_id=paciente.cliente.pk)
    fila = Cita.objects.get(pk=reservada.pk)
    assert (fila.estado, fila.reserva_uid, fila.reserva_secuencia) == (EstadoCita.DISPONIBLE, None, 0)


def test_la_base_de_datos_no_deja_una_reserva_en_dos_filas_ni_en_una_hora_libre(reservada, dentista, recepcionista,
                                                                                 en_tres_dias_10):
    uid = Cita.objects.get(pk=reservada.pk).reserva_uid
    otra = asignar_cita(actor=recepcionista.user, cita_id=_hora(dentista, recepcionista,
                        en_tres_dias_10 + datetime.timedelta(hours=1)).pk, paciente_nombre="Otra Persona")
    with pytest.raises(IntegrityError, match="cita_reserva_uid_unica"), transaction.atomic():
        Cita.objects.filter(pk=otra.pk).update(reserva_uid=uid)
    libre = _hora(dentista, recepcionista, en_tres_dias_10 + datetime.timedelta(hours=2))
    with pytest.raises(IntegrityError, match="cita_libre_sin_reserva"), transaction.atomic():
        Cita.objects.filter(pk=libre.pk).update(reserva_uid=uuid.uuid4())


@pytest.mark.django_db(transaction=True)
def test_reprogramaciones_concurrentes_dejan_una_sola_fila_con_la_reserva(dentista, recepcionista, en_tres_dias_10):
    paciente = registrar_paciente(702)
    origen = reservar_cita(user=paciente, cita_id=_hora(dentista, recepcionista, en_tres_dias_10).pk)
    uid = Cita.objects.get(pk=origen.pk).reserva_uid
    destinos = [_hora(dentista, recepcionista, en_tres_dias_10 + datetime.timedelta(hours=1 + i)) for i in range(8)]
    barrera = threading.Barrier(len(destinos))
    resultados = []

    def mover(destino):
        try:
            barrera.wait()
            reprogramar_cita(actor=recepcionista.user, cita_id=origen.pk, nueva_cita_id=destino.pk)
            resultados.append("ok")
        except ValidationError as error:
            resultados.append(error.code)
        finally:
            connection.close()

    hilos = [threading.Thread(target=mover, args=(d,)) for d in destinos]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    assert resultados.count("ok") == 1, resultados
    vivas = Cita.objects.filter(reserva_uid=uid)
    assert vivas.count() == 1
    assert vivas.get().reserva_secuencia == 1


# The calendar file ----------------------------------------------------------------------------


def test_ics_misma_uid_tras_reprogramar_con_secuencia_mayor_y_cancel_al_cancelar(
        reservada, dentista, recepcionista, en_tres_dias_10, paciente, settings):
    metodo, primero = _evento(_adjunto("reserva_confirmada"))
    assert metodo == "REQUEST"
    assert str(primero["UID"]).startswith(f"reserva-{Cita.objects.get(pk=reservada.pk).reserva_uid}@")
    assert int(primero["SEQUENCE"]) == 0
    assert primero.decoded("DTSTART") == reservada.inicio and primero.decoded("DTSTART").utcoffset() == datetime.timedelta(0)
    assert settings.CLINICA_DIRECCION in str(primero["LOCATION"]) and settings.CLINICA_NOMBRE in str(primero["LOCATION"])
    assert "Camila Soto" in str(primero["SUMMARY"])
    assert "DTSTAMP" in primero
    [alarma] = primero.walk("VALARM")
    assert alarma.decoded("TRIGGER") == -calendario.AVISO_ANTES
    assert "paciente701@correo.example" in str(primero["ATTENDEE"])

    nueva = _hora(dentista, recepcionista, en_tres_dias_10 + datetime.timedelta(hours=2))
    reprogramar_cita(actor=paciente, cita_id=reservada.pk, nueva_cita_id=nueva.pk)
    metodo, movido = _evento(_adjunto("cita_reprogramada"))
    assert metodo == "REQUEST"
    assert str(movido["UID"]) == str(primero["UID"])
    assert int(movido["SEQUENCE"]) == 1
    assert movido.decoded("DTSTART") == nueva.inicio

    cancelar_cita(actor=paciente, cita_id=nueva.pk)
    metodo, cancelado = _evento(_adjunto("cita_cancelada_paciente"))
    assert metodo == "CANCEL"
    assert str(cancelado["STATUS"]) == "CANCELLED"
    assert str(cancelado["UID"]) == str(primero["UID"])
    assert int(cancelado["SEQUENCE"]) == 2
    assert not cancelado.walk("VALARM")


def test_la_asignacion_y_la_cancelacion_de_la_clinica_llevan_su_ics(dentista, recepcionista, en_tres_dias_10):
    paciente = registrar_paciente(703)
    hora = _hora(dentista, recepcionista, en_tres_dias_10)
    asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=paciente.cliente.pk)
    metodo, asignada = _evento(_adjunto("cita_asignada"))
    assert (metodo, int(asignada["SEQUENCE"])) == ("REQUEST", 0)
    cancelar_cita(actor=recepcionista.user, cita_id=hora.pk, por_clinica=True, motivo="Dentista enfermo")
    metodo, cancelada = _evento(_adjunto("cita_cancelada_clinica"))
    assert (metodo, str(cancelada["UID"]), int(cancelada["SEQUENCE"])) == ("CANCEL", str(asignada["UID"]), 1)


def test_sms_y_whatsapp_no_llevan_adjunto(reservada):
    assert not Notificacion.objects.exclude(canal=Canal.EMAIL).exclude(adjunto_calendario=None).exists()


# The e-mail, through a real SMTP server ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_el_correo_llega_con_el_ics_como_text_calendar(servidor_smtp, cola_vacia, dentista, recepcionista,
                                                       en_tres_dias_10):
    user = registrar_paciente(704)
    hora = _hora(dentista, recepcionista, en_tres_dias_10)
    reservar_cita(user=user, cita_id=hora.pk)
    ejecutar_worker()
    assert Notificacion.objects.get(plantilla="reserva_confirmada", canal=Canal.EMAIL).estado == EstadoNotificacion.ENVIADA
    [mensaje] = [m for m in servidor_smtp.para(user.email) if "10:00" in m.asunto]
    partes = [p for p in mensaje.mensaje.walk() if p.get_content_type() == "text/calendar"]
    assert len(partes) == 1
    [parte] = partes
    assert parte.get_param("method") == "REQUEST"
    assert parte.get_filename() == "cita.ics"
    metodo, evento = _evento(parte.get_content())
    assert metodo == "REQUEST"
    assert str(evento["UID"]).startswith(f"reserva-{Cita.objects.get(pk=hora.pk).reserva_uid}@")
    # The text body is still the message (the attachment does not replace it).
    assert "Camila Soto" in mensaje.cuerpo

    servidor_smtp.limpiar()
    cancelar_cita(actor=user, cita_id=hora.pk)
    ejecutar_worker()
    [aviso] = servidor_smtp.para(user.email)
    [parte] = [p for p in aviso.mensaje.walk() if p.get_content_type() == "text/calendar"]
    assert parte.get_param("method") == "CANCEL"
    assert _evento(parte.get_content())[0] == "CANCEL"


def test_metodo_desconocido_no_se_acepta(reservada):
    with pytest.raises(ValueError):
        calendario.ics(reserva_uid=uuid.uuid4(), secuencia=0, inicio=timezone.now(), fin=timezone.now(),
                       dentista="X", metodo="REFRESH")


@pytest.mark.django_db(transaction=True)
def test_la_migracion_da_identidad_a_las_reservas_guardadas(reservada, dentista, recepcionista, en_tres_dias_10):
    """0011: every booking stored before gets its identity; free slots none."""
    from django.db.migrations.executor import MigrationExecutor

    libre = _hora(dentista, recepcionista, en_tres_dias_10 + datetime.timedelta(hours=5))
    antes = [("citas", "0010_sin_traslape_por_paciente")]
    ejecutor = MigrationExecutor(connection)
    ejecutor.migrate(antes)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT estado FROM citas_cita WHERE id = %s", [reservada.pk])
            assert cursor.fetchone() == (EstadoCita.RESERVADA,)
    finally:
        ejecutor = MigrationExecutor(connection)
        ejecutor.loader.build_graph()
        ejecutor.migrate(ejecutor.loader.graph.leaf_nodes())
    fila = Cita.objects.get(pk=reservada.pk)
    assert isinstance(fila.reserva_uid, uuid.UUID) and fila.reserva_secuencia == 0
    assert Cita.objects.get(pk=libre.pk).reserva_uid is None
