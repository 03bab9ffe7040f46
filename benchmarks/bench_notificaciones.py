"""Benchmark de envío: avisos por segundo a través de ``procrastinate worker`` hasta un
proveedor local (Twilio o Meta de ``pruebas.proveedores``, HTTP real).

Un script, no una prueba. Para cada cantidad de workers pedida (por defecto 1 y luego 2):

1. registra N avisos de WhatsApp con ``notificaciones.services.notificar`` (en transacciones
   de 100, como los servicios), con sus trabajos postergados una hora;
2. levanta K procesos ``manage.py procrastinate worker`` y espera que estén listos;
3. adelanta los trabajos a "ahora" e inicia el reloj; lo detiene cuando los N avisos están
   ``enviada``.

Imprime avisos/s por cantidad de workers y verifica que el proveedor aceptó cada aviso
exactamente una vez (``duplicados`` debe ser 0).

Usa su propia base ``bench_notif`` (la crea, la migra y VACÍA sus avisos y la cola al
empezar). Con ``DATABASE_URL`` usa esa base y exige ``--si-borrar``.

    bin/bench-notificaciones                         # 2000 avisos, 1 y 2 workers, Twilio
    bin/bench-notificaciones --proveedor meta        # por la API de Meta
    bin/bench-notificaciones --workers 1,2,4 --avisos 5000 --demora-ms 50
"""

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
NOMBRE_BD_BENCH = "bench_notif"
LOTE = 100


def leer_argumentos(argv=None):
    p = argparse.ArgumentParser(description="Avisos por segundo a través del worker hasta un proveedor local.")
    p.add_argument("--avisos", type=int, default=2000, help="avisos por corrida; 2000")
    p.add_argument("--workers", default="1,2", help="cantidades de procesos worker, separadas por coma; 1,2")
    p.add_argument("--concurrencia", type=int, default=1, help="trabajos simultáneos por worker (-c); 1")
    p.add_argument("--proveedor", choices=("twilio", "meta"), default="twilio", help="API simulada; twilio")
    p.add_argument("--demora-ms", type=float, default=0,
                   help="latencia del proveedor simulado por mensaje (la real es ~100-300 ms); 0")
    p.add_argument("--si-borrar", action="store_true",
                   help="obligatorio con DATABASE_URL: confirma que se pueden VACIAR sus avisos y su cola")
    args = p.parse_args(argv)
    try:
        args.workers = [int(w) for w in args.workers.split(",")]
    except ValueError:
        p.error("--workers: números separados por coma, p. ej. 1,2")
    if args.avisos < 1 or args.concurrencia < 1 or any(w < 1 for w in args.workers):
        p.error("--avisos, --concurrencia y --workers deben ser >= 1")
    return args


def preparar(args):
    """Environment for this process and the workers it starts, then Django."""
    if os.environ.get("DATABASE_URL"):
        if not args.si_borrar:
            print("DATABASE_URL está definida: este benchmark VACÍA los avisos y la cola de esa base.\n"
                  "Si es una base desechable, repita con --si-borrar.", file=sys.stderr)
            sys.exit(2)
    else:
        os.environ["CLINICA_DB_NAME"] = NOMBRE_BD_BENCH
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinica.settings")
    sys.path.insert(0, str(RAIZ))

    from pruebas.proveedores import ServidorProveedores, entorno_meta, entorno_twilio

    servidor = ServidorProveedores()
    servidor.demora_s = args.demora_ms / 1000
    servidor.iniciar()
    entorno = entorno_twilio(servidor, sms=False) if args.proveedor == "twilio" else entorno_meta(servidor)
    os.environ.update(entorno)  # read by notificaciones.ajustes here and in the workers

    import django

    django.setup()
    return servidor


def vaciar():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notificaciones_notificacion, procrastinate_events, procrastinate_periodic_defers, "
            "procrastinate_jobs, procrastinate_workers RESTART IDENTITY CASCADE"
        )


