"""A patient's channel preferences as the outbox reads them: which channel they prefer, when
they opted in to each phone channel, and which channels a phone number can receive.

The patient's record stores them (``pacientes.Cliente.canal_preferido`` and the consent
records ``pacientes.ConsentimientoCanal``); code that already has the values from its own
query (the booking statement, the reminders' batch) passes a ``Preferencias`` instead of
building model instances by hand.
"""

import dataclasses
import datetime

import phonenumbers

from notificaciones.models import Canal

CANALES_CON_CONSENTIMIENTO = (Canal.WHATSAPP, Canal.SMS)
_MOVILES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def es_celular(telefono) -> bool:
    """Whether ``telefono`` (E.164, or anything phonenumbers parses with region CL) can receive
    SMS and WhatsApp: a mobile number, Chilean or foreign.

    Chile's numbering plan metadata types every 9-digit number as FIXED_LINE_OR_MOBILE, so for
    +56 the rule is the plan's own: mobiles are the numbers whose national part starts with 9.
    """
    texto = str(telefono or "").strip()
    if not texto:
        return False
    try:
        numero = phonenumbers.parse(texto, "CL")
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(numero):
        return False
    if numero.country_code == 56:
        return phonenumbers.national_significant_number(numero).startswith("9")
    return phonenumbers.number_type(numero) in _MOVILES


def canales_del_numero(telefono) -> tuple[str, ...]:
    """The phone channels a number can receive: WhatsApp and SMS for a mobile (foreign ones
    too), none for a landline."""
    return CANALES_CON_CONSENTIMIENTO if es_celular(telefono) else ()


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
    # The patient's number (E.164) when it is confirmed (recorded at the desk, or confirmed with
    # a code), else "": SMS and WhatsApp go only to that number (issue 14).
    telefono_verificado: str = ""

    @classmethod
    def de_valores(cls, canal_preferido, whatsapp_aceptado_en, sms_aceptado_en, telefono_verificado=""):
        """From a query's columns; None when there is no patient record."""
        if canal_preferido is None:
            return None
        return cls(canal_preferido, whatsapp_aceptado_en, sms_aceptado_en, str(telefono_verificado or ""))

    def acepta(self, canal: str) -> bool:
        return acepta_canal(canal, whatsapp_aceptado_en=self.whatsapp_aceptado_en, sms_aceptado_en=self.sms_aceptado_en)

    def confirmado(self, telefono) -> bool:
        """Whether ``telefono`` is the patient's confirmed number."""
        return bool(self.telefono_verificado) and self.telefono_verificado == str(telefono or "")


def canales_alcanzables(*, email, telefono, preferencias) -> list[str]:
    """Every channel a notice could reach this patient by: e-mail with an address, and each
    phone channel they consented to that their number can receive, once the number is confirmed.
    Empty: no notice reaches them (the staff site warns)."""
    canales = [Canal.EMAIL] if email else []
    if preferencias is not None and preferencias.confirmado(telefono):
        canales += [c for c in canales_del_numero(telefono) if preferencias.acepta(c)]
    return canales
