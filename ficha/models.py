"""The clinical record (ficha clínica, Ley 20.584 and Decreto 41 of 2012).

- ``Antecedentes``: the patient's medical history, one row per patient, every change kept with
  who and when (pghistory events). Its ``alergias`` and the seed's ``pacientes_cliente.alergias``
  are kept in step by two database triggers (migration ``0001``), whichever side is written.
- ``Evolucion``: a progress note per visit. Once signed, the database refuses any change and
  any deletion (trigger ``evolucion_firmada_inmutable``); a correction is an addendum, a new note
  whose ``corrige`` points to it. The only deletion ever accepted is the purge of a record whose
  legal hold (``Resguardo``) has expired, of notes signed more than 15 years ago.
- ``AccesoFicha`` (an administrator assigns a dentist to a patient's treatment) and
  ``AccesoUrgencia`` (a dentist outside the care team opens the record with a written reason,
  flagged for review): with the appointments, what ``ficha.acceso`` decides on.
- ``LecturaFicha``: one append-only row per read of any part of a record (Decreto 41 art. 9);
  the database refuses updates and deletions.
- ``Resguardo``: the legal hold of an erased patient's record, until ``conservar_hasta``.
"""

import re

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from nucleo.models import ConFechas
from pacientes.models import RUT_NORMAL, rut_legible

# FDI two-digit notation: quadrant (1–4 permanent, 5–8 deciduous) and position (1–8 / 1–5).
DIENTES_PERMANENTES = [c * 10 + p for c in (1, 2, 3, 4) for p in range(1, 9)]
DIENTES_TEMPORALES = [c * 10 + p for c in (5, 6, 7, 8) for p in range(1, 6)]
DIENTES_FDI = DIENTES_PERMANENTES + DIENTES_TEMPORALES


class Embarazo(models.TextChoices):
    NO_REGISTRADO = "", "Sin registrar"
    NO_APLICA = "no_aplica", "No aplica"
    NO = "no", "No"
    SI = "si", "Sí, embarazada"


class Tabaquismo(models.TextChoices):
    NO_REGISTRADO = "", "Sin registrar"
    NO = "no", "No fuma"
    EX = "ex", "Ex fumador(a)"
    SI = "si", "Fuma"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Antecedentes(ConFechas):
    """A patient's medical history (table ``ficha_antecedentes``). ``version`` grows by one with
    every change, so an edit made on a stale form is refused instead of overwriting a colleague's
    (compare-and-set in ``ficha.antecedentes``); the triggers that keep ``alergias`` in step bump
    it too. Database defaults on every column: the allergy trigger inserts the row in SQL."""

    cliente = models.OneToOneField(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT, related_name="antecedentes"
    )
    enfermedades = models.TextField("enfermedades y condiciones", blank=True, default="", db_default="")
    medicamentos = models.TextField("medicamentos actuales", blank=True, default="", db_default="")
    alergias = models.TextField("alergias", blank=True, default="", db_default="")
    embarazo = models.CharField("embarazo", max_length=10, choices=Embarazo.choices, blank=True, default="",
                                db_default="")
    tabaquismo = models.CharField("tabaquismo", max_length=10, choices=Tabaquismo.choices, blank=True,
                                  default="", db_default="")
    anticoagulantes = models.BooleanField("toma anticoagulantes", default=False, db_default=False)
    anticoagulantes_detalle = models.CharField("cuál anticoagulante", max_length=200, blank=True, default="",
                                               db_default="")
    cirugias = models.TextField("cirugías relevantes", blank=True, default="", db_default="")
    observaciones = models.TextField("otras observaciones", blank=True, default="", db_default="")
    version = models.PositiveIntegerField("versión", default=1, db_default=1)
    actualizado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="actualizado por", on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    creado = models.DateTimeField("creado", auto_now_add=True, db_default=Now())
    actualizado = models.DateTimeField("actualizado", auto_now=True, db_default=Now())

    class Meta:
        verbose_name = "antecedentes"
        verbose_name_plural = "antecedentes"
        constraints = [
            models.CheckConstraint(
                condition=Q(anticoagulantes=True) | Q(anticoagulantes_detalle=""),
                name="antecedentes_anticoagulante_coherente",
                violation_error_code="anticoagulante_sin_marcar",
                violation_error_message="Indique el anticoagulante solo si el paciente toma uno.",
            ),
        ]

    def __str__(self):
        return f"Antecedentes de {self.cliente_id}"


