"""Staff register a walk-in patient (seed flow A): the record, and on request a portal account
with its invitation, in one transaction."""

import logging
import uuid

from django.core.exceptions import ValidationError

from cuentas.services import crear_cuenta_e_invitar
from django.utils import timezone

from notificaciones.models import Canal
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from pacientes.consentimientos import guardar_canales
from pacientes.models import Cliente, TipoDocumento
from pacientes.services import validar_datos_y_canales
from pacientes.telefonos import RECEPCION, tomar_telefono
from pacientes.validaciones import validar_username_disponible

logger = logging.getLogger(__name__)


def crear_cliente_presencial(
    *, actor, nombre_completo, email="", telefono="", rut="", fecha_nacimiento=None, alergias="",
    enviar_invitacion=False, clave_envio=None, tipo_documento=TipoDocumento.RUT, numero_documento="",
    pais_documento="", canal_preferido=Canal.EMAIL, acepta_whatsapp=False, acepta_sms=False,
    medio_consentimiento="",
) -> Cliente:
    """Staff register a walk-in patient (seed flow A).

    The contact number may be any valid one (a landline, a foreign number); the identity
    document a RUT, a passport or another one with its country. The notice channel and the
    WhatsApp/SMS consents are recorded with who (``actor``), when and how
    (``medio_consentimiento``: verbal or a signed form), under the channel rules of
    ``pacientes.consentimientos.errores_de_canales``.

    With ``enviar_invitacion`` the patient also gets a portal account (``User`` without a usable
    password + ``PerfilCliente``) and an e-mail with a one-time set-password link; that needs an
    e-mail. All or nothing. Raises ValidationError (``error_dict`` per field).

    ``clave_envio`` (the form's one-time UUID) makes a resubmit harmless: if a patient already
    holds that key (committed before or concurrently, enforced by a unique index), nothing is
    created or sent and ValidationError ``envio_repetido`` is raised with ``params["cliente_id"]``.
    Without a key (old form, API) every call creates a patient, as before.
    """
    clave_envio = _clave_envio_valida(clave_envio)
    try:
        # Checked first: a resubmit with a RUT or e-mail must not read as a "duplicate patient".
        _rechazar_envio_repetido(clave_envio)
        datos = validar_datos_y_canales(
            nombre_completo=nombre_completo, email=email, telefono=telefono, rut=rut,
            fecha_nacimiento=fecha_nacimiento, alergias=alergias, exigir_email=enviar_invitacion,
            tipo_documento=tipo_documento, numero_documento=numero_documento, pais_documento=pais_documento,
            canal_preferido=canal_preferido, acepta_whatsapp=acepta_whatsapp, acepta_sms=acepta_sms,
            medio_consentimiento=medio_consentimiento,
        )
        if enviar_invitacion:
            try:
                validar_username_disponible(datos.email)
            except ValidationError as error:
                raise ValidationError({"email": error}) from None
        with operacion("crear_cliente_presencial", actor=actor):
            cliente = Cliente.objects.create(**datos.__dict__, clave_envio=clave_envio, canal_preferido=canal_preferido)
            # Recorded at the desk: the patient's confirmed number (an unconfirmed claim by
            # someone else on the portal is dropped, issue 14).
            tomar_telefono(cliente, medio=RECEPCION, ahora=timezone.now())
            guardar_canales(cliente=cliente, canal_preferido=canal_preferido, acepta_whatsapp=acepta_whatsapp,
                            acepta_sms=acepta_sms, medio=medio_consentimiento, actor=actor, ahora=timezone.now())
            if enviar_invitacion:
                crear_cuenta_e_invitar(cliente=cliente)
    except ValidationError as error:
        # A concurrent twin may have committed meanwhile; whichever check or index refused
        # us (RUT, e-mail, the key itself), the true answer is then "already registered".
        if getattr(error, "code", None) != "envio_repetido" or not getattr(error, "params", None):
            _rechazar_envio_repetido(clave_envio)
        raise
    registrar_evento(logger, "cliente_creado_presencial", cliente_id=cliente.pk, user_id=cliente.user_id,
                     actor_id=getattr(actor, "pk", None))
    return cliente


def _clave_envio_valida(clave_envio):
    """The key as a UUID (or None); anything else was tampered with on the way."""
    if clave_envio is None or clave_envio == "" or isinstance(clave_envio, uuid.UUID):
        return clave_envio or None
    try:
        if len(texto := str(clave_envio)) > 45:  # the longest spelling uuid.UUID accepts
            raise ValueError(texto[:10])
        return uuid.UUID(texto)
    except ValueError:
        raise ValidationError(
            "El formulario llegó alterado. Recargue la página y vuelva a ingresar los datos.",
            code="clave_envio_invalida",
        ) from None


def _rechazar_envio_repetido(clave_envio):
    """Raise ``envio_repetido`` (with the existing patient's id) if that key already created one."""
    if clave_envio is None:
        return
    cliente_id = Cliente.objects.filter(clave_envio=clave_envio).values_list("pk", flat=True).first()
    if cliente_id is not None:
        raise ValidationError(
            "Este paciente ya quedó registrado; no se creó de nuevo.",
            code="envio_repetido", params={"cliente_id": cliente_id},
        )
