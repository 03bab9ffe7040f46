"""Keeping the arancel (issue 17): the administrator creates, edits, deactivates and reactivates
prestaciones and sets which dentists perform each. A prestación is never deleted (plans, quotes
and appointments keep pointing at it): it is deactivated.

Every service validates first (Spanish messages per field, stable codes), then writes in one
``operacion``; the model's constraints are the backstop. Prices arrive as integers: the staff
form reads what was typed with ``nucleo.formato.leer_pesos``.
"""

import re

from django.core.exceptions import ValidationError

from nucleo.formato import leer_entero
from nucleo.servicios import es_id_valido, operacion
from personal.models import Perfil, Rol
from personal.permisos import es_administrador
from prestaciones.models import (
    DURACION_MAXIMA, DURACION_MINIMA, HALLAZGOS_TRATABLES, PRECIO_MAXIMO, Prestacion, PrestacionDentista,
)

LARGO_NOMBRE = 120
LARGO_ESPECIALIDAD = 120
_CODIGO = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,19}$")
NO_EXISTE = "Esa prestación no existe."
DUPLICADA = "Ya existe una prestación con ese código."


def _exigir_administrador(actor):
    if not es_administrador(actor):
        raise ValidationError("Solo la administración mantiene el arancel.", code="sin_permiso")


def _texto(valor, campo, largo, errores, *, obligatorio, vacio=""):
    texto = str(valor if valor is not None else "").strip()
    if "\x00" in texto:
        errores[campo] = ValidationError("El texto tiene un carácter no permitido.", code="caracter_invalido")
    elif len(texto) > largo:
        errores[campo] = ValidationError(f"Es demasiado largo (máximo {largo} caracteres).", code="texto_largo")
    elif obligatorio and not texto:
        errores[campo] = ValidationError(vacio, code=f"{campo}_requerido")
    return texto


def limpiar_prestacion(*, codigo, nombre, especialidad="", duracion_minutos, precio, reservable_en_linea=False,
                       trata_hallazgo="") -> dict:
    """The fields as they will be stored, or ``ValidationError`` per field in Spanish (codes
    ``codigo_invalido``, ``nombre_requerido``, ``duracion_invalida``, ``precio_invalido``,
    ``hallazgo_invalido``, ``texto_largo``, ``caracter_invalido``)."""
    errores = {}
    codigo = str(codigo if codigo is not None else "").strip().upper()
    if not _CODIGO.match(codigo):
        errores["codigo"] = ValidationError(
            "El código son letras mayúsculas, dígitos, punto o guion (hasta 20), por ejemplo OPE-01.",
            code="codigo_invalido")
    nombre = _texto(nombre, "nombre", LARGO_NOMBRE, errores, obligatorio=True,
                    vacio="Indique el nombre de la prestación.")
    especialidad = _texto(especialidad, "especialidad", LARGO_ESPECIALIDAD, errores, obligatorio=False)
    duracion = leer_entero(duracion_minutos)
    if duracion is None or not DURACION_MINIMA <= duracion <= DURACION_MAXIMA:
        errores["duracion_minutos"] = ValidationError(
            f"La duración debe estar entre {DURACION_MINIMA} y {DURACION_MAXIMA} minutos.", code="duracion_invalida")
    if isinstance(precio, bool) or not isinstance(precio, int) or not 0 <= precio <= PRECIO_MAXIMO:
        errores["precio"] = ValidationError("El precio debe estar entre $0 y $100.000.000.", code="precio_invalido")
    trata_hallazgo = str(trata_hallazgo or "").strip().lower()
    if trata_hallazgo and trata_hallazgo not in HALLAZGOS_TRATABLES:
        errores["trata_hallazgo"] = ValidationError("Elija un hallazgo del odontograma de la lista.",
                                                    code="hallazgo_invalido")
    if errores:
        raise ValidationError(errores)
    return {"codigo": codigo, "nombre": nombre, "especialidad": especialidad, "duracion_minutos": duracion,
            "precio": precio, "reservable_en_linea": bool(reservable_en_linea), "trata_hallazgo": trata_hallazgo}


def _sin_duplicado(codigo, excluir_id=None):
    otras = Prestacion.objects.filter(codigo=codigo)
    if excluir_id is not None:
        otras = otras.exclude(pk=excluir_id)
    if otras.exists():
        raise ValidationError({"codigo": ValidationError(DUPLICADA, code="codigo_duplicado")})


def _bloqueada(prestacion_id) -> Prestacion:
    prestacion = None
    if es_id_valido(prestacion_id):
        prestacion = Prestacion.objects.select_for_update().filter(pk=prestacion_id).first()
    if prestacion is None:
        raise Prestacion.DoesNotExist(NO_EXISTE)
    return prestacion


