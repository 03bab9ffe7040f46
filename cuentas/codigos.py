"""Confirming a phone number with a code sent to it by SMS (issue 14).

A patient confirms on the portal that the number on their record is theirs: "Enviar código"
sends a 6-digit code by SMS to that number (the one message that goes to a number before it is
confirmed), and entering it marks the number confirmed (``pacientes.telefonos.tomar_telefono``).

Limits, counted in the database (``CodigoTelefono`` rows) under a transaction-level advisory
lock per number, so two requests at once cannot both pass them: one code per number and per
patient every ``ESPERA_ENTRE_CODIGOS``, at most ``CODIGOS_POR_DIA`` in 24 hours. A code is stored
as a keyed hash (HMAC with the SECRET_KEY), expires after ``VIGENCIA`` and admits
``INTENTOS_MAXIMOS`` wrong tries; only the newest unused code of the current number counts.
"""

import datetime
import hmac
import logging
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from cuentas.models import CodigoTelefono
from notificaciones.canales import canales_con_entrega
from notificaciones.models import Canal
from notificaciones.preferencias import es_celular
from notificaciones.services import notificar
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from pacientes.models import Cliente
from pacientes.telefonos import CODIGO, tomar_telefono

logger = logging.getLogger(__name__)

ESPERA_ENTRE_CODIGOS = datetime.timedelta(seconds=60)
CODIGOS_POR_DIA = 5
VIGENCIA = datetime.timedelta(minutes=10)
INTENTOS_MAXIMOS = 5


def _hash(cliente_id, telefono, codigo) -> str:
    """The stored form of a code: Django's keyed hash (SECRET_KEY), like the e-mail fingerprint
    of ``cuentas.services``."""
    return salted_hmac("cuentas.codigo_telefono", f"{cliente_id}:{telefono}:{codigo}", algorithm="sha256").hexdigest()


def _paciente_bloqueado(user):
    """The user's active patient, locked (FOR NO KEY UPDATE) for the rest of the transaction."""
    cliente = Cliente.objects.select_for_update(no_key=True).filter(user_id=user.pk, activo=True).first()
    if cliente is None:
        raise ValidationError("Su cuenta no tiene una ficha de paciente activa. Llame a la clínica.",
                              code="sin_ficha")
    return cliente


def _telefono_por_confirmar(cliente) -> str:
    telefono = str(cliente.telefono or "")
    if not telefono:
        raise ValidationError("Primero registre su celular en «Cambiar correo, celular o nacimiento».",
                              code="sin_telefono")
    if cliente.telefono_verificado_en is not None:
        raise ValidationError("Su celular ya está confirmado.", code="telefono_ya_confirmado")
    return telefono


def codigo_vigente(cliente) -> bool:
    """Whether a code sent to the patient's current number can still be used (one query)."""
    if not cliente.telefono or cliente.telefono_verificado_en is not None:
        return False
    # The newest unused code, the only one ``confirmar_codigo_telefono`` accepts.
    ultimo = (CodigoTelefono.objects.filter(cliente_id=cliente.pk, telefono=str(cliente.telefono), usado_en__isnull=True)
              .order_by("-creado").only("expira_en", "intentos").first())
    return ultimo is not None and ultimo.expira_en > timezone.now() and ultimo.intentos < INTENTOS_MAXIMOS


