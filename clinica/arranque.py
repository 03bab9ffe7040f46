"""What ``bin/produccion`` does before it starts gunicorn and the job workers.

    python -m clinica.arranque [--sin-web] [--sin-tareas]
    python -m clinica.arranque --solo-estaticos     # at image build time: no database needed

1. Checks the configuration (``check --deploy``; the site ``CLINICA_SITIO`` asks for).
2. Probes the database connections and refuses, with a Spanish message and exit code 2, a
   combination known to break behind a pooler (``revisar_conexiones``).
3. Migrates once, whatever the number of services starting at the same moment: under a
   PostgreSQL advisory lock taken on the *direct* connection (``DATABASE_URL_DIRECTA``), a
   session that lives as long as this process. Through a transaction pooler the lock would be
   held by a pooled server connection nobody owns (and ``pg_advisory_unlock`` could go to another
   one), so every later start would wait forever. A waiting start says who holds the lock, and
   gives up after ``CLINICA_ESPERA_ARRANQUE_S`` (600 s) with exit code 1 so that systemd retries:
   never a hang that needs a person. If the holder dies, PostgreSQL ends its session and the lock.
   While it migrates, the ORM goes to that session too (``todo_por_la_directa``).
4. Builds the static files once per host (``construir_estaticos``): a process builds them while
   holding an exclusive ``flock`` on ``STATIC_ROOT``, and records a fingerprint of their sources;
   a process that finds the fingerprint current does nothing. Two services starting together on
   one host therefore never write the folder at once. When new code must rebuild them while
   another service of the host still serves, hashed files are only added and the manifest is
   replaced whole (``clinica.estaticos.ManifiestoAtomico``).

Exit codes: 0 ready; 2 refused (configuration: a person must change it); 1 could not finish now
(database unreachable, a migration stopped by the database, lock not obtained in time,
prepared statements not checkable: worth retrying).
"""

import argparse
import fcntl
import hashlib
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import django
import psycopg
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import OperationalError as DjangoOperationalError
from django.db import connections, router

from clinica.sitios import urlconf_del_sitio
from nucleo.pooler import PoolerDeSentencias, conserva_preparadas, es_pooler_de_transacciones, parametros_de

LLAVE_ARRANQUE = 7_472_001  # any constant: the advisory lock of this clinic's "migrate"
ESPERA_ARRANQUE_S = 600
AVISO_CADA_S = 10
ARCHIVO_HUELLA = ".huella-estaticos"


class Rechazo(Exception):
    """The configuration cannot work: nothing is started (exit code 2)."""


class NoAhora(Exception):
    """Could not finish now (exit code 1): systemd's restart will try again."""


def _espera_maxima_s() -> float:
    valor = os.environ.get("CLINICA_ESPERA_ARRANQUE_S", str(ESPERA_ARRANQUE_S))
    try:
        segundos = float(valor)
    except ValueError:
        raise Rechazo(f"CLINICA_ESPERA_ARRANQUE_S={valor!r} no es un número de segundos.") from None
    if segundos <= 0:
        raise Rechazo("CLINICA_ESPERA_ARRANQUE_S debe ser mayor que 0.")
    return segundos


# 2. Connections -------------------------------------------------------------------------------

def revisar_conexiones(*, con_tareas: bool) -> list[str]:
    """Warnings for the operator; raises ``Rechazo`` for a combination known to break."""
    try:
        return _revisar_conexiones(con_tareas=con_tareas)
    except PoolerDeSentencias as error:
        raise Rechazo(
            f"la base pasa por un pooler en modo statement ({error}): la clínica hace cada cambio en una "
            "transacción. Use pool_mode = transaction (ver «Con PgBouncer» en docs/produccion.md)."
        ) from None


