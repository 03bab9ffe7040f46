"""One patient never holds two live appointments that overlap in time (issue 14): the database's
``cita_sin_traslape_por_paciente`` holds it, and every booking path turns its refusal into the
Spanish ``paciente_ocupado``, under concurrency too."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from citas.models import Cita, EstadoCita
from citas.services import (
    asignar_cita,
    cancelar_cita,
    crear_cita_disponible,
    reprogramar_cita,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from notificaciones.models import Notificacion
from personal.models import Rol
from pruebas.soporte import huella_bd

OCUPADO = "Ya tiene otra cita a esa hora."
MINUTOS = datetime.timedelta(minutes=1)


@pytest.fixture
def otro_dentista(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Bruno", apellido="Vera")


@pytest.fixture
def hora(recepcionista):
    def crear(dentista, inicio, duracion=30):
        return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio,
                                     duracion_minutos=duracion)

    return crear


@pytest.mark.django_db(transaction=True)
def test_veinte_reservas_simultaneas_de_un_paciente_a_la_misma_hora_solo_una_gana(crear_personal, recepcionista,
                                                                                 manana_10, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 50  # the cap is not what refuses here
    horas = [
        crear_cita_disponible(actor=recepcionista.user, dentista_id=crear_personal(rol=Rol.DENTISTA).pk,
                              inicio=manana_10 + n * MINUTOS)
        for n in range(20)
    ]
    user = registrar_paciente(1)
    barrera = threading.Barrier(len(horas))
    resultados = []

    def intentar(cita):
        try:
            barrera.wait()
            reservar_cita(user=user, cita_id=cita.pk)
            resultados.append("ok")
        except ValidationError as error:
            resultados.append((error.code, error.message))
        finally:
            connection.close()

    hilos = [threading.Thread(target=intentar, args=(c,)) for c in horas]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()

    assert sorted(resultados, key=str) == [("paciente_ocupado", OCUPADO)] * 19 + ["ok"]
    assert Cita.objects.filter(estado=EstadoCita.RESERVADA).count() == 1
    assert Notificacion.objects.filter(plantilla="reserva_confirmada").count() == 1


def test_la_clinica_no_da_dos_horas_a_la_vez(dentista, otro_dentista, crear_personal, hora, recepcionista,
                                             manana_10):
    paciente = registrar_paciente(1).cliente
    primera = hora(dentista, manana_10)
    asignar_cita(actor=recepcionista.user, cita_id=primera.pk, cliente_id=paciente.pk)
    # 10:29-10:59 overlaps 10:00-10:30 by one minute; 10:30 only touches it.
    traslapada, seguida = hora(otro_dentista, manana_10 + 29 * MINUTOS), hora(otro_dentista, manana_10 + 60 * MINUTOS)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        asignar_cita(actor=recepcionista.user, cita_id=traslapada.pk, cliente_id=paciente.pk)
    assert (error.value.code, error.value.message) == ("paciente_ocupado", OCUPADO)
    assert huella_bd() == antes
    junto = hora(dentista, manana_10 + 30 * MINUTOS)
    asignar_cita(actor=recepcionista.user, cita_id=junto.pk, cliente_id=paciente.pk)
    asignar_cita(actor=recepcionista.user, cita_id=seguida.pk, cliente_id=paciente.pk)
    # People without a record (only a name) are not one patient: no rule between them.
    asignar_cita(actor=recepcionista.user, cita_id=traslapada.pk, paciente_nombre="Ana Sin Ficha")
    sin_ficha = hora(crear_personal(rol=Rol.DENTISTA), manana_10 + 40 * MINUTOS)
    asignar_cita(actor=recepcionista.user, cita_id=sin_ficha.pk, paciente_nombre="Ana Sin Ficha")


def test_lo_cancelado_y_lo_pasado_no_ocupan(dentista, otro_dentista, hora, recepcionista, manana_10):
    user = registrar_paciente(1)
    paciente = user.cliente
    # Cancelled by the clinic: kept with its patient, but not live.
    primera = asignar_cita(actor=recepcionista.user, cita_id=hora(dentista, manana_10).pk, cliente_id=paciente.pk)
    cancelar_cita(actor=recepcionista.user, cita_id=primera.pk, por_clinica=True, motivo="dentista enfermo")
    segunda = asignar_cita(actor=recepcionista.user, cita_id=hora(otro_dentista, manana_10).pk, cliente_id=paciente.pk)
    # Attended: history, not live (the marks are checked by time in the state machine, so the
    # row is put in that state directly).
    Cita.objects.filter(pk=segunda.pk).update(estado=EstadoCita.ATENDIDA)
    tercera = hora(otro_dentista, manana_10 + 60 * MINUTOS)
    reservar_cita(user=user, cita_id=tercera.pk)
    cuarta = hora(dentista, manana_10 + 60 * MINUTOS)
    with pytest.raises(ValidationError) as error:
        asignar_cita(actor=recepcionista.user, cita_id=cuarta.pk, cliente_id=paciente.pk)
    assert error.value.code == "paciente_ocupado"


def test_reprogramar_no_lleva_a_una_hora_ocupada_pero_si_junto_a_la_misma(dentista, otro_dentista, hora,
                                                                         recepcionista, manana_10):
    paciente = registrar_paciente(1).cliente
    a_las_10 = asignar_cita(actor=recepcionista.user, cita_id=hora(dentista, manana_10).pk, cliente_id=paciente.pk)
    a_las_11 = asignar_cita(actor=recepcionista.user, cita_id=hora(otro_dentista, manana_10 + 60 * MINUTOS).pk,
                            cliente_id=paciente.pk)
    # Moving the 11:00 one onto 10:15 would overlap the 10:00 one: refused, nothing changed.
    diez_y_cuarto = hora(otro_dentista, manana_10 + 15 * MINUTOS)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reprogramar_cita(actor=recepcionista.user, cita_id=a_las_11.pk, nueva_cita_id=diez_y_cuarto.pk)
    assert (error.value.code, error.value.message) == ("paciente_ocupado", OCUPADO)
    assert huella_bd() == antes
    # Moving the 10:00 one itself to 10:15 overlaps only its own old slot, freed by the move.
    nueva = reprogramar_cita(actor=recepcionista.user, cita_id=a_las_10.pk, nueva_cita_id=diez_y_cuarto.pk)
    a_las_10.refresh_from_db()
    nueva.refresh_from_db()
    assert (a_las_10.estado, a_las_10.cliente_id) == (EstadoCita.DISPONIBLE, None)
    assert (nueva.estado, nueva.cliente_id) == (EstadoCita.RESERVADA, paciente.pk)


@pytest.mark.django_db(transaction=True)
def test_la_migracion_se_detiene_con_la_lista_de_traslapes_antiguos(dentista, otro_dentista, recepcionista, manana_10):
    """0010: overlapping live bookings made before the constraint stop the migration with their ids."""
    from django.db.migrations.executor import MigrationExecutor

    antes, despues = [("citas", "0009_auditoria_con_cierres_y_cancelaciones")], [("citas", "0010_sin_traslape_por_paciente")]
    paciente = registrar_paciente(1).cliente
    # The slots are made with today's model, before going back (later migrations add columns).
    a = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    b = crear_cita_disponible(actor=recepcionista.user, dentista_id=otro_dentista.pk, inicio=manana_10)
    ejecutor = MigrationExecutor(connection)
    ejecutor.migrate(antes)
    try:
        Cita.objects.filter(pk__in=(a.pk, b.pk)).update(estado=EstadoCita.RESERVADA, cliente=paciente)
        ejecutor = MigrationExecutor(connection)
        ejecutor.loader.build_graph()
        with pytest.raises(RuntimeError, match=f"paciente {paciente.pk}: citas {a.pk} y {b.pk}"):
            ejecutor.migrate(despues)
        Cita.objects.filter(pk=b.pk).update(estado=EstadoCita.CANCELADA)
    finally:
        ejecutor = MigrationExecutor(connection)
        ejecutor.loader.build_graph()
        ejecutor.migrate(ejecutor.loader.graph.leaf_nodes())
    # Migrated once the pair was resolved: the constraint is there.
    with pytest.raises(IntegrityError, match="cita_sin_traslape_por_paciente"), transaction.atomic():
        Cita.objects.filter(pk=b.pk).update(estado=EstadoCita.RESERVADA)
