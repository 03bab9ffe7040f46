"""Portal sign-up that tells no one who is a patient (issue 14), and proves the e-mail before the
account exists.

``solicitar_registro_web`` answers every well-formed sign-up the same way ("revise su correo") and
puts the next step in an e-mail, recorded in the same transaction and sent after commit:

- a new person: a link (48 h, one use) that creates the account (``confirmar_registro_web``);
- an e-mail or a RUT that already has an account: "you have an account: log in or recover your
  password", to the address ON FILE for that account, never to the one typed;
- a desk patient (the clinic's record, no account) with this RUT: the linking rules of
  ``cuentas.services.impedimento_para_vincular`` still decide. Same e-mail: the link, which
  links the record. Another e-mail: "call the clinic", to the address on file (none: nothing);
- other data already on a record (an e-mail or a phone of another patient): "call the clinic",
  to the address the record holds, or the one typed for a phone.

Only format errors (a RUT's check digit, an e-mail's syntax, a missing field) are shown on the
form: they say nothing about anyone. The password is hashed in every case, and each case records
one message, so the answer takes the same time (measured in
``cliente_web/tests/test_registro_sin_enumeracion.py``).

Until the link is used nothing is created: the pending sign-up (``RegistroPendiente``) holds no
claim on the RUT, e-mail or phone; it expires after 48 h and the periodic purge deletes it.

"Forgot my password" goes the same way: the request only queues a job
(``cuentas.tasks.pedir_restablecimiento``), which does the lookup.
"""

import datetime
import logging
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from cuentas.models import RegistroPendiente
from cuentas.services import crear_cuenta_web, impedimento_para_vincular, paciente_existente_por_rut
from notificaciones.models import Canal
from notificaciones.services import notificar
from nucleo.enlaces import enlaces
from nucleo.registro import registrar_evento
from nucleo.servicios import es_id_valido, operacion
from pacientes.consentimientos import errores_de_canales
from pacientes.models import Cliente
from pacientes.validaciones import (
    normalizar_email,
    normalizar_nombre,
    normalizar_rut,
    normalizar_telefono,
    validar_datos_cliente_completos,
    validar_fecha_nacimiento,
    validar_username_disponible,
)

logger = logging.getLogger(__name__)

VIGENCIA_REGISTRO = datetime.timedelta(hours=48)
SAL_REGISTRO = "cuentas.registro_web"
LARGO_MAXIMO_TOKEN = 300
EVENTO_VERIFICAR = "registro_verificar"
EVENTO_CUENTA_EXISTENTE = "registro_cuenta_existente"
EVENTO_CONTACTAR_CLINICA = "registro_contactar_clinica"


def _errores_de_formato(*, nombre_completo="", rut="", email="", telefono="", password="", fecha_nacimiento=None,
                        canal_preferido=Canal.EMAIL, acepta_whatsapp=False, acepta_sms=False, acepta_privacidad=False):
    """Every rule of a sign-up that does not depend on who else is registered, by field, without
    a single query: the same work for every person. The rules are the ones of
    ``cuentas.services.revisar_registro`` (the validation module's normalisers)."""
    errores = {}
    if not acepta_privacidad:
        errores["acepta_privacidad"] = ValidationError(
            "Debe aceptar el aviso de privacidad para crear su cuenta.", code="privacidad_obligatoria")
    for campo, normalizar, valor in (("nombre_completo", normalizar_nombre, nombre_completo),
                                     ("rut", normalizar_rut, rut), ("email", normalizar_email, email),
                                     ("telefono", normalizar_telefono, telefono),
                                     ("fecha_nacimiento", validar_fecha_nacimiento, fecha_nacimiento)):
        try:
            normalizar(valor)
        except ValidationError as error:
            errores[campo] = error
    telefono_valido = "" if "telefono" in errores else normalizar_telefono(telefono)
    errores.update(errores_de_canales(canal_preferido=canal_preferido, telefono=telefono_valido,
                                      acepta_whatsapp=acepta_whatsapp, acepta_sms=acepta_sms))
    try:
        validate_password(password, user=get_user_model()(username=email, email=email))
    except ValidationError as error:
        errores["password"] = error
    return errores


def revisar_formato_registro_web(**datos) -> None:
    """The format checks of ``solicitar_registro_web`` (same arguments but ``siguiente``), writing
    nothing and reading nothing: a page lists every problem of a form at once. Never says who
    is registered."""
    errores = _errores_de_formato(**datos)
    if errores:
        raise ValidationError(errores)


