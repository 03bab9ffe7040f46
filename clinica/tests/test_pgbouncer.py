"""Behind PgBouncer in transaction mode (issue 18), with Debian's real PgBouncer in front of the test
PostgreSQL (the ``pgbouncer`` fixture; skipped with a notice where it is missing).

- The probes of ``nucleo.pooler`` tell PostgreSQL from a transaction pooler, and a pooler that
  keeps prepared statements from one that does not (PgBouncer 1.18 does not).
- ``bin/produccion`` refuses, with a Spanish message and before it migrates or starts anything,
  each combination known to break.
The whole deployment under load is ``test_despliegue_con_pgbouncer.py``.
"""

import subprocess
import sys
import urllib.parse

import pytest
from django.db import connection

from clinica.tests.test_produccion import PRODUCCION, _env, _url_de_la_base
from nucleo.pooler import conserva_preparadas, es_pooler_de_transacciones, parametros_de
from pruebas.pgbouncer import PgBouncer


def _parametros_del_pooler(pooler):
    return {**parametros_de("default"), "host": "127.0.0.1", "port": pooler.puerto}


def test_las_sondas_distinguen_postgres_de_un_pooler_de_transacciones(pgbouncer, db):
    directa = parametros_de("default")
    assert es_pooler_de_transacciones(directa) is False
    assert conserva_preparadas(directa).conservan is True

    pooler = _parametros_del_pooler(pgbouncer)
    assert es_pooler_de_transacciones(pooler) is True
    # The fixture's PgBouncer has no max_prepared_statements (1.18 does not know it; newer ones
    # get 0): it cannot keep them.
    preparadas = conserva_preparadas(pooler)
    assert preparadas.conservan is False
    assert "prepared statement" in preparadas.detalle


@pytest.mark.pgbouncer
def test_las_sondas_no_se_cuelgan_con_un_pool_de_una_conexion(db):
    """With one server connection the probe's two clients cannot both hold one: it still answers
    (the first one waits at most nucleo.pooler.ESPERA_S per round)."""
    datos = connection.settings_dict
    with PgBouncer(host=datos["HOST"], puerto=datos["PORT"], usuario=datos["USER"], tam_pool=1) as pooler:
        parametros = _parametros_del_pooler(pooler)
        assert es_pooler_de_transacciones(parametros) is True
        resultado = conserva_preparadas(parametros)
        assert resultado.conservan in (False, None), resultado
    pooler.limpiar()


@pytest.mark.pgbouncer
def test_la_sonda_de_preparadas_falla_sin_max_prepared_statements(db):
    """PgBouncer >= 1.21 with max_prepared_statements = 0 behaves as 1.18 (the fixture sets 0)."""
    datos = connection.settings_dict
    with PgBouncer(host=datos["HOST"], puerto=datos["PORT"], usuario=datos["USER"]) as pooler:
        assert conserva_preparadas(_parametros_del_pooler(pooler)).conservan is False
    pooler.limpiar()


@pytest.mark.pgbouncer
def test_un_pooler_en_modo_session_no_es_de_transacciones(db):
    """Session mode gives a client one server connection for its whole life: it carries
    everything, so the probes say "no pooler" (and nothing is turned off)."""
    datos = connection.settings_dict
    with PgBouncer(host=datos["HOST"], puerto=datos["PORT"], usuario=datos["USER"], modo="session") as pooler:
        parametros = _parametros_del_pooler(pooler)
        assert es_pooler_de_transacciones(parametros) is False
        assert conserva_preparadas(parametros).conservan is True
    pooler.limpiar()


# bin/produccion refuses what breaks ------------------------------------------------------------

def _url_por(pooler):
    partes = urllib.parse.urlsplit(_url_de_la_base())
    return partes._replace(netloc=f"{partes.username}@127.0.0.1:{pooler.puerto}").geturl()


def _produccion(**entorno):
    return subprocess.run([PRODUCCION, "--sin-tareas"], env=_env(CLINICA_SITIO="portal", **entorno),
                          capture_output=True, text=True, timeout=120)


def _rechazado(resultado, mensaje):
    assert resultado.returncode == 2, resultado.stdout + resultado.stderr
    assert mensaje in resultado.stderr, resultado.stderr
    assert "No se inicia nada." in resultado.stderr
    salida = resultado.stdout + resultado.stderr
    assert "Operations to perform" not in salida, "se negó antes de migrar"
    assert "==> Sitio" not in salida and "Booting worker" not in salida


def test_rechaza_la_web_por_un_pooler_sin_decirlo(pgbouncer, transactional_db):
    _rechazado(
        _produccion(DATABASE_URL=_url_por(pgbouncer), DATABASE_URL_DIRECTA=_url_de_la_base()),
        "DATABASE_URL pasa por un pooler en modo transacción (p. ej. PgBouncer con pool_mode = transaction) "
        "y DJANGO_DB_POOLER no lo dice",
    )


def test_rechaza_migrar_y_tareas_por_el_pooler(pgbouncer, transactional_db):
    """One URL for everything, and it is the pooler: the start-up lock, the migrations and the
    workers would all go through it."""
    resultado = _produccion(DATABASE_URL=_url_por(pgbouncer), DJANGO_DB_POOLER="ninguno")
    _rechazado(resultado, "DATABASE_URL (no definió DATABASE_URL_DIRECTA) pasa por un pooler en modo transacción")
    resultado = subprocess.run(
        [PRODUCCION, "--solo-tareas"],
        env=_env(DATABASE_URL=_url_de_la_base(), DATABASE_URL_DIRECTA=_url_por(pgbouncer),
                 DJANGO_DB_POOLER="transaccion"),
        capture_output=True, text=True, timeout=120,
    )
    _rechazado(resultado, "DATABASE_URL_DIRECTA pasa por un pooler en modo transacción, y las migraciones, "
                          "el candado de arranque y los procesos de tareas necesitan una sesión propia")


