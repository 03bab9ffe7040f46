"""Patients' documents: upload (type by magic bytes, size limit), delete, and the download
response both sites serve.

A document is a row and a file, and the two must never drift apart: an upload that fails
after the file was stored removes the file (a rolled-back row must not leave a file behind);
a deletion removes the file only after the row's deletion committed (a rolled-back deletion
must still find its file).
"""

import datetime
import logging
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.http import FileResponse, Http404
from django.utils import timezone

from nucleo.formato import numero
from nucleo.registro import registrar_evento
from nucleo.servicios import exigir_transaccion, operacion
from pacientes.models import EXTENSIONES_DOCUMENTO, Cliente, ClienteDocumento

logger = logging.getLogger(__name__)

LARGO_TITULO = ClienteDocumento._meta.get_field("titulo").max_length
LARGO_NOMBRE_ORIGINAL = ClienteDocumento._meta.get_field("nombre_original").max_length

# The first bytes of each accepted format. The browser's content type and the extension are
# whatever the sender says; these are what the file is.
FIRMAS = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
]
LARGO_FIRMA = max(len(firma) for firma, _ in FIRMAS)
FORMATOS = "PDF, JPG o PNG"


def maximo_bytes() -> int:
    return getattr(settings, "CLINICA_DOCUMENTO_MAX_MB", 10) * 1024 * 1024


def _almacen():
    return ClienteDocumento._meta.get_field("archivo").storage


def _visible(texto: str) -> str:
    """No control, format or unassigned characters (newlines in a header, zero-width tricks);
    spaces collapsed; NFC."""
    texto = unicodedata.normalize("NFC", str(texto or ""))
    return " ".join("".join(c if not unicodedata.category(c).startswith("C") else " " for c in texto).split())


def detectar_tipo(archivo) -> str | None:
    """The content type by the file's first bytes (PDF, JPEG, PNG), or None for anything else.
    Leaves the file at its start."""
    archivo.seek(0)
    cabecera = archivo.read(LARGO_FIRMA)
    archivo.seek(0)
    for firma, tipo in FIRMAS:
        if cabecera.startswith(firma):
            return tipo
    return None


def normalizar_titulo(titulo) -> str:
    texto = _visible(titulo)
    if not texto:
        raise ValidationError("Ingrese un título para el documento, por ejemplo «Radiografía panorámica».",
                              code="titulo_obligatorio")
    if len(texto) > LARGO_TITULO:
        raise ValidationError(f"El título no puede superar {LARGO_TITULO} caracteres. Acórtelo.",
                              code="titulo_muy_largo")
    return texto


