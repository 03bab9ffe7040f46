"""Patients' records: update and deactivate, each one transaction. Creating a walk-in patient
(seed flow A, ``cuentas.presencial``) and deleting one (``cuentas.eliminacion``) also touch the
portal account and the appointments, so they live above both, in ``cuentas``."""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from nucleo.registro import registrar_evento
from nucleo.servicios import exigir_transaccion, operacion
from pacientes.models import Cliente
from pacientes.validaciones import dividir_nombre, validar_datos_cliente_completos, validar_username_disponible

logger = logging.getLogger(__name__)


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


def _cambiar_actividad(cliente_id, *, activo) -> Cliente:
    """The record and its portal login are active together (a deactivated patient cannot log
    in). Under the caller's transaction; nothing is written when already so."""
    exigir_transaccion()
    cliente = Cliente.objects.select_for_update().get(pk=cliente_id)
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
        cliente = _cambiar_actividad(cliente_id, activo=False)
    registrar_evento(logger, "cliente_desactivado", cliente_id=cliente.pk, actor_id=getattr(actor, "pk", None))
    return cliente


def reactivar_cliente(*, actor, cliente_id) -> Cliente:
    """Undo ``desactivar_cliente``: the record is active again and so is its portal login.

    Raises ValidationError ``rut_duplicado``, ``email_duplicado`` or ``telefono_duplicado`` (the
    database's constraints on active patients) when a newer active record took that RUT, e-mail
    or phone meanwhile: nothing changes then. Raises ``Cliente.DoesNotExist``.
    """
    with operacion("reactivar_cliente", actor=actor):
        cliente = _cambiar_actividad(cliente_id, activo=True)
    registrar_evento(logger, "cliente_reactivado", cliente_id=cliente.pk, actor_id=getattr(actor, "pk", None))
    return cliente
