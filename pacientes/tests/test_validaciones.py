"""Tests of ``pacientes/validaciones.py``: normal forms, Chilean edge cases, duplicate rules.

The error ``code`` is the contract with the screens; every refusal is also checked for a
fragment of its Spanish message.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from pruebas.soporte import rut_valido as rut
from pacientes.models import Cliente
from pacientes.validaciones import (
    LARGO_ALERGIAS,
    DatosCliente,
    normalizar_email,
    normalizar_nombre,
    normalizar_rut,
    normalizar_telefono,
    validar_datos_cliente_completos,
    validar_email_cliente,
    validar_rut_cliente,
    validar_telefono_cliente,
    validar_username_disponible,
)

RUT_ANA = rut(12345678)  # 12345678-5
RUT_BETO = rut(7654321)  # 7654321-6
CELULAR_ANA = "+56961234567"
CELULAR_BETO = "+56961234568"
MENSAJE_CELULAR = "celular chileno válido"


def crear_cliente(**campos):
    """A patient written straight to the table, with data already in normal form."""
    campos.setdefault("nombre_completo", "Ana María Pérez")
    return Cliente.objects.create(**campos)


def crear_usuario(username, email):
    return get_user_model().objects.create_user(username=username, email=email, password="clave-de-prueba-1234")


def assert_error(exc_info, code, fragmento):
    error = exc_info.value
    assert error.code == code
    assert fragmento in error.messages[0]


# normalizar_rut -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entrada", "esperado"),
    [
        ("12.345.678-5", "12345678-5"),
        ("12345678-5", "12345678-5"),
        ("123456785", "12345678-5"),
        (" 12.345.678-5 ", "12345678-5"),
        ("12 345 678 5", "12345678-5"),
        ("10.000.013-K", "10000013-K"),
        ("10.000.013-k", "10000013-K"),
        ("10000013k", "10000013-K"),
        ("7.654.321-6", "7654321-6"),
        ("07.654.321-6", "7654321-6"),  # padded to 8 digits with a leading zero
        ("076543216", "7654321-6"),
    ],
)
def test_normalizar_rut_acepta_formas_chilenas(entrada, esperado):
    assert normalizar_rut(entrada) == esperado


@pytest.mark.parametrize(
    ("entrada", "code", "fragmento"),
    [
        ("12.345.678-4", "rut_invalido", "dígito verificador"),
        ("10.000.013-0", "rut_invalido", "dígito verificador"),
        ("12.345.678", "rut_invalido", "dígito verificador"),  # check digit missing
        ("abc", "rut_invalido", "RUT no es válido"),
        ("12,345,678-5", "rut_invalido", "RUT no es válido"),
        ("K-12345678", "rut_invalido", "RUT no es válido"),
        ("00000000-0", "rut_invalido", "RUT no es válido"),
        ("0012345678-5", "rut_invalido", "RUT no es válido"),
        ("123456789012345-6", "rut_invalido", "RUT no es válido"),
        ("", "rut_obligatorio", "Ingrese el RUT"),
        ("   ", "rut_obligatorio", "Ingrese el RUT"),
        (None, "rut_obligatorio", "Ingrese el RUT"),
    ],
)
def test_normalizar_rut_rechaza(entrada, code, fragmento):
    with pytest.raises(ValidationError) as exc:
        normalizar_rut(entrada)
    assert_error(exc, code, fragmento)


# normalizar_telefono ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entrada",
    [
        "+56 9 6123 4567",
        "9 6123 4567",
        "961234567",
        "+56961234567",
        "56961234567",
        "0056961234567",
        "+56 (9) 6123-4567",
        "  +56 9 6123 4567  ",
    ],
)
def test_normalizar_telefono_celular_chileno_a_e164(entrada):
    assert normalizar_telefono(entrada) == "+56961234567"


@pytest.mark.parametrize(
    ("entrada", "code", "fragmento"),
    [
        ("+56 2 2345 6789", "telefono_invalido", MENSAJE_CELULAR),  # landline: no SMS/WhatsApp
        ("2 2345 6789", "telefono_invalido", MENSAJE_CELULAR),
        ("+56 9 1234 5678", "telefono_invalido", MENSAJE_CELULAR),  # unallocated range
        ("912345678", "telefono_invalido", MENSAJE_CELULAR),
        ("+1 202 555 0143", "telefono_invalido", MENSAJE_CELULAR),  # United States
        ("+1 650 253 0000", "telefono_invalido", MENSAJE_CELULAR),
        ("+54 9 11 2345 6789", "telefono_invalido", MENSAJE_CELULAR),  # Argentina, mobile
        ("abc", "telefono_invalido", MENSAJE_CELULAR),
        ("96123456a", "telefono_invalido", MENSAJE_CELULAR),
        ("+56 9 6123 45678", "telefono_invalido", MENSAJE_CELULAR),  # one digit too many
        ("96123456", "telefono_invalido", MENSAJE_CELULAR),  # one digit short
        ("+569" + "6" * 40, "telefono_invalido", MENSAJE_CELULAR),  # over 30 characters
        ("+56 9 6123 4567 ext. 1234 56789", "telefono_invalido", MENSAJE_CELULAR),
        ("", "telefono_obligatorio", "Ingrese el teléfono"),
        ("   ", "telefono_obligatorio", "Ingrese el teléfono"),
        (None, "telefono_obligatorio", "Ingrese el teléfono"),
    ],
)
def test_normalizar_telefono_rechaza(entrada, code, fragmento):
    with pytest.raises(ValidationError) as exc:
        normalizar_telefono(entrada)
    assert_error(exc, code, fragmento)


# normalizar_email ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entrada", "esperado"),
    [
        ("ana@example.cl", "ana@example.cl"),
        ("ANA.PEREZ@CLINICA.CL", "ana.perez@clinica.cl"),
        ("  Ana@Example.CL  ", "ana@example.cl"),
        ("\tana+citas@gmail.com\n", "ana+citas@gmail.com"),
    ],
)
def test_normalizar_email_recorta_y_pasa_a_minusculas(entrada, esperado):
    assert normalizar_email(entrada) == esperado


@pytest.mark.parametrize(
    ("entrada", "code", "fragmento"),
    [
        ("no-es-correo", "email_invalido", "no es válido"),
        ("ana@", "email_invalido", "no es válido"),
        ("@clinica.cl", "email_invalido", "no es válido"),
        ("ana perez@clinica.cl", "email_invalido", "no es válido"),
        ("ana@clinica..cl", "email_invalido", "no es válido"),
        ("ana@clinica", "email_invalido", "no es válido"),
        ("a" * 250 + "@x.cl", "email_invalido", "demasiado largo"),
        ("", "email_obligatorio", "Ingrese el correo"),
        ("   ", "email_obligatorio", "Ingrese el correo"),
        (None, "email_obligatorio", "Ingrese el correo"),
    ],
)
def test_normalizar_email_rechaza(entrada, code, fragmento):
    with pytest.raises(ValidationError) as exc:
        normalizar_email(entrada)
    assert_error(exc, code, fragmento)


# normalizar_nombre --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entrada", "esperado"),
    [
        ("Ana María Pérez", "Ana María Pérez"),
        ("  Ana   María\tPérez \n", "Ana María Pérez"),
        ("Jos\x00é Nuñez", "José Nuñez"),  # control characters dropped
        ("Ana\u200b Pérez\x85", "Ana Pérez"),  # zero-width space and C1 control dropped
        ("Ñu", "Ñu"),
        ("x" * 200, "x" * 200),
    ],
)
def test_normalizar_nombre(entrada, esperado):
    assert normalizar_nombre(entrada) == esperado


@pytest.mark.parametrize(
    ("entrada", "code", "fragmento"),
    [
        ("", "nombre_obligatorio", "Ingrese el nombre"),
        (" \t\n ", "nombre_obligatorio", "Ingrese el nombre"),
        ("\x00\x07", "nombre_obligatorio", "Ingrese el nombre"),
        ("\u200b\u200b", "nombre_obligatorio", "Ingrese el nombre"),  # invisible only
        (None, "nombre_obligatorio", "Ingrese el nombre"),
        ("A", "nombre_corto", "demasiado corto"),
        ("x" * 201, "nombre_largo", "no puede superar 200"),
    ],
)
def test_normalizar_nombre_rechaza(entrada, code, fragmento):
    with pytest.raises(ValidationError) as exc:
        normalizar_nombre(entrada)
    assert_error(exc, code, fragmento)


# Duplicates: RUT ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_rut_libre_se_devuelve_normalizado():
    assert validar_rut_cliente("10.000.013-k") == "10000013-K"


@pytest.mark.django_db
@pytest.mark.parametrize("escrito", ["12345678-5", "12.345.678-5", " 12 345 678 5 "])
def test_rut_duplicado_entre_activos_rechazado(escrito):
    existente = crear_cliente(rut=RUT_ANA)
    with pytest.raises(ValidationError) as exc:
        validar_rut_cliente(escrito)
    assert_error(exc, "rut_duplicado", "Ya existe un paciente activo con ese RUT")
    assert exc.value.params["cliente_id"] == existente.pk


@pytest.mark.django_db
def test_rut_duplicado_con_k_minuscula_rechazado():
    existente = crear_cliente(rut="10000013-K")
    with pytest.raises(ValidationError) as exc:
        validar_rut_cliente("10.000.013-k")
    assert exc.value.code == "rut_duplicado"
    assert exc.value.params["cliente_id"] == existente.pk


@pytest.mark.django_db
def test_rut_de_paciente_inactivo_no_bloquea():
    crear_cliente(rut=RUT_ANA, activo=False)
    assert validar_rut_cliente("12.345.678-5") == RUT_ANA


@pytest.mark.django_db
def test_rut_propio_no_bloquea_con_excluir_cliente_id():
    propio = crear_cliente(rut=RUT_ANA)
    assert validar_rut_cliente(RUT_ANA, excluir_cliente_id=propio.pk) == RUT_ANA


@pytest.mark.django_db
def test_rut_excluir_otro_cliente_no_oculta_el_duplicado():
    existente = crear_cliente(rut=RUT_ANA)
    otro = crear_cliente(rut=RUT_BETO, nombre_completo="Alberto Soto")
    with pytest.raises(ValidationError) as exc:
        validar_rut_cliente(RUT_ANA, excluir_cliente_id=otro.pk)
    assert exc.value.params["cliente_id"] == existente.pk


@pytest.mark.django_db
def test_rut_invalido_se_rechaza_antes_de_buscar_duplicados():
    with pytest.raises(ValidationError) as exc:
        validar_rut_cliente("12.345.678-4")
    assert exc.value.code == "rut_invalido"


# Duplicates: phone --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("escrito", ["+56961234567", "+56 9 6123 4567", "9 6123 4567", "961234567"])
def test_telefono_duplicado_entre_activos_rechazado(escrito):
    """Against a confirmed number; an unconfirmed claim blocks nobody (issue 14)."""
    crear_cliente(telefono=CELULAR_ANA)  # a claim, not confirmed
    assert validar_telefono_cliente(escrito) == CELULAR_ANA
    existente = crear_cliente(nombre_completo="Dueña del Número", telefono=CELULAR_ANA,
                              telefono_verificado_en=timezone.now())
    with pytest.raises(ValidationError) as exc:
        validar_telefono_cliente(escrito)
    assert_error(exc, "telefono_duplicado", "Ya existe un paciente activo con ese teléfono")
    assert exc.value.params["cliente_id"] == existente.pk


@pytest.mark.django_db
def test_telefono_distinto_se_devuelve_normalizado():
    crear_cliente(telefono=CELULAR_ANA)
    assert validar_telefono_cliente("+56 9 6123 4568") == CELULAR_BETO


@pytest.mark.django_db
def test_telefono_de_paciente_inactivo_no_bloquea():
    crear_cliente(telefono=CELULAR_ANA, activo=False)
    assert validar_telefono_cliente("9 6123 4567") == CELULAR_ANA


@pytest.mark.django_db
def test_telefono_propio_no_bloquea_con_excluir_cliente_id():
    propio = crear_cliente(telefono=CELULAR_ANA)
    assert validar_telefono_cliente(CELULAR_ANA, excluir_cliente_id=propio.pk) == CELULAR_ANA


@pytest.mark.django_db
def test_telefono_fijo_rechazado_aunque_no_haya_duplicado():
    with pytest.raises(ValidationError) as exc:
        validar_telefono_cliente("+56 2 2345 6789")
    assert exc.value.code == "telefono_invalido"


# Duplicates: e-mail -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("escrito", ["ana@example.cl", "ANA@EXAMPLE.CL", "  Ana@Example.cl "])
def test_email_duplicado_entre_activos_rechazado(escrito):
    existente = crear_cliente(email="ana@example.cl")
    with pytest.raises(ValidationError) as exc:
        validar_email_cliente(escrito)
    assert_error(exc, "email_duplicado", "Ya existe un paciente activo con ese correo")
    assert exc.value.params["cliente_id"] == existente.pk


@pytest.mark.django_db
def test_email_libre_se_devuelve_normalizado():
    assert validar_email_cliente("  Ana@Example.CL ") == "ana@example.cl"


@pytest.mark.django_db
def test_email_de_paciente_inactivo_no_bloquea():
    crear_cliente(email="ana@example.cl", activo=False)
    assert validar_email_cliente("ANA@example.cl") == "ana@example.cl"


@pytest.mark.django_db
def test_email_propio_no_bloquea_con_excluir_cliente_id():
    propio = crear_cliente(email="ana@example.cl")
    assert validar_email_cliente("ana@example.cl", excluir_cliente_id=propio.pk) == "ana@example.cl"


@pytest.mark.django_db
def test_email_de_cuenta_de_paciente_activo_rechazado():
    """The login's e-mail counts even when the patient's own e-mail field says something else."""
    usuario = crear_usuario("ana.portal", "Ana@Example.cl")
    existente = crear_cliente(email="otro@example.cl", user=usuario)
    with pytest.raises(ValidationError) as exc:
        validar_email_cliente("ana@example.cl")
    assert_error(exc, "email_duplicado", "Ya existe un paciente activo con ese correo")
    assert exc.value.params["cliente_id"] == existente.pk


@pytest.mark.django_db
def test_email_de_cuenta_propia_no_bloquea_con_excluir():
    usuario = crear_usuario("ana.portal", "ana@example.cl")
    propio = crear_cliente(user=usuario)
    assert validar_email_cliente("ana@example.cl", excluir_user_id=usuario.pk) == "ana@example.cl"
    assert validar_email_cliente("ana@example.cl", excluir_cliente_id=propio.pk) == "ana@example.cl"


@pytest.mark.django_db
def test_email_de_cuenta_de_paciente_inactivo_no_bloquea():
    usuario = crear_usuario("ana.portal", "ana@example.cl")
    crear_cliente(user=usuario, activo=False)
    assert validar_email_cliente("ana@example.cl") == "ana@example.cl"


@pytest.mark.django_db
def test_email_de_cuenta_sin_paciente_no_es_duplicado_de_paciente():
    """A staff login is not a patient; the account clash is validar_username_disponible's job."""
    crear_usuario("recepcion", "ana@example.cl")
    assert validar_email_cliente("ana@example.cl") == "ana@example.cl"


