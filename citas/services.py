"""Appointments: free slots, bookings by patients (seed flow C) and by staff (flow D),
cancellations. Each service is one transaction; taking a slot is a compare-and-set on
``estado = 'disponible'`` (invariant 5), so of many concurrent attempts exactly one wins."""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.utils import timezone

from citas.models import Cita, EstadoCita
from notificaciones.services import contexto_cita, notificar
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from pacientes.models import Cliente
from pacientes.validaciones import normalizar_email, normalizar_nombre, normalizar_telefono
from personal.models import Perfil, Rol

logger = logging.getLogger(__name__)

DURACION_MINIMA = 5
DURACION_MAXIMA = 8 * 60
LARGO_MOTIVO = 200


def _error_hora_no_disponible():
    return ValidationError("Esa hora ya no está disponible. Elija otra, por favor.", code="hora_no_disponible")


def _limpiar_motivo(motivo):
    motivo = " ".join((motivo or "").split())
    if len(motivo) > LARGO_MOTIVO:
        raise ValidationError(
            {"motivo": ValidationError(f"El motivo no puede superar {LARGO_MOTIVO} caracteres.", code="motivo_largo")}
        )
    return motivo


def crear_cita_disponible(*, actor, dentista_id, inicio, duracion_minutos=30) -> Cita:
    """A free slot for a dentist. Raises ValidationError: ``dentista_invalido``,
    ``fecha_sin_zona``, ``duracion_invalida``, or ``traslape`` (the exclusion constraint)."""
    if not Perfil.objects.filter(pk=dentista_id, rol=Rol.DENTISTA, activo=True).exists():
        raise ValidationError({"dentista": ValidationError("Dentista no encontrado o inactivo.", code="dentista_invalido")})
    if not isinstance(inicio, datetime.datetime) or timezone.is_naive(inicio):
        raise ValidationError({"inicio": ValidationError("La hora de inicio no es válida.", code="fecha_sin_zona")})
    if not isinstance(duracion_minutos, int) or not DURACION_MINIMA <= duracion_minutos <= DURACION_MAXIMA:
        raise ValidationError(
            {"duracion_minutos": ValidationError(
                f"La duración debe estar entre {DURACION_MINIMA} y {DURACION_MAXIMA} minutos.", code="duracion_invalida"
            )}
        )
    with operacion("crear_cita_disponible", actor=actor):
        # Aware arithmetic in UTC: a 30-minute slot lasts 30 minutes even across a DST change.
        cita = Cita.objects.create(
            dentista_id=dentista_id, inicio=inicio, fin=inicio + datetime.timedelta(minutes=duracion_minutos)
        )
    registrar_evento(logger, "cita_creada", cita_id=cita.pk, dentista_id=dentista_id,
                     actor_id=getattr(actor, "pk", None))
    return cita


def _tomar_hora(*, cita_id, ahora, cliente, nombre, email, telefono, motivo, estado=EstadoCita.RESERVADA):
    """Compare-and-set: only a free, future slot can be taken; returns the booked row."""
    tomadas = Cita.objects.filter(pk=cita_id, estado=EstadoCita.DISPONIBLE, inicio__gt=ahora).update(
        estado=estado, cliente=cliente, paciente_nombre=nombre, paciente_email=email,
        paciente_telefono=telefono, motivo=motivo, actualizado=ahora,
    )
    if tomadas != 1:
        raise _error_hora_no_disponible()
    return Cita.objects.select_related("dentista__user").get(pk=cita_id)


def _cliente_del_usuario(user):
    """The patient record of a portal user. Every account has one (crear_cuenta_portal links
    it); old data without the link gets one made from the login."""
    cliente = Cliente.objects.filter(user=user).select_related("user__perfil_cliente").first()
    if cliente is not None:
        if not cliente.activo:
            raise ValidationError("Su ficha de paciente está inactiva. Comuníquese con la clínica.", code="cliente_inactivo")
        return cliente
    return Cliente.objects.create(
        nombre_completo=user.get_full_name() or user.username, email=(user.email or "").strip().lower(), user=user
    )


def _perfil_de(cliente):
    """The patient's portal profile (channel preferences), from the select_related cache."""
    if cliente is None or cliente.user is None:
        return None
    return getattr(cliente.user, "perfil_cliente", None)


def reservar_cita(*, user, cita_id, motivo="") -> Cita:
    """A patient books a free slot on the portal (seed flow C).

    Finds (or, for old data, creates) their ``Cliente``, takes the slot by compare-and-set,
    fills the snapshot and records the confirmation, all in one transaction.
    Raises ValidationError ``hora_no_disponible`` when the slot is gone.
    """
    motivo = _limpiar_motivo(motivo)
    with operacion("reservar_cita", actor=user):
        ahora = timezone.now()
        cliente = _cliente_del_usuario(user)
        cita = _tomar_hora(
            cita_id=cita_id, ahora=ahora, cliente=cliente, nombre=cliente.nombre_completo, email=cliente.email,
            telefono=str(cliente.telefono or ""), motivo=motivo,
        )
        notificar(
            evento="reserva_confirmada", referencia=f"{cita.pk}:{ahora.isoformat()}", email=cliente.email,
            telefono=str(cliente.telefono or ""), perfil=_perfil_de(cliente), cliente=cliente,
            cita=cita, contexto=contexto_cita(cita, nombre=cliente.nombre_completo),
        )
    registrar_evento(logger, "cita_reservada", cita_id=cita.pk, cliente_id=cliente.pk, origen="portal")
    return cita


