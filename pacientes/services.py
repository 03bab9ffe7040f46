"""Patients' records: update and deactivate, each one transaction. Creating a walk-in patient
(seed flow A, ``cuentas.presencial``) and deleting one (``cuentas.eliminacion``) also touch the
portal account and the appointments, so they live above both, in ``cuentas``."""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from django.utils import timezone

from nucleo.registro import registrar_evento
from nucleo.servicios import exigir_transaccion, operacion
from pacientes.consentimientos import MEDIOS_EN_RECEPCION, errores_de_canales, guardar_canales
from pacientes.models import Cliente, TipoDocumento
from pacientes.telefonos import RECEPCION, tomar_telefono
from pacientes.validaciones import (
    _CONTROL as _CONTROL_ALERGIAS,
    LARGO_ALERGIAS,
    DatosCliente,
    dividir_nombre,
    normalizar_telefono,
    validar_datos_cliente_completos,
    validar_username_disponible,
)

logger = logging.getLogger(__name__)


def validar_datos_y_canales(*, canal_preferido, acepta_whatsapp, acepta_sms, medio_consentimiento, vigentes=(),
                            **datos) -> DatosCliente:
    """Reception's checks of a patient's data (``validar_datos_cliente_completos`` with any valid
    contact number) and of their notice channel and consents
    (``pacientes.consentimientos.errores_de_canales``, how it was given: verbal or a signed
    form), all errors at once by field. Returns the data in normal form."""
    errores = {}
    try:
        resultado = validar_datos_cliente_completos(**datos, solo_celular_chileno=False)
        telefono = resultado.telefono
    except ValidationError as error:
        errores.update(error.error_dict)
        resultado = None
        telefono = _telefono_o_vacio(datos.get("telefono"))
    if not errores.get("telefono"):
        errores.update(errores_de_canales(
            canal_preferido=canal_preferido, telefono=telefono, acepta_whatsapp=acepta_whatsapp,
            acepta_sms=acepta_sms, medio=medio_consentimiento, medios_validos=MEDIOS_EN_RECEPCION,
            vigentes=vigentes,
        ))
    if errores:
        raise ValidationError(errores)
    return resultado


def _telefono_o_vacio(telefono):
    try:
        return normalizar_telefono(telefono, solo_celular_chileno=False) if (telefono or "").strip() else ""
    except ValidationError:
        return ""


def actualizar_cliente(
    *, actor, cliente_id, nombre_completo, email="", telefono="", rut="", fecha_nacimiento=None, alergias="",
    tipo_documento=TipoDocumento.RUT, numero_documento="", pais_documento="", canal_preferido=None,
    acepta_whatsapp=None, acepta_sms=None, medio_consentimiento="", agregar_alergias="", confirmar_telefono=False,
) -> Cliente:
    """Change a patient's data; their login (``User.email``, username, names) follows in the
    same transaction, so the two never drift apart.

    With ``canal_preferido`` (reception's form) the notice channel and the WhatsApp/SMS consents
    are recorded too (``guardar_canales``: who, when, how); without it they stay as they are, but
    a consent the new number cannot receive (a landline now) is refused all the same.

    ``alergias=None`` keeps the recorded allergies, and ``agregar_alergias`` adds a line to them:
    the desk records what the patient declares without reading the clinical record.

    A number the desk records (a new or changed one), or confirms with ``confirmar_telefono``,
    is the patient's confirmed number (``pacientes.telefonos.tomar_telefono``, issue 14)."""
    cliente = Cliente.objects.con_consentimientos().get(pk=cliente_id)
    # The allergies are the record's too (a dentist may change them in the record meanwhile):
    # here they are only validated; the value written is computed again from the locked row.
    alergias_leidas, alergias_pedidas = cliente.alergias, alergias
    agregar_alergias = " ".join((agregar_alergias or "").split())
    alergias = _alergias_nuevas(alergias_leidas, pedidas=alergias_pedidas, leidas=alergias_leidas,
                                agregar=agregar_alergias)
    vigentes = [canal for canal, fecha in (("whatsapp", cliente.whatsapp_aceptado_en),
                                           ("sms", cliente.sms_aceptado_en)) if fecha is not None]
    if canal_preferido is None:
        canal_preferido = cliente.canal_preferido
        acepta_whatsapp, acepta_sms = "whatsapp" in vigentes, "sms" in vigentes
    datos = validar_datos_y_canales(
        nombre_completo=nombre_completo, email=email, telefono=telefono, rut=rut,
        fecha_nacimiento=fecha_nacimiento, alergias=alergias, exigir_email=cliente.user_id is not None,
        excluir_cliente_id=cliente.pk, excluir_user_id=cliente.user_id, tipo_documento=tipo_documento,
        numero_documento=numero_documento, pais_documento=pais_documento, canal_preferido=canal_preferido,
        acepta_whatsapp=acepta_whatsapp, acepta_sms=acepta_sms, medio_consentimiento=medio_consentimiento,
        vigentes=vigentes,
    )
    if cliente.user_id is not None:
        try:
            validar_username_disponible(datos.email, excluir_user_id=cliente.user_id)
        except ValidationError as error:
            raise ValidationError({"email": error}) from None
    with operacion("actualizar_cliente", actor=actor):
        cliente = Cliente.objects.select_for_update(of=("self",)).select_related("user").get(pk=cliente_id)
        impedir_si_en_resguardo(cliente.pk)
        telefono_anterior = str(cliente.telefono or "")
        campos = [campo for campo in datos.__dict__ if campo != "alergias"]
        for campo in campos:
            setattr(cliente, campo, getattr(datos, campo))
        nuevas = _alergias_nuevas(cliente.alergias, pedidas=alergias_pedidas, leidas=alergias_leidas,
                                  agregar=agregar_alergias)
        if nuevas != cliente.alergias:
            if len(nuevas) > LARGO_ALERGIAS:  # validated above on the text then read; it may have grown
                raise ValidationError({"alergias": ValidationError(
                    f"Las alergias no pueden superar {LARGO_ALERGIAS} caracteres.", code="alergias_largo")})
            cliente.alergias = nuevas
            campos.append("alergias")
        # Only these columns: a change of the allergies made meanwhile in the record stays.
        cliente.save(update_fields=[*campos, "actualizado"])  # a changed number loses its confirmation (trigger)
        if datos.telefono and (datos.telefono != telefono_anterior
                               or (confirmar_telefono and cliente.telefono_verificado_en is None)):
            tomar_telefono(cliente, medio=RECEPCION, ahora=timezone.now())
        guardar_canales(cliente=cliente, canal_preferido=canal_preferido, acepta_whatsapp=acepta_whatsapp,
                        acepta_sms=acepta_sms, medio=medio_consentimiento, actor=actor, ahora=timezone.now())
        if cliente.user is not None:
            user = cliente.user
            user.username = user.email = cliente.email
            user.first_name, user.last_name = dividir_nombre(cliente.nombre_completo)
            user.save(update_fields=["username", "email", "first_name", "last_name"])
    registrar_evento(logger, "cliente_actualizado", cliente_id=cliente.pk, actor_id=getattr(actor, "pk", None))
    return cliente


