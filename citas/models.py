import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import Exists, F, Func, OuterRef, Q

from citas import estados, reglas
from citas.estados import ESTADOS_CON_PACIENTE, EstadoCita  # noqa: F401  (their home is citas.estados)
from nucleo.models import ConFechas
from personal.models import Perfil


class TsTzRangeCerrado(Func):
    """``tstzrange(inicio, fin, '[)')``: back-to-back slots touch but do not overlap."""

    function = "TSTZRANGE"
    template = "%(function)s(%(expressions)s, '[)')"


class RangoMinutos(Func):
    """``int4range`` of two times as minutes since midnight, ``[)``: blocks may touch."""

    function = "INT4RANGE"
    template = (
        "%(function)s((EXTRACT(EPOCH FROM %(expressions)s) / 60)::int, '[)')"
    )
    arg_joiner = ") / 60)::int, (EXTRACT(EPOCH FROM "


# What a slot holds when it is free again: no patient, no snapshot, no reason, the patient's
# count of moves back to 0, no booking time. ``CitaQuerySet.liberar`` and ``Cita.liberar``.
VALORES_DE_HORA_LIBRE = {
    "estado": EstadoCita.DISPONIBLE,
    "cliente": None,
    "paciente_nombre": "",
    "paciente_email": "",
    "paciente_telefono": "",
    "motivo": "",
    "reprogramaciones": 0,
    "reservada_en": None,
    "estado_anterior": "",
    "bloqueo_motivo": "",
    "cierre": None,
    "reserva_uid": None,
    "reserva_secuencia": 0,
    "prestacion": None,
}
# ``bloques`` is not reset here: the trigger ``cita_partir_al_liberar`` reads it to split a
# longer booking back into its grid slots, and sets it to 1 itself (any path that frees a row).


class TipoCierre(models.TextChoices):
    CLINICA = "clinica", "Feriado o cierre de la clínica"
    VACACIONES = "vacaciones", "Vacaciones"
    LICENCIA = "licencia", "Licencia médica"
    CAPACITACION = "capacitacion", "Capacitación"
    OTRO = "otro", "Otro"


class CierreQuerySet(models.QuerySet):
    def que_cubren(self, *, dentista, desde, hasta=None):
        """The closures that keep ``dentista`` from attending on some day of ``[desde, hasta]``
        (one day without ``hasta``): the clinic's and that dentist's own. Each argument may be
        a value or an expression (``OuterRef``), so one rule serves the lookups and a
        compare-and-set's subquery."""
        return self.filter(Q(dentista__isnull=True) | Q(dentista_id=dentista),
                           desde__lte=desde if hasta is None else hasta, hasta__gte=desde)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Cierre(ConFechas):
    """Days on which the whole clinic (``dentista`` NULL) or one dentist does not attend, from
    ``desde`` to ``hasta`` (Santiago dates, both included; table ``citas_cierre``).

    A closure is held on the slots themselves: ``citas.cierres.cerrar_rango`` turns every free
    slot of the range into ``bloqueada`` (with ``cierre`` set) in the same transaction, and the
    trigger ``cita_libre_en_cierre`` of ``Cita`` turns any slot that becomes free in the range
    later (generated, cancelled, moved away from) into ``bloqueada`` too.
    """

    dentista = models.ForeignKey(
        "personal.Perfil", verbose_name="dentista", on_delete=models.PROTECT, null=True, blank=True,
        related_name="cierres", help_text="Vacío: cierra toda la clínica.",
    )
    desde = models.DateField("desde")
    hasta = models.DateField("hasta")
    tipo = models.CharField("tipo", max_length=12, choices=TipoCierre.choices, default=TipoCierre.CLINICA)
    motivo = models.CharField("motivo", max_length=200)
    creado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="creado por", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    objects = CierreQuerySet.as_manager()

    class Meta:
        verbose_name = "cierre o ausencia"
        verbose_name_plural = "cierres y ausencias"
        ordering = ["desde", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hasta__gte=F("desde")),
                name="cierre_hasta_no_anterior_a_desde",
                violation_error_code="rango_invalido",
                violation_error_message="La fecha final es anterior a la inicial.",
            ),
            models.CheckConstraint(
                condition=Q(tipo__in=TipoCierre.values),
                name="cierre_tipo_valido",
                violation_error_code="tipo_invalido",
                violation_error_message="Tipo de cierre desconocido.",
            ),
            models.CheckConstraint(
                condition=~Q(motivo=""),
                name="cierre_con_motivo",
                violation_error_code="motivo_requerido",
                violation_error_message="Indique el motivo del cierre.",
            ),
        ]
        indexes = [models.Index(fields=["hasta", "desde"], name="cierre_hasta_desde_idx")]

    def __str__(self):
        return f"{self.get_tipo_display()} {self.desde:%d-%m-%Y}–{self.hasta:%d-%m-%Y}: {self.motivo}"

    @property
    def de_la_clinica(self) -> bool:
        return self.dentista_id is None

    @property
    def texto(self) -> str:
        """"Vacaciones: congreso", as the agenda marks it."""
        return f"{self.get_tipo_display()}: {self.motivo}"


