"""Who a phone number belongs to (issue 14).

A number typed on the portal is only a claim: it gets no SMS or WhatsApp and blocks nobody.
It becomes the patient's (``Cliente.telefono_verificado_en``) when the clinic records it at the
desk or the patient confirms it with a code (``cuentas.codigos``). Whoever confirms a number
takes it: the other active patients that claim it unconfirmed lose it, and are told by e-mail.
"""

import logging

from django.conf import settings

from notificaciones.models import Canal
from notificaciones.services import notificar
from nucleo.registro import registrar_evento
from nucleo.servicios import exigir_transaccion
from pacientes.models import Cliente

logger = logging.getLogger(__name__)

RECEPCION = "recepcion"
CODIGO = "codigo"


def tomar_telefono(cliente, *, medio, ahora) -> list[int]:
    """Mark ``cliente``'s current number confirmed (``medio``: ``recepcion`` or ``codigo``) and
    take it from every other active patient that claims it unconfirmed: their number is emptied,
    their channel goes back to e-mail, and each with an address gets a ``telefono_liberado``
    e-mail. Under the caller's transaction. Returns the ids of the patients that lost it.

    The other claims are locked first (FOR NO KEY UPDATE, by id), so two confirmations of one
    number cannot both keep it: the second waits and then meets the unique index on confirmed
    numbers (``cliente_telefono_activo_unico``), which the caller turns into ``telefono_duplicado``."""
    exigir_transaccion()
    telefono = str(cliente.telefono or "")
    if not telefono:
        return []
    otros = list(
        Cliente.objects.select_for_update(no_key=True)
        .filter(activo=True, telefono=telefono, telefono_verificado_en__isnull=True)
        .exclude(pk=cliente.pk).order_by("pk")
        .only("pk", "email", "nombre_completo")
    )
    if otros:
        Cliente.objects.filter(pk__in=[o.pk for o in otros]).update(
            telefono="", canal_preferido=Canal.EMAIL, actualizado=ahora)
    Cliente.objects.filter(pk=cliente.pk).update(telefono_verificado_en=ahora, telefono_verificado_medio=medio,
                                                 actualizado=ahora)
    cliente.telefono_verificado_en, cliente.telefono_verificado_medio = ahora, medio
    for otro in otros:
        if otro.email:
            notificar(
                evento="telefono_liberado", referencia=f"{otro.pk}:{ahora.isoformat()}", email=otro.email,
                cliente=otro,
                contexto={"nombre": otro.nombre_completo, "final_telefono": telefono[-4:],
                          "telefono_clinica": settings.CLINICA_TELEFONO},
            )
    if otros:
        registrar_evento(logger, "telefono_liberado", cliente_id=cliente.pk, medio=medio,
                         liberados=[o.pk for o in otros])
    return [o.pk for o in otros]