# Signed notes are the record as the law keeps it: no UPDATE at all, and a DELETE only when the
# patient's legal hold has expired (the purge, ``ficha.retencion``) and the note itself was
# signed more than the law's 15 years ago (so a hold row written by hand cannot open the door to
# a recent note; the setting may only lengthen the period). Raw SQL and the ORM alike.
_SQL_EVOLUCION_FIRMADA = """
    IF TG_OP = 'DELETE' AND OLD.firmada_en < now() - interval '15 years' AND EXISTS (
        SELECT 1 FROM ficha_resguardo r
        WHERE r.cliente_id = OLD.cliente_id AND r.conservar_hasta < CURRENT_DATE
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'La evolución % está firmada: no se puede modificar ni eliminar; agregue una adenda.', OLD.id
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'evolucion_firmada_inmutable';
"""


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Evolucion(ConFechas):
    """A progress note (table ``ficha_evolucion``): what the dentist did at a visit, on which
    teeth, in their words. A draft (``firmada_en`` empty) is the author's to edit or discard;
    signing fixes it for good. An addendum is a note of its own whose ``corrige`` names the
    signed note it completes or corrects."""

    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT, related_name="evoluciones"
    )
    cita = models.ForeignKey(
        "citas.Cita", verbose_name="cita", on_delete=models.PROTECT, null=True, blank=True,
        related_name="evoluciones",
    )
    dentista = models.ForeignKey(
        "personal.Perfil", verbose_name="dentista", on_delete=models.PROTECT, related_name="evoluciones"
    )
    atendido_el = models.DateField("fecha de la atención")
    procedimiento = models.CharField("qué se hizo", max_length=200, blank=True, default="")
    dientes = ArrayField(models.PositiveSmallIntegerField(), verbose_name="dientes (FDI)", blank=True,
                         default=list, db_default="{}")
    texto = models.TextField("evolución", blank=True, default="")
    corrige = models.ForeignKey(
        "self", verbose_name="adenda de", on_delete=models.PROTECT, null=True, blank=True, related_name="adendas"
    )
    firmada_en = models.DateTimeField("firmada el", null=True, blank=True)

    class Meta:
        verbose_name = "evolución"
        verbose_name_plural = "evoluciones"
        constraints = [
            models.CheckConstraint(
                condition=Q(dientes__contained_by=DIENTES_FDI),
                name="evolucion_dientes_fdi",
                violation_error_code="diente_invalido",
                violation_error_message="Los dientes se indican con la numeración FDI (11 a 48; temporales 51 a 85).",
            ),
            models.CheckConstraint(
                condition=Q(firmada_en__isnull=True)
                | Q(procedimiento__regex=r"\S") | Q(texto__regex=r"\S"),
                name="evolucion_firmada_con_contenido",
                violation_error_code="evolucion_vacia",
                violation_error_message="Escriba qué se hizo o la evolución antes de firmar.",
            ),
            models.CheckConstraint(
                condition=Q(firmada_en__isnull=True) | Q(firmada_en__gte=models.F("creado")),
                name="evolucion_firma_posterior",
                violation_error_code="firma_invalida",
                violation_error_message="La firma no puede ser anterior a la nota.",
            ),
        ]
        indexes = [models.Index(fields=["cliente", "-atendido_el", "-id"], name="evolucion_cliente_idx")]
        triggers = [
            pgtrigger.Trigger(
                name="evolucion_firmada_inmutable",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__firmada_en__isnull=False),
                func=_SQL_EVOLUCION_FIRMADA,
            ),
        ]

    def __str__(self):
        return f"Evolución {self.pk} de {self.cliente_id} ({self.atendido_el:%d-%m-%Y})"

    @property
    def firmada(self) -> bool:
        return self.firmada_en is not None


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AccesoFicha(ConFechas):
    """A dentist assigned to a patient's treatment by an administrator (table
    ``ficha_accesoficha``): part of the care team without an appointment yet (a specialist who
    will take over, the dentist who plans the treatment). Revoked by closing the row."""

    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.CASCADE, related_name="accesos_ficha"
    )
    dentista = models.ForeignKey(
        "personal.Perfil", verbose_name="dentista", on_delete=models.CASCADE, related_name="accesos_ficha"
    )
    motivo = models.CharField("motivo", max_length=200)
    otorgado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="otorgado por", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    revocado_en = models.DateTimeField("revocado el", null=True, blank=True)
    revocado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="revocado por", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "acceso a la ficha"
        verbose_name_plural = "accesos a fichas"
        constraints = [
            models.UniqueConstraint(
                fields=["cliente", "dentista"],
                condition=Q(revocado_en__isnull=True),
                name="acceso_ficha_vigente_unico",
                violation_error_code="acceso_duplicado",
                violation_error_message="Ese dentista ya tiene acceso a esta ficha.",
            ),
            models.CheckConstraint(
                condition=Q(motivo__regex=r"\S"),
                name="acceso_ficha_con_motivo",
                violation_error_code="motivo_requerido",
                violation_error_message="Indique por qué se otorga el acceso.",
            ),
        ]

    def __str__(self):
        return f"Acceso de {self.dentista_id} a {self.cliente_id}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class AccesoUrgencia(ConFechas):
    """"Acceso de urgencia" (table ``ficha_accesourgencia``): a dentist outside the care team
    opened a record with a written reason. It lasts ``CLINICA_FICHA_URGENCIA_HORAS`` and stays
    flagged until an administrator reviews it (``revisado_en``)."""

    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.CASCADE, related_name="accesos_urgencia"
    )
    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="quién", on_delete=models.PROTECT, related_name="+"
    )
    motivo = models.TextField("motivo")
    abierto_en = models.DateTimeField("abierto el", db_default=Now())
    vence_en = models.DateTimeField("vence el")
    revisado_en = models.DateTimeField("revisado el", null=True, blank=True)
    revisado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="revisado por", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    revision_nota = models.TextField("nota de la revisión", blank=True, default="", db_default="")

    class Meta:
        verbose_name = "acceso de urgencia"
        verbose_name_plural = "accesos de urgencia"
        constraints = [
            models.CheckConstraint(
                condition=Q(motivo__regex=r"^\s*\S.{8,}\S\s*$"),
                name="urgencia_con_motivo",
                violation_error_code="motivo_requerido",
                violation_error_message="Escriba el motivo de la urgencia (al menos 10 caracteres).",
            ),
            models.CheckConstraint(
                condition=Q(vence_en__gt=models.F("abierto_en")),
                name="urgencia_vence_despues",
                violation_error_code="vencimiento_invalido",
                violation_error_message="El acceso de urgencia debe vencer después de abrirse.",
            ),
        ]
        indexes = [
            models.Index(fields=["cliente", "usuario", "-vence_en"], name="urgencia_cliente_idx"),
            models.Index(fields=["abierto_en"], condition=Q(revisado_en__isnull=True), name="urgencia_por_revisar_idx"),
        ]

    def __str__(self):
        return f"Urgencia de {self.usuario_id} en {self.cliente_id}"


