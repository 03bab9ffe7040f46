"""Benchmark de reservas: el servicio ``reservar_cita`` contra el compare-and-set de SQL pelado.

Un script, no una prueba. En una misma ejecución y sobre la misma base:

1. ``servicio``: N hilos (en uno o más procesos) se disputan S horas libres, cada hora pedida
   por K pacientes distintos, a través de ``citas.services.reservar_cita``.
2. ``sql``: la misma forma (S horas libres nuevas, mismos hilos, misma disputa), pero cada
   intento es una sola sentencia en autocommit:
   ``UPDATE citas_cita SET estado='reservada', ... WHERE id=%s AND estado='disponible'``.

Imprime reservas/s de ambas, su razón (meta: servicio >= 0,3 x sql) y ``doble_reserva``
(debe ser 0), verificado con SQL después de cada corrida.

Con ``--desglose``, una tercera corrida, ``sql_servicio``: las mismas sentencias que el servicio
(el texto de ``_RESERVAR_SQL``, el INSERT del aviso y el ``defer_jobs`` de procrastinate, en su
transacción) escritas a mano, sin ORM ni plantillas. ``sql_servicio/sql`` es el techo de la razón
con esas sentencias (casi sin Python); ``servicio/sql_servicio``, lo que cuestan Python y Django.

Usa su propia base ``clinica_bench`` (la crea, la migra y la VACÍA al empezar). Con
``DATABASE_URL`` usa esa base y exige ``--si-borrar``.

    bin/bench-reservas                          # 8 hilos en un proceso
    bin/bench-reservas --procesos 2             # 2 procesos x 4 hilos (sin un solo GIL)
    bin/bench-reservas --rondas 3               # corridas alternadas; razón = mediana
    bin/bench-reservas --desglose --perfil      # referencia a mano, idas y vueltas, cProfile

Además de reservas/s mide la CPU por reserva del lado Python y de los backends de PostgreSQL
(leída de /proc cuando la base corre en esta máquina).

Salida distinta de 0 si hubo doble reserva, inconsistencias o errores (1) o si la razón no llega a la
meta (3).
"""

import argparse
import collections
import contextlib
import copy
import cProfile
import datetime
import io
import logging
import multiprocessing
import os
import platform
import pstats
import random
import statistics
import sys
import threading
import time
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
NOMBRE_BD_BENCH = "clinica_bench"
META_RAZON = 0.3

RESERVA, RECHAZO, ERROR = 0, 1, 2

SQL_CAS = (
    "UPDATE citas_cita SET estado = 'reservada', cliente_id = %s, paciente_nombre = %s "
    "WHERE id = %s AND estado = 'disponible'"
)


# --- arguments and Django ---------------------------------------------------------------------


def leer_argumentos(argv=None):
    p = argparse.ArgumentParser(
        description="Compara reservas/s del servicio reservar_cita con el compare-and-set de SQL pelado."
    )
    p.add_argument("--hilos", type=int, default=8, help="hilos en total (repartidos entre los procesos); 8")
    p.add_argument("--procesos", type=int, default=1, help="procesos (cada uno con hilos/procesos hilos); 1")
    p.add_argument("--horas", type=int, default=2000, help="horas libres disputadas por corrida; 2000")
    p.add_argument("--contendientes", type=int, default=4, help="pacientes que piden cada hora; 4")
    p.add_argument("--pacientes", type=int, default=2000, help="pacientes con cuenta del portal; 2000")
    p.add_argument("--dentistas", type=int, default=4, help="dentistas; 4")
    p.add_argument("--rondas", type=int, default=1,
                   help="repetir las corridas alternadas N veces (razón = mediana); útil en una máquina ocupada")
    p.add_argument("--semilla", type=int, default=20261127, help="semilla del orden aleatorio")
    p.add_argument("--desglose", action="store_true",
                   help="además, una corrida de referencia 'sql_servicio': las mismas sentencias del servicio "
                        "(su mismo texto SQL) escritas a mano, sin ORM ni plantillas; servicio/sql_servicio "
                        "aísla el costo de Python y Django")
    p.add_argument("--perfil", action="store_true",
                   help="además: idas y vueltas por reserva, tiempo en SQL vs Python y cProfile (secuencial)")
    p.add_argument("--perfil-reservas", type=int, default=300, help="reservas secuenciales del perfil; 300")
    p.add_argument("--logs", action="store_true",
                   help="mostrar las líneas de log del servicio (por defecto se escriben a /dev/null)")
    p.add_argument("--si-borrar", action="store_true",
                   help="obligatorio con DATABASE_URL: confirma que se puede VACIAR esa base")
    args = p.parse_args(argv)
    if args.hilos < 1 or args.procesos < 1 or args.hilos % args.procesos:
        p.error("--hilos debe ser un múltiplo de --procesos (y ambos >= 1)")
    if not 1 <= args.contendientes <= args.pacientes:
        p.error("--contendientes debe estar entre 1 y --pacientes")
    if args.horas < 1 or args.dentistas < 1 or args.rondas < 1:
        p.error("--horas, --dentistas y --rondas deben ser >= 1")
    return args


