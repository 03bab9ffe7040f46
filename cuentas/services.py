"""Portal accounts: the ``User`` + ``PerfilCliente`` of a patient, always created with, and
linked to, their ``Cliente`` (seed flows A and B)."""

import datetime
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from cuentas.autenticacion import usuario_del_paciente
from cuentas.models import PerfilCliente
from notificaciones.models import Canal
from cuentas.eliminacion import eliminar_cliente
from cuentas.tokens import enlace_activacion
from notificaciones.models import Notificacion
from notificaciones.services import notificar
from nucleo.enlaces import enlaces
from nucleo.registro import registrar_evento
from nucleo.servicios import es_id_valido, exigir_transaccion, operacion
from pacientes.consentimientos import errores_de_canales, guardar_canales, revocar_por_telefono
from pacientes.models import Cliente, MedioConsentimiento
from pacientes.validaciones import (
    dividir_nombre,
    normalizar_email,
    normalizar_rut,
    normalizar_telefono,
    validar_datos_cliente_completos,
    validar_email_cliente,
    validar_username_disponible,
)

logger = logging.getLogger(__name__)


def crear_cuenta_portal(*, cliente, password=None, perfil_datos=None, clave_cifrada=None):
    """``User`` (username = e-mail) + ``PerfilCliente``, linked through ``Cliente.user``.

    Without ``password`` the account has no usable one: the patient sets it from an invitation.
    ``clave_cifrada`` is a password already hashed (``make_password``: a verified sign-up's).
    Runs inside the caller's transaction.
    """
    exigir_transaccion()
    nombre, apellido = dividir_nombre(cliente.nombre_completo)
    User = get_user_model()
    if clave_cifrada is None:
        user = User.objects.create_user(
            username=cliente.email, email=cliente.email, first_name=nombre, last_name=apellido, password=password
        )
    else:
        user = User.objects.create(
            username=User.normalize_username(cliente.email), email=User.objects.normalize_email(cliente.email),
            first_name=nombre, last_name=apellido, password=clave_cifrada,
        )
    perfil = PerfilCliente.objects.create(user=user, **(perfil_datos or {}))
    cliente.user = user
    cliente.save(update_fields=["user", "actualizado"])
    return user, perfil


def encolar_invitacion(*, cliente, user, referencia):
    """Record the invitation (a one-time set-password link, never a password)."""
    dias = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    notificar(
        evento="invitacion",
        referencia=referencia,
        email=user.email,
        cliente=cliente,
        contexto={"nombre": cliente.nombre_completo, "enlace": enlace_activacion(user), "dias_validez": dias},
    )


def crear_cuenta_e_invitar(*, cliente):
    """A portal account without a password for ``cliente`` (who has an e-mail and no account)
    and the invitation with its one-time set-password link, under the caller's transaction.
    What ``crear_cliente_presencial`` does with ``enviar_invitacion`` and ``invitar_al_portal``
    does later."""
    exigir_transaccion()
    user, _ = crear_cuenta_portal(cliente=cliente)
    encolar_invitacion(cliente=cliente, user=user, referencia=str(user.pk))
    return user


def invitar_al_portal(*, actor, cliente_id):
    """Invite to the portal a patient registered at the desk without an account: the account
    and the invitation, in one transaction (``crear_cuenta_e_invitar``).

    Raises ValidationError ``cuenta_existente`` (already has one: resend the invitation or
    recover the password instead), ``cliente_inactivo``, ``sin_email`` (register the e-mail
    first), ``cuenta_duplicada`` (another account uses that e-mail). Raises
    ``Cliente.DoesNotExist``. Nothing changes when refused.
    """
    with operacion("invitar_al_portal", actor=actor):
        cliente = Cliente.objects.select_for_update().get(pk=cliente_id)
        if cliente.user_id is not None:
            raise ValidationError(
                "Este paciente ya tiene cuenta en el portal. Si no la ha activado, use «Reenviar invitación».",
                code="cuenta_existente",
            )
        if not cliente.activo:
            raise ValidationError("El paciente está desactivado: reactívelo antes de invitarlo al portal.",
                                  code="cliente_inactivo")
        if not cliente.email:
            raise ValidationError(
                "Para invitarlo al portal, registre primero su correo electrónico en la ficha (Editar).",
                code="sin_email",
            )
        validar_username_disponible(cliente.email)
        user = crear_cuenta_e_invitar(cliente=cliente)
    registrar_evento(logger, "invitacion_enviada", cliente_id=cliente.pk, user_id=user.pk,
                     actor_id=getattr(actor, "pk", None))
    return user


def reenviar_invitacion(*, actor, cliente_id):
    """Send a fresh invitation to a patient whose account has no password yet."""
    with operacion("reenviar_invitacion", actor=actor):
        cliente = Cliente.objects.select_related("user").get(pk=cliente_id)
        user = cliente.user
        if user is None:
            raise ValidationError("Este paciente no tiene cuenta en el portal.", code="sin_cuenta")
        if user.has_usable_password():
            raise ValidationError(
                "El paciente ya activó su cuenta; puede recuperar su contraseña desde el portal.",
                code="cuenta_activa",
            )
        encolar_invitacion(cliente=cliente, user=user, referencia=f"{user.pk}:{timezone.now().isoformat()}")
    registrar_evento(logger, "invitacion_reenviada", cliente_id=cliente.pk, user_id=user.pk,
                     actor_id=getattr(actor, "pk", None))