def _codigo_duplicado_en_la_base(error: ValidationError) -> ValidationError:
    """Two admins typing the same new code at once: the unique index answers, in the same words."""
    if not hasattr(error, "error_dict") and "integridad" in [e.code for e in error.error_list]:
        return ValidationError({"codigo": ValidationError(DUPLICADA, code="codigo_duplicado")})
    return error


def crear_prestacion(*, actor, dentista_ids=(), **campos) -> Prestacion:
    """A new active prestación (``campos``: those of ``limpiar_prestacion``), performed by
    ``dentista_ids``. Raises ValidationError (per field, ``sin_permiso``, ``codigo_duplicado``,
    ``dentista_invalido``)."""
    datos = limpiar_prestacion(**campos)
    try:
        with operacion("crear_prestacion", actor=actor):
            _exigir_administrador(actor)
            _sin_duplicado(datos["codigo"])
            prestacion = Prestacion.objects.create(**datos)
            _poner_dentistas(prestacion, dentista_ids)
    except ValidationError as error:
        raise _codigo_duplicado_en_la_base(error) from None
    return prestacion


def editar_prestacion(*, actor, prestacion_id, dentista_ids=None, **campos) -> Prestacion:
    """Change a prestación's data (and its dentists when ``dentista_ids`` is given). Plans and
    quotes already written keep their own prices. An inactive prestación is not offered
    online. Raises ValidationError, ``Prestacion.DoesNotExist``."""
    datos = limpiar_prestacion(**campos)
    try:
        with operacion("editar_prestacion", actor=actor):
            _exigir_administrador(actor)
            prestacion = _bloqueada(prestacion_id)
            _sin_duplicado(datos["codigo"], excluir_id=prestacion.pk)
            if not prestacion.activa and datos["reservable_en_linea"]:
                raise ValidationError({"reservable_en_linea": ValidationError(
                    "Una prestación inactiva no se reserva en línea: reactívela primero.", code="inactiva_en_linea")})
            for campo, valor in datos.items():
                setattr(prestacion, campo, valor)
            prestacion.save(update_fields=[*datos, "actualizado"])
            if dentista_ids is not None:
                _poner_dentistas(prestacion, dentista_ids)
    except ValidationError as error:
        raise _codigo_duplicado_en_la_base(error) from None
    return prestacion


def cambiar_estado_prestacion(*, actor, prestacion_id, activa: bool) -> Prestacion:
    """Deactivate (no longer offered: not online, not in new plans) or reactivate (online
    booking stays off until the administrator turns it on again). Raises ValidationError
    (``sin_permiso``), ``Prestacion.DoesNotExist``."""
    with operacion("cambiar_estado_prestacion", actor=actor):
        _exigir_administrador(actor)
        prestacion = _bloqueada(prestacion_id)
        if prestacion.activa != bool(activa):
            prestacion.activa = bool(activa)
            if not activa:
                prestacion.reservable_en_linea = False
            prestacion.save(update_fields=["activa", "reservable_en_linea", "actualizado"])
    return prestacion


def asignar_dentistas(*, actor, prestacion_id, dentista_ids) -> Prestacion:
    """Set exactly which dentists perform the prestación. Raises ValidationError
    (``sin_permiso``, ``dentista_invalido``), ``Prestacion.DoesNotExist``."""
    with operacion("asignar_dentistas_prestacion", actor=actor):
        _exigir_administrador(actor)
        prestacion = _bloqueada(prestacion_id)
        _poner_dentistas(prestacion, dentista_ids)
    return prestacion


def _poner_dentistas(prestacion, dentista_ids):
    """Inside the service's transaction: the set of dentists becomes ``dentista_ids`` (active
    dentist profiles only), rows added and removed, not rewritten."""
    ids = set()
    for valor in dentista_ids or ():
        numero = leer_entero(valor)
        if numero is None or not es_id_valido(numero):
            raise ValidationError({"dentistas": ValidationError("Elija dentistas de la lista.",
                                                                code="dentista_invalido")})
        ids.add(numero)
    validos = set(Perfil.objects.filter(pk__in=ids, rol=Rol.DENTISTA, activo=True).values_list("pk", flat=True))
    if validos != ids:
        raise ValidationError({"dentistas": ValidationError("Elija dentistas activos de la lista.",
                                                            code="dentista_invalido")})
    actuales = set(PrestacionDentista.objects.filter(prestacion=prestacion).values_list("dentista_id", flat=True))
    PrestacionDentista.objects.filter(prestacion=prestacion, dentista_id__in=actuales - ids).delete()
    PrestacionDentista.objects.bulk_create(
        [PrestacionDentista(prestacion=prestacion, dentista_id=d) for d in sorted(ids - actuales)])
