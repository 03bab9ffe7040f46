"""Numbers, RUTs and phones as Chile writes them, in pages and in edit forms."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.urls import reverse

from cuentas.presencial import crear_cliente_presencial
from nucleo.formato import numero
from pacientes.documentos import validar_archivo
from pacientes.formato import EntradaRut, EntradaTelefono
from pacientes.models import Cliente


@pytest.mark.parametrize("valor, decimales, esperado", [
    (1234, None, "1.234"), (1234567, None, "1.234.567"), (999, None, "999"), (0, None, "0"),
    (10.5, None, "10,5"), (1234.5, 1, "1.234,5"), (-2500, None, "-2.500"), (None, None, ""),
])
def test_numero(valor, decimales, esperado):
    assert numero(valor, decimales) == esperado


def test_plantillas_miles_con_punto_y_coma_decimal():
    texto = Template("{% load numeros %}{{ n|numero }} · {{ t|filesizeformat }} · {{ d|numero:1 }} · {{ pk }}").render(
        Context({"n": 1234, "t": 11010048, "d": 3.25, "pk": 12345}))
    # An id printed as is stays a plain number (links, form values): only quantities are grouped.
    assert texto == "1.234 · 10,5\xa0MB · 3,2 · 12345"


def test_archivo_muy_grande_en_mb_con_coma(settings):
    settings.CLINICA_DOCUMENTO_MAX_MB = 10
    with pytest.raises(ValidationError) as error:
        validar_archivo(SimpleUploadedFile("grande.pdf", b"%PDF-1.7\n" + b" " * (11010048 - 9)))
    assert "El archivo pesa 10,5 MB y el máximo es 10 MB." in error.value.message


@pytest.mark.parametrize("guardado, visto", [
    ("12345678-5", "12.345.678-5"), ("10000013-K", "10.000.013-K"), ("", ""), (None, ""), ("12.34", "12.34"),
])
def test_entrada_rut(guardado, visto):
    assert (EntradaRut().format_value(guardado) or "") == visto


@pytest.mark.parametrize("guardado, visto", [
    ("+56961234567", "+56 9 6123 4567"), ("9 6123", "9 6123"), ("+56 9 6123 4567", "+56 9 6123 4567"),
    ("+5", "+5"), ("", None),
])
def test_entrada_telefono(guardado, visto):
    assert EntradaTelefono().format_value(guardado) == visto


def test_la_ficha_se_edita_con_rut_y_telefono_legibles_y_vuelven_igual(clientes, recepcionista):
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz Rojas",
                                       rut="12345678-5", email="marta@correo.example", telefono="+56961234567")
    url = reverse("gestion:paciente_editar", args=[cliente.pk])
    texto = clientes["recepcion"].get(url).text
    assert 'value="12.345.678-5"' in texto and 'value="+56 9 6123 4567"' in texto
    assert 'value="12345678-5"' not in texto and 'value="+56961234567"' not in texto
    # Sent back as shown: accepted, and stored in normal form as before.
    respuesta = clientes["recepcion"].post(url, {
        "nombre_completo": "Marta Díaz Rojas", "rut": "12.345.678-5", "email": "marta@correo.example",
        "telefono": "+56 9 6123 4567", "fecha_nacimiento": "", "alergias": ""})
    assert respuesta.status_code == 302
    cliente = Cliente.objects.get(pk=cliente.pk)
    assert (cliente.rut, str(cliente.telefono)) == ("12345678-5", "+56961234567")


def test_un_rut_malo_se_devuelve_tal_como_se_escribio(clientes, recepcionista):
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz Rojas",
                                       rut="12345678-5", email="marta@correo.example")
    url = reverse("gestion:paciente_editar", args=[cliente.pk])
    respuesta = clientes["recepcion"].post(url, {"nombre_completo": "Marta Díaz Rojas", "rut": "12.345.678-9",
                                                 "email": "marta@correo.example", "telefono": "96123"})
    assert respuesta.status_code == 200
    assert 'value="12.345.678-9"' in respuesta.text and 'value="96123"' in respuesta.text
    assert "El dígito verificador del RUT no es correcto." in respuesta.text
