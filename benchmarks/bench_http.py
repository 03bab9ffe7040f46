"""HTTP benchmark of the real server against a bare Django ceiling (``bin/bench-http``).

Un script, no una prueba. Borra y crea su propia base ``bench_http``, la llena con 10.000 horas
libres futuras y 5.000 pacientes con cuenta del portal, levanta ``gunicorn`` (2 workers
síncronos por defecto) con ``benchmarks.ajustes_http`` y le pide, desde un generador de carga
asyncio en este mismo proceso (en 127.0.0.1, sin keep-alive: los workers síncronos cierran cada
conexión), cada caso durante un tiempo fijo:

1. ``horas``: la página de horas libres de un dentista y una semana del portal para una
   prestación de 60 minutos (``/portal/reservar/?prestacion=<id>&dentista=<id>&semana=<n>``: solo
   las horas donde cabe, issue 17) con la sesión de un paciente, frente a la vista desnuda de una
   consulta (``/bench/una-consulta/<id>/``).
2. ``reserva``: 200 pacientes (cada uno con su sesión y su token CSRF) compiten por 50 horas
   por ronda con el POST real de ``portal:reservar_confirmar`` (4 por hora: 1 gana con 302,
   3 reciben 409), frente a la vista desnuda de compare-and-set con el mismo número de POST y
   la misma disputa. Después verifica en la base: ninguna hora con dos ganadores, cada ganador
   es quien tiene la hora, sin traslapes; y 0 respuestas 5xx.
3. ``agenda``: la agenda del día del personal (``/gestion/agenda/?fecha=...``) como recepción,
   frente a la misma vista desnuda de una consulta.
4. ``ficha``: la ficha clínica de un paciente con 200 evoluciones firmadas, 30 documentos y diez años de odontograma (600 cambios)
   (``/gestion/pacientes/<id>/ficha/``) como su dentista, con la sesión verificada por el segundo
   factor; cada petición escribe su fila en el registro de lecturas, como manda la ley. Además
   mide en proceso lo que cuesta esa fila (``registrar_lectura``) por petición.
5. ``cuenta``: el estado de cuenta de un paciente con 300 prestaciones realizadas y 200 pagos
   (``/gestion/pacientes/<id>/estado-de-cuenta/``) como recepción (issue 17), meta ≥ 0,2×.
6. ``plan``: el plan de tratamiento del mismo paciente con 300 ítems en tres fases (propuestos,
   aceptados y realizados) y los hallazgos pendientes de sus diez años de odontograma
   (``/gestion/pacientes/<id>/ficha/plan/``), como su dentista; también escribe su fila de lectura.

Imprime peticiones/s, p50/p95, códigos de estado, razón frente al techo, CPU por petición de
los workers, de PostgreSQL y del generador, y la memoria máxima (VmHWM) de cada worker; con
``--escribir`` (por defecto ``docs/rendimiento-http.md``) reemplaza ahí la sección de la última
ejecución, con la máquina, la fecha y el comando.

    bin/bench-http                            # 2 workers, 3 s de calentamiento + 15 s por caso
    bin/bench-http --workers 4 --duracion 10
    bin/bench-http --casos horas --perfil     # + cProfile de la página de horas (en proceso)
    bin/bench-http --casos horas,reserva --pooler   # + lo mismo a través de PgBouncer (issue 18)

Con ``--pooler`` levanta un PgBouncer real (``pruebas.pgbouncer``, modo transacción) delante del
PostgreSQL embebido y, en la misma ejecución, mide ``horas`` y ``reserva`` en cuatro bloques, cada
uno con su gunicorn: directa (la ejecución normal), PgBouncer, PgBouncer, directa. El gunicorn del
pooler recibe ``DATABASE_URL`` = PgBouncer, ``DATABASE_URL_DIRECTA`` = el socket de PostgreSQL y
``DJANGO_DB_POOLER=transaccion``, con la mejor opción de sentencias preparadas de esa versión
(≥ 1.21: ``max_prepared_statements`` y ``DJANGO_DB_PREPARAR=1``; 1.18, la de Debian 12: apagadas).
Meta: PgBouncer / directa ≥ 0,90 en pet/s. Falla (1) si un registro de PgBouncer o de gunicorn
menciona «prepared statement». Sin ``pgbouncer`` instalado sale con 2 y dice cómo instalarlo.

Si el PostgreSQL embebido no estaba en ejecución, lo detiene al terminar (también con error o
Ctrl-C), como ``bin/test``; si ya lo estaba, lo deja.

Salida: 1 si hubo doble reserva, 5xx, inconsistencias o «prepared statement» en los registros;
3 si no se llega a una meta; 2 si falta algo para medir; 0 si no.
Con ``DATABASE_URL`` usa esa base y exige ``--si-borrar`` (y no admite ``--pooler``).
"""

import argparse
import asyncio
import cProfile
import datetime
import io
import json
import os
import platform
import pstats
import random
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

RAIZ = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(RAIZ))

NOMBRE_BD = "bench_http"
AJUSTES = "benchmarks.ajustes_http"
META_HORAS = 0.5
META_RESERVA = 0.3
META_FICHA = 0.2
META_PLAN = 0.2
ITEMS_PLAN = 300
EVOLUCIONES_FICHA = 200
DOCUMENTOS_FICHA = 30
# The odontogram of the ``ficha`` case (issue 16): ten years of charting, about 12 visits a year
# with 5 changes each (findings, work done, some marks removed).
VISITAS_ODONTOGRAMA = 120
CAMBIOS_POR_VISITA = 5
META_CUENTA = 0.2
ITEMS_CUENTA = 300
PAGOS_CUENTA = 200
META_MEMORIA_MB = 150
PACIENTES_CARRERA = 200
HORAS_POR_RONDA = 50
MARCA_INICIO = "<!-- bench-http:inicio -->"
MARCA_FIN = "<!-- bench-http:fin -->"
BOTON_HORA = 'class="btn btn-outline-primary hora-libre"'
# --pooler (issue 18): the pooler may cost at most 10 % of the requests per second.
META_POOLER = 0.90
# The order of the --pooler blocks; the first is the ordinary (direct) run. Direct, pooler,
# pooler, direct (ABBA) rather than alternating: on a shared machine the load drifts during a run,
# and with ABBA a drift that is linear in time weighs the same on both sides of the averaged
# ratio (ABAB would give the pooler the later, hence differently loaded, half of each pair).
# Each pair (direct 1 with pooler 1, pooler 2 with direct 2) is also reported on its own.
BLOQUES_POOLER = ("directa", "pooler", "pooler", "directa")
# max_prepared_statements for PgBouncer >= 1.21: it then re-prepares psycopg's statements on
# whichever server connection runs them, and the web keeps DJANGO_DB_PREPARAR=1.
MAX_PREPARADAS_POOLER = 200
VERSION_PREPARADAS = (1, 21)
INSTALAR_PGBOUNCER = ("bin/bench-http --pooler necesita PgBouncer y no lo encontré: instálelo con "
                      "`apt-get install pgbouncer` (paquete de Debian; como root) o indique su ruta en CLINICA_PGBOUNCER.")


# --- arguments and database -------------------------------------------------------------------


def leer_argumentos(argv=None):
    p = argparse.ArgumentParser(description="Benchmark HTTP (gunicorn) del portal y la agenda frente a vistas desnudas.")
    p.add_argument("--workers", type=int, default=2, help="workers síncronos de gunicorn; 2")
    p.add_argument("--conexiones", type=int, default=8, help="conexiones simultáneas del generador; 8")
    p.add_argument("--duracion", type=float, default=15.0, help="segundos medidos por caso; 15")
    p.add_argument("--calentamiento", type=float, default=3.0, help="segundos previos sin medir; 3")
    p.add_argument("--horas", type=int, default=10_000, help="horas libres futuras; 10000")
    p.add_argument("--dentistas", type=int, default=10, help="dentistas con esas horas; 10")
    p.add_argument("--pacientes", type=int, default=5_000, help="pacientes con cuenta del portal; 5000")
    p.add_argument("--semana", type=int, default=1, help="semana de la página de horas (0 = desde hoy); 1")
    p.add_argument("--rondas-max", type=int, default=60, help="rondas de 50 horas disponibles para la carrera; 60")
    p.add_argument("--casos", default="horas,reserva,agenda,ficha,cuenta,plan", help="casos a medir, separados por coma")
    p.add_argument("--puerto", type=int, default=0, help="puerto de gunicorn; 0 = uno libre")
    p.add_argument("--sin-memo", action="store_true",
                   help="sin la caché «paginas» del portal (DummyCache): cada página de horas se dibuja")
    p.add_argument("--quitar-middleware", default="",
                   help="experimento: middleware a quitar (rutas separadas por coma), vía BENCH_QUITAR_MIDDLEWARE")
    p.add_argument("--ajuste", action="append", default=[], metavar="NOMBRE=JSON",
                   help='experimento: un ajuste de Django con valor JSON, p. ej. '
                        '--ajuste \'PGHISTORY_MIDDLEWARE_METHODS=["POST"]\' (se puede repetir)')
    p.add_argument("--sin-prestacion", action="store_true",
                   help="la clínica sin prestaciones en línea: la página de horas y la carrera como antes del issue 17")
    p.add_argument("--perfil", action="store_true", help="cProfile de la página de horas en proceso (50 peticiones)")
    p.add_argument("--pooler", action="store_true",
                   help="además, horas y reserva a través de un PgBouncer (modo transacción) que el benchmark "
                        "levanta, frente a la conexión directa, en la misma ejecución (issue 18)")
    p.add_argument("--escribir", default="docs/rendimiento-http.md",
                   help="archivo cuya sección de última ejecución se reemplaza; '' = no escribir")
    p.add_argument("--si-borrar", action="store_true", help="obligatorio con DATABASE_URL: confirma que se puede VACIAR esa base")
    args = p.parse_args(argv)
    try:
        args.ajustes = {a.split("=", 1)[0]: json.loads(a.split("=", 1)[1]) for a in args.ajuste}
    except (IndexError, ValueError):
        p.error("--ajuste espera NOMBRE=JSON")
    args.casos = [c.strip() for c in args.casos.split(",") if c.strip()]
    desconocidos = set(args.casos) - {"horas", "reserva", "agenda", "ficha", "cuenta", "plan"}
    if desconocidos:
        p.error(f"casos desconocidos: {', '.join(sorted(desconocidos))}")
    if min(args.workers, args.conexiones, args.horas, args.dentistas, args.pacientes) < 1:
        p.error("--workers, --conexiones, --horas, --dentistas y --pacientes deben ser >= 1")
    if args.pacientes < PACIENTES_CARRERA + 1:
        p.error(f"--pacientes debe ser al menos {PACIENTES_CARRERA + 1}")
    if args.pooler:
        if not {"horas", "reserva"} & set(args.casos):
            p.error("--pooler compara los casos horas y reserva: incluya al menos uno en --casos")
        # Each later race block books with its own 200 patients (see medir_reserva).
        necesarios = len(BLOQUES_POOLER) * PACIENTES_CARRERA + 3
        if "reserva" in args.casos and args.pacientes < necesarios:
            p.error(f"--pooler con el caso reserva necesita --pacientes >= {necesarios}")
    return args


