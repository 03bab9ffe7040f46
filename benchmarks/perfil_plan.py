"""Where one request of the staff treatment plan page (``bin/bench-http``'s ``plan`` case) or of
the account statement (``--cuenta``, its ``cuenta`` case) spends its time, in process, piece by
piece (modelled on ``benchmarks/perfil_ficha.py``, whose ``Partes`` it uses).

Un script, no una prueba. Borra y crea su propia base ``perfil_plan`` en el PostgreSQL embebido,
la llena como ``bin/bench-http`` llena sus casos ``plan`` y ``cuenta`` (la ficha de diez años y
el plan de 300 ítems; el paciente con 300 prestaciones realizadas y 200 pagos) y pide la página
``--n`` veces con el cliente de pruebas de Django (el plan como su dentista con la sesión
verificada por el segundo factor; el estado de cuenta como recepción), con los ajustes del
benchmark (DEBUG apagado, el cargador de plantillas con caché, el middleware de producción).

Imprime, en ms por petición (tiempo propio de cada parte, sin las partes de dentro): middleware,
rol y segundo factor, regla de acceso, registro de lecturas, consultas del plan (totales,
hallazgos, tabla de ítems), consultas del estado de cuenta, plantilla (el render: con
``tabla de ítems`` y ``lista de hallazgos`` aparte, con sus aciertos de caché), vista (resto);
cada consulta SQL con su parte, el reloj y la CPU, el tamaño de la página. ``--cprofile``
agrega las funciones más caras.

    .venv/bin/python benchmarks/perfil_plan.py                       # el plan
    .venv/bin/python benchmarks/perfil_plan.py --reusar --cuenta     # el estado de cuenta
    .venv/bin/python benchmarks/perfil_plan.py --reusar --n 100 --cprofile
"""

import argparse
import sys
from collections import defaultdict
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(RAIZ))

from benchmarks.perfil_ficha import (  # noqa: E402
    Partes,
    imprimir_consultas_y_perfil,
    imprimir_partes,
    imprimir_reloj,
    instrumentar_comun,
    medir_pagina,
    preparar_base,
)

NOMBRE_BD = "perfil_plan"


def leer_argumentos(argv=None):
    p = argparse.ArgumentParser(description="Perfil en proceso del plan de tratamiento o del estado de cuenta.")
    p.add_argument("--n", type=int, default=300, help="peticiones medidas; 300")
    p.add_argument("--calentamiento", type=int, default=30, help="peticiones previas sin medir; 30")
    p.add_argument("--cuenta", action="store_true", help="el estado de cuenta (caso cuenta) en vez del plan")
    p.add_argument("--reusar", action="store_true", help="usar la base ya llena de una ejecución anterior")
    p.add_argument("--cprofile", action="store_true", help="además, cProfile de las peticiones medidas")
    return p.parse_args(argv)




def llenar(args):
    """Both cases' patients. Returns (plan's patient, dentist user, statement's patient, reception user)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from benchmarks.bench_http import crear_cuenta_larga, crear_ficha_llena, crear_plan_lleno
    from benchmarks.bench_reservas import crear_pacientes
    from pagos.models import Pago
    from personal.models import Rol
    from personal.services import crear_personal
    from tratamientos.models import PlanTratamiento

    User = get_user_model()
    if args.reusar:
        dentista = User.objects.get(username="bench_ficha")
        plan = PlanTratamiento.objects.filter(dentista__user=dentista).first()
        recepcion = User.objects.get(username="bench_recepcion")
        cuenta = Pago.objects.values_list("cliente_id", flat=True).first()
        return plan.cliente_id, dentista, cuenta, recepcion
    call_command("migrate", verbosity=0, interactive=False)
    pacientes = crear_pacientes(2)
    recepcion = crear_personal(actor=None, username="bench_recepcion", nombre="Recepción", apellido="Bench",
                               email="recepcion@bench.example", rol=Rol.RECEPCION)
    cliente_id, dentista = crear_ficha_llena(pacientes[0].cliente_id)
    crear_plan_lleno(cliente_id, dentista)
    cuenta = crear_cuenta_larga(pacientes[1].cliente_id, recepcion)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return cliente_id, dentista, cuenta, recepcion.user


class Aciertos:
    """Hits and misses of the "ficha" and "cuenta" caches."""

    def __init__(self):
        self.cuenta = defaultdict(int)

    def envolver(self, cache, nombre):
        original = cache.get

        def get(clave, *a, **k):
            valor = original(clave, *a, **k)
            prefijo = str(clave).split(":")[0]
            self.cuenta[(nombre, prefijo, "acierto" if valor is not None else "fallo")] += 1
            return valor

        cache.get = get


def instrumentar(partes):
    from gestion_clinica.views import comun, estado_cuenta, planes

    instrumentar_comun(partes)
    partes.envolver(comun, "acceso_a_ficha", "regla de acceso")  # dentista_solo_de_su_equipo
    partes.envolver(planes, "_encabezado", "encabezado")
    partes.envolver(planes, "plan_actual", "plan vigente")
    partes.envolver(planes, "totales_del_plan", "totales")
    partes.envolver(planes, "lista_de_hallazgos", "lista de hallazgos")
    partes.envolver(planes, "tabla_de_items", "tabla de ítems")
    partes.envolver(planes, "FormularioItem", "formulario")
    partes.envolver(planes, "_contexto_del_plan", "contexto (resto)")
    partes.envolver(estado_cuenta, "estado_de_cuenta", "estado de cuenta (consultas)")


def main(argv=None):
    args = leer_argumentos(argv)
    preparar_base(NOMBRE_BD, reusar=args.reusar)
    from django.core.cache import caches
    from django.test import Client

    from pruebas.soporte import iniciar_sesion

    plan_cliente, dentista, cuenta_cliente, recepcion = llenar(args)
    if args.cuenta:
        ruta, usuario = f"/gestion/pacientes/{cuenta_cliente}/estado-de-cuenta/", recepcion
    else:
        ruta, usuario = f"/gestion/pacientes/{plan_cliente}/ficha/plan/", dentista
    partes = Partes()
    instrumentar(partes)
    aciertos = Aciertos()
    for nombre in ("ficha", "cuenta"):
        try:
            aciertos.envolver(caches[nombre], nombre)
        except Exception:  # noqa: BLE001 (a cache the settings do not have)
            pass
    c = Client(HTTP_HOST="127.0.0.1")
    iniciar_sesion(c, usuario)
    m = medir_pagina(c, ruta, partes, n=args.n, calentamiento=args.calentamiento, cprofile=args.cprofile,
                     antes_de_medir=aciertos.cuenta.clear)

    n, html = args.n, m.html
    print(f"{ruta}: {len(html.encode()) / 1024:.0f} KB, {html.count('<tr')} filas <tr>, "
          f"{html.count('class=\"item-plan')} ítems del plan; {n} peticiones.")
    imprimir_reloj(m)
    imprimir_partes(partes, n)
    print("Caché: " + ", ".join(f"{c}/{p} {r} {k / n:.1f}" for (c, p, r), k in sorted(aciertos.cuenta.items()))
          + " por petición\n")
    imprimir_consultas_y_perfil(m, partes, n, funciones=50)


if __name__ == "__main__":
    main()
