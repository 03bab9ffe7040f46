"""Informed consents (consentimientos informados, Ley 20.584 art. 14): the clinic's templates per
procedure, and the consents issued from them to a patient.

Each write is one service in one transaction (``operacion``) with a compare-and-set on the
consent's state, so two people accepting, revoking or annulling at once get one winner and a
Spanish message for the other. The database has the last word (``consentimiento_inmutable``,
``consentimiento_estado_coherente`` in ``ficha.models``).

Decisions:
- Templates are kept by the administration (the role that keeps the clinic's configuration);
  they are never deleted, only deactivated, and editing one never touches an issued consent
  (the consent holds its own copy of the text).
- Issuing, recording an acceptance, a revocation or an annulment is for a dentist with access
  to the patient's record (``ficha.acceso``): the consent is clinical content (the procedure,
  its risks) and reception cannot read clinical content, so reception does not record an
  acceptance at the desk; the dentist (or the tablet the dentist hands over) does.
- The signer is the patient or their legal representative: name, RUT (checked with the
  project's RUT validator) and relation. When the patient signs and their record has a RUT,
  the signer's RUT must be that one.
- A signature drawn on screen is stored as strokes of points in a ``ANCHO_FIRMA`` ×
  ``ALTO_FIRMA`` box (``interpretar_firma`` bounds their number and size): no image to parse,
  drawn again as SVG in the page and as lines in the PDF.
"""

import json
import logging
import math

from django.core.exceptions import ValidationError
from django.db.models.functions import Now
from django.utils import timezone

from ficha.antecedentes import exigir_dentista_con_acceso
from ficha.models import (
    Consentimiento, EstadoConsentimiento, FormaAceptacion, PlantillaConsentimiento, RelacionFirmante,
)
from nucleo.registro import registrar_evento
from nucleo.servicios import es_id_valido, operacion
from pacientes.documentos import nombre_original_seguro, validar_archivo
from pacientes.models import Cliente, ClienteDocumento
from pacientes.validaciones import normalizar_rut
from personal.models import nombre_de_personal
from personal.permisos import es_administrador

logger = logging.getLogger(__name__)

LARGO_NOMBRE = PlantillaConsentimiento._meta.get_field("nombre").max_length
LARGO_PROCEDIMIENTO = PlantillaConsentimiento._meta.get_field("procedimiento").max_length
LARGO_TEXTO = 20_000
LARGO_FIRMANTE = 200
LARGO_ANTE = Consentimiento._meta.get_field("aceptado_ante_nombre").max_length
LARGO_DOCUMENTO = Consentimiento._meta.get_field("firmante_rut").max_length
LARGO_MOTIVO = 1_000
MOTIVO_MINIMO = 5

ANCHO_FIRMA = 1000
ALTO_FIRMA = 400
MAX_TRAZOS = 60
MAX_PUNTOS = 3_000
MAX_JSON_FIRMA = 60_000  # characters of the JSON as posted

NO_EXISTE = "Ese consentimiento no existe en la ficha de este paciente."
NO_EXISTE_PLANTILLA = "Esa plantilla de consentimiento no existe."


# Text ---------------------------------------------------------------------------------------


def _texto(valor, *, campo, largo, obligatorio=True, mensaje_vacio="Complete este campo.") -> str:
    valor = str(valor or "").strip()
    if "\x00" in valor:
        raise ValidationError({campo: ValidationError("El texto tiene un carácter no permitido.",
                                                      code="caracter_invalido")})
    if len(valor) > largo:
        raise ValidationError({campo: ValidationError(f"El texto es demasiado largo (máximo {largo} caracteres).",
                                                      code="texto_largo")})
    if obligatorio and not valor:
        raise ValidationError({campo: ValidationError(mensaje_vacio, code="campo_obligatorio")})
    return valor


def _motivo(motivo, *, mensaje) -> str:
    texto = " ".join(_texto(motivo, campo="motivo", largo=LARGO_MOTIVO, obligatorio=False).split())
    if len(texto) < MOTIVO_MINIMO:
        raise ValidationError({"motivo": ValidationError(mensaje, code="motivo_requerido")})
    return texto


# Templates ----------------------------------------------------------------------------------


def _exigir_administrador(actor):
    if not es_administrador(actor):
        raise ValidationError("Solo la administración mantiene las plantillas de consentimiento.",
                              code="sin_permiso")


