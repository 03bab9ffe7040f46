"""Benchmark de recordatorios: cuánto tarda ``crear_recordatorios`` con 100.000 citas por recordar.

Un script, no una prueba. Prepara (sin medir, con SQL) N citas reservadas en las próximas 24 horas
repartidas entre D dentistas, cada una de un paciente distinto con correo y WhatsApp aceptado
(dos avisos por cita). Luego mide:

1. ``primera``: ``crear_recordatorios()`` crea todos los recordatorios (segundos, citas/s,
   avisos/s, memoria máxima del proceso);
2. ``segunda``: otra corrida inmediata, que debe crear 0 (idempotencia) y su tiempo.

Verifica con SQL que cada cita tiene exactamente un recordatorio por canal.

Usa su propia base ``bench_record`` (la crea, la migra y la VACÍA al empezar). Con
``DATABASE_URL`` usa esa base y exige ``--si-borrar``.

    bin/bench-recordatorios                       # 100.000 citas, 50 dentistas
    bin/bench-recordatorios --citas 20000 --perfil
"""

import argparse
import cProfile
import datetime
import io
import logging
import os
import platform
import pstats
import resource
import sys
import time
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
NOMBRE_BD_BENCH = "bench_record"


def leer_argumentos(argv=None):
    p = argparse.ArgumentParser(description="Tiempo de crear_recordatorios con muchas citas por recordar.")
    p.add_argument("--citas", type=int, default=100_000, help="citas reservadas en las próximas 24 h; 100000")
    p.add_argument("--dentistas", type=int, default=50, help="dentistas; 50")
    p.add_argument("--lote", type=int, default=None, help="citas por transacción (por defecto el del módulo)")
    p.add_argument("--perfil", action="store_true", help="correr la primera pasada bajo cProfile (más lenta)")
    p.add_argument("--logs", action="store_true", help="mostrar las líneas de log")
    p.add_argument("--si-borrar", action="store_true",
                   help="obligatorio con DATABASE_URL: confirma que se puede VACIAR esa base")
    args = p.parse_args(argv)
    if args.citas < 1 or args.dentistas < 1:
        p.error("--citas y --dentistas deben ser >= 1")
    return args


def preparar_django(args):
    if os.environ.get("DATABASE_URL"):
        if not args.si_borrar:
            print("DATABASE_URL está definida: este benchmark VACÍA (TRUNCATE) las tablas de esa base.\n"
                  "Si es una base desechable, repita con --si-borrar.", file=sys.stderr)
            sys.exit(2)
    else:
        os.environ["CLINICA_DB_NAME"] = NOMBRE_BD_BENCH
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinica.settings")
    sys.path.insert(0, str(RAIZ))
    import django

    django.setup()
    if not args.logs:
        nulo = open(os.devnull, "w")
        for manejador in logging.getLogger().handlers:
            if isinstance(manejador, logging.StreamHandler):
                manejador.setStream(nulo)


# Set-wise fill: users, portal profiles (WhatsApp accepted), patients, dentists and one booked
# appointment per patient, spread evenly over (now + 10 min, now + 23 h 50 min].
_LLENAR_SQL = """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
SELECT '!', false, 'bench_dentista_' || d, 'Dentista', 'Bench ' || d, 'dentista' || d || '@bench.example', true, true, now()
  FROM generate_series(1, %(dentistas)s) d;
INSERT INTO personal_perfil (creado, actualizado, user_id, rol, especialidad, activo)
SELECT now(), now(), u.id, 'dentista', 'General', true FROM auth_user u WHERE u.username LIKE 'bench_dentista_%%';
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
SELECT '!', false, 'paciente' || i || '@bench.example', 'Paciente', 'Bench ' || i, 'paciente' || i || '@bench.example',
       false, true, now()
  FROM generate_series(1, %(citas)s) i;
INSERT INTO cuentas_perfilcliente (creado, actualizado, user_id, privacidad_aceptada_en)
SELECT now(), now(), u.id, now() FROM auth_user u WHERE NOT u.is_staff;
INSERT INTO pacientes_cliente (creado, actualizado, nombre_completo, email, telefono, rut, alergias, activo, user_id,
                               canal_preferido)
SELECT now(), now(), 'Paciente Bench ' || substr(u.username, 9, strpos(u.username, '@') - 9), u.email,
       '+5696' || lpad(u.id::text, 7, '0'), '', '', true, u.id, 'whatsapp'
  FROM auth_user u WHERE NOT u.is_staff;
INSERT INTO pacientes_consentimientocanal (creado, actualizado, cliente_id, canal, otorgado_en, medio, registrado_por_id)
SELECT now(), now(), c.id, 'whatsapp', now(), 'portal', c.user_id FROM pacientes_cliente c;
WITH pacientes AS (
    SELECT c.id, c.nombre_completo, c.email, c.telefono, row_number() OVER (ORDER BY c.id) - 1 AS n
      FROM pacientes_cliente c
), dentistas AS (
    SELECT p.id, row_number() OVER (ORDER BY p.id) - 1 AS n FROM personal_perfil p
)
INSERT INTO citas_cita (creado, actualizado, dentista_id, inicio, fin, estado, cliente_id, paciente_nombre,
                        paciente_email, paciente_telefono, motivo, reprogramaciones)
SELECT now(), now(), d.id,
       %(desde)s + (p.n / %(dentistas)s) * %(paso)s * interval '1 microsecond',
       %(desde)s + ((p.n / %(dentistas)s) * %(paso)s + %(paso)s - 1) * interval '1 microsecond',
       'reservada', p.id, p.nombre_completo, p.email, p.telefono, 'Control', 0
  FROM pacientes p JOIN dentistas d ON d.n = p.n %% %(dentistas)s;
"""