# validar_username_disponible ----------------------------------------------------------------


@pytest.mark.django_db
def test_username_libre_se_devuelve_en_minusculas():
    assert validar_username_disponible("  Ana@Example.CL ") == "ana@example.cl"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username_existente", "email_existente", "pedido"),
    [
        ("ana@example.cl", "", "ana@example.cl"),
        ("Ana@Example.CL", "", "ana@example.cl"),  # username, other case
        ("ana@example.cl", "", "ANA@EXAMPLE.CL"),
        ("ana.portal", "ana@example.cl", "ana@example.cl"),  # e-mail of another account
        ("ana.portal", "ANA@Example.cl", "ana@example.cl"),  # e-mail, other case
        ("ana.portal", "", " Ana.Portal "),
    ],
)
def test_username_ocupado_rechazado(username_existente, email_existente, pedido):
    crear_usuario(username_existente, email_existente)
    with pytest.raises(ValidationError) as exc:
        validar_username_disponible(pedido)
    assert_error(exc, "cuenta_duplicada", "Ya existe una cuenta con ese correo")


@pytest.mark.django_db
def test_username_propio_no_bloquea_con_excluir_user_id():
    usuario = crear_usuario("ana@example.cl", "ana@example.cl")
    assert validar_username_disponible("ANA@example.cl", excluir_user_id=usuario.pk) == "ana@example.cl"