def asignar_cita(
    *, actor, cita_id, cliente_id=None, paciente_nombre="", paciente_email="", paciente_telefono="", motivo=""
) -> Cita:
    """Staff give a free slot to a patient (seed flow D), or to a person without a record
    (only the snapshot fields). The patient is told by their channels."""
    motivo = _limpiar_motivo(motivo)
    cliente = perfil = None
    if cliente_id is not None:
        cliente = Cliente.objects.select_related("user__perfil_cliente").filter(pk=cliente_id, activo=True).first()
        if cliente is None:
            raise ValidationError({"cliente": ValidationError("Paciente no encontrado o inactivo.", code="cliente_invalido")})
        nombre, email, telefono = cliente.nombre_completo, cliente.email, str(cliente.telefono or "")
        perfil = _perfil_de(cliente)
    else:
        nombre, email, telefono = _snapshot_sin_ficha(paciente_nombre, paciente_email, paciente_telefono)
    with operacion("asignar_cita", actor=actor):
        ahora = timezone.now()
        cita = _tomar_hora(
            cita_id=cita_id, ahora=ahora, cliente=cliente, nombre=nombre, email=email, telefono=telefono,
            motivo=motivo,
        )
        notificar(
            evento="cita_asignada", referencia=f"{cita.pk}:{ahora.isoformat()}", email=email, telefono=telefono,
            perfil=perfil, cliente=cliente, cita=cita, contexto=contexto_cita(cita, nombre=nombre),
        )
    registrar_evento(logger, "cita_asignada", cita_id=cita.pk, cliente_id=getattr(cliente, "pk", None),
                     actor_id=getattr(actor, "pk", None))
    return cita


def _snapshot_sin_ficha(nombre, email, telefono):
    errores = {}
    resultado = {}
    for campo, funcion, valor in (
        ("paciente_nombre", normalizar_nombre, nombre),
        ("paciente_email", normalizar_email, email),
        ("paciente_telefono", normalizar_telefono, telefono),
    ):
        if campo != "paciente_nombre" and not (valor or "").strip():
            resultado[campo] = ""
            continue
        try:
            resultado[campo] = funcion(valor)
        except ValidationError as error:
            errores[campo] = error
    if errores:
        raise ValidationError(errores)
    return resultado["paciente_nombre"], resultado["paciente_email"], resultado["paciente_telefono"]


def cancelar_cita(*, actor, cita_id, por_clinica=False, motivo="") -> Cita:
    """Cancel a booking.

    By the patient (or staff on their behalf): the slot goes back to ``disponible`` for someone
    else. By the clinic (``por_clinica``): the appointment becomes ``cancelada``, keeps its
    patient, and the patient is told. A patient can only cancel their own future bookings.
    Raises ValidationError ``no_cancelable``.
    """
    motivo = _limpiar_motivo(motivo)
    es_personal = bool(getattr(actor, "is_staff", False))
    if por_clinica and not es_personal:
        raise ValidationError("Solo la clínica puede cancelar una cita por la clínica.", code="no_autorizado")
    with operacion("cancelar_cita", actor=actor):
        ahora = timezone.now()
        cita = (
            Cita.objects.select_for_update(of=("self",))
            .select_related("dentista__user", "cliente__user__perfil_cliente")
            .filter(pk=cita_id)
            .first()
        )
        propia = cita is not None and (es_personal or (cita.cliente and cita.cliente.user_id == actor.pk))
        if not propia:
            raise ValidationError("Cita no encontrada.", code="cita_no_encontrada")
        if cita.estado not in (EstadoCita.RESERVADA, EstadoCita.CONFIRMADA) or cita.inicio <= ahora:
            raise ValidationError("Esta cita ya no se puede cancelar.", code="no_cancelable")
        cliente = cita.cliente
        nombre, email, telefono = cita.paciente_nombre, cita.paciente_email, cita.paciente_telefono
        contexto = {**contexto_cita(cita, nombre=nombre), "motivo": motivo}
        if por_clinica:
            cita.estado = EstadoCita.CANCELADA
            cita.save(update_fields=["estado", "actualizado"])
            evento = "cita_cancelada_clinica"
        else:
            cita.estado = EstadoCita.DISPONIBLE
            cita.cliente = None
            cita.paciente_nombre = cita.paciente_email = cita.paciente_telefono = cita.motivo = ""
            cita.save()
            evento = "cita_cancelada_paciente"
        perfil = _perfil_de(cliente)
        notificar(
            evento=evento, referencia=f"{cita.pk}:{ahora.isoformat()}", email=email, telefono=telefono,
            perfil=perfil, cliente=cliente, cita=cita, contexto=contexto,
        )
    registrar_evento(logger, "cita_cancelada", cita_id=cita.pk, por_clinica=por_clinica,
                     actor_id=getattr(actor, "pk", None))
    return cita
