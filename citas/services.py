"""Appointments: free slots, bookings by patients (seed flow C) and by staff (flow D),
cancellations. Each service is one transaction; taking a slot is a compare-and-set on
``estado = 'disponible'`` (invariant 5), so of many concurrent attempts exactly one wins."""

import datetime
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.utils import timezone

from citas import cadenas, calendario, cierres, enlaces, estados, reglas
from citas.estados import TRANSICIONES, es_personal, impedimento_del_paciente
from citas.mensajes import contexto_cita, sin_punto_final
from citas.models import Cancelacion, Cita, EstadoCita, PorQuien, ViaCancelacion
from notificaciones.preferencias import Preferencias
from notificaciones.services import notificar
from nucleo.registro import registrar_evento
from nucleo.servicios import es_id_valido, exigir_transaccion, operacion
from notificaciones.models import Canal
from pacientes.models import Cliente, consentimiento_vigente
from pacientes.validaciones import normalizar_email, normalizar_nombre, normalizar_telefono
from personal.models import Perfil, nombre_de_personal, sql_reservable
from prestaciones.models import Prestacion

logger = logging.getLogger(__name__)

DURACION_MINIMA = 5
DURACION_MAXIMA = 8 * 60
LARGO_MOTIVO = 200


def _error_hora_no_disponible():
    return estados.rechazo("reservar")


def _error_dentista_inactivo():
    return ValidationError(
        "El dentista de esa hora está inactivo y no atiende. Elija una hora de otro dentista, por favor.",
        code="dentista_inactivo",
    )


def _limpiar_motivo(motivo):
    motivo = " ".join((motivo or "").split())
    if len(motivo) > LARGO_MOTIVO:
        raise ValidationError(
            {"motivo": ValidationError(f"El motivo no puede superar {LARGO_MOTIVO} caracteres.", code="motivo_largo")}
        )
    return motivo


def crear_cita_disponible(*, actor, dentista_id, inicio, duracion_minutos=30) -> Cita:
    """A free slot for a dentist. Raises ValidationError: ``dentista_invalido``,
    ``fecha_sin_zona``, ``duracion_invalida``, ``dia_cerrado`` (a closure of the clinic or an
    absence of the dentist that day, read under ``cierres.bloquear_dentistas``), or
    ``traslape`` (the exclusion constraint)."""
    if not Perfil.objects.reservables().filter(pk=dentista_id).exists():
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
        # Python adds timedelta in wall-clock time within one tzinfo; UTC makes it real minutes.
        inicio = inicio.astimezone(datetime.UTC)
        cierres.bloquear_dentistas([dentista_id])
        cierre = cierres.cierre_de(dentista_id=dentista_id, fecha=timezone.localdate(inicio))
        if cierre is not None:
            raise cierres.error_dia_cerrado(cierre)
        cita = Cita.objects.create(
            dentista_id=dentista_id, inicio=inicio, fin=inicio + datetime.timedelta(minutes=duracion_minutos)
        )
    registrar_evento(logger, "cita_creada", cita_id=cita.pk, dentista_id=dentista_id,
                     actor_id=getattr(actor, "pk", None))
    return cita


def _tomar_hora(*, cita_id, ahora, cliente, nombre, email, telefono, motivo, cadena=None):
    """Staff's compare-and-set (``asignar``): only a free slot (``Cita.objects.libres``, no
    minimum notice) can be taken; returns the booked row. ``cadena``: the merged chain of a
    prestación (``fin``, ``bloques``, ``prestacion_id``). Raises ``hora_no_disponible`` or
    ``dentista_inactivo``."""
    tomadas = Cita.objects.filter(pk=cita_id).libres(ahora=ahora, anticipacion=False).update(
        estado=TRANSICIONES["asignar"].destino, cliente=cliente, paciente_nombre=nombre, paciente_email=email,
        paciente_telefono=telefono, motivo=motivo, reprogramaciones=0, reservada_en=ahora, actualizado=ahora,
        reserva_uid=uuid.uuid4(), reserva_secuencia=0, **(cadena or {}),
    )
    if tomadas != 1:
        # Only on failure: was the slot there for the taking, but its dentist inactive?
        if Cita.objects.filter(pk=cita_id, **estados.filtro("asignar", ahora)).exists():
            raise _error_dentista_inactivo()
        raise _error_hora_no_disponible()
    return Cita.objects.select_related("dentista__user").get(pk=cita_id)


