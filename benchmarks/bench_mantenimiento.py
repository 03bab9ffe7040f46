"""Benchmark de los comandos de mantenimiento sobre una clínica grande.

Un script, no una prueba. En su propia base ``bench_mant`` (la BORRA y la crea de nuevo en
cada ejecución, en el PostgreSQL embebido):

1. migra y llena N pacientes (por defecto 1.000.000) con SQL por conjuntos (``INSERT ...
   SELECT ... FROM generate_series``): 90 % con cuenta del portal (``auth_user`` +
   ``cuentas_perfilcliente``), 10 % presenciales sin cuenta, 2 citas por paciente repartidas
   entre los dentistas sin traslapes, un aviso enviado por paciente;
2. planta un 1 % de cada anomalía (cuentas huérfanas, fichas desactivadas con cuenta, cuentas
   desincronizadas, por vincular, ambiguas, sin perfil, RUT/correo/teléfono duplicados, RUT con
   dígito verificador malo, citas tomadas sin paciente, horas libres con paciente, citas
   traslapadas, avisos estancados, trabajos fallidos);
3. ejecuta cada comando como lo haría cron (``manage.py ...`` en su propio proceso), con
   ``--dry-run`` primero y después de verdad, y mide segundos y memoria máxima (``ru_maxrss``
   del proceso, por ``os.wait4``); compara lo que ``verificar_integridad`` encontró con lo
   plantado, antes y después de reparar.

    bin/bench-mantenimiento                      # 1.000.000 pacientes
    bin/bench-mantenimiento --pacientes 100000   # 100.000

Para llenar rápido, el llenado corre con ``SET LOCAL session_replication_role = replica``: sin
los disparadores de auditoría (pghistory) ni los de las claves foráneas. Es una importación
masiva de datos sintéticos, no un camino de producción; los comandos medidos corren con todos
los disparadores activos y su auditoría se escribe. Para poder plantar duplicados y traslapes
se quitan los índices únicos de RUT/correo/teléfono y la restricción de exclusión de citas (la
base queda como una importada antes de que existieran); los CHECK de citas vuelven como
``NOT VALID``.

Salida distinta de 0 si algún comando falla o si lo encontrado no calza con lo plantado.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
NOMBRE_BD = "bench_mant"
CARPETA_SALIDAS = RAIZ / "var" / "bench_mantenimiento"
META_S = 30


def leer_argumentos(argv=None):
    p = argparse.ArgumentParser(description="Mide limpiar_registros_huerfanos, sincronizar_clientes y "
                                            "verificar_integridad sobre una clínica grande.")
    p.add_argument("--pacientes", type=int, default=1_000_000, help="pacientes; 1000000")
    p.add_argument("--dentistas", type=int, default=100, help="dentistas; 100")
    p.add_argument("--solo-llenar", action="store_true",
                   help="llenar y plantar las anomalías, sin ejecutar los comandos (para explorar la base)")
    args = p.parse_args(argv)
    if args.pacientes < 1000 or args.pacientes % 100:
        p.error("--pacientes debe ser un múltiplo de 100, desde 1000")
    return args


def preparar_django():
    if os.environ.get("DATABASE_URL"):
        print("Este benchmark BORRA y crea su base en el PostgreSQL embebido: quite DATABASE_URL.", file=sys.stderr)
        sys.exit(2)
    os.environ["CLINICA_DB_NAME"] = NOMBRE_BD
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinica.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(RAIZ))
    from clinica import postgres_embebido

    postgres_embebido.recrear_base(NOMBRE_BD)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- fill -------------------------------------------------------------------------------------


def insertar(cursor, modelo, valores, desde):
    """``INSERT INTO <tabla del modelo> SELECT ... FROM desde``: ``valores`` maps columns to SQL
    expressions; every other column gets the field's default (or the database's), so a column
    another app adds later does not break the fill."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    columnas, expresiones, parametros = [], [], []
    for campo in modelo._meta.concrete_fields:
        if campo.column in valores:
            expresion = valores[campo.column]
        elif getattr(campo, "auto_now", False) or getattr(campo, "auto_now_add", False):
            expresion = "now()"
        elif campo.db_default is not NOT_PROVIDED or campo.primary_key:
            continue
        else:
            expresion = "%s"
            parametros.append(campo.get_db_prep_save(campo.get_default(), connection))
        columnas.append(connection.ops.quote_name(campo.column))
        expresiones.append(expresion)
    cursor.execute(
        f"INSERT INTO {connection.ops.quote_name(modelo._meta.db_table)} ({', '.join(columnas)}) "
        f"SELECT {', '.join(expresiones)} FROM {desde}",
        parametros,
    )
    return cursor.rowcount


