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

from pacientes.models import Cliente, TipoDocumento
from pacientes.paises import NOMBRES as NOMBRES_PAISES

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


MENSAJE_TELEFONO_CONTACTO = (
    "Ingrese un teléfono válido: un celular (+56 9 6123 4567), un fijo (+56 2 2345 6789) o un número "
    "extranjero con su código de país (por ejemplo +54 9 11 2345 6789)."
)


def normalizar_telefono(valor: str, *, solo_celular_chileno: bool = True) -> str:
    """A phone number in any spelling → E.164 (``+56961234567``); raises ``telefono_invalido``.

    By default only a Chilean mobile (the portal's login and SMS number). With
    ``solo_celular_chileno=False`` (reception's contact number) any valid number: a landline or
    a foreign number too; which channels it can receive is the outbox's rule
    (``notificaciones.preferencias.canales_del_numero``).
    """
    texto = (valor or "").strip()
    if not texto:
        raise ValidationError("Ingrese el teléfono.", code="telefono_obligatorio")
    mensaje = ("Ingrese un celular chileno válido, por ejemplo +56 9 6123 4567." if solo_celular_chileno
               else MENSAJE_TELEFONO_CONTACTO)
    if len(texto) > 30:
        raise ValidationError(mensaje, code="telefono_invalido")
    try:
        numero = phonenumbers.parse(texto, "CL")
    except phonenumbers.NumberParseException:
        raise ValidationError(mensaje, code="telefono_invalido") from None
    if not phonenumbers.is_valid_number(numero):
        raise ValidationError(mensaje, code="telefono_invalido")
    # SMS and WhatsApp need a mobile: in Chile those are the 9-digit numbers that start with 9.
    nacional = phonenumbers.national_significant_number(numero)
    if solo_celular_chileno and (numero.country_code != 56 or not nacional.startswith("9")):
        raise ValidationError(mensaje, code="telefono_invalido")
    return phonenumbers.format_number(numero, phonenumbers.PhoneNumberFormat.E164)


_SEPARADORES_DOCUMENTO = re.compile(r"[\s.\-‐‑–—/]")


def normalizar_documento(numero: str, pais: str) -> tuple[str, str]:
    """A passport's or another identity document's number and country → (``AB123456``, ``AR``):
    upper-case letters and digits (spaces, dots and dashes dropped), and an ISO 3166-1 alpha-2
    code of ``pacientes.paises``. Raises ``documento_obligatorio``, ``documento_invalido`` or
    ``pais_invalido`` (as a dict by field)."""
    errores = {}
    texto = _SEPARADORES_DOCUMENTO.sub("", (numero or "").strip()).upper()
    if not texto:
        errores["numero_documento"] = ValidationError("Ingrese el número del documento.",
                                                      code="documento_obligatorio")
    elif not re.fullmatch(r"[A-Z0-9]{3,20}", texto):
        errores["numero_documento"] = ValidationError(
            "El número del documento solo lleva letras y dígitos (entre 3 y 20), por ejemplo AB123456.",
            code="documento_invalido")
    codigo = (pais or "").strip().upper()
    if codigo not in NOMBRES_PAISES:
        errores["pais_documento"] = ValidationError("Elija el país que emitió el documento.", code="pais_invalido")
    if errores:
        raise ValidationError(errores)
    return texto, codigo


def validar_documento_cliente(tipo: str, numero: str, pais: str, *, excluir_cliente_id=None) -> tuple[str, str]:
    """A non-RUT identity document (pasaporte, otro), normalised, refused if an active patient
    has the same type, country and number (``documento_duplicado``; the database's partial unique
    index ``cliente_documento_activo_unico`` is the backstop). The RUT has its own rule,
    ``validar_rut_cliente``."""
    numero, pais = normalizar_documento(numero, pais)
    existente = (_activos(excluir_cliente_id).filter(tipo_documento=tipo, pais_documento=pais, numero_documento=numero)
                 .values_list("pk", flat=True).first())
    if existente is not None:
        raise ValidationError({"numero_documento": _duplicado(
            "Ya existe un paciente activo con ese documento.", "documento_duplicado", existente)})
    return numero, pais


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


def validar_telefono_cliente(telefono: str, *, excluir_cliente_id=None, solo_celular_chileno=True) -> str:
    """Normalised phone (E.164), refused if an active patient has it confirmed (recorded at the
    desk or confirmed with a code). An unconfirmed claim blocks nobody: whoever confirms the
    number first takes it (``pacientes.telefonos.tomar_telefono``)."""
    telefono = normalizar_telefono(telefono, solo_celular_chileno=solo_celular_chileno)
    existente = (_activos(excluir_cliente_id).filter(telefono=telefono, telefono_verificado_en__isnull=False)
                 .values_list("pk", flat=True).first())
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
    tipo_documento: str = TipoDocumento.RUT
    numero_documento: str = ""
    pais_documento: str = ""


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
    tipo_documento=TipoDocumento.RUT,
    numero_documento="",
    pais_documento="",
    solo_celular_chileno=True,
) -> DatosCliente:
    """Every rule at once. Raises one ValidationError whose ``error_dict`` has each field's error.

    ``tipo_documento`` RUT (the default) checks ``rut``; a passport or another document checks
    its number and country instead (``validar_documento_cliente``) and needs ``rut`` empty.
    ``solo_celular_chileno=False``: any valid phone (reception's contact number)."""
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
    revisar("telefono", validar_telefono_cliente, telefono, exigir_telefono, excluir_cliente_id=excluir_cliente_id,
            solo_celular_chileno=solo_celular_chileno)
    resultado["tipo_documento"], resultado["numero_documento"], resultado["pais_documento"] = TipoDocumento.RUT, "", ""
    if tipo_documento == TipoDocumento.RUT:
        revisar("rut", validar_rut_cliente, rut, exigir_rut, excluir_cliente_id=excluir_cliente_id)
    elif tipo_documento in (TipoDocumento.PASAPORTE, TipoDocumento.OTRO):
        resultado["rut"] = ""
        if (rut or "").strip():
            errores["rut"] = ValidationError(
                "Con pasaporte u otro documento, deje el RUT vacío (o elija «RUT» como documento).",
                code="rut_con_otro_documento")
        try:
            numero, pais = validar_documento_cliente(tipo_documento, numero_documento, pais_documento,
                                                     excluir_cliente_id=excluir_cliente_id)
        except ValidationError as error:
            errores.update(error.error_dict)
        else:
            resultado.update(tipo_documento=tipo_documento, numero_documento=numero, pais_documento=pais)
    else:
        errores["tipo_documento"] = ValidationError("Elija un tipo de documento de la lista.",
                                                    code="tipo_documento_invalido")

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


def validar_fecha_nacimiento(valor):
    """A birth date in normal form (None when empty): not in the future, not before 1900. The
    rule of ``validar_datos_cliente_completos``, for checks that must not touch the database
    (the portal's sign-up, whose answer must take the same time for everyone)."""
    return _validar_fecha_nacimiento(valor)