def _revisar_conexiones(*, con_tareas: bool) -> list[str]:
    directa_propia = bool(os.environ.get("DATABASE_URL_DIRECTA"))
    if directa_propia and not os.environ.get("DATABASE_URL"):
        raise Rechazo(
            "DATABASE_URL_DIRECTA está definida y DATABASE_URL no: sin DATABASE_URL se usa el PostgreSQL embebido "
            "y la directa no se leería. Defina las dos (la web por el pooler, la directa a PostgreSQL)."
        )
    if settings.DB_POOLER == "transaccion" and not directa_propia:
        raise Rechazo(
            "DJANGO_DB_POOLER=transaccion necesita DATABASE_URL_DIRECTA: la dirección de PostgreSQL sin "
            "pasar por el pooler, para migrar, para el candado de arranque y para los procesos de tareas. "
            "Ver «Con PgBouncer» en docs/produccion.md."
        )
    avisos = []
    directa = parametros_de("directa")
    if es_pooler_de_transacciones(directa):
        quien = "DATABASE_URL_DIRECTA" if directa_propia else "DATABASE_URL (no definió DATABASE_URL_DIRECTA)"
        usos = ("las migraciones, el candado de arranque y los procesos de tareas" if con_tareas
                else "las migraciones y el candado de arranque")
        raise Rechazo(
            f"{quien} pasa por un pooler en modo transacción, y {usos} necesitan una sesión propia en "
            "PostgreSQL (candados de sesión, LISTEN/NOTIFY). Defina DATABASE_URL_DIRECTA con la "
            "dirección de PostgreSQL sin el pooler y DJANGO_DB_POOLER=transaccion. Ver «Con PgBouncer» "
            "en docs/produccion.md."
        )
    web = parametros_de("default")
    web_es_pooler = web != directa and es_pooler_de_transacciones(web)
    if web_es_pooler and settings.DB_POOLER != "transaccion":
        raise Rechazo(
            "DATABASE_URL pasa por un pooler en modo transacción (p. ej. PgBouncer con pool_mode = "
            "transaction) y DJANGO_DB_POOLER no lo dice: defina DJANGO_DB_POOLER=transaccion, que apaga "
            "lo que ese modo no soporta. Ver «Con PgBouncer» en docs/produccion.md."
        )
    if web_es_pooler and settings.DB_PREPARAR:
        prueba = conserva_preparadas(web)
        if prueba.conservan is None:
            raise NoAhora(
                f"no pude comprobar si el pooler de DATABASE_URL conserva las sentencias preparadas ({prueba.detalle}). "
                "Se reintentará al partir de nuevo; si el pooler tiene una sola conexión del servidor por base, "
                "súbala (default_pool_size), o quite DJANGO_DB_PREPARAR=1."
            )
        if not prueba.conservan:
            raise Rechazo(
                "DJANGO_DB_PREPARAR=1, pero el pooler de DATABASE_URL no conserva las sentencias "
                f"preparadas ({prueba.detalle}): las páginas fallarían con «prepared statement does "
                "not exist». Quite DJANGO_DB_PREPARAR (con DJANGO_DB_POOLER=transaccion queda apagado), "
                "o use PgBouncer 1.21 o posterior con max_prepared_statements = 200."
            )
    if settings.DB_POOLER == "transaccion" and not web_es_pooler:
        avisos.append(
            "AVISO: DJANGO_DB_POOLER=transaccion, pero DATABASE_URL llega directo a PostgreSQL (o a un "
            "pooler en modo session): funciona, sin la preparación de consultas ni los cursores del "
            "servidor. Si no hay pooler en modo transacción, quite DJANGO_DB_POOLER."
        )
    return avisos


# 3. Migrations under the start-up lock -------------------------------------------------------

def _quien_tiene_el_candado(cursor) -> str:
    cursor.execute(
        """SELECT a.pid, coalesce(nullif(a.application_name, ''), '-'), coalesce(host(a.client_addr), 'socket local'),
                  to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), a.state
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1""",
        [LLAVE_ARRANQUE],
    )
    fila = cursor.fetchone()
    if fila is None:
        return "otro proceso (ya lo soltó)"
    pid, aplicacion, direccion, desde, estado = fila
    return f"la sesión {pid} de PostgreSQL (aplicación {aplicacion}, {direccion}, conectada desde {desde}, {estado})"


