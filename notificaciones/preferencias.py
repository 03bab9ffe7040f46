"""A patient's channel preferences as the outbox reads them: which channel they prefer and
when they opted in to each phone channel.

The portal account (``cuentas.PerfilCliente``) stores them; code that already has the values
from its own query (the booking statement, the reminders' batch) passes a ``Preferencias``
instead of building a model instance by hand.
"""

import dataclasses
import datetime

from notificaciones.models import Canal


def acepta_canal(canal: str, *, whatsapp_aceptado_en, sms_aceptado_en) -> bool:
    """Whether the patient opted in to ``canal`` (e-mail needs no opt-in: it is the record)."""
    if canal == Canal.WHATSAPP:
        return whatsapp_aceptado_en is not None
    if canal == Canal.SMS:
        return sms_aceptado_en is not None
    return True


@dataclasses.dataclass(frozen=True, slots=True)
class Preferencias:
    canal_preferido: str
    whatsapp_aceptado_en: datetime.datetime | None = None
    sms_aceptado_en: datetime.datetime | None = None

    @classmethod
    def de_valores(cls, canal_preferido, whatsapp_aceptado_en, sms_aceptado_en):
        """From a query's columns; None when the patient has no portal account."""
        if canal_preferido is None:
            return None
        return cls(canal_preferido, whatsapp_aceptado_en, sms_aceptado_en)

    def acepta(self, canal: str) -> bool:
        return acepta_canal(canal, whatsapp_aceptado_en=self.whatsapp_aceptado_en, sms_aceptado_en=self.sms_aceptado_en)