def registrar(n, corrida):
    """N WhatsApp notifications through the service, in transactions of LOTE."""
    from django.utils import timezone

    from notificaciones.models import Canal
    from notificaciones.services import notificar
    from nucleo.servicios import operacion

    from notificaciones.preferencias import Preferencias

    ahora = timezone.now()
    contexto = {"nombre": "Paciente", "fecha": "lunes 7 de septiembre", "hora": "10:00", "dentista": "Dra. Bench"}
    for inicio in range(0, n, LOTE):
        with operacion("bench_notificaciones"):
            for i in range(inicio, min(n, inicio + LOTE)):
                # Each number confirmed (issue 14), or no WhatsApp row would be recorded.
                perfil = Preferencias(Canal.WHATSAPP, whatsapp_aceptado_en=ahora, telefono_verificado=f"+5696{i:07d}")
                notificar(
                    evento="reserva_confirmada", referencia=f"bench-{corrida}-{i}", telefono=f"+5696{i:07d}",
                    perfil=perfil, contexto={**contexto, "hora": f"{i % 24:02d}:{i % 60:02d}"},
                )


def sql(consulta, parametros=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(consulta, parametros or [])
        return cursor.fetchone()[0] if cursor.description else cursor.rowcount


def correr(args, servidor, workers, corrida):
    vaciar()
    servidor.limpiar()
    registrar(args.avisos, corrida)
    sql("UPDATE procrastinate_jobs SET scheduled_at = now() + interval '1 hour' WHERE status = 'todo'")
    procesos = [
        subprocess.Popen(
            [sys.executable, "manage.py", "procrastinate", "worker", "--queues", "notificaciones",
             "--concurrency", str(args.concurrencia), "--fetch-job-polling-interval", "0.05", "--no-listen-notify"],
            cwd=RAIZ, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        limite = time.monotonic() + 120
        while sql("SELECT count(*) FROM procrastinate_workers") < workers:
            if time.monotonic() > limite or any(p.poll() is not None for p in procesos):
                raise SystemExit("los workers no arrancaron (pruebe: python manage.py procrastinate worker)")
            time.sleep(0.05)
        t0 = time.perf_counter()
        sql("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")
        limite = time.monotonic() + 900
        while (enviadas := sql("SELECT count(*) FROM notificaciones_notificacion WHERE estado = 'enviada'")) \
                < args.avisos:
            if time.monotonic() > limite:
                raise SystemExit(f"sin terminar tras 900 s: {enviadas}/{args.avisos} enviadas")
            time.sleep(0.02)
        segundos = time.perf_counter() - t0
    finally:
        for p in procesos:
            p.send_signal(signal.SIGTERM)
        for p in procesos:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    aceptadas = servidor.aceptadas()
    return {
        "workers": workers, "segundos": segundos, "avisos_s": args.avisos / segundos,
        "aceptadas": len(aceptadas), "duplicados": sum(n - 1 for n in servidor.duplicadas().values()),
        "fallidas": sql("SELECT count(*) FROM notificaciones_notificacion WHERE estado <> 'enviada'"),
    }


def main(argv=None):
    args = leer_argumentos(argv)
    servidor = preparar(args)

    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    print(f"máquina: {platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
          f"carga {os.getloadavg()[0]:.2f}")
    print(f"base: {connection.settings_dict['NAME']} (vaciada); proveedor simulado: {args.proveedor} en "
          f"{servidor.url}, demora {args.demora_ms:g} ms; {args.avisos} avisos de WhatsApp por corrida; "
          f"concurrencia por worker {args.concurrencia}")
    print()
    print(f"{'workers':>7} {'segundos':>9} {'avisos/s':>9} {'aceptados':>10} {'duplicados':>10} {'no enviados':>11}")
    fallas = 0
    for corrida, workers in enumerate(args.workers, start=1):
        fila = correr(args, servidor, workers, corrida)
        print(f"{fila['workers']:>7} {fila['segundos']:>9.2f} {fila['avisos_s']:>9.1f} {fila['aceptadas']:>10} "
              f"{fila['duplicados']:>10} {fila['fallidas']:>11}")
        fallas += fila["duplicados"] + fila["fallidas"] + abs(fila["aceptadas"] - args.avisos)
    servidor.detener()
    connection.close()
    return 1 if fallas else 0


if __name__ == "__main__":
    sys.exit(main())