def preparar_django(args):
    if os.environ.get("DATABASE_URL"):
        if not args.si_borrar:
            print(
                "DATABASE_URL está definida: este benchmark VACÍA (TRUNCATE) las tablas de esa base.\n"
                "Si es una base desechable, repita con --si-borrar.",
                file=sys.stderr,
            )
            sys.exit(2)
        print("AVISO: se usará DATABASE_URL y se VACIARÁN sus tablas (--si-borrar).", file=sys.stderr)
    else:
        # Its own database on the embedded server: never the development or the test database.
        os.environ["CLINICA_DB_NAME"] = NOMBRE_BD_BENCH
    if os.environ.get("DJANGO_DEBUG", "").strip().lower() in {"1", "true", "yes", "si", "sí"}:
        print("AVISO: DJANGO_DEBUG activo; se mide con DEBUG=False.", file=sys.stderr)
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory: not production
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinica.settings")
    # Its patients win slots round after round: the portal's cap (2 live bookings) would turn the
    # contest into refusals. The cap's work (the patient's row lock and the count) is still done.
    os.environ.setdefault("CLINICA_MAX_RESERVAS_PORTAL", "1000000")
    sys.path.insert(0, str(RAIZ))

    import django

    django.setup()
    if not args.logs:
        # The service still formats and writes its log line (a real cost), just not to the screen.
        nulo = open(os.devnull, "w")
        for manejador in logging.getLogger().handlers:
            if isinstance(manejador, logging.StreamHandler):
                manejador.setStream(nulo)


# --- database setup (not timed) ---------------------------------------------------------------


def vaciar_base():
    """TRUNCATE the clinic's tables, the audit trail and the job queue, so every run starts equal."""
    from django.apps import apps
    from django.db import connection

    existentes = set(connection.introspection.table_names())
    tablas = {"auth_user", "pghistory_context", "procrastinate_jobs", "procrastinate_events",
              "procrastinate_periodic_defers"}
    for etiqueta in ("pacientes", "cuentas", "personal", "prestaciones", "citas", "notificaciones"):
        for modelo in apps.get_app_config(etiqueta).get_models(include_auto_created=True):
            tablas.add(modelo._meta.db_table)  # includes the pghistory *event tables
    tablas &= existentes
    with connection.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in sorted(tablas))
                    + " RESTART IDENTITY CASCADE")
    return sorted(tablas)


def crear_dentistas(n):
    from personal.models import Rol
    from personal.services import crear_personal

    return [
        crear_personal(
            actor=None, username=f"bench_dentista_{d}", nombre="Dentista", apellido=f"Bench {d}",
            email=f"dentista{d}@bench.example", rol=Rol.DENTISTA, especialidad="General",
        ).pk
        for d in range(n)
    ]


class Agenda:
    """Hands out back-to-back 30-minute future slots per dentist, never overlapping."""

    def __init__(self, dentistas):
        from django.utils import timezone

        mañana = (timezone.now() + datetime.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        self.inicio = mañana
        self.dentistas = dentistas
        self.siguiente = {d: 0 for d in dentistas}

    def crear(self, n):
        from citas.models import Cita

        filas = []
        for i in range(n):
            d = self.dentistas[i % len(self.dentistas)]
            inicio = self.inicio + datetime.timedelta(minutes=30 * self.siguiente[d])
            self.siguiente[d] += 1
            filas.append(Cita(dentista_id=d, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30)))
        return [c.pk for c in Cita.objects.bulk_create(filas, batch_size=1000)]


class Paciente(collections.namedtuple("Paciente", "cliente_id user_id nombre")):
    __slots__ = ()