# The booking hot path, in one hand-written statement on purpose: it is the contested
# resource, and the ORM version (patient lookup, compare-and-set, re-read of the slot) spent
# about four times the Python of this statement per booking (bin/bench-reservas,
# docs/rendimiento.md). It takes the slot for the user's active patient by compare-and-set and
# returns the booked row with what the confirmation needs. Its WHERE is
# ``Cita.objects.libres(ahora=…)`` written out (citas/tests/test_reglas.py proves they agree):
# free, not started, past the portal's minimum notice, of a bookable dentist. The dentist's rows
# join the UPDATE itself, which both checks the rule and returns their name; its WHERE keeps
# ``estado`` on the updated row, so PostgreSQL re-checks it after waiting for a concurrent
# booking. One row per active patient of the user (none: no patient), whose ``id`` is NULL when
# the slot was not taken (gone, past, too soon, or an inactive dentist's: the portal does not
# offer those either). The patient's channel is on their record and each live consent is one
# row of the partial unique index ``consentimiento_vigente_unico``: two index probes.
# The portal's cap (``CLINICA_MAX_RESERVAS_PORTAL``): ``vigentes`` counts the patient's live
# future bookings and the UPDATE takes the slot only below the cap. The count is race-free
# because ``_BLOQUEAR_PACIENTE_SQL`` locked the patient's row in an earlier statement: a second
# booking of the same patient waits there until the first commits, and this statement's snapshot
# (taken when it starts, in READ COMMITTED) then sees it. A lock in this statement would not do:
# its count would still read the snapshot from before the wait.
_VIVOS_SQL = ", ".join(f"'{estado.value}'" for estado in estados.ESTADOS_VIVOS)
_RESERVAR_SQL = f"""
WITH paciente AS (
    SELECT c.id, c.nombre_completo, c.email, c.telefono,
           CASE WHEN c.telefono_verificado_en IS NOT NULL THEN c.telefono ELSE '' END AS telefono_verificado,
           c.canal_preferido, kw.otorgado_en AS whatsapp_aceptado_en, ks.otorgado_en AS sms_aceptado_en,
           (SELECT count(*) FROM citas_cita v
             WHERE v.cliente_id = c.id AND v.estado IN ({_VIVOS_SQL}) AND v.inicio > %(ahora)s) AS vigentes
      FROM pacientes_cliente c
      LEFT JOIN pacientes_consentimientocanal kw
             ON kw.cliente_id = c.id AND kw.canal = 'whatsapp' AND kw.revocado_en IS NULL
      LEFT JOIN pacientes_consentimientocanal ks
             ON ks.cliente_id = c.id AND ks.canal = 'sms' AND ks.revocado_en IS NULL
     WHERE c.user_id = %(user_id)s AND c.activo
), tomada AS (
    UPDATE citas_cita AS cita
       SET estado = %(reservada)s, cliente_id = paciente.id, paciente_nombre = paciente.nombre_completo,
           paciente_email = paciente.email, paciente_telefono = paciente.telefono,
           motivo = %(motivo)s, reprogramaciones = 0, reservada_en = %(ahora)s, actualizado = %(ahora)s,
           reserva_uid = gen_random_uuid(), reserva_secuencia = 0,
           fin = COALESCE(%(fin)s, cita.fin), bloques = %(bloques)s, prestacion_id = %(prestacion_id)s
      FROM paciente, personal_perfil d, auth_user u
     WHERE cita.id = %(cita_id)s AND cita.estado = %(disponible)s AND cita.inicio > %(ahora)s
       AND cita.inicio >= %(inicio_minimo)s
       AND d.id = cita.dentista_id AND u.id = d.user_id AND {sql_reservable("d", "u")}
       AND paciente.vigentes < %(max_reservas)s
       AND (%(prestacion_id)s::bigint IS NOT NULL
            OR NOT EXISTS (SELECT 1 FROM prestaciones_prestacion WHERE activa AND reservable_en_linea))
 RETURNING cita.*, u.first_name AS dentista_nombre, u.last_name AS dentista_apellido,
           u.username AS dentista_usuario
)
SELECT tomada.*, paciente.canal_preferido, paciente.telefono_verificado, paciente.whatsapp_aceptado_en, paciente.sms_aceptado_en,
       paciente.vigentes
  FROM paciente
  LEFT JOIN tomada ON TRUE
"""
# NO KEY UPDATE, not UPDATE: it serialises the patient's portal bookings, but does not conflict
# with the KEY SHARE lock that any write of a ``citas_cita.cliente_id`` takes on this row (staff
# giving the same slot to this patient at that instant would otherwise deadlock with us).
_BLOQUEAR_PACIENTE_SQL = "SELECT id FROM pacientes_cliente WHERE user_id = %s AND activo FOR NO KEY UPDATE"


def _tomar_hora_para_usuario(*, user, cita_id, motivo, ahora, fin=None, bloques=1, prestacion_id=None) -> Cita | None:
    """Run ``_RESERVAR_SQL`` through ``Cita.objects.raw``: the ``Cita`` it returns, with every
    field loaded and, as extra attributes, the dentist's name parts and the patient's channel
    preferences and ``vigentes`` (``pk`` None: the slot was not taken); None when ``user`` has no
    active patient. Locks the patient's row first (the cap's count, see ``_RESERVAR_SQL``).
    ``fin``, ``bloques``, ``prestacion_id``: the merged chain of a prestación
    (``citas.cadenas.tomar_cadena``), set on the slot with the booking."""
    with connection.cursor() as cursor:
        cursor.execute(_BLOQUEAR_PACIENTE_SQL, [user.pk])
    citas = Cita.objects.raw(_RESERVAR_SQL, {
        "user_id": user.pk, "cita_id": cita_id, "motivo": motivo, "ahora": ahora,
        "fin": fin, "bloques": bloques, "prestacion_id": prestacion_id,
        "max_reservas": settings.CLINICA_MAX_RESERVAS_PORTAL,
        "inicio_minimo": reglas.inicio_minimo_para_reservar(ahora),
        "reservada": TRANSICIONES["reservar"].destino, "disponible": EstadoCita.DISPONIBLE,
    })
    for cita in citas:
        return cita
    return None


def _crear_ficha_para_usuario_antiguo(user):
    """Every account made here has its patient (crear_cuenta_portal links it); old data may
    not. An inactive patient is refused; a missing one is made from the login."""
    if Cliente.objects.filter(user=user, activo=False).exists():
        raise ValidationError("Su ficha de paciente está inactiva. Comuníquese con la clínica.", code="cliente_inactivo")
    Cliente.objects.create(
        nombre_completo=user.get_full_name() or user.username, email=(user.email or "").strip().lower(), user=user
    )


def _error_prestacion_requerida():
    return ValidationError("Elija para qué es la visita antes de elegir la hora.", code="prestacion_requerida")