# The database's own guard of closures (invariant 7): a slot that is or becomes free on a day
# of a closure of its dentist or of the whole clinic is stored as ``bloqueada`` by that closure.
# It fires only when the new row is ``disponible`` (never on a booking's UPDATE: the hot path
# pays nothing). Its query runs with a fresh snapshot (a PL/pgSQL statement in READ COMMITTED),
# so it sees a closure committed while the statement waited for a row lock: the closure locks
# every slot of its range before it commits (``citas.cierres.cerrar_rango``).
_SQL_CITA_LIBRE_EN_CIERRE = f"""
    SELECT c.id, c.motivo INTO cierre_id, cierre_motivo
      FROM citas_cierre c
     WHERE (c.dentista_id IS NULL OR c.dentista_id = NEW.dentista_id)
       AND (NEW.inicio AT TIME ZONE '{settings.TIME_ZONE}')::date BETWEEN c.desde AND c.hasta
     ORDER BY c.dentista_id NULLS FIRST, c.id
     LIMIT 1;
    IF FOUND THEN
        NEW.estado := 'bloqueada';
        NEW.cierre_id := cierre_id;
        NEW.bloqueo_motivo := cierre_motivo;
    END IF;
    RETURN NEW;
"""


# A booking of a prestación longer than one grid slot holds ``bloques`` contiguous slots merged
# into one row (``citas.services``: the chain's other rows are deleted and the head's ``fin``
# extended, so the exclusion constraints hold the whole duration). When such a row becomes
# nobody's again (``disponible``, or ``bloqueada`` by ``cita_libre_en_cierre``, which fires
# first: triggers fire in name order), whatever path freed it (a patient's cancellation, an
# erasure, a reschedule away, ``CitaQuerySet.liberar``, raw SQL), the database splits it back:
# BEFORE the UPDATE the row shrinks to its first piece; AFTER it, the other ``bloques - 1``
# pieces are inserted as ``disponible`` (``cita_libre_en_cierre`` blocks them on insert when
# their day is closed). Not in BEFORE: the old version of the row still holds the whole time
# there, and the exclusion constraint would refuse the pieces.
_SQL_CITA_PARTIR_ANTES = """
    NEW.fin := NEW.inicio + (NEW.fin - NEW.inicio) / NEW.bloques;
    NEW.bloques := 1;
    NEW.prestacion_id := NULL;
    RETURN NEW;
"""
_SQL_CITA_PARTIR_DESPUES = """
    pieza := NEW.fin - NEW.inicio;
    FOR i IN 1 .. OLD.bloques - 1 LOOP
        INSERT INTO citas_cita (creado, actualizado, dentista_id, inicio, fin, estado, paciente_nombre,
                                paciente_email, paciente_telefono, motivo, reprogramaciones, estado_anterior,
                                bloqueo_motivo, reserva_secuencia, bloques)
        VALUES (NEW.actualizado, NEW.actualizado, NEW.dentista_id, OLD.inicio + pieza * i,
                CASE WHEN i = OLD.bloques - 1 THEN OLD.fin ELSE OLD.inicio + pieza * (i + 1) END,
                'disponible', '', '', '', '', 0, '', '', 0, 1);
    END LOOP;
    RETURN NULL;
"""


