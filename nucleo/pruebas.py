"""Test helpers shared by every app: a real SMTP server and a procrastinate worker.

Use from any app's tests by importing the fixtures into that app's ``conftest.py``::

    from nucleo.pruebas import servidor_smtp  # noqa: F401  (pytest fixture)

or once for the whole project with ``pytest_plugins = ["nucleo.pruebas"]`` in the root
``conftest.py``. The worker helpers are plain functions::

    from nucleo.pruebas import ejecutar_worker, adelantar_reintentos, trabajos

Tests that run jobs through the worker need ``@pytest.mark.django_db(transaction=True)``:
the worker reads the jobs and runs the tasks in other threads, on other connections, so it
only sees what the test has committed.
"""

from __future__ import annotations

import concurrent.futures
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field

import pytest

COLAS_POR_DEFECTO = ("notificaciones",)


# SMTP ----------------------------------------------------------------------------------------


@dataclass
class MensajeRecibido:
    """One message as the SMTP server received it: the envelope and the parsed message."""

    remitente: str
    destinatarios: list[str]
    mensaje: email.message.EmailMessage
    crudo: bytes

    @property
    def asunto(self) -> str:
        return str(self.mensaje["Subject"] or "")

    @property
    def cuerpo(self) -> str:
        parte = self.mensaje.get_body(preferencelist=("plain", "html"))
        return parte.get_content() if parte is not None else ""

    @property
    def message_id(self) -> str:
        return str(self.mensaje["Message-ID"] or "")


class _Manejador:
    """aiosmtpd handler that keeps every accepted message."""

    def __init__(self, servidor: ServidorSMTP):
        self._servidor = servidor

    async def handle_DATA(self, server, session, envelope):
        crudo = bytes(envelope.original_content or envelope.content)
        mensaje = email.message_from_bytes(crudo, policy=email.policy.default)
        self._servidor._recibir(
            MensajeRecibido(
                remitente=envelope.mail_from,
                destinatarios=list(envelope.rcpt_tos),
                mensaje=mensaje,
                crudo=crudo,
            )
        )
        return "250 Message accepted for delivery"


def _puerto_libre(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class ServidorSMTP:
    """A real SMTP server (aiosmtpd) on ``host:puerto``, in a thread of the test process.

    ``mensajes`` lists what it accepted, in order. ``detener()`` closes the port (clients
    get "connection refused", like a provider outage); ``iniciar()`` listens again on the
    same port. Messages received before a stop are kept; ``limpiar()`` forgets them.
    """

    host: str = "127.0.0.1"
    puerto: int = 0
    mensajes: list[MensajeRecibido] = field(default_factory=list)

    def __post_init__(self):
        self._controlador = None
        self._cerrojo = threading.Lock()
        if not self.puerto:
            self.puerto = _puerto_libre(self.host)

    @property
    def en_marcha(self) -> bool:
        return self._controlador is not None

    def iniciar(self) -> None:
        from aiosmtpd.controller import Controller

        if self._controlador is not None:
            return
        # A new controller each time: a stopped one has closed its event loop.
        controlador = Controller(_Manejador(self), hostname=self.host, port=self.puerto, ready_timeout=10)
        controlador.start()
        self._controlador = controlador

    def detener(self) -> None:
        if self._controlador is None:
            return
        controlador, self._controlador = self._controlador, None
        controlador.stop()

    def limpiar(self) -> None:
        with self._cerrojo:
            self.mensajes.clear()

    def _recibir(self, mensaje: MensajeRecibido) -> None:
        with self._cerrojo:
            self.mensajes.append(mensaje)

    def para(self, direccion: str) -> list[MensajeRecibido]:
        """The messages whose envelope includes ``direccion``."""
        direccion = direccion.lower()
        with self._cerrojo:
            return [m for m in self.mensajes if direccion in (d.lower() for d in m.destinatarios)]


@pytest.fixture
def servidor_smtp(settings):
    """A running ``ServidorSMTP`` with Django's SMTP backend pointed at it (via the
    ``settings`` fixture, so the worker's threads see it too). Stopped after the test."""
    servidor = ServidorSMTP()
    servidor.iniciar()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = servidor.host
    settings.EMAIL_PORT = servidor.puerto
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield servidor
    finally:
        servidor.detener()


# procrastinate -------------------------------------------------------------------------------


def ejecutar_worker(*, colas=COLAS_POR_DEFECTO, tiempo_max_s: float = 60) -> None:
    """Run a procrastinate worker until no job of ``colas`` is due, then return.

    Jobs scheduled in the future (retries waiting for their backoff) are not run: move them
    with ``adelantar_reintentos()`` first. The worker runs in its own thread with its own
    event loop, so this works from sync tests, live-server tests and tests that already
    have an event loop. Needs ``django_db(transaction=True)``.
    """
    from procrastinate.contrib.django import app

    def correr():
        app.run_worker(
            wait=False,
            install_signal_handlers=False,
            listen_notify=False,
            queues=list(colas) if colas else None,
            delete_jobs="never",
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker-pruebas") as ejecutor:
        ejecutor.submit(correr).result(timeout=tiempo_max_s)


def adelantar_reintentos(*, colas=COLAS_POR_DEFECTO) -> int:
    """Simulate the passing of time: make every waiting job of ``colas`` due now.

    Returns how many jobs were moved.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() "
            "WHERE status = 'todo' AND scheduled_at > now() AND queue_name = ANY(%s)",
            [list(colas)],
        )
        return cursor.rowcount


def trabajos(*, colas=COLAS_POR_DEFECTO, tarea: str | None = None) -> list[dict]:
    """The rows of ``procrastinate_jobs`` in ``colas`` (optionally of one task), oldest first,
    as dicts with ``id``, ``task_name``, ``args``, ``status``, ``attempts``, ``scheduled_at``."""
    from django.db import connection

    sql = (
        "SELECT id, queue_name, task_name, args, status, attempts, scheduled_at "
        "FROM procrastinate_jobs WHERE queue_name = ANY(%s)"
    )
    parametros = [list(colas)]
    if tarea is not None:
        sql += " AND task_name = %s"
        parametros.append(tarea)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY id", parametros)
        columnas = [c[0] for c in cursor.description]
        return [dict(zip(columnas, fila)) for fila in cursor.fetchall()]
