import random

import pytest

from pacientes.models import Cliente
from pacientes.selectors import LARGO_MAXIMO_BUSQUEDA, buscar_pacientes

# Stored in normal form, as the services store them (RUT 12345678-5, E.164, lower-case e-mail).
PACIENTES = {
    "jose": ("José Núñez Ávila", "12345678-5", "jose.nunez@correo.example", "+56961234567"),
    "maria": ("María José Pérez Soto", "10000013-K", "mjperez@correo.example", "+56962223333"),
    "ana": ("Ana Müller O'Brien", "9876543-3", "ana_muller@correo.example", "+56963334444"),
    "anax": ("Anax Muller", "", "anaxmuller@correo.example", ""),
    "zoe": ("ZOE ÑANDÚ LÓPEZ", "15234871-1", "", "+56964445555"),
    "rene": ("Rene\u0301 Ibn-Saïd [Ortiz] (hijo) 100%", "", "", ""),  # stored decomposed, odd symbols
}
INACTIVO = ("Pedro Inactivo Rojas", "12345679-3", "pedro@correo.example", "+56965556666")


def crear(nombre, rut="", email="", telefono="", activo=True):
    return Cliente.objects.create(nombre_completo=nombre, rut=rut, email=email, telefono=telefono, activo=activo)


@pytest.fixture
def pacientes(db):
    creados = {clave: crear(*datos) for clave, datos in PACIENTES.items()}
    creados["pedro"] = crear(*INACTIVO, activo=False)
    return creados


def claves(pacientes, resultado):
    por_pk = {c.pk: clave for clave, c in pacientes.items()}
    return [por_pk[c.pk] for c in resultado]


@pytest.mark.parametrize(
    ("texto", "esperado"),
    [
        # Name: case- and accent-insensitive, every word somewhere in the name.
        ("jose", ["jose", "maria"]),
        ("JOSÉ", ["jose", "maria"]),
        ("nunez", ["jose"]),
        ("NÚÑEZ ávila", ["jose"]),
        ("Nu\u0301n\u0303ez", ["jose"]),  # typed with combining accents (decomposed)
        ("jose perez", ["maria"]),
        ("perez jose", ["maria"]),
        ("muller", ["ana", "anax"]),
        ("müller", ["ana", "anax"]),
        ("nandu", ["zoe"]),
        ("o'brien", ["ana"]),
        ("  ana   muller  ", ["ana", "anax"]),
        ("soto perez maria jose", ["maria"]),
        ("jose gonzalez", []),
        ("rené", ["rene"]),
        ("RENE", ["rene"]),
        ("ibn-said", ["rene"]),
        ("[ortiz]", ["rene"]),
        ("(hijo)", ["rene"]),
        ("100%", ["rene"]),
        ("0%", ["rene"]),
        ("ortiz]", ["rene"]),
        ("(", ["rene"]),
        ("o.tiz", []),  # "." is a dot, not "any character"
        ("or*", []),
        ("hijo|jose", []),
        # RUT in any spelling, full or partial (prefix of the body).
        ("12.345.678-5", ["jose"]),
        ("12345678-5", ["jose"]),
        ("123456785", ["jose"]),
        ("12.345", ["jose"]),
        ("12345", ["jose"]),
        ("012.345.678-5", ["jose"]),
        ("10.000.013-k", ["maria"]),
        ("10000013K", ["maria"]),
        ("9.876.543-3", ["ana"]),
        ("15.234.871-1", ["zoe"]),
        ("12.345.678-4", []),
        # Phone in any spelling: its digits inside the E.164 number.
        ("6123 4567", ["jose"]),
        ("+56 9 6123 4567", ["jose"]),
        ("+56961234567", ["jose"]),
        ("961234567", ["jose"]),
        ("09 6123 4567", ["jose"]),
        ("(9) 6222-3333", ["maria"]),
        ("4444", ["ana"]),
        # E-mail, case-insensitive; % and _ are literal characters, not wildcards.
        ("MJPEREZ@", ["maria"]),
        ("@CORREO.example", ["ana", "anax", "jose", "maria"]),
        ("ana_m", ["ana"]),
        ("%", ["rene"]),
        ("%%", []),
        ("_", ["ana"]),
        ("\\", []),
        # Inactive patients are left out by default.
        ("pedro", []),
        ("12345679", []),
    ],
)
def test_buscar_pacientes(pacientes, texto, esperado):
    assert claves(pacientes, buscar_pacientes(texto)) == esperado


@pytest.mark.parametrize(("texto", "esperado"), [("pedro", ["pedro"]), ("12.345.679-3", ["pedro"]),
                                                 ("6555 6666", ["pedro"]), ("12345", ["jose", "pedro"])])
def test_buscar_pacientes_incluir_inactivos(pacientes, texto, esperado):
    assert claves(pacientes, buscar_pacientes(texto, incluir_inactivos=True)) == esperado


