"""Test helpers shared by every app: a real SMTP server and a procrastinate worker.

Fixtures (pytest): ``servidor_smtp`` (a running ``ServidorSMTP``, Django's default mailer
pointed at it) and ``cola_vacia`` (empties procrastinate's tables before and after the test).
Use them from an app's tests by importing them into that app's ``conftest.py``::

    from pruebas.soporte import cola_vacia, servidor_smtp  # noqa: F401  (pytest fixtures)

or once for the whole project with ``pytest_plugins = ["pruebas.soporte"]`` in the root
``conftest.py``. The worker helpers are plain functions::

    from pruebas.soporte import adelantar_reintentos, ejecutar_worker, trabajos

    @pytest.mark.django_db(transaction=True)
    def test_algo(servidor_smtp, cola_vacia):
        ...                        # a service commits a change and its notification
        ejecutar_worker()          # runs every due job of the "notificaciones" queue
        assert servidor_smtp.mensajes[0].asunto == "..."
        servidor_smtp.detener()    # outage: connection refused
        servidor_smtp.iniciar()    # back, same port
        adelantar_reintentos()     # retries waiting for their backoff become due now

Tests that run jobs through the worker need ``@pytest.mark.django_db(transaction=True)``:
the worker reads the jobs and runs the tasks in other threads, on other connections, so it
only sees what the test has committed. procrastinate's tables are not emptied by the flush
that ends such a test (they are unmanaged models): use ``cola_vacia`` when counting jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import concurrent.futures
import email
import email.policy
import json
import re
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
        # A long id is folded onto its own line: the whitespace before it is not part of it.
        return str(self.mensaje["Message-ID"] or "").strip()


class _Manejador:
    """aiosmtpd handler that keeps every accepted message."""

    def __init__(self, servidor: ServidorSMTP):
        self._servidor = servidor

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self._servidor.rechazados:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self._servidor.demora_s:
            await asyncio.sleep(self._servidor.demora_s)
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
    Addresses in ``rechazados`` (lower case) are refused with a 550 at RCPT TO; ``demora_s``
    makes the server wait that long before accepting each message (a slow provider).
    """

    host: str = "127.0.0.1"
    puerto: int = 0
    mensajes: list[MensajeRecibido] = field(default_factory=list)
    rechazados: set[str] = field(default_factory=set)
    demora_s: float = 0

    def __post_init__(self):
        self._controlador = None
        self._cerrojo = threading.Lock()
        if not self.puerto:
            self.puerto = _puerto_libre(self.host)

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


def apuntar_correo_a(settings, servidor: ServidorSMTP, *, timeout: float = 5) -> None:
    """Point Django's default mailer at ``servidor`` through pytest-django's ``settings``
    fixture (a global override, so the worker's threads see it too). Works with Django 6.1's
    ``MAILERS`` and with the deprecated ``EMAIL_*`` settings."""
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    if hasattr(settings, "MAILERS"):
        settings.MAILERS = {
            **settings.MAILERS,
            "default": {
                "BACKEND": smtp,
                "OPTIONS": {"host": servidor.host, "port": servidor.puerto, "timeout": timeout},
            },
        }
    else:  # RemovedInDjango2028Warning: only MAILERS then.
        settings.EMAIL_BACKEND = smtp
        settings.EMAIL_HOST = servidor.host
        settings.EMAIL_PORT = servidor.puerto
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = timeout


@pytest.fixture
def servidor_smtp(settings):
    """A running ``ServidorSMTP`` with Django's default mailer pointed at it (SMTP backend).
    Stopped after the test."""
    servidor = ServidorSMTP()
    servidor.iniciar()
    apuntar_correo_a(settings, servidor)
    try:
        yield servidor
    finally:
        servidor.detener()


# procrastinate -------------------------------------------------------------------------------


def _cerrar_conexiones(call_next, context, worker):
    """Task middleware (tests only): close the job thread's Django connections after each job,
    so none outlives the test and the test database can be dropped at the end."""
    from django.db import connections

    try:
        return call_next()
    finally:
        connections.close_all()


def app_de_worker():
    """A procrastinate ``App`` with the project's tasks and the worker connector.

    The Django connector of ``procrastinate.contrib.django.app`` is for deferring inside
    Django's transactions only: a worker on it gets each job's arguments as a JSON string
    (Django's own jsonb loader) and fails every job with ``AttributeError``. That is why
    ``manage.py procrastinate worker`` swaps in ``get_worker_connector()`` (a psycopg pool on
    the same database). This builds a separate app instead of swapping the global one, so
    code that defers while the test worker runs still writes through Django's connection.
    """
    from procrastinate import App
    from procrastinate.contrib.django import app

    opciones = dict(app.worker_defaults)
    opciones["task_middleware"] = [*opciones.get("task_middleware", []), _cerrar_conexiones]
    worker_app = App(
        connector=app.connector.get_worker_connector(),
        import_paths=app.import_paths,
        worker_defaults=opciones,
    )
    # Periodic jobs (the sweeps) are left out: their deferrer would race the test's own jobs
    # and hold a connection past the test; the sweeps are tested by calling them.
    worker_app.tasks = app.tasks
    return worker_app