def test_rechaza_preparadas_por_un_pooler_que_no_las_conserva(pgbouncer, transactional_db):
    _rechazado(
        _produccion(DATABASE_URL=_url_por(pgbouncer), DATABASE_URL_DIRECTA=_url_de_la_base(),
                    DJANGO_DB_POOLER="transaccion", DJANGO_DB_PREPARAR="1"),
        "DJANGO_DB_PREPARAR=1, pero el pooler de DATABASE_URL no conserva las sentencias preparadas",
    )


def test_rechaza_el_pooler_sin_conexion_directa(db):
    _rechazado(_produccion(DATABASE_URL=_url_de_la_base(), DJANGO_DB_POOLER="transaccion"),
               "DJANGO_DB_POOLER=transaccion necesita DATABASE_URL_DIRECTA")


def test_rechaza_un_modo_de_pooler_desconocido(db):
    resultado = _produccion(DATABASE_URL=_url_de_la_base(), DJANGO_DB_POOLER="transaction")
    assert resultado.returncode == 2
    assert "DJANGO_DB_POOLER='transaction' no es válido. Use ninguno o transaccion" in resultado.stderr
    assert "==>" not in resultado.stdout


@pytest.mark.parametrize("argumentos,proceso,alias,base", [
    (["manage.py", "procrastinate", "worker"], None, "directa", "directa_db"),
    (["manage.py", "procrastinate", "--log-level=info", "worker", "--concurrency=2"], None, "directa", "directa_db"),
    (["algo-que-lanza-workers"], "tareas", "directa", "directa_db"),  # bin/produccion's CLINICA_PROCESO
    (["manage.py", "runserver"], None, "default", "web_db"),
    (["gunicorn", "clinica.wsgi"], None, "default", "web_db"),
    (["manage.py", "procrastinate", "defer", "x"], None, "default", "web_db"),
])
def test_los_workers_usan_la_conexion_directa(argumentos, proceso, alias, base):
    """A job worker takes procrastinate's connection (its LISTEN, polling, heartbeats) from the
    "directa" alias; every other process defers jobs on "default", inside the caller's transaction."""
    codigo = (
        f"import sys; sys.argv = {argumentos!r}\n"
        "import django; django.setup()\n"
        "from procrastinate.contrib.django import app\n"
        # The worker's own connector, as `manage.py procrastinate worker` builds it (its pool's
        # connection arguments are private: read here only to see where it would connect).
        "print(app.connector.alias, app.connector.get_worker_connector()._pool_args['kwargs']['dbname'])\n"
    )
    resultado = subprocess.run(
        [sys.executable, "-c", codigo], capture_output=True, text=True, timeout=60, cwd=PRODUCCION.parent.parent,
        env=_env(DJANGO_SETTINGS_MODULE="clinica.settings", CLINICA_PROCESO=proceso,
                 DATABASE_URL="postgres://u@web.interna:6432/web_db",
                 DATABASE_URL_DIRECTA="postgres://u@db.interna:5432/directa_db", DJANGO_DB_POOLER="transaccion"),
    )
    assert resultado.returncode == 0, resultado.stderr
    assert resultado.stdout.split()[-2:] == [alias, base]


def _arranque(**entorno):
    return subprocess.run(
        [sys.executable, "-m", "clinica.arranque", "--sin-web", "--sin-tareas"], cwd=PRODUCCION.parent.parent,
        env=_env(DJANGO_SETTINGS_MODULE="clinica.settings", **entorno), capture_output=True, text=True, timeout=120,
    )


def test_avisa_si_dice_pooler_y_llega_directo(transactional_db):
    """Not wrong, only slower (no prepared statements): it starts, and says so."""
    resultado = _arranque(DATABASE_URL=_url_de_la_base(), DATABASE_URL_DIRECTA=_url_de_la_base(),
                          DJANGO_DB_POOLER="transaccion")
    assert resultado.returncode == 0, resultado.stderr
    assert "AVISO: DJANGO_DB_POOLER=transaccion, pero DATABASE_URL llega directo a PostgreSQL" in resultado.stderr


def test_sin_base_alcanzable_sale_con_1_para_reintentar():
    """A database that is not up yet (a host that booted first): exit 1, a message, no traceback;
    systemd tries again."""
    resultado = _arranque(DATABASE_URL="postgres://nadie@127.0.0.1:9/nada")
    assert resultado.returncode == 1, resultado.stderr
    assert "\nERROR: no me pude conectar a la base de datos: connection failed" in resultado.stderr, resultado.stderr
    assert "Traceback" not in resultado.stderr


@pytest.mark.pgbouncer
def test_rechaza_un_pooler_en_modo_statement(transactional_db):
    datos = connection.settings_dict
    with PgBouncer(host=datos["HOST"], puerto=datos["PORT"], usuario=datos["USER"], modo="statement") as pooler:
        _rechazado(_produccion(DATABASE_URL=_url_por(pooler), DATABASE_URL_DIRECTA=_url_de_la_base(),
                               DJANGO_DB_POOLER="transaccion"),
                   "la base pasa por un pooler en modo statement (transaction blocks not allowed in statement pooling mode)")
    pooler.limpiar()
