"""Booking by what the visit is for (issue 17): a prestación holds the chain of contiguous free
slots that covers its duration, merged into one row (``citas.cadenas``); the exclusion
constraints then hold the whole duration; freeing the row by any path splits it back
(trigger ``cita_partir_al_liberar``)."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from citas import cierres
from citas.cadenas import cadena_de
from citas.models import Cancelacion, Cita, EstadoCita
from citas.services import (
    asignar_cita,
    cancelar_cita,
    cancelar_citas_futuras_del_cliente,
    crear_cita_disponible,
    liberar_citas_del_cliente,
    reprogramar_cita,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from notificaciones.models import Notificacion
from personal.models import Rol
from prestaciones.models import Prestacion, PrestacionDentista
from pruebas.soporte import huella_bd

MIN = datetime.timedelta(minutes=1)


@pytest.fixture
def grilla(recepcionista):
    """``grilla(dentista, inicio, n)``: n contiguous 30-minute free slots from ``inicio``."""

    def crear(dentista, inicio, n=4, minutos=30):
        return [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                      inicio=inicio + i * minutos * MIN, duracion_minutos=minutos)
                for i in range(n)]

    return crear


@pytest.fixture
def prestacion(dentista):
    """``prestacion("LIMP", 60)``: online-bookable, performed by ``dentista`` (and ``dentistas``)."""

    def crear(codigo="LIMP", minutos=60, *, nombre="Limpieza", dentistas=(), en_linea=True, activa=True):
        p = Prestacion.objects.create(codigo=codigo, nombre=nombre, duracion_minutos=minutos, precio=25_000,
                                      reservable_en_linea=en_linea, activa=activa)
        for d in (dentista, *dentistas):
            PrestacionDentista.objects.create(prestacion=p, dentista=d)
        return p

    return crear


@pytest.fixture
def otro_dentista(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Bruno", apellido="Vera")


def _libres(dentista):
    return [(c.inicio, c.fin) for c in Cita.objects.filter(dentista=dentista, estado=EstadoCita.DISPONIBLE)
            .order_by("inicio")]


# Booking holds the whole duration ------------------------------------------------------------


def test_una_limpieza_de_60_minutos_toma_dos_horas_de_30_y_las_funde(dentista, grilla, prestacion,
                                                                     en_tres_dias_10):
    horas = grilla(dentista, en_tres_dias_10, 4)
    limpieza = prestacion()
    user = registrar_paciente(1)
    cita = reservar_cita(user=user, cita_id=horas[0].pk, prestacion_id=limpieza.pk)
    cita = Cita.objects.get(pk=cita.pk)
    assert (cita.inicio, cita.fin, cita.bloques, cita.prestacion_id) == (
        en_tres_dias_10, en_tres_dias_10 + 60 * MIN, 2, limpieza.pk)
    assert not Cita.objects.filter(pk=horas[1].pk).exists()
    assert _libres(dentista) == [(en_tres_dias_10 + 60 * MIN, en_tres_dias_10 + 90 * MIN),
                                 (en_tres_dias_10 + 90 * MIN, en_tres_dias_10 + 120 * MIN)]
    correo = Notificacion.objects.get(plantilla="reserva_confirmada", canal="email")
    assert "Prestación: Limpieza (60 minutos reservados)" in correo.cuerpo
    assert "a 11:00" in correo.cuerpo


def test_45_minutos_en_una_grilla_de_30_ocupan_60(dentista, grilla, prestacion, en_tres_dias_10):
    horas = grilla(dentista, en_tres_dias_10, 3)
    cita = reservar_cita(user=registrar_paciente(1), cita_id=horas[0].pk, prestacion_id=prestacion("EXO", 45).pk)
    assert (Cita.objects.get(pk=cita.pk).fin, Cita.objects.get(pk=cita.pk).bloques) == (
        en_tres_dias_10 + 60 * MIN, 2)


def test_una_cadena_no_junta_horas_de_distinto_largo(dentista, grilla, prestacion, en_tres_dias_10):
    """A freed booking is split back into ``bloques`` equal pieces: a 30-minute slot followed by a
    60-minute one would come back as two of 45 and shift the agenda's grid for good. So a chain
    takes slots of one length only."""
    corta = grilla(dentista, en_tres_dias_10, 1, minutos=30)[0]
    grilla(dentista, en_tres_dias_10 + 30 * MIN, 1, minutos=60)
    antes = {t: v for t, v in huella_bd().items() if t.startswith("citas_")}
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=registrar_paciente(3), cita_id=corta.pk, prestacion_id=prestacion("TRAT", 90).pk)
    assert error.value.code == "hora_no_disponible"
    assert {t: v for t, v in huella_bd().items() if t.startswith("citas_")} == antes
    assert _libres(dentista) == [(en_tres_dias_10, en_tres_dias_10 + 30 * MIN),
                                 (en_tres_dias_10 + 30 * MIN, en_tres_dias_10 + 90 * MIN)]


def test_una_hora_cuya_siguiente_esta_tomada_no_alcanza(dentista, recepcionista, grilla, prestacion,
                                                        en_tres_dias_10):
    horas = grilla(dentista, en_tres_dias_10, 3)
    limpieza = prestacion()
    asignar_cita(actor=recepcionista.user, cita_id=horas[2].pk, paciente_nombre="Otra Persona")
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=registrar_paciente(2), cita_id=horas[1].pk, prestacion_id=limpieza.pk)
    assert error.value.code == "hora_no_disponible"
    assert "tiempo libre suficiente para Limpieza (60 minutos)" in error.value.message
    # (registrar_paciente wrote the account; nothing of the agenda changed)
    assert {t: v for t, v in huella_bd().items() if t.startswith("citas_")} == {
        t: v for t, v in antes.items() if t.startswith("citas_")}


def test_un_hueco_entre_dos_horas_corta_la_cadena(dentista, recepcionista, prestacion, en_tres_dias_10):
    primera = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10)
    crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10 + 35 * MIN)
    assert cadena_de(cita_id=primera.pk, duracion=60 * MIN) == []
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=registrar_paciente(1), cita_id=primera.pk, prestacion_id=prestacion().pk)
    assert error.value.code == "hora_no_disponible"


def test_la_prestacion_se_valida(dentista, otro_dentista, grilla, prestacion, en_tres_dias_10):
    horas = grilla(dentista, en_tres_dias_10, 2)
    de_otro = grilla(otro_dentista, en_tres_dias_10, 2)
    limpieza = prestacion()
    solo_clinica = prestacion("CORONA", 60, nombre="Corona", en_linea=False)
    user = registrar_paciente(1)
    casos = [
        (horas[0].pk, None, "prestacion_requerida"),  # the clinic offers prestaciones online
        (horas[0].pk, solo_clinica.pk, "prestacion_invalida"),
        (horas[0].pk, 999_999, "prestacion_invalida"),
        (horas[0].pk, "1", "prestacion_invalida"),
        (de_otro[0].pk, limpieza.pk, "prestacion_invalida"),  # Bruno does not do it
    ]
    antes = huella_bd()
    for cita_id, prestacion_id, codigo in casos:
        with pytest.raises(ValidationError) as error:
            reservar_cita(user=user, cita_id=cita_id, prestacion_id=prestacion_id)
        assert error.value.code == codigo, (cita_id, prestacion_id)
    assert huella_bd() == antes


def test_sin_prestaciones_en_linea_se_reserva_una_hora_como_antes(dentista, grilla, prestacion, en_tres_dias_10):
    prestacion("CORONA", 60, en_linea=False)
    horas = grilla(dentista, en_tres_dias_10, 2)
    cita = reservar_cita(user=registrar_paciente(1), cita_id=horas[0].pk)
    cita = Cita.objects.get(pk=cita.pk)
    assert (cita.fin, cita.bloques, cita.prestacion_id) == (en_tres_dias_10 + 30 * MIN, 1, None)


def test_recepcion_asigna_por_prestacion_cualquiera_activa_del_dentista(dentista, recepcionista, grilla, prestacion,
                                                                       en_tres_dias_10):
    horas = grilla(dentista, en_tres_dias_10, 4)
    corona = prestacion("CORONA", 90, nombre="Corona", en_linea=False)
    cita = asignar_cita(actor=recepcionista.user, cita_id=horas[1].pk, paciente_nombre="Ana Pérez",
                        prestacion_id=corona.pk)
    cita = Cita.objects.get(pk=cita.pk)
    assert (cita.inicio, cita.fin, cita.bloques, cita.prestacion) == (
        en_tres_dias_10 + 30 * MIN, en_tres_dias_10 + 120 * MIN, 3, corona)
    inactiva = prestacion("VIEJA", 30, nombre="Vieja", en_linea=False, activa=False)
    with pytest.raises(ValidationError) as error:
        asignar_cita(actor=recepcionista.user, cita_id=horas[0].pk, paciente_nombre="Ana", prestacion_id=inactiva.pk)
    assert error.value.code == "prestacion_invalida"


# The database holds the whole duration --------------------------------------------------------


def test_el_traslape_de_reservas_largas_lo_rechaza_la_base_tambien_por_sql(dentista, grilla, prestacion,
                                                                         en_tres_dias_10):
    horas = grilla(dentista, en_tres_dias_10, 4)
    user = registrar_paciente(1)
    cita = reservar_cita(user=user, cita_id=horas[0].pk, prestacion_id=prestacion().pk)
    # Another row of the same dentist inside 10:00-11:00, even by raw SQL: refused.
    with pytest.raises(IntegrityError, match="cita_sin_traslape_por_dentista"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO citas_cita (creado, actualizado, dentista_id, inicio, fin, estado, paciente_nombre,"
                " paciente_email, paciente_telefono, motivo, bloqueo_motivo) VALUES (now(), now(), %s, %s, %s,"
                " 'reservada', 'Intruso', '', '', '', '')",
                [dentista.pk, en_tres_dias_10 + 45 * MIN, en_tres_dias_10 + 75 * MIN])
    # The same patient at 10:40 with another dentist: refused by the patient's constraint.
    with pytest.raises(IntegrityError, match="cita_sin_traslape_por_paciente"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO citas_cita (creado, actualizado, dentista_id, inicio, fin, estado, cliente_id,"
                " paciente_nombre, paciente_email, paciente_telefono, motivo, bloqueo_motivo) VALUES (now(), now(),"
                " %s, %s, %s, 'reservada', %s, 'X', '', '', '', '')",
                [_otro(dentista).pk, en_tres_dias_10 + 40 * MIN, en_tres_dias_10 + 70 * MIN, cita.cliente_id])


def _otro(dentista):
    from personal.models import Perfil
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="otro.sql", is_staff=True)
    return Perfil.objects.create(user=user, rol=Rol.DENTISTA)


def test_un_paciente_no_toma_dos_reservas_largas_que_se_cruzan(dentista, otro_dentista, grilla, prestacion,
                                                             en_tres_dias_10):
    uno, dos = grilla(dentista, en_tres_dias_10, 2), grilla(otro_dentista, en_tres_dias_10 + 30 * MIN, 2)
    limpieza = prestacion(dentistas=[otro_dentista])
    user = registrar_paciente(1)
    reservar_cita(user=user, cita_id=uno[0].pk, prestacion_id=limpieza.pk)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=user, cita_id=dos[0].pk, prestacion_id=limpieza.pk)
    assert error.value.code == "paciente_ocupado"
    assert huella_bd() == antes


# Freeing splits the row back, by every path ----------------------------------------------------


@pytest.fixture
def reserva_larga(dentista, grilla, prestacion, en_tres_dias_10):
    """A 90-minute booking (3 slots) at 10:00 of a portal patient, with one free slot after it."""
    horas = grilla(dentista, en_tres_dias_10, 4)
    user = registrar_paciente(1)
    cita = reservar_cita(user=user, cita_id=horas[0].pk, prestacion_id=prestacion("TRAT", 90, nombre="Tratamiento").pk)
    return Cita.objects.get(pk=cita.pk), user


def _grilla_de_nuevo(dentista, inicio, n=4, estado=EstadoCita.DISPONIBLE):
    filas = list(Cita.objects.filter(dentista=dentista).exclude(estado=EstadoCita.CANCELADA).order_by("inicio"))
    assert [(c.inicio, c.fin, c.estado, c.bloques, c.prestacion_id) for c in filas] == [
        (inicio + 30 * i * MIN, inicio + 30 * (i + 1) * MIN, estado if i < 3 else EstadoCita.DISPONIBLE, 1, None)
        for i in range(n)]


def test_el_paciente_cancela_y_vuelven_tres_horas_libres(dentista, reserva_larga, en_tres_dias_10):
    cita, user = reserva_larga
    cancelar_cita(actor=user, cita_id=cita.pk)
    _grilla_de_nuevo(dentista, en_tres_dias_10)


def test_recepcion_cancela_a_pedido_del_paciente(dentista, recepcionista, reserva_larga, en_tres_dias_10):
    cita, _ = reserva_larga
    cancelar_cita(actor=recepcionista.user, cita_id=cita.pk, motivo="llamó por teléfono")
    _grilla_de_nuevo(dentista, en_tres_dias_10)


def test_la_clinica_cancela_y_la_fila_queda_cancelada_entera(dentista, recepcionista, reserva_larga,
                                                              en_tres_dias_10):
    cita, _ = reserva_larga
    cancelar_cita(actor=recepcionista.user, cita_id=cita.pk, por_clinica=True, motivo="corte de luz")
    cancelada = Cita.objects.get(pk=cita.pk)
    # Kept with its patient and its length (the history); its time no longer holds the dentist.
    assert (cancelada.estado, cancelada.fin, cancelada.bloques) == (EstadoCita.CANCELADA, en_tres_dias_10 + 90 * MIN, 3)


def test_desactivar_al_paciente_libera_en_piezas(dentista, recepcionista, reserva_larga, en_tres_dias_10):
    cita, _ = reserva_larga
    with transaction.atomic():
        cancelar_citas_futuras_del_cliente(actor=recepcionista.user, cliente_id=cita.cliente_id,
                                           ahora=datetime.datetime.now(datetime.UTC), motivo="se fue")
    _grilla_de_nuevo(dentista, en_tres_dias_10)


def test_borrar_al_paciente_libera_en_piezas(dentista, reserva_larga, en_tres_dias_10):
    cita, _ = reserva_larga
    with transaction.atomic():
        liberar_citas_del_cliente(cliente=cita.cliente, ahora=datetime.datetime.now(datetime.UTC))
    _grilla_de_nuevo(dentista, en_tres_dias_10)


def test_liberar_por_queryset_o_sql_directo_tambien_parte(dentista, reserva_larga, en_tres_dias_10):
    cita, _ = reserva_larga
    with connection.cursor() as cursor:
        cursor.execute("UPDATE citas_cita SET estado = 'disponible', cliente_id = NULL, paciente_nombre = '',"
                       " paciente_email = '', paciente_telefono = '', reserva_uid = NULL WHERE id = %s", [cita.pk])
    _grilla_de_nuevo(dentista, en_tres_dias_10)


def test_reprogramar_mueve_la_duracion_y_parte_la_anterior(dentista, grilla, reserva_larga, en_tres_dias_10):
    cita, user = reserva_larga
    tarde = grilla(dentista, en_tres_dias_10 + 6 * 60 * MIN, 3)
    nueva = reprogramar_cita(actor=user, cita_id=cita.pk, nueva_cita_id=tarde[0].pk)
    nueva = Cita.objects.get(pk=nueva.pk)
    assert (nueva.fin - nueva.inicio, nueva.bloques, nueva.prestacion.codigo) == (90 * MIN, 3, "TRAT")
    assert Cita.objects.filter(dentista=dentista, estado=EstadoCita.DISPONIBLE,
                               inicio__lt=en_tres_dias_10 + 2 * 60 * MIN).count() == 4


def test_reprogramar_media_hora_antes_usa_el_tiempo_recien_liberado(dentista, recepcionista, grilla, prestacion,
                                                                   en_tres_dias_10):
    horas = grilla(dentista, en_tres_dias_10, 4)  # 10:00 … 12:00
    tratamiento = prestacion("TRAT", 90, nombre="Tratamiento")
    cita = asignar_cita(actor=recepcionista.user, cita_id=horas[1].pk, paciente_nombre="Ana Pérez",
                        prestacion_id=tratamiento.pk)  # 10:30-12:00
    # To 10:00 it needs 10:00-11:30: the free 10:00 and two pieces of the row it leaves.
    nueva = reprogramar_cita(actor=recepcionista.user, cita_id=cita.pk, nueva_cita_id=horas[0].pk)
    nueva = Cita.objects.get(pk=nueva.pk)
    assert (nueva.inicio, nueva.fin, nueva.bloques, nueva.prestacion) == (
        en_tres_dias_10, en_tres_dias_10 + 90 * MIN, 3, tratamiento)
    assert _libres(dentista) == [(en_tres_dias_10 + 90 * MIN, en_tres_dias_10 + 120 * MIN)]


def test_reprogramar_a_una_hora_sin_tiempo_suficiente_no_cambia_nada(dentista, recepcionista, grilla, reserva_larga,
                                                                    en_tres_dias_10):
    cita, user = reserva_larga
    corta = grilla(dentista, en_tres_dias_10 + 6 * 60 * MIN, 2)  # 60 minutes free: not enough for 90
    antes = huella_bd()
    for actor in (user, recepcionista.user):
        with pytest.raises(ValidationError) as error:
            reprogramar_cita(actor=actor, cita_id=cita.pk, nueva_cita_id=corta[0].pk)
        assert error.value.code == "hora_no_disponible"
    assert huella_bd() == antes


def test_la_cancelacion_de_una_hora_fundida_pasa_a_la_cabeza(dentista, grilla, prestacion, en_tres_dias_10):
    horas = grilla(dentista, en_tres_dias_10, 2)
    # Somebody had 10:30 and cancelled it: its history row points at the slot.
    asignar_cita(actor=dentista.user, cita_id=horas[1].pk, paciente_nombre="Antes Estuvo")
    cancelar_cita(actor=dentista.user, cita_id=horas[1].pk, motivo="llamó")
    cita = reservar_cita(user=registrar_paciente(2), cita_id=horas[0].pk, prestacion_id=prestacion().pk)
    assert Cancelacion.objects.get().cita_id == cita.pk


def test_el_cierre_bloquea_las_piezas_de_una_reserva_larga_liberada(dentista, recepcionista, reserva_larga,
                                                                     en_tres_dias_10):
    cita, _ = reserva_larga
    dia = timezone.localdate(en_tres_dias_10)
    cierres.cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk,
                         motivo="congreso")
    cancelar_cita(actor=recepcionista.user, cita_id=cita.pk, motivo="llamó")
    filas = list(Cita.objects.filter(dentista=dentista).order_by("inicio"))
    assert [(c.inicio, c.fin, c.estado) for c in filas] == [
        (en_tres_dias_10 + 30 * i * MIN, en_tres_dias_10 + 30 * (i + 1) * MIN, EstadoCita.BLOQUEADA)
        for i in range(4)]


# Concurrency ----------------------------------------------------------------------------------


def _a_la_vez(*intentos):
    """Run the callables at once (threads and a barrier); their results or error codes."""
    barrera = threading.Barrier(len(intentos))
    resultados = [None] * len(intentos)

    def correr(i, intento):
        try:
            barrera.wait()
            intento()
            resultados[i] = "ok"
        except ValidationError as error:
            resultados[i] = error.code
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr, args=(i, f)) for i, f in enumerate(intentos)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    return resultados


@pytest.mark.django_db(transaction=True)
def test_dos_pacientes_y_dos_cadenas_de_60_que_se_cruzan_gana_una(dentista, recepcionista, en_tres_dias_10):
    limpieza = Prestacion.objects.create(codigo="LIMP", nombre="Limpieza", duracion_minutos=60, precio=1,
                                         reservable_en_linea=True)
    PrestacionDentista.objects.create(prestacion=limpieza, dentista=dentista)
    uno, dos = registrar_paciente(1), registrar_paciente(2)
    for ronda in range(3):
        horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                       inicio=en_tres_dias_10 + (ronda * 180 + 30 * i) * MIN) for i in range(3)]
        resultados = _a_la_vez(
            lambda: reservar_cita(user=uno, cita_id=horas[0].pk, prestacion_id=limpieza.pk),  # 10:00-11:00
            lambda: reservar_cita(user=dos, cita_id=horas[1].pk, prestacion_id=limpieza.pk),  # 10:30-11:30
        )
        assert sorted(resultados) == ["hora_no_disponible", "ok"], resultados
        filas = list(Cita.objects.filter(dentista=dentista, inicio__gte=horas[0].inicio).order_by("inicio"))
        if resultados[0] == "ok":  # 10:00-11:00 booked, 11:00 still free
            assert [(c.estado, c.bloques, c.fin - c.inicio) for c in filas] == [
                (EstadoCita.RESERVADA, 2, 60 * MIN), (EstadoCita.DISPONIBLE, 1, 30 * MIN)]
        else:  # 10:00 still free, 10:30-11:30 booked
            assert [(c.estado, c.bloques, c.fin - c.inicio) for c in filas] == [
                (EstadoCita.DISPONIBLE, 1, 30 * MIN), (EstadoCita.RESERVADA, 2, 60 * MIN)]
        assert Notificacion.objects.filter(plantilla="reserva_confirmada", canal="email").count() == ronda + 1
        # The winner's booking goes (its row splits back) so both may try again next round.
        ganador = uno if resultados[0] == "ok" else dos
        cancelar_cita(actor=ganador, cita_id=filas[0].pk if resultados[0] == "ok" else filas[1].pk)


@pytest.mark.django_db(transaction=True)
def test_una_de_60_contra_una_de_30_en_su_segunda_hora(dentista, recepcionista, en_tres_dias_10, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 50  # the cap is not what refuses here
    limpieza = Prestacion.objects.create(codigo="LIMP", nombre="Limpieza", duracion_minutos=60, precio=1,
                                         reservable_en_linea=True)
    control = Prestacion.objects.create(codigo="CTRL", nombre="Control", duracion_minutos=30, precio=1,
                                        reservable_en_linea=True)
    PrestacionDentista.objects.create(prestacion=limpieza, dentista=dentista)
    PrestacionDentista.objects.create(prestacion=control, dentista=dentista)
    uno, dos = registrar_paciente(1), registrar_paciente(2)
    for ronda in range(3):
        horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                       inicio=en_tres_dias_10 + (ronda * 180 + 30 * i) * MIN) for i in range(2)]
        resultados = _a_la_vez(
            lambda: reservar_cita(user=uno, cita_id=horas[0].pk, prestacion_id=limpieza.pk),
            lambda: reservar_cita(user=dos, cita_id=horas[1].pk, prestacion_id=control.pk),
        )
        assert sorted(resultados) == ["hora_no_disponible", "ok"], resultados
        filas = list(Cita.objects.filter(pk__in=[h.pk for h in horas]).order_by("inicio"))
        if resultados[0] == "ok":  # the long one won: one row of 60 minutes, the other slot gone
            assert [(c.estado, c.bloques, c.cliente.user_id) for c in filas] == [(EstadoCita.RESERVADA, 2, uno.pk)]
        else:  # the short one won: the first slot is still free and alone
            assert [(c.estado, c.bloques) for c in filas] == [(EstadoCita.DISPONIBLE, 1), (EstadoCita.RESERVADA, 1)]


@pytest.mark.django_db(transaction=True)
def test_reserva_larga_contra_cierre_del_dia(dentista, recepcionista, en_tres_dias_10):
    limpieza = Prestacion.objects.create(codigo="LIMP", nombre="Limpieza", duracion_minutos=60, precio=1,
                                         reservable_en_linea=True)
    PrestacionDentista.objects.create(prestacion=limpieza, dentista=dentista)
    user = registrar_paciente(1)
    horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=en_tres_dias_10 + 30 * i * MIN) for i in range(2)]
    dia = timezone.localdate(en_tres_dias_10)
    resultados = _a_la_vez(
        lambda: reservar_cita(user=user, cita_id=horas[0].pk, prestacion_id=limpieza.pk),
        lambda: cierres.cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, motivo="corte de agua"),
    )
    assert resultados[1] == "ok"
    filas = list(Cita.objects.filter(dentista=dentista).order_by("inicio"))
    if resultados[0] == "ok":  # booked first: one 60-minute booking, listed as affected by the closure
        assert [(c.estado, c.bloques) for c in filas] == [(EstadoCita.RESERVADA, 2)]
    else:  # closed first: both slots blocked, nothing booked
        assert resultados[0] == "hora_no_disponible"
        assert [(c.estado, c.bloques) for c in filas] == [(EstadoCita.BLOQUEADA, 1)] * 2


def test_que_caben_del_selector_es_la_regla_de_la_cadena(dentista, recepcionista, en_tres_dias_10):
    from citas.cadenas import que_caben

    inicio = en_tres_dias_10
    for i, minutos in enumerate([30, 30, 30, 45, 15, 30, 20, 30, 30, 30]):
        if i == 5:
            inicio += 10 * MIN  # a gap
        crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio,
                              duracion_minutos=minutos)
        inicio += minutos * MIN
    filas = list(Cita.objects.filter(dentista=dentista).order_by("inicio").values_list("pk", "inicio", "fin"))
    for minutos in (30, 45, 60, 90, 120, 200):
        esperadas = {}
        for pk, _, _ in filas:
            cadena = cadena_de(cita_id=pk, duracion=minutos * MIN)
            if cadena:
                esperadas[pk] = cadena[-1][2]
        assert que_caben(filas, minutos * MIN) == esperadas, minutos
