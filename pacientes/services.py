"""Patients: create (seed flow A), update, deactivate and delete, each one transaction."""

import logging
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from citas.models import Cita, EstadoCita
from cuentas.services import crear_cuenta_portal, dividir_nombre, encolar_invitacion
from notificaciones.models import Notificacion
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from pacientes.documentos import borrar_archivos_tras_commit
from pacientes.models import Cliente, ClienteDocumento
from pacientes.validaciones import validar_datos_cliente_completos, validar_username_disponible

logger = logging.getLogger(__name__)


def crear_cliente_presencial(
    *, actor, nombre_completo, email="", telefono="", rut="", fecha_nacimiento=None, alergias="",
    enviar_invitacion=False, clave_envio=None,
) -> Cliente:
    """Staff register a walk-in patient (seed flow A).

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
        datos = validar_datos_cliente_completos(
            nombre_completo=nombre_completo, email=email, telefono=telefono, rut=rut,
            fecha_nacimiento=fecha_nacimiento, alergias=alergias, exigir_email=enviar_invitacion,
        )
        if enviar_invitacion:
            try:
                validar_username_disponible(datos.email)
            except ValidationError as error:
                raise ValidationError({"email": error}) from None
        with operacion("crear_cliente_presencial", actor=actor):
            cliente = Cliente.objects.create(**datos.__dict__, clave_envio=clave_envio)
            if enviar_invitacion:
                user, _ = crear_cuenta_portal(cliente=cliente)
                encolar_invitacion(cliente=cliente, user=user, referencia=str(user.pk))
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


def actualizar_cliente(
    *, actor, cliente_id, nombre_completo, email="", telefono="", rut="", fecha_nacimiento=None, alergias=""
) -> Cliente:
    """Change a patient's data; their login (``User.email``, username, names) follows in the
    same transaction, so the two never drift apart."""
    cliente = Cliente.objects.get(pk=cliente_id)
    datos = validar_datos_cliente_completos(
        nombre_completo=nombre_completo, email=email, telefono=telefono, rut=rut,
        fecha_nacimiento=fecha_nacimiento, alergias=alergias, exigir_email=cliente.user_id is not None,
        excluir_cliente_id=cliente.pk, excluir_user_id=cliente.user_id,
    )
    if cliente.user_id is not None:
        try:
            validar_username_disponible(datos.email, excluir_user_id=cliente.user_id)
        except ValidationError as error:
            raise ValidationError({"email": error}) from None
    with operacion("actualizar_cliente", actor=actor):
        cliente = Cliente.objects.select_for_update(of=("self",)).select_related("user").get(pk=cliente_id)
        for campo, valor in datos.__dict__.items():
            setattr(cliente, campo, valor)
        cliente.save()
        if cliente.user is not None:
            user = cliente.user
            user.username = user.email = cliente.email
            user.first_name, user.last_name = dividir_nombre(cliente.nombre_completo)
            user.save(update_fields=["username", "email", "first_name", "last_name"])
    registrar_evento(logger, "cliente_actualizado", cliente_id=cliente.pk, actor_id=getattr(actor, "pk", None))
    return cliente


def desactivar_cliente(*, actor, cliente_id) -> Cliente:
    """The gentle alternative to deleting: the record stays, portal login is blocked, and the
    RUT/e-mail/phone are free for a new active record. Appointments are left as they are."""
    with operacion("desactivar_cliente", actor=actor):
        cliente = Cliente.objects.select_for_update().get(pk=cliente_id)
        cliente.activo = False
        cliente.save(update_fields=["activo", "actualizado"])
        if cliente.user_id is not None:
            get_user_model().objects.filter(pk=cliente.user_id).update(is_active=False)
    registrar_evento(logger, "cliente_desactivado", cliente_id=cliente.pk, actor_id=getattr(actor, "pk", None))
    return cliente


@dataclass(frozen=True)
class ResumenEliminacion:
    """What deleting a patient does (shown before, returned after)."""

    cliente_id: int
    cuenta_eliminada: bool
    citas_futuras_liberadas: int
    citas_pasadas_conservadas: int
    documentos_eliminados: int = 0
    notificaciones_eliminadas: int = 0


def _cuentas_del_cliente(cliente):
    """The patient's login: ``Cliente.user``, or for old data without the link, the seed's
    fallback by e-mail and username. Never staff, superusers or another patient's account."""
    User = get_user_model()
    if cliente.user_id is not None:
        return User.objects.filter(pk=cliente.user_id)
    if not cliente.email:
        return User.objects.none()
    return (
        User.objects.filter(Q(email__iexact=cliente.email) | Q(username__iexact=cliente.email))
        .filter(is_staff=False, is_superuser=False, perfil_personal__isnull=True, cliente__isnull=True)
    )


