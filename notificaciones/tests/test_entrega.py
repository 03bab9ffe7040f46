"""Delivery after commit (invariant 6, second half): a real SMTP server, a real procrastinate
worker, an outage and a recovery. Every message is eventually sent or visibly failed, and
sent at most once per idempotency key."""

import concurrent.futures
import datetime
import logging
import re
import time
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notificaciones.models import Canal
from notificaciones import entrega
from notificaciones.models import EstadoNotificacion, Notificacion
from notificaciones.tasks import REINTENTOS, describir_error, enviar_notificacion
from notificaciones.tests.conftest import EMAIL, TELEFONO, notificar_en_servicio
from pruebas.soporte import adelantar_reintentos, ejecutar_worker, trabajos

en_worker = pytest.mark.django_db(transaction=True)


def trabajo_de(notificacion):
    [trabajo] = [t for t in trabajos() if t["args"] == {"notificacion_id": notificacion.pk}]
    return trabajo


def posponer(trabajo, espera):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() + %s WHERE id = %s", [espera, trabajo["id"]])


def sin_correos_en_logs(caplog, *correos):
    """No log line of the application or of procrastinate (message or traceback) quotes an
    address. The SMTP server's own log (``mail.log``) is the test double's, not ours."""
    formato = logging.Formatter("%(message)s")
    for registro in caplog.records:
        if registro.name.startswith("mail.log"):
            continue
        texto = formato.format(registro).lower()
        for correo in correos:
            assert correo.lower() not in texto, f"{registro.name}: {texto}"


@en_worker
def test_el_correo_llega_y_la_fila_queda_enviada(servidor_smtp, caplog):
    [n] = notificar_en_servicio(referencia="cita-1")
    ejecutar_worker()

    [recibido] = servidor_smtp.mensajes
    assert recibido.destinatarios == [EMAIL]
    assert recibido.mensaje["To"] == EMAIL
    assert recibido.remitente == "no-responder@clinica.example"
    assert recibido.asunto == "Clínica Dental Sonrisa: su hora del lunes 3 de marzo a las 10:00"
    assert "Su hora quedó reservada" in recibido.cuerpo and "Dra. Soto" in recibido.cuerpo
    assert recibido.message_id == "<reserva_confirmada.cita-1.email@clinica.example>"

    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA
    assert n.intentos == 1 and n.ultimo_error == ""
    assert n.enviada_en is not None and timezone.now() - n.enviada_en < datetime.timedelta(minutes=1)
    assert n.proveedor_id == recibido.message_id
    assert trabajo_de(n)["status"] == "succeeded"
    sin_correos_en_logs(caplog, EMAIL)


@en_worker
def test_caida_del_servidor_reintento_y_entrega_unica(servidor_smtp, caplog):
    [n] = notificar_en_servicio()
    servidor_smtp.detener()
    ejecutar_worker()

    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.PENDIENTE
    assert n.intentos == 1
    assert n.ultimo_error.startswith("ConnectionRefusedError")
    trabajo = trabajo_de(n)
    assert trabajo["status"] == "todo" and trabajo["attempts"] == 1
    # Backoff: retried later (NOTIFICACIONES_ESPERA_BASE_S ** 1 seconds), not now.
    assert timezone.now() < trabajo["scheduled_at"] < timezone.now() + datetime.timedelta(minutes=1)

    # The provider is back, but the retry is not due yet (an hour from now, so that a slow
    # machine cannot make it due by itself): nothing happens.
    posponer(trabajo, datetime.timedelta(hours=1))
    servidor_smtp.iniciar()
    ejecutar_worker()
    assert servidor_smtp.mensajes == []
    assert trabajo_de(n)["status"] == "todo"

    # Time passes: the retry delivers it, once.
    assert adelantar_reintentos() == 1
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and n.intentos == 2 and n.ultimo_error == ""
    assert len(servidor_smtp.mensajes) == 1
    assert trabajo_de(n)["status"] == "succeeded"

    # Nothing left to run: more workers, more time, still one message.
    assert adelantar_reintentos() == 0
    ejecutar_worker()
    assert len(servidor_smtp.mensajes) == 1
    sin_correos_en_logs(caplog, EMAIL)


@en_worker
def test_tras_el_ultimo_intento_queda_fallida(servidor_smtp, settings):
    settings.NOTIFICACIONES_MAX_INTENTOS = 3  # read by the task at call time
    [n] = notificar_en_servicio()
    servidor_smtp.detener()

    for intento in (1, 2, 3):
        adelantar_reintentos()
        ejecutar_worker()
        n.refresh_from_db()
        assert n.intentos == intento
    assert n.estado == EstadoNotificacion.FALLIDA
    assert n.enviada_en is None and n.ultimo_error.startswith("ConnectionRefusedError")
    trabajo = trabajo_de(n)
    assert trabajo["status"] == "failed" and trabajo["attempts"] == 3  # failed for good, no retry

    # Visibly failed stays failed: the provider's return sends nothing by itself.
    servidor_smtp.iniciar()
    assert adelantar_reintentos() == 0
    ejecutar_worker()
    assert servidor_smtp.mensajes == []
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.FALLIDA and n.intentos == 3


@en_worker
def test_si_el_trabajo_no_se_reintentara_la_fila_queda_fallida(servidor_smtp):
    """The job's own retry budget (built at import time) ran out before the row's (e.g. spent
    on database errors): the row must not be left pending with no job behind it."""
    [n] = notificar_en_servicio()
    trabajo = trabajo_de(n)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET attempts = %s WHERE id = %s", [REINTENTOS.max_attempts, trabajo["id"]]
        )
    servidor_smtp.detener()
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.FALLIDA and n.intentos == 1
    assert trabajo_de(n)["status"] == "failed"


