import pytest

from pacientes.templatetags.formato_chile import rut, telefono


@pytest.mark.parametrize(
    ("valor", "esperado"),
    [("10000013-K", "10.000.013-K"), ("12345678-5", "12.345.678-5"), ("7654321-6", "7.654.321-6"),
     ("", ""), (None, ""), ("basura", "basura")],
)
def test_rut_con_puntos(valor, esperado):
    assert rut(valor) == esperado


@pytest.mark.parametrize(
    ("valor", "esperado"), [("+56961234567", "+56 9 6123 4567"), ("", ""), ("no es fono", "no es fono")]
)
def test_telefono_legible(valor, esperado):
    assert telefono(valor) == esperado