class CitaQuerySet(models.QuerySet):
    def libres(self, *, ahora, anticipacion=True):
        """Slots that can be taken at ``ahora``: free and not started (``reservar`` / ``asignar``
        in ``citas.estados``), of a bookable dentist (``Perfil.objects.reservables()``) and, for
        a patient (``anticipacion``), starting no sooner than the portal's minimum notice
        (``citas.reglas``); staff pass ``anticipacion=False``.

        The dentist is a subquery on the row's own ``dentista_id``, not a join: in a
        compare-and-set UPDATE PostgreSQL then re-checks ``estado`` after waiting for a
        concurrent booking. ``_RESERVAR_SQL`` and the portal's SQL in ``citas.selectors``
        write this out; ``citas/tests/test_reglas.py`` proves they agree.
        """
        citas = self.filter(
            **estados.filtro("reservar" if anticipacion else "asignar", ahora),
            dentista_id__in=Perfil.objects.reservables().values("pk"),
        )
        if anticipacion:
            citas = citas.filter(inicio__gte=reglas.inicio_minimo_para_reservar(ahora))
        return citas

    def en_la_ventana(self, *, ahora):
        """Those starting before the end of the portal's booking window (what it offers)."""
        return self.filter(inicio__lt=reglas.fin_de_la_ventana(ahora))

    def con_dentista_reservable(self):
        """Each with ``dentista_reservable``: whether its dentist can be booked now (for a
        row read under lock, where the service must tell an inactive dentist apart)."""
        return self.annotate(
            dentista_reservable=Exists(Perfil.objects.reservables().filter(pk=OuterRef("dentista_id")))
        )

    def liberables(self, *, ahora):
        """The bookings that go back to free when their patient is deleted: reserved or
        confirmed, starting at or after ``ahora`` (the rest stays as history)."""
        return self.filter(estado__in=(EstadoCita.RESERVADA, EstadoCita.CONFIRMADA), inicio__gte=ahora)

    def liberar(self, *, ahora) -> int:
        """Free these slots (``VALORES_DE_HORA_LIBRE``), whatever their state: the caller chose
        them by the state machine's rules. One UPDATE; returns how many."""
        return self.update(**VALORES_DE_HORA_LIBRE, actualizado=ahora)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Cita(ConFechas):
    """An appointment slot of a dentist (table ``citas_cita``), free or booked.

    The ``paciente_*`` fields are a snapshot taken when the slot is booked: they keep the
    history readable after the patient is deleted, and name a person who has no record.
    """

    dentista = models.ForeignKey(
        "personal.Perfil", verbose_name="dentista", on_delete=models.PROTECT, related_name="citas"
    )
    inicio = models.DateTimeField("inicio")
    fin = models.DateTimeField("término")
    estado = models.CharField(
        "estado", max_length=12, choices=EstadoCita.choices, default=EstadoCita.DISPONIBLE
    )
    cliente = models.ForeignKey(
        "pacientes.Cliente",
        verbose_name="paciente",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="citas",
    )
    paciente_nombre = models.CharField("nombre del paciente", max_length=200, blank=True)
    paciente_email = models.EmailField("correo del paciente", blank=True)
    paciente_telefono = models.CharField("teléfono del paciente", max_length=20, blank=True)
    motivo = models.CharField("motivo", max_length=200, blank=True)
    # How many times the patient moved this booking on the portal (the policy caps it); carried
    # to the new slot by reprogramar_cita, back to 0 whenever the slot is free again.
    reprogramaciones = models.PositiveSmallIntegerField(
        "cambios de hora hechos por el paciente", default=0, db_default=0
    )
    # When the patient was put into this slot (booked, assigned or moved here); None while free
    # and for bookings older than the field. Reminders skip a kind whose window had already
    # started then: the booking's own message came minutes before.
    reservada_en = models.DateTimeField("reservada el", null=True, blank=True)
    # The state before the last "Llegó", "Atendida" or "No asistió" (set by their
    # compare-and-set), so that reception can undo a wrong mark that day (``deshacer``);
    # empty when there is nothing to undo.
    estado_anterior = models.CharField(
        "estado antes de la última marca", max_length=12, choices=EstadoCita.choices, blank=True, default="",
        db_default="",
    )
    # A slot that is not offered (``bloqueada``): why (shown in the agenda), and the closure
    # that blocked it (None for a single slot blocked by staff).
    bloqueo_motivo = models.CharField("motivo del bloqueo", max_length=200, blank=True, db_default="")
    cierre = models.ForeignKey(
        Cierre, verbose_name="cierre", on_delete=models.SET_NULL, null=True, blank=True, related_name="citas"
    )
    # The booking's own identity, which a slot row only hosts: set when the slot is taken (the
    # booking statement itself, gen_random_uuid()), moved to the new row by a reschedule, kept
    # by a cancellation of the clinic (the row stays cancelled with its patient), cleared when
    # the slot is free again. Links, one-tap tokens and the calendar file's UID carry it, so they
    # follow the booking across rows. ``reserva_secuencia`` counts its changes (the .ics SEQUENCE):
    # 0 when booked, +1 on each reschedule or cancellation.
    reserva_uid = models.UUIDField("identificador de la reserva", null=True, blank=True, editable=False)
    reserva_secuencia = models.PositiveIntegerField("versión de la reserva", default=0, db_default=0)
    # What the visit is for (None: a plain slot, or a booking from before prestaciones), and how
    # many grid slots this row holds: a booking of a prestación longer than one slot merges the
    # chain of contiguous free slots that covers it into this row (a 45-minute prestación on a
    # 30-minute grid holds 60 minutes). Back to None / 1 when the slot is free again (the
    # trigger ``cita_partir_al_liberar`` splits the row into ``bloques`` free slots first).
    prestacion = models.ForeignKey(
        "prestaciones.Prestacion", verbose_name="prestación", on_delete=models.PROTECT, null=True, blank=True,
        related_name="citas",
    )
    bloques = models.PositiveSmallIntegerField("horas de la grilla que ocupa", default=1, db_default=1)

    objects = CitaQuerySet.as_manager()

    class Meta:
        verbose_name = "cita"
        verbose_name_plural = "citas"
        ordering = ["inicio"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fin__gt=F("inicio")),
                name="cita_fin_posterior_al_inicio",
                violation_error_code="horario_invalido",
                violation_error_message="La hora de término debe ser posterior a la de inicio.",
            ),
            models.CheckConstraint(
                condition=Q(estado__in=EstadoCita.values),
                name="cita_estado_valido",
                violation_error_code="estado_invalido",
                violation_error_message="Estado de cita desconocido.",
            ),
            # Invariant 4: a free slot has no patient; a booked one names somebody.
            models.CheckConstraint(
                condition=~Q(estado=EstadoCita.DISPONIBLE)
                | (
                    Q(cliente__isnull=True)
                    & Q(paciente_nombre="")
                    & Q(paciente_email="")
                    & Q(paciente_telefono="")
                ),
                name="cita_disponible_sin_paciente",
                violation_error_code="disponible_con_paciente",
                violation_error_message="Una hora disponible no puede tener paciente.",
            ),
            # A blocked slot is nobody's, and says why; only a blocked one has a block reason.
            models.CheckConstraint(
                condition=~Q(estado=EstadoCita.BLOQUEADA)
                | (
                    Q(cliente__isnull=True)
                    & Q(paciente_nombre="")
                    & Q(paciente_email="")
                    & Q(paciente_telefono="")
                    & ~Q(bloqueo_motivo="")
                ),
                name="cita_bloqueada_sin_paciente",
                violation_error_code="bloqueada_con_paciente",
                violation_error_message="Una hora bloqueada no puede tener paciente y debe decir por qué.",
            ),
            models.CheckConstraint(
                condition=Q(estado=EstadoCita.BLOQUEADA) | (Q(bloqueo_motivo="") & Q(cierre__isnull=True)),
                name="cita_bloqueo_solo_si_bloqueada",
                violation_error_code="bloqueo_sin_bloqueada",
                violation_error_message="Solo una hora bloqueada tiene motivo de bloqueo o cierre.",
            ),
            models.CheckConstraint(
                condition=Q(estado__in=(EstadoCita.DISPONIBLE, EstadoCita.BLOQUEADA))
                | Q(cliente__isnull=False) | ~Q(paciente_nombre=""),
                name="cita_reservada_con_paciente",
                violation_error_code="reservada_sin_paciente",
                violation_error_message="Una cita reservada debe tener un paciente o al menos su nombre.",
            ),
            # One booking lives on one row at a time; a free or blocked slot holds no booking.
            models.UniqueConstraint(
                fields=["reserva_uid"], condition=Q(reserva_uid__isnull=False), name="cita_reserva_uid_unica",
                violation_error_code="reserva_duplicada",
                violation_error_message="Esa reserva ya está en otra hora.",
            ),
            models.CheckConstraint(
                condition=~Q(estado__in=(EstadoCita.DISPONIBLE, EstadoCita.BLOQUEADA)) | Q(reserva_uid__isnull=True),
                name="cita_libre_sin_reserva",
                violation_error_code="libre_con_reserva",
                violation_error_message="Una hora libre o bloqueada no puede tener una reserva.",
            ),
            models.CheckConstraint(
                condition=Q(bloques__gte=1),
                name="cita_bloques_positivo",
                violation_error_code="bloques_invalido",
                violation_error_message="Una cita ocupa al menos una hora de la grilla.",
            ),
            models.CheckConstraint(
                condition=Q(estado_anterior__in=("", *estados.ESTADOS_ANTES_DE_UNA_MARCA)),
                name="cita_estado_anterior_valido",
                violation_error_code="estado_invalido",
                violation_error_message="Estado anterior de cita desconocido.",
            ),
            # Invariant 3: a dentist never has two live appointments that overlap (a blocked
            # slot occupies its time too).
            ExclusionConstraint(
                name="cita_sin_traslape_por_dentista",
                expressions=[
                    ("dentista", RangeOperators.EQUAL),
                    (TsTzRangeCerrado("inicio", "fin"), RangeOperators.OVERLAPS),
                ],
                condition=~Q(estado=EstadoCita.CANCELADA),
                violation_error_code="traslape",
                violation_error_message="El dentista ya tiene otra hora en ese horario.",
            ),
            # A patient never holds two live appointments that overlap (one account cannot hold
            # two dentists at once). Live = still ahead of the patient: reservada, confirmada,
            # en_espera (ESTADOS_VIVOS). Not: cancelada (by the clinic, kept with its patient),
            # atendida / no_asistio (history), disponible / bloqueada (no patient).
            ExclusionConstraint(
                name="cita_sin_traslape_por_paciente",
                expressions=[
                    ("cliente", RangeOperators.EQUAL),
                    (TsTzRangeCerrado("inicio", "fin"), RangeOperators.OVERLAPS),
                ],
                condition=Q(cliente__isnull=False, estado__in=estados.ESTADOS_VIVOS),
                violation_error_code="paciente_ocupado",
                violation_error_message="Ya tiene otra cita a esa hora.",
            ),
        ]
        indexes = [
            models.Index(fields=["estado", "inicio"], name="cita_estado_inicio_idx"),
            models.Index(fields=["dentista", "inicio"], name="cita_dentista_inicio_idx"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="cita_libre_en_cierre",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                condition=pgtrigger.Q(new__estado=EstadoCita.DISPONIBLE.value),
                declare=[("cierre_id", "bigint"), ("cierre_motivo", "varchar(200)")],
                func=_SQL_CITA_LIBRE_EN_CIERRE,
            ),
            pgtrigger.Trigger(
                name="cita_partir_al_liberar",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(
                    new__estado__in=[EstadoCita.DISPONIBLE.value, EstadoCita.BLOQUEADA.value], new__bloques__gt=1
                ),
                func=_SQL_CITA_PARTIR_ANTES,
            ),
            pgtrigger.Trigger(
                name="cita_partir_al_liberar_piezas",
                when=pgtrigger.After,
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(
                    new__estado__in=[EstadoCita.DISPONIBLE.value, EstadoCita.BLOQUEADA.value], new__bloques=1,
                    old__bloques__gt=1,
                ),
                declare=[("pieza", "interval")],
                func=_SQL_CITA_PARTIR_DESPUES,
            ),
        ]

    def __str__(self):
        return f"{self.dentista_id} {self.inicio:%Y-%m-%d %H:%M} ({self.get_estado_display()})"

    @property
    def duracion(self):
        return self.fin - self.inicio

    @property
    def minutos_reservados(self) -> int:
        return int(self.duracion.total_seconds() // 60)

    def liberar(self, *, ahora) -> None:
        """Free this slot (``CitaQuerySet.liberar``: one UPDATE of this row) and show it in
        this instance too. The caller holds the row and checked the transition."""
        type(self).objects.filter(pk=self.pk).liberar(ahora=ahora)
        for campo, valor in VALORES_DE_HORA_LIBRE.items():
            setattr(self, campo, valor)
        self.actualizado = ahora
        if self.bloques > 1:  # as the trigger cita_partir_al_liberar left the row
            self.fin = self.inicio + (self.fin - self.inicio) / self.bloques
            self.bloques = 1


class PorQuien(models.TextChoices):
    """Who took the booking away: the patient (the slot is freed) or the clinic (it stays
    cancelled with its patient)."""

    PACIENTE = "paciente", "el paciente"
    CLINICA = "clinica", "la clínica"


class ViaCancelacion(models.TextChoices):
    """Where the cancellation was made."""

    PORTAL = "portal", "en el portal"
    ENLACE = "enlace", "con el enlace del recordatorio"
    PERSONAL = "personal", "en la clínica"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Cancelacion(models.Model):
    """One cancellation of a booking (table ``citas_cancelacion``): the history a day of the
    agenda keeps after the slot was freed (a patient's cancellation blanks the slot) or
    cancelled by the clinic. Written by ``citas.services._cancelar`` in the same transaction
    as the change, for every cancellation (portal, one-tap link, staff of both kinds).

    Only the patient's name is copied (the history line needs no contact data). Deleting the
    patient unlinks ``cliente`` and keeps the name, as a past appointment keeps its snapshot
    (``liberar_citas_del_cliente``).
    """

    # PROTECT: a slot with history is never deleted with it (no code deletes slots).
    cita = models.ForeignKey(Cita, verbose_name="hora", on_delete=models.PROTECT, related_name="cancelaciones")
    inicio = models.DateTimeField("inicio de la cita")
    dentista = models.ForeignKey(
        "personal.Perfil", verbose_name="dentista", on_delete=models.PROTECT, related_name="cancelaciones"
    )
    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="cancelaciones",
    )
    paciente_nombre = models.CharField("nombre del paciente", max_length=200, blank=True)
    por = models.CharField("quién canceló", max_length=12, choices=PorQuien.choices)
    via = models.CharField("dónde", max_length=12, choices=ViaCancelacion.choices)
    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="usuario", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    motivo = models.CharField("motivo de la cancelación", max_length=200, blank=True)
    creada = models.DateTimeField("cancelada el")
    # Which booking was cancelled (``Cita.reserva_uid``) and the version of that last change
    # (the calendar file's CANCEL carries it): its links still resolve, to "cancelled". NULL for
    # cancellations recorded before bookings had an identity.
    reserva_uid = models.UUIDField("identificador de la reserva", null=True, blank=True, editable=False)
    reserva_secuencia = models.PositiveIntegerField("versión de la reserva", default=0, db_default=0)

    class Meta:
        verbose_name = "cancelación"
        verbose_name_plural = "cancelaciones"
        ordering = ["creada", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(por__in=PorQuien.values) & Q(via__in=ViaCancelacion.values),
                name="cancelacion_por_y_via_validos",
                violation_error_code="cancelacion_invalida",
                violation_error_message="Quién o dónde se canceló: valor desconocido.",
            ),
            # The clinic cancels only from the staff site, and says why.
            models.CheckConstraint(
                condition=~Q(por=PorQuien.CLINICA) | (Q(via=ViaCancelacion.PERSONAL) & ~Q(motivo="")),
                name="cancelacion_clinica_con_motivo",
                violation_error_code="motivo_requerido",
                violation_error_message="La cancelación por la clínica necesita un motivo.",
            ),
        ]
        indexes = [
            models.Index(fields=["inicio"], name="cancelacion_inicio_idx"),
            models.Index(fields=["reserva_uid"], name="cancelacion_reserva_idx", condition=Q(reserva_uid__isnull=False)),
        ]

    def __str__(self):
        return f"{self.cita_id} {self.creada:%Y-%m-%d %H:%M} ({self.por})"