def llenar(n, dentistas):
    """The healthy clinic, set-wise. Ids are explicit so the anomalies can pick rows by formula:
    patient i (1..n) has Cliente i; those with i % 10 <> 0 also have User i and PerfilCliente i."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from citas.models import Cita
    from cuentas.models import PerfilCliente
    from pacientes.integridad import digito_verificador
    from notificaciones.models import Notificacion
    from pacientes.models import Cliente
    from personal.models import Perfil

    User = get_user_model()
    staff0 = 3 * n  # staff user ids start after every patient and planted login
    filas = {}
    with transaction.atomic(), connection.cursor() as c:
        # Bulk import of synthetic data: no audit or foreign-key triggers (see the module's docstring).
        c.execute("SET LOCAL session_replication_role = replica")
        c.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # Constraints that the planted anomalies break: gone before the fill (faster, too).
        for indice in ("cliente_rut_activo_unico", "cliente_email_activo_unico", "cliente_telefono_activo_unico"):
            c.execute(f'DROP INDEX IF EXISTS "{indice}"')
        for restriccion in ("cita_sin_traslape_por_dentista", "cita_reservada_con_paciente",
                            "cita_disponible_sin_paciente"):
            c.execute(f'ALTER TABLE citas_cita DROP CONSTRAINT IF EXISTS "{restriccion}"')
        filas["auth_user (personal)"] = insertar(c, User, {
            "id": f"{staff0} + d", "password": "'!'", "username": "'dentista' || d",
            "first_name": "'Dentista'", "last_name": "'Bench ' || d", "email": "'dentista' || d || '@bench.example'",
            "is_staff": "true", "is_superuser": "false", "is_active": "true", "date_joined": "now()",
        }, f"generate_series(1, {dentistas}) d")
        insertar(c, Perfil, {"id": "d", "user_id": f"{staff0} + d", "rol": "'dentista'", "activo": "true"},
                 f"generate_series(1, {dentistas}) d")
        filas["auth_user (pacientes)"] = insertar(c, User, {
            "id": "i", "password": "'!'", "username": "'paciente' || i || '@bench.example'",
            "first_name": "'Paciente ' || i", "last_name": "'Bench Prueba'",
            "email": "'paciente' || i || '@bench.example'", "is_staff": "false", "is_superuser": "false",
            "is_active": "true", "date_joined": "now()",
        }, f"generate_series(1, {n}) i WHERE mod(i, 10) <> 0")
        filas["cuentas_perfilcliente"] = insertar(c, PerfilCliente, {
            "id": "i", "user_id": "i", "privacidad_aceptada_en": "now()",
        }, f"generate_series(1, {n}) i WHERE mod(i, 10) <> 0")
        filas["pacientes_cliente"] = insertar(c, Cliente, {
            "id": "i", "nombre_completo": "'Paciente ' || i || ' Bench Prueba'",
            "email": "'paciente' || i || '@bench.example'", "telefono": "'+569' || (10000000 + i)",
            "rut": f"(10000000 + i) || '-' || {digito_verificador('(10000000 + i)')}",
            "activo": "true", "user_id": "CASE WHEN mod(i, 10) <> 0 THEN i END",
        }, f"generate_series(1, {n}) i")
        # Two appointments per patient; slot k of dentist (k mod D) + 1, back to back, half in the past.
        filas["citas_cita"] = insertar(c, Cita, {
            "id": "k + 1", "dentista_id": f"mod(k, {dentistas}) + 1",
            "inicio": f"date_trunc('hour', now()) + (k / {dentistas} - {n} / {dentistas}) * interval '30 minutes'",
            "fin": f"date_trunc('hour', now()) + (k / {dentistas} - {n} / {dentistas} + 1) * interval '30 minutes'",
            "estado": f"CASE WHEN k / {dentistas} < {n} / {dentistas} THEN 'atendida' ELSE 'reservada' END",
            "cliente_id": f"mod(k, {n}) + 1", "paciente_nombre": f"'Paciente ' || (mod(k, {n}) + 1) || ' Bench Prueba'",
            "paciente_email": f"'paciente' || (mod(k, {n}) + 1) || '@bench.example'",
            "paciente_telefono": f"'+569' || (10000000 + mod(k, {n}) + 1)", "motivo": "'Control'",
        }, f"generate_series(0, {2 * n - 1}) k")
        filas["notificaciones_notificacion"] = insertar(c, Notificacion, {
            "id": "i", "cliente_id": "i", "canal": "'email'", "plantilla": "'reserva_confirmada'",
            "destinatario": "'paciente' || i || '@bench.example'", "asunto": "'Su hora'",
            "cuerpo": "'Su hora quedó reservada.'", "estado": "'enviada'", "intentos": "1",
            "clave_idempotencia": "'bench:' || i", "enviada_en": "now()",
        }, f"generate_series(1, {n}) i")
        for tabla in ("auth_user", "cuentas_perfilcliente", "pacientes_cliente", "personal_perfil", "citas_cita",
                      "notificaciones_notificacion"):
            c.execute(f"SELECT setval(pg_get_serial_sequence('{tabla}', 'id'), (SELECT max(id) FROM {tabla}))")
    return filas


def plantar(n, dentistas):
    """1 % of each anomaly (a = n / 100 rows each), on disjoint rows chosen by i mod 100.
    Returns what verificar_integridad must find."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from cuentas.models import PerfilCliente
    from pacientes.integridad import digito_verificador

    User = get_user_model()

    a = n // 100
    r = "mod(id, 100)"
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL session_replication_role = replica")
        # r=1: deactivated patients keep their login and profile → orphans.
        c.execute(f"UPDATE pacientes_cliente SET activo = false WHERE {r} = 1")
        # r=2: login drifted from the record.
        c.execute(f"UPDATE auth_user SET email = 'antes' || id || '@viejo.example' WHERE {r} = 2 AND id <= {n}")
        # r=3: link lost (old data) → por vincular.
        c.execute(f"UPDATE pacientes_cliente SET user_id = NULL WHERE {r} = 3")
        # r=4: profile lost.
        c.execute(f"DELETE FROM cuentas_perfilcliente WHERE {r} = 4")
        # r=5: RUT of the previous patient (pairs).
        c.execute(f"UPDATE pacientes_cliente SET rut = (10000000 + id - 1) || '-' || "
                  f"{digito_verificador('(10000000 + id - 1)')} WHERE {r} = 5")
        # r=7: link lost and a second login whose username is the record's e-mail → ambiguous.
        c.execute(f"UPDATE pacientes_cliente SET user_id = NULL WHERE {r} = 7")
        insertar(c, User, {
            "id": f"{n} + i", "password": "'!'", "username": "'otra' || i", "first_name": "'Otra'",
            "last_name": "'Cuenta'", "email": "'paciente' || i || '@bench.example'", "is_staff": "false",
            "is_superuser": "false", "is_active": "true", "date_joined": "now()",
        }, f"generate_series(7, {n}, 100) i")
        # Walk-ins (no account), r=10/20/30: e-mail and phone of the previous patient; bad check digit.
        c.execute(f"UPDATE pacientes_cliente SET email = 'paciente' || (id - 1) || '@bench.example' WHERE {r} = 10")
        c.execute(f"UPDATE pacientes_cliente SET telefono = '+569' || (10000000 + id - 1) WHERE {r} = 20")
        c.execute(f"""UPDATE pacientes_cliente SET rut = (10000000 + id) || '-' ||
                      CASE {digito_verificador('(10000000 + id)')} WHEN '1' THEN '2' ELSE '1' END WHERE {r} = 30""")
        # Logins that never had a patient; half with a profile.
        insertar(c, User, {
            "id": f"2 * {n} + j", "password": "'!'", "username": "'huerfano' || j || '@bench.example'",
            "first_name": "'Sin'", "last_name": "'Ficha'", "email": "'huerfano' || j || '@bench.example'",
            "is_staff": "false", "is_superuser": "false", "is_active": "true", "date_joined": "now()",
        }, f"generate_series(1, {a}) j")
        insertar(c, PerfilCliente, {"id": f"2 * {n} + j", "user_id": f"2 * {n} + j"},
                 f"generate_series(1, {a}, 2) j")
        # Appointments (2n rows, so k mod 200 picks a of them): taken without patient, free with
        # patient, overlapping the previous slot of the same dentist.
        c.execute("UPDATE citas_cita SET cliente_id = NULL, paciente_nombre = '' WHERE mod(id, 200) = 11")
        c.execute("UPDATE citas_cita SET estado = 'disponible' WHERE mod(id, 200) = 17")
        # (113, not 13: the first slot of each dentist has no previous one to overlap.)
        c.execute("UPDATE citas_cita SET inicio = inicio - interval '15 minutes' WHERE mod(id, 200) = 113")
        # Notifications stuck pending for days, each with its failed delivery job.
        c.execute(f"""UPDATE notificaciones_notificacion SET estado = 'pendiente', enviada_en = NULL,
                             creado = now() - interval '3 days' WHERE {r} = 41""")
        c.execute(f"""INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts)
                      SELECT 'notificaciones', 'notificaciones.enviar', jsonb_build_object('notificacion_id', i),
                             'failed', 11 FROM generate_series(41, {n}, 100) i""")
        # The CHECKs come back for new rows only, like on a database imported before them.
        c.execute("""ALTER TABLE citas_cita ADD CONSTRAINT cita_reservada_con_paciente CHECK
                     (estado = 'disponible' OR cliente_id IS NOT NULL OR paciente_nombre <> '') NOT VALID""")
    return {
        "rut_duplicado": 2 * a, "email_duplicado": 2 * a, "telefono_duplicado": 2 * a, "dato_no_normalizado": a,
        "cuenta_huerfana": 2 * a, "perfil_huerfano": a + (a + 1) // 2, "cuenta_por_vincular": a,
        "vinculo_ambiguo": a, "cuenta_desincronizada": a, "cuenta_sin_perfil": a,
        "citas_traslapadas": sum(1 for k in range(113, 2 * n + 1, 200) if k > dentistas), "cita_reservada_sin_paciente": a, "cita_disponible_con_paciente": a,
        "aviso_estancado": a, "trabajo_fallido": a,
    }