def registrar_cliente_web(
    *,
    nombre_completo,
    rut,
    email,
    telefono,
    password,
    fecha_nacimiento=None,
    canal_preferido=Canal.EMAIL,
    acepta_whatsapp=False,
    acepta_sms=False,
    acepta_privacidad=False,
):
    """A patient registers on the portal (seed flow B): ``User`` + ``PerfilCliente`` +
    ``Cliente`` in one transaction.

    An active patient who already has this RUT but no account is linked only when the e-mail
    matches too; otherwise the person is sent to the clinic. Never a silent duplicate.
    Raises ValidationError (per field where it can) and leaves nothing behind.
    """
    existente, datos = revisar_registro(
        nombre_completo=nombre_completo, rut=rut, email=email, telefono=telefono, password=password,
        fecha_nacimiento=fecha_nacimiento, canal_preferido=canal_preferido, acepta_whatsapp=acepta_whatsapp,
        acepta_sms=acepta_sms, acepta_privacidad=acepta_privacidad,
    )
    with operacion("registrar_cliente_web"):
        user, cliente = crear_cuenta_web(
            existente_id=existente.pk if existente is not None else None, datos=datos, password=password,
            canal_preferido=canal_preferido, acepta_whatsapp=acepta_whatsapp, acepta_sms=acepta_sms,
            ahora=timezone.now(),
        )
    registrar_evento(logger, "cliente_registrado_web", cliente_id=cliente.pk, user_id=user.pk,
                     vinculado=existente is not None)
    return user


def _telefono_de_bienvenida(cliente) -> str:
    """Where the welcome goes besides the e-mail: nowhere unless the clinic enables it
    (``NOTIFICACIONES_BIENVENIDA_POR_TELEFONO``), since each WhatsApp is paid for."""
    return str(cliente.telefono or "") if settings.NOTIFICACIONES_BIENVENIDA_POR_TELEFONO else ""


def crear_cuenta_web(*, existente_id, datos, canal_preferido, acepta_whatsapp, acepta_sms, ahora, password=None,
                     clave_cifrada=None):
    """The writes of a portal sign-up, under the caller's transaction: the clinic's record
    ``existente_id`` linked (``vincular_paciente_existente``) or a new one from ``datos``, the
    account with its password (plain ``password`` or ``clave_cifrada``), the consents the patient
    gave (at ``ahora``) and the welcome. Returns (user, cliente)."""
    exigir_transaccion()
    if existente_id is not None:
        cliente = vincular_paciente_existente(existente_id, datos)
    else:
        cliente = Cliente.objects.create(**datos.__dict__, canal_preferido=canal_preferido)
    user, perfil = crear_cuenta_portal(cliente=cliente, password=password, clave_cifrada=clave_cifrada,
                                       perfil_datos={"privacidad_aceptada_en": ahora})
    # The consents are the patient's, given by themselves on the portal.
    guardar_canales(cliente=cliente, canal_preferido=canal_preferido, acepta_whatsapp=acepta_whatsapp,
                    acepta_sms=acepta_sms, medio=MedioConsentimiento.PORTAL, actor=user, ahora=ahora)
    notificar(
        evento="bienvenida", referencia=str(user.pk), email=user.email, telefono=_telefono_de_bienvenida(cliente),
        perfil=cliente.preferencias(), cliente=cliente, contexto={"nombre": cliente.nombre_completo},
    )
    return user, cliente


def validar_registro_cliente_web(**datos) -> None:
    """Every check of ``registrar_cliente_web`` (same arguments), writing nothing: a page can show
    all the problems of a form at once. Raises the same ValidationError."""
    revisar_registro(**datos)


def revisar_registro(
    *, nombre_completo="", rut="", email="", telefono="", password="", fecha_nacimiento=None,
    canal_preferido=Canal.EMAIL, acepta_whatsapp=False, acepta_sms=False, acepta_privacidad=False,
):
    """The registration's checks; returns (the clinic's record to link or None, normalised data).
    Raises one ValidationError with every problem found, by field (a record that cannot be
    linked is reported on ``rut``, first)."""
    errores = {}
    if not acepta_privacidad:
        errores["acepta_privacidad"] = ValidationError(
            "Debe aceptar el aviso de privacidad para crear su cuenta.", code="privacidad_obligatoria"
        )
    errores.update(errores_de_canales(canal_preferido=canal_preferido, telefono=_telefono_si_valido(telefono),
                                      acepta_whatsapp=acepta_whatsapp, acepta_sms=acepta_sms))

    existente = paciente_existente_por_rut(rut)
    if existente is not None:
        impedimento = impedimento_para_vincular(existente, email)
        if impedimento is not None:
            errores["rut"] = impedimento
    try:
        datos = validar_datos_cliente_completos(
            nombre_completo=nombre_completo, email=email, telefono=telefono, rut=rut,
            fecha_nacimiento=fecha_nacimiento, exigir_email=True, exigir_rut=True, exigir_telefono=True,
            excluir_cliente_id=existente.pk if existente else None,
        )
    except ValidationError as error:
        for campo, lista in error.error_dict.items():
            errores[campo] = [*([errores[campo]] if campo in errores else []), *lista]
        datos = None
    if datos is not None:
        try:
            validar_username_disponible(datos.email)
        except ValidationError as error:
            errores["email"] = error
    try:
        validate_password(password, user=get_user_model()(username=email, email=email))
    except ValidationError as error:
        errores["password"] = error
    if errores:
        raise ValidationError(errores)
    return existente, datos


