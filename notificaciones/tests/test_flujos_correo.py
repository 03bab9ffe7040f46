"""The services' messages, end to end: a committed change, a real worker, a real SMTP server."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from citas.models import Cita, EstadoCita
from citas.services import crear_cita_disponible, reservar_cita
from citas.tests.test_services import registrar_paciente
from notificaciones.models import EstadoNotificacion, Notificacion
from notificaciones.tasks import reprogramar_pendientes_sin_trabajo
from pruebas.soporte import adelantar_reintentos, ejecutar_worker, trabajos, vaciar_cola
from cuentas.presencial import crear_cliente_presencial

en_worker = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _cola_vacia(cola_vacia):
    """These tests count jobs and messages."""


@en_worker
def test_la_invitacion_llega_con_un_enlace_de_un_solo_uso(servidor_smtp, recepcionista):
    cliente = crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Rosa Vera Díaz", email="rosa@correo.example", enviar_invitacion=True
    )
    ejecutar_worker()

    [mensaje] = servidor_smtp.para("rosa@correo.example")
    assert "active su cuenta" in mensaje.asunto
    uidb64, token = re.search(r"/portal/activar/([^/]+)/([^/\s]+)/", mensaje.cuerpo).groups()
    user = get_user_model().objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    assert user == cliente.user
    assert default_token_generator.check_token(user, token)
    # Once the password is set the same link stops working.
    user.set_password("Una-Clave-Nueva-2026")
    user.save()
    assert not default_token_generator.check_token(user, token)


@en_worker
def test_la_confirmacion_de_reserva_llega(servidor_smtp, dentista, recepcionista, manana_10):
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    user = registrar_paciente(1)
    reservar_cita(user=user, cita_id=hora.pk)
    ejecutar_worker()

    [confirmacion] = [m for m in servidor_smtp.para(user.email) if "10:00" in m.asunto]
    assert "Camila Soto" in confirmacion.cuerpo
    assert Notificacion.objects.get(plantilla="reserva_confirmada").estado == EstadoNotificacion.ENVIADA


@en_worker
def test_con_el_correo_caido_la_reserva_vale_y_el_aviso_llega_despues(servidor_smtp, dentista, recepcionista, manana_10):
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    user = registrar_paciente(1)
    ejecutar_worker()  # the welcome message goes out while the server is up
    servidor_smtp.limpiar()

    servidor_smtp.detener()
    reservar_cita(user=user, cita_id=hora.pk)
    ejecutar_worker()

    assert Cita.objects.get(pk=hora.pk).estado == EstadoCita.RESERVADA, "la caída no deshace la reserva"
    aviso = Notificacion.objects.get(plantilla="reserva_confirmada")
    assert (aviso.estado, aviso.intentos) == (EstadoNotificacion.PENDIENTE, 1)
    assert "Connection" in aviso.ultimo_error or "refused" in aviso.ultimo_error.lower()

    servidor_smtp.iniciar()
    assert adelantar_reintentos() == 1
    ejecutar_worker()
    ejecutar_worker()  # a second pass finds nothing more to send

    assert len(servidor_smtp.para(user.email)) == 1
    aviso.refresh_from_db()
    assert (aviso.estado, aviso.intentos) == (EstadoNotificacion.ENVIADA, 2)


@en_worker
def test_el_barrido_reprograma_una_fila_pendiente_que_perdio_su_trabajo(servidor_smtp, recepcionista):
    crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Rosa Vera", email="rosa@correo.example", enviar_invitacion=True
    )
    vaciar_cola()  # the job is lost (a crash, a hand-made DELETE)
    Notificacion.objects.update(creado=Notificacion.objects.get().creado.replace(year=2020))

    assert reprogramar_pendientes_sin_trabajo() == 1
    assert reprogramar_pendientes_sin_trabajo() == 0, "no se duplica el trabajo"
    ejecutar_worker()
    assert len(servidor_smtp.para("rosa@correo.example")) == 1
    assert Notificacion.objects.get().estado == EstadoNotificacion.ENVIADA
    assert reprogramar_pendientes_sin_trabajo() == 0
    assert all(t["status"] == "succeeded" for t in trabajos())


@en_worker
def test_un_trabajo_de_un_worker_muerto_vuelve_a_la_cola(servidor_smtp, recepcionista):
    from django.db import connection

    from notificaciones.tasks import reintentar_trabajos_estancados

    crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Rosa Vera", email="rosa@correo.example", enviar_invitacion=True
    )
    # A worker took the job and died: no heartbeat for ten minutes, the job stuck in 'doing'.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '10 minutes') RETURNING id"
        )
        worker_id = cursor.fetchone()[0]
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", [worker_id])

    # The sweep runs as the periodic job would: deferred, then taken by a worker.
    reintentar_trabajos_estancados.defer(timestamp=0)
    ejecutar_worker(colas=["mantenimiento", "notificaciones"])

    assert len(servidor_smtp.para("rosa@correo.example")) == 1
    assert Notificacion.objects.get().estado == EstadoNotificacion.ENVIADA