@en_worker
def test_dos_trabajos_para_la_misma_notificacion_envian_una_vez(servidor_smtp):
    [n] = notificar_en_servicio()
    enviar_notificacion.defer(notificacion_id=n.pk)  # a duplicate job (a manual re-run, a bug)
    ejecutar_worker()
    enviar_notificacion.defer(notificacion_id=n.pk)  # and another one after it was sent
    ejecutar_worker()

    assert len(servidor_smtp.mensajes) == 1
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and n.intentos == 1
    assert [t["status"] for t in trabajos()] == ["succeeded", "succeeded", "succeeded"]


@en_worker
def test_el_trabajo_espera_la_fila_bloqueada_y_no_reenvia(servidor_smtp):
    """Another worker is sending this notification (it holds the row lock) and then records
    it as sent: this worker waits for the lock, sees the outcome and sends nothing."""
    [n] = notificar_en_servicio()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as hilo:
        with transaction.atomic():
            Notificacion.objects.select_for_update().get(pk=n.pk)
            trabajando = hilo.submit(ejecutar_worker)
            time.sleep(1)
            assert not trabajando.done()  # blocked on the row
            assert servidor_smtp.mensajes == []
            Notificacion.objects.filter(pk=n.pk).update(
                estado=EstadoNotificacion.ENVIADA, enviada_en=timezone.now(), intentos=1, proveedor_id="otro-worker"
            )
        trabajando.result(timeout=30)
    assert servidor_smtp.mensajes == []
    n.refresh_from_db()
    assert n.proveedor_id == "otro-worker" and n.intentos == 1
    assert trabajo_de(n)["status"] == "succeeded"


@en_worker
def test_dos_workers_a_la_vez_envian_una_vez(servidor_smtp):
    servidor_smtp.demora_s = 0.5  # a slow provider, so both workers overlap
    [n] = notificar_en_servicio()
    enviar_notificacion.defer(notificacion_id=n.pk)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as hilos:
        for trabajando in [hilos.submit(ejecutar_worker) for _ in range(2)]:
            trabajando.result(timeout=30)
    assert len(servidor_smtp.mensajes) == 1
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.ENVIADA and n.intentos == 1


@en_worker
@pytest.mark.parametrize(("preferido", "acepta"), [(Canal.WHATSAPP, "whatsapp"), (Canal.SMS, "sms")])
def test_sms_y_whatsapp_quedan_pendientes(servidor_smtp, crear_perfil, preferido, acepta):
    perfil = crear_perfil(canal=preferido, **{acepta: True})
    creadas = notificar_en_servicio(email=EMAIL, telefono=TELEFONO, perfil=perfil)
    telefono = next(n for n in creadas if n.canal == preferido)
    assert len(trabajos()) == 1  # only the e-mail has a job
    # Even with a job (a manual re-run, a bug), a channel without provider is not touched.
    enviar_notificacion.defer(notificacion_id=telefono.pk)
    ejecutar_worker()
    adelantar_reintentos()
    ejecutar_worker()

    telefono.refresh_from_db()
    assert telefono.estado == EstadoNotificacion.PENDIENTE
    assert telefono.intentos == 0 and telefono.enviada_en is None and telefono.proveedor_id == ""
    assert [m.destinatarios for m in servidor_smtp.mensajes] == [[EMAIL]]
    assert Notificacion.objects.get(canal=Canal.EMAIL).estado == EstadoNotificacion.ENVIADA


@en_worker
def test_destinatario_rechazado_no_aparece_en_logs_ni_en_el_error(servidor_smtp, caplog, settings):
    """An SMTP error quotes the address; logs carry ids only, and the job's exception
    (logged by procrastinate next to ``notificacion_id``) is scrubbed."""
    settings.NOTIFICACIONES_MAX_INTENTOS = 2
    servidor_smtp.rechazados.add(EMAIL)
    [n] = notificar_en_servicio()
    ejecutar_worker()
    adelantar_reintentos()
    ejecutar_worker()

    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.FALLIDA and n.intentos == 2
    assert n.ultimo_error.startswith("SMTPRecipientsRefused")
    assert "550" in n.ultimo_error and EMAIL not in n.ultimo_error
    assert any(f"notificacion_id={n.pk}" in r.getMessage() for r in caplog.records)
    sin_correos_en_logs(caplog, EMAIL)
    assert servidor_smtp.mensajes == []


@en_worker
def test_notificacion_borrada_no_rompe_el_worker(servidor_smtp):
    [n] = notificar_en_servicio()
    Notificacion.objects.filter(pk=n.pk).delete()
    ejecutar_worker()
    assert trabajo_de(n)["status"] == "succeeded"
    assert servidor_smtp.mensajes == []


# Units ---------------------------------------------------------------------------------------


def test_message_id_valido_con_cualquier_referencia():
    notificacion = SimpleNamespace(clave_idempotencia="reserva_confirmada:cita 5/ñ::x@y:email")
    identificador = entrega.message_id(notificacion)
    assert re.fullmatch(r"<[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@clinica\.example>",
                        identificador), identificador
    assert entrega.message_id(notificacion) == identificador  # the same for every retry


def test_describir_error_borra_direcciones():
    error = describir_error(ValueError("{'Ana.Perez@Correo.example': (550, b'<ana@x.cl> rejected')}"))
    assert error.startswith("ValueError: ")
    assert "@" not in error and "550" in error
