"""A patient's notice channel and their WhatsApp/SMS consents, recorded with their proof
(Ley 21.719): who recorded each consent, when and how; a withdrawal closes the record and
keeps it. The portal (``cuentas.services``) and the desk (``cuentas.presencial``,
``pacientes.services``) both record them here.

The channel rules are the outbox's (``notificaciones.preferencias``): WhatsApp or SMS as the
preferred channel needs its consent, and a phone channel only for a number that can receive
it (a mobile, Chilean or foreign; never a landline).
"""

from django.core.exceptions import ValidationError

from notificaciones.models import Canal
from notificaciones.preferencias import Preferencias, canales_alcanzables, canales_del_numero
from nucleo.servicios import exigir_transaccion
from pacientes.models import Cliente, ConsentimientoCanal, MedioConsentimiento

MEDIOS_EN_RECEPCION = (MedioConsentimiento.VERBAL, MedioConsentimiento.FORMULARIO)
_NOMBRE = {Canal.WHATSAPP: "WhatsApp", Canal.SMS: "SMS"}
_CAMPO = {Canal.WHATSAPP: "acepta_whatsapp", Canal.SMS: "acepta_sms"}


def ayuda_canales_del_numero(telefono) -> str:
    """What a number allows, in reception's words (the form's help text after validation)."""
    if not telefono:
        return "Sin teléfono: los avisos solo pueden llegar por correo electrónico."
    if canales_del_numero(telefono):
        return "Este número es un celular: puede recibir WhatsApp y SMS (con el consentimiento del paciente)."
    return "Este número es un teléfono fijo: no recibe WhatsApp ni SMS; los avisos solo pueden llegar por correo."


def errores_de_canales(*, canal_preferido, telefono, acepta_whatsapp, acepta_sms, medio=None,
                       medios_validos=None, vigentes=()) -> dict:
    """Every rule of a channel choice, errors by field (empty: it can be recorded).

    - ``canal_invalido``: not a channel of the list;
    - ``whatsapp_sin_consentimiento`` / ``sms_sin_consentimiento``: preferred without consent;
    - ``whatsapp_no_disponible`` / ``sms_no_disponible``: consent for a number that cannot
      receive that channel (a landline);
    - ``sin_telefono``: a phone channel preferred without a number;
    - ``medio_invalido``: a new consent (its channel not in ``vigentes``, the live ones) without
      how it was given (at the desk: verbal or a signed form), when ``medios_validos`` is given.
    """
    if canal_preferido not in Canal.values:
        return {"canal_preferido": ValidationError("Elija un canal de la lista.", code="canal_invalido")}
    errores = {}
    if canal_preferido == Canal.WHATSAPP and not acepta_whatsapp:
        errores["acepta_whatsapp"] = ValidationError(
            "Para recibir avisos por WhatsApp debe aceptarlo expresamente.", code="whatsapp_sin_consentimiento")
    if canal_preferido == Canal.SMS and not acepta_sms:
        errores["acepta_sms"] = ValidationError(
            "Para recibir avisos por SMS debe aceptarlo expresamente.", code="sms_sin_consentimiento")
    if errores:
        return errores
    if canal_preferido != Canal.EMAIL and not telefono:
        return {"canal_preferido": ValidationError(
            "Para recibir avisos en el celular, registre primero su número en sus datos de contacto.",
            code="sin_telefono",
        )}
    if telefono:
        permitidos = canales_del_numero(telefono)
        for canal, acepta in ((Canal.WHATSAPP, acepta_whatsapp), (Canal.SMS, acepta_sms)):
            if acepta and canal not in permitidos:
                errores[_CAMPO[canal]] = ValidationError(
                    f"El número registrado es un teléfono fijo: no puede recibir {_NOMBRE[canal]}. "
                    "Registre un celular o deje los avisos por correo electrónico.",
                    code=f"{canal}_no_disponible",
                )
    nuevos = (acepta_whatsapp and Canal.WHATSAPP not in vigentes) or (acepta_sms and Canal.SMS not in vigentes)
    if medios_validos is not None and nuevos and medio not in medios_validos:
        errores["medio_consentimiento"] = ValidationError(
            "Indique cómo dio el paciente su consentimiento (verbal en recepción o formulario firmado).",
            code="medio_invalido",
        )
    return errores