class Seccion(models.TextChoices):
    """What part of a record was read (``LecturaFicha.seccion``)."""

    FICHA = "ficha", "Ficha clínica"
    ANTECEDENTES = "antecedentes", "Antecedentes"
    EVOLUCION = "evolucion", "Evolución"
    DOCUMENTO = "documento", "Documento"
    PDF = "pdf", "PDF de la ficha"
    EXPORTACION = "exportacion", "Exportación de datos"
    ODONTOGRAMA = "odontograma", "Odontograma"
    CONSENTIMIENTO = "consentimiento", "Consentimiento informado"
    RECETA = "receta", "Receta"
    RESUMEN = "resumen", "Resumen de la ficha"
    PLAN = "plan", "Plan de tratamiento"


class Via(models.TextChoices):
    """On what ground a read was allowed, or that it was refused (``ficha.acceso``)."""

    EQUIPO = "equipo", "Equipo de cuidado (atiende al paciente)"
    ASIGNADO = "asignado", "Asignado al tratamiento"
    URGENCIA = "urgencia", "Acceso de urgencia"
    PACIENTE = "paciente", "El propio paciente"
    DENEGADO = "denegado", "Intento sin acceso"


class LecturaFicha(models.Model):
    """One read of a record (table ``ficha_lecturaficha``), written in the request that showed
    it. Append-only: a trigger refuses UPDATE and DELETE of any row, so the proof of who read
    what cannot be edited even by the application's own database user. (TRUNCATE, like DROP
    TABLE, is the table owner's schema operation, not a change of rows: the test suite's flush
    uses it, and an owner could drop a trigger as easily; database roles and backups guard that.)

    No foreign-key constraints: the log outlives what it points to (a deleted user, a purged
    record). It keeps the reader's name and role as they were, never clinical content."""

    momento = models.DateTimeField("cuándo", db_default=Now(), db_index=True)
    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="quién", on_delete=models.DO_NOTHING, db_constraint=False,
        null=True, related_name="+",
    )
    usuario_nombre = models.CharField("nombre", max_length=200)
    rol = models.CharField("rol", max_length=40, blank=True)
    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    seccion = models.CharField("qué", max_length=20, choices=Seccion.choices)
    objeto_id = models.BigIntegerField("registro", null=True, blank=True)
    via = models.CharField("acceso", max_length=10, choices=Via.choices)
    motivo_urgencia = models.TextField("motivo de la urgencia", blank=True, default="")
    ip = models.GenericIPAddressField("desde", null=True, blank=True)

    class Meta:
        verbose_name = "lectura de ficha"
        verbose_name_plural = "lecturas de fichas"
        indexes = [
            models.Index(fields=["cliente", "-momento"], name="lectura_cliente_idx"),
            models.Index(fields=["usuario", "-momento"], name="lectura_usuario_idx"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="lectura_solo_agregar",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                func="RAISE EXCEPTION 'El registro de lecturas de fichas no se puede modificar ni borrar.' "
                     "USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'lectura_solo_agregar';",
            ),
        ]

    def __str__(self):
        return f"{self.usuario_nombre} leyó {self.seccion} de {self.cliente_id} ({self.momento:%d-%m-%Y %H:%M})"

    @property
    def permitida(self) -> bool:
        return self.via != Via.DENEGADO