def _alergias_nuevas(actuales, *, pedidas, leidas, agregar) -> str:
    """The allergies to record: ``pedidas`` (the form's full text; None keeps them) replaces
    them only when the user changed what they had read (``leidas``); otherwise ``actuales``
    (the locked row's) stay, with the ``agregar`` line added."""
    pedidas = None if pedidas is None else _CONTROL_ALERGIAS.sub("", pedidas).strip()
    base = actuales if pedidas is None or pedidas == (leidas or "").strip() else pedidas
    if agregar:
        base = f"{(base or '').strip()}\n{agregar}".strip()
    return base


# The reverse relation of ficha.Resguardo (a layer above): read through the ORM, never imported.
def impedir_si_en_resguardo(cliente_id) -> None:
    """Refuse to bring back an erased patient whose clinical record is under legal hold
    (``ficha.Resguardo``): they asked to be forgotten; if they come back they are a new patient.
    Raises ValidationError ``ficha_en_resguardo``."""
    if Cliente.objects.filter(pk=cliente_id, resguardo__isnull=False).exists():
        raise ValidationError(
            "Este paciente fue eliminado y solo se conserva su ficha clínica en resguardo legal: no se puede "
            "reactivar, editar, invitar ni darle hora. Si vuelve a atenderse, regístrelo como paciente nuevo.",
            code="ficha_en_resguardo",
        )


def cambiar_actividad(cliente_id, *, activo) -> Cliente:
    """The record and its portal login are active together (a deactivated patient cannot log
    in). Under the caller's transaction; nothing is written when already so."""
    exigir_transaccion()
    cliente = Cliente.objects.select_for_update().get(pk=cliente_id)
    if activo and not cliente.activo:
        impedir_si_en_resguardo(cliente.pk)
    if cliente.activo != activo:
        cliente.activo = activo
        cliente.save(update_fields=["activo", "actualizado"])
        if cliente.user_id is not None:
            get_user_model().objects.filter(pk=cliente.user_id).update(is_active=activo)
    return cliente


def desactivar_cliente(*, actor, cliente_id) -> Cliente:
    """The gentle alternative to deleting: the record stays, portal login is blocked, and the
    RUT/e-mail/phone are free for a new active record. Appointments are left as they are."""
    with operacion("desactivar_cliente", actor=actor):
        cliente = cambiar_actividad(cliente_id, activo=False)
    registrar_evento(logger, "cliente_desactivado", cliente_id=cliente.pk, actor_id=getattr(actor, "pk", None))
    return cliente


def reactivar_cliente(*, actor, cliente_id) -> Cliente:
    """Undo ``desactivar_cliente``: the record is active again and so is its portal login.

    Raises ValidationError ``rut_duplicado``, ``email_duplicado`` or ``telefono_duplicado`` (the
    database's constraints on active patients) when a newer active record took that RUT, e-mail
    or phone meanwhile: nothing changes then. Raises ``Cliente.DoesNotExist``.
    """
    with operacion("reactivar_cliente", actor=actor):
        cliente = cambiar_actividad(cliente_id, activo=True)
    registrar_evento(logger, "cliente_reactivado", cliente_id=cliente.pk, actor_id=getattr(actor, "pk", None))
    return cliente