def _telefono_si_valido(telefono):
    """The number in normal form for the channel rules, or "" (its own error is reported apart)."""
    try:
        return normalizar_telefono(telefono) if (telefono or "").strip() else ""
    except ValidationError:
        return ""


def paciente_existente_por_rut(rut):
    """The active patient with this RUT (any spelling), or None (also for a malformed RUT)."""
    try:
        rut = normalizar_rut(rut)
    except ValidationError:
        return None  # the full validation reports it next to its field
    return Cliente.objects.filter(activo=True, rut=rut).first()


def impedimento_para_vincular(cliente, email):
    """Why a registration cannot take over the clinic's existing record, or None.

    Linking needs proof that it is the same person: same RUT (how it was found) and same e-mail.
    """
    if cliente.user_id is not None:
        return ValidationError(
            "Ya existe una cuenta del portal con ese RUT. Inicie sesión o recupere su contraseña.",
            code="rut_con_cuenta",
        )
    try:
        mismo_correo = bool(cliente.email) and normalizar_email(cliente.email) == normalizar_email(email)
    except ValidationError:
        mismo_correo = False
    if not mismo_correo:
        return ValidationError(
            "Usted ya es paciente de la clínica, pero sus datos no coinciden con los registrados. "
            "Comuníquese con la clínica para activar su cuenta.",
            code="paciente_existente_contactar_clinica",
        )
    return None


def vincular_paciente_existente(cliente_id, datos):
    """Link the account to the clinic's record, re-checked under a row lock so two
    registrations cannot both claim it."""
    cliente = Cliente.objects.select_for_update().get(pk=cliente_id)
    impedimento = impedimento_para_vincular(cliente, datos.email)
    if impedimento is not None:
        raise ValidationError({"rut": impedimento})
    # The clinic's record wins; the registration only fills what the clinic did not have.
    campos = []
    for campo in ("telefono", "fecha_nacimiento"):
        if not getattr(cliente, campo) and getattr(datos, campo):
            setattr(cliente, campo, getattr(datos, campo))
            campos.append(campo)
    if campos:
        cliente.save(update_fields=[*campos, "actualizado"])
    return cliente


# Portal self-service: forgotten password, notification preferences, deleting one's account ---

VENTANA_RESTABLECIMIENTO = datetime.timedelta(minutes=15)