# A hold opens the purge's door to signed notes, so the table guards itself: a hold only for a
# patient already erased (inactive), and its period never shortened.
_SQL_RESGUARDO_PROTEGIDO = """
    IF TG_OP = 'INSERT' AND EXISTS (SELECT 1 FROM pacientes_cliente c WHERE c.id = NEW.cliente_id AND c.activo) THEN
        RAISE EXCEPTION 'El paciente % está activo: su ficha no puede quedar en resguardo legal.', NEW.cliente_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'resguardo_protegido';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.conservar_hasta < OLD.conservar_hasta THEN
        RAISE EXCEPTION 'El plazo de conservación de la ficha % no se puede acortar.', NEW.cliente_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'resguardo_protegido';
    END IF;
    RETURN NEW;
"""


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Resguardo(models.Model):
    """The legal hold of an erased patient's record (table ``ficha_resguardo``): the portal
    account and contact data are gone, the record stays, identified by the minimum the law asks,
    until ``conservar_hasta`` (``CLINICA_FICHA_ANOS_CONSERVACION`` years after its last entry).
    Only then may the purge delete it, signed notes included."""

    cliente = models.OneToOneField(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT, related_name="resguardo"
    )
    desde = models.DateTimeField("en resguardo desde", db_default=Now())
    ultima_entrada = models.DateField("última entrada de la ficha")
    conservar_hasta = models.DateField("conservar hasta")
    solicitado_por = models.CharField(
        "eliminación pedida por", max_length=10, choices=[("paciente", "El paciente"), ("clinica", "La clínica")]
    )

    class Meta:
        verbose_name = "resguardo legal"
        verbose_name_plural = "resguardos legales"
        constraints = [
            models.CheckConstraint(
                condition=Q(conservar_hasta__gt=models.F("ultima_entrada")),
                name="resguardo_plazo_posterior",
                violation_error_code="plazo_invalido",
                violation_error_message="El plazo de conservación debe terminar después de la última entrada.",
            ),
            models.CheckConstraint(
                condition=Q(conservar_hasta__gte=models.Func(
                    models.F("ultima_entrada"), template="(%(expressions)s + interval '15 years')",
                    output_field=models.DateField(),
                )),
                name="resguardo_plazo_legal",
                violation_error_code="plazo_invalido",
                violation_error_message="La ficha se conserva al menos 15 años desde su última entrada.",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="resguardo_protegido",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=_SQL_RESGUARDO_PROTEGIDO,
            ),
        ]

    def __str__(self):
        return f"Resguardo de {self.cliente_id} hasta {self.conservar_hasta:%d-%m-%Y}"


# Prescriptions (recetas) ------------------------------------------------------------------
# An issued prescription is a document the patient took to a pharmacy: the database refuses any
# change but its one-time annulment, and any deletion but the purge of an expired legal hold (as
# ``evolucion_firmada_inmutable``). Its time is the database's clock, whatever an INSERT says.
_SQL_RECETA_EMITIDA = """
    IF TG_OP = 'INSERT' THEN
        NEW.emitida_en := now();
        NEW.anulada_en := NULL;
        NEW.anulada_por_id := NULL;
        NEW.motivo_anulacion := '';
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.emitida_en < now() - interval '15 years' AND EXISTS (
            SELECT 1 FROM ficha_resguardo r
            WHERE r.cliente_id = OLD.cliente_id AND r.conservar_hasta < CURRENT_DATE
        ) THEN
            RETURN OLD;
        END IF;
    ELSIF OLD.anulada_en IS NULL AND NEW.anulada_en IS NOT NULL AND NEW.anulada_por_id IS NOT NULL
          AND NEW.motivo_anulacion ~ '\\S'
          AND (to_jsonb(NEW) - ARRAY['anulada_en', 'anulada_por_id', 'motivo_anulacion'])
              = (to_jsonb(OLD) - ARRAY['anulada_en', 'anulada_por_id', 'motivo_anulacion']) THEN
        NEW.anulada_en := now();
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'La receta % está emitida: no se puede modificar ni eliminar (solo anular una vez, con motivo).', OLD.id
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'receta_emitida_inmutable';
"""

# Its lines: written only in the transaction that issued the prescription (its ``emitida_en`` is
# that transaction's now()), never changed, deleted only with it by the purge.
_SQL_RECETA_LINEA = """
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM ficha_receta r WHERE r.id = NEW.receta_id AND r.emitida_en = now()) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'La receta % ya fue emitida: no se le agregan medicamentos.', NEW.receta_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'receta_emitida_inmutable';
    END IF;
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM ficha_receta r JOIN ficha_resguardo g ON g.cliente_id = r.cliente_id
        WHERE r.id = OLD.receta_id AND r.emitida_en < now() - interval '15 years'
          AND g.conservar_hasta < CURRENT_DATE
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'La receta % está emitida: sus medicamentos no se pueden modificar ni eliminar.', OLD.receta_id
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'receta_emitida_inmutable';
"""


