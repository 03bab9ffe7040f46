"""The staff second factor (django-otp): who must use it, enrolment, verification, reset.

One home for the rule "this account signs in with a second factor" (``requiere_segundo_factor``):
the staff site's ``requiere_rol`` and the admin site's ``has_permission`` ask it.

Devices are django-otp's own models: one ``TOTPDevice`` (an authenticator app) and one
``StaticDevice`` holding the recovery codes (each ``StaticToken`` is consumed when used), and
optional passkeys (django-otp-webauthn's ``WebAuthnCredential``, gestion_clinica/views/llaves.py). The first two
throttle wrong codes themselves (``ThrottlingMixin``: after n failures in a row the next try is
refused for 2**(n-1) seconds); the count is kept in the device's row, so it holds across
processes. Errors are ``ValidationError`` with a stable ``code``:

- ``codigo_incorrecto``: the code matches neither the app nor an unused recovery code.
- ``demasiados_intentos``: too many wrong codes in a row; wait and try again.
- ``ya_inscrito``: enrolment asked for by someone who already has a confirmed device (a reset by
  an administrator comes first: otherwise a stolen password would be enough to add a device).
- ``no_autorizado`` / ``personal_no_encontrado``: see ``personal.services``.
"""

import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist, ValidationError
from django.utils import timezone
from django_otp.models import VerifyNotAllowed
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from django_otp_webauthn.models import WebAuthnCredential

from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from personal.models import Perfil, Rol
from personal.services import (
    _encolar_invitacion_personal, _exigir_administrador, _exigir_permiso_sobre, _perfil_bloqueado,
)

logger = logging.getLogger(__name__)

CODIGOS_DE_RECUPERACION = 10
NOMBRE_APP = "Aplicación de autenticación"
NOMBRE_RECUPERACION = "Códigos de recuperación"

MENSAJE_INCORRECTO = "El código no es correcto o ya se usó. Intente de nuevo con el código que se ve ahora."
MENSAJE_ESPERE = "Demasiados códigos incorrectos seguidos. Espere {segundos} segundos e intente de nuevo."


# Always with a second factor, whatever CLINICA_MFA_ROLES says: they read clinical records and
# manage the accounts that can. The setting may only add reception.
ROLES_SIEMPRE_CON_SEGUNDO_FACTOR = frozenset({Rol.ADMINISTRADOR, Rol.DENTISTA})


def validar_roles_con_segundo_factor(roles) -> frozenset:
    """``roles`` (CLINICA_MFA_ROLES) plus the roles that always need it; an unknown value is a
    configuration error (a typo must not silently leave a role without a second factor)."""
    roles = frozenset(str(r) for r in roles)
    desconocidos = roles - set(Rol.values)
    if desconocidos:
        raise ImproperlyConfigured(
            f"CLINICA_MFA_ROLES: {', '.join(sorted(desconocidos))} no es un rol del personal "
            f"(use {', '.join(Rol.values)})."
        )
    return roles | {str(r) for r in ROLES_SIEMPRE_CON_SEGUNDO_FACTOR}


def roles_con_segundo_factor() -> frozenset:
    """``CLINICA_MFA_ROLES`` (default: all three staff roles; settings.py says why), never
    without administrador and dentista."""
    return validar_roles_con_segundo_factor(getattr(settings, "CLINICA_MFA_ROLES", Rol.values))


def requiere_segundo_factor(user, rol=None) -> bool:
    """True when ``user`` must have a verified second factor: a superuser (the admin site and,
    as administrador, the staff site), or a staff member whose role is in ``CLINICA_MFA_ROLES``.
    ``rol``: the role already computed by the caller (``gestion_clinica.permisos.rol_de``)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if rol is None:
        try:
            perfil = user.perfil_personal
        except ObjectDoesNotExist:
            return False
        rol = perfil.rol if perfil.activo else None
    return rol is not None and str(rol) in roles_con_segundo_factor()


def esta_verificado(user) -> bool:
    """The session was verified with a device of this user (django-otp's ``OTPMiddleware``
    installs ``is_verified``; without it, never verified)."""
    verificado = getattr(user, "is_verified", None)
    return bool(verificado and verificado())


def tiene_segundo_factor(user) -> bool:
    """True once enrolment was confirmed (a confirmed authenticator app)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def tiene_llave(user) -> bool:
    """A passkey (django-otp-webauthn), added after enrolling the app: offered at the code step."""
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def codigo_totp(dispositivo, instante=None) -> str:
    """The code the authenticator app shows now for ``dispositivo`` (demo and tests)."""
    totp = TOTP(dispositivo.bin_key, dispositivo.step, dispositivo.t0, dispositivo.digits, dispositivo.drift)
    totp.time = time.time() if instante is None else instante
    return f"{totp.token():0{dispositivo.digits}d}"


def nuevo_secreto() -> str:
    """A new authenticator secret (hex, django-otp's default length). The enrolment page keeps
    it in the session until it is confirmed: showing the page writes nothing."""
    return random_hex(20)


def dispositivo_por_confirmar(user, secreto) -> TOTPDevice:
    """The device the enrolment page describes (not saved): its ``config_url`` is the QR."""
    return TOTPDevice(user=user, name=NOMBRE_APP, key=secreto, confirmed=False)


def _verificar(dispositivo, codigo) -> ValidationError | None:
    """Verify ``codigo`` on ``dispositivo`` (locked by the caller), honouring its throttle: the
    error to raise, or None. A wrong code is counted, so the caller's transaction must commit
    (the error is returned, and raised after it)."""
    permitido, datos = dispositivo.verify_is_allowed()
    if not permitido:
        return _espera(dispositivo, datos)
    return None if dispositivo.verify_token(codigo) else ValidationError(MENSAJE_INCORRECTO, code="codigo_incorrecto")