def enviar_codigo_telefono(*, user) -> CodigoTelefono:
    """Send a new code by SMS to the number on the user's record, in one transaction (the code
    row and the SMS row commit together). Raises ValidationError ``sin_ficha``, ``sin_telefono``,
    ``telefono_ya_confirmado``, ``no_es_celular``, ``sms_no_disponible`` (no SMS provider), ``codigo_reciente`` (less than a minute since
    the last one to this number or this patient) or ``demasiados_codigos`` (5 in 24 hours)."""
    with operacion("enviar_codigo_telefono", actor=user):
        cliente = _paciente_bloqueado(user)
        telefono = _telefono_por_confirmar(cliente)
        if not es_celular(telefono):
            raise ValidationError("Ese número no recibe SMS (es un teléfono fijo). Registre un celular.",
                                  code="no_es_celular")
        if Canal.SMS not in canales_con_entrega():
            # Recorded, it would wait for a provider and the patient would wait for nothing.
            raise ValidationError(
                "Por ahora la clínica no envía SMS: para confirmar su celular, llame a la clínica al "
                f"{settings.CLINICA_TELEFONO}.", code="sms_no_disponible")
        with connection.cursor() as cursor:
            # Serialises every request for this number (whichever account asks) until commit.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"codigo_telefono:{telefono}"])
        ahora = timezone.now()
        previos = CodigoTelefono.objects.filter(
            Q(telefono=telefono) | Q(cliente_id=cliente.pk), creado__gt=ahora - datetime.timedelta(days=1),
        ).aggregate(ultimo=Max("creado"), cantidad=Count("id"))
        if previos["ultimo"] is not None and previos["ultimo"] > ahora - ESPERA_ENTRE_CODIGOS:
            raise ValidationError("Ya le enviamos un código hace menos de un minuto. Espere un momento y pida otro "
                                  "solo si no le llega.", code="codigo_reciente")
        if previos["cantidad"] >= CODIGOS_POR_DIA:
            raise ValidationError(
                f"Ya enviamos {CODIGOS_POR_DIA} códigos a este celular hoy. Intente mañana, o llame a la clínica "
                f"al {settings.CLINICA_TELEFONO} para registrarlo.", code="demasiados_codigos")
        codigo = f"{secrets.randbelow(10**6):06d}"
        fila = CodigoTelefono.objects.create(cliente=cliente, telefono=telefono, expira_en=ahora + VIGENCIA,
                                             codigo_hash=_hash(cliente.pk, telefono, codigo))
        notificar(
            evento="codigo_telefono", referencia=str(fila.pk), sms_sin_confirmar=telefono, cliente=cliente,
            contexto={"codigo": codigo, "minutos": int(VIGENCIA.total_seconds() // 60)},
        )
    registrar_evento(logger, "codigo_telefono_enviado", cliente_id=cliente.pk, codigo_id=fila.pk)
    return fila


def confirmar_codigo_telefono(*, user, codigo) -> Cliente:
    """Check ``codigo`` against the newest unused code of the user's current number. Right: the
    number is confirmed (and taken from anyone claiming it unconfirmed). Wrong: the try is
    counted (committed) and nothing else changes. Raises ValidationError ``codigo_invalido``
    (not 6 digits: nothing counted), ``sin_codigo``, ``codigo_bloqueado`` (5 wrong tries),
    ``codigo_vencido``, ``codigo_incorrecto``, or the ones of ``_telefono_por_confirmar``."""
    codigo = "".join(str(codigo or "").split())
    if not re.fullmatch(r"[0-9]{6}", codigo):
        raise ValidationError("Ingrese los 6 dígitos del código que le enviamos por SMS.", code="codigo_invalido")
    error = None
    with operacion("confirmar_codigo_telefono", actor=user):
        cliente = _paciente_bloqueado(user)
        telefono = _telefono_por_confirmar(cliente)
        ahora = timezone.now()
        fila = (CodigoTelefono.objects.select_for_update()
                .filter(cliente_id=cliente.pk, telefono=telefono, usado_en__isnull=True).order_by("-creado").first())
        if fila is None:
            raise ValidationError("Primero pida un código con «Enviar código».", code="sin_codigo")
        if fila.intentos >= INTENTOS_MAXIMOS:
            raise ValidationError("Ingresó mal el código demasiadas veces. Pida uno nuevo.", code="codigo_bloqueado")
        if fila.expira_en <= ahora:
            raise ValidationError("El código venció. Pida uno nuevo.", code="codigo_vencido")
        if hmac.compare_digest(fila.codigo_hash, _hash(cliente.pk, telefono, codigo)):
            fila.usado_en = ahora
            fila.save(update_fields=["usado_en", "actualizado"])
            tomar_telefono(cliente, medio=CODIGO, ahora=ahora)
        else:
            # Committed (the try counts); the error is raised after the transaction.
            fila.intentos += 1
            fila.save(update_fields=["intentos", "actualizado"])
            quedan = INTENTOS_MAXIMOS - fila.intentos
            error = ValidationError(
                (f"El código no coincide. Le quedan {quedan} intentos." if quedan > 1
                 else "El código no coincide. Le queda 1 intento.") if quedan
                else "El código no coincide. Ingresó mal el código demasiadas veces: pida uno nuevo.",
                code="codigo_incorrecto")
    if error is not None:
        registrar_evento(logger, "codigo_telefono_incorrecto", cliente_id=cliente.pk, codigo_id=fila.pk)
        raise error
    registrar_evento(logger, "telefono_confirmado", cliente_id=cliente.pk, medio=CODIGO)
    return cliente
