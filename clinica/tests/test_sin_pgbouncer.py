"""A machine without PgBouncer still passes the suite: every pooler test is skipped with one
clear reason and the run ends saying how many. ``CLINICA_PGBOUNCER=/no/existe`` hides it."""

from clinica.tests.test_sin_chromium import pytest_en_subproceso
from pruebas.pgbouncer import MOTIVO_SIN_PGBOUNCER, buscar_pgbouncer

UNA_DEL_POOLER = "clinica/tests/test_pgbouncer.py::test_las_sondas_distinguen_postgres_de_un_pooler_de_transacciones"
# One that starts its own PgBouncer (marked ``pgbouncer``, no fixture).
OTRA_DEL_POOLER = "clinica/tests/test_pgbouncer.py::test_un_pooler_en_modo_session_no_es_de_transacciones"
# Neither may touch the database: a pytest inside the run would recreate the run's own test database.
SIN_POOLER = "clinica/tests/test_sin_pgbouncer.py::test_clinica_pgbouncer_elige_o_esconde_el_ejecutable"


def test_clinica_pgbouncer_elige_o_esconde_el_ejecutable(tmp_path):
    assert buscar_pgbouncer({"CLINICA_PGBOUNCER": "/no/existe"}) is None
    propio = tmp_path / "mi-pgbouncer"
    propio.write_text("#!/bin/sh\n")
    propio.chmod(0o755)
    assert buscar_pgbouncer({"CLINICA_PGBOUNCER": str(propio)}) == str(propio)


def test_sin_pgbouncer_las_pruebas_del_pooler_se_omiten_y_la_corrida_pasa():
    codigo, salida = pytest_en_subproceso(UNA_DEL_POOLER, OTRA_DEL_POOLER, SIN_POOLER, CLINICA_PGBOUNCER="/no/existe")
    assert codigo == 0, salida
    assert "1 passed, 2 skipped" in salida  # the test that needs no PgBouncer ran
    assert salida.count("SKIPPED [1] clinica/tests/test_pgbouncer.py") == 2 and MOTIVO_SIN_PGBOUNCER in salida
    ultima = salida.strip().splitlines()[-1]
    assert ultima.startswith("AVISO: se omitieron 2 pruebas del pooler porque falta PgBouncer"), salida
