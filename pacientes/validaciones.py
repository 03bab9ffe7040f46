"""The one place where a patient's data is normalised and checked (the seed's
``citas/validaciones.py``, function names kept).

Normal forms, the same ones the database's check constraints demand:
RUT ``12345678-5`` (upper-case K), phone E.164 ``+56961234567``, e-mail trimmed and lower-case.
Every function raises ``ValidationError`` with a stable ``code`` and a Spanish message; the
duplicate errors carry ``params["cliente_id"]`` so a screen can link to the existing record.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from stdnum import exceptions as stdnum_errores
from stdnum.cl import rut as stdnum_rut

from pacientes.models import Cliente

LARGO_NOMBRE = 200
LARGO_EMAIL = 254
LARGO_ALERGIAS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Normalisation ------------------------------------------------------------------------------


def normalizar_rut(valor: str) -> str:
    """``'12.345.678-5'`` → ``'12345678-5'``; raises ``rut_invalido``."""
    texto = (valor or "").strip()
    if not texto:
        raise ValidationError("Ingrese el RUT.", code="rut_obligatorio")
    try:
        compacto = stdnum_rut.validate(texto)
    except stdnum_errores.InvalidChecksum:
        raise ValidationError("El dígito verificador del RUT no es correcto.", code="rut_invalido") from None
    except stdnum_errores.ValidationError:
        raise ValidationError("El RUT no es válido. Ejemplo: 12.345.678-5.", code="rut_invalido") from None
    cuerpo = compacto[:-1].lstrip("0")
    if not cuerpo:
        raise ValidationError("El RUT no es válido. Ejemplo: 12.345.678-5.", code="rut_invalido")
    return f"{cuerpo}-{compacto[-1]}"


def normalizar_telefono(valor: str) -> str:
    """A Chilean mobile in any spelling → E.164 (``+56961234567``); raises ``telefono_invalido``."""
    texto = (valor or "").strip()
    if not texto:
        raise ValidationError("Ingrese el teléfono.", code="telefono_obligatorio")
    mensaje = "Ingrese un celular chileno válido, por ejemplo +56 9 6123 4567."
    if len(texto) > 30:
        raise ValidationError(mensaje, code="telefono_invalido")
    try:
        numero = phonenumbers.parse(texto, "CL")
    except phonenumbers.NumberParseException:
        raise ValidationError(mensaje, code="telefono_invalido") from None
    # SMS and WhatsApp need a mobile: in Chile those are the 9-digit numbers that start with 9.
    nacional = phonenumbers.national_significant_number(numero)
    if numero.country_code != 56 or not phonenumbers.is_valid_number(numero) or not nacional.startswith("9"):
        raise ValidationError(mensaje, code="telefono_invalido")
    return phonenumbers.format_number(numero, phonenumbers.PhoneNumberFormat.E164)


def normalizar_email(valor: str) -> str:
    """Trimmed, lower-case, syntactically valid e-mail; raises ``email_invalido``."""
    texto = (valor or "").strip().lower()
    if not texto:
        raise ValidationError("Ingrese el correo electrónico.", code="email_obligatorio")
    if len(texto) > LARGO_EMAIL:
        raise ValidationError("El correo electrónico es demasiado largo.", code="email_invalido")
    try:
        validate_email(texto)
    except ValidationError:
        raise ValidationError("El correo electrónico no es válido.", code="email_invalido") from None
    return texto


def _sin_invisibles(texto: str) -> str:
    """Drop control, format (zero-width) and unassigned characters: a name must be visible."""
    return "".join(c for c in texto if not unicodedata.category(c).startswith("C") or c in "\n\t")


def normalizar_nombre(valor: str) -> str:
    """Collapsed spaces, no invisible characters, 2 to 200 characters."""
    texto = " ".join(_sin_invisibles(valor or "").split())
    if not texto:
        raise ValidationError("Ingrese el nombre completo.", code="nombre_obligatorio")
    if len(texto) > LARGO_NOMBRE:
        raise ValidationError(f"El nombre no puede superar {LARGO_NOMBRE} caracteres.", code="nombre_largo")
    if len(texto) < 2:
        raise ValidationError("El nombre es demasiado corto.", code="nombre_corto")
    return texto


# Duplicate rules (seed, section 3) ----------------------------------------------------------


def dividir_nombre(nombre_completo: str) -> tuple[str, str]:
    """'Ana María Pérez Soto' → ('Ana María', 'Pérez Soto'): Chileans carry two surnames. The
    login's first and last name (``User``) follow the record's full name this way."""
    partes = nombre_completo.split()
    if len(partes) >= 4:
        return " ".join(partes[:-2])[:150], " ".join(partes[-2:])[:150]
    return partes[0][:150], " ".join(partes[1:])[:150]


def _activos(excluir_cliente_id):
    return Cliente.objects.filter(activo=True).exclude(pk=excluir_cliente_id)


def _duplicado(mensaje, code, cliente_id):
    return ValidationError(mensaje, code=code, params={"cliente_id": cliente_id})


def validar_email_cliente(email: str, *, excluir_cliente_id=None, excluir_user_id=None) -> str:
    """Normalised e-mail, refused if an active patient or a login with an active patient has it."""
    email = normalizar_email(email)
    existente = _activos(excluir_cliente_id).filter(email=email).values_list("pk", flat=True).first()
    if existente is None:
        existente = (
            Cliente.objects.filter(activo=True, user__email__iexact=email)
            .exclude(pk=excluir_cliente_id)
            .exclude(user_id=excluir_user_id)
            .values_list("pk", flat=True)
            .first()
        )
    if existente is not None:
        raise _duplicado("Ya existe un paciente activo con ese correo electrónico.", "email_duplicado", existente)
    return email


def validar_rut_cliente(rut: str, *, excluir_cliente_id=None) -> str:
    """Normalised RUT, refused if an active patient has it."""
    rut = normalizar_rut(rut)
    existente = _activos(excluir_cliente_id).filter(rut=rut).values_list("pk", flat=True).first()
    if existente is not None:
        raise _duplicado("Ya existe un paciente activo con ese RUT.", "rut_duplicado", existente)
    return rut


def validar_telefono_cliente(telefono: str, *, excluir_cliente_id=None) -> str:
    """Normalised phone (E.164), refused if an active patient has it."""
    telefono = normalizar_telefono(telefono)
    existente = _activos(excluir_cliente_id).filter(telefono=telefono).values_list("pk", flat=True).first()
    if existente is not None:
        raise _duplicado("Ya existe un paciente activo con ese teléfono.", "telefono_duplicado", existente)
    return telefono


def validar_username_disponible(username: str, *, excluir_user_id=None) -> str:
    """The login name (patients log in with their e-mail), refused if any account uses it."""
    username = (username or "").strip().lower()
    if not username:
        raise ValidationError("Falta el nombre de usuario.", code="username_obligatorio")
    User = get_user_model()
    ocupado = (
        User.objects.filter(username__iexact=username).exclude(pk=excluir_user_id).exists()
        or User.objects.filter(email__iexact=username).exclude(pk=excluir_user_id).exists()
    )
    if ocupado:
        raise ValidationError(
            "Ya existe una cuenta con ese correo. Inicie sesión o recupere su contraseña.",
            code="cuenta_duplicada",
        )
    return username


@dataclass(frozen=True)
class DatosCliente:
    """A patient's data in normal form, ready to be written."""

    nombre_completo: str
    email: str
    telefono: str
    rut: str
    fecha_nacimiento: datetime.date | None
    alergias: str