def tomar_candado_de_arranque(cursor, *, espera_max_s: float, escribir=print) -> None:
    """Take the start-up advisory lock on ``cursor``'s session, waiting at most ``espera_max_s``."""
    inicio = time.monotonic()
    proximo_aviso = inicio
    while True:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LLAVE_ARRANQUE])
        if cursor.fetchone()[0]:
            return
        ahora = time.monotonic()
        if ahora - inicio >= espera_max_s:
            raise NoAhora(
                f"esperé {espera_max_s:.0f} s el candado de arranque y lo sigue teniendo "
                f"{_quien_tiene_el_candado(cursor)}. Otro servicio está migrando o quedó detenido a mitad; "
                "si ese proceso ya no existe, termine esa sesión con SELECT pg_terminate_backend(pid)."
            )
        if ahora >= proximo_aviso:
            escribir(f"==> Esperando el candado de arranque: lo tiene {_quien_tiene_el_candado(cursor)}")
            proximo_aviso = ahora + AVISO_CADA_S
        time.sleep(0.25)


class TodoPorLaDirecta:
    """A database router for the start-up only: every ORM query goes to the direct connection,
    the session that holds the lock and runs the migrations. A data migration written the usual
    way (``Model.objects.update(...)``, no ``.using(alias)``) would otherwise run on "default",
    another connection, and wait forever on the lock of the table its own migration altered and
    has not committed yet."""

    def db_for_read(self, model, **hints):
        return "directa"

    def db_for_write(self, model, **hints):
        return "directa"


@contextmanager
def todo_por_la_directa():
    enrutador = TodoPorLaDirecta()
    router.routers.insert(0, enrutador)
    try:
        yield
    finally:
        router.routers.remove(enrutador)


def migrar(*, espera_max_s: float, nombre: str = "clinica arranque") -> None:
    directa = connections["directa"]
    # Named in pg_stat_activity, so that a start that waits (here or on another host) says who.
    directa.settings_dict["OPTIONS"] = {**directa.settings_dict["OPTIONS"], "application_name": nombre[:63]}
    with directa.cursor() as cursor, todo_por_la_directa():
        tomar_candado_de_arranque(cursor, espera_max_s=espera_max_s)
        try:
            # On the session that holds the lock: the migrations and their data steps run there.
            call_command("migrate", database="directa", interactive=False, verbosity=1)
            # Checks that read the database (demo.E001: no account with the demo's public secret).
            call_command("check", databases=["default"], fail_level="ERROR")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LLAVE_ARRANQUE])
    directa.close()


# 4. Static files, once per host ----------------------------------------------------------------

def huella_de_estaticos() -> str:
    """SHA-256 over every static source file (path and content) and the storage that builds them."""
    suma = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    vistos = set()
    archivos = []
    for buscador in get_finders():
        for ruta, almacen in buscador.list([]):
            prefijo = getattr(almacen, "prefix", None)
            destino = f"{prefijo}/{ruta}" if prefijo else ruta
            if destino not in vistos:  # the first finder wins, as in collectstatic
                vistos.add(destino)
                archivos.append((destino, almacen.path(ruta)))
    for destino, origen in sorted(archivos):
        suma.update(destino.encode() + b"\0")
        suma.update(Path(origen).read_bytes())
    return suma.hexdigest()