def _prestacion_de_la_reserva(prestacion_id, cita_id):
    """The portal's prestación for a booking of ``cita_id``: None when none is given (then
    ``_RESERVAR_SQL`` takes the slot only if the clinic offers no prestación online: any single
    slot, as before prestaciones); else it must be online-bookable and performed by that slot's
    dentist (``cadenas.prestacion_para``)."""
    if prestacion_id is None:
        return None
    dentista_id = Cita.objects.filter(pk=cita_id).values_list("dentista_id", flat=True).first()
    if dentista_id is None:
        raise _error_hora_no_disponible()
    return cadenas.prestacion_para(prestacion_id=prestacion_id, dentista_id=dentista_id, en_linea=True)


def reservar_cita(*, user, cita_id, motivo="", prestacion_id=None) -> Cita:
    """A patient books a free slot on the portal (seed flow C).

    With ``prestacion_id`` (required once the clinic offers prestaciones online) the booking
    holds the prestación's whole duration: the chain of contiguous free slots of that dentist
    from ``cita_id`` that covers it, merged into one row (``citas.cadenas``; a 45-minute
    prestación on a 30-minute grid holds 60 minutes). The prestación must be online-bookable and
    performed by the slot's dentist (``prestacion_invalida``); a chain that is not whole is
    ``hora_no_disponible``; without it while prestaciones are offered, ``prestacion_requerida``.

    Finds (or, for old data, creates) their ``Cliente``, takes the slot by compare-and-set,
    fills the snapshot and records the confirmation, all in one transaction. Returns the
    booked ``Cita`` as the statement left it (every field; ``cliente`` and ``dentista`` load on
    access).
    Raises ValidationError ``hora_no_disponible`` when the slot is gone, past, sooner than
    ``CLINICA_ANTICIPACION_MINIMA_MIN`` from now or of an inactive dentist (the portal shows the
    nearest free slots, as for a taken one), ``max_reservas`` when the patient already holds
    ``CLINICA_MAX_RESERVAS_PORTAL`` live future bookings (staff may give more), ``paciente_ocupado``
    when they hold another appointment at an overlapping time, or ``cliente_inactivo``.
    """
    motivo = _limpiar_motivo(motivo)
    if not es_id_valido(cita_id):
        raise _error_hora_no_disponible()
    prestacion = _prestacion_de_la_reserva(prestacion_id, cita_id)
    with operacion("reservar_cita", actor=user):
        ahora = timezone.now()
        cadena = {}
        if prestacion is not None:
            # The patient first (the cap's lock, as _tomar_hora_para_usuario takes it), then the chain.
            with connection.cursor() as cursor:
                cursor.execute(_BLOQUEAR_PACIENTE_SQL, [user.pk])
            fin, bloques = cadenas.tomar_cadena(cita_id=cita_id, prestacion=prestacion, ahora=ahora,
                                                accion="reservar", anticipacion=True)
            cadena = {"fin": fin, "bloques": bloques, "prestacion_id": prestacion.pk}
        cita = _tomar_hora_para_usuario(user=user, cita_id=cita_id, motivo=motivo, ahora=ahora, **cadena)
        if cita is None:
            _crear_ficha_para_usuario_antiguo(user)
            cita = _tomar_hora_para_usuario(user=user, cita_id=cita_id, motivo=motivo, ahora=ahora, **cadena)
        if cita.pk is None:
            if prestacion is None and Prestacion.objects.reservables_en_linea().exists():
                raise _error_prestacion_requerida()
            if cita.vigentes >= settings.CLINICA_MAX_RESERVAS_PORTAL:
                raise reglas.error_max_reservas()
            raise _error_hora_no_disponible()
        perfil = Preferencias.de_valores(cita.canal_preferido, cita.whatsapp_aceptado_en, cita.sms_aceptado_en,
                                         cita.telefono_verificado)
        notificar(
            evento="reserva_confirmada", referencia=f"{cita.pk}:{ahora.isoformat()}", email=cita.paciente_email,
            telefono=cita.paciente_telefono, perfil=perfil, cliente=Cliente(pk=cita.cliente_id), cita=cita,
            contexto={**contexto_cita(
                inicio=cita.inicio, nombre=cita.paciente_nombre, cita=cita,
                dentista=nombre_de_personal(cita.dentista_nombre, cita.dentista_apellido, cita.dentista_usuario),
            ), **_contexto_prestacion(prestacion, cita)},
            adjunto_calendario=calendario.ics_de_cita(
                cita, dentista=nombre_de_personal(cita.dentista_nombre, cita.dentista_apellido, cita.dentista_usuario),
                ahora=ahora),
        )
    registrar_evento(logger, "cita_reservada", cita_id=cita.pk, cliente_id=cita.cliente_id, origen="portal")
    return cita