class ContadorFolio(models.Model):
    """The last folio given in a numbered series (table ``ficha_contadorfolio``): one row per
    series (``receta``), taken with an ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` that locks
    the row, so concurrent prescriptions get consecutive numbers, none twice, and a rolled-back
    one gives its number back. One clinic per database: with a ``clinica_id`` it joins the key."""

    serie = models.CharField("serie", max_length=20, primary_key=True)
    ultimo = models.PositiveIntegerField("último folio", default=0)

    class Meta:
        verbose_name = "contador de folios"
        verbose_name_plural = "contadores de folios"

    def __str__(self):
        return f"{self.serie}: {self.ultimo}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Receta(models.Model):
    """A prescription (table ``ficha_receta``), issued at once from one form (no draft: it is
    written at the chair and printed for the patient, and a half-written one would be one more
    state to hide from the portal and the copy). It keeps the dentist's professional data as they
    were when it was issued. An error is corrected by annulling it (once, with a reason: the row
    stays) and issuing a new one."""

    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT, related_name="recetas"
    )
    dentista = models.ForeignKey(
        "personal.Perfil", verbose_name="dentista", on_delete=models.PROTECT, related_name="recetas"
    )
    evolucion = models.ForeignKey(
        Evolucion, verbose_name="evolución de la visita", on_delete=models.PROTECT, null=True, blank=True,
        related_name="recetas",
    )
    folio = models.PositiveIntegerField("folio", unique=True)
    emitida_en = models.DateTimeField("emitida el", db_default=Now())
    indicaciones = models.TextField("indicaciones generales", blank=True, default="", db_default="")
    dentista_nombre = models.CharField("nombre del dentista", max_length=300)
    dentista_rut = models.CharField("RUT del dentista", max_length=12)
    dentista_registro = models.CharField("registro en la Superintendencia de Salud", max_length=10)
    dentista_especialidad = models.CharField("especialidad", max_length=120, blank=True, default="", db_default="")
    anulada_en = models.DateTimeField("anulada el", null=True, blank=True)
    anulada_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="anulada por", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    motivo_anulacion = models.TextField("motivo de la anulación", blank=True, default="", db_default="")

    class Meta:
        verbose_name = "receta"
        verbose_name_plural = "recetas"
        constraints = [
            models.CheckConstraint(
                condition=(Q(anulada_en__isnull=True) & Q(anulada_por__isnull=True) & Q(motivo_anulacion=""))
                | (Q(anulada_en__isnull=False) & Q(anulada_por__isnull=False) & Q(motivo_anulacion__regex=r"\S")),
                name="receta_anulacion_completa",
                violation_error_code="motivo_requerido",
                violation_error_message="Para anular la receta indique el motivo.",
            ),
            models.CheckConstraint(
                condition=Q(dentista_rut__regex=r"^[1-9][0-9]{0,7}-[0-9K]$")
                & Q(dentista_registro__regex=r"^[0-9]{1,10}$"),
                name="receta_datos_del_dentista",
                violation_error_code="dentista_sin_datos",
                violation_error_message="La receta lleva el RUT y el registro en la Superintendencia de Salud "
                                        "del dentista.",
            ),
        ]
        indexes = [models.Index(fields=["cliente", "-emitida_en"], name="receta_cliente_idx")]
        triggers = [
            pgtrigger.Trigger(
                name="receta_emitida_inmutable",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                func=_SQL_RECETA_EMITIDA,
            ),
        ]

    def __str__(self):
        return f"Receta N° {self.folio} de {self.cliente_id}"

    @property
    def anulada(self) -> bool:
        return self.anulada_en is not None


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class RecetaMedicamento(models.Model):
    """One "Rp." line of a prescription (table ``ficha_recetamedicamento``), in ``orden``."""

    receta = models.ForeignKey(Receta, verbose_name="receta", on_delete=models.CASCADE, related_name="medicamentos")
    orden = models.PositiveSmallIntegerField("orden")
    medicamento = models.CharField("medicamento", max_length=200)
    presentacion = models.CharField("presentación", max_length=120, blank=True, default="", db_default="")
    dosis = models.CharField("dosis", max_length=120, blank=True, default="", db_default="")
    frecuencia = models.CharField("frecuencia", max_length=120, blank=True, default="", db_default="")
    duracion_dias = models.PositiveSmallIntegerField("duración (días)", null=True, blank=True)
    indicaciones = models.CharField("indicaciones", max_length=500, blank=True, default="", db_default="")

    class Meta:
        verbose_name = "medicamento de la receta"
        verbose_name_plural = "medicamentos de la receta"
        constraints = [
            models.UniqueConstraint(fields=["receta", "orden"], name="receta_medicamento_orden_unico"),
            models.CheckConstraint(
                condition=Q(medicamento__regex=r"\S"), name="receta_medicamento_con_nombre",
                violation_error_code="medicamento_requerido",
                violation_error_message="Escriba el nombre del medicamento.",
            ),
            models.CheckConstraint(
                condition=Q(duracion_dias__isnull=True) | Q(duracion_dias__gte=1, duracion_dias__lte=365),
                name="receta_medicamento_duracion",
                violation_error_code="duracion_invalida",
                violation_error_message="La duración va de 1 a 365 días.",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="receta_linea_inmutable",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                func=_SQL_RECETA_LINEA,
            ),
        ]

    def __str__(self):
        return f"{self.orden}. {self.medicamento}"




# --- Odontograma (issue 16) -------------------------------------------------------------------

class Superficie(models.TextChoices):
    """A tooth's surface in a mark; ``""`` is the whole tooth."""

    DIENTE = "", "Diente completo"
    OCLUSAL = "O", "Oclusal / incisal"
    MESIAL = "M", "Mesial"
    DISTAL = "D", "Distal"
    VESTIBULAR = "V", "Vestibular"
    LINGUAL = "L", "Lingual / palatino"


class EstadoDental(models.TextChoices):
    """What a mark says. The first four are of a surface, the rest of the whole tooth
    (``ESTADOS_DE_SUPERFICIE``; a check constraint ties each to ``superficie``)."""

    CARIES = "caries", "Caries"
    OBTURACION = "obturacion", "Obturación"
    SELLANTE = "sellante", "Sellante"
    FRACTURA = "fractura", "Fractura"
    CORONA = "corona", "Corona"
    ENDODONCIA = "endodoncia", "Endodoncia"
    AUSENTE = "ausente", "Ausente"
    IMPLANTE = "implante", "Implante"
    EXTRACCION = "extraccion", "Extracción indicada"