def _datos_plantilla(nombre, procedimiento, texto) -> dict:
    errores = {}
    datos = {}
    for campo, valor, largo, vacio in (
        ("nombre", nombre, LARGO_NOMBRE, "Escriba el nombre de la plantilla."),
        ("procedimiento", procedimiento, LARGO_PROCEDIMIENTO, "Escriba el procedimiento."),
        ("texto", texto, LARGO_TEXTO, "Escriba el texto del consentimiento (riesgos, alternativas)."),
    ):
        try:
            datos[campo] = _texto(valor, campo=campo, largo=largo, mensaje_vacio=vacio)
        except ValidationError as error:
            errores.update(error.error_dict)
    if errores:
        raise ValidationError(errores)
    return datos


def crear_plantilla(*, actor, nombre, procedimiento, texto) -> PlantillaConsentimiento:
    """A new active template. Raises ValidationError (per field, ``sin_permiso``,
    ``plantilla_duplicada``)."""
    datos = _datos_plantilla(nombre, procedimiento, texto)
    with operacion("crear_plantilla_consentimiento", actor=actor):
        _exigir_administrador(actor)
        return PlantillaConsentimiento.objects.create(**datos, actualizado_por=actor)


def _plantilla_bloqueada(plantilla_id) -> PlantillaConsentimiento:
    plantilla = None
    if es_id_valido(plantilla_id):
        plantilla = PlantillaConsentimiento.objects.select_for_update().filter(pk=plantilla_id).first()
    if plantilla is None:
        raise PlantillaConsentimiento.DoesNotExist(NO_EXISTE_PLANTILLA)
    return plantilla


def editar_plantilla(*, actor, plantilla_id, nombre, procedimiento, texto) -> PlantillaConsentimiento:
    """Change a template's text (consents already issued keep theirs). Raises ValidationError,
    ``PlantillaConsentimiento.DoesNotExist``."""
    datos = _datos_plantilla(nombre, procedimiento, texto)
    with operacion("editar_plantilla_consentimiento", actor=actor):
        _exigir_administrador(actor)
        plantilla = _plantilla_bloqueada(plantilla_id)
        for campo, valor in datos.items():
            setattr(plantilla, campo, valor)
        plantilla.actualizado_por = actor
        plantilla.save(update_fields=[*datos, "actualizado_por", "actualizado"])
    return plantilla


def cambiar_estado_plantilla(*, actor, plantilla_id, activa: bool) -> PlantillaConsentimiento:
    """Deactivate a template (no new consents from it) or activate it again. Raises
    ValidationError (``sin_permiso``, ``plantilla_duplicada``), ``PlantillaConsentimiento.DoesNotExist``."""
    with operacion("cambiar_estado_plantilla_consentimiento", actor=actor):
        _exigir_administrador(actor)
        plantilla = _plantilla_bloqueada(plantilla_id)
        if plantilla.activa != activa:
            plantilla.activa = activa
            plantilla.actualizado_por = actor
            plantilla.save(update_fields=["activa", "actualizado_por", "actualizado"])
    return plantilla


# Signature ----------------------------------------------------------------------------------


def _numero(valor, maximo) -> int:
    if isinstance(valor, bool) or not isinstance(valor, (int, float)) or not math.isfinite(valor):
        raise ValueError
    if not -1 <= valor <= maximo + 1:
        raise ValueError
    return min(max(round(valor), 0), maximo)


def interpretar_firma(valor) -> list[list[list[int]]]:
    """The strokes of a signature drawn on screen: JSON (text, or already parsed) of a list of
    strokes, each a list of ``[x, y]`` points in the ``ANCHO_FIRMA`` × ``ALTO_FIRMA`` box
    (rounded to whole units). At most ``MAX_TRAZOS`` strokes and ``MAX_PUNTOS`` points. Raises
    ValidationError ``firma_vacia`` (nothing drawn, or a lone dot), ``firma_invalida``
    (not that shape) or ``firma_grande``."""
    if isinstance(valor, str):
        if len(valor) > MAX_JSON_FIRMA:
            raise ValidationError("La firma es demasiado extensa: bórrela y firme de nuevo.", code="firma_grande")
        if not valor.strip():
            raise ValidationError("Firme en el recuadro antes de aceptar.", code="firma_vacia")
        try:
            valor = json.loads(valor)
        except (ValueError, RecursionError):
            raise ValidationError("La firma no se pudo leer: bórrela y firme de nuevo.",
                                  code="firma_invalida") from None
    if not isinstance(valor, list):
        raise ValidationError("La firma no se pudo leer: bórrela y firme de nuevo.", code="firma_invalida")
    if len(valor) > MAX_TRAZOS:
        raise ValidationError("La firma es demasiado extensa: bórrela y firme de nuevo.", code="firma_grande")
    trazos, puntos = [], 0
    try:
        for trazo in valor:
            if not isinstance(trazo, list) or not trazo:
                raise ValueError
            puntos += len(trazo)
            if puntos > MAX_PUNTOS:
                raise ValidationError("La firma es demasiado extensa: bórrela y firme de nuevo.",
                                      code="firma_grande")
            limpio = []
            for punto in trazo:
                if not isinstance(punto, list) or len(punto) != 2:
                    raise ValueError
                limpio.append([_numero(punto[0], ANCHO_FIRMA), _numero(punto[1], ALTO_FIRMA)])
            trazos.append(limpio)
    except ValueError:
        raise ValidationError("La firma no se pudo leer: bórrela y firme de nuevo.", code="firma_invalida") from None
    if not any(len({tuple(p) for p in t}) > 1 for t in trazos):
        raise ValidationError("Firme en el recuadro antes de aceptar.", code="firma_vacia")
    return trazos