def llenar(args):
    from django.db import DatabaseError, connection, transaction
    from django.utils import timezone

    ahora = timezone.now()
    desde = ahora + datetime.timedelta(minutes=10)
    por_dentista = -(-args.citas // args.dentistas)
    # Each dentist's appointments back to back over 23 h 40 min (microseconds per slot).
    paso = int(datetime.timedelta(hours=23, minutes=40) / datetime.timedelta(microseconds=1)) // por_dentista
    with transaction.atomic(), connection.cursor() as cur:
        # The setup needs no audit trail: pghistory's per-row triggers made it quadratic
        # (8 minutes for 100,000). Only a superuser may switch them off; otherwise it is slow.
        try:
            with transaction.atomic():
                cur.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            print("AVISO: sin permiso para desactivar los triggers; la preparación será lenta.", file=sys.stderr)
        cur.execute(_LLENAR_SQL, {"dentistas": args.dentistas, "citas": args.citas, "desde": desde, "paso": paso})
        cur.execute("ANALYZE")
    return ahora


def memoria_max_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def verificar(args):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("""
            SELECT count(*), count(DISTINCT (cita_id, canal)),
                   count(*) FILTER (WHERE canal = 'email'), count(*) FILTER (WHERE canal = 'whatsapp')
              FROM notificaciones_notificacion WHERE plantilla = 'recordatorio'""")
        total, distintos, correos, whatsapps = cur.fetchone()
        cur.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'notificaciones.enviar'")
        trabajos = cur.fetchone()[0]
    return {"avisos": total, "duplicados": total - distintos, "correos": correos, "whatsapp": whatsapps,
            "trabajos": trabajos, "citas_sin_aviso": args.citas - correos}


def main(argv=None):
    args = leer_argumentos(argv)
    preparar_django(args)

    from django.core.management import call_command
    from django.db import connection

    from citas import recordatorios

    call_command("migrate", verbosity=0, interactive=False)
    if args.lote:
        recordatorios.LOTE = args.lote
    print(f"máquina: {platform.node()} · {os.cpu_count()} núcleos · Python {platform.python_version()} · "
          f"carga {os.getloadavg()[0]:.2f}")
    print(f"base de benchmark: {connection.settings_dict['NAME']} (vaciada al empezar)")
    from benchmarks.bench_reservas import vaciar_base  # the same TRUNCATE of the clinic's tables

    t = time.perf_counter()
    vaciar_base()
    ahora = llenar(args)
    print(f"preparación (no medida): {args.citas} citas, {args.dentistas} dentistas, {args.citas} pacientes "
          f"con correo y WhatsApp, en {time.perf_counter() - t:.1f} s; lote = {recordatorios.LOTE} citas")

    base_mb = memoria_max_mb()
    perfil = cProfile.Profile() if args.perfil else None
    t0 = time.perf_counter()
    if perfil:
        perfil.enable()
    creados = recordatorios.crear_recordatorios(ahora=ahora)
    if perfil:
        perfil.disable()
    primera = time.perf_counter() - t0
    pico_mb = memoria_max_mb()

    t0 = time.perf_counter()
    repetidos = recordatorios.crear_recordatorios(ahora=ahora)
    segunda = time.perf_counter() - t0

    v = verificar(args)
    print()
    print(f"primera corrida: {creados} avisos en {primera:.1f} s -> {args.citas / primera:,.0f} citas/s, "
          f"{creados / primera:,.0f} avisos/s{' (bajo cProfile)' if perfil else ''}")
    print(f"memoria máxima del proceso: {pico_mb:.0f} MiB (antes de la corrida: {base_mb:.0f} MiB)")
    print(f"segunda corrida (idempotente): {repetidos} avisos en {segunda:.2f} s")
    print(f"verificación: {v}")
    if perfil:
        salida = io.StringIO()
        pstats.Stats(perfil, stream=salida).sort_stats("cumulative").print_stats(25)
        print(salida.getvalue())
    correcto = (v["duplicados"] == 0 and v["citas_sin_aviso"] == 0 and v["whatsapp"] == args.citas
                and repetidos == 0 and creados == 2 * args.citas)
    if not correcto:
        print("ERROR: faltan avisos, hay duplicados o la segunda corrida creó algo.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