# --- measuring --------------------------------------------------------------------------------


def ejecutar_comando(nombre, *argumentos):
    """``manage.py nombre argumentos`` in its own process, as cron runs it; returns
    (exit status, wall seconds, peak RSS in MB, stdout, the command's own duracion_s)."""
    CARPETA_SALIDAS.mkdir(parents=True, exist_ok=True)
    etiqueta = "_".join([nombre, *[x.strip("-") for x in argumentos]])
    entorno = {**os.environ, "CLINICA_DB_NAME": NOMBRE_BD, "DJANGO_LOG_LEVEL": "INFO"}
    with open(CARPETA_SALIDAS / f"{etiqueta}.out", "w") as salida, open(CARPETA_SALIDAS / f"{etiqueta}.err", "w") as err:
        inicio = time.perf_counter()
        proceso = subprocess.Popen([sys.executable, str(RAIZ / "manage.py"), nombre, *argumentos],
                                   stdout=salida, stderr=err, env=entorno, cwd=RAIZ)
        _, estado, uso = os.wait4(proceso.pid, 0)
        segundos = time.perf_counter() - inicio
        proceso.returncode = os.waitstatus_to_exitcode(estado)
    texto = (CARPETA_SALIDAS / f"{etiqueta}.out").read_text()
    registro = (CARPETA_SALIDAS / f"{etiqueta}.err").read_text()
    propio = re.findall(r"duracion_s=([0-9.]+)", registro)
    return proceso.returncode, segundos, uso.ru_maxrss / 1024, texto, float(propio[-1]) if propio else None