def recrear_base(args):
    """DROP and CREATE ``bench_http`` on the embedded server (or TRUNCATE later with DATABASE_URL)."""
    if os.environ.get("DATABASE_URL"):
        if not args.si_borrar:
            print("DATABASE_URL está definida: este benchmark VACÍA esa base. Repita con --si-borrar.", file=sys.stderr)
            sys.exit(2)
        return
    os.environ["CLINICA_DB_NAME"] = NOMBRE_BD
    from clinica import postgres_embebido

    postgres_embebido.recrear_base(NOMBRE_BD)


def preparar_django():
    os.environ["DJANGO_SETTINGS_MODULE"] = AJUSTES
    # One random key for this process and the gunicorn it starts (sessions are signed with it).
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()


# --- data ------------------------------------------------------------------------------------


def crear_horas(dentistas, n, *, por_dia=18):
    """``n`` free 30-minute slots from tomorrow, 09:00-18:00 Santiago, every day, round-robin
    over ``dentistas`` (bulk: setup, not timed)."""
    from django.utils import timezone

    from citas.models import Cita

    zona = timezone.get_current_timezone()
    manana = timezone.localdate() + datetime.timedelta(days=1)
    filas = []
    for i in range(-(-n // len(dentistas))):
        fecha = manana + datetime.timedelta(days=i // por_dia)
        inicio = datetime.datetime.combine(fecha, datetime.time(9), tzinfo=zona) + datetime.timedelta(
            minutes=30 * (i % por_dia))
        for d in dentistas:
            if len(filas) < n:
                filas.append(Cita(dentista_id=d, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30)))
    Cita.objects.bulk_create(filas, batch_size=2000)
    return len(filas)


def crear_horas_carrera(dentistas, n, *, desde_dia):
    """``n`` slots for the race, 08:00-20:00 every day from ``desde_dia`` days ahead, earliest
    first (the first rounds fall on the agenda's day). Returns their ids in time order."""
    from django.utils import timezone

    from citas.models import Cita

    zona = timezone.get_current_timezone()
    filas = []
    i = 0
    while len(filas) < n:
        fecha = timezone.localdate() + datetime.timedelta(days=desde_dia + i // 24)
        inicio = datetime.datetime.combine(fecha, datetime.time(8), tzinfo=zona) + datetime.timedelta(
            minutes=30 * (i % 24))
        for d in dentistas:
            if len(filas) < n:
                filas.append(Cita(dentista_id=d, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30)))
        i += 1
    return [c.pk for c in Cita.objects.bulk_create(filas, batch_size=2000)]


def sesion_de(user):
    """A logged-in session as ``login()`` leaves it, plus a CSRF cookie and a masked token."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
    from django_otp import DEVICE_ID_SESSION_KEY

    from personal.models import Perfil
    from personal.segundo_factor import requiere_segundo_factor
    from pruebas.soporte import dispositivo_de_prueba

    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    # The backend a real login leaves: staff by username, patients by RUT or e-mail.
    es_personal = Perfil.objects.filter(user_id=user.pk).exists()
    s[BACKEND_SESSION_KEY] = ("cuentas.autenticacion.NombreDeUsuarioBackend" if es_personal
                              else "cuentas.autenticacion.RutOCorreoBackend")
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if requiere_segundo_factor(user):  # staff pages need a session verified with the second factor
        s[DEVICE_ID_SESSION_KEY] = dispositivo_de_prueba(user).persistent_id
    s.create()
    secreto = _get_new_csrf_string()
    return {"sesion": s.session_key, "csrf_cookie": secreto, "csrf_token": _mask_cipher_secret(secreto)}


# --- the server ------------------------------------------------------------------------------


def puerto_libre():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hijos_de(pid):
    hijos = []
    for entrada in os.listdir("/proc"):
        if entrada.isdigit():
            try:
                campos = Path(f"/proc/{entrada}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(campos[1]) == pid:
                hijos.append(int(entrada))
    return sorted(hijos)


def cpu_s(pids):
    """User + system CPU seconds of ``pids`` (from /proc; gone processes count 0)."""
    total = 0
    for pid in pids:
        try:
            campos = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(campos[11]) + int(campos[12])
    return total / os.sysconf("SC_CLK_TCK")


def pids_postgres():
    """Backends of the benchmark's database (the embedded server is shared with other work:
    its other processes are not counted). Empty with an external server."""
    nombre = f" {os.environ.get('CLINICA_DB_NAME', NOMBRE_BD)} ".encode()
    pids = []
    for entrada in os.listdir("/proc"):
        if entrada.isdigit():
            try:
                if Path(f"/proc/{entrada}/comm").read_bytes().strip() == b"postgres" and \
                        nombre in Path(f"/proc/{entrada}/cmdline").read_bytes():
                    pids.append(int(entrada))
            except OSError:
                continue
    return pids


def memoria_mb(pid, campo):
    try:
        for linea in Path(f"/proc/{pid}/status").read_text().splitlines():
            if linea.startswith(campo + ":"):
                return int(linea.split()[1]) / 1024
    except OSError:
        pass
    return None


class Servidor:
    """gunicorn with the benchmark settings, on 127.0.0.1."""

    def __init__(self, workers, puerto, entorno_extra, *, registro="bench-http-gunicorn.log", otros_pids=()):
        self.entorno_extra = entorno_extra
        self.registro = RAIZ / "var" / registro
        # Other server-side processes whose CPU counts (PgBouncer with --pooler).
        self.otros_pids = list(otros_pids)
        self.workers_n = workers
        self.puerto = puerto or puerto_libre()
        self.comando = [
            str(RAIZ / ".venv" / "bin" / "gunicorn"), "clinica.wsgi:application",
            "--bind", f"127.0.0.1:{self.puerto}", "--workers", str(workers), "--worker-class", "sync",
            "--backlog", "2048", "--timeout", "60", "--log-level", "warning",
        ]

    def __enter__(self):
        entorno = {**os.environ, "DJANGO_SETTINGS_MODULE": AJUSTES, **self.entorno_extra}
        self.log = open(self.registro, "w")
        self.proceso = subprocess.Popen(self.comando, cwd=RAIZ, env=entorno, stdout=self.log, stderr=subprocess.STDOUT)
        limite = time.monotonic() + 60
        while time.monotonic() < limite:
            if self.proceso.poll() is not None:
                raise SystemExit(f"gunicorn terminó con código {self.proceso.returncode}; vea {self.registro}")
            self.workers = hijos_de(self.proceso.pid)
            if len(self.workers) == self.workers_n:
                try:
                    with socket.create_connection(("127.0.0.1", self.puerto), timeout=1):
                        return self
                except OSError:
                    pass
            time.sleep(0.2)
        raise SystemExit("gunicorn no respondió en 60 s")

    def __exit__(self, *exc):
        self.proceso.send_signal(signal.SIGTERM)
        try:
            self.proceso.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proceso.kill()
        self.log.close()

    def memoria(self):
        """Peak (VmHWM) and current (VmRSS) MB of each worker."""
        return {pid: (memoria_mb(pid, "VmHWM"), memoria_mb(pid, "VmRSS")) for pid in self.workers}


# --- the load generator ----------------------------------------------------------------------


class Cliente:
    """Raw HTTP/1.1 over asyncio: the cheapest client Python offers, so the generator takes
    as little as possible of the CPU the server needs (they share the machine)."""

    def __init__(self, puerto):
        self.puerto = puerto
        self.host = f"127.0.0.1:{puerto}"

    def _cookies(self, sesion):
        if sesion is None:
            return ""
        return f"Cookie: sessionid={sesion['sesion']}; csrftoken={sesion['csrf_cookie']}\r\n"

    def get(self, ruta, sesion=None):
        return (f"GET {ruta} HTTP/1.1\r\nHost: {self.host}\r\nUser-Agent: bench-http\r\n"
                f"{self._cookies(sesion)}Connection: close\r\n\r\n").encode()

    def post(self, ruta, sesion, datos, *, con_token=True):
        campos = {"csrfmiddlewaretoken": sesion["csrf_token"], **datos} if con_token else dict(datos)
        cuerpo = urlencode(campos).encode()
        cabeza = (f"POST {ruta} HTTP/1.1\r\nHost: {self.host}\r\nUser-Agent: bench-http\r\n"
                  f"Origin: http://{self.host}\r\n{self._cookies(sesion)}"
                  f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(cuerpo)}\r\n"
                  f"Connection: close\r\n\r\n").encode()
        return cabeza + cuerpo

    async def enviar(self, peticion):
        """(status, latency s, response bytes)."""
        t0 = time.perf_counter()
        lector, escritor = await asyncio.open_connection("127.0.0.1", self.puerto)
        escritor.write(peticion)
        respuesta = await lector.read(-1)
        escritor.close()
        latencia = time.perf_counter() - t0
        try:
            estado = int(respuesta[9:12])
        except ValueError:
            estado = 0
        return estado, latencia, respuesta

    def una(self, peticion):
        return asyncio.run(self.enviar(peticion))


class Medicion:
    def __init__(self, nombre, resultados, segundos, cpu):
        self.nombre = nombre
        self.estados = Counter(e for e, _ in resultados)
        latencias = sorted(t for _, t in resultados)
        self.n = len(resultados)
        self.por_segundo = self.n / segundos if segundos else 0.0
        self.p50_ms = statistics.median(latencias) * 1000 if latencias else 0.0
        self.p95_ms = latencias[max(0, int(round(0.95 * len(latencias))) - 1)] * 1000 if latencias else 0.0
        self.segundos = segundos
        # CPU ms per request: gunicorn workers, PostgreSQL, the generator.
        self.cpu_ms = {k: v * 1000 / self.n if self.n else 0.0 for k, v in cpu.items()}

    @property
    def cinco_xx(self):
        return sum(n for e, n in self.estados.items() if e >= 500 or e == 0)


def _cpu_ahora(servidor):
    return {"web": cpu_s(servidor.workers), "pg": cpu_s(pids_postgres()), "gen": time.process_time(),
            "pooler": cpu_s(servidor.otros_pids)}


def _cpu_delta(antes, despues):
    return {k: despues[k] - antes[k] for k in antes}


def por_tiempo(cliente, servidor, nombre, fabrica, *, conexiones, calentamiento, duracion):
    """``conexiones`` loops send ``fabrica(n)`` back to back: ``calentamiento`` s unmeasured,
    then ``duracion`` s measured (requests started in the window)."""

    async def correr():
        resultados = []
        contador = [0]
        t_inicio = time.perf_counter()
        t_medir = t_inicio + calentamiento
        t_fin = t_medir + duracion
        cpu = {}

        async def bucle():
            while True:
                ahora = time.perf_counter()
                if ahora >= t_fin:
                    return
                contador[0] += 1
                estado, latencia, _ = await cliente.enviar(fabrica(contador[0]))
                if ahora >= t_medir:
                    resultados.append((estado, latencia))

        async def marcar():
            await asyncio.sleep(max(0.0, t_medir - time.perf_counter()))
            cpu["antes"] = _cpu_ahora(servidor)

        await asyncio.gather(marcar(), *(bucle() for _ in range(conexiones)))
        segundos = time.perf_counter() - t_medir
        return resultados, segundos, _cpu_delta(cpu["antes"], _cpu_ahora(servidor))

    resultados, segundos, cpu = asyncio.run(correr())
    return Medicion(nombre, resultados, segundos, cpu)


def por_lista(cliente, servidor, nombre, peticiones, *, conexiones):
    """Send every request of ``peticiones`` (in order, ``conexiones`` at a time); returns the
    measurement and each request's (status, body)."""

    async def correr():
        salidas = [None] * len(peticiones)
        siguiente = [0]

        async def bucle():
            while siguiente[0] < len(peticiones):
                i = siguiente[0]
                siguiente[0] += 1
                estado, latencia, respuesta = await cliente.enviar(peticiones[i])
                salidas[i] = (estado, latencia, respuesta)

        antes = _cpu_ahora(servidor)
        t0 = time.perf_counter()
        await asyncio.gather(*(bucle() for _ in range(conexiones)))
        return salidas, time.perf_counter() - t0, _cpu_delta(antes, _cpu_ahora(servidor))

    salidas, segundos, cpu = asyncio.run(correr())
    return Medicion(nombre, [(e, t) for e, t, _ in salidas], segundos, cpu), salidas


# --- the cases -------------------------------------------------------------------------------


def comprobar(cliente, peticion, estado_esperado, que):
    estado, _, respuesta = cliente.una(peticion)
    if estado != estado_esperado:
        raise SystemExit(f"{que}: se esperaba {estado_esperado} y llegó {estado}:\n{respuesta[:1500].decode(errors='replace')}")
    return respuesta


def medir_horas(cliente, servidor, comun, ruta_horas, ruta_cualquiera, visitante, *, sufijo=""):
    """The ``horas`` case: the one-dentist week and the "any dentist" week of the portal."""
    return {
        "horas": por_tiempo(cliente, servidor, f"portal: horas de un dentista-semana{sufijo}",
                            lambda n: cliente.get(ruta_horas, visitante), **comun),
        "cualquiera": por_tiempo(cliente, servidor, f"portal: horas de cualquier dentista, una semana{sufijo}",
                                 lambda n: cliente.get(ruta_cualquiera, visitante), **comun),
    }


def medir_reserva(cliente, servidor, args, carrera, rng, evaluacion, *, sufijo=""):
    """The ``reserva`` case: ``carrera``'s patients race for fresh slots of four new dentists
    (a warm-up round, a round to estimate how many fit in ``--duracion``, then those). Returns the
    measurement and its check in the database. A later block passes other patients: the same ones
    would collide with their own bookings of the block before (a patient's appointments may not
    overlap), and the race would turn into refusals."""
    rondas = args.rondas_max
    de_la_carrera = crear_dentistas_carrera()
    if evaluacion is not None:
        crear_prestaciones(de_la_carrera, solo=evaluacion)
    cuerpo = {"motivo": "control"} if evaluacion is None else {"motivo": "control", "prestacion": evaluacion}
    horas_reserva = crear_horas_carrera(de_la_carrera, (rondas + 1) * HORAS_POR_RONDA, desde_dia=1)
    sin_token = cliente.post(f"/portal/reservar/{horas_reserva[-1]}/", carrera[0], {**cuerpo, "motivo": ""},
                             con_token=False)
    comprobar(cliente, sin_token, 403, "POST sin token CSRF")
    calentar, medir = horas_reserva[:HORAS_POR_RONDA], horas_reserva[HORAS_POR_RONDA:]
    plan_cal = plan_de_carrera(calentar, carrera, rng)
    por_lista(cliente, servidor, "calentamiento", [
        cliente.post(f"/portal/reservar/{c}/", carrera[p], cuerpo) for p, c in plan_cal
    ], conexiones=args.conexiones)
    # Time-bounded: as many whole rounds as fit in --duracion (estimated from a first round).
    plan = plan_de_carrera(medir, carrera, rng)
    peticiones = [cliente.post(f"/portal/reservar/{c}/", carrera[p], cuerpo) for p, c in plan]
    prueba, _ = por_lista(cliente, servidor, "estimación", peticiones[: 4 * HORAS_POR_RONDA],
                          conexiones=args.conexiones)
    por_ronda = prueba.segundos
    n_rondas = max(1, min(rondas - 1, int(args.duracion / max(por_ronda, 1e-3))))
    plan = plan[4 * HORAS_POR_RONDA: 4 * HORAS_POR_RONDA * (n_rondas + 1)]
    peticiones = peticiones[4 * HORAS_POR_RONDA: 4 * HORAS_POR_RONDA * (n_rondas + 1)]
    m, salidas = por_lista(cliente, servidor, f"portal: reservar ({len(plan)} POST, 200 pacientes){sufijo}",
                           peticiones, conexiones=args.conexiones)
    return m, verificar_carrera(salidas, plan, carrera, 302)


def plan_de_carrera(horas, pacientes, rng):
    """Rounds of 50 slots; each round 200 different patients, 4 per slot, the 4 requests of one
    slot next to each other so they really race. Returns [(paciente_index, cita_id)]."""
    plan = []
    for r in range(0, len(horas) - HORAS_POR_RONDA + 1, HORAS_POR_RONDA):
        ronda = horas[r:r + HORAS_POR_RONDA]
        orden = list(range(len(pacientes)))
        rng.shuffle(orden)
        for j, cita_id in enumerate(ronda):
            for k in range(4):
                plan.append((orden[4 * j + k], cita_id))
    return plan


def verificar_carrera(salidas, plan, pacientes_carrera, estado_ganador):
    """Winners per slot from the HTTP answers and from the database: they must agree, one
    winner per slot at most, and no overlapping live appointments of a dentist."""
    from django.db import connection

    ganadores = Counter()
    ganador_de = {}
    for (estado, _, _), (p, cita_id) in zip(salidas, plan):
        if estado == estado_ganador:
            ganadores[cita_id] += 1
            ganador_de[cita_id] = pacientes_carrera[p]["cliente_id"]
    dobles_http = sum(1 for n in ganadores.values() if n > 1)
    ids = sorted({c for _, c in plan})
    with connection.cursor() as cur:
        cur.execute("SELECT id, cliente_id FROM citas_cita WHERE id = ANY(%s) AND estado <> 'disponible'", [ids])
        en_bd = dict(cur.fetchall())
        cur.execute("""
            SELECT count(*) FROM citas_cita a JOIN citas_cita b
              ON a.dentista_id = b.dentista_id AND a.id < b.id
             AND tstzrange(a.inicio, a.fin) && tstzrange(b.inicio, b.fin)
             WHERE a.estado <> 'cancelada' AND b.estado <> 'cancelada' AND a.id = ANY(%s)""", [ids])
        traslapes = cur.fetchone()[0]
    distintos = sum(1 for c, cl in ganador_de.items() if en_bd.get(c) != cl)
    sin_respuesta = sum(1 for c in en_bd if c not in ganador_de)
    return {"horas": len(ids), "ganadas": len(ganador_de), "dobles": dobles_http, "traslapes": traslapes,
            "inconsistencias": distintos + sin_respuesta}


def perfilar_pagina(ruta, user):
    from django.test import Client

    from pruebas.soporte import iniciar_sesion

    c = Client(HTTP_HOST="127.0.0.1")
    iniciar_sesion(c, user)
    for _ in range(10):
        c.get(ruta)
    perfil = cProfile.Profile()
    perfil.enable()
    for _ in range(50):
        c.get(ruta)
    perfil.disable()
    salida = io.StringIO()
    pstats.Stats(perfil, stream=salida).sort_stats("cumulative").print_stats(40)
    print(salida.getvalue())
    salida = io.StringIO()
    pstats.Stats(perfil, stream=salida).sort_stats("tottime").print_stats(25)
    print(salida.getvalue())


# --- through PgBouncer (--pooler, issue 18) -------------------------------------------------


def pgbouncer_o_salir():
    """The ``pgbouncer`` executable and its version, or exit 2 saying how to install it."""
    from pruebas.pgbouncer import buscar_pgbouncer, version_pgbouncer

    ejecutable = buscar_pgbouncer()
    if ejecutable is None:
        print(INSTALAR_PGBOUNCER, file=sys.stderr)
        sys.exit(2)
    return ejecutable, version_pgbouncer(ejecutable)


def ajuste_de_preparadas(version):
    """The best prepared-statement setting this PgBouncer supports: (its
    ``max_prepared_statements`` or None, the web's DJANGO_DB_PREPARAR, why)."""
    texto = ".".join(map(str, version))
    if version >= VERSION_PREPARADAS:
        return MAX_PREPARADAS_POOLER, "1", (
            f"PgBouncer {texto} ≥ 1.21: `max_prepared_statements = {MAX_PREPARADAS_POOLER}` y "
            "`DJANGO_DB_PREPARAR=1` (el pooler vuelve a preparar las sentencias de psycopg en la conexión "
            "del servidor que las ejecuta: las consultas de `nucleo.sql.cursor_preparado` siguen preparadas)")
    return None, "0", (
        f"PgBouncer {texto} < 1.21 no conoce `max_prepared_statements` y pierde las sentencias preparadas "
        "al cambiar de conexión del servidor: `DJANGO_DB_PREPARAR=0` (lo que `DJANGO_DB_POOLER=transaccion` "
        "pone por defecto); las consultas de `nucleo.sql.cursor_preparado` se planifican en cada petición")


def lineas_con_preparadas(registros):
    """Lines that mention a "prepared statement" (the error of a pooler that lost one) in these
    logs, given as [(name, text)]."""
    hallazgos = []
    for nombre, texto in registros:
        hallazgos += [f"{nombre}: {linea.strip()}" for linea in texto.splitlines() if "prepared statement" in linea.lower()]
    return hallazgos


def url_directa():
    """The embedded server's URL for bench_http, as ``DATABASE_URL_DIRECTA`` takes it: the host is
    the socket folder, percent-encoded (clinica/tests/test_produccion.py::_url_de_la_base)."""
    from urllib.parse import quote

    from clinica import postgres_embebido

    host, puerto = postgres_embebido.asegurar_servidor()
    return f"postgres://{quote(postgres_embebido.USUARIO, safe='')}@{quote(host, safe='')}:{puerto}/{NOMBRE_BD}"


def medir_con_pooler(args, *, extra, comun, rng, evaluacion, rutas, visitante, carreras, version):
    """The blocks of ``BLOQUES_POOLER`` after the first (the ordinary run): each a fresh gunicorn,
    straight to PostgreSQL or through one PgBouncer in transaction mode started here, measuring
    the ``horas`` and ``reserva`` cases. Returns (blocks, notes for the report, log lines that
    mention a prepared statement)."""
    import psycopg
    from django.db import connection

    from clinica import postgres_embebido
    from nucleo.pooler import conserva_preparadas, es_pooler_de_transacciones
    from pruebas.pgbouncer import PgBouncer

    max_preparadas, preparar, porque = ajuste_de_preparadas(version)
    host, puerto = postgres_embebido.asegurar_servidor()
    directa = url_directa()
    bloques, registros = [], []
    # On its Unix socket, as PostgreSQL is reached on the direct side: the comparison is of the pooler,
    # not of TCP against a socket (docs/produccion.md recommends a PgBouncer on each web host).
    pooler = PgBouncer(host=host, puerto=puerto, modo="transaction", max_prepared_statements=max_preparadas,
                       socket=True)
    try:
        with pooler:
            parametros = {**psycopg.conninfo.conninfo_to_dict(pooler.url(NOMBRE_BD)), "connect_timeout": 10}
            if not es_pooler_de_transacciones(parametros):
                raise SystemExit("la sonda no ve un pooler en modo transacción en PgBouncer: nada que comparar")
            preparadas = conserva_preparadas(parametros)
            notas = [
                f"PgBouncer {'.'.join(map(str, version))} (`{pooler.ejecutable}`), `pool_mode = transaction`, "
                f"`default_pool_size = {pooler.tam_pool}`, por su socket Unix ({pooler.carpeta}, puerto {pooler.puerto}; la directa también va por socket) delante del mismo "
                f"PostgreSQL (socket {host}, puerto {puerto}).",
                f"Sentencias preparadas: {porque}. Conexión directa: `DJANGO_DB_PREPARAR="
                f"{os.environ.get('DJANGO_DB_PREPARAR', '1 (por omisión)')}`.",
                "Sonda (`nucleo.pooler`): pooler en modo transacción confirmado; sentencias preparadas "
                f"{'conservadas' if preparadas.conservan else 'NO conservadas'} al cambiar de conexión del servidor"
                f"{' (' + preparadas.detalle + ')' if preparadas.detalle else ''}.",
            ]
            for nota in notas:
                print(nota)
            # The probe's own failed statement is not the web's: only what comes after it counts.
            desde = pooler.registro.stat().st_size if pooler.registro.exists() else 0
            entorno_pooler = {**extra, "DATABASE_URL": pooler.url(NOMBRE_BD), "DATABASE_URL_DIRECTA": directa,
                              "DJANGO_DB_POOLER": "transaccion", "DJANGO_DB_PREPARAR": preparar}
            numero = Counter({BLOQUES_POOLER[0]: 1})
            for i, conexion in enumerate(BLOQUES_POOLER[1:]):
                numero[conexion] += 1
                etiqueta = f"{'PgBouncer' if conexion == 'pooler' else 'directa'} {numero[conexion]}"
                es_pooler = conexion == "pooler"
                # The race before left thousands of new and updated rows: without this, autovacuum
                # and autoanalyze of citas_cita run during the next block's measurement (and
                # count as its PostgreSQL CPU). The first block measured its pages on a vacuumed
                # database too (setup ends with VACUUM ANALYZE).
                with connection.cursor() as cur:
                    cur.execute("VACUUM ANALYZE")
                with Servidor(args.workers, args.puerto, entorno_pooler if es_pooler else extra,
                              registro=f"bench-http-gunicorn-{conexion}-{numero[conexion]}.log",
                              otros_pids=[pooler.proceso.pid] if es_pooler else []) as servidor:
                    cliente = Cliente(servidor.puerto)
                    print(f"\n== {etiqueta}: gunicorn (workers {servidor.workers})"
                          f"{' con DATABASE_URL=' + pooler.url(NOMBRE_BD) if es_pooler else ''}")
                    comprobar(cliente, cliente.get(rutas["horas"], visitante), 200, f"página de horas ({etiqueta})")
                    bloque = {"etiqueta": etiqueta, "conexion": conexion, "medidas": {}, "verificacion": None}
                    if "horas" in args.casos:
                        bloque["medidas"].update(medir_horas(cliente, servidor, comun, rutas["horas"],
                                                             rutas["cualquiera"], visitante, sufijo=f" — {etiqueta}"))
                    if "reserva" in args.casos:
                        bloque["medidas"]["reserva"], bloque["verificacion"] = medir_reserva(
                            cliente, servidor, args, carreras[i], rng, evaluacion, sufijo=f" — {etiqueta}")
                    for m in bloque["medidas"].values():
                        print(f"   {m.nombre}: {m.por_segundo:.0f} pet/s, códigos {dict(sorted(m.estados.items()))}")
                bloques.append(bloque)
                registros.append((servidor.registro.name, servidor.registro.read_text(errors="replace")))
        texto_pooler = pooler.registro.read_text(errors="replace") if pooler.registro.exists() else ""
        # Kept for reading after the run (the pooler's own folder is removed).
        (RAIZ / "var" / "bench-http-pgbouncer.log").write_text(texto_pooler)
        registros.append(("pgbouncer.log", texto_pooler[desde:]))
    finally:
        pooler.limpiar()
    return bloques, notas, lineas_con_preparadas(registros)


def informe_pooler(primero, bloques, notas, preparadas_en_registros):
    """The --pooler part of the report: (text, failed, target missed)."""
    todos = [primero, *bloques]
    casos = [c for c in ("horas", "cualquiera", "reserva") if c in primero["medidas"]]
    nombres = {"horas": "Horas de un dentista-semana", "cualquiera": "Horas de cualquier dentista",
               "reserva": "Reserva bajo disputa (POST/s)"}
    lineas = ["| caso | bloque | pet/s | p50 ms | p95 ms | códigos | CPU web ms/pet | CPU pg ms/pet | "
              "CPU PgBouncer ms/pet |", "|---|---|---:|---:|---:|---|---:|---:|---:|"]
    for caso in casos:
        for b in todos:
            m = b["medidas"][caso]
            codigos = " ".join(f"{e}:{n}" for e, n in sorted(m.estados.items()))
            lineas.append(f"| {nombres[caso]} | {b['etiqueta']} | {m.por_segundo:.0f} | {m.p50_ms:.1f} | "
                          f"{m.p95_ms:.1f} | {codigos} | {m.cpu_ms['web']:.2f} | {m.cpu_ms['pg']:.2f} | "
                          f"{m.cpu_ms.get('pooler', 0.0):.2f} |")
    resumen = []
    fallas = no_meta = False
    # Pairs in the order they ran (ABBA): (directa 1, PgBouncer 1), (PgBouncer 2, directa 2).
    pares = [(todos[k], todos[k + 1]) for k in range(0, len(todos), 2)]
    for caso in casos:
        partes = []
        for a, b in pares:
            directo, pooler = (a, b) if a["conexion"] == "directa" else (b, a)
            r = pooler["medidas"][caso].por_segundo / directo["medidas"][caso].por_segundo
            partes.append(f"{a['etiqueta']} {a['medidas'][caso].por_segundo:.0f} → {b['etiqueta']} "
                          f"{b['medidas'][caso].por_segundo:.0f} pet/s ({r:.2f}×)")
        media = {c: statistics.mean(b["medidas"][caso].por_segundo for b in todos if b["conexion"] == c)
                 for c in ("directa", "pooler")}
        # Server CPU per request (gunicorn + PostgreSQL + PgBouncer), as razon_cpu: what the ratio
        # would be where only they run; steadier than requests/s when others load the machine.
        cpu = {c: statistics.mean(sum(b["medidas"][caso].cpu_ms.get(k, 0.0) for k in ("web", "pg", "pooler"))
                                  for b in todos if b["conexion"] == c) for c in ("directa", "pooler")}
        r = media["pooler"] / media["directa"]
        no_meta |= r < META_POOLER
        resumen.append(f"- {nombres[caso]}: " + "; ".join(partes) + f". Media PgBouncer / directa: **{r:.2f}×** "
                       f"(meta ≥ {META_POOLER}): {'cumple' if r >= META_POOLER else 'NO cumple'}; por CPU del "
                       f"servidor {cpu['directa'] / cpu['pooler']:.2f}× ({cpu['directa']:.2f} ms directa, "
                       f"{cpu['pooler']:.2f} ms con PgBouncer por petición).")
    for b in bloques:
        v = b["verificacion"]
        if v is not None:
            resumen.append(f"- Verificación reserva ({b['etiqueta']}): {v['horas']} horas, {v['ganadas']} ganadas, "
                           f"**doble reserva {v['dobles']}**, traslapes {v['traslapes']}, "
                           f"inconsistencias HTTP/BD {v['inconsistencias']}.")
            fallas |= bool(v["dobles"] or v["traslapes"] or v["inconsistencias"])
    cinco = sum(m.cinco_xx for b in bloques for m in b["medidas"].values())
    fallas |= bool(cinco)
    resumen.append(f"- Respuestas 5xx (o sin respuesta) en los bloques siguientes: **{cinco}**.")
    fallas |= bool(preparadas_en_registros)
    resumen.append(f"- «prepared statement» en los registros de PgBouncer y de gunicorn: "
                   f"**{len(preparadas_en_registros)} líneas**"
                   + (":\n" + "\n".join(f"  - `{linea[:300]}`" for linea in preparadas_en_registros[:10])
                      if preparadas_en_registros else "."))
    texto = ("### A través de PgBouncer (`--pooler`, issue 18)\n\n" + " ".join(notas) + " Bloques en este orden: "
             + ", ".join(b["etiqueta"] for b in todos) + " (directa 1 es la ejecución de arriba; cada bloque, un "
             "gunicorn nuevo con calentamiento; cada carrera, sus propios 200 pacientes y horas nuevas). "
             "El gunicorn de PgBouncer: `DATABASE_URL` = PgBouncer, `DATABASE_URL_DIRECTA` = el socket de "
             "PostgreSQL, `DJANGO_DB_POOLER=transaccion`.\n\n" + "\n".join(lineas) + "\n\n" + "\n".join(resumen) + "\n")
    return texto, fallas, no_meta


# --- report ----------------------------------------------------------------------------------


def maquina():
    modelo = "?"
    for linea in Path("/proc/cpuinfo").read_text().splitlines():
        if linea.startswith("model name"):
            modelo = linea.split(":", 1)[1].strip()
            break
    memoria = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    import django
    import gunicorn

    from django.db import connection

    return (f"{os.cpu_count()} núcleos ({modelo}), {memoria:.1f} GB de RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}, Django {django.get_version()}, gunicorn {gunicorn.__version__}, "
            f"PostgreSQL {connection.cursor().connection.info.server_version / 10000:.1f}"
            f"{' embebido' if not os.environ.get('DATABASE_URL') else ''}, carga al empezar "
            f"{Path('/proc/loadavg').read_text().split()[0]}")


def razon_cpu(m, techo):
    """Ceiling's server CPU (web + its database backends) per request over the case's: what the
    throughput ratio would be on a machine where only they run (robust to other load)."""
    caso = m.cpu_ms["web"] + m.cpu_ms["pg"]
    return (techo.cpu_ms["web"] + techo.cpu_ms["pg"]) / caso if caso else 0.0


def fila(m, techo=None):
    codigos = " ".join(f"{e}:{n}" for e, n in sorted(m.estados.items()))
    razon = f"{m.por_segundo / techo.por_segundo:.2f} | {razon_cpu(m, techo):.2f}" if techo else "1 | 1"
    return (f"| {m.nombre} | {m.por_segundo:.0f} | {m.p50_ms:.1f} | {m.p95_ms:.1f} | {codigos} | {razon} | "
            f"{m.cpu_ms['web']:.2f} | {m.cpu_ms['pg']:.2f} | {m.cpu_ms['gen']:.2f} |")


CABECERA = ("| caso | pet/s | p50 ms | p95 ms | códigos | razón pet/s | razón CPU | CPU web ms/pet | "
            "CPU pg (backends bench) ms/pet | CPU generador ms/pet |\n"
            "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")


def escribir(ruta, texto):
    archivo = RAIZ / ruta
    actual = archivo.read_text() if archivo.exists() else ""
    bloque = f"{MARCA_INICIO}\n{texto.rstrip()}\n{MARCA_FIN}"
    if MARCA_INICIO in actual and MARCA_FIN in actual:
        antes, resto = actual.split(MARCA_INICIO, 1)
        _, despues = resto.split(MARCA_FIN, 1)
        nuevo = antes + bloque + despues
    else:
        nuevo = actual.rstrip() + ("\n\n" if actual else "") + "## Última ejecución\n\n" + bloque + "\n"
    archivo.write_text(nuevo)


# --- main ------------------------------------------------------------------------------------


def esperar_turno():
    """One run at a time on this checkout: two would drop and fill the same database under
    each other. Held until the process ends."""
    import fcntl

    (RAIZ / "var").mkdir(exist_ok=True)
    cerrojo = open(RAIZ / "var" / "bench-http.lock", "w")  # noqa: SIM115 (kept open on purpose)
    try:
        fcntl.flock(cerrojo, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("Otra ejecución de bin/bench-http está en curso; esperando a que termine…", flush=True)
        fcntl.flock(cerrojo, fcntl.LOCK_EX)
    return cerrojo


def _terminar(senal, _marco):
    # SIGTERM as an exception, so the finally blocks stop gunicorn, PgBouncer and PostgreSQL.
    raise SystemExit(128 + senal)


def main(argv=None):
    """Run the benchmark; stop the embedded PostgreSQL at the end if this run started it (also on
    an error or Ctrl-C), as bin/test does. One that was already running is left running."""
    args = leer_argumentos(argv)
    pgbouncer = None
    if args.pooler:
        if os.environ.get("DATABASE_URL"):
            print("--pooler levanta PgBouncer delante del PostgreSQL embebido: no se usa con DATABASE_URL.",
                  file=sys.stderr)
            return 2
        pgbouncer = pgbouncer_o_salir()
    _cerrojo = esperar_turno()  # noqa: F841
    from clinica import postgres_embebido

    # After the turn: a run that held it may just have stopped the server it started.
    detener_al_final = not os.environ.get("DATABASE_URL") and not postgres_embebido.en_ejecucion()
    signal.signal(signal.SIGTERM, _terminar)
    try:
        return medir(args, argv, pgbouncer)
    finally:
        if detener_al_final:
            if "django.db" in sys.modules:
                from django.db import connections

                connections.close_all()
            postgres_embebido.detener()


def medir(args, argv, pgbouncer):
    comando = "bin/bench-http" + ("".join(" " + shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])))
    fecha = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    if pgbouncer:
        print(f"PgBouncer: {pgbouncer[0]}, versión {'.'.join(map(str, pgbouncer[1]))}")
    recrear_base(args)
    preparar_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from benchmarks.bench_reservas import crear_dentistas, crear_pacientes, vaciar_base
    from citas.models import Cita
    from personal.models import Rol
    from personal.services import crear_personal

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    if os.environ.get("DATABASE_URL"):
        vaciar_base()
    dentistas = crear_dentistas(args.dentistas)
    n_horas = crear_horas(dentistas, args.horas)
    limpieza, evaluacion = (None, None) if args.sin_prestacion else crear_prestaciones(dentistas)
    con_prestacion = {} if args.sin_prestacion else {"prestacion": limpieza}
    pacientes = crear_pacientes(args.pacientes)
    recepcion = crear_personal(actor=None, username="bench_recepcion", nombre="Recepción", apellido="Bench",
                               email="recepcion@bench.example", rol=Rol.RECEPCION)
    User = get_user_model()
    usuarios = User.objects.in_bulk([p.user_id for p in pacientes[: PACIENTES_CARRERA + 1]])
    visitante = sesion_de(usuarios[pacientes[PACIENTES_CARRERA].user_id])
    carrera = [{**sesion_de(usuarios[p.user_id]), "cliente_id": p.cliente_id} for p in pacientes[:PACIENTES_CARRERA]]
    # --pooler: the races of the later blocks, each with its own 200 patients (medir_reserva).
    carreras_pooler = []
    if args.pooler and "reserva" in args.casos:
        for k in range(len(BLOQUES_POOLER) - 1):
            grupo = pacientes[PACIENTES_CARRERA + 1 + k * PACIENTES_CARRERA:][:PACIENTES_CARRERA]
            de_ellos = User.objects.in_bulk([p.user_id for p in grupo])
            carreras_pooler.append([{**sesion_de(de_ellos[p.user_id]), "cliente_id": p.cliente_id} for p in grupo])
    sesion_recepcion = sesion_de(recepcion.user)
    ficha_cliente_id, dentista_ficha = crear_ficha_llena(pacientes[-1].cliente_id)
    sesion_dentista = sesion_de(dentista_ficha)
    cuenta_cliente_id = crear_cuenta_larga(pacientes[-2].cliente_id, recepcion) if "cuenta" in args.casos else None
    if "plan" in args.casos:
        crear_plan_lleno(ficha_cliente_id, dentista_ficha)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    futuras = Cita.objects.filter(inicio__gt=timezone.now()).count()
    print(f"Datos: {n_horas} horas libres futuras de {len(dentistas)} dentistas ({futuras} en citas_cita), "
          f"{len(pacientes)} pacientes con cuenta; {time.perf_counter() - t0:.1f} s de preparación")

    cita_desnuda = Cita.objects.order_by("pk").values_list("pk", flat=True)[n_horas // 2]
    ruta_horas = f"/portal/reservar/?{urlencode({**con_prestacion, 'dentista': dentistas[0], 'semana': args.semana})}"
    ruta_cualquiera = f"/portal/reservar/?{urlencode({**con_prestacion, 'dentista': '', 'semana': args.semana})}"
    ruta_desnuda = f"/bench/una-consulta/{cita_desnuda}/"
    ruta_desnuda_usuario = f"/bench/una-consulta-usuario/{cita_desnuda}/"
    dia_agenda = timezone.localdate() + datetime.timedelta(days=1)
    ruta_agenda = f"/gestion/agenda/?fecha={dia_agenda.isoformat()}"
    ruta_ficha = f"/gestion/pacientes/{ficha_cliente_id}/ficha/"
    ruta_cuenta = f"/gestion/pacientes/{cuenta_cliente_id}/estado-de-cuenta/"
    ruta_plan = f"/gestion/pacientes/{ficha_cliente_id}/ficha/plan/"
    costo_lectura = medir_registro_de_lecturas(dentista_ficha, ficha_cliente_id) if "ficha" in args.casos else None
    if args.perfil:
        perfilar_pagina(ruta_horas, usuarios[pacientes[PACIENTES_CARRERA].user_id])

    medidas = {}
    verificacion = None
    comun = {"conexiones": args.conexiones, "calentamiento": args.calentamiento, "duracion": args.duracion}
    rng = random.Random(20261128)
    extra = {}
    if args.sin_memo:
        extra["BENCH_MEMO_HORAS"] = "0"
    if args.quitar_middleware:
        extra["BENCH_QUITAR_MIDDLEWARE"] = args.quitar_middleware
    if args.ajustes:
        extra["BENCH_AJUSTES_JSON"] = json.dumps(args.ajustes)
    with Servidor(args.workers, args.puerto, extra) as servidor:
        cliente = Cliente(servidor.puerto)
        print(f"gunicorn: {' '.join(servidor.comando[1:])} (workers {servidor.workers}); "
              f"{args.conexiones} conexiones, {args.calentamiento:g} s + {args.duracion:g} s por caso\n")
        # Sanity checks: right pages, right content, CSRF enforced.
        comprobar(cliente, cliente.get(ruta_desnuda, visitante), 200, "vista desnuda")
        comprobar(cliente, cliente.get(ruta_desnuda_usuario, visitante), 200, "vista desnuda con sesión válida")
        pagina = comprobar(cliente, cliente.get(ruta_horas, visitante), 200, "página de horas").decode()
        botones = pagina.count(BOTON_HORA)
        print(f"Página de horas: {ruta_horas}: {botones} botones, {len(pagina) / 1024:.0f} KB")
        pagina_cualquiera = comprobar(cliente, cliente.get(ruta_cualquiera, visitante), 200, "cualquier dentista").decode()
        botones_cualquiera = pagina_cualquiera.count(BOTON_HORA)
        print(f"Cualquier dentista: {ruta_cualquiera}: {botones_cualquiera} botones, "
              f"{len(pagina_cualquiera) / 1024:.0f} KB")
        agenda = comprobar(cliente, cliente.get(ruta_agenda, sesion_recepcion), 200, "agenda").decode()
        print(f"Agenda: {ruta_agenda}: {len(agenda) / 1024:.0f} KB")
        if "ficha" in args.casos:
            ficha = comprobar(cliente, cliente.get(ruta_ficha, sesion_dentista), 200, "ficha clínica").decode()
            if "Evolución" not in ficha and "evolución" not in ficha:
                raise SystemExit("la ficha clínica no muestra sus evoluciones: ¿se perdió la sesión verificada?")
            if 'class="odontograma-mini"' not in ficha:
                raise SystemExit("la ficha clínica no muestra el odontograma")
            print(f"Ficha: {ruta_ficha}: {len(ficha) / 1024:.0f} KB")
        if "cuenta" in args.casos:
            cuenta = comprobar(cliente, cliente.get(ruta_cuenta, sesion_recepcion), 200, "estado de cuenta").decode()
            if f"({ITEMS_CUENTA})" not in cuenta or f"({PAGOS_CUENTA})" not in cuenta:
                raise SystemExit("el estado de cuenta no muestra sus cargos y pagos")
            print(f"Estado de cuenta: {ruta_cuenta}: {cuenta.count('<tr')} filas, {len(cuenta) / 1024:.0f} KB")
        if "plan" in args.casos:
            plan = comprobar(cliente, cliente.get(ruta_plan, sesion_dentista), 200, "plan de tratamiento").decode()
            if plan.count('class="item-plan') != ITEMS_PLAN:
                raise SystemExit(f"el plan no muestra sus {ITEMS_PLAN} ítems: ¿se perdió la sesión verificada?")
            print(f"Plan: {ruta_plan}: {len(plan) / 1024:.0f} KB")

        medidas["desnuda"] = por_tiempo(cliente, servidor, "desnuda: una consulta, anónima (techo)",
                                        lambda n: cliente.get(ruta_desnuda), **comun)
        medidas["desnuda_sesion"] = por_tiempo(cliente, servidor, "desnuda: una consulta + sesión y usuario (3 consultas)",
                                               lambda n: cliente.get(ruta_desnuda_usuario, visitante), **comun)
        if "horas" in args.casos:
            medidas.update(medir_horas(cliente, servidor, comun, ruta_horas, ruta_cualquiera, visitante))
        if "reserva" in args.casos:
            medidas["reserva"], verificacion = medir_reserva(cliente, servidor, args, carrera, rng, evaluacion)
            # The ceiling: the same number of POSTs, the same race, on fresh slots.
            n_post = medidas["reserva"].n
            horas_cas = crear_horas_carrera(crear_dentistas_carrera(), n_post // 4, desde_dia=40)
            ronda_cas = horas_cas[: n_post // 4]
            plan_cas = plan_de_carrera(ronda_cas, carrera, rng)
            m_cas, salidas_cas = por_lista(cliente, servidor, f"desnuda: compare-and-set ({len(plan_cas)} POST, techo)", [
                cliente.post(f"/bench/cas/{c}/", carrera[p], {"motivo": "control"}) for p, c in plan_cas
            ], conexiones=args.conexiones)
            medidas["cas"] = m_cas
            verificacion_cas = verificar_carrera(salidas_cas, plan_cas, carrera, 200)
        if "agenda" in args.casos:
            medidas["agenda"] = por_tiempo(cliente, servidor, "gestión: agenda del día (recepción)",
                                           lambda n: cliente.get(ruta_agenda, sesion_recepcion), **comun)
        if "ficha" in args.casos:
            from ficha.models import LecturaFicha

            antes_lecturas = LecturaFicha.objects.filter(cliente_id=ficha_cliente_id, seccion="ficha").count()
            medidas["ficha"] = por_tiempo(
                cliente, servidor, f"gestión: ficha clínica ({EVOLUCIONES_FICHA} evoluciones, {DOCUMENTOS_FICHA} documentos, "
                f"{VISITAS_ODONTOGRAMA * CAMBIOS_POR_VISITA} cambios del odontograma)",
                lambda n: cliente.get(ruta_ficha, sesion_dentista), **comun)
            lecturas_escritas = LecturaFicha.objects.filter(cliente_id=ficha_cliente_id, seccion="ficha").count() - antes_lecturas
        if "cuenta" in args.casos:
            medidas["cuenta"] = por_tiempo(
                cliente, servidor, f"gestión: estado de cuenta ({ITEMS_CUENTA} cargos, {PAGOS_CUENTA} pagos, recepción)",
                lambda n: cliente.get(ruta_cuenta, sesion_recepcion), **comun)
        if "plan" in args.casos:
            medidas["plan"] = por_tiempo(
                cliente, servidor, f"gestión: plan de tratamiento ({ITEMS_PLAN} ítems, hallazgos de diez años)",
                lambda n: cliente.get(ruta_plan, sesion_dentista), **comun)
        memoria = servidor.memoria()

    if args.pooler:
        primero = {"etiqueta": "directa 1", "conexion": BLOQUES_POOLER[0], "verificacion": verificacion,
                   "medidas": {c: medidas[c] for c in ("horas", "cualquiera", "reserva") if c in medidas}}
        bloques, notas, preparadas_en_registros = medir_con_pooler(
            args, extra=extra, comun=comun, rng=rng, evaluacion=evaluacion,
            rutas={"horas": ruta_horas, "cualquiera": ruta_cualquiera}, visitante=visitante,
            carreras=carreras_pooler, version=pgbouncer[1])
        preparadas_en_registros = lineas_con_preparadas(
            [(servidor.registro.name, servidor.registro.read_text(errors="replace"))]) + preparadas_en_registros
        texto_pooler, fallas_pooler, no_meta_pooler = informe_pooler(primero, bloques, notas, preparadas_en_registros)

    techo = medidas["desnuda"]
    lineas = [CABECERA, fila(techo), fila(medidas["desnuda_sesion"], techo)]
    if "horas" in medidas:
        lineas.append(fila(medidas["horas"], techo))
        lineas.append(fila(medidas["cualquiera"], techo))
    if "reserva" in medidas:
        lineas.append(fila(medidas["cas"]))
        lineas.append(fila(medidas["reserva"], medidas["cas"]))
    if "agenda" in medidas:
        lineas.append(fila(medidas["agenda"], techo))
    if "ficha" in medidas:
        lineas.append(fila(medidas["ficha"], techo))
    if "cuenta" in medidas:
        lineas.append(fila(medidas["cuenta"], techo))
    if "plan" in medidas:
        lineas.append(fila(medidas["plan"], techo))
    tabla = "\n".join(lineas)
    resumen = []
    fallas = False
    no_meta = False
    if "horas" in medidas:
        r = medidas["horas"].por_segundo / techo.por_segundo
        no_meta |= r < META_HORAS
        r_sesion = medidas["horas"].por_segundo / medidas["desnuda_sesion"].por_segundo
        resumen.append(f"- Página de horas ({botones} botones): **{r:.2f}×** la vista desnuda de una consulta "
                       f"(meta ≥ {META_HORAS}): {'cumple' if r >= META_HORAS else 'NO cumple'}; "
                       f"{r_sesion:.2f}× la misma vista cuando lee la sesión y el usuario. Por CPU del servidor: "
                       f"{razon_cpu(medidas['horas'], techo):.2f}× y "
                       f"{razon_cpu(medidas['horas'], medidas['desnuda_sesion']):.2f}×.")
        from cliente_web.views.reservas import HORAS_POR_DENTISTA

        r = medidas["cualquiera"].por_segundo / techo.por_segundo
        no_meta |= r < META_HORAS
        resumen.append(f"- Cualquier dentista ({botones_cualquiera} botones: las primeras "
                       f"{HORAS_POR_DENTISTA} de cada dentista y día, y «Más horas»): **{r:.2f}×** la vista "
                       f"desnuda (meta ≥ {META_HORAS}): {'cumple' if r >= META_HORAS else 'NO cumple'}.")
    if "reserva" in medidas:
        m = medidas["reserva"]
        r = m.por_segundo / medidas["cas"].por_segundo
        no_meta |= r < META_RESERVA
        ganadas_s = verificacion["ganadas"] / m.segundos
        resumen.append(f"- Reserva: {m.n} POST en {m.segundos:.1f} s = {m.por_segundo:.0f} intentos/s, "
                       f"**{ganadas_s:.0f} reservas/s**; **{r:.2f}×** el compare-and-set desnudo "
                       f"(meta ≥ {META_RESERVA}): {'cumple' if r >= META_RESERVA else 'NO cumple'}; "
                       f"por CPU del servidor {razon_cpu(m, medidas['cas']):.2f}×.")
        for nombre, v in (("reserva", verificacion), ("compare-and-set", verificacion_cas)):
            resumen.append(f"- Verificación {nombre}: {v['horas']} horas, {v['ganadas']} ganadas, "
                           f"**doble reserva {v['dobles']}**, traslapes {v['traslapes']}, "
                           f"inconsistencias HTTP/BD {v['inconsistencias']}.")
            fallas |= bool(v["dobles"] or v["traslapes"] or v["inconsistencias"])
    if "ficha" in medidas:
        m = medidas["ficha"]
        r = m.por_segundo / techo.por_segundo
        no_meta |= r < META_FICHA
        respondidas = m.estados.get(200, 0)
        fallas |= lecturas_escritas < respondidas
        resumen.append(f"- Ficha clínica ({EVOLUCIONES_FICHA} evoluciones firmadas, {DOCUMENTOS_FICHA} documentos), "
                       f"como su dentista con segundo factor: **{r:.2f}×** la vista desnuda (meta ≥ {META_FICHA}): "
                       f"{'cumple' if r >= META_FICHA else 'NO cumple'}; por CPU del servidor "
                       f"{razon_cpu(m, techo):.2f}×. Filas del registro de lecturas escritas: {lecturas_escritas} "
                       f"para {respondidas} respuestas 200 (y las del calentamiento).")
    if "cuenta" in medidas:
        from gestion_clinica.views.estado_cuenta import POR_PAGINA

        m = medidas["cuenta"]
        r = m.por_segundo / techo.por_segundo
        no_meta |= r < META_CUENTA
        resumen.append(f"- Estado de cuenta ({ITEMS_CUENTA} prestaciones realizadas, {PAGOS_CUENTA} pagos; "
                       f"{POR_PAGINA} filas por lista y página) como recepción: **{r:.2f}×** la vista desnuda "
                       f"(meta ≥ {META_CUENTA}): {'cumple' if r >= META_CUENTA else 'NO cumple'}; por CPU del "
                       f"servidor {razon_cpu(m, techo):.2f}×.")
    if "plan" in medidas:
        m = medidas["plan"]
        r = m.por_segundo / techo.por_segundo
        no_meta |= r < META_PLAN
        resumen.append(f"- Plan de tratamiento ({ITEMS_PLAN} ítems en 3 fases), como su dentista con segundo factor: "
                       f"**{r:.2f}×** la vista desnuda (meta ≥ {META_PLAN}): "
                       f"{'cumple' if r >= META_PLAN else 'NO cumple'}; por CPU del servidor {razon_cpu(m, techo):.2f}×.")
    if costo_lectura is not None:
        resumen.append(f"- Costo del registro de lecturas por petición (en proceso, {costo_lectura['n']} filas, "
                       f"cada una en su propia transacción como en una petición): **{costo_lectura['ms']:.2f} ms** "
                       f"de reloj por fila (mediana de {costo_lectura['tandas']} tandas).")
    cinco = sum(m.cinco_xx for m in medidas.values())
    fallas |= bool(cinco)
    resumen.append(f"- Respuestas 5xx (o sin respuesta): **{cinco}**.")
    picos = {pid: hwm for pid, (hwm, _) in memoria.items()}
    maximo = max((v for v in picos.values() if v is not None), default=0)
    no_meta |= maximo >= META_MEMORIA_MB
    resumen.append("- Memoria máxima (VmHWM) de cada worker: " + ", ".join(
        f"{pid}: {hwm:.0f} MB (RSS al final {rss:.0f} MB)" for pid, (hwm, rss) in memoria.items())
        + f" (meta < {META_MEMORIA_MB} MB).")

    texto = (f"Fecha: {fecha}. Comando: `{comando}`.\n\n"
             f"Máquina: {maquina()}.\n\n"
             f"Servidor: gunicorn, {args.workers} workers síncronos, `{AJUSTES}`; generador asyncio en 127.0.0.1 "
             f"con {args.conexiones} conexiones, en la misma máquina (compite por la CPU con el servidor y "
             f"PostgreSQL; las metas son razones medidas en la misma ejecución). "
             f"Datos: {n_horas} horas libres futuras, {len(pacientes)} pacientes."
             f"{' Memoria de la lista de horas APAGADA (--sin-memo).' if args.sin_memo else ''}"
             f"{' Middleware quitado: ' + args.quitar_middleware + '.' if args.quitar_middleware else ''}"
             f"{' Ajustes cambiados: ' + json.dumps(args.ajustes, ensure_ascii=False) + '.' if args.ajustes else ''}\n\n"
             f"{tabla}\n\n" + "\n".join(resumen) + "\n")
    if args.pooler:
        texto += "\n" + texto_pooler
        fallas |= fallas_pooler
        no_meta |= no_meta_pooler
    print(texto)
    if args.escribir:
        escribir(args.escribir, texto)
        print(f"(escrito en {args.escribir})")
    return 1 if fallas else 3 if no_meta else 0


def crear_ficha_llena(cliente_id):
    """A patient with a full record for the ``ficha`` case: their dentist (an attended
    appointment), the medical history, ``EVOLUCIONES_FICHA`` signed notes over ten years and
    ``DOCUMENTOS_FICHA`` documents (rows only: the page lists them, it does not read the files).
    Returns (patient id, the dentist's user)."""
    import uuid

    from django.utils import timezone

    from citas.models import Cita, EstadoCita
    from ficha.models import Antecedentes, Evolucion
    from pacientes.models import Cliente, ClienteDocumento
    from personal.models import Rol
    from personal.services import crear_personal

    dentista = crear_personal(actor=None, username="bench_ficha", nombre="Ficha", apellido="Bench",
                              email="ficha@bench.example", rol=Rol.DENTISTA)
    cliente = Cliente.objects.get(pk=cliente_id)
    ahora = timezone.now()
    inicio = ahora - datetime.timedelta(days=400)
    cita = Cita.objects.create(dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30),
                               estado=EstadoCita.ATENDIDA, cliente=cliente, paciente_nombre=cliente.nombre_completo,
                               reserva_uid=uuid.uuid4(), reservada_en=inicio - datetime.timedelta(days=2))
    Cliente.objects.filter(pk=cliente_id).update(alergias="Penicilina")
    Antecedentes.objects.filter(cliente_id=cliente_id).update(
        enfermedades="Hipertensión controlada", medicamentos="Losartán 50 mg", anticoagulantes=False)
    hoy = timezone.localdate()
    Evolucion.objects.bulk_create([
        Evolucion(cliente_id=cliente_id, dentista=dentista, cita=cita if i == 0 else None,
                  atendido_el=hoy - datetime.timedelta(days=18 * i), procedimiento=f"Control y limpieza {i}",
                  dientes=[16, 26], texto="Encías sanas. Se indica control en seis meses. " * 3,
                  firmada_en=ahora + datetime.timedelta(seconds=1))
        for i in range(EVOLUCIONES_FICHA)
    ])
    ClienteDocumento.objects.bulk_create([
        ClienteDocumento(cliente_id=cliente_id, titulo=f"Radiografía {i}", archivo=f"documentos/{cliente_id}/bench{i}.png",
                         nombre_original=f"rx{i}.png", tipo_contenido="image/png", tamano=120_000)
        for i in range(DOCUMENTOS_FICHA)
    ])
    _odontograma_de_diez_anos(cliente_id, dentista.user, ahora)
    return cliente_id, dentista.user


def crear_cuenta_larga(cliente_id, recepcion):
    """The ``cuenta`` case's patient: ``ITEMS_CUENTA`` done items over three years and
    ``PAGOS_CUENTA`` payments registered by ``recepcion`` (``pagos.tests.escena.cuenta_grande``)."""
    from pacientes.models import Cliente
    from pagos.tests.escena import cuenta_grande
    from personal.models import Rol
    from personal.services import crear_personal
    from prestaciones.models import Prestacion

    dentista = crear_personal(actor=None, username="bench_cuenta", nombre="Cuenta", apellido="Bench",
                              email="cuenta@bench.example", rol=Rol.DENTISTA)
    prestacion = Prestacion.objects.create(codigo="BENCH-OBT", nombre="Obturación resina", precio=25000,
                                           duracion_minutos=45)
    cuenta_grande(Cliente.objects.get(pk=cliente_id), dentista, recepcion.user, prestacion,
                  items=ITEMS_CUENTA, pagos=PAGOS_CUENTA)
    return cliente_id
def crear_plan_lleno(cliente_id, usuario):
    """The ``plan`` case: a plan of ``ITEMS_PLAN`` items by the patient's dentist over three
    phases, on teeth and surfaces, most proposed, some accepted, some done, some discounted."""
    from django.utils import timezone

    from prestaciones.models import Prestacion
    from tratamientos.models import EstadoItem, ItemPlan, PlanTratamiento

    prestaciones = [Prestacion.objects.create(codigo=f"BEN-{i:02d}", nombre=nombre, precio=precio, duracion_minutos=45,
                                              trata_hallazgo=hallazgo)
                    for i, (nombre, precio, hallazgo) in enumerate((
                        ("Obturación resina", 45_000, "caries"), ("Endodoncia", 180_000, "endodoncia"),
                        ("Corona", 350_000, "corona"), ("Exodoncia", 55_000, "extraccion")))]
    perfil = usuario.perfil_personal
    plan = PlanTratamiento.objects.create(cliente_id=cliente_id, dentista=perfil, titulo="Rehabilitación completa")
    ahora = timezone.now()
    dientes = [10 * c + d for c in (1, 2, 3, 4) for d in range(1, 9)]
    filas = []
    for i in range(ITEMS_PLAN):
        p = prestaciones[i % len(prestaciones)]
        estado = (EstadoItem.PROPUESTO, EstadoItem.PROPUESTO, EstadoItem.ACEPTADO, EstadoItem.REALIZADO)[i % 4]
        filas.append(ItemPlan(
            plan=plan, prestacion=p, diente=dientes[i % len(dientes)], superficie="O" if p.trata_hallazgo == "caries" else "",
            fase=1 + i % 3, orden=i, precio=p.precio, descuento=(i % 5) * 1000, estado=estado,
            aceptado_en=ahora if estado != EstadoItem.PROPUESTO else None,
            realizado_en=ahora if estado == EstadoItem.REALIZADO else None,
            realizado_por=perfil if estado == EstadoItem.REALIZADO else None))
    ItemPlan.objects.bulk_create(filas)


def _odontograma_de_diez_anos(cliente_id, usuario, ahora):
    """``VISITAS_ODONTOGRAMA`` visits over ten years, ``CAMBIOS_POR_VISITA`` changes each: a
    finding on a surface, the same surface done a visit later, now and then a whole-tooth mark
    and a removal, over the permanent teeth (and the deciduous ones in the first years)."""
    from ficha.models import DIENTES_PERMANENTES, DIENTES_TEMPORALES, MarcaOdontograma

    filas = []
    for visita in range(VISITAS_ODONTOGRAMA):
        cuando = ahora - datetime.timedelta(days=3650 * (VISITAS_ODONTOGRAMA - visita) / VISITAS_ODONTOGRAMA)
        dientes = DIENTES_TEMPORALES if visita < 20 else DIENTES_PERMANENTES
        for k in range(CAMBIOS_POR_VISITA):
            n = visita * CAMBIOS_POR_VISITA + k
            diente = dientes[(n * 7) % len(dientes)]
            if k == 4 and visita % 3 == 0:
                estado, cara = ("corona", "endodoncia", "ausente", "implante", "extraccion")[visita % 5], ""
            else:
                estado, cara = ("caries", "obturacion", "sellante", "fractura")[n % 4], "OMDVL"[n % 5]
            filas.append(MarcaOdontograma(
                cliente_id=cliente_id, registrado_por=usuario, registrado_en=cuando + datetime.timedelta(seconds=k),
                diente=diente, superficie=cara, estado=estado, condicion="realizado" if n % 3 == 0 else "hallazgo",
                vigente=n % 11 != 0, nota="Control" if k == 0 else ""))
    MarcaOdontograma.objects.bulk_create(filas)


def medir_registro_de_lecturas(usuario, cliente_id, *, n=400, tandas=5):
    """Wall-clock ms per read-log row as a request writes it: one INSERT in its own
    transaction (autocommit), through ``registrar_lectura``. Median of ``tandas`` batches."""
    from ficha.acceso import acceso_a_ficha
    from ficha.lecturas import registrar_lectura
    from ficha.models import Seccion

    acceso = acceso_a_ficha(usuario, cliente_id)
    medidas = []
    for _ in range(tandas):
        t0 = time.perf_counter()
        for _ in range(n // tandas):
            registrar_lectura(usuario=usuario, cliente_id=cliente_id, seccion=Seccion.ANTECEDENTES, acceso=acceso,
                              ip="127.0.0.1")
        medidas.append((time.perf_counter() - t0) * 1000 / (n // tandas))
    return {"ms": statistics.median(medidas), "n": n, "tandas": tandas}


_DENTISTAS_CARRERA = [0]


def crear_prestaciones(dentistas, *, solo=None):
    """The clinic offers prestaciones online (issue 17), so the portal books by prestación: a
    60-minute "Limpieza" (the slot page's case: only starts with 60 free minutes, 2 slots of 30)
    and a 30-minute "Evaluación" (the race's: one slot each, so the race and its check stay as
    they were), both done by ``dentistas``. Returns their ids; with ``solo``, only adds
    ``dentistas`` to that one."""
    from prestaciones.models import Prestacion, PrestacionDentista

    if solo is not None:
        PrestacionDentista.objects.bulk_create([PrestacionDentista(prestacion_id=solo, dentista_id=d) for d in dentistas])
        return solo
    limpieza = Prestacion.objects.create(codigo="LIMP", nombre="Limpieza", duracion_minutos=60, precio=25_000,
                                         reservable_en_linea=True)
    evaluacion = Prestacion.objects.create(codigo="EVAL", nombre="Evaluación", duracion_minutos=30, precio=15_000,
                                           reservable_en_linea=True)
    PrestacionDentista.objects.bulk_create([PrestacionDentista(prestacion=limpieza, dentista_id=d) for d in dentistas])
    return limpieza.pk, evaluacion.pk


def crear_dentistas_carrera(n=4):
    """Dentists only for the race (so its slots never overlap the 10,000 of the page)."""
    from personal.models import Rol
    from personal.services import crear_personal

    base = _DENTISTAS_CARRERA[0]
    _DENTISTAS_CARRERA[0] += n
    return [
        crear_personal(actor=None, username=f"bench_carrera_{base + d}", nombre="Carrera", apellido=f"Bench {base + d}",
                       email=f"carrera{base + d}@bench.example", rol=Rol.DENTISTA).pk
        for d in range(n)
    ]


if __name__ == "__main__":
    sys.exit(main())