@pytest.mark.django_db
@pytest.mark.parametrize("pedido", ["", "   ", None])
def test_username_vacio_rechazado(pedido):
    with pytest.raises(ValidationError) as exc:
        validar_username_disponible(pedido)
    assert_error(exc, "username_obligatorio", "Falta el nombre de usuario")


# validar_datos_cliente_completos ------------------------------------------------------------


def codigos(exc_info):
    """``{campo: code}`` of a ValidationError with an error_dict."""
    return {campo: errores[0].code for campo, errores in exc_info.value.error_dict.items()}


@pytest.mark.django_db
def test_datos_completos_devuelve_todo_normalizado():
    datos = validar_datos_cliente_completos(
        nombre_completo="  Ana   María Pérez ",
        email=" Ana@Example.CL ",
        telefono="+56 9 6123 4567",
        rut="10.000.013-k",
        fecha_nacimiento="1985-03-14",
        alergias="  Penicilina\x00 ",
    )
    assert datos == DatosCliente(
        nombre_completo="Ana María Pérez",
        email="ana@example.cl",
        telefono="+56961234567",
        rut="10000013-K",
        fecha_nacimiento=datetime.date(1985, 3, 14),
        alergias="Penicilina",
    )


@pytest.mark.django_db
def test_datos_completos_campos_opcionales_vacios():
    datos = validar_datos_cliente_completos(nombre_completo="Ana Pérez")
    assert datos == DatosCliente(
        nombre_completo="Ana Pérez", email="", telefono="", rut="", fecha_nacimiento=None, alergias=""
    )


