"""No secret in the repository: the files git tracks (and the new ones it would add) hold no
private key, provider token, real-looking password or .env file. Known test and demo values
are allowed by name, one by one."""

import re
import subprocess
from pathlib import Path

import pytest


RAIZ = Path(__file__).resolve().parents[2]


def archivos_del_repositorio():
    """Tracked files plus untracked ones not ignored (what the next commit could add)."""
    salida = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=RAIZ,
                            capture_output=True, check=True).stdout.decode()
    return sorted({r for r in salida.split("\0") if r and (RAIZ / r).is_file()})


ARCHIVOS = archivos_del_repositorio()


def _texto(ruta):
    try:
        return (RAIZ / ruta).read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return ""  # binary (images, fonts): no text secret to find


# This file is left out: it spells the patterns and the allowed examples.
TEXTOS = {r: t for r in ARCHIVOS
          if not r.startswith("static/vendor/") and r != "clinica/tests/test_secretos.py" and (t := _texto(r))}

PATRONES = {
    "clave privada": re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret": re.compile(r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}"),
    # A Twilio account SID is not secret by itself; with a 32-hex auth token beside it, it is.
    "Twilio SID + token": re.compile(r"\bAC[0-9a-f]{32}\b[\s\S]{0,300}?\b[0-9a-f]{32}\b"),
    "Twilio API key": re.compile(r"\bSK[0-9a-f]{32}\b"),
    "token de Meta": re.compile(r"\bEAA[A-Za-z0-9]{20,}"),
    "token de GitHub": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "token de Slack": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "clave de Google": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    # Placeholders in the docs ("usuario:clave@", "${...}") are not passwords.
    "URL con contraseña": re.compile(
        r"\b[a-z][a-z0-9+]*://[^\s:/@'\"]+:(?!(?:clave|CLAVE|password|\*+)@|\$)[^\s@/'\"]{4,}@"),
}
# Known example credentials, by file: (file, the matched text).
EJEMPLOS_PERMITIDOS = {
    # The example compose file's own database, reachable only inside its private network.
    ("docs/docker/compose.yaml", "postgres://clinica:clinica@"),
}

# ``name = "literal"`` or ``"name": "literal"`` in code; ``NAME: literal`` / ``NAME=literal``
# in YAML, .env and shell files. The name says it holds a secret; the value is written out.
_NOMBRE = r"\w*(?:password|passwd|contrasena|clave|secret|token|api_key|apikey)\w*"
ASIGNACION = re.compile(
    rf"""(?:\b(?P<nombre>{_NOMBRE})\s*=\s*|["'](?P<clave>{_NOMBRE})["']\s*:\s*)"""
    r"""(?P<comillas>["'])(?P<valor>[^"'\s]{6,})(?P=comillas)""",  # a sentence is a message, not a secret
    re.IGNORECASE,
)
ASIGNACION_DE_CONFIGURACION = re.compile(
    rf"""^\s*(?:export\s+)?(?P<var>{_NOMBRE})\s*[:=]\s*["']?(?P<valor>[^\s"'#]{{6,}})""",
    re.IGNORECASE | re.MULTILINE,
)
CONFIGURACION = (".yaml", ".yml", ".env", ".ini", ".cfg", ".toml", ".sh", ".conf")


def asignaciones(ruta, texto):
    yield from ASIGNACION.finditer(texto)
    if ruta.endswith(CONFIGURACION) or "/" not in ruta and "." not in ruta or ruta.startswith("bin/"):
        yield from ASIGNACION_DE_CONFIGURACION.finditer(texto)


def _nombre(m):
    grupos = m.groupdict()
    return grupos.get("nombre") or grupos.get("clave") or grupos.get("var")
# Each known value, by file and name: test constants and the demo's published password.
PERMITIDOS = {
    ("demo/datos.py", "PASSWORD_DEMO"),  # printed on screen and in the README on purpose
    ("demo/datos.py", "SECRETO_DEMO_BASE32"),  # the demo staff's authenticator secret: in the README too
    ("pruebas/soporte.py", "SECRETO_DE_PRUEBA"),  # the tests' authenticator devices (RFC 6238's example key)
    # The development/test key: settings refuse it without DEBUG outside the test run
    # (test_la_clave_de_desarrollo_solo_con_la_guarda_de_debug holds that guard in place).
    ("clinica/settings.py", "SECRET_KEY"),
    ("conftest.py", "CLAVE_PERSONAL"),  # every staff member's password in the tests (crear_personal)
    ("pruebas/proveedores.py", "TWILIO_TOKEN"),  # the local fake provider's
    ("pruebas/proveedores.py", "META_TOKEN"),
    # Django's placeholder in the set-password URL, not a secret.
    ("cliente_web/views/clave.py", "reset_url_token"),
    ("gestion_clinica/views/sesion.py", "reset_url_token"),
    # An error code mapped to its form field.
    ("gestion_clinica/forms/personal.py", "invitacion_con_clave"),
    # The example compose file's own database, reachable only inside its private network.
    ("docs/docker/compose.yaml", "POSTGRES_PASSWORD"),
}


