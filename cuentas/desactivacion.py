"""Deactivating a patient from the staff site: the record, its portal login and, on request,
their future bookings, in one transaction. Here, above both ``pacientes`` and ``citas``."""

import logging

from django.core.exceptions import ValidationError
from django.utils import timezone

from citas.services import cancelar_citas_futuras_del_cliente
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from pacientes.services import cambiar_actividad

logger = logging.getLogger(__name__)

LIBERAR = "liberar"
CONSERVAR = "conservar"
# Sent to the patient as the clinic's reason (``cita_cancelada_clinica``): to them, not about them.
MOTIVO_POR_DEFECTO = "Su ficha de paciente en la clínica quedó inactiva."


def desactivar_paciente(*, actor, cliente_id, citas_futuras, motivo="") -> int:
    """Deactivate the patient (``cambiar_actividad``: record and portal login) and do with their
    future bookings what reception chose: ``"liberar"`` cancels each one by the clinic with a
    notice to the patient and frees its slot for others
    (``citas.services.cancelar_citas_futuras_del_cliente``; ``motivo``, or a neutral default,
    goes in the notice), ``"conservar"`` keeps them booked. All or nothing.

    Returns how many bookings were released. Raises ValidationError ``opcion_invalida`` (by
    field ``citas_futuras``), ``motivo_largo``, or ``Cliente.DoesNotExist``.
    """
    if citas_futuras not in (LIBERAR, CONSERVAR):
        raise ValidationError({"citas_futuras": ValidationError(
            "Elija qué hacer con sus horas futuras: liberarlas con aviso al paciente, o conservarlas.",
            code="opcion_invalida")})
    with operacion("desactivar_cliente", actor=actor):
        cliente = cambiar_actividad(cliente_id, activo=False)
        liberadas = 0
        if citas_futuras == LIBERAR:
            liberadas = cancelar_citas_futuras_del_cliente(
                actor=actor, cliente_id=cliente.pk, ahora=timezone.now(), motivo=motivo or MOTIVO_POR_DEFECTO)
    registrar_evento(logger, "cliente_desactivado", cliente_id=cliente.pk, citas_liberadas=liberadas,
                     actor_id=getattr(actor, "pk", None))
    return liberadas
