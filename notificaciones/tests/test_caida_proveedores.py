"""Invariant 6 with SMS/WhatsApp providers that fail: bookings never wait for (or roll back
because of) a provider, and every message goes out exactly once per idempotency key, even
when a worker is killed with SIGKILL in the middle of sending."""

import concurrent.futures
import contextlib
import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from procrastinate.exceptions import AlreadyEnqueued

from citas.models import Cita, EstadoCita
from citas.services import crear_cita_disponible, reservar_cita
from citas.tests.test_services import registrar_paciente
from notificaciones.models import Canal
from notificaciones.models import EstadoNotificacion, Notificacion
from pruebas.proveedores import entorno_twilio
from notificaciones.tasks import enviar_notificacion, reintentar_trabajos_estancados
from notificaciones.tests.conftest import TELEFONO, notificar_en_servicio
from pruebas.soporte import adelantar_reintentos, ejecutar_worker, trabajos

en_worker = pytest.mark.django_db(transaction=True)
RAIZ = Path(__file__).resolve().parents[2]
RESERVAS = 200


def trabajar(workers=4):
    """Several workers at once (threads, each with its own connections), as in production."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as hilos:
        for trabajando in [hilos.submit(ejecutar_worker, tiempo_max_s=300) for _ in range(workers)]:
            trabajando.result()


def entregar_todo(rondas=6):
    """Run the workers, make the waiting retries due, and again, until nothing is pending."""
    for _ in range(rondas):
        trabajar()
        if not Notificacion.objects.filter(estado=EstadoNotificacion.PENDIENTE).exists():
            return
        adelantar_reintentos()
    raise AssertionError("quedaron notificaciones pendientes")


@en_worker
def test_caida_durante_200_reservas_y_entrega_unica_al_volver(
    twilio, servidor_smtp, dentista, recepcionista, settings
):
    # Retries wait an hour: within this test, time passes only through adelantar_reintentos().
    settings.NOTIFICACIONES_ESPERA_BASE_S = 3600
    # Two WhatsApp per patient (welcome and booking) in flight during the outage.
    settings.NOTIFICACIONES_BIENVENIDA_POR_TELEFONO = True
    twilio.detener()  # the SMS/WhatsApp provider is down from the start

    primer_dia = timezone.localdate() + datetime.timedelta(days=2)
    inicio = timezone.make_aware(datetime.datetime.combine(primer_dia, datetime.time(9, 0)))
    horas = [
        crear_cita_disponible(
            actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio + datetime.timedelta(minutes=30 * i)
        ).pk
        for i in range(RESERVAS)
    ]
    usuarios = [
        registrar_paciente(n, canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True) for n in range(1, RESERVAS + 1)
    ]
    for usuario, hora in zip(usuarios, horas, strict=True):
        reservar_cita(user=usuario, cita_id=hora)

    # Every booking committed, whatever the provider.
    assert Cita.objects.filter(pk__in=horas, estado=EstadoCita.RESERVADA).count() == RESERVAS
    whatsapp = Notificacion.objects.filter(canal=Canal.WHATSAPP)
    assert whatsapp.filter(plantilla="reserva_confirmada").count() == RESERVAS
    # The welcome is recorded at sign-up, before the number is confirmed: e-mail only (issue 14).
    assert whatsapp.filter(plantilla="bienvenida").count() == 0

    # The workers run during the outage: e-mail goes out, WhatsApp waits for its retry.
    trabajar()
    assert whatsapp.filter(estado=EstadoNotificacion.PENDIENTE, intentos=1).count() == RESERVAS
    assert twilio.solicitudes == []
    assert len(servidor_smtp.mensajes) == 2 * RESERVAS

    # A few duplicate jobs (a manual re-run, a sweep racing the retry) must not double-send.
    for n in whatsapp.order_by("pk")[:20]:
        enviar_notificacion.defer(notificacion_id=n.pk)

    twilio.iniciar()
    entregar_todo()

    assert not Notificacion.objects.exclude(estado=EstadoNotificacion.ENVIADA).exists()
    aceptadas = twilio.aceptadas()
    assert len(aceptadas) == RESERVAS
    assert twilio.duplicadas() == {}
    # Exactly once per idempotency key: each row has its own provider id, and it is the id of
    # the one request the provider accepted for it.
    filas = list(whatsapp.values_list("clave_idempotencia", "proveedor_id", "destinatario"))
    assert len({clave for clave, _, _ in filas}) == RESERVAS
    assert sorted(p for _, p, _ in filas) == sorted(s.id_mensaje for s in aceptadas)
    por_id = {s.id_mensaje: s for s in aceptadas}
    for _, proveedor_id, destinatario in filas:
        assert por_id[proveedor_id].destinatario == f"whatsapp:{destinatario}"
    assert len(servidor_smtp.mensajes) == 2 * RESERVAS  # and no e-mail twice


def iniciar_worker(entorno, registro):
    """``manage.py procrastinate worker`` in its own process, on the test database."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "--queues", "notificaciones", "--no-listen-notify",
         "--fetch-job-polling-interval", "0.2"],
        cwd=RAIZ, env=entorno, stdout=registro, stderr=subprocess.STDOUT,
    )