@pytest.mark.django_db
def test_datos_completos_junta_todos_los_errores():
    with pytest.raises(ValidationError) as exc:
        validar_datos_cliente_completos(
            nombre_completo="",
            email="no-es-correo",
            telefono="+56 2 2345 6789",
            rut="12.345.678-4",
            fecha_nacimiento="14/03/1985",
            alergias="x" * (LARGO_ALERGIAS + 1),
        )
    assert codigos(exc) == {
        "nombre_completo": "nombre_obligatorio",
        "email": "email_invalido",
        "telefono": "telefono_invalido",
        "rut": "rut_invalido",
        "fecha_nacimiento": "fecha_invalida",
        "alergias": "alergias_largo",
    }
    assert "no pueden superar 2000" in exc.value.error_dict["alergias"][0].messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bandera", "campo", "code"),
    [
        ("exigir_email", "email", "email_obligatorio"),
        ("exigir_rut", "rut", "rut_obligatorio"),
        ("exigir_telefono", "telefono", "telefono_obligatorio"),
    ],
)
def test_datos_completos_campo_exigido_vacio(bandera, campo, code):
    with pytest.raises(ValidationError) as exc:
        validar_datos_cliente_completos(nombre_completo="Ana Pérez", **{bandera: True})
    assert codigos(exc) == {campo: code}


