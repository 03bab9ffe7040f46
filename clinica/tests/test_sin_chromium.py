"""A machine without Chromium still passes the suite: every browser test is skipped with one
clear reason and the run ends saying how many. ``CLINICA_CHROMIUM=/no/existe`` hides Chromium."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import MOTIVO_SIN_CHROMIUM, buscar_chromium

RAIZ = Path(__file__).resolve().parents[2]
UN_RECORRIDO = "clinica/tests/test_recorridos.py::test_dentista_ve_su_dia_y_no_el_de_otro"
SIN_NAVEGADOR = "clinica/tests/test_sin_chromium.py::test_clinica_chromium_elige_o_esconde_el_ejecutable"


def pytest_en_subproceso(*argumentos, **entorno):
    resultado = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *argumentos],
        cwd=RAIZ, env={**os.environ, **entorno}, capture_output=True, text=True, timeout=120,
    )
    return resultado.returncode, resultado.stdout + resultado.stderr


def test_clinica_chromium_elige_o_esconde_el_ejecutable(tmp_path):
    assert buscar_chromium({"CLINICA_CHROMIUM": "/no/existe"}) is None
    no_ejecutable = tmp_path / "chromium-texto"
    no_ejecutable.write_text("")
    assert buscar_chromium({"CLINICA_CHROMIUM": str(no_ejecutable)}) is None
    propio = tmp_path / "mi-chromium"
    propio.write_text("#!/bin/sh\n")
    propio.chmod(0o755)
    assert buscar_chromium({"CLINICA_CHROMIUM": str(propio)}) == str(propio)


def test_sin_chromium_las_pruebas_de_navegador_se_omiten_y_la_corrida_pasa():
    codigo, salida = pytest_en_subproceso(UN_RECORRIDO, SIN_NAVEGADOR, CLINICA_CHROMIUM="/no/existe")
    assert codigo == 0, salida
    assert "1 passed, 1 skipped" in salida  # the other test ran: only browser tests are skipped
    assert "SKIPPED [1] clinica/tests/test_recorridos.py" in salida and MOTIVO_SIN_CHROMIUM in salida
    ultima = salida.strip().splitlines()[-1]
    assert ultima.startswith("AVISO: se omitió 1 prueba de navegador porque falta Chromium"), salida


def test_las_pruebas_que_usan_page_quedan_marcadas_navegador():
    codigo, salida = pytest_en_subproceso(
        "--collect-only", "-q", "-m", "navegador", "clinica/tests/test_recorridos.py", "clinica/tests/test_sin_chromium.py"
    )
    assert codigo == 0, salida
    marcadas = [linea for linea in salida.splitlines() if "::" in linea]
    assert len(marcadas) == 4 and all(linea.startswith("clinica/tests/test_recorridos.py::") for linea in marcadas)