def ejecutar_worker(*, colas=COLAS_POR_DEFECTO, tiempo_max_s: float = 60) -> None:
    """Run a procrastinate worker until no job of ``colas`` is due, then return.

    Polls (no LISTEN/NOTIFY), runs one job at a time and stops when the queues have nothing
    due (``wait=False``). Jobs scheduled in the future (retries waiting for their backoff)
    are not run: move them with ``adelantar_reintentos()`` first. Runs in its own thread with
    its own event loop, so it also works from live-server tests and from code that already
    runs an event loop. Needs ``django_db(transaction=True)``: the worker uses its own
    connections and only sees what the test committed.
    """

    def trabajar():
        app_de_worker().run_worker(
            wait=False,
            install_signal_handlers=False,
            listen_notify=False,
            queues=list(colas) if colas else None,
            delete_jobs="never",
        )

    hilo = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker-pruebas")
    try:
        hilo.submit(trabajar).result(timeout=tiempo_max_s)
    except concurrent.futures.TimeoutError:
        # Do not wait for a stuck worker (a job blocked on a lock, a hung server): fail now.
        hilo.shutdown(wait=False)
        raise AssertionError(f"el worker no vació la cola en {tiempo_max_s} s") from None
    hilo.shutdown()


def vaciar_cola() -> None:
    """Delete every procrastinate job, event, periodic-defer record and worker row.

    procrastinate's tables are unmanaged models, so the flush that ends a
    ``transaction=True`` test leaves their rows behind for the next test.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
            "procrastinate_workers RESTART IDENTITY CASCADE"
        )


@pytest.fixture
def cola_vacia(db):
    """An empty job queue before the test (whatever earlier transactional tests committed)
    and after it (so this test leaves nothing either)."""
    vaciar_cola()
    yield
    vaciar_cola()


def _filtro_colas(colas):
    if colas is None:
        return "TRUE", []
    return "queue_name = ANY(%s)", [list(colas)]


def adelantar_reintentos(*, colas=COLAS_POR_DEFECTO) -> int:
    """Simulate the passing of time: make every waiting job of ``colas`` (None: all queues)
    due now. Returns how many jobs were moved."""
    from django.db import connection

    filtro, parametros = _filtro_colas(colas)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() "
            f"WHERE status = 'todo' AND scheduled_at > now() AND {filtro}",
            parametros,
        )
        return cursor.rowcount


def trabajos(*, colas=COLAS_POR_DEFECTO, tarea: str | None = None) -> list[dict]:
    """The rows of ``procrastinate_jobs`` in ``colas`` (None: all queues; optionally of one
    task), oldest first, as dicts with ``id``, ``queue_name``, ``task_name``, ``args`` (a dict),
    ``status``, ``attempts``, ``scheduled_at``."""
    from django.db import connection

    filtro, parametros = _filtro_colas(colas)
    sql = (
        "SELECT id, queue_name, task_name, args, status, attempts, scheduled_at "
        f"FROM procrastinate_jobs WHERE {filtro}"
    )
    if tarea is not None:
        sql += " AND task_name = %s"
        parametros.append(tarea)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY id", parametros)
        columnas = [c[0] for c in cursor.description]
        filas = [dict(zip(columnas, fila)) for fila in cursor.fetchall()]
    for fila in filas:
        # Django's connection hands jsonb over as text.
        if isinstance(fila["args"], str):
            fila["args"] = json.loads(fila["args"])
    return filas


# Data and assertions shared by the apps' tests ---------------------------------------------


def rut_valido(numero: int) -> str:
    """A RUT in normal form with its correct check digit: ``rut_valido(12345678) == '12345678-5'``."""
    from stdnum.cl.rut import calc_check_digit

    return f"{numero}-{calc_check_digit(str(numero))}"


@contextlib.contextmanager
def rechazado_por(restriccion: str, code: str):
    """The block must fail with an IntegrityError from ``restriccion``, translated to ``code``."""
    from django.db import IntegrityError, transaction

    from nucleo.servicios import error_de_integridad

    with pytest.raises(IntegrityError) as exc:
        with transaction.atomic():
            yield
    assert exc.value.__cause__.diag.constraint_name == restriccion
    assert error_de_integridad(exc.value).code == code


# Fault injection ------------------------------------------------------------------------------

# Writes as the database sees them, including procrastinate's job insert (a SELECT of a function);
# a row lock (SELECT ... FOR UPDATE) is not a write.
_ESCRITURA = re.compile(r"\b(INSERT|DELETE)\b|(?<!FOR )\bUPDATE\b|procrastinate_defer", re.IGNORECASE)


class FallaInyectada(Exception):
    """Raised by ``falla_tras_escritura``: a crash between two writes of a service."""


@contextlib.contextmanager
def falla_tras_escritura(n):
    """Raise FallaInyectada right after the n-th write statement on this connection.

    Yields a list whose only item counts the writes seen, so a caller can tell whether the
    service finished before reaching the n-th write.
    """
    vistas = [0]

    def envoltura(execute, sql, params, many, context):
        resultado = execute(sql, params, many, context)
        if _ESCRITURA.search(sql):
            vistas[0] += 1
            if vistas[0] == n:
                raise FallaInyectada(f"falla tras la escritura {n}")
        return resultado

    from django.db import connection

    with connection.execute_wrapper(envoltura):
        yield vistas


def huella_bd():
    """A digest of every table the clinic writes (domain, auth, audit, jobs): equal digests
    mean the database holds exactly the same rows. Attempt counters (axes', the limits' in
    ``nucleo_contadorlimite``) are left out: a refused attempt counts, and changes nothing else.
    So is the clinical records' read log (``ficha_lecturaficha``): the law asks every read, and
    every refused attempt, to be logged (Decreto 41 art. 9); its own tests count its rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
              AND table_name NOT LIKE 'django_%%' AND table_name NOT LIKE 'axes_%%'
              AND table_name NOT IN ('nucleo_contadorlimite', 'ficha_lecturaficha')
            ORDER BY table_name
            """
        )
        tablas = [fila[0] for fila in cursor.fetchall()]
        huella = {}
        for tabla in tablas:
            cursor.execute(f'SELECT count(*), md5(coalesce(string_agg(t::text, \',\' ORDER BY t::text), \'\')) FROM "{tabla}" t')
            huella[tabla] = cursor.fetchone()
    return huella


def confirmar_telefono(*, user=None, cliente=None) -> None:
    """Mark the patient's current number confirmed, as the code flow does (issue 14): for scenes
    that need SMS or WhatsApp to reach a portal patient."""
    from django.utils import timezone

    from pacientes.models import Cliente

    filtro = {"user_id": user.pk} if user is not None else {"pk": cliente.pk}
    Cliente.objects.filter(**filtro).exclude(telefono="").update(
        telefono_verificado_en=timezone.now(), telefono_verificado_medio="codigo")


# Staff second factor (personal/segundo_factor.py) ----------------------------------------------
# A fixed secret for the tests' authenticator devices (hex, 20 bytes): the test computes the code
# the app would show (``personal.segundo_factor.codigo_totp``).
SECRETO_DE_PRUEBA = "3132333435363738393031323334353637383930"


def dispositivo_de_prueba(user):
    """The user's confirmed authenticator device (created with ``SECRETO_DE_PRUEBA`` if they
    have none), as after a finished enrolment."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    dispositivo = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if dispositivo is None:
        dispositivo = TOTPDevice.objects.create(user=user, name="Aplicación de prueba", key=SECRETO_DE_PRUEBA,
                                                confirmed=True)
    return dispositivo