@pytest.mark.django_db
def test_datos_completos_exigidos_y_presentes():
    datos = validar_datos_cliente_completos(
        nombre_completo="Ana Pérez",
        email="ana@example.cl",
        telefono="961234567",
        rut="12.345.678-5",
        exigir_email=True,
        exigir_rut=True,
        exigir_telefono=True,
    )
    assert (datos.email, datos.telefono, datos.rut) == ("ana@example.cl", CELULAR_ANA, RUT_ANA)


@pytest.mark.django_db
def test_datos_completos_duplicados_por_campo_con_cliente_id():
    existente = crear_cliente(rut=RUT_ANA, email="ana@example.cl", telefono=CELULAR_ANA,
                              telefono_verificado_en=timezone.now())
    with pytest.raises(ValidationError) as exc:
        validar_datos_cliente_completos(
            nombre_completo="Ana Pérez", email="ANA@example.cl", telefono="9 6123 4567", rut="12.345.678-5"
        )
    assert codigos(exc) == {"email": "email_duplicado", "telefono": "telefono_duplicado", "rut": "rut_duplicado"}
    for errores in exc.value.error_dict.values():
        assert errores[0].params["cliente_id"] == existente.pk


@pytest.mark.django_db
def test_datos_completos_el_paciente_conserva_sus_datos():
    usuario = crear_usuario("ana@example.cl", "ana@example.cl")
    propio = crear_cliente(rut=RUT_ANA, email="ana@example.cl", telefono=CELULAR_ANA, user=usuario)
    datos = validar_datos_cliente_completos(
        nombre_completo="Ana Pérez",
        email="ana@example.cl",
        telefono=CELULAR_ANA,
        rut=RUT_ANA,
        excluir_cliente_id=propio.pk,
        excluir_user_id=usuario.pk,
    )
    assert (datos.email, datos.telefono, datos.rut) == ("ana@example.cl", CELULAR_ANA, RUT_ANA)