def miles(n):
    return f"{n:,}".replace(",", ".")


def contar(informe):
    return {h["codigo"]: h["cantidad"] for h in informe["hallazgos"] if not h["informativo"]}


def comparar(encontrado, esperado, titulo):
    malos = {k: (encontrado.get(k, 0), v) for k, v in esperado.items() if encontrado.get(k, 0) != v}
    malos.update({k: (v, 0) for k, v in encontrado.items() if v and k not in esperado})
    print(f"  {titulo}: " + ("coincide con lo plantado" if not malos else f"NO COINCIDE (encontrado, esperado): {malos}"))
    return not malos


def maquina():
    from django.db import connection

    cpu = next((linea.split(":", 1)[1].strip() for linea in Path("/proc/cpuinfo").read_text().splitlines()
                if linea.startswith("model name")), platform.processor())
    memoria = next((int(linea.split()[1]) // 1024 // 1024 for linea in Path("/proc/meminfo").read_text().splitlines()
                    if linea.startswith("MemTotal")), 0)
    with connection.cursor() as c:
        c.execute("SHOW server_version")
        version = c.fetchone()[0]
    return f"{os.cpu_count()} núcleos ({cpu}), {memoria} GB RAM, PostgreSQL {version}, Python {platform.python_version()}"


def main(argv=None):
    args = leer_argumentos(argv)
    t0 = time.perf_counter()
    preparar_django()
    from django.db import connection

    print(f"Máquina: {maquina()}")
    print(f"Base: {NOMBRE_BD} (borrada y creada de nuevo; migrada en {time.perf_counter() - t0:.1f} s)")
    t = time.perf_counter()
    filas = llenar(args.pacientes, args.dentistas)
    llenado = time.perf_counter() - t
    t = time.perf_counter()
    esperado = plantar(args.pacientes, args.dentistas)
    plantado = time.perf_counter() - t
    t = time.perf_counter()
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE")  # what autovacuum would have done by the time cron runs
        c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        tamano = c.fetchone()[0]
    vacuum = time.perf_counter() - t
    print(f"Llenado: {miles(args.pacientes)} pacientes en {llenado:.1f} s ("
          + ", ".join(f"{k} {miles(v)}" for k, v in filas.items()) + ")")
    print(f"Anomalías plantadas (1 % de cada tipo) en {plantado:.1f} s; VACUUM ANALYZE {vacuum:.1f} s; "
          f"tamaño de la base: {tamano}")
    connection.close()  # the commands below must not wait on this process's locks
    if args.solo_llenar:
        print(f"--solo-llenar: la base {NOMBRE_BD} queda lista; ejecute los comandos con CLINICA_DB_NAME={NOMBRE_BD}.")
        return 0

    pasos = [
        ("verificar_integridad", ("--format", "json"), 1),
        ("limpiar_registros_huerfanos", ("--dry-run",), 0),
        ("limpiar_registros_huerfanos", ("--force",), 0),
        ("sincronizar_clientes", ("--dry-run",), 0),
        ("sincronizar_clientes", (), 0),
        ("verificar_integridad", ("--format", "json"), 1),
        ("limpiar_registros_huerfanos", ("--force",), 0),
        ("sincronizar_clientes", (), 0),
    ]
    print(f"\n{'comando':<48} {'salida':>6} {'s (proceso)':>12} {'s (comando)':>12} {'MB máx.':>8}")
    bien = True
    informes = []
    for nombre, argumentos, salida_esperada in pasos:
        codigo, segundos, mb, texto, propio = ejecutar_comando(nombre, *argumentos)
        orden = " ".join([nombre, *argumentos])
        propio_txt = f"{propio:.2f}" if propio is not None else "-"
        print(f"{orden:<48} {codigo:>6} {segundos:>12.2f} {propio_txt:>12} {mb:>8.0f}")
        if codigo != salida_esperada:
            bien = False
            print(f"  salida inesperada {codigo} (esperada {salida_esperada}); ver {CARPETA_SALIDAS}")
        if segundos > META_S:
            bien = False
            print(f"  más de {META_S} s")
        if nombre == "verificar_integridad" and texto.strip():
            informes.append(json.loads(texto))
    print()
    if len(informes) == 2:
        bien &= comparar(contar(informes[0]), esperado, "verificar_integridad antes de reparar")
        # limpiar removes the orphans; sincronizar links, repairs and gives profiles: the rest stays.
        despues = {k: v for k, v in esperado.items() if k not in {
            "cuenta_huerfana", "perfil_huerfano", "cuenta_por_vincular", "cuenta_desincronizada", "cuenta_sin_perfil"}}
        bien &= comparar(contar(informes[1]), despues, "verificar_integridad después de limpiar y sincronizar")
    print(f"Salidas de cada comando en {CARPETA_SALIDAS}/")
    print(f"Total: {time.perf_counter() - t0:.1f} s")
    return 0 if bien else 1


if __name__ == "__main__":
    sys.exit(main())