@en_worker
def test_worker_muerto_con_sigkill_a_mitad_del_envio_no_pierde_nada(twilio, tmp_path):
    """The provider hangs on the first request; the worker sending it is SIGKILLed. The
    database rolls back its half-done attempt (the row stays ``pendiente``, its job ``doing``);
    the stalled-job sweep requeues the job once the dead worker's heartbeat is old, and a new
    worker sends the message. At most one delivery is recorded as sent.

    The at-least-once window: the provider had received the first request. Had it accepted
    it before the worker died, the patient gets the message twice; neither Twilio's nor
    Meta's send API takes an idempotency key, so no client can close that window."""
    from notificaciones.preferencias import Preferencias

    perfil = Preferencias(Canal.WHATSAPP, whatsapp_aceptado_en=timezone.now(), telefono_verificado=TELEFONO)
    [n] = notificar_en_servicio(email="", telefono=TELEFONO, perfil=perfil)
    twilio.colgar()

    entorno = {
        **os.environ, **entorno_twilio(twilio),
        "CLINICA_DB_NAME": connection.settings_dict["NAME"],  # the test database
        "NOTIFICACIONES_HTTP_TIMEOUT_S": "120",  # hang, do not time out: the kill comes first
        "DJANGO_SETTINGS_MODULE": "clinica.settings",
    }
    with open(tmp_path / "worker.log", "wb") as registro:
        worker = iniciar_worker(entorno, registro)
        try:
            assert twilio.recibida.wait(timeout=60), (tmp_path / "worker.log").read_text()
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(timeout=30) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()

    # The attempt died with the process: nothing recorded, the job is stuck in "doing".
    n.refresh_from_db()
    assert (n.estado, n.intentos, n.proveedor_id) == (EstadoNotificacion.PENDIENTE, 0, "")
    [trabajo] = trabajos()
    assert trabajo["status"] == "doing"

    # Time passes: the dead worker's last heartbeat is now older than the stall threshold.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '10 minutes'")
    # The sweep (a periodic job every 5 minutes) runs. The killed worker's periodic deferrer
    # may have queued it already (it is queue-locked: at most one waiting).
    with contextlib.suppress(AlreadyEnqueued):
        reintentar_trabajos_estancados.defer(timestamp=int(time.time()))
    ejecutar_worker(colas=("mantenimiento",))
    assert [t["status"] for t in trabajos()] == ["todo"]

    twilio.liberar()
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and n.intentos == 1
    [aceptada] = twilio.aceptadas()
    assert n.proveedor_id == aceptada.id_mensaje
    # Two requests reached the provider for this one notification (the window above); one
    # was answered and recorded.
    assert len(twilio.solicitudes) == 2
    assert [s.estado for s in twilio.solicitudes] == [None, 201]
    ejecutar_worker()
    adelantar_reintentos()
    ejecutar_worker()
    assert len(twilio.solicitudes) == 2