ESTADOS_DE_SUPERFICIE = [EstadoDental.CARIES, EstadoDental.OBTURACION, EstadoDental.SELLANTE, EstadoDental.FRACTURA]
ESTADOS_DE_DIENTE = [e for e in EstadoDental if e not in ESTADOS_DE_SUPERFICIE]


class Condicion(models.TextChoices):
    """Drawn as Chilean dentists expect: red what is found (to treat), blue what is done."""

    HALLAZGO = "hallazgo", "Hallazgo (por tratar)"
    REALIZADO = "realizado", "Realizado / existente"


# Marks are the odontogram's history: never changed, never deleted. Two exceptions, each exact:
# the note a mark was linked to is a draft its author discarded (the foreign key's SET_NULL, an
# UPDATE before the DELETE: only ``evolucion_id`` goes from a value to NULL, every other column
# equal), and the purge of a record whose legal hold expired, of marks older than the law's 15
# years (as ``evolucion_firmada_inmutable``).
_SQL_MARCA_INMUTABLE = """
    IF TG_OP = 'UPDATE' AND OLD.evolucion_id IS NOT NULL AND NEW.evolucion_id IS NULL
       AND (to_jsonb(NEW) - 'evolucion_id') = (to_jsonb(OLD) - 'evolucion_id') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND OLD.registrado_en < now() - interval '15 years' AND EXISTS (
        SELECT 1 FROM ficha_resguardo r
        WHERE r.cliente_id = OLD.cliente_id AND r.conservar_hasta < CURRENT_DATE
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'Las marcas del odontograma no se modifican ni se eliminan: registre un cambio nuevo.'
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'marca_odontograma_inmutable';
"""


class MarcaOdontograma(models.Model):
    """One change of a patient's odontogram (table ``ficha_marcaodontograma``), append-only: a
    tooth (FDI), a surface (``""`` = the whole tooth), a state, its condition (finding or done)
    and whether the mark is in force (``vigente`` False: the mark was removed). The state of the
    mouth at an instant is, for each (tooth, surface, state), the latest change up to then, kept
    when in force (``ficha.odontograma.estado_en``): the odontogram as it was on any past date
    comes from its own history. ``registrado_en`` is the database's clock at the INSERT
    (``clock_timestamp()``, not the transaction's start), taken under the tooth's lock, so the
    order of the changes of one tooth is the order they were written in. No pghistory events:
    the table is its own history (who and when on every row)."""

    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT, related_name="marcas_odontograma"
    )
    diente = models.PositiveSmallIntegerField("diente (FDI)")
    superficie = models.CharField("cara", max_length=1, choices=Superficie.choices, blank=True, default="")
    estado = models.CharField("estado", max_length=12, choices=EstadoDental.choices)
    condicion = models.CharField("condición", max_length=10, choices=Condicion.choices)
    vigente = models.BooleanField("vigente", default=True)
    evolucion = models.ForeignKey(
        Evolucion, verbose_name="evolución", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="marcas_odontograma",
    )
    registrado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="registrado por", on_delete=models.PROTECT, related_name="+"
    )
    registrado_en = models.DateTimeField(
        "registrado el", db_default=models.Func(function="clock_timestamp", output_field=models.DateTimeField())
    )
    nota = models.CharField("nota", max_length=200, blank=True, default="")

    class Meta:
        verbose_name = "marca del odontograma"
        verbose_name_plural = "marcas del odontograma"
        constraints = [
            models.CheckConstraint(
                condition=Q(diente__in=DIENTES_FDI),
                name="marca_diente_fdi",
                violation_error_code="diente_invalido",
                violation_error_message="Los dientes se indican con la numeración FDI (11 a 48; temporales 51 a 85).",
            ),
            models.CheckConstraint(
                condition=Q(superficie__in=Superficie.values),
                name="marca_superficie_valida",
                violation_error_code="superficie_invalida",
                violation_error_message="La cara debe ser O, M, D, V o L (o el diente completo).",
            ),
            models.CheckConstraint(
                condition=Q(condicion__in=Condicion.values),
                name="marca_condicion_valida",
                violation_error_code="condicion_invalida",
                violation_error_message="Indique si es un hallazgo o un trabajo realizado.",
            ),
            models.CheckConstraint(
                condition=(Q(estado__in=ESTADOS_DE_SUPERFICIE) & ~Q(superficie=""))
                | (Q(estado__in=ESTADOS_DE_DIENTE) & Q(superficie="")),
                name="marca_estado_y_cara",
                violation_error_code="estado_invalido",
                violation_error_message="Ese estado no corresponde a esa cara (caries, obturación, sellante y "
                                        "fractura van en una cara; los demás, en el diente completo).",
            ),
        ]
        indexes = [
            # The state at an instant: DISTINCT ON (diente, superficie, estado), latest first.
            models.Index(fields=["cliente", "diente", "superficie", "estado", "-registrado_en", "-id"],
                         name="marca_estado_idx"),
            # The history page, newest first.
            models.Index(fields=["cliente", "-registrado_en", "-id"], name="marca_historial_idx"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="marca_odontograma_inmutable",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                func=_SQL_MARCA_INMUTABLE,
            ),
        ]

    def __str__(self):
        cara = f" {self.superficie}" if self.superficie else ""
        return f"Diente {self.diente}{cara}: {self.estado} ({self.condicion})"