def solicitar_registro_web(
    *, nombre_completo, rut, email, telefono, password, fecha_nacimiento=None, canal_preferido=Canal.EMAIL,
    acepta_whatsapp=False, acepta_sms=False, acepta_privacidad=False, siguiente="",
) -> str:
    """A sign-up from the portal: one answer for everyone, the next step by e-mail (see the
    module). ``siguiente`` is the portal path to return to after verifying (the caller checks it
    is on this site). Returns the e-mail typed, normalised, for the "revise su correo" page.

    Raises ValidationError, by field, only for format errors; writes nothing then.
    """
    datos = dict(nombre_completo=nombre_completo, rut=rut, email=email, telefono=telefono, password=password,
                 fecha_nacimiento=fecha_nacimiento, canal_preferido=canal_preferido,
                 acepta_whatsapp=acepta_whatsapp, acepta_sms=acepta_sms, acepta_privacidad=acepta_privacidad)
    revisar_formato_registro_web(**datos)
    # Well formed from here on.
    rut, email = normalizar_rut(rut), normalizar_email(email)
    telefono = normalizar_telefono(telefono)
    nombre, fecha_nacimiento = normalizar_nombre(nombre_completo), validar_fecha_nacimiento(fecha_nacimiento)
    # Hashed in every case, also when the hash is thrown away: the slow part costs the same.
    clave = make_password(password)
    caso, destino, nombre_destino = _caso(rut=rut, email=email, telefono=telefono, nombre=nombre)
    ahora = timezone.now()
    referencia = secrets.token_urlsafe(12)
    with operacion("solicitar_registro_web"):
        if caso == EVENTO_VERIFICAR:
            pendiente = RegistroPendiente.objects.create(
                nombre_completo=nombre, rut=rut, email=email, telefono=telefono, fecha_nacimiento=fecha_nacimiento,
                clave=clave, canal_preferido=canal_preferido, acepta_whatsapp=bool(acepta_whatsapp),
                acepta_sms=bool(acepta_sms), siguiente=siguiente[:300],
                nonce=secrets.token_urlsafe(12), creado=ahora, vence=ahora + VIGENCIA_REGISTRO,
            )
            token = signing.dumps({"p": pendiente.pk, "n": pendiente.nonce}, salt=SAL_REGISTRO, compress=True)
            contexto = {"nombre": nombre, "enlace": enlaces().verificacion_registro(token=token),
                        "horas_validez": int(VIGENCIA_REGISTRO.total_seconds() // 3600)}
            referencia = str(pendiente.pk)
        elif caso == EVENTO_CUENTA_EXISTENTE:
            contexto = {"nombre": nombre_destino, "enlace_entrar": enlaces().entrar_portal(),
                        "enlace_recuperar": enlaces().recuperar_clave()}
        else:
            contexto = {"nombre": nombre_destino, "telefono_clinica": settings.CLINICA_TELEFONO,
                        "correo_clinica": settings.CLINICA_CORREO}
        if destino:
            notificar(evento=caso, referencia=referencia, email=destino, contexto=contexto)
    # The log names the case (for support), not the person.
    registrar_evento(logger, "registro_web_solicitado", caso=caso, enviado=bool(destino))
    return email


def _caso(*, rut, email, telefono, nombre):
    """Which message a well-formed sign-up gets: (event, address to send it to or "", name to
    greet). Addresses are the ones on file, never the typed one when a record holds another.

    The same four queries in every case, all run before deciding (an early return would make
    the new person, who passes every check, the slowest)."""
    activos = Cliente.objects.filter(activo=True)
    por_rut = activos.filter(rut=rut).first()
    ficha_de_la_cuenta = activos.filter(user_id=OuterRef("pk")).values("nombre_completo")[:1]
    cuenta = (get_user_model().objects.filter(Q(username__iexact=email) | Q(email__iexact=email))
              .annotate(ficha=Subquery(ficha_de_la_cuenta)).values("pk", "ficha").first())
    con_correo = list(activos.filter(email=email).values_list("pk", "nombre_completo")[:2])
    # Only a confirmed number is anyone's (``pacientes.telefonos``): an unconfirmed claim blocks nobody.
    con_telefono = list(activos.filter(telefono=telefono, telefono_verificado_en__isnull=False)
                        .values_list("pk", flat=True)[:2])
    excluir = por_rut.pk if por_rut is not None else None
    otro_con_correo = next((n for pk, n in con_correo if pk != excluir), None)

    if por_rut is not None and por_rut.user_id is not None:
        return EVENTO_CUENTA_EXISTENTE, por_rut.email, por_rut.nombre_completo
    if cuenta is not None:
        if cuenta["ficha"] is not None:
            return EVENTO_CUENTA_EXISTENTE, email, cuenta["ficha"]
        # A staff login or an orphan: the portal cannot serve it, the clinic can.
        return EVENTO_CONTACTAR_CLINICA, email, ""
    if por_rut is not None and impedimento_para_vincular(por_rut, email) is not None:
        # A desk patient whose e-mail on file is another (or none): only the desk links them.
        return EVENTO_CONTACTAR_CLINICA, por_rut.email, por_rut.nombre_completo
    if otro_con_correo is not None:
        return EVENTO_CONTACTAR_CLINICA, email, otro_con_correo
    if any(pk != excluir for pk in con_telefono):
        # The typed address gets a neutral "call the clinic" (it does not say which data).
        return EVENTO_CONTACTAR_CLINICA, email, nombre
    return EVENTO_VERIFICAR, email, nombre


# The link ------------------------------------------------------------------------------------


def _error(codigo):
    mensajes = {
        "enlace_invalido": "Este enlace no es válido o ya se usó. Si ya creó su cuenta, ingrese con su correo y "
                           "contraseña; si no, vuelva a crearla.",
        "enlace_vencido": f"Este enlace venció (dura {int(VIGENCIA_REGISTRO.total_seconds() // 3600)} horas). "
                          "Vuelva a crear su cuenta: le enviaremos un enlace nuevo.",
        "datos_tomados": "No pudimos crear su cuenta: mientras tanto, su correo, su RUT o su celular quedó registrado "
                         "en otra cuenta o ficha de la clínica. Si ya tiene cuenta, ingrese o recupere su contraseña; "
                         f"si no, llame a la clínica al {settings.CLINICA_TELEFONO}.",
    }
    return ValidationError(mensajes[codigo], code=codigo)


def _leer_token(token) -> dict:
    if not isinstance(token, str) or not 0 < len(token) <= LARGO_MAXIMO_TOKEN or not token.isascii():
        raise _error("enlace_invalido")
    try:
        datos = signing.loads(token, salt=SAL_REGISTRO, max_age=VIGENCIA_REGISTRO)
    except signing.SignatureExpired:
        raise _error("enlace_vencido") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise _error("enlace_invalido") from None
    if not (isinstance(datos, dict) and set(datos) == {"p", "n"} and es_id_valido(datos["p"])
            and isinstance(datos["n"], str)):
        raise _error("enlace_invalido")
    return datos


def _pendiente(datos, *, bloquear=False):
    consulta = RegistroPendiente.objects.filter(pk=datos["p"])
    if bloquear:
        consulta = consulta.select_for_update()
    pendiente = consulta.first()
    if pendiente is None or not constant_time_compare(pendiente.nonce, datos["n"]):
        raise _error("enlace_invalido")
    if pendiente.vence <= timezone.now():
        raise _error("enlace_vencido")
    return pendiente


def revisar_registro_pendiente(*, token) -> RegistroPendiente:
    """The sign-up a link names (its GET page), writing nothing. Raises ValidationError
    ``enlace_invalido`` (tampered, unknown or already used) or ``enlace_vencido``."""
    return _pendiente(_leer_token(token))


def confirmar_registro_web(*, token):
    """Open the link: create the account of the pending sign-up, once, in one transaction
    (``cuentas.services.crear_cuenta_web``: record or link, login, consents, welcome) and delete
    the pending row. The same checks as a direct sign-up run again, under the row lock: if the
    e-mail, RUT or phone was taken meanwhile, ``datos_tomados`` and nothing is created.

    Returns (user, siguiente). Raises ValidationError ``enlace_invalido``, ``enlace_vencido`` or
    ``datos_tomados``.
    """
    datos = _leer_token(token)
    _pendiente(datos)
    with operacion("confirmar_registro_web"):
        # Two clicks: the second waits here, then finds the row gone.
        pendiente = _pendiente(datos, bloquear=True)
        existente = paciente_existente_por_rut(pendiente.rut)
        try:
            if existente is not None and impedimento_para_vincular(existente, pendiente.email) is not None:
                raise ValidationError("ya vinculado", code="rut_con_cuenta")
            normalizados = validar_datos_cliente_completos(
                nombre_completo=pendiente.nombre_completo, email=pendiente.email, telefono=pendiente.telefono,
                rut=pendiente.rut, fecha_nacimiento=pendiente.fecha_nacimiento, exigir_email=True, exigir_rut=True,
                exigir_telefono=True, excluir_cliente_id=existente.pk if existente else None,
            )
            validar_username_disponible(normalizados.email)
        except ValidationError:
            raise _error("datos_tomados") from None
        user, cliente = crear_cuenta_web(
            existente_id=existente.pk if existente else None, datos=normalizados, clave_cifrada=pendiente.clave,
            canal_preferido=pendiente.canal_preferido, acepta_whatsapp=pendiente.acepta_whatsapp,
            acepta_sms=pendiente.acepta_sms, ahora=pendiente.creado,
        )
        siguiente = pendiente.siguiente
        pendiente.delete()
    registrar_evento(logger, "cliente_registrado_web", cliente_id=cliente.pk, user_id=user.pk,
                     vinculado=existente is not None, verificado=True)
    return user, siguiente


def purgar_registros_vencidos(*, ahora=None) -> int:
    """Delete the sign-ups whose link expired unused (the periodic job in ``cuentas.tasks``).
    Returns how many."""
    with operacion("purgar_registros_vencidos"):
        borrados, _ = RegistroPendiente.objects.filter(vence__lte=ahora or timezone.now()).delete()
    if borrados:
        registrar_evento(logger, "registros_pendientes_purgados", cantidad=borrados)
    return borrados