def resumen_eliminacion(*, cliente_id) -> ResumenEliminacion:
    """What ``eliminar_cliente`` would do, for the confirmation page."""
    cliente = Cliente.objects.get(pk=cliente_id)
    ahora = timezone.now()
    citas = Cita.objects.filter(cliente=cliente)
    return ResumenEliminacion(
        cliente_id=cliente.pk,
        cuenta_eliminada=_cuentas_del_cliente(cliente).exists(),
        citas_futuras_liberadas=citas.filter(inicio__gte=ahora, estado__in=_ESTADOS_LIBERABLES).count(),
        citas_pasadas_conservadas=citas.exclude(inicio__gte=ahora, estado__in=_ESTADOS_LIBERABLES).count(),
        documentos_eliminados=ClienteDocumento.objects.filter(cliente=cliente).count(),
        notificaciones_eliminadas=Notificacion.objects.filter(cliente=cliente).count(),
    )


_ESTADOS_LIBERABLES = [EstadoCita.RESERVADA, EstadoCita.CONFIRMADA]


def eliminar_cliente(*, actor, cliente_id) -> ResumenEliminacion:
    """Delete a patient (the seed's improved deletion flow), all in one transaction:

    their ``User`` and ``PerfilCliente`` go; future bookings are released to ``disponible``;
    every other appointment stays as history with its snapshot and ``cliente = NULL``; their
    documents and notifications go (erasure under Ley 21.719: those rows hold contact data and
    message bodies; a pending one simply never goes out), the documents' files only after
    commit; the audit trail records each change with the acting user; the ``Cliente`` goes last.
    """
    ahora = timezone.now()
    with operacion("eliminar_cliente", actor=actor):
        cliente = Cliente.objects.select_for_update().get(pk=cliente_id)
        citas = Cita.objects.filter(cliente=cliente)
        liberadas = citas.filter(inicio__gte=ahora, estado__in=_ESTADOS_LIBERABLES).update(
            estado=EstadoCita.DISPONIBLE, cliente=None, paciente_nombre="", paciente_email="",
            paciente_telefono="", motivo="", reprogramaciones=0, reservada_en=None, actualizado=ahora,
        )
        # History keeps who it was: fill any snapshot left empty by old data before unlinking.
        citas.filter(paciente_nombre="").update(paciente_nombre=cliente.nombre_completo)
        conservadas = citas.update(cliente=None, actualizado=ahora)
        # PerfilCliente goes with its User (on_delete=CASCADE).
        cuentas = list(_cuentas_del_cliente(cliente).values_list("pk", flat=True))
        get_user_model().objects.filter(pk__in=cuentas).delete()
        documentos = ClienteDocumento.objects.filter(cliente=cliente)
        archivos = list(documentos.values_list("archivo", flat=True))
        documentos_eliminados = documentos.delete()[0] if archivos else 0
        borrar_archivos_tras_commit(archivos)
        notificaciones_eliminadas = Notificacion.objects.filter(cliente=cliente).delete()[0]
        cliente.delete()
    resumen = ResumenEliminacion(
        cliente_id=cliente_id, cuenta_eliminada=bool(cuentas), citas_futuras_liberadas=liberadas,
        citas_pasadas_conservadas=conservadas, documentos_eliminados=documentos_eliminados,
        notificaciones_eliminadas=notificaciones_eliminadas,
    )
    registrar_evento(
        logger, "cliente_eliminado", cliente_id=cliente_id, cuentas_eliminadas=len(cuentas),
        citas_liberadas=liberadas, citas_conservadas=conservadas, documentos_eliminados=documentos_eliminados,
        notificaciones_eliminadas=notificaciones_eliminadas, actor_id=getattr(actor, "pk", None),
    )
    return resumen
