"""A real PgBouncer in front of the test (or benchmark) PostgreSQL, started and stopped here.

Debian's ``pgbouncer`` package (1.18 on Debian 12) is the pooler the production docs describe;
``bin/test`` installs it when it runs as root, as it does with Chromium. Without it the tests that
need it are skipped with ``MOTIVO_SIN_PGBOUNCER`` and the run ends saying so (``conftest.py``).

    with PgBouncer(host="/ruta/del/socket", puerto=5432) as pooler:
        url = pooler.url("test_clinica")          # postgres://postgres@127.0.0.1:<port>/test_clinica

PgBouncer refuses to run as root; as root it runs as the owner of PostgreSQL's socket folder
(the embedded server's ``embedded_postgres`` user), which can reach that socket. Its log stays
in ``registro`` for the caller to read (a test fails on any "prepared statement" error in it).
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

COMO_INSTALAR_PGBOUNCER = "instálelo con `apt-get install pgbouncer` o ejecute bin/test como root"
MOTIVO_SIN_PGBOUNCER = f"Sin PgBouncer: pruebas del pooler omitidas ({COMO_INSTALAR_PGBOUNCER})"


def buscar_pgbouncer(entorno=os.environ):
    """The ``pgbouncer`` executable, or None. ``CLINICA_PGBOUNCER`` names another one (a missing
    path hides it, to try the skip). Debian installs it in /usr/sbin, outside a user's PATH."""
    pedido = entorno.get("CLINICA_PGBOUNCER")
    if pedido:
        return shutil.which(pedido)
    return shutil.which("pgbouncer") or shutil.which("/usr/sbin/pgbouncer")


def version_pgbouncer(ejecutable) -> tuple[int, int]:
    salida = subprocess.run([ejecutable, "--version"], capture_output=True, text=True, timeout=10).stdout
    encontrada = re.search(r"PgBouncer (\d+)\.(\d+)", salida)
    if not encontrada:
        raise RuntimeError(f"no entiendo la versión de {ejecutable}: {salida!r}")
    return int(encontrada[1]), int(encontrada[2])


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgBouncer:
    """PgBouncer on 127.0.0.1 forwarding every database to ``host``:``puerto`` as ``usuario``.

    ``modo`` is its ``pool_mode``; ``max_prepared_statements`` (PgBouncer >= 1.21 only) lets it
    carry protocol-level prepared statements across server connections; ``tam_pool`` is
    ``default_pool_size`` (server connections per database and user); ``socket`` also listens on a
    Unix socket in its folder, and ``url`` names it."""

    def __init__(self, *, host, puerto, usuario="postgres", clave="", modo="transaction", tam_pool=20,
                 max_prepared_statements=None, socket=False, ejecutable=None):
        self.ejecutable = ejecutable or buscar_pgbouncer()
        if self.ejecutable is None:
            raise RuntimeError(MOTIVO_SIN_PGBOUNCER)
        self.version = version_pgbouncer(self.ejecutable)
        self.host, self.puerto_destino, self.usuario, self.clave = host, puerto, usuario, clave
        self.modo, self.tam_pool, self.max_prepared_statements = modo, tam_pool, max_prepared_statements
        self.socket = socket
        self.puerto = None
        self.carpeta = None
        self.proceso = None

    @property
    def registro(self) -> Path:
        return self.carpeta / "pgbouncer.log"

    def url(self, base: str) -> str:
        """Over TCP on 127.0.0.1, or (``socket=True``) over its Unix socket, as a PgBouncer on the
        web host is best reached."""
        host = urllib.parse.quote(str(self.carpeta), safe="") if self.socket else "127.0.0.1"
        return f"postgres://{self.usuario}@{host}:{self.puerto}/{base}"

    def _configuracion(self) -> str:
        destino = f"host={self.host} port={self.puerto_destino}"
        extra = ""
        if self.max_prepared_statements is not None:
            extra = f"max_prepared_statements = {self.max_prepared_statements}\n"
        elif self.version >= (1, 21):
            # Off unless asked for: newer versions turn it on by default, and the tests of a pooler
            # that cannot keep prepared statements must see one.
            extra = "max_prepared_statements = 0\n"
        return (
            f"[databases]\n* = {destino}\n\n[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.puerto}\n"
            f"unix_socket_dir = {self.carpeta if self.socket else ''}\n"
            f"auth_type = trust\nauth_file = {self.carpeta / 'usuarios.txt'}\n"
            f"pool_mode = {self.modo}\nmax_client_conn = 1000\ndefault_pool_size = {self.tam_pool}\n"
            # psycopg sends no startup "options"; Django sets the time zone with SET (a parameter
            # PgBouncer tracks and carries to whichever server connection runs the next query).
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.registro}\npidfile = {self.carpeta / 'pgbouncer.pid'}\n"
            "log_connections = 0\nlog_disconnections = 0\n"
            f"{extra}"
        )

    def __enter__(self):
        self.carpeta = Path(tempfile.mkdtemp(prefix="clinica-pgbouncer-"))
        self.puerto = _puerto_libre()
        # With auth_type = trust PgBouncer asks no client for a password; it logs in to PostgreSQL
        # with the one written here.
        (self.carpeta / "usuarios.txt").write_text(f'"{self.usuario}" "{self.clave}"\n')
        (self.carpeta / "pgbouncer.ini").write_text(self._configuracion())
        comando = [self.ejecutable, str(self.carpeta / "pgbouncer.ini")]
        if os.geteuid() == 0:
            # PgBouncer will not run as root: run it as whoever owns PostgreSQL's socket folder.
            dueno = Path(self.host).owner() if self.host.startswith("/") else "nobody"
            shutil.chown(self.carpeta, user=dueno)
            for archivo in self.carpeta.iterdir():
                shutil.chown(archivo, user=dueno)
            comando[1:1] = ["-u", dueno]
        self.proceso = subprocess.Popen(comando, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        limite = time.monotonic() + 15
        while True:
            if self.proceso.poll() is not None:
                texto = self.registro.read_text() if self.registro.exists() else ""
                raise RuntimeError(f"PgBouncer terminó al partir (código {self.proceso.returncode}):\n{texto}")
            try:
                with socket.create_connection(("127.0.0.1", self.puerto), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > limite:
                    self.__exit__()
                    raise RuntimeError("PgBouncer no abrió su puerto en 15 s")
                time.sleep(0.05)

    def __exit__(self, *exc):
        if self.proceso is not None and self.proceso.poll() is None:
            self.proceso.terminate()  # SIGTERM: immediate shutdown, clients disconnected
            try:
                self.proceso.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proceso.kill()
                self.proceso.wait()

    def limpiar(self):
        """Remove the folder (config and log) once the caller has read the log."""
        if self.carpeta is not None:
            shutil.rmtree(self.carpeta, ignore_errors=True)