def _es_de_pruebas(ruta):
    partes = Path(ruta).parts
    return "tests" in partes or Path(ruta).name.startswith("test_")


def test_los_detectores_reconocen_secretos():
    """Built by pieces, so that this file does not hold the very things it looks for."""
    ejemplos = {
        "clave privada": "-----BEGIN " + "RSA PRIVATE KEY-----",
        "AWS access key": "AKIA" + "ABCDEFGHIJKLMNOP",
        "Twilio SID + token": "sid = 'AC" + "a" * 32 + "'\ntoken = '" + "b" * 32 + "'",
        "token de Meta": "EAA" + "Bx7" * 10,
        "URL con contraseña": "postgres://clinica:" + "s3cr3t0-real@db/clinica",
    }
    for nombre, texto in ejemplos.items():
        assert PATRONES[nombre].search(texto), nombre
    assert not PATRONES["URL con contraseña"].search("postgres://usuario:" + "clave@host/clinica")
    asignacion = next(ASIGNACION.finditer("EMAIL_PASSWORD = " + "'hunter22-xyz'"))
    assert _nombre(asignacion) == "EMAIL_PASSWORD"
    assert not list(ASIGNACION.finditer("password = form.cleaned_data['password']"))


def test_se_revisan_los_archivos_del_repositorio():
    assert "clinica/settings.py" in TEXTOS and "manage.py" in TEXTOS
    assert len(TEXTOS) > 100


@pytest.mark.parametrize("nombre", sorted(PATRONES))
def test_ningun_token_ni_clave_privada(nombre):
    patron = PATRONES[nombre]
    hallazgos = [f"{ruta}:{texto[:m.start()].count(chr(10)) + 1}"
                 for ruta, texto in TEXTOS.items() for m in patron.finditer(texto)
                 if (ruta, m.group()) not in EJEMPLOS_PERMITIDOS]
    assert not hallazgos, f"posible secreto ({nombre}) en: {hallazgos}; muévalo a una variable de entorno"


def test_ninguna_contrasena_escrita_fuera_de_pruebas():
    hallazgos = []
    for ruta, texto in TEXTOS.items():
        if _es_de_pruebas(ruta):
            continue
        for m in asignaciones(ruta, texto):
            valor = m["valor"]
            if valor.startswith(("$", "<", "{")) or (ruta, _nombre(m)) in PERMITIDOS:
                continue  # shell substitutions and placeholders in docs, or a known value
            hallazgos.append(f"{ruta}:{texto[:m.start()].count(chr(10)) + 1} {_nombre(m)}")
    assert not hallazgos, (
        f"contraseñas o claves escritas en el código: {hallazgos}. Léalas del entorno, o si es un valor "
        "de prueba o de la demostración agréguelo a PERMITIDOS con el porqué."
    )


def test_los_permitidos_siguen_existiendo():
    """An allow-list entry whose value is gone must go too (or it would hide a new one)."""
    vistos = {(ruta, _nombre(m)) for ruta, texto in TEXTOS.items() for m in asignaciones(ruta, texto)}
    assert PERMITIDOS <= vistos, sorted(PERMITIDOS - vistos)


def test_ningun_archivo_env():
    envs = [r for r in ARCHIVOS if re.fullmatch(r"\.env(\..+)?|.+\.(pem|key|p12|pfx)|id_(rsa|ed25519|ecdsa)",
                                                Path(r).name) and not r.endswith((".example", ".ejemplo"))]
    assert not envs, f"archivos de secretos en el repositorio: {envs}"


def test_la_clave_de_desarrollo_solo_con_la_guarda_de_debug():
    """The insecure development key may appear only where the settings refuse to run without
    DJANGO_SECRET_KEY when DEBUG is off."""
    con_clave = [r for r, t in TEXTOS.items() if "django-insecure" in t and not _es_de_pruebas(r) and r.endswith(".py")]
    assert con_clave == ["clinica/settings.py"], con_clave
    ajustes = TEXTOS["clinica/settings.py"]
    assert re.search(r"if not .*DJANGO_SECRET_KEY|DJANGO_SECRET_KEY.*\n.*if not", ajustes)
    assert "ImproperlyConfigured" in ajustes and "DEBUG" in ajustes