def solicitar_restablecimiento(*, identificador) -> bool:
    """Record a ``restablecer_clave`` e-mail with a one-time set-password link for the active
    patient whose RUT or e-mail is ``identificador``.

    Unlike Django's ``PasswordResetForm`` this also serves accounts whose password was never
    set (invited, not yet activated). At most one message per account per 15 minutes: a repeat
    inside the window records nothing. Returns whether a message was recorded; callers must not
    show the difference (no account enumeration). Never raises for unknown input.
    """
    user = usuario_del_paciente(identificador)
    if user is None:
        registrar_evento(logger, "restablecimiento_sin_cuenta")
        return False
    with operacion("solicitar_restablecimiento", actor=user):
        # The row lock serialises concurrent requests, so the window check below is exact.
        cliente = Cliente.objects.select_for_update().filter(user_id=user.pk, activo=True).first()
        if cliente is None or not cliente.email:
            return False
        ahora = timezone.now()
        tramo = int(ahora.timestamp() // VENTANA_RESTABLECIMIENTO.total_seconds())
        referencia = f"{user.pk}:{tramo}"
        reciente = Notificacion.objects.filter(
            Q(clave_idempotencia=f"restablecer_clave:{referencia}:{Canal.EMAIL}")
            | Q(cliente=cliente, plantilla="restablecer_clave", creado__gte=ahora - VENTANA_RESTABLECIMIENTO)
        ).exists()
        if not reciente:
            dias = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
            notificar(
                evento="restablecer_clave", referencia=referencia, email=cliente.email, cliente=cliente,
                contexto={"nombre": cliente.nombre_completo, "enlace": enlace_activacion(user), "dias_validez": dias},
            )
    registrar_evento(logger, "restablecimiento_solicitado", user_id=user.pk, registrado=not reciente)
    return not reciente


def actualizar_preferencias(*, user, canal_preferido, acepta_whatsapp, acepta_sms) -> PerfilCliente:
    """The patient changes their notice channel and their WhatsApp/SMS opt-ins on the portal.

    Recorded on their record (``pacientes.consentimientos.guardar_canales``, how: the portal, by:
    their account): an opt-in keeps the date it was first given; a withdrawal closes it and
    keeps it as history. WhatsApp or SMS as the preferred channel needs its opt-in and a mobile
    on record; e-mail is always allowed. Raises ValidationError per field.
    """
    cliente = Cliente.objects.filter(user_id=user.pk, activo=True).first()
    if cliente is None:
        raise ValidationError("Su cuenta no tiene una ficha de paciente activa.", code="sin_ficha")
    errores = errores_de_canales(canal_preferido=canal_preferido, telefono=str(cliente.telefono or ""),
                                 acepta_whatsapp=acepta_whatsapp, acepta_sms=acepta_sms)
    if errores:
        raise ValidationError(errores)
    with operacion("actualizar_preferencias", actor=user):
        cliente = Cliente.objects.select_for_update().get(pk=cliente.pk)
        # Old accounts may lack the profile: it is created here rather than refusing.
        perfil, _ = PerfilCliente.objects.get_or_create(user_id=user.pk)
        guardar_canales(cliente=cliente, canal_preferido=canal_preferido, acepta_whatsapp=acepta_whatsapp,
                        acepta_sms=acepta_sms, medio=MedioConsentimiento.PORTAL, actor=user, ahora=timezone.now())
    registrar_evento(logger, "preferencias_actualizadas", user_id=user.pk, canal=canal_preferido,
                     whatsapp=bool(acepta_whatsapp), sms=bool(acepta_sms))
    return perfil


def eliminar_mi_cuenta(*, user, password):
    """A patient deletes their own account and record (right of erasure, Ley 21.719).

    Checks the password (``clave_incorrecta``), then runs the clinic's deletion flow
    (``cuentas.eliminacion.eliminar_cliente``, one transaction): what the clinic must keep
    (past appointments as history, the audit log, and a clinical record under legal hold with
    the minimum identification, issue 15) stays. Returns its ``ResumenEliminacion``.
    """
    if not password or not user.check_password(password):
        raise ValidationError(
            {"password": ValidationError("La contraseña no es correcta.", code="clave_incorrecta")}
        )
    cliente_id = Cliente.objects.filter(user_id=user.pk, activo=True).values_list("pk", flat=True).first()
    if cliente_id is None:
        raise ValidationError("Su cuenta no tiene una ficha de paciente activa.", code="sin_ficha")
    user_id = user.pk
    resumen = eliminar_cliente(actor=user, cliente_id=cliente_id)
    registrar_evento(logger, "cuenta_eliminada_por_paciente", user_id=user_id, cliente_id=cliente_id)
    return resumen


# Changing the e-mail from the portal: the new address proves itself before it becomes the login --

SAL_CAMBIO_CORREO = "cuentas.cambio_de_correo"
VIGENCIA_CAMBIO_CORREO = datetime.timedelta(hours=24)
LARGO_MAXIMO_TOKEN_CORREO = 1500
EVENTO_CONFIRMAR_CORREO = "cambio_correo_confirmar"
EVENTO_AVISO_CORREO = "cambio_correo_aviso"
EVENTO_CORREO_DESHECHO = "cambio_correo_deshecho"
# The old address's notice carries a link that undoes the change and locks the account; it
# outlives the 24 h of the confirmation, so a change already confirmed can still be undone.
SAL_DESHACER_CORREO = "cuentas.deshacer_cambio_de_correo"
VIGENCIA_DESHACER_CORREO = datetime.timedelta(days=7)


@dataclass(frozen=True)
class CambioDeCorreo:
    """What a confirmation link asks for, for its page."""

    cliente_id: int
    nombre: str
    nuevo: str
    ya_confirmado: bool
    user_id: int | None = None


def _huella_correo(email) -> str:
    """Keyed digest of the e-mail on record when the link was made: it dies if that changes."""
    return salted_hmac(SAL_CAMBIO_CORREO, (email or "").strip().lower(), algorithm="sha256").hexdigest()[:24]


def token_cambio_de_correo(*, cliente, nuevo, nonce="") -> str:
    """The signed token (24 h) of changing ``cliente``'s e-mail to ``nuevo``. ``nonce`` names the
    request: only the newest request's link works."""
    datos = {"c": cliente.pk, "e": nuevo, "h": _huella_correo(cliente.email), "n": nonce}
    return signing.dumps(datos, salt=SAL_CAMBIO_CORREO, compress=True)


def _error_enlace(codigo):
    mensajes = {
        "enlace_invalido": "Este enlace no es válido. Copie el enlace completo desde el correo, o pida el cambio "
                           "otra vez en Mi cuenta → Datos de contacto.",
        "enlace_vencido": "Este enlace venció (dura 24 horas). Ingrese al portal y pida el cambio de correo otra vez "
                          "en Mi cuenta → Datos de contacto.",
        "enlace_reemplazado": "Este enlace ya no sirve: su correo cambió o se pidió otro cambio después. Use el "
                              "enlace del correo más reciente o pida el cambio otra vez en Mi cuenta.",
        "ya_confirmado": "Su nuevo correo ya estaba confirmado: ya puede ingresar al portal con él.",
    }
    return ValidationError(mensajes[codigo], code=codigo)


def _leer_token_correo(token) -> dict:
    """The token's data, or ``enlace_invalido`` / ``enlace_vencido``; never anything else."""
    if not isinstance(token, str) or not 0 < len(token) <= LARGO_MAXIMO_TOKEN_CORREO or not token.isascii():
        raise _error_enlace("enlace_invalido")
    try:
        datos = signing.loads(token, salt=SAL_CAMBIO_CORREO, max_age=VIGENCIA_CAMBIO_CORREO)
    except signing.SignatureExpired:
        raise _error_enlace("enlace_vencido") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise _error_enlace("enlace_invalido") from None
    # Signed by us, but the shape is checked anyway (old formats, bugs).
    if not (isinstance(datos, dict) and set(datos) == {"c", "e", "h", "n"}
            and es_id_valido(datos["c"])
            and all(isinstance(datos[k], str) for k in "ehn")):
        raise _error_enlace("enlace_invalido")
    return datos


def _revisar_cambio(cliente, datos) -> bool:
    """True when already applied; raises when the link no longer names the current request."""
    if cliente is None or cliente.user_id is None:
        raise _error_enlace("enlace_invalido")
    try:
        actual = normalizar_email(cliente.email)
    except ValidationError:
        actual = ""
    if actual and actual == datos["e"]:
        return True
    if not constant_time_compare(_huella_correo(cliente.email), datos["h"]):
        raise _error_enlace("enlace_reemplazado")
    # One use, newest wins: the link must belong to the latest request recorded for this patient
    # (so an old link cannot undo a later change back).
    # An undo (``deshacer_cambio_de_correo``) after it kills it too.
    ultima = (Notificacion.objects
              .filter(cliente_id=cliente.pk, plantilla__in=(EVENTO_CONFIRMAR_CORREO, EVENTO_CORREO_DESHECHO))
              .order_by("-pk").values_list("clave_idempotencia", flat=True).first())
    if ultima != f"{EVENTO_CONFIRMAR_CORREO}:{cliente.pk}:{datos['n']}:{Canal.EMAIL}":
        raise _error_enlace("enlace_reemplazado")
    return False


def _exigir_correo_libre(cliente, nuevo):
    """The e-mail rules of ``actualizar_cliente``: free among active patients and logins."""
    try:
        validar_email_cliente(nuevo, excluir_cliente_id=cliente.pk, excluir_user_id=cliente.user_id)
        validar_username_disponible(nuevo, excluir_user_id=cliente.user_id)
    except ValidationError as error:
        raise ValidationError(
            f"Ese correo ya está registrado en otra cuenta, así que no lo pudimos poner en la suya. Si es suyo, "
            f"llame a la clínica al {settings.CLINICA_TELEFONO}.",
            code=error.code,
        ) from None


def revisar_cambio_de_correo(*, token) -> CambioDeCorreo:
    """What a confirmation link would do (its GET page), writing nothing. Raises ValidationError
    ``enlace_invalido``, ``enlace_vencido`` or ``enlace_reemplazado``."""
    datos = _leer_token_correo(token)
    cliente = Cliente.objects.filter(pk=datos["c"], activo=True, user__is_active=True).first()
    ya = _revisar_cambio(cliente, datos)
    return CambioDeCorreo(cliente_id=cliente.pk, nombre=cliente.nombre_completo.split()[0],
                          nuevo=datos["e"], ya_confirmado=ya)


def _exigir_clave_actual(user, password):
    """A change of the login e-mail or the phone needs the current password: an open session
    alone (a borrowed phone) must not be enough to take the account. Raises ``clave_incorrecta``
    by field ``password``; the portal counts it toward the login's lockout."""
    if not password or not user.check_password(password):
        raise ValidationError({"password": ValidationError(
            "Para cambiar su correo o su celular, escriba su contraseña actual correcta.",
            code="clave_incorrecta")})


def _cambia_correo_o_celular(cliente, email, telefono) -> bool:
    """Whether ``email``/``telefono`` differ from the record (anything unreadable counts as a change)."""
    def igual(normalizar, nuevo, actual):
        try:
            return str(normalizar(nuevo)) == str(normalizar(actual))
        except ValidationError:
            return False
    correo_igual = igual(normalizar_email, email, cliente.email)
    if not telefono and not cliente.telefono:
        return not correo_igual
    return not (correo_igual and igual(lambda v: normalizar_telefono(v, solo_celular_chileno=False),
                                       str(telefono or ""), str(cliente.telefono or "")))


EVENTO_AVISO_CELULAR = "cambio_celular_aviso"
# The undo link of a phone change is the e-mail's (``deshacer_cambio_de_correo``: it gives the
# address on file back, unchanged here, and locks the account); its nonce says which change it
# answers, so its page and notice talk about the phone. ``token_urlsafe`` never makes a ".".
PREFIJO_CELULAR = "tel."


def _avisar_cambio_de_celular(cliente):
    """Tell the e-mail on file that the phone changed (the old number only gets SMS once it is
    verified: not here), with the "No fui yo" link that locks the account for review."""
    nonce = PREFIJO_CELULAR + secrets.token_urlsafe(9)
    deshacer = token_deshacer_cambio_de_correo(cliente=cliente, nonce=nonce)
    digitos = "".join(c for c in str(cliente.telefono or "") if c.isdigit())
    notificar(
        evento=EVENTO_AVISO_CELULAR, referencia=f"{cliente.pk}:{nonce}", email=cliente.email, cliente=cliente,
        contexto={"nombre": cliente.nombre_completo, "telefono_clinica": settings.CLINICA_TELEFONO,
                  # Only its end: enough for the owner to recognise it, little for anyone else.
                  "celular_final": digitos[-4:] if digitos else "",
                  "enlace_deshacer": enlaces().deshacer_cambio_de_correo(token=deshacer),
                  "dias_deshacer": VIGENCIA_DESHACER_CORREO.days},
    )


def actualizar_contacto_del_paciente(*, user, email, telefono="", fecha_nacimiento=None, password="") -> str:
    """A patient changes their own contact data in the portal.

    Changing the e-mail or the phone needs the current ``password`` (``clave_incorrecta``
    otherwise, nothing saved); the birth date alone does not. Phone and birth date are saved at once; a
    changed phone is told to the e-mail on file, with a "No fui yo" link (``_avisar_cambio_de_celular``).
    A new e-mail is the login, so it is not: in the same
    transaction a signed link (24 h) is recorded to the new address and a notice to the old one;
    ``confirmar_cambio_de_correo`` applies it. Returns the address waiting for confirmation, or "".
    """
    cliente = Cliente.objects.filter(user_id=user.pk, activo=True).first()
    if cliente is None:
        raise ValidationError("Su cuenta no tiene una ficha de paciente activa.", code="sin_ficha")
    # The password first: an open session alone must not even learn whether an address is taken.
    if _cambia_correo_o_celular(cliente, email, telefono):
        _exigir_clave_actual(user, password)
    datos = validar_datos_cliente_completos(
        nombre_completo=cliente.nombre_completo, email=email, telefono=telefono, fecha_nacimiento=fecha_nacimiento,
        exigir_email=True, excluir_cliente_id=cliente.pk, excluir_user_id=user.pk,
    )
    try:
        validar_username_disponible(datos.email, excluir_user_id=user.pk)
    except ValidationError as error:
        raise ValidationError({"email": error}) from None
    with operacion("actualizar_contacto_del_paciente", actor=user):
        cliente = Cliente.objects.select_for_update().get(pk=cliente.pk)
        celular_cambiado = str(datos.telefono or "") != str(cliente.telefono or "")
        cliente.telefono, cliente.fecha_nacimiento = datos.telefono, datos.fecha_nacimiento
        cliente.save(update_fields=["telefono", "fecha_nacimiento", "actualizado"])
        try:
            actual = normalizar_email(cliente.email)
        except ValidationError:
            actual = ""
        nuevo = datos.email if datos.email != actual else ""
        if nuevo:
            nonce = secrets.token_urlsafe(9)
            referencia = f"{cliente.pk}:{nonce}"
            token = token_cambio_de_correo(cliente=cliente, nuevo=nuevo, nonce=nonce)
            horas = int(VIGENCIA_CAMBIO_CORREO.total_seconds() // 3600)
            notificar(
                evento=EVENTO_CONFIRMAR_CORREO, referencia=referencia, email=nuevo, cliente=cliente,
                contexto={"nombre": cliente.nombre_completo, "correo_nuevo": nuevo, "horas_validez": horas,
                          "enlace": enlaces().cambio_de_correo(token=token)},
            )
            if cliente.email:
                deshacer = token_deshacer_cambio_de_correo(cliente=cliente, nonce=nonce)
                notificar(
                    evento=EVENTO_AVISO_CORREO, referencia=referencia, email=cliente.email, cliente=cliente,
                    contexto={"nombre": cliente.nombre_completo, "telefono_clinica": settings.CLINICA_TELEFONO,
                              "enlace_deshacer": enlaces().deshacer_cambio_de_correo(token=deshacer),
                              "dias_deshacer": VIGENCIA_DESHACER_CORREO.days},
                )
        if celular_cambiado and cliente.email:
            _avisar_cambio_de_celular(cliente)
    registrar_evento(logger, "contacto_actualizado_por_paciente", cliente_id=cliente.pk, user_id=user.pk,
                     cambio_de_correo_pedido=bool(nuevo), celular_cambiado=celular_cambiado)
    return nuevo


def confirmar_cambio_de_correo(*, token) -> CambioDeCorreo:
    """Apply the e-mail change a link names: ``Cliente.email`` and the login change together.

    No session needed (the signed token is the key); works once. Raises ValidationError
    ``enlace_invalido``, ``enlace_vencido``, ``enlace_reemplazado``, ``ya_confirmado``, or the
    e-mail's own code (``email_duplicado``, ``cuenta_duplicada``) if it was taken meanwhile.
    """
    datos = _leer_token_correo(token)
    cliente = Cliente.objects.filter(pk=datos["c"], activo=True, user__is_active=True).first()
    if _revisar_cambio(cliente, datos):
        raise _error_enlace("ya_confirmado")
    _exigir_correo_libre(cliente, datos["e"])
    with operacion("confirmar_cambio_de_correo", actor=cliente.user):
        # Checked again under the row lock: two clicks cannot both apply it.
        cliente = (Cliente.objects.select_for_update(of=("self",)).select_related("user")
                   .filter(pk=cliente.pk, activo=True, user__is_active=True).first())
        if _revisar_cambio(cliente, datos):
            raise _error_enlace("ya_confirmado")
        _exigir_correo_libre(cliente, datos["e"])
        cliente.email = datos["e"]
        cliente.save(update_fields=["email", "actualizado"])
        user = cliente.user
        user.username = user.email = cliente.email
        user.save(update_fields=["username", "email"])
    registrar_evento(logger, "correo_cambiado_por_enlace", cliente_id=cliente.pk, user_id=user.pk)
    return CambioDeCorreo(cliente_id=cliente.pk, nombre=cliente.nombre_completo.split()[0],
                          nuevo=cliente.email, ya_confirmado=False, user_id=user.pk)


# Undoing it from the old address: "it was not me" -----------------------------------------------


@dataclass(frozen=True)
class CorreoDeshecho:
    """What an undo link names, for its page."""

    cliente_id: int
    nombre: str
    anterior: str
    ya_bloqueada: bool
    celular: bool = False  # the link answers a phone change (``PREFIJO_CELULAR``), not an e-mail one


def token_deshacer_cambio_de_correo(*, cliente, nonce) -> str:
    """The signed token (7 days) that gives ``cliente`` back their current e-mail and locks the
    account; sent only to that address, with the request ``nonce`` it answers."""
    datos = {"c": cliente.pk, "a": normalizar_email(cliente.email), "n": nonce}
    return signing.dumps(datos, salt=SAL_DESHACER_CORREO, compress=True)


def _leer_token_deshacer(token) -> dict:
    if not isinstance(token, str) or not 0 < len(token) <= LARGO_MAXIMO_TOKEN_CORREO or not token.isascii():
        raise _error_enlace("enlace_invalido")
    try:
        datos = signing.loads(token, salt=SAL_DESHACER_CORREO, max_age=VIGENCIA_DESHACER_CORREO)
    except signing.SignatureExpired:
        raise ValidationError(
            f"Este enlace venció (dura {VIGENCIA_DESHACER_CORREO.days} días). Si usted no pidió cambiar su correo, "
            f"llame a la clínica al {settings.CLINICA_TELEFONO}.", code="enlace_vencido") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise _error_enlace("enlace_invalido") from None
    if not (isinstance(datos, dict) and set(datos) == {"c", "a", "n"} and es_id_valido(datos["c"])
            and all(isinstance(datos[k], str) for k in "an")):
        raise _error_enlace("enlace_invalido")
    return datos


def _cliente_a_deshacer(datos, *, bloquear_fila=False):
    consulta = Cliente.objects.filter(pk=datos["c"], activo=True, user__isnull=False)
    if bloquear_fila:
        consulta = consulta.select_for_update(of=("self",))
    cliente = consulta.select_related("user").first()
    if cliente is None:
        raise _error_enlace("enlace_invalido")
    return cliente


def revisar_deshacer_cambio_de_correo(*, token) -> CorreoDeshecho:
    """What an undo link would do (its GET page), writing nothing."""
    datos = _leer_token_deshacer(token)
    cliente = _cliente_a_deshacer(datos)
    return CorreoDeshecho(cliente_id=cliente.pk, nombre=cliente.nombre_completo.split()[0],
                          anterior=datos["a"], ya_bloqueada=not cliente.user.is_active,
                          celular=datos["n"].startswith(PREFIJO_CELULAR))


def deshacer_cambio_de_correo(*, token) -> CorreoDeshecho:
    """"It was not me": the e-mail goes back to the address the notice was sent to (record and
    login, if no one else took it meanwhile), any pending confirmation link dies, and the portal
    account is locked for review (``is_active=False``: every open session ends, no login, no
    password reset; ``PerfilCliente.bloqueada_en`` says since when) until the clinic checks it
    and unlocks it (``desbloquear_cuenta``). A notice to that address says to call the clinic. Idempotent: a
    locked account is left as it is (``ya_bloqueada``). Raises ``enlace_invalido`` or
    ``enlace_vencido``.
    """
    datos = _leer_token_deshacer(token)
    celular = datos["n"].startswith(PREFIJO_CELULAR)
    cliente = _cliente_a_deshacer(datos)
    with operacion("deshacer_cambio_de_correo", actor=cliente.user):
        cliente = _cliente_a_deshacer(datos, bloquear_fila=True)
        user = cliente.user
        if not user.is_active:
            return CorreoDeshecho(cliente_id=cliente.pk, nombre=cliente.nombre_completo.split()[0],
                                  anterior=datos["a"], ya_bloqueada=True, celular=celular)
        try:
            _exigir_correo_libre(cliente, datos["a"])
            libre = True
        except ValidationError:
            libre = False
        try:
            actual = normalizar_email(cliente.email)
        except ValidationError:
            actual = ""
        if libre and actual != datos["a"]:
            cliente.email = datos["a"]
            cliente.save(update_fields=["email", "actualizado"])
            user.username = user.email = datos["a"]
        user.is_active = False
        user.save(update_fields=["username", "email", "is_active"])
        PerfilCliente.objects.filter(user_id=user.pk).update(bloqueada_en=timezone.now())
        notificar(
            evento=EVENTO_CORREO_DESHECHO, referencia=f"{cliente.pk}:{datos['n']}", email=datos["a"], cliente=cliente,
            contexto={"nombre": cliente.nombre_completo, "telefono_clinica": settings.CLINICA_TELEFONO,
                      "celular": celular},
        )
    registrar_evento(logger, "cambio_de_correo_deshecho", cliente_id=cliente.pk, user_id=user.pk,
                     correo_restituido=libre, celular=celular)
    return CorreoDeshecho(cliente_id=cliente.pk, nombre=cliente.nombre_completo.split()[0],
                          anterior=datos["a"], ya_bloqueada=False, celular=celular)


# The clinic unlocks an account locked for review ----------------------------------------------

EVENTO_CUENTA_DESBLOQUEADA = "cuenta_desbloqueada"


def desbloquear_cuenta(*, actor, cliente_id):
    """Reception checked an account that "No fui yo" locked (``deshacer_cambio_de_correo``) and
    gives it back: the login is active again, and its password is made unusable, because
    whoever changed the e-mail knew it (a contact change needs the current password); a
    one-time set-password link goes to the e-mail on file (the one "No fui yo" restored, which
    the owner controls). Until the patient opens it nobody can log in, the intruder included.
    Audited with ``actor``. Raises ValidationError ``sin_cuenta``, ``cliente_inactivo``
    (reactivate the patient instead), ``no_bloqueada`` (nothing to unlock), ``sin_email``;
    ``Cliente.DoesNotExist``. Nothing changes when refused."""
    with operacion("desbloquear_cuenta", actor=actor):
        cliente = Cliente.objects.select_for_update(of=("self",)).select_related("user").get(pk=cliente_id)
        user = cliente.user
        if user is None:
            raise ValidationError("Este paciente no tiene cuenta en el portal.", code="sin_cuenta")
        if not cliente.activo:
            raise ValidationError("El paciente está desactivado: use «Reactivar», que también activa su cuenta.",
                                  code="cliente_inactivo")
        if user.is_active:
            raise ValidationError("La cuenta del portal de este paciente no está bloqueada.", code="no_bloqueada")
        if not cliente.email:
            raise ValidationError("Para desbloquear la cuenta, registre primero el correo del paciente (Editar).",
                                  code="sin_email")
        user.is_active = True
        user.set_unusable_password()
        user.save(update_fields=["is_active", "password"])
        PerfilCliente.objects.filter(user_id=user.pk).update(bloqueada_en=None)
        ahora = timezone.now()
        notificar(
            evento=EVENTO_CUENTA_DESBLOQUEADA, referencia=f"{user.pk}:{ahora.isoformat()}", email=cliente.email,
            cliente=cliente,
            contexto={"nombre": cliente.nombre_completo, "enlace": enlace_activacion(user),
                      "dias_validez": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
                      "telefono_clinica": settings.CLINICA_TELEFONO},
        )
    registrar_evento(logger, "cuenta_desbloqueada", cliente_id=cliente.pk, user_id=user.pk,
                     actor_id=getattr(actor, "pk", None))
    return cliente


# What the providers tell us back (webhooks): the consent is the patient's -------------------


def registrar_baja(*, telefono, canal, proveedor) -> int:
    """The person at ``telefono`` asked to stop receiving ``canal`` (an inbound STOP/BAJA):
    close that consent of the active patient with that number (how: their answer), in one
    audited transaction; the record stays as history. Later notifications then skip that
    channel. The providers' webhooks (``notificaciones.views``) call it through
    ``NOTIFICACIONES_REGISTRAR_BAJA``.

    Returns how many consents closed (0: unknown number, or already out).
    Raises ValueError for a channel without consent (e-mail).
    """
    if canal not in (Canal.WHATSAPP, Canal.SMS):
        raise ValueError(f"canal sin consentimiento: {canal}")
    with operacion("registrar_baja"):
        cambiados = revocar_por_telefono(telefono=telefono, canal=canal, ahora=timezone.now())
    registrar_evento(logger, "baja_registrada", canal=canal, proveedor=proveedor, perfiles=cambiados)
    return cambiados