def guardar_canales(*, cliente, canal_preferido, acepta_whatsapp, acepta_sms, medio, actor, ahora) -> None:
    """Record the choice, under the caller's transaction (already checked with
    ``errores_de_canales``): a new consent is a new row (who, when, how); an existing live one
    keeps its date (that is when consent was given); a withdrawn one is closed with who, when
    and how, never deleted. Locks the patient's live consents first."""
    exigir_transaccion()
    vigentes = {
        k.canal: k for k in ConsentimientoCanal.objects.select_for_update().filter(
            cliente_id=cliente.pk, revocado_en__isnull=True)
    }
    usuario_id = getattr(actor, "pk", None)
    for canal, quiere in ((Canal.WHATSAPP, acepta_whatsapp), (Canal.SMS, acepta_sms)):
        if quiere and canal not in vigentes:
            ConsentimientoCanal.objects.create(
                cliente_id=cliente.pk, canal=canal, otorgado_en=ahora, medio=medio, registrado_por_id=usuario_id)
        elif not quiere and canal in vigentes:
            revocar = vigentes[canal]
            revocar.revocado_en, revocar.revocado_por_id = ahora, usuario_id
            revocar.revocado_medio = medio or MedioConsentimiento.VERBAL
            revocar.save(update_fields=["revocado_en", "revocado_medio", "revocado_por", "actualizado"])
    if cliente.canal_preferido != canal_preferido:
        cliente.canal_preferido = canal_preferido
        Cliente.objects.filter(pk=cliente.pk).update(canal_preferido=canal_preferido, actualizado=ahora)


def revocar_por_telefono(*, telefono, canal, ahora) -> int:
    """A STOP/BAJA from ``telefono``: close the live ``canal`` consent of the active patient with
    that number (how: the patient's answer; by: nobody on the staff). Under the caller's
    transaction; returns how many consents closed.

    Since issue 14 several active patients may hold one number (one confirmed at most, the
    others unconfirmed claims). The reply comes from the number itself, so it speaks for its
    owner: every patient holding it loses the consent, the confirmed one included. Only a
    confirmed number receives messages, so closing the claims' consents too takes nothing from
    anyone, and a claim that is confirmed later does not resume messages the owner stopped."""
    exigir_transaccion()
    return ConsentimientoCanal.objects.filter(
        canal=canal, revocado_en__isnull=True, cliente__activo=True, cliente__telefono=telefono
    ).update(revocado_en=ahora, revocado_medio=MedioConsentimiento.RESPUESTA, revocado_por=None, actualizado=ahora)


def consentimientos_de_cliente(cliente_id) -> list[ConsentimientoCanal]:
    """Every consent of a patient, live and withdrawn, newest first, with who recorded and who
    withdrew it. One query."""
    return list(
        ConsentimientoCanal.objects.filter(cliente_id=cliente_id)
        .select_related("registrado_por", "revocado_por")
        .order_by("-otorgado_en", "-pk")
    )


def canales_de_aviso_con(cliente, consentimientos) -> list[str]:
    """``Cliente.canales_de_aviso`` from consents already read (``consentimientos_de_cliente``):
    no query."""
    vigentes = {k.canal: k.otorgado_en for k in consentimientos if k.revocado_en is None}
    preferencias = Preferencias(cliente.canal_preferido, vigentes.get(Canal.WHATSAPP), vigentes.get(Canal.SMS),
                                cliente.telefono_confirmado)
    return canales_alcanzables(email=cliente.email, telefono=str(cliente.telefono or ""), preferencias=preferencias)
