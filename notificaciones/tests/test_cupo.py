"""The send budget per destination (issue 14, ``NOTIFICACIONES_MAXIMO_POR_HORA``): enforced where
notifications are recorded, in the caller's transaction, race-free under concurrency; over it,
rows are recorded as ``suprimida`` with a Spanish reason instead of failing the change."""

import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import (
    asignar_cita, cancelar_cita, cancelar_citas_futuras_del_cliente, crear_cita_disponible, reprogramar_cita,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from gestion_clinica.tests.conftest import cliente_de
from notificaciones.models import Canal, CupoEnvio, EstadoNotificacion, Notificacion
from notificaciones.services import notificar, registrar_avisos
from notificaciones.tasks import barrer_cupos
from notificaciones.tests.conftest import EMAIL, TELEFONO, notificar_en_servicio
from nucleo.servicios import operacion
from pruebas.soporte import trabajos

H = datetime.timedelta(hours=1)


@pytest.fixture
def en_tres_dias_10():
    """Beyond the portal's cut-off for changes, whatever the time the tests run."""
    dia = timezone.localdate() + datetime.timedelta(days=3)
    return timezone.make_aware(datetime.datetime.combine(dia, datetime.time(10, 0)))


def test_sobre_el_cupo_quedan_suprimidas_con_motivo_y_sin_trabajo(settings, crear_perfil):
    settings.NOTIFICACIONES_MAXIMO_POR_HORA = 3
    settings.NOTIFICACIONES_SMS = "consola"
    perfil = crear_perfil(canal=Canal.SMS, sms=True)
    for i in range(5):
        notificar_en_servicio(referencia=f"cita-{i}", telefono=TELEFONO, perfil=perfil)
    for canal, destino in ((Canal.EMAIL, EMAIL), (Canal.SMS, TELEFONO)):
        filas = Notificacion.objects.filter(canal=canal, destinatario=destino).order_by("pk")
        assert [f.estado for f in filas] == [EstadoNotificacion.PENDIENTE] * 3 + [EstadoNotificacion.SUPRIMIDA] * 2
        suprimida = filas.last()
        assert suprimida.ultimo_error == ("No se envió: este destino ya recibió el máximo de 3 por hora (límite "
                                          "contra envíos masivos). Si el paciente lo necesita, puede reenviarlo.")
        assert suprimida.get_estado_display() == "No enviada (límite por hora)"
    ids_con_trabajo = {t["args"]["notificacion_id"] for t in trabajos()}
    assert not ids_con_trabajo & set(Notificacion.objects.filter(estado="suprimida").values_list("pk", flat=True))
    assert len(ids_con_trabajo) == 6
    assert dict(CupoEnvio.objects.values_list("destinatario", "enviados")) == {EMAIL: 5, TELEFONO: 5}


def test_el_cupo_no_distingue_mayusculas_del_correo(settings):
    settings.NOTIFICACIONES_MAXIMO_POR_HORA = 1
    notificar_en_servicio(referencia="a", email=EMAIL)
    [segunda] = notificar_en_servicio(referencia="b", email=EMAIL.upper())
    assert segunda.estado == EstadoNotificacion.SUPRIMIDA


def test_recordatorios_y_codigos_no_cuentan_y_un_rollback_devuelve_el_cupo(settings):
    settings.NOTIFICACIONES_MAXIMO_POR_HORA = 1
    with operacion("prueba_cupo"):
        registrar_avisos([
            Notificacion(canal=Canal.EMAIL, plantilla="recordatorio", destinatario=EMAIL, cuerpo="x",
                         clave_idempotencia=f"recordatorio:{i}:email") for i in range(4)
        ])
    assert not Notificacion.objects.filter(estado=EstadoNotificacion.SUPRIMIDA).exists()
    assert not CupoEnvio.objects.exists()
    with pytest.raises(ValidationError), operacion("prueba_cupo"):
        notificar(evento="reserva_confirmada", referencia="x", email=EMAIL,
                  contexto={"nombre": "Ana", "fecha": "lunes", "hora": "10:00", "dentista": "Dra. Soto"})
        raise ValidationError("falla después", code="falla")
    assert not CupoEnvio.objects.exists()
    [fila] = notificar_en_servicio(referencia="y", email=EMAIL)
    assert fila.estado == EstadoNotificacion.PENDIENTE


def test_el_personal_ve_el_aviso_suprimido_con_su_motivo_y_puede_reenviarlo(settings, recepcionista):
    settings.NOTIFICACIONES_MAXIMO_POR_HORA = 1
    user = registrar_paciente(1)  # the welcome e-mail takes the hour's only place
    cliente = user.cliente
    with operacion("prueba_cupo"):
        [fila] = notificar(evento="reserva_confirmada", referencia="x", email=cliente.email, cliente=cliente,
                           contexto={"nombre": "Ana", "fecha": "lunes", "hora": "10:00", "dentista": "Dra. Soto"})
    assert fila.estado == EstadoNotificacion.SUPRIMIDA
    pagina = cliente_de(recepcionista.user).get(reverse("gestion:paciente", args=[cliente.pk]))
    html = pagina.content.decode()
    assert "No enviada (límite por hora)" in html
    assert "Motivo: No se envió: este destino ya recibió el máximo de 1 por hora" in html
    assert f"/avisos/{fila.pk}/reenviar/" in html


def test_barrido_borra_los_cupos_de_horas_pasadas(settings):
    notificar_en_servicio(referencia="a", email=EMAIL)
    CupoEnvio.objects.create(destinatario="viejo@correo.example", hora=timezone.now() - 5 * H, enviados=3)
    assert barrer_cupos() == 1
    assert list(CupoEnvio.objects.values_list("destinatario", flat=True)) == [EMAIL]


@pytest.mark.django_db(transaction=True)
def test_diez_reservas_y_cancelaciones_simultaneas_de_un_paciente_respetan_el_cupo(
    settings, dentista, recepcionista, en_tres_dias_10
):
    """10 threads of one patient (SMS confirmed) book or cancel at once: every change commits,
    and per destination exactly N messages are sendable, the rest suppressed."""
    settings.NOTIFICACIONES_MAXIMO_POR_HORA = 4
    settings.CLINICA_MAX_RESERVAS_PORTAL = 50
    settings.NOTIFICACIONES_SMS = "consola"
    user = registrar_paciente(1, canal_preferido=Canal.SMS, acepta_sms=True)  # confirms the number
    cliente = user.cliente
    horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10 + i * H)
             for i in range(10)]
    for hora in horas[5:]:
        reservar_cita(user=user, cita_id=hora.pk)
    Notificacion.objects.all().delete()
    CupoEnvio.objects.all().delete()

    barrera = threading.Barrier(10)
    resultados = []

    def cambiar(hora, reservar):
        try:
            barrera.wait()
            if reservar:
                reservar_cita(user=user, cita_id=hora.pk)
            else:
                cancelar_cita(actor=user, cita_id=hora.pk)
            resultados.append("ok")
        except ValidationError as error:
            resultados.append(error.code)
        finally:
            connection.close()

    hilos = [threading.Thread(target=cambiar, args=(h, i < 5)) for i, h in enumerate(horas)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()

    assert resultados == ["ok"] * 10
    assert Cita.objects.filter(pk__in=[h.pk for h in horas[:5]], estado=EstadoCita.RESERVADA).count() == 5
    telefono = str(cliente.telefono)
    for canal, destino in ((Canal.EMAIL, cliente.email), (Canal.SMS, telefono)):
        filas = Notificacion.objects.filter(canal=canal, destinatario=destino)
        assert filas.count() == 10
        assert filas.exclude(estado=EstadoNotificacion.SUPRIMIDA).count() == 4
        assert filas.filter(estado=EstadoNotificacion.SUPRIMIDA).count() == 6
    assert dict(CupoEnvio.objects.values_list("destinatario", "enviados")) == {cliente.email: 10, telefono: 10}


@pytest.mark.django_db(transaction=True)
def test_diez_transacciones_que_registran_a_la_vez_no_pasan_juntas_el_cupo(settings):
    """No other lock in the way: 10 transactions record a message for one address at the same
    instant and stay open a moment after it; exactly N are sendable."""
    settings.NOTIFICACIONES_MAXIMO_POR_HORA = 3
    barrera = threading.Barrier(10)
    estados = []

    def registrar(i):
        try:
            with operacion("prueba_cupo"):
                barrera.wait()
                [fila] = notificar(evento="reserva_confirmada", referencia=f"hilo-{i}", email=EMAIL,
                                   contexto={"nombre": "Ana", "fecha": "lunes", "hora": "10:00", "dentista": "Dra. Soto"})
                time.sleep(0.05)  # still uncommitted: a count-then-insert would let the others pass
                estados.append(fila.estado)
        finally:
            connection.close()

    hilos = [threading.Thread(target=registrar, args=(i,)) for i in range(10)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    assert sorted(estados) == [EstadoNotificacion.PENDIENTE] * 3 + [EstadoNotificacion.SUPRIMIDA] * 7
    assert Notificacion.objects.exclude(estado=EstadoNotificacion.SUPRIMIDA).count() == 3


def test_los_avisos_que_causa_la_clinica_no_cuentan_en_el_cupo(settings, dentista, recepcionista, en_tres_dias_10):
    """The budget is against floods a patient account can cause: the clinic assigning, moving
    and cancelling a patient's hours (here 8 cancellations when the desk releases their
    bookings) are all sent, and leave the patient's own budget untouched."""
    settings.NOTIFICACIONES_MAXIMO_POR_HORA = 2
    settings.NOTIFICACIONES_SMS = "consola"
    user = registrar_paciente(1, canal_preferido=Canal.SMS, acepta_sms=True)
    cliente = user.cliente
    Notificacion.objects.all().delete()  # the welcome
    CupoEnvio.objects.all().delete()
    horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10 + i * H)
             for i in range(9)]
    for hora in horas[:8]:
        asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=cliente.pk)
    reprogramar_cita(actor=recepcionista.user, cita_id=horas[7].pk, nueva_cita_id=horas[8].pk)
    with operacion("liberar", actor=recepcionista.user):
        assert cancelar_citas_futuras_del_cliente(actor=recepcionista.user, cliente_id=cliente.pk,
                                                  ahora=timezone.now(), motivo="Cierre de la ficha") == 8
    avisos = Notificacion.objects.filter(cliente_id=cliente.pk)
    assert avisos.count() == 2 * (8 + 1 + 8)  # e-mail and SMS of each
    assert not avisos.filter(estado=EstadoNotificacion.SUPRIMIDA).exists()
    assert not CupoEnvio.objects.exists()