def _hoy():
    return timezone.localdate()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fecha", "code", "fragmento"),
    [
        (lambda: _hoy() + datetime.timedelta(days=1), "fecha_futura", "no puede estar en el futuro"),
        (lambda: (_hoy() + datetime.timedelta(days=400)).isoformat(), "fecha_futura", "en el futuro"),
        (lambda: datetime.date(1899, 12, 31), "fecha_invalida", "no es válida"),
        (lambda: "1850-01-01", "fecha_invalida", "no es válida"),
        (lambda: "14/03/1985", "fecha_invalida", "no es válida"),
        (lambda: "1985-02-30", "fecha_invalida", "no es válida"),
        (lambda: "ayer", "fecha_invalida", "no es válida"),
        (lambda: 19850314, "fecha_invalida", "no es válida"),
    ],
)
def test_datos_completos_fecha_nacimiento_rechazada(fecha, code, fragmento):
    with pytest.raises(ValidationError) as exc:
        validar_datos_cliente_completos(nombre_completo="Ana Pérez", fecha_nacimiento=fecha())
    assert codigos(exc) == {"fecha_nacimiento": code}
    assert fragmento in exc.value.error_dict["fecha_nacimiento"][0].messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fecha", "esperada"),
    [
        (lambda: _hoy(), lambda: _hoy()),
        (lambda: datetime.date(1900, 1, 1), lambda: datetime.date(1900, 1, 1)),
        (lambda: " 1985-03-14 ", lambda: datetime.date(1985, 3, 14)),
        (lambda: datetime.datetime(1985, 3, 14, 8, 30), lambda: datetime.date(1985, 3, 14)),
        (lambda: None, lambda: None),
        (lambda: "", lambda: None),
        (lambda: "   ", lambda: None),  # a blank form field means no date
    ],
)
def test_datos_completos_fecha_nacimiento_aceptada(fecha, esperada):
    datos = validar_datos_cliente_completos(nombre_completo="Ana Pérez", fecha_nacimiento=fecha())
    assert datos.fecha_nacimiento == esperada()


@pytest.mark.django_db
def test_datos_completos_alergias_en_el_limite():
    datos = validar_datos_cliente_completos(nombre_completo="Ana Pérez", alergias="x" * LARGO_ALERGIAS)
    assert len(datos.alergias) == LARGO_ALERGIAS
