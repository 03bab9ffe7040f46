"""Staff accounts: create, invite, deactivate and reactivate the clinic's people.

Only an administrator (a staff member whose ``Perfil`` is an active ``administrador``) or a
superuser may call these services; anyone else gets ``no_autorizado``. Errors are
``ValidationError`` with a stable ``code``:

- ``no_autorizado``: the actor may not manage staff (or not this account: only a superuser
  manages a superuser's account, or creates one).
- ``personal_no_encontrado``: no staff member with that id.
- ``personal_inactivo``: an invitation for a deactivated member.
- ``cuenta_activa``: an invitation for someone who already has a password.
- ``sin_correo``: an invitation for someone without an e-mail address.
- ``invitacion_con_clave``: ``crear_personal`` given both a password and ``enviar_invitacion``.
- ``no_puede_desactivarse``: an actor deactivating their own account.
- ``ultimo_administrador``: deactivating, or taking the role away from, the last active
  administrator.
- ``rol_propio``: an administrator changing their own role (another administrator must do it).
- ``dentista_con_reservas``: taking the dentist role away from someone with future bookings.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from notificaciones.services import notificar
from nucleo.registro import registrar_evento
from nucleo.servicios import exigir_transaccion, operacion
from pacientes.validaciones import normalizar_email, normalizar_nombre, normalizar_rut, validar_username_disponible
from personal.ganchos import reservas_futuras
from personal.models import Perfil, Rol
from personal.tokens import enlace_activacion_personal

logger = logging.getLogger(__name__)


def _actor_id(actor):
    return getattr(actor, "pk", None)


def puede_administrar_personal(actor) -> bool:
    """True for an active superuser or an active staff member with the administrador role.

    A deactivated ``Perfil`` wins even over superuser status (the staff site's rule too:
    ``gestion_clinica.permisos.rol_de``). Reads the database, not the actor's cached state.
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_superuser:
        return not Perfil.objects.filter(user_id=actor.pk, activo=False).exists()
    return Perfil.objects.filter(
        user_id=actor.pk, rol=Rol.ADMINISTRADOR, activo=True, user__is_active=True
    ).exists()


def _exigir_administrador(actor):
    if not puede_administrar_personal(actor):
        raise ValidationError("No tiene permiso para administrar al personal.", code="no_autorizado")


def _exigir_permiso_sobre(actor, user):
    """Only a superuser touches a superuser's account: an administrator cannot lock one out."""
    if user.is_superuser and not getattr(actor, "is_superuser", False):
        raise ValidationError("Solo un superusuario puede administrar esta cuenta.", code="no_autorizado")


def _perfil_bloqueado(perfil_id):
    """The member's ``Perfil`` (with its user), locked until the end of the transaction."""
    perfil = Perfil.objects.select_for_update().select_related("user").filter(pk=perfil_id).first()
    if perfil is None:
        raise ValidationError("Miembro del personal no encontrado.", code="personal_no_encontrado")
    return perfil


def _encolar_invitacion_personal(*, perfil, restablecimiento=False):
    """Record the invitation e-mail (a one-time set-password link, never a password).

    Runs inside the caller's transaction; the caller checked that the account is active, has no
    usable password and has an address. ``restablecimiento``: sent after an administrator reset
    the member's second factor (the e-mail says so instead of "we created your account").
    """
    exigir_transaccion()
    user = perfil.user
    notificar(
        evento="invitacion_personal",
        referencia=f"{user.pk}:{timezone.now().isoformat()}",
        email=user.email,
        contexto={
            "nombre": perfil.nombre,
            "username": user.username,
            "rol": perfil.get_rol_display().lower(),
            "enlace": enlace_activacion_personal(user),
            "dias_validez": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
            "restablecimiento": restablecimiento,
        },
    )


def crear_personal(
    *, actor, username, nombre, apellido, email, rol, especialidad="", password=None, es_superusuario=False,
    enviar_invitacion=False,
) -> Perfil:
    """Create a staff member (``User`` with ``is_staff`` + ``Perfil``) in one transaction.

    Without ``password`` the account has none usable until the person sets it through a
    set-password link; ``enviar_invitacion`` records that link's e-mail in the same transaction.
    ``es_superusuario`` also makes them a Django superuser (full access to the admin, the
    clinic's safety net); only a superuser may grant it.

    ``actor=None`` is the system itself (``cargar_demo``, benchmarks, the first administrator);
    views always pass ``request.user``. Raises ValidationError ``no_autorizado``,
    ``rol_invalido``, ``invitacion_con_clave`` or one about bad or duplicate data.
    """
    if actor is not None:
        _exigir_administrador(actor)
        if es_superusuario and not actor.is_superuser:
            raise ValidationError("Solo un superusuario puede crear otro superusuario.", code="no_autorizado")
    if rol not in Rol.values:
        raise ValidationError({"rol": ValidationError("Rol desconocido.", code="rol_invalido")})
    if enviar_invitacion and password:
        raise ValidationError(
            {"enviar_invitacion": ValidationError(
                "La invitación es para elegir la contraseña: no indique una.", code="invitacion_con_clave"
            )}
        )
    username = validar_username_disponible(username)
    email = normalizar_email(email)
    nombre, apellido = normalizar_nombre(nombre), normalizar_nombre(apellido)
    with operacion("crear_personal", actor=actor):
        user = get_user_model().objects.create_user(
            username=username, email=email, first_name=nombre, last_name=apellido, is_staff=True,
            is_superuser=es_superusuario, password=password,
        )
        perfil = Perfil.objects.create(user=user, rol=rol, especialidad=especialidad.strip())
        if enviar_invitacion:
            _encolar_invitacion_personal(perfil=perfil)
    registrar_evento(logger, "personal_creado", perfil_id=perfil.pk, user_id=user.pk, rol=rol,
                     invitacion=enviar_invitacion, actor_id=_actor_id(actor))
    return perfil