def puntos_svg(trazos) -> list[str]:
    """Each stroke as an SVG ``points`` attribute ("x,y x,y …"), for a ``<polyline>``."""
    return [" ".join(f"{x},{y}" for x, y in trazo) for trazo in (trazos or [])]


# Consents -----------------------------------------------------------------------------------


def _consentimiento_bloqueado(consentimiento_id, cliente_id) -> Consentimiento:
    consentimiento = None
    if es_id_valido(consentimiento_id) and es_id_valido(cliente_id):
        consentimiento = (Consentimiento.objects.select_for_update(no_key=True)
                          .filter(pk=consentimiento_id, cliente_id=cliente_id).first())
    if consentimiento is None:
        raise Consentimiento.DoesNotExist(NO_EXISTE)
    return consentimiento


def _estado_actual(consentimiento_id) -> ValidationError:
    """Why a compare-and-set found the consent in another state (a colleague was first)."""
    actual = Consentimiento.objects.filter(pk=consentimiento_id).values(
        "estado", "aceptado_en", "aceptado_ante_nombre").first() or {}
    estado = actual.get("estado")
    if estado == EstadoConsentimiento.ACEPTADO:
        return ValidationError(
            f"Este consentimiento ya fue aceptado el {timezone.localtime(actual['aceptado_en']):%d-%m-%Y %H:%M} "
            f"ante {actual['aceptado_ante_nombre']}.", code="ya_aceptado")
    if estado == EstadoConsentimiento.REVOCADO:
        return ValidationError("Este consentimiento ya fue revocado.", code="ya_revocado")
    if estado == EstadoConsentimiento.ANULADO:
        return ValidationError("Este consentimiento fue anulado: emita uno nuevo si corresponde.",
                               code="consentimiento_anulado")
    return ValidationError("Este consentimiento aún no ha sido aceptado: si se emitió por error, anúlelo.",
                           code="no_aceptado")


def emitir_consentimiento(*, actor, cliente_id, plantilla_id) -> Consentimiento:
    """Issue a consent to the patient from an active template, by the actor (a dentist with
    access to the record): the template's name, procedure and text are copied. Raises
    ValidationError (``sin_acceso``, ``plantilla_inactiva``, ``cliente_inactivo``),
    ``Cliente.DoesNotExist``, ``PlantillaConsentimiento.DoesNotExist``."""
    with operacion("emitir_consentimiento", actor=actor):
        perfil = exigir_dentista_con_acceso(actor, cliente_id)
        if not Cliente.objects.filter(pk=cliente_id, activo=True).exists():
            raise ValidationError("Este paciente está desactivado: no se le pueden emitir consentimientos.",
                                  code="cliente_inactivo")
        plantilla = None
        if es_id_valido(plantilla_id):
            plantilla = PlantillaConsentimiento.objects.filter(pk=plantilla_id).first()
        if plantilla is None:
            raise ValidationError({"plantilla": ValidationError("Elija una plantilla de la lista.",
                                                                code="plantilla_invalida")})
        if not plantilla.activa:
            raise ValidationError({"plantilla": ValidationError(
                "Esa plantilla está desactivada: elija una vigente.", code="plantilla_inactiva")})
        consentimiento = Consentimiento.objects.create(
            cliente_id=cliente_id, plantilla=plantilla, dentista=perfil, titulo=plantilla.nombre,
            procedimiento=plantilla.procedimiento, texto=plantilla.texto, emitido_por=actor,
        )
        consentimiento.refresh_from_db(fields=["emitido_en", "estado"])
    registrar_evento(logger, "consentimiento_emitido", consentimiento_id=consentimiento.pk, cliente_id=cliente_id,
                     actor_id=actor.pk)
    return consentimiento