def _contexto_prestacion(prestacion, cita):
    """What the booking's messages say of the prestación: its name and the time held (the
    chain's whole length, which may be more than the prestación's duration)."""
    if prestacion is None:
        return {}
    return {"prestacion": prestacion.nombre, "duracion_minutos": int((cita.fin - cita.inicio).total_seconds() // 60),
            "hora_fin": f"{timezone.localtime(cita.fin):%H:%M}"}


def _perfil_de(cliente):
    """The patient's channel preferences (``Preferencias``), from the consent dates the query
    annotated (``Cliente.objects.con_consentimientos`` or ``_con_consentimientos`` on a
    ``Cita``); None without a patient record."""
    if cliente is None:
        return None
    return cliente.preferencias()


def _con_consentimientos(citas):
    """Appointments whose ``cliente`` (select_related) carries its live consent dates, so the
    notice needs no extra query (see ``_cliente_con_consentimientos``)."""
    return citas.annotate(
        cliente_whatsapp_aceptado_en=consentimiento_vigente(Canal.WHATSAPP, "cliente_id"),
        cliente_sms_aceptado_en=consentimiento_vigente(Canal.SMS, "cliente_id"),
    )


def _cliente_con_consentimientos(cita):
    """The appointment's patient (or None) with the dates ``_con_consentimientos`` read."""
    cliente = cita.cliente
    if cliente is not None and hasattr(cita, "cliente_whatsapp_aceptado_en"):
        cliente.whatsapp_aceptado_en = cita.cliente_whatsapp_aceptado_en
        cliente.sms_aceptado_en = cita.cliente_sms_aceptado_en
    return cliente


def _contexto(cita, nombre):
    return contexto_cita(inicio=cita.inicio, dentista=cita.dentista.nombre, nombre=nombre, cita=cita)


def asignar_cita(
    *, actor, cita_id, cliente_id=None, paciente_nombre="", paciente_email="", paciente_telefono="", motivo="",
    prestacion_id=None,
) -> Cita:
    """Staff give a free slot to a patient (seed flow D), or to a person without a record
    (only the snapshot fields). The patient is told by their channels.
    With ``prestacion_id`` (any active prestación that the slot's dentist performs) the
    booking holds its whole duration, as the portal's does (``citas.cadenas``).
    Raises ValidationError ``cliente_invalido``, ``hora_no_disponible``, ``dentista_inactivo``
    (the slot is free but its dentist no longer works), ``paciente_ocupado`` (the patient has
    another appointment at that time), ``prestacion_invalida``, ``motivo_largo`` or the
    snapshot's."""
    motivo = _limpiar_motivo(motivo)
    prestacion = None
    if prestacion_id is not None:
        dentista_id = (Cita.objects.filter(pk=cita_id).values_list("dentista_id", flat=True).first()
                       if es_id_valido(cita_id) else None)
        if dentista_id is None:
            raise _error_hora_no_disponible()
        prestacion = cadenas.prestacion_para(prestacion_id=prestacion_id, dentista_id=dentista_id, en_linea=False)
    cliente = perfil = None
    if cliente_id is None:
        nombre, email, telefono = _snapshot_sin_ficha(paciente_nombre, paciente_email, paciente_telefono)
    with operacion("asignar_cita", actor=actor):
        if cliente_id is not None:
            # Read under a row lock, in the booking's transaction: a patient erased, held or
            # deactivated meanwhile (those take the same lock first) is refused, and the
            # snapshot is the contact data as committed.
            cliente = (Cliente.objects.con_consentimientos().select_for_update(no_key=True)
                       .filter(pk=cliente_id).first())
            if cliente is None or not cliente.activo:
                raise ValidationError({"cliente": ValidationError(
                    "Paciente no encontrado o inactivo.",
                    code="cliente_invalido")})
            nombre, email, telefono = cliente.nombre_completo, cliente.email, str(cliente.telefono or "")
            perfil = _perfil_de(cliente)
        ahora = timezone.now()
        cadena = None
        if prestacion is not None:
            fin, bloques = cadenas.tomar_cadena(cita_id=cita_id, prestacion=prestacion, ahora=ahora,
                                                accion="asignar", anticipacion=False)
            cadena = {"fin": fin, "bloques": bloques, "prestacion": prestacion}
        cita = _tomar_hora(
            cita_id=cita_id, ahora=ahora, cliente=cliente, nombre=nombre, email=email, telefono=telefono,
            motivo=motivo, cadena=cadena,
        )
        notificar(
            evento="cita_asignada", referencia=f"{cita.pk}:{ahora.isoformat()}", email=email, telefono=telefono,
            perfil=perfil, cliente=cliente, cita=cita,
            contexto={**_contexto(cita, nombre), **_contexto_prestacion(prestacion, cita)},
            adjunto_calendario=calendario.ics_de_cita(cita, dentista=cita.dentista.nombre, ahora=ahora),
            con_cupo=False,  # the clinic gave this hour: never silenced by the anti-flood budget
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

    By the patient (on the portal, or staff on their behalf: they asked by phone or in
    person): the slot goes back to ``disponible`` for someone else and the patient gets the
    patient-requested notice. By the clinic (``por_clinica``): the appointment becomes
    ``cancelada``, keeps its patient, and the patient gets the clinic's notice with
    ``motivo``. Either way one ``Cancelacion`` row keeps the day's history (who, why).
    Staff must give ``motivo`` in both cases (for the patient's request it stays in the
    agenda and is not sent; the clinic's is sent to the patient). A patient can only cancel
    their own future bookings, and only until ``CLINICA_PLAZO_CAMBIOS_H`` hours before (staff
    any time before the start); their reason is optional.
    Raises ValidationError ``cita_no_encontrada``, ``no_cancelable``, ``fuera_de_plazo``,
    ``no_autorizado``, ``motivo_requerido``, ``motivo_largo``.
    """
    motivo = _limpiar_motivo(motivo)
    personal = es_personal(actor)
    if por_clinica and not personal:
        raise ValidationError("Solo la clínica puede cancelar una cita por la clínica.", code="no_autorizado")
    if personal and not motivo:
        raise ValidationError({"motivo": ValidationError(
            "Escriba el motivo de la cancelación." if por_clinica
            else "Escriba cómo lo pidió el paciente (por ejemplo, «llamó por teléfono»).",
            code="motivo_requerido",
        )})
    if not es_id_valido(cita_id):
        raise _error_cita_no_encontrada()
    with operacion("cancelar_cita", actor=actor):
        ahora = timezone.now()
        cita = _cita_para_cancelar(cita_id)
        propia = cita is not None and (personal or (cita.cliente and cita.cliente.user_id == actor.pk))
        if not propia:
            raise ValidationError("Cita no encontrada.", code="cita_no_encontrada")
        _cancelar(cita=cita, ahora=ahora, es_personal=personal, por_clinica=por_clinica, motivo=motivo,
                  usuario=actor, via=ViaCancelacion.PERSONAL if personal else ViaCancelacion.PORTAL)
    registrar_evento(logger, "cita_cancelada", cita_id=cita.pk, por_clinica=por_clinica,
                     actor_id=getattr(actor, "pk", None))
    return cita


def _cita_para_cancelar(cita_id):
    """The appointment, locked, with what cancelling reads (dentist, patient's preferences)."""
    return _con_consentimientos(
        Cita.objects.select_for_update(of=("self",))
        .select_related("dentista__user", "cliente")
        .filter(pk=cita_id)
    ).first()


def _exigir_transicion(accion, cita, ahora, *, personal):
    """On a locked row whose ownership the caller checked: the state machine's rule for
    ``accion`` and, for a patient, the portal's policy. Raises their error."""
    if personal:
        estados.exigir(accion, cita, ahora)
        return
    error = impedimento_del_paciente(cita, accion, ahora=ahora)
    if error is not None:
        raise error


def _cancelar(*, cita, ahora, es_personal, por_clinica, motivo, usuario, via, liberar=None):
    """The cancellation itself, on a locked row whose ownership the caller checked: the state
    machine's ``cancelar`` / ``cancelar_por_clinica`` (and the portal's policy for patients),
    the history row (``Cancelacion``, before the slot forgets its patient), the change and the
    patient's notification: ``cita_cancelada_clinica`` with the clinic's reason, or
    ``cita_cancelada_paciente`` (never the reason: the patient's own words, or the desk's note).

    ``liberar``: whether the slot goes back to free (``cancelar``) or stays cancelled with its
    patient (``cancelar_por_clinica``). By default a patient's cancellation frees it and the
    clinic's keeps it; a clinic's cancellation that frees it (deactivating a patient: the time
    is fine, the patient is gone) passes ``liberar=True``."""
    liberar = (not por_clinica) if liberar is None else liberar
    accion = "cancelar" if liberar else "cancelar_por_clinica"
    _exigir_transicion(accion, cita, ahora, personal=es_personal)
    cliente = _cliente_con_consentimientos(cita)
    nombre, email, telefono = cita.paciente_nombre, cita.paciente_email, cita.paciente_telefono
    # The booking's identity and the version of this last change, before the slot forgets them:
    # its links resolve to "cancelled" and its calendar file becomes a CANCEL.
    reserva_uid, secuencia = cita.reserva_uid, cita.reserva_secuencia + 1
    cancelacion = Cancelacion.objects.create(
        cita=cita, inicio=cita.inicio, dentista_id=cita.dentista_id, cliente=cliente,
        paciente_nombre=nombre or getattr(cliente, "nombre_completo", ""),
        por=PorQuien.CLINICA if por_clinica else PorQuien.PACIENTE, via=via,
        usuario=usuario if getattr(usuario, "pk", None) else None, motivo=motivo, creada=ahora,
        reserva_uid=reserva_uid, reserva_secuencia=secuencia,
    )
    contexto = {**_contexto(cita, nombre), "telefono_clinica": settings.CLINICA_TELEFONO}
    if por_clinica:
        evento = "cita_cancelada_clinica"
        # The clinic's own reason, under its own name: "motivo" elsewhere is the visit's reason,
        # which no message repeats.
        contexto["motivo_cancelacion"] = sin_punto_final(motivo)
    else:
        evento = "cita_cancelada_paciente"
    ics = calendario.ics_de_cancelacion(cancelacion, fin=cita.fin, dentista=cita.dentista.nombre,
                                        correo_paciente=email) if reserva_uid else None
    if liberar:
        cita.liberar(ahora=ahora)
    else:
        # Cancelled with its patient, the row keeps the booking at the cancellation's version.
        cita.estado = TRANSICIONES[accion].destino
        cita.reserva_secuencia = secuencia
        cita.save(update_fields=["estado", "reserva_secuencia", "actualizado"])
    perfil = _perfil_de(cliente)
    notificar(
        evento=evento, referencia=f"{cita.pk}:{ahora.isoformat()}", email=email, telefono=telefono,
        perfil=perfil, cliente=cliente, cita=cita, contexto=contexto, adjunto_calendario=ics,
        # The budget is against floods a patient account can cause; the clinic's own cancellations
        # (one per booking when a patient is deactivated) must all reach the patient.
        con_cupo=not es_personal,
    )


def liberar_citas_del_cliente(*, cliente, ahora) -> tuple[int, int]:
    """What deleting a patient (``eliminar_cliente``, the seed's deletion flow) does to their
    appointments, inside the caller's transaction: their future live bookings
    (``Cita.objects.liberables``) are freed (``CitaQuerySet.liberar``); every other one stays as
    history with its snapshot (old data with an empty one gets ``cliente.nombre_completo``) and
    ``cliente = NULL``; their ``Cancelacion`` rows likewise keep the name and lose the link.
    Four UPDATEs. Returns (freed, kept)."""
    exigir_transaccion()
    citas = Cita.objects.filter(cliente=cliente)
    liberadas = citas.liberables(ahora=ahora).liberar(ahora=ahora)
    # History keeps who it was: fill any snapshot left empty by old data before unlinking.
    citas.filter(paciente_nombre="").update(paciente_nombre=cliente.nombre_completo)
    conservadas = citas.update(cliente=None, actualizado=ahora)
    # Their cancellations are history too: the same rule (the name stays, the link goes).
    Cancelacion.objects.filter(cliente=cliente).update(cliente=None)
    return liberadas, conservadas


def citas_futuras_del_cliente(*, cliente_id, ahora):
    """The patient's future live bookings (``Cita.objects.liberables``), soonest first, with
    their dentist: what deactivating them asks about."""
    return list(Cita.objects.filter(cliente_id=cliente_id).liberables(ahora=ahora)
                .select_related("dentista__user").order_by("inicio", "pk"))


def cancelar_citas_futuras_del_cliente(*, actor, cliente_id, ahora, motivo) -> int:
    """Deactivating a patient and releasing their bookings, inside the caller's transaction:
    each future live booking is cancelled by the clinic (history row, the patient's notice with
    ``motivo``) and its slot goes back to free for other patients. Locks the rows in id order.
    Returns how many."""
    exigir_transaccion()
    motivo = _limpiar_motivo(motivo)
    if not motivo:
        raise ValidationError({"motivo": ValidationError("Escriba el motivo de la cancelación.",
                                                         code="motivo_requerido")})
    citas = _con_consentimientos(
        Cita.objects.select_for_update(of=("self",)).select_related("dentista__user", "cliente")
        .filter(cliente_id=cliente_id).liberables(ahora=ahora).order_by("pk")
    )
    canceladas = 0
    for cita in citas:
        _cancelar(cita=cita, ahora=ahora, es_personal=True, por_clinica=True, motivo=motivo, usuario=actor,
                  via=ViaCancelacion.PERSONAL, liberar=True)
        canceladas += 1
    return canceladas


# Back office: reschedule and state changes --------------------------------------------------
#
# What may happen to an appointment is the table of ``citas.estados``: the staff site asks
# ``transiciones_posibles(cita)`` which buttons to show, and the services below check the same
# rules in their compare-and-set (the state changes) or under their row lock (reprogramar).


def _error_cita_no_encontrada():
    return ValidationError("Cita no encontrada.", code="cita_no_encontrada")


# The marks that record the state they replace (``Cita.estado_anterior``) so ``deshacer`` can
# put it back.
_MARCAS = {"marcar_llegada", "marcar_atendida", "marcar_no_asistio"}


def _cambiar_estado(*, accion, actor, cita_id, enlace=None, desde=None) -> Cita:
    """Compare-and-set from the action's source states (and time rule) to its destination.
    A mark (``_MARCAS``) records the state it replaces; ``deshacer`` puts it back (only from
    ``desde``, the state the staff saw, when given).

    A patient (not ``is_staff``) may only run actions marked ``paciente`` on their own booking;
    someone else's looks like a missing one (``cita_no_encontrada``). With ``enlace`` (a
    reminder's one-tap link, ``actor`` None) the booking it names stands for the patient: the
    row must still be that booking, else ``enlace_invalido``.
    """
    regla = TRANSICIONES[accion]
    personal = enlace is None and es_personal(actor)
    if not personal and not regla.paciente:
        raise estados.error_solo_personal(accion)
    if not es_id_valido(cita_id):
        raise _error_cita_no_encontrada()
    with operacion(accion if enlace is None else f"{accion}_por_enlace", actor=actor):
        ahora = timezone.now()
        citas = Cita.objects.filter(pk=cita_id, **estados.filtro(accion, ahora))
        if enlace is not None:
            citas = citas.filter(reserva_uid=enlace.reserva_uid)
        elif not personal:
            # A subquery on cliente_id, not a join: with a join Django updates "WHERE id IN
            # (SELECT …)", and PostgreSQL would not re-check the state after a concurrent change.
            citas = citas.filter(cliente_id__in=Cliente.objects.filter(user_id=actor.pk).values("pk"))
        if desde is not None:
            citas = citas.filter(estado=desde)
        # A patient does not confirm a booking on a day the clinic or its dentist will not
        # attend (reception moves or cancels it): in the compare-and-set, so a closure committed
        # before it is seen. Staff may (they are the ones handling it).
        cerrado = accion == "confirmar" and not personal
        if cerrado:
            citas = citas.filter(~enlaces.en_un_cierre_expr())
        if regla.vuelve_atras:
            # SET reads the row as it was: estado takes the recorded one, then it is cleared.
            cambios = {"estado": F("estado_anterior"), "estado_anterior": ""}
        elif accion in _MARCAS:
            cambios = {"estado": regla.destino, "estado_anterior": F("estado")}
        else:
            cambios = {"estado": regla.destino}
        cambiadas = citas.update(**cambios, actualizado=ahora)
        cita = Cita.objects.select_related("cliente").filter(pk=cita_id).first()
        if enlace is not None:
            if not enlace.corresponde(cita):
                raise enlaces.error_enlace_invalido()
        elif cita is None or (not personal and (cita.cliente is None or cita.cliente.user_id != actor.pk)):
            raise _error_cita_no_encontrada()
        if cambiadas != 1:
            if cerrado and estados.permitida(accion, cita, ahora) and enlaces.en_un_cierre(cita.pk, cita.inicio):
                raise enlaces.error_dia_cerrado()
            if desde is not None and cita.estado != desde and cita.estado in regla.origenes:
                raise ValidationError(
                    f"No se deshizo: la cita cambió entretanto y ahora está en «{cita.get_estado_display()}».",
                    code="cita_cambio",
                )
            raise estados.error_de_transicion(accion, cita, ahora)
    registrar_evento(logger, f"cita_{regla.destino or cita.estado}", cita_id=cita.pk, accion=accion,
                     actor_id=getattr(actor, "pk", None))
    return cita


def confirmar_cita(*, actor, cita_id) -> Cita:
    """reservada → confirmada, before the start. Staff, or the patient on their own booking;
    a patient's booking on a day of a closure is not confirmed (``dia_cerrado``, as for the
    reminder's link: reception will move or cancel it).
    Raises ValidationError ``cita_no_encontrada``, ``transicion_invalida``, ``cita_ya_comenzo``,
    ``dia_cerrado``."""
    return _cambiar_estado(accion="confirmar", actor=actor, cita_id=cita_id)


def marcar_llegada(*, actor, cita_id) -> Cita:
    """reservada/confirmada → en_espera (the patient is in the waiting room). Staff only, and
    only on the appointment's date in Santiago (before or after its time).
    Raises ValidationError ``no_autorizado``, ``cita_no_encontrada``, ``transicion_invalida``,
    ``llegada_fuera_del_dia``."""
    return _cambiar_estado(accion="marcar_llegada", actor=actor, cita_id=cita_id)


def marcar_atendida(*, actor, cita_id) -> Cita:
    """en_espera/reservada/confirmada → atendida, not before the start. Staff only.
    Raises ValidationError ``no_autorizado``, ``cita_no_encontrada``, ``transicion_invalida``,
    ``cita_no_comenzada``."""
    return _cambiar_estado(accion="marcar_atendida", actor=actor, cita_id=cita_id)


def marcar_no_asistio(*, actor, cita_id) -> Cita:
    """reservada/confirmada → no_asistio, only after the start. Staff only.
    Raises ValidationError ``no_autorizado``, ``cita_no_encontrada``, ``transicion_invalida``,
    ``cita_no_comenzada``."""
    return _cambiar_estado(accion="marcar_no_asistio", actor=actor, cita_id=cita_id)


def deshacer_marca(*, actor, cita_id, desde) -> Cita:
    """Undo a wrong "Llegó", "Atendida" or "No asistió": the appointment goes back to the state
    that mark replaced (``Cita.estado_anterior``), on the appointment's own day in Santiago.
    Staff only (the view lets a dentist undo only on their own appointments). ``desde`` is
    the state the staff saw and confirmed: the compare-and-set includes it, so an undo never
    undoes a mark made meanwhile by someone else. Audited as ``deshacer`` (who, when, from and
    to which state, in the appointment's history).
    Raises ValidationError ``no_autorizado``, ``cita_no_encontrada``, ``transicion_invalida``,
    ``nada_que_deshacer``, ``deshacer_fuera_del_dia``, ``cita_cambio``."""
    if desde not in estados.ESTADOS_MARCADOS:
        raise ValidationError("Esa marca no se puede deshacer.", code="transicion_invalida")
    return _cambiar_estado(accion="deshacer", actor=actor, cita_id=cita_id, desde=desde)


_CAMPOS_DEL_PACIENTE = ("cliente", "paciente_nombre", "paciente_email", "paciente_telefono", "motivo")


def reprogramar_cita(*, actor, cita_id, nueva_cita_id) -> Cita:
    """Move a booked future appointment to another free future slot, in one transaction.

    Locks both rows in id order (two reschedulings never deadlock), moves the patient, the
    snapshot and the reason to the new slot (``reservada``: the new time needs confirming
    again), frees the old one and records the ``cita_reprogramada`` notification.
    A patient (not ``is_staff``) may only move their own booking, within the portal's policy
    (``citas.reglas``: until the cut-off, at most N times, to a slot past the minimum notice);
    their move counts in ``reprogramaciones``, a staff move carries the count unchanged.
    The new slot's dentist must be active: staff get ``dentista_inactivo``, a patient the
    portal's ``hora_no_disponible`` (such slots are not offered there).
    Returns the new Cita. Raises ValidationError ``cita_no_encontrada``, ``no_reprogramable``,
    ``fuera_de_plazo``, ``max_reprogramaciones``, ``hora_no_disponible``, ``dentista_inactivo``,
    ``paciente_ocupado`` (the new time overlaps another of the patient's appointments).
    Not a new booking: the portal's cap (``CLINICA_MAX_RESERVAS_PORTAL``) does not apply.
    """
    if not es_id_valido(cita_id):
        raise _error_cita_no_encontrada()
    if not es_id_valido(nueva_cita_id):
        raise _error_hora_no_disponible()
    if cita_id == nueva_cita_id:
        raise ValidationError("La nueva hora debe ser distinta de la actual.", code="hora_no_disponible")
    personal = es_personal(actor)
    with operacion("reprogramar_cita", actor=actor):
        ahora = timezone.now()
        # ORDER BY before FOR UPDATE: PostgreSQL locks the rows in that order.
        filas = {
            c.pk: c
            for c in _con_consentimientos(Cita.objects.select_for_update(of=("self",))
            .select_related("dentista__user", "cliente", "prestacion")
            .con_dentista_reservable())
            .filter(pk__in=(cita_id, nueva_cita_id))
            .order_by("pk")
        }
        origen, destino = filas.get(cita_id), filas.get(nueva_cita_id)
        if origen is None or not (personal or (origen.cliente and origen.cliente.user_id == actor.pk)):
            raise _error_cita_no_encontrada()
        _exigir_transicion("reprogramar", origen, ahora, personal=personal)
        # The new slot: what Cita.objects.libres selects, checked on the locked row.
        accion = "asignar" if personal else "reservar"
        if destino is None or not estados.permitida(accion, destino, ahora):
            raise _error_hora_no_disponible()
        if not personal and not reglas.se_puede_reservar(destino.inicio, ahora):
            raise _error_hora_no_disponible()
        if not destino.dentista_reservable:
            raise _error_dentista_inactivo() if personal else _error_hora_no_disponible()
        # The patient with their consent dates (read with the old row), before it is freed.
        cliente = _cliente_con_consentimientos(origen)
        for campo in _CAMPOS_DEL_PACIENTE:
            setattr(destino, campo, getattr(origen, campo))
        destino.estado = TRANSICIONES[accion].destino
        destino.reprogramaciones = origen.reprogramaciones + (0 if personal else 1)
        destino.reservada_en = ahora  # a new booking for the reminders: its own notice just went out
        # The booking keeps its identity on the new row, one version later (the .ics SEQUENCE).
        destino.reserva_uid = origen.reserva_uid or uuid.uuid4()
        destino.reserva_secuencia = origen.reserva_secuencia + 1
        # Free the old slot first: the patient's exclusion constraint (cita_sin_traslape_por_paciente)
        # is checked per statement, so a move to a time that overlaps the old one is not refused.
        prestacion = origen.prestacion
        origen.liberar(ahora=ahora)
        campos_de_la_cadena = []
        if prestacion is not None:
            # The prestación goes with the booking and needs its whole duration at the new time:
            # the chain from the new slot (which may include the time just freed), taken after
            # the old row was split back into its slots.
            destino.fin, destino.bloques = cadenas.tomar_cadena(
                cita_id=destino.pk, prestacion=prestacion, ahora=ahora, accion=accion, anticipacion=not personal)
            destino.prestacion = prestacion
            campos_de_la_cadena = ["fin", "bloques", "prestacion"]
        destino.save(update_fields=[*_CAMPOS_DEL_PACIENTE, "estado", "reprogramaciones", "reservada_en",
                                    "reserva_uid", "reserva_secuencia", "actualizado", *campos_de_la_cadena])
        nombre = destino.paciente_nombre
        anterior = _contexto(origen, nombre)
        # Neutral text: dates and dentist only, never the reason (it may describe a condition).
        notificar(
            evento="cita_reprogramada", referencia=f"{origen.pk}:{destino.pk}:{ahora.isoformat()}",
            email=destino.paciente_email, telefono=destino.paciente_telefono,
            perfil=_perfil_de(cliente),
            cliente=destino.cliente, cita=destino,
            adjunto_calendario=calendario.ics_de_cita(destino, dentista=destino.dentista.nombre, ahora=ahora),
            contexto={
                **_contexto(destino, nombre), "fecha_anterior": anterior["fecha"],
                "fecha_anterior_corta": anterior["fecha_corta"], "hora_anterior": anterior["hora"],
                "dentista_anterior": anterior["dentista"],
            },
            con_cupo=not personal,
        )
    registrar_evento(logger, "cita_reprogramada", cita_id=origen.pk, nueva_cita_id=destino.pk,
                     cliente_id=destino.cliente_id, actor_id=getattr(actor, "pk", None))
    return destino


# One-tap links of the reminders (citas.enlaces) ------------------------------------------------


def confirmar_por_enlace(*, token) -> Cita:
    """reservada → confirmada through a reminder's link, as the patient would on the portal,
    without logging in (audit: ``confirmar_por_enlace``, no user).

    A booking on a day of a closure (the clinic's or its dentist's) is not confirmed: reception
    will move or cancel it (``dia_cerrado``, with the clinic's phone). A closure committed
    after that check and before the confirmation leaves a confirmed booking in its list of
    affected ones, which reception resolves all the same.

    Raises ValidationError ``enlace_invalido``, ``enlace_vencido``, ``ya_confirmada``,
    ``ya_cancelada``, ``dia_cerrado``, or the state machine's ``transicion_invalida`` /
    ``cita_ya_comenzo``.
    """
    enlace = enlaces.leer_enlace(token, accion="confirmar")
    if enlace.cita is None:  # cancelled: say so
        raise enlaces.explicar_fallo(enlace, enlaces.error_enlace_invalido())
    if enlace.cita.en_cierre:  # read with the booking (leer_enlace)
        raise enlaces.explicar_fallo(enlace, enlaces.error_dia_cerrado())
    try:
        cita = _cambiar_estado(accion="confirmar", actor=None, cita_id=enlace.cita_id, enlace=enlace)
    except ValidationError as error:
        raise enlaces.explicar_fallo(enlace, error) from error
    return cita


def cancelar_por_enlace(*, token) -> Cita:
    """Free the booking a reminder's link names, as the patient would on the portal (the
    portal's policy applies: ``fuera_de_plazo`` says to call the clinic), with the patient's
    cancellation notice; without logging in (audit: ``cancelar_por_enlace``, no user).
    Returns the freed slot.

    Raises ValidationError ``enlace_invalido``, ``enlace_vencido``, ``ya_cancelada``,
    ``fuera_de_plazo``, ``no_cancelable``.
    """
    enlace = enlaces.leer_enlace(token, accion="cancelar")
    try:
        with operacion("cancelar_por_enlace", actor=None):
            ahora = timezone.now()
            cita = _cita_para_cancelar(enlace.cita_id) if enlace.cita is not None else None
            if not enlace.corresponde(cita):
                raise enlaces.error_enlace_invalido()
            _cancelar(cita=cita, ahora=ahora, es_personal=False, por_clinica=False, motivo="", usuario=None,
                      via=ViaCancelacion.ENLACE)
    except ValidationError as error:
        raise enlaces.explicar_fallo(enlace, error) from error
    registrar_evento(logger, "cita_cancelada", cita_id=cita.pk, por_clinica=False, actor_id=None, origen="enlace")
    return cita