def codigo_de_prueba(user) -> str:
    """A code the user's test device accepts now. A code is spent once per 30 s step
    (``last_t``); a test that signs the same person in twice in one step would get it refused,
    so the step is reset first: only the tests of the second factor itself check the reuse."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from personal.segundo_factor import codigo_totp

    dispositivo = dispositivo_de_prueba(user)
    TOTPDevice.objects.filter(pk=dispositivo.pk).update(last_t=-1, throttling_failure_count=0,
                                                        throttling_failure_timestamp=None)
    return codigo_totp(dispositivo)


def iniciar_sesion(cliente, user, *, segundo_factor=True):
    """Log ``user`` in on a test client: the ONE way tests open a session. Staff who must use the
    second factor (``requiere_segundo_factor``) get a device and a session verified with it, as
    after typing its code (``segundo_factor=False``: password only, to test the enforcement)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from personal.segundo_factor import requiere_segundo_factor

    # The backend a real login leaves (issue 16): staff by username (the profile comes with the
    # user), patients by RUT or e-mail (their record comes with it).
    from personal.models import Perfil

    personal = Perfil.objects.filter(user_id=user.pk).exists()
    cliente.force_login(user, backend="cuentas.autenticacion.NombreDeUsuarioBackend" if personal
                        else "cuentas.autenticacion.RutOCorreoBackend")
    if segundo_factor and requiere_segundo_factor(user):
        sesion = cliente.session
        sesion[DEVICE_ID_SESSION_KEY] = dispositivo_de_prueba(user).persistent_id
        sesion.save()
    return cliente


def sesion_http(user) -> dict:
    """A session for a raw HTTP client talking to a server in another process (``bin/produccion``
    in a test): what ``iniciar_sesion`` leaves, as a ``Cookie`` header with a CSRF cookie, and the
    masked token a form sends with it. The server must run with this process's SECRET_KEY."""
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
    from django.test import Client

    cliente = iniciar_sesion(Client(), user)
    secreto = _get_new_csrf_string()
    sesion = cliente.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "cookie": f"{settings.SESSION_COOKIE_NAME}={sesion}; {settings.CSRF_COOKIE_NAME}={secreto}",
        "csrf_token": _mask_cipher_secret(secreto),
    }