def _firmante(*, cliente, nombre, rut, relacion) -> dict:
    errores = {}
    datos = {}
    try:
        datos["firmante_nombre"] = " ".join(_texto(nombre, campo="firmante_nombre", largo=LARGO_FIRMANTE,
                                                   mensaje_vacio="Escriba el nombre de quien firma.").split())
    except ValidationError as error:
        errores.update(error.error_dict)
    sin_rut = not str(rut or "").strip()
    if sin_rut and relacion == RelacionFirmante.PACIENTE and not cliente.rut and cliente.documento_visible:
        # A patient without a RUT (a passport, a foreign ID) signs with the document the record
        # holds; a representative always gives a RUT.
        datos["firmante_rut"] = cliente.documento_visible[:LARGO_DOCUMENTO]
    else:
        try:
            datos["firmante_rut"] = normalizar_rut(str(rut or "")[:30])
        except ValidationError as error:
            errores["firmante_rut"] = error
    if relacion not in RelacionFirmante.values:
        errores["firmante_relacion"] = ValidationError("Indique quién firma: el paciente o su representante.",
                                                       code="relacion_invalida")
    else:
        datos["firmante_relacion"] = relacion
    if (not errores and relacion == RelacionFirmante.PACIENTE and cliente.rut
            and datos["firmante_rut"] != cliente.rut):
        errores["firmante_rut"] = ValidationError(
            "Ese no es el RUT del paciente. Si firma su representante legal, indíquelo en «Quién firma».",
            code="rut_no_es_del_paciente")
    if errores:
        raise ValidationError(errores)
    return datos


def aceptar_consentimiento(*, actor, cliente_id, consentimiento_id, firmante_nombre, firmante_rut,
                           firmante_relacion, leido, firma=None, archivo=None) -> Consentimiento:
    """Record the acceptance of an issued consent, before the actor (a dentist with access):
    who signs, when (the database's clock) and how: ``firma`` (the strokes drawn on screen, see
    ``interpretar_firma``) or ``archivo`` (the signed paper, scanned: stored as one of the
    patient's documents with the same checks as any upload). Compare-and-set on ``emitido``.
    Raises ValidationError (per field, ``no_leido``, ``forma_requerida``, ``ya_aceptado``,
    ``consentimiento_anulado``, ``sin_acceso``), ``Consentimiento.DoesNotExist``."""
    errores = {}
    if leido is not True:
        errores["leido"] = ValidationError("Marque que el paciente leyó el consentimiento (o se le leyó).",
                                           code="no_leido")
    trazos = tipo = tamano = None
    if archivo is not None:
        try:
            tipo, tamano = validar_archivo(archivo)
        except ValidationError as error:
            errores["archivo"] = error
    elif firma is not None and firma != "":
        try:
            trazos = interpretar_firma(firma)
        except ValidationError as error:
            errores["firma"] = error
    else:
        errores["firma"] = ValidationError("Firme en el recuadro o adjunte el documento firmado y escaneado.",
                                           code="forma_requerida")
    guardado = None
    try:
        with operacion("aceptar_consentimiento", actor=actor):
            exigir_dentista_con_acceso(actor, cliente_id)
            consentimiento = _consentimiento_bloqueado(consentimiento_id, cliente_id)
            if consentimiento.estado != EstadoConsentimiento.EMITIDO:
                raise _estado_actual(consentimiento.pk)
            cliente = Cliente.objects.only("pk", "rut").get(pk=cliente_id)
            try:
                datos = _firmante(cliente=cliente, nombre=firmante_nombre, rut=firmante_rut,
                                  relacion=firmante_relacion)
            except ValidationError as error:
                errores.update(error.error_dict)
            if errores:
                raise ValidationError(errores)
            documento = None
            if archivo is not None:
                documento = ClienteDocumento(
                    cliente_id=cliente_id, titulo=f"Consentimiento firmado: {consentimiento.titulo}"[:120],
                    nombre_original=nombre_original_seguro(archivo.name), tipo_contenido=tipo, tamano=tamano,
                    subido_por=actor,
                )
                documento.archivo.save("", archivo, save=False)
                guardado = documento.archivo.name
                documento.save()
            filas = Consentimiento.objects.filter(pk=consentimiento.pk, estado=EstadoConsentimiento.EMITIDO).update(
                estado=EstadoConsentimiento.ACEPTADO, aceptado_en=Now(), aceptado_ante=actor,
                # A staff name may be up to 301 characters (two 150-character fields); the
                # column keeps 200, enough for any real name.
                aceptado_ante_nombre=nombre_de_personal(actor.first_name, actor.last_name, actor.username)[:LARGO_ANTE],
                forma=FormaAceptacion.ESCANEO if documento else FormaAceptacion.FIRMA, firma_trazos=trazos,
                documento=documento, actualizado=timezone.now(), **datos,
            )
            if filas != 1:
                raise _estado_actual(consentimiento.pk)
            consentimiento.refresh_from_db()
    except BaseException:
        # The document's row rolled back: its file must go too (as ``pacientes.documentos``).
        if guardado:
            ClienteDocumento._meta.get_field("archivo").storage.delete(guardado)
        raise
    registrar_evento(logger, "consentimiento_aceptado", consentimiento_id=consentimiento.pk, cliente_id=cliente_id,
                     forma=consentimiento.forma, actor_id=actor.pk)
    return consentimiento