def crear_pacientes(n):
    """Portal patients (User + PerfilCliente + Cliente) in bulk: no password hashing in setup."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from stdnum.cl import rut

    from cuentas.models import PerfilCliente

    from pacientes.models import Cliente

    User = get_user_model()
    ahora = timezone.now()
    usuarios = User.objects.bulk_create(
        [
            User(username=f"bench_paciente_{i}", email=f"paciente{i}@bench.example", first_name="Paciente",
                 last_name=f"Bench {i}", password=make_password(None))
            for i in range(n)
        ],
        batch_size=1000,
    )
    PerfilCliente.objects.bulk_create(
        [PerfilCliente(user=u, privacidad_aceptada_en=ahora) for u in usuarios],
        batch_size=1000,
    )
    clientes = []
    for i, u in enumerate(usuarios):
        numero = str(10_000_000 + i)
        clientes.append(
            Cliente(
                nombre_completo=f"Paciente Bench {i}", email=u.email, telefono=f"+5696{1_000_000 + i:07d}",
                rut=f"{numero}-{rut.calc_check_digit(numero)}", user=u,
            )
        )
    clientes = Cliente.objects.bulk_create(clientes, batch_size=1000)
    return [Paciente(c.pk, c.user_id, c.nombre_completo) for c in clientes]


def planificar(horas, pacientes, contendientes, rng):
    """Slots in random order; each one's K attempts (by K different patients) are consecutive
    in the shared work list, so K threads pick them up at the same moment and really race."""
    orden = list(horas)
    rng.shuffle(orden)
    return [(h, p) for h in orden for p in rng.sample(pacientes, contendientes)]


# --- one attempt ------------------------------------------------------------------------------

# Set before fork; the children inherit them (fork does not pickle).
_USUARIOS = {}
_SERVIDOR_LOCAL = False  # the backends' CPU is read from /proc only when PostgreSQL runs here


def _intento_servicio(cita_id, paciente, _cursor):
    from django.core.exceptions import ValidationError

    from citas.services import reservar_cita

    # A fresh copy per attempt, like request.user in a web request: no caches carried over.
    user = copy.copy(_USUARIOS[paciente.user_id])
    try:
        reservar_cita(user=user, cita_id=cita_id, motivo="Control")
        return RESERVA, None
    except ValidationError as exc:
        # Taken, or the same patient already won another slot at that time (issue 14's
        # cita_sin_traslape_por_paciente: the dentists' slots share their times): a refusal.
        if getattr(exc, "code", None) in ("hora_no_disponible", "paciente_ocupado"):
            return RECHAZO, None
        return ERROR, f"ValidationError({getattr(exc, 'code', None)}): {exc}"


def _es_paciente_ocupado(exc):
    return getattr(getattr(exc.__cause__ or exc, "diag", None), "constraint_name", None) == "cita_sin_traslape_por_paciente"


def _intento_sql(cita_id, paciente, cursor):
    from django.db import IntegrityError

    try:
        cursor.execute(SQL_CAS, [paciente.cliente_id, paciente.nombre, cita_id])
    except IntegrityError as exc:  # autocommit: nothing to roll back
        if _es_paciente_ocupado(exc):
            return RECHAZO, None
        raise
    return (RESERVA if cursor.rowcount == 1 else RECHAZO), None


# The hand-written reference replays the service's own SQL text (imported, so it cannot drift),
# with pghistory's audit context prepended by hand the way its execute wrapper does it.
_CONTEXTO_PGHISTORY = (
    "SELECT set_config('pghistory.context_id', %(pghistory__context_id)s, true), "
    "set_config('pghistory.context_metadata', %(pghistory__context_metadata)s, true); "
)
# The notification's row as ``Notificacion.objects.bulk_create`` inserts it.
_INSERTAR_AVISO_SQL = (
    'INSERT INTO "notificaciones_notificacion" ("creado", "actualizado", "cliente_id", "cita_id", "canal", '
    '"plantilla", "destinatario", "asunto", "cuerpo", "variables", "estado", "intentos", "ultimo_error", '
    '"proveedor_id", "clave_idempotencia", "enviada_en") VALUES (%(ahora)s, %(ahora)s, %(cliente_id)s, '
    "%(cita_id)s, %(canal)s, %(plantilla)s, %(destinatario)s, %(asunto)s, %(cuerpo)s, %(variables)s, 'pendiente', "
    "0, '', '', %(clave)s, NULL) RETURNING \"notificaciones_notificacion\".\"id\""
)
# A fixed text of about the length of the rendered e-mail (templates are the service's cost).
_CUERPO = (
    "Hola {nombre}:\n\nSu hora quedó reservada:\n\n  Fecha:    {fecha}\n  Hora:     {hora}\n"
    "  Dentista: {dentista}\n\nPuede ver, confirmar o cancelar su hora en http://127.0.0.1:8000\n"
    "Si no puede asistir, avísenos con anticipación para dejar la hora a otro paciente."
)


def _intento_sql_servicio(cita_id, paciente, cursor):
    """The service's statements, issued by hand: what the database alone costs.

    Same round trips, SQL text and rows as reservar_cita: BEGIN, the patient's row lock
    (``_BLOQUEAR_PACIENTE_SQL``, the portal's cap), ``_RESERVAR_SQL`` (patient +
    compare-and-set + snapshot and dentist), the notification's INSERT (what ``bulk_create``
    sends), procrastinate's ``defer_jobs`` query (what ``batch_defer`` sends), COMMIT; a
    rejection is BEGIN, the lock, ``_RESERVAR_SQL``, ROLLBACK. The same triggers fire; the ORM, the
    templates, procrastinate's Python, the log line and the rest of the Python do not run."""
    import json
    import uuid

    from django.db.backends.postgresql.psycopg_any import Jsonb
    from django.utils import timezone
    from procrastinate.sql import queries

    from citas import reglas
    from django.conf import settings

    from citas.services import _BLOQUEAR_PACIENTE_SQL, _RESERVAR_SQL

    ahora = timezone.now()
    contexto = {
        "pghistory__context_id": str(uuid.uuid4()),
        "pghistory__context_metadata": json.dumps({"servicio": "reservar_cita", "user": paciente.user_id}),
    }
    cursor.execute("BEGIN")
    try:
        cursor.execute(_BLOQUEAR_PACIENTE_SQL, [paciente.user_id])
        cursor.execute(_CONTEXTO_PGHISTORY + _RESERVAR_SQL, {
            **contexto, "user_id": paciente.user_id, "cita_id": cita_id, "motivo": "Control", "ahora": ahora,
            "inicio_minimo": reglas.inicio_minimo_para_reservar(ahora), "reservada": "reservada",
            "disponible": "disponible", "max_reservas": settings.CLINICA_MAX_RESERVAS_PORTAL,
        })
        cursor.nextset()
        fila = cursor.fetchone()
        if fila is None:
            raise RuntimeError(f"el usuario {paciente.user_id} no tiene paciente activo")
        fila = dict(zip([c.name for c in cursor.description], fila, strict=True))
        cliente_id, nombre, email, tomada_id, inicio, d_nombre, d_apellido = (
            fila["cliente_id"], fila["paciente_nombre"], fila["paciente_email"], fila["id"], fila["inicio"],
            fila["dentista_nombre"], fila["dentista_apellido"],
        )
        if tomada_id is None:
            cursor.execute("ROLLBACK")
            return RECHAZO, None
        fecha, hora = f"{inicio:%d-%m-%Y}", f"{inicio:%H:%M}"
        cursor.execute(_CONTEXTO_PGHISTORY + _INSERTAR_AVISO_SQL, {
            **contexto, "ahora": ahora, "cliente_id": cliente_id, "cita_id": cita_id, "canal": "email",
            "plantilla": "reserva_confirmada", "destinatario": email,
            "asunto": f"Clínica Dental Sonrisa: su hora del {fecha} a las {hora}",
            "cuerpo": _CUERPO.format(nombre=nombre, fecha=fecha, hora=hora, dentista=f"{d_nombre} {d_apellido}"),
            "variables": Jsonb([]), "clave": f"reserva_confirmada:{cita_id}:{ahora.isoformat()}:email",
        })
        cursor.nextset()
        [(notificacion_id,)] = cursor.fetchall()
        # procrastinate's procrastinate_job_to_defer_v1: queue, task, priority, lock, queueing lock, args, when.
        trabajo = ("notificaciones", "notificaciones.enviar", 0, None, None,
                   Jsonb({"notificacion_id": notificacion_id}), None)
        cursor.execute(_CONTEXTO_PGHISTORY + queries["defer_jobs"], {**contexto, "jobs": [trabajo]})
        cursor.nextset()
        cursor.fetchall()
        cursor.execute("COMMIT")
        return RESERVA, None
    except BaseException as exc:
        cursor.execute("ROLLBACK")
        if _es_paciente_ocupado(exc):
            return RECHAZO, None
        raise