def _espera(dispositivo, datos):
    if datos and datos.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
        factor = dispositivo.get_throttle_factor()
        fin = dispositivo.throttling_failure_timestamp.timestamp() + factor * 2 ** (datos["failure_count"] - 1)
        segundos = max(1, int(fin - time.time()) + 1)
    else:
        segundos = 1
    return ValidationError(MENSAJE_ESPERE.format(segundos=segundos), code="demasiados_intentos")


def confirmar_inscripcion(*, user, secreto, codigo) -> tuple[TOTPDevice, list[str]]:
    """Save the authenticator app (``secreto``, from the enrolment page) once it shows the right
    code, with 10 new recovery codes, in one transaction.

    Returns the device and the recovery codes in clear: the only time they are shown (django-otp
    stores them as they are, to compare; the page says to keep them somewhere safe). The code is
    spent: the same code cannot also verify a later login (``last_t``)."""
    codigo = "".join((codigo or "").split())
    dispositivo = dispositivo_por_confirmar(user, secreto)
    totp = TOTP(dispositivo.bin_key, dispositivo.step, dispositivo.t0, dispositivo.digits, dispositivo.drift)
    totp.time = time.time()
    if not (codigo.isdigit() and totp.verify(int(codigo), dispositivo.tolerance)):
        registrar_evento(logger, "segundo_factor_rechazado", user_id=user.pk, paso="inscripcion")
        raise ValidationError(MENSAJE_INCORRECTO, code="codigo_incorrecto")
    with operacion("confirmar_segundo_factor", actor=user):
        # Two tabs confirming at once: the user's row serialises them; the second one finds the
        # first's device and is refused.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if tiene_segundo_factor(user):
            raise ValidationError("Ya configuró su segundo factor.", code="ya_inscrito")
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        dispositivo.confirmed = True
        dispositivo.last_t = totp.t()
        dispositivo.drift = totp.drift
        dispositivo.save()
        recuperacion = StaticDevice.objects.create(user=user, name=NOMBRE_RECUPERACION, confirmed=True)
        codigos = [StaticToken.random_token() for _ in range(CODIGOS_DE_RECUPERACION)]
        StaticToken.objects.bulk_create(StaticToken(device=recuperacion, token=c) for c in codigos)
    registrar_evento(logger, "segundo_factor_inscrito", user_id=user.pk)
    return dispositivo, codigos


def es_codigo_de_recuperacion(codigo: str) -> bool:
    """Codes of the app are 6 digits; recovery codes (``StaticToken.random_token``) are 8
    letters and digits. Only the device the code can belong to is tried: a typo in one does not
    count against the other's throttle."""
    return not (codigo.isdigit() and len(codigo) == 6)


def verificar_segundo_factor(*, user, codigo):
    """The device that accepts ``codigo`` (a code of the app or an unused recovery code, which
    is consumed), for ``django_otp.login``. Raises ``codigo_incorrecto`` or ``demasiados_intentos``."""
    codigo = "".join((codigo or "").split()).lower()
    recuperacion = es_codigo_de_recuperacion(codigo)
    modelo = StaticDevice if recuperacion else TOTPDevice
    with operacion("verificar_segundo_factor", actor=user):
        dispositivo = modelo.objects.devices_for_user(user, confirmed=True).select_for_update().order_by("pk").first()
        if dispositivo is None or not codigo:
            error = ValidationError(MENSAJE_INCORRECTO, code="codigo_incorrecto")
        else:
            error = _verificar(dispositivo, codigo)
    if error is not None:
        registrar_evento(logger, "segundo_factor_rechazado", user_id=user.pk, paso="verificacion", motivo=error.code)
        raise error
    registrar_evento(logger, "segundo_factor_verificado", user_id=user.pk,
                     medio="recuperacion" if recuperacion else "aplicacion")
    return dispositivo


def codigos_restantes(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def restablecer_segundo_factor(*, actor, perfil_id) -> Perfil:
    """An administrator removes a staff member's devices (a lost phone). In the same transaction
    their password becomes unusable and (active, with an address) they are sent the staff
    invitation: a one-time link to choose a new password, then they enrol again.

    Why the password too: with the devices gone, a session that had given only the password (an
    attacker who stole it, half logged in) would otherwise be the first to enrol. A new password
    changes the session auth hash, so Django ends every open session of the member at its next
    request. Recorded in the audit trail as a change of ``Perfil.segundo_factor_restablecido``.
    Raises ``no_autorizado`` or ``personal_no_encontrado``. ``perfil.invitacion_enviada`` says
    whether the e-mail was recorded.
    """
    with operacion("restablecer_segundo_factor", actor=actor):
        _exigir_administrador(actor)
        perfil = _perfil_bloqueado(perfil_id)
        _exigir_permiso_sobre(actor, perfil.user)
        TOTPDevice.objects.filter(user=perfil.user).delete()
        StaticDevice.objects.filter(user=perfil.user).delete()
        WebAuthnCredential.objects.filter(user=perfil.user).delete()
        perfil.segundo_factor_restablecido = timezone.now()
        perfil.save(update_fields=["segundo_factor_restablecido", "actualizado"])
        user = perfil.user
        user.set_unusable_password()
        user.save(update_fields=["password"])
        perfil.invitacion_enviada = bool(perfil.activo and user.is_active and user.email)
        if perfil.invitacion_enviada:
            _encolar_invitacion_personal(perfil=perfil, restablecimiento=True)
    registrar_evento(logger, "segundo_factor_restablecido", perfil_id=perfil.pk, user_id=perfil.user_id,
                     actor_id=getattr(actor, "pk", None))
    return perfil