def revocar_consentimiento(*, actor, cliente_id, consentimiento_id, motivo) -> Consentimiento:
    """The patient withdraws an accepted consent; the actor (a dentist with access) records it
    with the reason, at the database's time. The consent keeps everything it had (a new state,
    nothing erased). Compare-and-set on ``aceptado``. Raises ValidationError (``motivo_requerido``,
    ``no_aceptado``, ``ya_revocado``, ``consentimiento_anulado``, ``sin_acceso``),
    ``Consentimiento.DoesNotExist``."""
    texto = _motivo(motivo, mensaje="Escriba por qué el paciente revoca su consentimiento.")
    with operacion("revocar_consentimiento", actor=actor):
        exigir_dentista_con_acceso(actor, cliente_id)
        consentimiento = _consentimiento_bloqueado(consentimiento_id, cliente_id)
        filas = Consentimiento.objects.filter(pk=consentimiento.pk, estado=EstadoConsentimiento.ACEPTADO).update(
            estado=EstadoConsentimiento.REVOCADO, revocado_en=Now(), revocado_por=actor, revocacion_motivo=texto,
            actualizado=timezone.now(),
        )
        if filas != 1:
            raise _estado_actual(consentimiento.pk)
        consentimiento.refresh_from_db()
    registrar_evento(logger, "consentimiento_revocado", consentimiento_id=consentimiento.pk, cliente_id=cliente_id,
                     actor_id=actor.pk)
    return consentimiento


def anular_consentimiento(*, actor, cliente_id, consentimiento_id, motivo) -> Consentimiento:
    """Annul a consent issued by mistake, before it was accepted, with the reason. Compare-and-set
    on ``emitido``. Raises ValidationError (``motivo_requerido``, ``ya_aceptado``,
    ``consentimiento_anulado``, ``sin_acceso``), ``Consentimiento.DoesNotExist``."""
    texto = _motivo(motivo, mensaje="Escriba por qué se anula (por ejemplo, se emitió por error).")
    with operacion("anular_consentimiento", actor=actor):
        exigir_dentista_con_acceso(actor, cliente_id)
        consentimiento = _consentimiento_bloqueado(consentimiento_id, cliente_id)
        filas = Consentimiento.objects.filter(pk=consentimiento.pk, estado=EstadoConsentimiento.EMITIDO).update(
            estado=EstadoConsentimiento.ANULADO, anulado_en=Now(), anulado_por=actor, anulacion_motivo=texto,
            actualizado=timezone.now(),
        )
        if filas != 1:
            raise _estado_actual(consentimiento.pk)
        consentimiento.refresh_from_db()
    registrar_evento(logger, "consentimiento_anulado", consentimiento_id=consentimiento.pk, cliente_id=cliente_id,
                     actor_id=actor.pk)
    return consentimiento


# Reads --------------------------------------------------------------------------------------


def consentimientos_del_paciente(cliente_id):
    """The patient's consents, newest first, with their dentist (one query)."""
    return (Consentimiento.objects.filter(cliente_id=cliente_id).select_related("dentista__user")
            .order_by("-emitido_en", "-pk"))


def consentimiento_del_paciente(*, cliente_id, consentimiento_id) -> Consentimiento:
    """One consent of this patient with its dentist and document. Raises ``Consentimiento.DoesNotExist``."""
    if not es_id_valido(consentimiento_id):
        raise Consentimiento.DoesNotExist(NO_EXISTE)
    return (Consentimiento.objects.select_related("dentista__user", "documento")
            .get(pk=consentimiento_id, cliente_id=cliente_id))