def nombre_original_seguro(nombre) -> str:
    """The sender's file name as shown and offered on download: no folders, no invisible
    characters, at most 255 characters (the extension kept)."""
    nombre = _visible(str(nombre or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(". ")
    if not nombre:
        return "documento"
    if len(nombre) > LARGO_NOMBRE_ORIGINAL:
        base, punto, extension = nombre.rpartition(".")
        sufijo = f".{extension}" if punto and len(extension) <= 10 else ""
        nombre = nombre[: LARGO_NOMBRE_ORIGINAL - len(sufijo)] + sufijo
    return nombre


def validar_archivo(archivo) -> tuple[str, int]:
    """``(content type, size)`` of an acceptable upload. Raises ValidationError with code
    ``archivo_obligatorio``, ``archivo_vacio``, ``archivo_muy_grande`` or ``tipo_no_permitido``."""
    if archivo is None:
        raise ValidationError("Elija el archivo que quiere adjuntar.", code="archivo_obligatorio")
    tamano = archivo.size or 0
    if tamano == 0:
        raise ValidationError("El archivo está vacío. Elija otro archivo.", code="archivo_vacio")
    maximo = maximo_bytes()
    if tamano > maximo:
        raise ValidationError(
            f"El archivo pesa {numero(tamano / 1024 / 1024, 1)} MB y el máximo es {maximo // (1024 * 1024)} MB. "
            "Redúzcalo (por ejemplo, escanéelo con menor resolución) e inténtelo de nuevo.",
            code="archivo_muy_grande",
        )
    tipo = detectar_tipo(archivo)
    if tipo is None:
        raise ValidationError(
            f"Solo se aceptan documentos {FORMATOS}. Guarde o exporte el archivo en uno de esos formatos "
            "e inténtelo de nuevo.",
            code="tipo_no_permitido",
        )
    return tipo, tamano


def subir_documento(*, actor, cliente_id, archivo, titulo) -> ClienteDocumento:
    """Attach ``archivo`` (an uploaded file) to the patient, under ``titulo``.

    Accepts PDF, JPEG and PNG by their magic bytes, up to ``CLINICA_DOCUMENTO_MAX_MB``. The
    file is stored under a random name and the row written in one transaction; if the
    transaction fails the stored file is removed. Raises ValidationError (``error_dict`` with
    ``titulo`` / ``archivo``; or ``cliente_inactivo``), ``Cliente.DoesNotExist``.
    """
    errores = {}
    try:
        titulo = normalizar_titulo(titulo)
    except ValidationError as error:
        errores["titulo"] = error
    try:
        tipo, tamano = validar_archivo(archivo)
    except ValidationError as error:
        errores["archivo"] = error
    if errores:
        raise ValidationError(errores)

    guardado = None
    try:
        with operacion("subir_documento", actor=actor):
            # Locked so a concurrent deletion of the patient waits for this upload (or wins cleanly).
            cliente = Cliente.objects.select_for_update(no_key=True).get(pk=cliente_id)
            if not cliente.activo:
                raise ValidationError(
                    "Este paciente está desactivado: no se le pueden adjuntar documentos. "
                    "Reactívelo primero si corresponde.",
                    code="cliente_inactivo",
                )
            documento = ClienteDocumento(
                cliente=cliente, titulo=titulo, nombre_original=nombre_original_seguro(archivo.name),
                tipo_contenido=tipo, tamano=tamano, subido_por=actor if getattr(actor, "pk", None) else None,
            )
            documento.archivo.save("", archivo, save=False)
            guardado = documento.archivo.name
            documento.save()
    except BaseException:
        # The row is not there (rolled back), so neither may the file be. on_commit cannot help:
        # a rolled-back transaction runs no callbacks.
        if guardado:
            _borrar_archivos([guardado])
        raise
    registrar_evento(
        logger, "documento_subido", documento_id=documento.pk, cliente_id=cliente.pk, tipo=tipo, tamano=tamano,
        actor_id=getattr(actor, "pk", None),
    )
    return documento


# A document is part of the clinical record, kept 15 years (Decreto 41 art. 11): deleting one is
# only for correcting a misfiled upload, by whoever uploaded it, soon after.
HORAS_PARA_CORREGIR = 24
MENSAJE_DOCUMENTO_CONSERVADO = (
    "Los documentos de la ficha clínica se conservan: solo quien subió el documento puede eliminarlo, "
    f"dentro de las {HORAS_PARA_CORREGIR} horas siguientes (un archivo subido por error)."
)


def se_puede_eliminar(documento, usuario, *, ahora=None) -> bool:
    """Whether ``usuario`` may delete ``documento``: they uploaded it less than
    ``HORAS_PARA_CORREGIR`` hours ago (a misfiled upload). The staff page asks it for its button."""
    ahora = ahora or timezone.now()
    return (getattr(usuario, "pk", None) is not None and documento.subido_por_id == usuario.pk
            and documento.creado > ahora - datetime.timedelta(hours=HORAS_PARA_CORREGIR))


def eliminar_documento(*, actor, documento_id, cliente_id=None) -> None:
    """Delete a document: the row now, the file after commit. With ``cliente_id``, only a
    document of that patient. Raises ``ClienteDocumento.DoesNotExist``; ValidationError
    ``ficha_en_resguardo`` for a document of an erased patient's record under legal hold (kept
    until the purge, ``ficha.retencion``; the hold is read through the ORM's reverse relation);
    ``documento_conservado`` unless the actor uploaded it within ``HORAS_PARA_CORREGIR`` hours
    (``se_puede_eliminar``)."""
    with operacion("eliminar_documento", actor=actor):
        documentos = ClienteDocumento.objects.select_for_update()
        if cliente_id is not None:
            documentos = documentos.filter(cliente_id=cliente_id)
        documento = documentos.get(pk=documento_id)
        if Cliente.objects.filter(pk=documento.cliente_id, resguardo__isnull=False).exists():
            raise ValidationError(
                "Este documento es parte de una ficha clínica en resguardo legal: se conserva hasta que termine "
                "el plazo y no se puede eliminar antes.",
                code="ficha_en_resguardo",
            )
        if not se_puede_eliminar(documento, actor):
            raise ValidationError(MENSAJE_DOCUMENTO_CONSERVADO, code="documento_conservado")
        nombre, cliente_del_documento = documento.archivo.name, documento.cliente_id
        try:
            documento.delete()
        except ProtectedError:
            # Another record of the file points to it (e.g. the scan of a signed consent, issue 16).
            raise ValidationError("Este documento respalda otro registro de la ficha (por ejemplo, un consentimiento "
                                  "firmado) y no se puede eliminar.", code="documento_en_uso") from None
        borrar_archivos_tras_commit([nombre])
    registrar_evento(
        logger, "documento_eliminado", documento_id=documento_id, cliente_id=cliente_del_documento,
        actor_id=getattr(actor, "pk", None),
    )


def borrar_archivos_tras_commit(nombres) -> None:
    """Remove these stored files once the surrounding service's transaction commits (never if
    it rolls back: the rows that name them are back)."""
    exigir_transaccion()
    nombres = [n for n in nombres if n]
    if nombres:
        transaction.on_commit(lambda: _borrar_archivos(nombres))


def _borrar_archivos(nombres) -> None:
    almacen = _almacen()
    for nombre in nombres:
        try:
            almacen.delete(nombre)
        except OSError as error:
            # The row is gone already; a leftover file is logged for the operator, not raised.
            registrar_evento(logger, "documento_archivo_no_borrado", logging.ERROR, archivo=nombre,
                             error=type(error).__name__)


# Download (both sites) --------------------------------------------------------------------------


def respuesta_descarga(documento: ClienteDocumento) -> FileResponse:
    """The file as an attachment with its original name, its detected type, never sniffed by
    the browser nor cached. Http404 if the file is missing from storage."""
    try:
        archivo = documento.archivo.open("rb")
    except (FileNotFoundError, ValueError):
        registrar_evento(logger, "documento_archivo_faltante", logging.ERROR, documento_id=documento.pk)
        raise Http404("El archivo de este documento no está disponible. Avise a la clínica.") from None
    tipo = documento.tipo_contenido if documento.tipo_contenido in EXTENSIONES_DOCUMENTO else "application/octet-stream"
    respuesta = FileResponse(
        archivo, as_attachment=True, filename=_visible(documento.nombre_descarga) or "documento", content_type=tipo
    )
    respuesta["X-Content-Type-Options"] = "nosniff"
    respuesta["Cache-Control"] = "private, no-store"
    return respuesta