def test_resultados_por_nombre_sin_importar_mayusculas(db):
    for nombre in ("Zoe Vera", "alberto rojas", "Ana Soto", "Beatriz Ruiz", "ana soto"):
        crear(nombre)
    # Case-insensitive (the order of the index cliente_nombre_idx), then by id.
    assert [c.nombre_completo for c in buscar_pacientes("a")] == [
        "alberto rojas", "Ana Soto", "ana soto", "Beatriz Ruiz", "Zoe Vera",
    ]


def test_sin_texto_da_los_actualizados_recientemente(pacientes):
    pacientes["ana"].save()  # touched last
    esperado = ["ana", "rene", "zoe", "anax", "maria", "jose"]
    for vacio in ("", "   ", None, "\x00\t\n", "\u200b"):
        assert claves(pacientes, buscar_pacientes(vacio)) == esperado
    assert claves(pacientes, buscar_pacientes("", incluir_inactivos=True)) == ["ana", "pedro", *esperado[1:]]


def test_devuelve_un_queryset_que_se_puede_seguir_filtrando(pacientes):
    resultado = buscar_pacientes("correo.example")
    assert claves(pacientes, resultado.filter(rut="")) == ["anax"]
    assert resultado[:2].count() == 2


ENTRADAS_HOSTILES = [
    "'", '"', "''", "%", "%%", "_", "\\", "\\%", "%_\\'\"", "' OR 1=1 --",
    "'; DROP TABLE pacientes_cliente; --", "\x00", "a\x00b", "\ud800", "ana\udfff", "\U0010ffff",
    "🦷🦷", "ｊｏｓｅ", "١٢٣٤٥", "١٢٣-٤", "K", "k", "-", ".", "+", "()", "0", "000000", "0-K", "--",
    "+-+-", "12.345.678-5-5", "1" * 300, "9" * LARGO_MAXIMO_BUSQUEDA, "a " * 200, "ñ" * 10_000,
    "x" * 1_000_000, "\u0301" * 50, "\u202e", "NULL", "None", "$1", "%s", "%(nombre)s", "{}", "[a-z]*",
    ".*", "^$", "a\nb\rc\td",
]


@pytest.mark.parametrize("texto", ENTRADAS_HOSTILES)
def test_entradas_hostiles_no_fallan(pacientes, texto):
    resultado = list(buscar_pacientes(texto, incluir_inactivos=True))
    assert {c.pk for c in resultado} <= {c.pk for c in pacientes.values()}
    # The connection is still usable (no aborted transaction).
    assert Cliente.objects.count() == len(pacientes)


@pytest.mark.parametrize("texto", [12345, 12.5, b"jose", object()])
def test_entradas_que_no_son_texto_no_fallan(pacientes, texto):
    # Searched as their text, like any other input.
    assert claves(pacientes, buscar_pacientes(texto)) == claves(pacientes, buscar_pacientes(str(texto)))
    assert Cliente.objects.count() == len(pacientes)


def test_texto_aleatorio_no_falla(pacientes):
    azar = random.Random(20260101)
    alfabeto = "aeiouñáéíóúüAEIOUK0123456789 .-+()%_\\'\"@\x00\x1f\u200b\ud800🦷"
    activos = {c.pk for c in pacientes.values() if c.activo}
    for _ in range(300):
        texto = "".join(azar.choice(alfabeto) for _ in range(azar.randint(0, 40)))
        incluir_inactivos = azar.random() < 0.5
        encontrados = {c.pk for c in buscar_pacientes(texto, incluir_inactivos=incluir_inactivos)}
        assert encontrados <= ({c.pk for c in pacientes.values()} if incluir_inactivos else activos), texto
    # The connection is still usable (no aborted transaction).
    assert Cliente.objects.count() == len(pacientes)


def _muchos_pacientes(n):
    Cliente.objects.bulk_create(
        Cliente(
            nombre_completo=f"Paciente Número {i}",
            email=f"paciente{i}@correo.example",
            telefono=f"+5696{i:07d}",
            rut=f"{20_000_000 + i}-{_digito(20_000_000 + i)}",
        )
        for i in range(n)
    )


def _digito(cuerpo):
    from stdnum.cl.rut import calc_check_digit

    return calc_check_digit(str(cuerpo))


@pytest.mark.parametrize("n", [5, 200])
@pytest.mark.parametrize("texto", ["numero", "PACIENTE número", "correo.example", "20.000", "+56 9 60", "", "zzz"])
def test_una_sola_consulta_sin_importar_cuantos_pacientes(db, django_assert_num_queries, n, texto):
    _muchos_pacientes(n)
    with django_assert_num_queries(1):
        resultado = list(buscar_pacientes(texto))
    assert len(resultado) == (0 if texto == "zzz" else n)


def test_texto_enorme_no_consulta(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert list(buscar_pacientes("x" * (LARGO_MAXIMO_BUSQUEDA + 1))) == []