# Informed consents (Ley 20.584 art. 14) ---------------------------------------------------------


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class PlantillaConsentimiento(ConFechas):
    """A consent template the clinic keeps per procedure (table ``ficha_plantillaconsentimiento``):
    what the procedure is, its risks and alternatives. Never deleted (issued consents name it);
    a template no longer used is deactivated. Editing it never changes a consent already issued:
    the consent keeps its own copy of the text."""

    nombre = models.CharField("nombre", max_length=120)
    procedimiento = models.CharField("procedimiento", max_length=200)
    texto = models.TextField("texto (riesgos, alternativas, cuidados)")
    activa = models.BooleanField("activa", default=True, db_default=True)
    actualizado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="actualizada por", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "plantilla de consentimiento"
        verbose_name_plural = "plantillas de consentimiento"
        constraints = [
            models.CheckConstraint(
                condition=Q(nombre__regex=r"\S") & Q(procedimiento__regex=r"\S") & Q(texto__regex=r"\S"),
                name="plantilla_consentimiento_completa",
                violation_error_code="plantilla_incompleta",
                violation_error_message="Escriba el nombre, el procedimiento y el texto de la plantilla.",
            ),
            models.UniqueConstraint(
                models.functions.Lower("nombre"), condition=Q(activa=True),
                name="plantilla_consentimiento_nombre_unico",
                violation_error_code="plantilla_duplicada",
                violation_error_message="Ya hay una plantilla activa con ese nombre.",
            ),
        ]

    def __str__(self):
        return self.nombre


class EstadoConsentimiento(models.TextChoices):
    EMITIDO = "emitido", "Emitido (por aceptar)"
    ACEPTADO = "aceptado", "Aceptado"
    REVOCADO = "revocado", "Revocado"
    ANULADO = "anulado", "Anulado"


class FormaAceptacion(models.TextChoices):
    ESCANEO = "escaneo", "Documento firmado y escaneado"
    FIRMA = "firma", "Firma en pantalla"


class RelacionFirmante(models.TextChoices):
    PACIENTE = "paciente", "El propio paciente"
    PADRE_MADRE = "padre_madre", "Padre o madre"
    TUTOR = "tutor", "Tutor o curador legal"
    APODERADO = "apoderado", "Apoderado con poder"


# Columns fixed at issue (the text the patient reads): never changed, in any state.
COLUMNAS_EMITIDAS = ("cliente_id", "plantilla_id", "dentista_id", "titulo", "procedimiento", "texto",
                     "emitido_en", "emitido_por_id")

# After acceptance nothing changes except the one-time revocation (aceptado → revocado, its own
# three columns); an annulled consent is final too. No DELETE, except the purge of a record
# whose legal hold expired, of consents issued more than 15 years ago (as signed notes).
_SQL_CONSENTIMIENTO_INMUTABLE = f"""
    IF TG_OP = 'DELETE' THEN
        IF OLD.emitido_en < now() - interval '15 years' AND EXISTS (
            SELECT 1 FROM ficha_resguardo r
            WHERE r.cliente_id = OLD.cliente_id AND r.conservar_hasta < CURRENT_DATE
        ) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'El consentimiento % es parte de la ficha: no se puede eliminar.', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'consentimiento_inmutable';
    END IF;
    IF {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in COLUMNAS_EMITIDAS)} THEN
        RAISE EXCEPTION 'El texto emitido del consentimiento % no se puede modificar.', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'consentimiento_inmutable';
    END IF;
    IF OLD.estado = 'emitido' THEN
        RETURN NEW;
    END IF;
    IF OLD.estado = 'aceptado' AND NEW.estado = 'revocado'
       AND (to_jsonb(NEW) - ARRAY['estado', 'revocado_en', 'revocado_por_id', 'revocacion_motivo', 'actualizado'])
           = (to_jsonb(OLD) - ARRAY['estado', 'revocado_en', 'revocado_por_id', 'revocacion_motivo', 'actualizado'])
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'El consentimiento % está %: no se puede modificar.', OLD.id, OLD.estado
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'consentimiento_inmutable';
"""

_ACEPTADO = (Q(aceptado_en__isnull=False) & Q(firmante_nombre__regex=r"\S") & ~Q(firmante_rut="")
             & ~Q(firmante_relacion="") & ~Q(aceptado_ante_nombre="")
             & ((Q(forma=FormaAceptacion.FIRMA) & Q(firma_trazos__isnull=False) & Q(documento__isnull=True))
                | (Q(forma=FormaAceptacion.ESCANEO) & Q(documento__isnull=False) & Q(firma_trazos__isnull=True))))
_SIN_ACEPTAR = (Q(aceptado_en__isnull=True) & Q(forma="") & Q(firmante_nombre="") & Q(firmante_rut="")
                & Q(firma_trazos__isnull=True) & Q(documento__isnull=True))
