"""Where one request of the staff ficha page spends its time, in process (``bin/bench-http``'s
``ficha`` case, measured piece by piece).

Un script, no una prueba. Borra y crea su propia base ``perfil_ficha`` en el PostgreSQL
embebido, la llena como ``bin/bench-http`` llena su caso ``ficha`` (un paciente con 200
evoluciones firmadas durante diez años y 30 documentos; aquí además ``--adendas`` adendas
firmadas) y pide la ficha ``--n`` veces con el cliente de pruebas de Django, como su dentista con
la sesión verificada por el segundo factor, con los ajustes del benchmark (DEBUG apagado, el
cargador de plantillas con caché, el middleware de producción).

Imprime, en ms por petición (tiempo propio de cada parte, sin las partes de dentro):

- ``middleware``: lo que corre fuera de la vista (sesión, CSRF, mensajes, CSP, axes, …; la
  sesión, el usuario y el dispositivo del segundo factor se leen perezosamente: sus consultas
  caen en la parte que los pide primero);
- ``rol y segundo factor``: ``requiere_rol`` (``rol_de`` y ``falta_segundo_factor``);
- ``regla de acceso``: ``ficha.acceso.acceso_a_ficha``;
- ``registro de lecturas``: ``registrar_lectura`` (el INSERT y su commit);
- ``selector``: ``ficha_del_paciente``;
- ``plantilla``: el render (procesadores de contexto incluidos);
- ``vista (resto)``: lo demás de la vista y del manejador de Django (resolver la URL,
  decoradores, ``render`` fuera del dibujo);

cada consulta SQL con su parte y su tiempo, el total de reloj y de CPU (``time.process_time``,
que incluye el cliente de pruebas), y el tamaño de la página. Con ``--cprofile`` agrega las
funciones más caras.

    .venv/bin/python benchmarks/perfil_ficha.py              # 300 peticiones tras 30 de calentamiento
    .venv/bin/python benchmarks/perfil_ficha.py --n 100 --cprofile
    .venv/bin/python benchmarks/perfil_ficha.py --reusar     # sin recrear la base (misma ficha)
    .venv/bin/python benchmarks/perfil_ficha.py --reusar --sin-cache   # cada evolución se dibuja
"""

import argparse
import cProfile
import datetime
import io
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(RAIZ))

NOMBRE_BD = "perfil_ficha"


def leer_argumentos(argv=None):
    p = argparse.ArgumentParser(description="Perfil en proceso de la ficha clínica del personal.")
    p.add_argument("--n", type=int, default=300, help="peticiones medidas; 300")
    p.add_argument("--calentamiento", type=int, default=30, help="peticiones previas sin medir; 30")
    p.add_argument("--adendas", type=int, default=60,
                   help="adendas firmadas (una por evolución, de la más nueva a la más antigua); 60")
    p.add_argument("--reusar", action="store_true", help="usar la base ya llena de una ejecución anterior")
    p.add_argument("--sin-cache", action="store_true",
                   help='sin la caché «ficha» de las evoluciones firmadas (DummyCache): cada nota se dibuja')
    p.add_argument("--cprofile", action="store_true", help="además, cProfile de las peticiones medidas")
    return p.parse_args(argv)


def preparar_base(nombre, *, reusar):
    """The profile's own database ``nombre`` (recreated unless ``reusar``) and Django with the
    benchmark's settings (``bin/bench-http``'s: DEBUG off, cached templates, production middleware)."""
    os.environ["CLINICA_DB_NAME"] = nombre
    if not reusar:
        from clinica import postgres_embebido

        postgres_embebido.recrear_base(nombre)
    from benchmarks import bench_http

    bench_http.preparar_django()


def preparar(args):
    preparar_base(NOMBRE_BD, reusar=args.reusar)
    if args.sin_cache:
        from django.conf import settings

        settings.CACHES["ficha"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}