def validar_datos_cliente_completos(
    *,
    nombre_completo,
    email="",
    telefono="",
    rut="",
    fecha_nacimiento=None,
    alergias="",
    exigir_email=False,
    exigir_rut=False,
    exigir_telefono=False,
    excluir_cliente_id=None,
    excluir_user_id=None,
) -> DatosCliente:
    """Every rule at once. Raises one ValidationError whose ``error_dict`` has each field's error."""
    errores = {}
    resultado = {}

    def revisar(campo, funcion, valor, obligatorio, **kwargs):
        if not (valor or "").strip() and not obligatorio:
            resultado[campo] = ""
            return
        try:
            resultado[campo] = funcion(valor, **kwargs)
        except ValidationError as error:
            errores[campo] = error

    revisar("nombre_completo", lambda v: normalizar_nombre(v), nombre_completo, True)
    revisar(
        "email", validar_email_cliente, email, exigir_email,
        excluir_cliente_id=excluir_cliente_id, excluir_user_id=excluir_user_id,
    )
    revisar("telefono", validar_telefono_cliente, telefono, exigir_telefono, excluir_cliente_id=excluir_cliente_id)
    revisar("rut", validar_rut_cliente, rut, exigir_rut, excluir_cliente_id=excluir_cliente_id)

    try:
        resultado["fecha_nacimiento"] = _validar_fecha_nacimiento(fecha_nacimiento)
    except ValidationError as error:
        errores["fecha_nacimiento"] = error

    alergias = _CONTROL.sub("", alergias or "").strip()
    if len(alergias) > LARGO_ALERGIAS:
        errores["alergias"] = ValidationError(
            f"Las alergias no pueden superar {LARGO_ALERGIAS} caracteres.", code="alergias_largo"
        )
    resultado["alergias"] = alergias

    if errores:
        raise ValidationError(errores)
    return DatosCliente(**resultado)


def _validar_fecha_nacimiento(valor):
    if valor is None or (isinstance(valor, str) and not valor.strip()):
        return None
    if isinstance(valor, datetime.datetime):
        valor = valor.date()
    if isinstance(valor, str):
        try:
            valor = datetime.date.fromisoformat(valor.strip())
        except ValueError:
            raise ValidationError("La fecha de nacimiento no es válida.", code="fecha_invalida") from None
    if not isinstance(valor, datetime.date):
        raise ValidationError("La fecha de nacimiento no es válida.", code="fecha_invalida")
    if valor > timezone.localdate():
        raise ValidationError("La fecha de nacimiento no puede estar en el futuro.", code="fecha_futura")
    if valor.year < 1900:
        raise ValidationError("La fecha de nacimiento no es válida.", code="fecha_invalida")
    return valor