_SIN_REVOCAR = Q(revocado_en__isnull=True) & Q(revocacion_motivo="")
_SIN_ANULAR = Q(anulado_en__isnull=True) & Q(anulacion_motivo="")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Consentimiento(ConFechas):
    """An informed consent issued to a patient by a dentist (table ``ficha_consentimiento``), with
    the template's text copied at issue. States: ``emitido`` → ``aceptado`` → ``revocado``, or
    ``emitido`` → ``anulado`` (issued by mistake, with a reason). Acceptance records the signer
    (the patient or their legal representative: name, RUT, relation), when (the database's
    clock), before whom (the staff user, and their name as it was) and how: a signed scan (a
    ``ClienteDocumento`` of the patient) or a signature drawn on screen (``firma_trazos``:
    strokes of points in a 1000 × 400 box). The trigger ``consentimiento_inmutable`` keeps the
    issued text fixed from issue and everything fixed after acceptance but the one revocation."""

    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT,
        related_name="consentimientos_informados",
    )
    plantilla = models.ForeignKey(
        PlantillaConsentimiento, verbose_name="plantilla", on_delete=models.PROTECT, related_name="consentimientos"
    )
    dentista = models.ForeignKey(
        "personal.Perfil", verbose_name="dentista", on_delete=models.PROTECT, related_name="consentimientos"
    )
    titulo = models.CharField("título", max_length=120)
    procedimiento = models.CharField("procedimiento", max_length=200)
    texto = models.TextField("texto emitido")
    estado = models.CharField("estado", max_length=10, choices=EstadoConsentimiento.choices,
                              default=EstadoConsentimiento.EMITIDO, db_default=EstadoConsentimiento.EMITIDO)
    emitido_en = models.DateTimeField("emitido el", db_default=Now())
    emitido_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="emitido por", on_delete=models.PROTECT, related_name="+"
    )
    aceptado_en = models.DateTimeField("aceptado el", null=True, blank=True)
    aceptado_ante = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="aceptado ante", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    aceptado_ante_nombre = models.CharField("aceptado ante (nombre)", max_length=200, blank=True, default="",
                                            db_default="")
    forma = models.CharField("forma de aceptación", max_length=10, choices=FormaAceptacion.choices, blank=True,
                             default="", db_default="")
    firmante_nombre = models.CharField("firmante", max_length=200, blank=True, default="", db_default="")
    # The signer's RUT in normal form, or, for a patient without a RUT who signs for themself,
    # their identity document as the record shows it ("Pasaporte AB123456 (Argentina)").
    firmante_rut = models.CharField("RUT o documento del firmante", max_length=80, blank=True, default="",
                                    db_default="")
    firmante_relacion = models.CharField("relación con el paciente", max_length=20, choices=RelacionFirmante.choices,
                                         blank=True, default="", db_default="")
    firma_trazos = models.JSONField("firma (trazos)", null=True, blank=True)
    documento = models.ForeignKey(
        "pacientes.ClienteDocumento", verbose_name="documento firmado", on_delete=models.PROTECT, null=True,
        blank=True, related_name="consentimientos",
    )
    revocado_en = models.DateTimeField("revocado el", null=True, blank=True)
    revocado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="revocación registrada por", on_delete=models.PROTECT, null=True,
        blank=True, related_name="+",
    )
    revocacion_motivo = models.TextField("motivo de la revocación", blank=True, default="", db_default="")
    anulado_en = models.DateTimeField("anulado el", null=True, blank=True)
    anulado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="anulado por", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    anulacion_motivo = models.TextField("motivo de la anulación", blank=True, default="", db_default="")

    class Meta:
        verbose_name = "consentimiento informado"
        verbose_name_plural = "consentimientos informados"
        constraints = [
            models.CheckConstraint(
                condition=(Q(estado=EstadoConsentimiento.EMITIDO) & _SIN_ACEPTAR & _SIN_REVOCAR & _SIN_ANULAR)
                | (Q(estado=EstadoConsentimiento.ACEPTADO) & _ACEPTADO & _SIN_REVOCAR & _SIN_ANULAR)
                | (Q(estado=EstadoConsentimiento.REVOCADO) & _ACEPTADO & Q(revocado_en__isnull=False)
                   & Q(revocacion_motivo__regex=r"\S") & _SIN_ANULAR)
                | (Q(estado=EstadoConsentimiento.ANULADO) & _SIN_ACEPTAR & _SIN_REVOCAR
                   & Q(anulado_en__isnull=False) & Q(anulacion_motivo__regex=r"\S")),
                name="consentimiento_estado_coherente",
                violation_error_code="estado_incoherente",
                violation_error_message="Los datos del consentimiento no corresponden a su estado.",
            ),
            models.CheckConstraint(
                condition=Q(texto__regex=r"\S"),
                name="consentimiento_con_texto",
                violation_error_code="consentimiento_vacio",
                violation_error_message="El consentimiento no tiene texto.",
            ),
        ]
        indexes = [models.Index(fields=["cliente", "-emitido_en"], name="consentimiento_cliente_idx")]
        triggers = [
            pgtrigger.Trigger(
                name="consentimiento_inmutable",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                func=_SQL_CONSENTIMIENTO_INMUTABLE,
            ),
        ]

    def __str__(self):
        return f"Consentimiento {self.pk} ({self.titulo}) de {self.cliente_id}"

    @property
    def firmante_documento(self) -> str:
        """"RUT 12.345.678-5", or the identity document of a patient without a RUT."""
        if re.match(RUT_NORMAL, self.firmante_rut):
            return f"RUT {rut_legible(self.firmante_rut)}"
        return self.firmante_rut