class DiaSemana(models.IntegerChoices):
    LUNES = 0, "Lunes"
    MARTES = 1, "Martes"
    MIERCOLES = 2, "Miércoles"
    JUEVES = 3, "Jueves"
    VIERNES = 4, "Viernes"
    SABADO = 5, "Sábado"
    DOMINGO = 6, "Domingo"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class HorarioAtencion(ConFechas):
    """One block of a dentist's weekly hours (table ``citas_horarioatencion``).

    A day with a break has two blocks (09:00–13:00 and 14:30–18:30). Times are Santiago wall
    clock: slots generated from them stay at 09:00 across DST changes.
    """

    dentista = models.ForeignKey(
        "personal.Perfil", verbose_name="dentista", on_delete=models.CASCADE, related_name="horarios"
    )
    dia_semana = models.PositiveSmallIntegerField("día de la semana", choices=DiaSemana.choices)
    hora_inicio = models.TimeField("desde")
    hora_fin = models.TimeField("hasta")
    duracion_minutos = models.PositiveSmallIntegerField("duración de cada hora (minutos)", default=30)

    class Meta:
        verbose_name = "horario de atención"
        verbose_name_plural = "horarios de atención"
        ordering = ["dentista", "dia_semana", "hora_inicio"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hora_fin__gt=F("hora_inicio")),
                name="horario_fin_posterior_al_inicio",
                violation_error_code="horario_invalido",
                violation_error_message="La hora de término debe ser posterior a la de inicio.",
            ),
            models.CheckConstraint(
                condition=Q(duracion_minutos__gte=5) & Q(duracion_minutos__lte=480),
                name="horario_duracion_razonable",
                violation_error_code="duracion_invalida",
                violation_error_message="La duración debe estar entre 5 y 480 minutos.",
            ),
            models.CheckConstraint(
                condition=Q(dia_semana__gte=0) & Q(dia_semana__lte=6),
                name="horario_dia_semana_valido",
                violation_error_code="dia_invalido",
                violation_error_message="Día de la semana desconocido.",
            ),
            # Two blocks of one dentist on one weekday never overlap (minutes since midnight).
            ExclusionConstraint(
                name="horario_sin_traslape",
                expressions=[
                    ("dentista", RangeOperators.EQUAL),
                    ("dia_semana", RangeOperators.EQUAL),
                    (RangoMinutos("hora_inicio", "hora_fin"), RangeOperators.OVERLAPS),
                ],
                violation_error_code="horario_traslapado",
                violation_error_message="Ese bloque se cruza con otro horario del dentista ese día.",
            ),
        ]

    def __str__(self):
        return f"{self.get_dia_semana_display()} {self.hora_inicio:%H:%M}–{self.hora_fin:%H:%M}"
