"""Benchmark de la página de reserva del portal (``/portal/reservar/``).

Un script, no una prueba. Llena su propia base ``bench_portal`` (la crea, la migra y la VACÍA al
empezar) con 10.000 horas libres futuras de 5 dentistas (de 09:00 a 17:00, hora de Santiago,
todos los días) y 5.000 pacientes con cuenta del portal, todo con ``bulk_create``; después pide
la página de reserva N veces con el ``Client`` de pruebas de Django, con la sesión de un
paciente, para "cualquier dentista" y para un dentista. Imprime consultas por petición
(``CaptureQueriesContext``), mediana y p95 en ms, y peticiones/s (secuenciales, un hilo).

    bin/bench-portal                 # 200 peticiones por caso
    bin/bench-portal --peticiones 500 --semana 1

Con ``DATABASE_URL`` usa esa base y exige ``--si-borrar``.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(RAIZ))

NOMBRE_BD_BENCH = "bench_portal"


def leer_argumentos(argv=None):
    p = argparse.ArgumentParser(description="Mide la página de reserva del portal con muchas horas y pacientes.")
    p.add_argument("--horas", type=int, default=10_000, help="horas libres futuras; 10000")
    p.add_argument("--dentistas", type=int, default=5, help="dentistas; 5")
    p.add_argument("--pacientes", type=int, default=5_000, help="pacientes con cuenta del portal; 5000")
    p.add_argument("--peticiones", type=int, default=200, help="peticiones medidas por caso; 200")
    p.add_argument("--calentamiento", type=int, default=10, help="peticiones previas sin medir; 10")
    p.add_argument("--semana", type=int, default=0, help="semana pedida (0 = desde hoy); 0")
    p.add_argument("--si-borrar", action="store_true",
                   help="obligatorio con DATABASE_URL: confirma que se puede VACIAR esa base")
    args = p.parse_args(argv)
    if min(args.horas, args.dentistas, args.pacientes, args.peticiones) < 1:
        p.error("--horas, --dentistas, --pacientes y --peticiones deben ser >= 1")
    return args


def preparar_django(args):
    if os.environ.get("DATABASE_URL"):
        if not args.si_borrar:
            print("DATABASE_URL está definida: este benchmark VACÍA esa base. Repita con --si-borrar.",
                  file=sys.stderr)
            sys.exit(2)
    else:
        os.environ["CLINICA_DB_NAME"] = NOMBRE_BD_BENCH  # never the development or the test database
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory: not production
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinica.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings

    # Production serves hashed files from collectstatic's manifest; the benchmark renders pages
    # without running collectstatic (same as the tests).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def crear_horas(dentistas, n):
    """``n`` back-to-back 30-minute free slots from tomorrow, 09:00–17:00 Santiago time, every
    day, round-robin over the dentists (bulk_create: setup, not timed)."""
    from django.utils import timezone

    from citas.models import Cita

    zona = timezone.get_current_timezone()
    dia = timezone.localdate() + datetime.timedelta(days=1)
    filas = []
    por_dentista = -(-n // len(dentistas))
    por_dia = 16
    for i in range(por_dentista):
        fecha = dia + datetime.timedelta(days=i // por_dia)
        inicio = datetime.datetime.combine(fecha, datetime.time(9), tzinfo=zona) + datetime.timedelta(
            minutes=30 * (i % por_dia)
        )
        for d in dentistas:
            if len(filas) < n:
                filas.append(Cita(dentista_id=d, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30)))
    Cita.objects.bulk_create(filas, batch_size=2000)
    return len(filas)


def medir(cliente, url, parametros, n, calentamiento):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(calentamiento):
        assert cliente.get(url, parametros).status_code == 200
    with CaptureQueriesContext(connection) as consultas:
        respuesta = cliente.get(url, parametros)
    assert respuesta.status_code == 200, respuesta.status_code
    n_consultas = len(consultas)  # now: the next request clears the connection's query log
    botones = respuesta.content.decode().count('class="btn btn-outline-primary hora-libre"')
    tiempos = []
    inicio = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        r = cliente.get(url, parametros)
        tiempos.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    total = time.perf_counter() - inicio
    tiempos.sort()
    return {
        "consultas": n_consultas,
        "botones": botones,
        "bytes": len(respuesta.content),
        "mediana_ms": statistics.median(tiempos),
        "p95_ms": tiempos[min(len(tiempos) - 1, int(round(0.95 * len(tiempos))) - 1)],
        "por_segundo": n / total,
    }


def main(argv=None):
    args = leer_argumentos(argv)
    preparar_django(args)
    from django.core.management import call_command
    from django.test import Client

    from benchmarks.bench_reservas import crear_dentistas, crear_pacientes, vaciar_base
    from citas.models import Cita

    call_command("migrate", verbosity=0, interactive=False)
    vaciar_base()
    t0 = time.perf_counter()
    dentistas = crear_dentistas(args.dentistas)
    n_horas = crear_horas(dentistas, args.horas)
    pacientes = crear_pacientes(args.pacientes)
    print(f"Datos: {n_horas} horas libres de {len(dentistas)} dentistas, {len(pacientes)} pacientes "
          f"({time.perf_counter() - t0:.1f} s de preparación; {Cita.objects.count()} filas en citas_cita)")

    from django.contrib.auth import get_user_model

    from pruebas.soporte import iniciar_sesion

    usuario = get_user_model().objects.get(pk=pacientes[len(pacientes) // 2].user_id)
    cliente = Client(HTTP_HOST="127.0.0.1")
    iniciar_sesion(cliente, usuario)

    casos = [
        ("cualquier dentista", {"semana": args.semana}),
        ("un dentista", {"dentista": dentistas[0], "semana": args.semana}),
    ]
    print(f"\nGET /portal/reservar/ x {args.peticiones} (semana {args.semana}, un hilo, Client de Django, DEBUG=False)")
    print(f"{'caso':<20} {'consultas':>9} {'horas':>6} {'KB':>6} {'mediana ms':>11} {'p95 ms':>8} {'pet/s':>7}")
    for nombre, parametros in casos:
        r = medir(cliente, "/portal/reservar/", parametros, args.peticiones, args.calentamiento)
        print(f"{nombre:<20} {r['consultas']:>9} {r['botones']:>6} {r['bytes'] / 1024:>6.0f} "
              f"{r['mediana_ms']:>11.1f} {r['p95_ms']:>8.1f} {r['por_segundo']:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
