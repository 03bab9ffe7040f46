"""The layers of DESIGN.md hold: import-linter's contracts in ``.importlinter`` (every import,
those inside functions too), run here so that ``bin/test`` fails on a violation."""

import contextlib
import re
import io
from pathlib import Path

from importlinter.cli import lint_imports

RAIZ = Path(__file__).resolve().parents[2]


def _lint(config) -> tuple[int, str]:
    salida = io.StringIO()
    with contextlib.redirect_stdout(salida):
        codigo = lint_imports(config_filename=str(config), no_cache=True, no_logo=True)
    return codigo, salida.getvalue()


def test_los_contratos_de_capas_se_cumplen():
    codigo, salida = _lint(RAIZ / ".importlinter")
    assert codigo == 0, salida
    for contrato in ("Capas de la clínica", "no importa pruebas", "Sin ciclos"):
        assert f"{contrato}" in salida and "BROKEN" not in salida


def test_el_contrato_ve_una_importacion_hacia_arriba(tmp_path):
    """The linter really reads our imports: with the base put above the appointments (which
    import it), the same kind of contract is broken."""
    config = tmp_path / "capas.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    nucleo\n    citas\ninclude_external_packages = False\n\n"
        "[importlinter:contract:al_reves]\nname = al reves\ntype = layers\nlayers =\n    nucleo\n    citas\n"
        "ignore_imports =\n    **.tests.** -> **\n"
    )
    codigo, salida = _lint(config)
    assert codigo != 0
    assert "citas" in salida and "BROKEN" in salida


DOMINIO = ("nucleo", "notificaciones", "pacientes", "personal", "citas", "cuentas", "mantenimiento")
# A site's URL name ("portal:activar"), a site's path ("/gestion/…") or a reverse() in the domain:
# links the domain sends come from the sites' adapter (CLINICA_ENLACES, nucleo/enlaces.py).
URL_DE_SITIO = re.compile(r"""["'](?:portal|gestion):\w|["']/(?:portal|gestion)/|\breverse(?:_lazy)?\(""")


def test_el_dominio_no_nombra_urls_de_los_sitios():
    culpables = [
        f"{archivo.relative_to(RAIZ)}:{numero}: {linea.strip()}"
        for paquete in DOMINIO
        for archivo in sorted((RAIZ / paquete).rglob("*.py"))
        if "tests" not in archivo.parts and "migrations" not in archivo.parts
        for numero, linea in enumerate(archivo.read_text().splitlines(), 1)
        if URL_DE_SITIO.search(linea)
    ]
    assert culpables == []


def test_la_busqueda_de_urls_de_sitio_encuentra_las_tres_formas():
    for linea in ('reverse("portal:documento", args=[1])', 'RUTA = "/portal/activar/{uid}/"', "'gestion:inicio'"):
        assert URL_DE_SITIO.search(linea)
    assert not URL_DE_SITIO.search('"Esta cita ya se cambió de hora 2 veces, el máximo por el portal: "')