INTENTOS = {
    "servicio": _intento_servicio,
    "sql": _intento_sql,
    "sql_servicio": _intento_sql_servicio,
}


# --- workers ----------------------------------------------------------------------------------


def _cpu_de_proceso(pid):
    """CPU seconds (user + system) of a local PostgreSQL backend, or None (a remote database)."""
    if not _SERVIDOR_LOCAL:
        return None
    try:
        if not Path(f"/proc/{pid}/comm").read_text().startswith("postgres"):
            return None
        campos = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(campos[11]) + int(campos[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _hilo(tipo, plan, contador, barrera, calentamiento, salida, errores, cpu_servidor):
    from django.db import connection

    intentar = INTENTOS[tipo]
    cursor = None
    try:
        connection.ensure_connection()
        cursor = connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pid_backend = cursor.fetchone()[0]
        # Warm-up outside the clock: connection, templates, code paths. Its slot is not disputed.
        cita_id, paciente = calentamiento
        t0 = time.perf_counter()
        resultado, _ = intentar(cita_id, paciente, cursor)
        salida.append((cita_id, paciente.cliente_id, resultado, t0, time.perf_counter(), True))
        barrera.wait()
        cpu_inicio = _cpu_de_proceso(pid_backend)
        while True:
            with contador.get_lock():
                i = contador.value
                contador.value = i + 1
            if i >= len(plan):
                break
            cita_id, paciente = plan[i]
            t0 = time.perf_counter()
            try:
                resultado, detalle = intentar(cita_id, paciente, cursor)
            except Exception as exc:  # counted and shown, never hidden
                resultado, detalle = ERROR, f"{type(exc).__name__}: {exc}"
            salida.append((cita_id, paciente.cliente_id, resultado, t0, time.perf_counter(), False))
            if detalle:
                errores.append(detalle)
        cpu_fin = _cpu_de_proceso(pid_backend)
        if cpu_inicio is not None and cpu_fin is not None:
            cpu_servidor.append(cpu_fin - cpu_inicio)
    except threading.BrokenBarrierError:
        pass
    except Exception as exc:
        errores.append(f"hilo abortado: {type(exc).__name__}: {exc}")
        barrera.abort()
    finally:
        if cursor is not None:
            cursor.close()
        connection.close()


def _proceso(tipo, plan, contador, barrera, calentamientos, cola):
    """One OS process with its own threads, each with its own Django connection."""
    salidas, errores, cpu_servidor = [], [], []
    hilos = []
    for cal in calentamientos:
        salida = []
        salidas.append(salida)
        hilos.append(threading.Thread(
            target=_hilo, args=(tipo, plan, contador, barrera, cal, salida, errores, cpu_servidor)
        ))
    for h in hilos:
        h.start()
    cpu_cliente = None
    try:
        barrera.wait()  # this process's CPU is counted from the start signal on
        inicio = time.process_time()
    except threading.BrokenBarrierError:
        inicio = None
    for h in hilos:
        h.join()
    if inicio is not None:
        cpu_cliente = time.process_time() - inicio
    cola.put(([r for s in salidas for r in s], errores, cpu_cliente,
              sum(cpu_servidor) if len(cpu_servidor) == len(hilos) else None))


def correr(tipo, plan, calentamientos, args):
    """Run one measured race in ``args.procesos`` forked processes.

    Returns (results, errors, t0, CPU seconds of the client processes, CPU seconds of their
    PostgreSQL backends or None)."""
    from django.db import connections

    connections.close_all()  # never share a libpq connection across fork
    ctx = multiprocessing.get_context("fork")
    contador = ctx.Value("q", 0)
    barrera = ctx.Barrier(args.hilos + args.procesos + 1, timeout=300)
    cola = ctx.Queue()
    por_proceso = args.hilos // args.procesos
    procesos = [
        ctx.Process(
            target=_proceso,
            args=(tipo, plan, contador, barrera, calentamientos[p * por_proceso:(p + 1) * por_proceso], cola),
        )
        for p in range(args.procesos)
    ]
    for pr in procesos:
        pr.start()
    try:
        barrera.wait()
    except threading.BrokenBarrierError:
        pass
    t0 = time.perf_counter()
    resultados, errores, cpu_cliente, cpu_servidor = [], [], 0.0, 0.0
    for _ in procesos:
        r, e, cc, cs = cola.get(timeout=3600)
        resultados.extend(r)
        errores.extend(e)
        cpu_cliente = None if cc is None or cpu_cliente is None else cpu_cliente + cc
        cpu_servidor = None if cs is None or cpu_servidor is None else cpu_servidor + cs
    for pr in procesos:
        pr.join()
        if pr.exitcode != 0:
            errores.append(f"proceso terminó con código {pr.exitcode}")
    return resultados, errores, t0, cpu_cliente, cpu_servidor


# --- verification -----------------------------------------------------------------------------


def verificar(tipo, horas, resultados):
    """Check with SQL that every slot has at most one winner and the database agrees with the
    results. Returns (doble_reserva, inconsistencias: dict)."""
    from django.db import connection

    ganadores = collections.defaultdict(list)
    for cita_id, cliente_id, resultado, *_ in resultados:
        if resultado == RESERVA:
            ganadores[cita_id].append(cliente_id)
    horas_con_varios = {cita_id for cita_id, g in ganadores.items() if len(g) > 1}
    exitos = sum(len(g) for g in ganadores.values())
    problemas = {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, cliente_id FROM citas_cita WHERE id = ANY(%s) AND estado = 'reservada'", [list(horas)]
        )
        en_bd = dict(cur.fetchall())
        problemas["reservadas_en_bd_distinto_de_exitos"] = abs(len(en_bd) - exitos)
        problemas["ganador_distinto_en_bd"] = sum(
            1 for cita_id, g in ganadores.items() if len(g) == 1 and en_bd.get(cita_id) != g[0]
        )
        # The audit trail (database triggers, also for raw SQL) shows every write that booked a slot:
        # a slot taken twice, even if overwritten later, has two such events.
        cur.execute(
            "SELECT pgh_obj_id FROM citas_citaevent WHERE pgh_obj_id = ANY(%s) "
            "AND pgh_label = 'update' AND estado = 'reservada' GROUP BY pgh_obj_id "
            "HAVING count(*) > 1 OR count(DISTINCT cliente_id) > 1",
            [list(horas)],
        )
        reservada_dos_veces_auditoria = {int(fila[0]) for fila in cur.fetchall()}
        cur.execute(
            "SELECT count(*) FROM citas_citaevent WHERE pgh_obj_id = ANY(%s) AND pgh_label = 'update' "
            "AND estado = 'reservada'",
            [list(horas)],
        )
        problemas["eventos_auditoria_distinto_de_exitos"] = abs(cur.fetchone()[0] - exitos)
        # Invariant 3 on the whole table: no overlapping live appointments per dentist.
        cur.execute(
            "SELECT count(*) FROM (SELECT inicio, max(fin) OVER (PARTITION BY dentista_id ORDER BY inicio, id "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS fin_previo FROM citas_cita "
            "WHERE estado <> 'cancelada') x WHERE fin_previo > inicio"
        )
        traslapes = cur.fetchone()[0]
        if tipo in ("servicio", "sql_servicio"):
            cur.execute(
                "SELECT count(*), count(DISTINCT cita_id), coalesce(array_agg(id), '{}') "
                "FROM notificaciones_notificacion WHERE cita_id = ANY(%s) AND plantilla = 'reserva_confirmada'",
                [list(horas)],
            )
            n_notif, n_citas_notif, ids_notif = cur.fetchone()
            problemas["notificaciones_distinto_de_exitos"] = abs(n_notif - exitos)
            problemas["hora_con_dos_confirmaciones"] = n_notif - n_citas_notif
            cur.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'notificaciones.enviar' "
                "AND (args->>'notificacion_id')::bigint = ANY(%s)",
                [ids_notif],
            )
            problemas["trabajos_distinto_de_notificaciones"] = abs(cur.fetchone()[0] - n_notif)
    # Distinct slots booked twice by any evidence, plus overlapping live appointments.
    doble = len(horas_con_varios | reservada_dos_veces_auditoria) + traslapes
    detalle = {
        "varios_ganadores": len(horas_con_varios),
        "dos_reservas_en_auditoria": len(reservada_dos_veces_auditoria),
        "traslapes": traslapes,
    }
    return doble, detalle, problemas


# --- statistics and printing ------------------------------------------------------------------


def percentil(valores, q):
    if not valores:
        return float("nan")
    valores = sorted(valores)
    k = (len(valores) - 1) * q
    i = int(k)
    j = min(i + 1, len(valores) - 1)
    return valores[i] + (valores[j] - valores[i]) * (k - i)


def resumir(nombre, resultados, t0, args):
    medidos = [r for r in resultados if not r[5]]
    cuenta = collections.Counter(r[2] for r in medidos)
    fin = max((r[4] for r in medidos), default=t0)
    segundos = max(fin - t0, 1e-9)
    latencias = [(r[4] - r[3]) * 1000 for r in medidos]
    # Real races: slots where at least two attempts were in flight at the same time.
    por_hora = collections.defaultdict(list)
    for r in medidos:
        por_hora[r[0]].append((r[3], r[4]))
    simultaneas = 0
    for intervalos in por_hora.values():
        intervalos.sort()
        fin_max = intervalos[0][1]
        for ini, f in intervalos[1:]:
            if ini < fin_max:
                simultaneas += 1
                break
            fin_max = max(fin_max, f)
    return {
        "corrida": nombre,
        "procesos": args.procesos,
        "hilos": args.hilos,
        "intentos": len(medidos),
        "reservas": cuenta[RESERVA],
        "rechazos": cuenta[RECHAZO],
        "errores": cuenta[ERROR],
        "segundos": segundos,
        "reservas_s": cuenta[RESERVA] / segundos,
        "intentos_s": len(medidos) / segundos,
        "p50": percentil(latencias, 0.5),
        "p95": percentil(latencias, 0.95),
        "simultaneas": simultaneas,
        "horas": len(por_hora),
    }


def imprimir_tabla(filas):
    columnas = [
        ("corrida", "corrida", "{}"), ("procesos", "procesos", "{}"), ("hilos", "hilos", "{}"),
        ("intentos", "intentos", "{}"), ("reservas", "reservas", "{}"), ("rechazos", "rechazos", "{}"),
        ("errores", "errores", "{}"), ("segundos", "segundos", "{:.3f}"), ("reservas_s", "reservas/s", "{:.0f}"),
        ("intentos_s", "intentos/s", "{:.0f}"), ("p50", "p50 ms", "{:.2f}"), ("p95", "p95 ms", "{:.2f}"),
        ("cpu_py", "cpu py ms", "{:.2f}"), ("cpu_pg", "cpu pg ms", "{:.2f}"),
    ]
    celdas = [[t for _, t, _ in columnas]] + [[f.format(fila[c]) for c, _, f in columnas] for fila in filas]
    anchos = [max(len(c[i]) for c in celdas) for i in range(len(columnas))]
    for n, fila in enumerate(celdas):
        print("  ".join(v.rjust(a) if i else v.ljust(a) for i, (v, a) in enumerate(zip(fila, anchos))))
        if n == 0:
            print("  ".join("-" * a for a in anchos))


def describir_maquina():
    from django.db import connection
    import django

    modelo = "?"
    try:
        for linea in Path("/proc/cpuinfo").read_text().splitlines():
            if linea.startswith("model name"):
                modelo = linea.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        version_pg = cur.fetchone()[0]
        ajustes = {}
        for nombre in ("synchronous_commit", "fsync", "shared_buffers", "max_connections"):
            cur.execute(f"SHOW {nombre}")
            ajustes[nombre] = cur.fetchone()[0]
    ajustes_txt = " ".join(f"{k}={v}" for k, v in ajustes.items())
    bd = connection.settings_dict
    return [
        f"máquina: nproc={os.cpu_count()} cpu={modelo!r} {platform.system()} {platform.release()}",
        f"software: Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL {version_pg}",
        f"base: {bd['NAME']} en {bd.get('HOST') or 'localhost'}:{bd.get('PORT') or ''} ({ajustes_txt})",
    ]


# --- profiling (sequential, one connection) ----------------------------------------------------


def perfilar(args, agenda, pacientes, rng):
    """Round trips per booking, SQL time vs Python time, and a cProfile of the service."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print()
    print("== Perfil (secuencial, 1 conexión) ==")
    # 1. Round trips of a win and of a rejection. Since Django 6.0 the captured queries include
    # BEGIN (sent by psycopg before the first statement) and COMMIT/ROLLBACK.
    hora, = agenda.crear(1)
    for titulo, paciente in (("reserva exitosa", pacientes[0]), ("rechazo (hora ya tomada)", pacientes[1])):
        with CaptureQueriesContext(connection) as cq:
            resultado, _ = _intento_servicio(hora, paciente, None)
        print(f"-- {titulo}: resultado={['reserva', 'rechazo', 'error'][resultado]}, "
              f"idas y vueltas a PostgreSQL = {len(cq)}")
        for q in cq.captured_queries:
            sql = " ".join(q["sql"].split())
            # pghistory prepends its audit context (two set_config) to every write in the context.
            prefijo = "[set_config pghistory] + " if sql.startswith("SELECT set_config('pghistory") else ""
            sql = sql.split("; ", 1)[-1] if prefijo else sql
            clase = _clase_de_sentencia(sql)
            print(f"   {prefijo}{clase}" + (f": {sql[:100]}…" if clase != sql else ""))

    # 2. Where an attempt's time goes, sequentially: statements (round trip incl. server work;
    # BEGIN included), COMMIT/ROLLBACK (WAL flush), and the rest (Python: ORM, templates,
    # pghistory, logging).
    def medir(tipo, n):
        horas = agenda.crear(n)
        en_sql = [0.0]
        en_fin = [0.0]
        por_sentencia = collections.defaultdict(float)

        def envoltura(execute, sql, params, many, context):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                dt = time.perf_counter() - t
                clase = _clase_de_sentencia(sql)
                if clase in ("COMMIT", "ROLLBACK"):  # sql_servicio's, sent as statements
                    en_fin[0] += dt
                else:
                    en_sql[0] += dt
                    por_sentencia[clase] += dt

        def al_terminar(_, dt):
            en_fin[0] += dt

        intentar = INTENTOS[tipo]
        connection.ensure_connection()
        filas = []
        with connection.cursor() as cursor, connection.execute_wrapper(envoltura), \
                _al_terminar(connection, al_terminar):
            # First pass books every slot; the second one is rejected on each (slot taken).
            for esperado in (RESERVA, RECHAZO):
                en_sql[0] = en_fin[0] = 0.0
                por_sentencia.clear()
                t = time.perf_counter()
                for h in horas:
                    resultado, _ = intentar(h, rng.choice(pacientes), cursor)
                    assert resultado == esperado, (tipo, resultado)
                total = time.perf_counter() - t
                filas.append((total / n * 1000, en_sql[0] / n * 1000, en_fin[0] / n * 1000,
                              {k: v / n * 1000 for k, v in por_sentencia.items()}))
        return filas

    n = args.perfil_reservas
    medir("servicio", 20)  # warm-up
    print(f"-- {n} intentos secuenciales (sin disputa), ms por intento; sentencias = ida y vuelta a PostgreSQL")
    print("   incluido su trabajo (y el BEGIN); COMMIT/ROLLBACK aparte (el sql pelado va en autocommit)")
    for tipo in ("servicio", "sql_servicio", "sql"):
        for caso, (total, sql, fin, detalle) in zip(("reserva", "rechazo"), medir(tipo, n)):
            print(f"   {tipo:12s} {caso:7s} total {total:6.3f} = sentencias {sql:6.3f} + COMMIT/ROLLBACK {fin:6.3f}"
                  f" + Python {total - sql - fin:6.3f}  -> {1000 / total:5.0f}/s con 1 conexión")
            if tipo != "sql":
                print("      " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(detalle.items(), key=lambda kv: -kv[1])))

    # 3. cProfile of the service.
    horas = agenda.crear(n)
    perfil = cProfile.Profile()
    perfil.enable()
    for h in horas:
        _intento_servicio(h, rng.choice(pacientes), None)
    perfil.disable()
    estadisticas = pstats.Stats(perfil)
    estadisticas.calc_callees()
    print(f"-- cProfile de {n} reservas exitosas: en qué se va reservar_cita (ms por reserva, con el")
    print("   sobrecosto del perfilador; 'wait'/'send' = esperar a PostgreSQL)")
    for archivo, funcion in (("citas/services.py", "reservar_cita"),
                             ("citas/services.py", "_tomar_hora_para_usuario"),
                             ("notificaciones/services.py", "notificar"),
                             ("notificaciones/services.py", "registrar_avisos")):
        _desglosar(estadisticas, archivo, funcion, n)
    texto = io.StringIO()
    pstats.Stats(perfil, stream=texto).strip_dirs().sort_stats("tottime").print_stats(25)
    print(f"-- cProfile de {n} reservas, orden tottime:")
    lineas = texto.getvalue().splitlines()
    inicio = next((i for i, linea in enumerate(lineas) if linea.strip().startswith("ncalls")), 0)
    for linea in lineas[inicio:]:
        if linea.strip():
            print("   " + linea)


@contextlib.contextmanager
def _al_terminar(conexion, avisar):
    """Call ``avisar('COMMIT' | 'ROLLBACK', seconds)`` for each of Django's commits/rollbacks."""
    originales = conexion._commit, conexion._rollback

    def envolver(funcion, nombre):
        def envuelta(*a, **k):
            t = time.perf_counter()
            try:
                return funcion(*a, **k)
            finally:
                avisar(nombre, time.perf_counter() - t)
        return envuelta

    conexion._commit, conexion._rollback = envolver(originales[0], "COMMIT"), envolver(originales[1], "ROLLBACK")
    try:
        yield
    finally:
        conexion._commit, conexion._rollback = originales


def _clase_de_sentencia(sql):
    """A short name for the per-statement breakdown: the service's booking statement by the name
    of its constant, procrastinate's defer as ``defer_jobs``, anything else as 'VERB table'."""
    import re

    sql = sql.decode() if isinstance(sql, bytes) else sql
    if sql.startswith("SELECT set_config('pghistory"):
        sql = sql.split("; ", 1)[-1]
    if "WITH paciente AS" in sql:
        return "_RESERVAR_SQL"
    if "procrastinate_defer_jobs_v1" in sql:
        return "defer_jobs (procrastinate)"
    palabras = sql.split(None, 1)
    verbo = palabras[0].upper() if palabras else "?"
    tabla = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
    return f"{verbo} {tabla.group(1) if tabla else ''}".strip()


def _desglosar(estadisticas, archivo, funcion, n):
    raiz = next((f for f in estadisticas.stats if f[2] == funcion and f[0].endswith(archivo)), None)
    if raiz is None:
        return
    total = estadisticas.stats[raiz][3]
    print(f"   {funcion}: {total / n * 1000:.3f} ms")
    hijos = sorted(estadisticas.all_callees[raiz].items(), key=lambda kv: -kv[1][3])
    for (ruta, linea, nombre), valores in hijos[:8]:
        ct = valores[3]
        if ct / total < 0.02:
            continue
        ubicacion = "/".join(Path(ruta).parts[-2:]) if ruta != "~" else "builtin"
        print(f"      {ct / n * 1000:7.3f} ms {ct / total:6.1%}  {nombre} ({ubicacion}:{linea})")


# --- main -------------------------------------------------------------------------------------


def main(argv=None):
    args = leer_argumentos(argv)
    preparar_django(args)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    for linea in describir_maquina():
        print(linea)
    carga = os.getloadavg()
    print(f"carga al empezar: {carga[0]:.2f} {carga[1]:.2f} {carga[2]:.2f}"
          + ("  (AVISO: la máquina está ocupada; los números variarán)" if carga[0] > 0.5 else ""))
    print(f"base de benchmark: {connection.settings_dict['NAME']} (vaciada al empezar)")

    rng = random.Random(args.semilla)
    t = time.perf_counter()
    vaciar_base()
    dentistas = crear_dentistas(args.dentistas)
    agenda = Agenda(dentistas)
    pacientes = crear_pacientes(args.pacientes)
    global _USUARIOS, _SERVIDOR_LOCAL
    host = connection.settings_dict.get("HOST") or ""
    _SERVIDOR_LOCAL = host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/")
    # Loaded plainly, like request.user after the auth middleware (its own query, not the service's).
    _USUARIOS = {u.pk: u for u in get_user_model().objects.filter(pk__in=[p.user_id for p in pacientes])}
    tipos = ("servicio", "sql", "sql_servicio") if args.desglose else ("servicio", "sql")
    corridas = []
    for ronda in range(1, args.rondas + 1):
        for tipo in tipos:
            horas = agenda.crear(args.horas)
            calentamiento = list(zip(agenda.crear(args.hilos), rng.sample(pacientes, args.hilos)))
            corridas.append((ronda, tipo, horas, calentamiento, planificar(horas, pacientes, args.contendientes, rng)))
    print(f"preparación (no medida): {args.dentistas} dentistas, {args.pacientes} pacientes, "
          f"{len(corridas) * (args.horas + args.hilos)} horas libres en {time.perf_counter() - t:.1f} s")
    print(f"forma: {args.procesos} proceso(s) x {args.hilos // args.procesos} hilo(s), {args.horas} horas "
          f"x {args.contendientes} contendientes = {args.horas * args.contendientes} intentos por corrida"
          f", {args.rondas} ronda(s)")
    print()

    filas, fallas = [], 0
    for ronda, tipo, horas, calentamiento, plan in corridas:
        resultados, errores, t0, cpu_cliente, cpu_servidor = correr(tipo, plan, calentamiento, args)
        fila = resumir(tipo, resultados, t0, args)
        fila.update(ronda=ronda, cpu_py=_por_reserva(cpu_cliente, fila), cpu_pg=_por_reserva(cpu_servidor, fila))
        todas = set(horas) | {h for h, _ in calentamiento}
        doble, detalle_doble, problemas = verificar(tipo, todas, resultados)
        fila.update(doble=doble, detalle_doble=detalle_doble, problemas=problemas, muestras=errores)
        if args.rondas > 1:
            fila["corrida"] = f"{tipo}#{ronda}"
        filas.append(fila)
        fallas += doble + sum(problemas.values()) + fila["errores"]

    imprimir_tabla(filas)
    print("(cpu py / cpu pg: CPU de los procesos Python y de sus backends de PostgreSQL por reserva, "
          "incluidos sus rechazos)")
    print()
    for fila in filas:
        malos = {k: v for k, v in fila["problemas"].items() if v}
        print(f"{fila['corrida']}: doble_reserva={fila['doble']} "
              f"({', '.join(f'{k}={v}' for k, v in fila['detalle_doble'].items())}); "
              f"inconsistencias={sum(malos.values())}{' ' + str(malos) if malos else ''}; "
              f"horas con intentos simultáneos={fila['simultaneas']}/{fila['horas']}")
        for muestra, veces in collections.Counter(fila["muestras"]).most_common(5):
            print(f"   error x{veces}: {muestra[:300]}")

    def tasa(tipo, ronda):
        return next(f["reservas_s"] for f in filas if f["ronda"] == ronda and f["corrida"].split("#")[0] == tipo)

    def razon(a, b):
        valores = [tasa(a, r) / tasa(b, r) if tasa(b, r) else float("nan") for r in range(1, args.rondas + 1)]
        return statistics.median(valores), valores

    doble_total = sum(f["doble"] for f in filas)
    print()
    print(f"doble_reserva={doble_total}")
    if args.desglose:
        for a, b, que in (("sql_servicio", "sql", "las sentencias del servicio a mano: el techo casi sin Python"),
                          ("servicio", "sql_servicio", "lo que cuestan Python y Django")):
            print(f"desglose: {a}/{b} = {razon(a, b)[0]:.3f}  ({que})")
    mediana, valores = razon("servicio", "sql")
    detalle = f" (rondas: {', '.join(f'{v:.3f}' for v in valores)}; mediana)" if args.rondas > 1 else ""
    print(f"razón servicio/sql = {mediana:.3f}{detalle}  (meta >= {META_RAZON}) -> "
          f"{'PASS' if mediana >= META_RAZON else 'FAIL'}")
    carga = os.getloadavg()
    print(f"carga al terminar: {carga[0]:.2f} {carga[1]:.2f} {carga[2]:.2f}")

    if args.perfil:
        perfilar(args, agenda, pacientes, rng)

    connection.close()
    if fallas:
        return 1
    return 0 if mediana >= META_RAZON else 3


def _por_reserva(segundos, fila):
    return segundos / fila["reservas"] * 1000 if segundos is not None and fila["reservas"] else float("nan")


if __name__ == "__main__":
    sys.exit(main())