def llenar(args):
    """The bench's full record plus ``--adendas`` signed addenda. Returns (patient id, dentist user)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from benchmarks.bench_http import crear_ficha_llena
    from benchmarks.bench_reservas import crear_pacientes
    from ficha.models import Evolucion

    if args.reusar:
        usuario = get_user_model().objects.get(username="bench_ficha")
        cliente_id = Evolucion.objects.filter(dentista__user=usuario).values_list("cliente_id", flat=True).first()
        return cliente_id, usuario
    call_command("migrate", verbosity=0, interactive=False)
    paciente = crear_pacientes(1)[0]
    cliente_id, usuario = crear_ficha_llena(paciente.cliente_id)
    notas = list(Evolucion.objects.filter(cliente_id=cliente_id).order_by("-atendido_el", "-id")[: args.adendas])
    ahora = timezone.now()
    Evolucion.objects.bulk_create([
        Evolucion(cliente_id=cliente_id, dentista_id=n.dentista_id, corrige=n, atendido_el=n.atendido_el,
                  texto="Corrección: el control es en tres meses.", firmada_en=ahora + datetime.timedelta(seconds=2))
        for n in notas
    ])
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return cliente_id, usuario


class Partes:
    """Self time per part (a stack: time inside a nested part is not counted twice) and every
    query with the part it ran in."""

    def __init__(self):
        self.pila = []
        self.propio = defaultdict(float)
        self.consultas = []  # (part, ms, sql)

    @contextmanager
    def en(self, nombre):
        ahora = time.perf_counter()
        if self.pila:
            padre, desde = self.pila[-1]
            self.propio[padre] += ahora - desde
        self.pila.append([nombre, ahora])
        try:
            yield
        finally:
            fin = time.perf_counter()
            nombre, desde = self.pila.pop()
            self.propio[nombre] += fin - desde
            if self.pila:
                self.pila[-1][1] = fin

    def envolver(self, modulo, atributo, nombre):
        original = getattr(modulo, atributo)

        def envoltura(*a, **k):
            with self.en(nombre):
                return original(*a, **k)

        setattr(modulo, atributo, envoltura)

    def consulta(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            with self.en("SQL"):
                return execute(sql, params, many, context)
        finally:
            parte = next((n for n, _ in reversed(self.pila) if n != "SQL"), "?")
            self.consultas.append((parte, (time.perf_counter() - t0) * 1000, sql))


@dataclass
class Medicion:
    html: str  # the page, as the last warm-up request got it
    una: list  # the queries of one request: (part, ms, sql)
    relojes: list  # wall ms of each measured request
    cpu_ms: float  # this process's CPU per measured request
    perfil: cProfile.Profile | None


def medir_pagina(c, ruta, partes, *, n, calentamiento, cprofile, antes_de_medir=None) -> Medicion:
    """GET ``ruta`` with the test client ``c``: ``calentamiento`` times unmeasured, once to list its
    queries, then ``n`` times measured part by part (``antes_de_medir()`` runs just before)."""
    from django.db import connection

    for _ in range(calentamiento):
        respuesta = c.get(ruta)
        assert respuesta.status_code == 200, respuesta.status_code
    html = respuesta.content.decode()
    partes.propio.clear()
    with connection.execute_wrapper(partes.consulta):
        c.get(ruta)
    una = list(partes.consultas)
    partes.propio.clear()
    partes.consultas.clear()
    if antes_de_medir is not None:
        antes_de_medir()
    perfil = cProfile.Profile() if cprofile else None
    relojes = []
    cpu0 = time.process_time()
    with connection.execute_wrapper(partes.consulta):
        if perfil:
            perfil.enable()
        for _ in range(n):
            t0 = time.perf_counter()
            c.get(ruta)
            relojes.append((time.perf_counter() - t0) * 1000)
        if perfil:
            perfil.disable()
    return Medicion(html, una, relojes, (time.process_time() - cpu0) * 1000 / n, perfil)


def imprimir_reloj(m: Medicion):
    print(f"Reloj por petición: mediana {statistics.median(m.relojes):.2f} ms, media {statistics.mean(m.relojes):.2f} ms; "
          f"CPU de este proceso {m.cpu_ms:.2f} ms/petición (incluye el cliente de pruebas)"
          f"{' y cProfile' if m.perfil else ''}.\n")


def imprimir_partes(partes, n):
    total = sum(partes.propio.values()) * 1000 / n
    print("| parte (tiempo propio) | ms/petición | % |\n|---|---:|---:|")
    for nombre, segundos in sorted(partes.propio.items(), key=lambda x: -x[1]):
        ms = segundos * 1000 / n
        print(f"| {nombre} | {ms:.2f} | {100 * ms / total:.0f} |")
    print(f"| total medido | {total:.2f} | 100 |\n")


def imprimir_consultas_y_perfil(m: Medicion, partes, n, *, funciones=45):
    por_parte = defaultdict(lambda: [0, 0.0])
    for parte, ms, _ in partes.consultas:
        por_parte[parte][0] += 1
        por_parte[parte][1] += ms
    print(f"Consultas de una petición: {len(m.una)} (en las medidas: {len(partes.consultas) / n:.1f} por petición)")
    for parte, ms, sql in m.una:
        media = por_parte[parte][1] / max(por_parte[parte][0], 1)
        print(f"  [{parte}] {ms:.2f} ms (media de su parte {media:.2f}): {' '.join(sql.split())[:110]}")
    if m.perfil:
        for orden, cuantas in (("cumulative", funciones), ("tottime", 30)):
            salida = io.StringIO()
            pstats.Stats(m.perfil, stream=salida).sort_stats(orden).print_stats(cuantas)
            print(salida.getvalue())


def instrumentar_comun(partes):
    """The pieces every staff page of a patient's record goes through, wrapped by their
    module-level names (the code looks them up at call time)."""
    from django.core.handlers import base
    from django.template.backends import django as backend_django

    from gestion_clinica import permisos
    from gestion_clinica.views import acceso_ficha

    partes.envolver(base.BaseHandler, "get_response", "middleware")
    partes.envolver(base.BaseHandler, "_get_response", "vista (resto)")
    partes.envolver(permisos, "rol_de", "rol y segundo factor")
    partes.envolver(permisos, "falta_segundo_factor", "rol y segundo factor")
    partes.envolver(acceso_ficha, "acceso_a_ficha", "regla de acceso")
    partes.envolver(acceso_ficha, "registrar_lectura", "registro de lecturas")
    partes.envolver(backend_django.Template, "render", "plantilla")


def instrumentar(partes):
    from gestion_clinica.views import ficha

    instrumentar_comun(partes)
    partes.envolver(ficha, "ficha_del_paciente", "selector")


def main(argv=None):
    args = leer_argumentos(argv)
    preparar(args)
    from django.test import Client

    from ficha.models import LecturaFicha
    from pruebas.soporte import iniciar_sesion

    cliente_id, usuario = llenar(args)
    ruta = f"/gestion/pacientes/{cliente_id}/ficha/"
    # Wrapped before the client exists: its handler binds ``_get_response`` when it is built.
    partes = Partes()
    instrumentar(partes)
    c = Client(HTTP_HOST="127.0.0.1")
    iniciar_sesion(c, usuario)
    antes = []
    m = medir_pagina(c, ruta, partes, n=args.n, calentamiento=args.calentamiento, cprofile=args.cprofile,
                     antes_de_medir=lambda: antes.append(LecturaFicha.objects.filter(cliente_id=cliente_id).count()))
    escritas = LecturaFicha.objects.filter(cliente_id=cliente_id).count() - antes[0]

    n, html = args.n, m.html
    print(f"Ficha {ruta}: {len(html) / 1024:.0f} KB, {html.count('class=\"evolucion ')} evoluciones y "
          f"{html.count('class=\"documento\"')} documentos en la página, {html.count('class=\"adenda ')} adendas; "
          f"{n} peticiones, {escritas} filas del registro de lecturas escritas.")
    imprimir_reloj(m)
    imprimir_partes(partes, n)
    imprimir_consultas_y_perfil(m, partes, n)


if __name__ == "__main__":
    main()