def invitar_personal(*, actor, perfil_id) -> Perfil:
    """Send (or send again) a staff member the one-time link to set their password.

    Raises ValidationError ``no_autorizado``, ``personal_no_encontrado``, ``personal_inactivo``,
    ``cuenta_activa`` (they already have a password: they can reset it) or ``sin_correo``.
    """
    with operacion("invitar_personal", actor=actor):
        _exigir_administrador(actor)
        perfil = _perfil_bloqueado(perfil_id)
        user = perfil.user
        _exigir_permiso_sobre(actor, user)
        if not (perfil.activo and user.is_active):
            raise ValidationError(
                "Este miembro del personal está desactivado: reactívelo antes de invitarlo.",
                code="personal_inactivo",
            )
        if user.has_usable_password():
            raise ValidationError(
                "Esta persona ya activó su cuenta; puede recuperar su contraseña desde el inicio de sesión.",
                code="cuenta_activa",
            )
        if not user.email:
            raise ValidationError("Esta persona no tiene correo electrónico registrado.", code="sin_correo")
        _encolar_invitacion_personal(perfil=perfil)
    registrar_evento(logger, "personal_invitado", perfil_id=perfil.pk, user_id=user.pk, actor_id=_actor_id(actor))
    return perfil


def _administradores_bloqueados():
    """Lock every active administrator's ``Perfil``, always in the same order, and return their
    ids. Two services that could each remove an administrator (deactivate, change a role) run
    one after the other from here on: the second one sees what the first one committed, so
    both together can never leave the clinic without one."""
    return list(
        Perfil.objects.select_for_update(of=("self",))
        .filter(rol=Rol.ADMINISTRADOR, activo=True, user__is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _nombre_de_campo(campo, valor):
    """``normalizar_nombre``, with its error on ``campo`` and the ``auth_user`` column's length."""
    try:
        texto = normalizar_nombre(valor)
    except ValidationError as error:
        raise ValidationError({campo: error}) from error
    if len(texto) > 150:
        raise ValidationError({campo: ValidationError("No puede superar 150 caracteres.", code="nombre_largo")})
    return texto


def _asignar(objeto, **valores):
    """Set the values that differ; return the names of the fields that changed."""
    cambiados = [campo for campo, valor in valores.items() if getattr(objeto, campo) != valor]
    for campo in cambiados:
        setattr(objeto, campo, valores[campo])
    return cambiados


def _datos_profesionales(rut, registro_superintendencia) -> dict:
    """A dentist's RUT (normal form, ``12345678-5``) and Superintendencia de Salud registry
    number (digits), as a prescription prints them; ``None`` leaves a value as it is, "" clears
    it. Raises ValidationError per field (``rut_invalido``, ``registro_invalido``)."""
    datos = {}
    if rut is not None:
        rut = str(rut).strip()
        try:
            datos["rut"] = normalizar_rut(rut) if rut else ""
        except ValidationError as error:
            raise ValidationError({"rut": error}) from None
    if registro_superintendencia is not None:
        registro = "".join(str(registro_superintendencia).replace(".", "").split())
        if not (registro.isascii() and registro.isdigit() and len(registro) <= 10) and registro:
            raise ValidationError({"registro_superintendencia": ValidationError(
                "El número de registro en la Superintendencia de Salud son solo dígitos (hasta 10), "
                "por ejemplo 123456.", code="registro_invalido")})
        datos["registro_superintendencia"] = registro
    return datos


def editar_personal(*, actor, perfil_id, nombre, apellido, rol, especialidad="", rut=None,
                    registro_superintendencia=None) -> Perfil:
    """Change a staff member's name, role and specialty (``User`` names and ``Perfil``), and a
    dentist's RUT and registry number (``None``: unchanged), in one transaction, audited under
    ``editar_personal``.

    Raises ValidationError ``no_autorizado``, ``personal_no_encontrado``, ``rol_invalido``,
    a name code (``nombre_obligatorio``, ...), ``rol_propio``, ``ultimo_administrador`` or
    ``dentista_con_reservas`` (their future bookings must be moved or cancelled first).
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ValidationError("No tiene permiso para administrar al personal.", code="no_autorizado")
    if rol not in Rol.values:
        raise ValidationError({"rol": ValidationError("Rol desconocido.", code="rol_invalido")})
    nombre, apellido = _nombre_de_campo("nombre", nombre), _nombre_de_campo("apellido", apellido)
    especialidad = " ".join((especialidad or "").split())
    if len(especialidad) > 120:
        raise ValidationError({"especialidad": ValidationError(
            "La especialidad no puede superar 120 caracteres.", code="especialidad_larga")})
    profesionales = _datos_profesionales(rut, registro_superintendencia)
    with operacion("editar_personal", actor=actor):
        administradores = _administradores_bloqueados()
        _exigir_administrador(actor)
        perfil = _perfil_bloqueado(perfil_id)
        user = perfil.user
        _exigir_permiso_sobre(actor, user)
        if rol != perfil.rol:
            if user.pk == actor.pk:
                raise ValidationError({"rol": ValidationError(
                    "No puede cambiar su propio rol: pídaselo a otro administrador.", code="rol_propio")})
            if perfil.pk in administradores and len(administradores) == 1:
                raise ValidationError({"rol": ValidationError(
                    "Es el último administrador activo: nombre a otro antes de cambiarle el rol.",
                    code="ultimo_administrador")})
            if perfil.rol == Rol.DENTISTA:
                futuras = reservas_futuras(perfil.pk)
                if futuras:
                    raise ValidationError({"rol": ValidationError(
                        f"{perfil.nombre} tiene {futuras} hora{'s' if futuras != 1 else ''} reservada"
                        f"{'s' if futuras != 1 else ''} desde hoy en adelante. Cámbielas de hora o cancélelas "
                        "antes de quitarle el rol de dentista.", code="dentista_con_reservas")})
        cambios_user = _asignar(user, first_name=nombre, last_name=apellido)
        if cambios_user:
            user.save(update_fields=cambios_user)
        if profesionales.get("rut") and Perfil.objects.filter(rut=profesionales["rut"]).exclude(pk=perfil.pk).exists():
            raise ValidationError({"rut": ValidationError("Otro miembro del personal ya tiene ese RUT.",
                                                          code="rut_duplicado")})
        cambios_perfil = _asignar(perfil, rol=rol, especialidad=especialidad, **profesionales)
        if cambios_perfil:
            perfil.save(update_fields=[*cambios_perfil, "actualizado"])
    registrar_evento(logger, "personal_editado", perfil_id=perfil.pk, user_id=user.pk,
                     campos=",".join(cambios_user + cambios_perfil), actor_id=_actor_id(actor))
    return perfil


def desactivar_personal(*, actor, perfil_id) -> Perfil:
    """Block a staff member's access: ``Perfil.activo`` and ``User.is_active`` become False
    (their sessions stop working on the next request). Their appointments are left as they are.

    Raises ValidationError ``no_autorizado``, ``personal_no_encontrado``,
    ``no_puede_desactivarse`` (one's own account) or ``ultimo_administrador``.
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ValidationError("No tiene permiso para administrar al personal.", code="no_autorizado")
    with operacion("desactivar_personal", actor=actor):
        # Two administrators deactivating (or demoting) each other at once are serialised
        # here, and the second one, no longer active, is refused by the permission check.
        administradores = _administradores_bloqueados()
        _exigir_administrador(actor)
        perfil = _perfil_bloqueado(perfil_id)
        user = perfil.user
        if user.pk == actor.pk:
            raise ValidationError("No puede desactivar su propia cuenta.", code="no_puede_desactivarse")
        _exigir_permiso_sobre(actor, user)
        if perfil.pk in administradores and len(administradores) == 1:
            raise ValidationError(
                "Es el último administrador activo: nombre a otro antes de desactivarlo.",
                code="ultimo_administrador",
            )
        if perfil.activo:
            perfil.activo = False
            perfil.save(update_fields=["activo", "actualizado"])
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
    registrar_evento(logger, "personal_desactivado", perfil_id=perfil.pk, user_id=user.pk,
                     actor_id=_actor_id(actor))
    return perfil


def reactivar_personal(*, actor, perfil_id) -> Perfil:
    """Give a deactivated staff member their access back (``Perfil.activo`` and
    ``User.is_active``). Raises ValidationError ``no_autorizado`` or ``personal_no_encontrado``.
    """
    with operacion("reactivar_personal", actor=actor):
        _exigir_administrador(actor)
        perfil = _perfil_bloqueado(perfil_id)
        user = perfil.user
        _exigir_permiso_sobre(actor, user)
        if not perfil.activo:
            perfil.activo = True
            perfil.save(update_fields=["activo", "actualizado"])
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
    registrar_evento(logger, "personal_reactivado", perfil_id=perfil.pk, user_id=user.pk,
                     actor_id=_actor_id(actor))
    return perfil