def construir_estaticos(*, espera_max_s: float, escribir=print) -> bool:
    """``collectstatic`` into ``STATIC_ROOT`` unless its recorded fingerprint is current.
    Returns whether it built them."""
    carpeta = Path(settings.STATIC_ROOT)
    carpeta.mkdir(parents=True, exist_ok=True)
    huella = huella_de_estaticos()
    archivo_huella = carpeta / ARCHIVO_HUELLA
    descriptor = os.open(carpeta, os.O_RDONLY | os.O_DIRECTORY)
    try:
        limite = time.monotonic() + espera_max_s
        avisado = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > limite:
                    raise NoAhora(f"otro proceso lleva {espera_max_s:.0f} s reuniendo los archivos estáticos en {carpeta}") from None
                if not avisado:
                    escribir("==> Otro servicio de este equipo está reuniendo los archivos estáticos: espero")
                    avisado = True
                time.sleep(0.1)
        if archivo_huella.exists() and archivo_huella.read_text().strip() == huella:
            escribir(f"==> Archivos estáticos al día en {carpeta}")
            return False
        # Gone before the build starts: a build cut short leaves no fingerprint that says "al día"
        # (and a rollback to the code of the old fingerprint builds again).
        archivo_huella.unlink(missing_ok=True)
        call_command("collectstatic", interactive=False, verbosity=1)
        provisorio = carpeta / f"{ARCHIVO_HUELLA}.{os.getpid()}"
        provisorio.write_text(huella + "\n")
        os.replace(provisorio, archivo_huella)  # atomic: a fingerprint is whole or absent
        return True
    finally:
        os.close(descriptor)  # releases the flock


# ------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    argumentos = argparse.ArgumentParser(description="Preparación de bin/produccion")
    argumentos.add_argument("--sin-web", action="store_true", help="sin servidor web: no reúne archivos estáticos")
    argumentos.add_argument("--sin-tareas", action="store_true", help="sin procesos de tareas en este servicio")
    argumentos.add_argument("--solo-estaticos", action="store_true",
                            help="solo reunir los archivos estáticos, sin tocar la base (al construir una imagen)")
    opciones = argumentos.parse_args(argv)
    django.setup()
    # What a database error means depends on when it happens: before migrating, the database is
    # not reachable (yet); while migrating, a migration failed (a lock, a timeout, a full disk).
    fase = "conectar"
    try:
        if opciones.solo_estaticos:
            fase = "estaticos"
            construir_estaticos(espera_max_s=_espera_maxima_s())
            return 0
        sitio = os.environ.get("CLINICA_SITIO", "ambos")
        if settings.ROOT_URLCONF != urlconf_del_sitio(sitio):
            raise Rechazo(
                f"CLINICA_SITIO={sitio} pero settings.ROOT_URLCONF es {settings.ROOT_URLCONF}: settings.py no lee "
                "CLINICA_SITIO (falta ROOT_URLCONF = urlconf_del_sitio(...))."
            )
        espera_max_s = _espera_maxima_s()
        # Errors stop the start; warnings (HSTS, HTTPS...) are printed for the operator.
        call_command("check", deploy=True, fail_level="ERROR")
        for aviso in revisar_conexiones(con_tareas=not opciones.sin_tareas):
            print(aviso, file=sys.stderr)
        fase = "migrar"
        migrar(espera_max_s=espera_max_s, nombre=f"clinica arranque {sitio} en {socket.gethostname()}")
        if not opciones.sin_web:
            fase = "estaticos"
            construir_estaticos(espera_max_s=espera_max_s)
    except Rechazo as rechazo:
        print(f"ERROR: {rechazo} No se inicia nada.", file=sys.stderr)
        return 2
    except (DjangoOperationalError, psycopg.OperationalError) as error:
        texto = str(error).strip()
        if fase == "conectar":
            # Not up yet, or not reachable from here: worth retrying, not a configuration to fix.
            print(f"ERROR: no me pude conectar a la base de datos: {texto}", file=sys.stderr)
        else:
            print(f"ERROR: la base de datos detuvo la migración: {texto}. Nada quedó a medias (cada migración "
                  "es una transacción); se reintentará al partir de nuevo.", file=sys.stderr)
        return 1
    except SystemCheckError as error:  # its message lists the errors, in Spanish for ours
        print(f"{error}\nERROR: la revisión de la configuración encontró errores. No se inicia nada.", file=sys.stderr)
        return 2
    except OSError as error:
        if fase != "estaticos":
            raise
        print(f"ERROR: no puedo escribir los archivos estáticos en {settings.STATIC_ROOT} ({error.strerror}: "
              f"{error.filename}). Dé permiso de escritura al usuario del servicio o cambie DJANGO_STATIC_ROOT. "
              "No se inicia nada.", file=sys.stderr)
        return 2
    except NoAhora as problema:
        print(f"ERROR: {problema}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
