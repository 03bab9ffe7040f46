"""Treatment plans and quotes (presupuestos).

A plan (``PlanTratamiento``) is the dentist's proposal for one patient: items of prestación ×
tooth/surface, each with its price and discount, in phases and an order. Reception issues a
quote (``Presupuesto``) from the plan's open items: a numbered, dated snapshot with a validity
date, which never changes after it is issued (trigger ``presupuesto_emitido_inmutable``); a change
of prices or items is a new version of the same number. When the patient accepts a quote (on the
portal or at the desk), its items' prices become the plan items' prices and the items become
pending work (``aceptado``); a dentist marks an item done (``realizado``) from a progress note,
and a done item is what the patient is charged (``pagos`` builds the account statement).

Money is integer CLP (``prestaciones.models.PRECIO_MAXIMO`` bounds a line). Every total is
computed by PostgreSQL: a line's ``total`` is a generated column (``precio - descuento``), and a
quote's totals are the SUM of its lines, written in the issuing statement and checked at commit
by the deferred trigger ``presupuesto_total_cuadra``.
"""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from ficha.models import DIENTES_FDI, Superficie
from nucleo.models import ConFechas
from prestaciones.models import PRECIO_MAXIMO

# A quote has at most this many lines, so its total stays far inside an int4 column.
MAXIMO_ITEMS = 500


def _total_de_linea():
    return models.GeneratedField(
        expression=F("precio") - F("descuento"), output_field=models.IntegerField(), db_persist=True,
        verbose_name="total",
    )


def _restricciones_de_precio(prefijo: str):
    return [
        models.CheckConstraint(
            condition=Q(precio__gte=0, precio__lte=PRECIO_MAXIMO),
            name=f"{prefijo}_precio_valido",
            violation_error_code="precio_invalido",
            violation_error_message="El precio debe estar entre $0 y $100.000.000.",
        ),
        models.CheckConstraint(
            condition=Q(descuento__gte=0, descuento__lte=F("precio")),
            name=f"{prefijo}_descuento_valido",
            violation_error_code="descuento_invalido",
            violation_error_message="El descuento no puede ser negativo ni mayor que el precio.",
        ),
    ]


class EstadoPlan(models.TextChoices):
    VIGENTE = "vigente", "Vigente"
    TERMINADO = "terminado", "Terminado"
    ANULADO = "anulado", "Anulado"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class PlanTratamiento(ConFechas):
    """A patient's treatment plan (table ``tratamientos_plantratamiento``), written by a
    dentist. Plans are never deleted: they are ended or annulled."""

    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT, related_name="planes_tratamiento"
    )
    dentista = models.ForeignKey(
        "personal.Perfil", verbose_name="dentista", on_delete=models.PROTECT, related_name="planes_tratamiento"
    )
    titulo = models.CharField("título", max_length=120, default="Plan de tratamiento")
    estado = models.CharField("estado", max_length=10, choices=EstadoPlan.choices, default=EstadoPlan.VIGENTE)
    observaciones = models.CharField("observaciones", max_length=500, blank=True, default="")

    class Meta:
        verbose_name = "plan de tratamiento"
        verbose_name_plural = "planes de tratamiento"
        ordering = ["-creado", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(estado__in=EstadoPlan.values), name="plan_estado_valido",
                violation_error_code="estado_invalido", violation_error_message="Estado de plan desconocido.",
            ),
            models.CheckConstraint(
                condition=Q(titulo__regex=r"\S"), name="plan_con_titulo",
                violation_error_code="titulo_requerido", violation_error_message="Indique un título para el plan.",
            ),
        ]
        indexes = [models.Index(fields=["cliente", "-creado"], name="plan_cliente_idx")]

    def __str__(self):
        return f"{self.titulo} ({self.cliente_id})"


class EstadoItem(models.TextChoices):
    PROPUESTO = "propuesto", "Propuesto"
    ACEPTADO = "aceptado", "Por realizar"
    REALIZADO = "realizado", "Realizado"
    CANCELADO = "cancelado", "Cancelado"


# Once an item is accepted (its price is the accepted quote's) or done (it is charged), what it
# is and what it costs never change; it may only go forward: aceptado → realizado or cancelado.
# A done item is final. Items are never deleted once they are in a quote (the quote's lines
# PROTECT them); a proposed item that never was may be deleted.
_SQL_ITEM_FIJO = """
    IF TG_OP = 'DELETE' THEN
        IF OLD.estado = 'propuesto' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'El ítem % del plan ya fue aceptado o realizado: no se elimina (cancélelo).', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'item_plan_fijo';
    END IF;
    IF OLD.estado = 'propuesto' THEN
        RETURN NEW;
    END IF;
    IF OLD.estado IN ('realizado', 'cancelado') AND NEW.estado IS DISTINCT FROM OLD.estado THEN
        RAISE EXCEPTION 'El ítem % del plan ya está %: no cambia de estado.', OLD.id, OLD.estado
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'item_plan_fijo';
    END IF;
    IF (NEW.prestacion_id, NEW.diente, NEW.superficie, NEW.precio, NEW.descuento, NEW.plan_id)
       IS DISTINCT FROM (OLD.prestacion_id, OLD.diente, OLD.superficie, OLD.precio, OLD.descuento, OLD.plan_id) THEN
        RAISE EXCEPTION 'El ítem % del plan ya fue aceptado: su prestación y su precio no cambian.', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'item_plan_fijo';
    END IF;
    RETURN NEW;
"""


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ItemPlan(ConFechas):
    """One item of a plan (table ``tratamientos_itemplan``): a prestación, on a tooth and
    surface or on the whole mouth, with its price and discount (integer CLP) and ``total``
    computed by PostgreSQL. ``hallazgo`` is the odontogram finding it was made from (one
    click on the plan page). ``evolucion`` is the progress note it was done in."""

    plan = models.ForeignKey(PlanTratamiento, verbose_name="plan", on_delete=models.PROTECT, related_name="items")
    prestacion = models.ForeignKey(
        "prestaciones.Prestacion", verbose_name="prestación", on_delete=models.PROTECT, related_name="+"
    )
    diente = models.PositiveSmallIntegerField("diente (FDI)", null=True, blank=True)
    superficie = models.CharField("cara", max_length=1, choices=Superficie.choices, blank=True, default="")
    hallazgo = models.ForeignKey(
        "ficha.MarcaOdontograma", verbose_name="hallazgo del odontograma", on_delete=models.SET_NULL,
        null=True, blank=True, related_name="items_plan",
    )
    fase = models.PositiveSmallIntegerField("fase", default=1)
    orden = models.PositiveSmallIntegerField("orden", default=0)
    precio = models.IntegerField("precio (CLP)")
    descuento = models.IntegerField("descuento (CLP)", default=0)
    total = _total_de_linea()
    estado = models.CharField("estado", max_length=10, choices=EstadoItem.choices, default=EstadoItem.PROPUESTO)
    aceptado_en = models.DateTimeField("aceptado el", null=True, blank=True)
    realizado_en = models.DateTimeField("realizado el", null=True, blank=True)
    realizado_por = models.ForeignKey(
        "personal.Perfil", verbose_name="realizado por", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    evolucion = models.ForeignKey(
        "ficha.Evolucion", verbose_name="evolución", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="items_plan",
    )

    class Meta:
        verbose_name = "ítem del plan"
        verbose_name_plural = "ítems del plan"
        ordering = ["fase", "orden", "pk"]
        constraints = [
            *_restricciones_de_precio("item_plan"),
            models.CheckConstraint(
                condition=Q(estado__in=EstadoItem.values), name="item_plan_estado_valido",
                violation_error_code="estado_invalido", violation_error_message="Estado de ítem desconocido.",
            ),
            models.CheckConstraint(
                condition=Q(diente__isnull=True) | Q(diente__in=DIENTES_FDI),
                name="item_plan_diente_fdi",
                violation_error_code="diente_invalido",
                violation_error_message="Los dientes se indican con la numeración FDI (11 a 48; temporales 51 a 85).",
            ),
            models.CheckConstraint(
                condition=Q(superficie="") | (Q(superficie__in=Superficie.values) & Q(diente__isnull=False)),
                name="item_plan_cara_con_diente",
                violation_error_code="superficie_invalida",
                violation_error_message="Una cara (O, M, D, V o L) va con su diente.",
            ),
            models.CheckConstraint(
                condition=Q(fase__gte=1, fase__lte=9), name="item_plan_fase_valida",
                violation_error_code="fase_invalida", violation_error_message="La fase va de 1 a 9.",
            ),
            # Done ⇔ when and by whom; accepted or done ⇔ accepted when (an item done without a
            # quote, such as an emergency, is accepted at that moment).
            models.CheckConstraint(
                condition=(Q(estado=EstadoItem.REALIZADO) & Q(realizado_en__isnull=False)
                           & Q(realizado_por__isnull=False))
                | (~Q(estado=EstadoItem.REALIZADO) & Q(realizado_en__isnull=True) & Q(realizado_por__isnull=True)),
                name="item_plan_realizado_completo",
                violation_error_code="realizado_incompleto",
                violation_error_message="Un ítem realizado dice cuándo y quién lo realizó.",
            ),
            models.CheckConstraint(
                condition=Q(estado__in=(EstadoItem.PROPUESTO, EstadoItem.CANCELADO)) | Q(aceptado_en__isnull=False),
                name="item_plan_aceptado_con_fecha",
                violation_error_code="aceptado_sin_fecha",
                violation_error_message="Un ítem por realizar o realizado dice cuándo se aceptó.",
            ),
        ]
        indexes = [
            models.Index(fields=["plan", "fase", "orden"], name="item_plan_orden_idx"),
            # The account statement's charges: a patient's done items.
            models.Index(fields=["estado", "realizado_en"], name="item_plan_estado_idx"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="item_plan_fijo", when=pgtrigger.Before, operation=pgtrigger.Update | pgtrigger.Delete,
                func=_SQL_ITEM_FIJO,
            ),
        ]

    def __str__(self):
        donde = f" · diente {self.diente}{self.superficie}" if self.diente else ""
        return f"{self.prestacion_id}{donde} ({self.get_estado_display()})"


class EstadoPresupuesto(models.TextChoices):
    EMITIDO = "emitido", "Emitido"
    ACEPTADO = "aceptado", "Aceptado"
    RECHAZADO = "rechazado", "Rechazado"
    REEMPLAZADO = "reemplazado", "Reemplazado por otra versión"


class ViaRespuesta(models.TextChoices):
    PORTAL = "portal", "En el portal"
    RECEPCION = "recepcion", "En recepción"


# An issued quote never changes: only its one answer (emitido → aceptado / rechazado, with when,
# how, who and why) or its replacement by a newer version (emitido → reemplazado); nothing else,
# and never a DELETE. ``emitido_en`` is the transaction's ``now()`` on INSERT, which its lines
# compare to: lines are only added in the issuing transaction (``presupuesto_linea_inmutable``).
# ``total`` is left out of the comparison: a generated column is NULL in a BEFORE trigger's NEW
# (PostgreSQL computes it afterwards from the columns compared here).
_SQL_PRESUPUESTO_INMUTABLE = """
    IF TG_OP = 'INSERT' THEN
        NEW.emitido_en := now();
        NEW.estado := 'emitido';
        NEW.respondido_en := NULL;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.estado = 'emitido' AND NEW.estado IN ('aceptado', 'rechazado', 'reemplazado')
       AND (to_jsonb(NEW) - ARRAY['estado', 'respondido_en', 'via', 'respondido_por_id', 'motivo_rechazo', 'total'])
           = (to_jsonb(OLD) - ARRAY['estado', 'respondido_en', 'via', 'respondido_por_id', 'motivo_rechazo', 'total']) THEN
        NEW.respondido_en := clock_timestamp();
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'El presupuesto % ya fue emitido: no se modifica ni se elimina (emita una nueva versión).', OLD.id
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'presupuesto_emitido_inmutable';
"""

_SQL_LINEA_INMUTABLE = """
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM tratamientos_presupuesto p WHERE p.id = NEW.presupuesto_id AND p.emitido_en = now()) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'El presupuesto % ya fue emitido: no se le agregan líneas.', NEW.presupuesto_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'presupuesto_emitido_inmutable';
    END IF;
    RAISE EXCEPTION 'El presupuesto % ya fue emitido: sus líneas no se modifican ni se eliminan.', OLD.presupuesto_id
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'presupuesto_emitido_inmutable';
"""

# At commit (a deferred constraint trigger): the quote's totals are the sums of its lines, it has
# at least one line, and its lines are of its own plan. Whatever wrote it (the service, raw SQL),
# a quote whose numbers do not add up is never committed.
_SQL_TOTAL_CUADRA = """
    IF NOT EXISTS (
        SELECT 1 FROM tratamientos_itempresupuesto l WHERE l.presupuesto_id = NEW.id
    ) OR NEW.subtotal IS DISTINCT FROM (
        SELECT sum(l.precio) FROM tratamientos_itempresupuesto l WHERE l.presupuesto_id = NEW.id
    ) OR NEW.descuento IS DISTINCT FROM (
        SELECT sum(l.descuento) FROM tratamientos_itempresupuesto l WHERE l.presupuesto_id = NEW.id
    ) OR EXISTS (
        SELECT 1 FROM tratamientos_itempresupuesto l JOIN tratamientos_itemplan i ON i.id = l.item_plan_id
         WHERE l.presupuesto_id = NEW.id AND i.plan_id <> NEW.plan_id
    ) OR NOT EXISTS (
        SELECT 1 FROM tratamientos_plantratamiento t WHERE t.id = NEW.plan_id AND t.cliente_id = NEW.cliente_id
    ) THEN
        RAISE EXCEPTION 'El presupuesto % no cuadra con sus líneas.', NEW.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'presupuesto_total_cuadra';
    END IF;
    RETURN NULL;
"""


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Presupuesto(models.Model):
    """A quote (table ``tratamientos_presupuesto``): number and version (``numero`` from the
    folio counter, the same for every version of one quote), the day it was issued and the day
    it is valid until, its lines and totals (integer CLP, sums computed by PostgreSQL), and the
    patient's one answer: accepted or rejected, when (the database clock), how (portal or
    desk), who recorded it, and why when rejected. Immutable once issued (trigger)."""

    plan = models.ForeignKey(PlanTratamiento, verbose_name="plan", on_delete=models.PROTECT, related_name="presupuestos")
    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT, related_name="presupuestos"
    )
    numero = models.PositiveIntegerField("número")
    version = models.PositiveSmallIntegerField("versión", default=1)
    emitido_en = models.DateTimeField("emitido el", db_default=models.Func(function="now", output_field=models.DateTimeField()))
    emitido_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="emitido por", on_delete=models.PROTECT, related_name="+"
    )
    valido_hasta = models.DateField("válido hasta")
    subtotal = models.IntegerField("subtotal (CLP)")
    descuento = models.IntegerField("descuento (CLP)")
    total = models.GeneratedField(
        expression=F("subtotal") - F("descuento"), output_field=models.IntegerField(), db_persist=True,
        verbose_name="total",
    )
    estado = models.CharField(
        "estado", max_length=12, choices=EstadoPresupuesto.choices, default=EstadoPresupuesto.EMITIDO
    )
    respondido_en = models.DateTimeField("respondido el", null=True, blank=True)
    via = models.CharField("respondido", max_length=10, choices=ViaRespuesta.choices, blank=True, default="")
    respondido_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="registrado por", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    motivo_rechazo = models.CharField("motivo del rechazo", max_length=300, blank=True, default="")
    observaciones = models.CharField("observaciones", max_length=500, blank=True, default="")

    class Meta:
        verbose_name = "presupuesto"
        verbose_name_plural = "presupuestos"
        ordering = ["-numero", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["numero", "version"], name="presupuesto_numero_version_unico",
                                    violation_error_code="numero_duplicado",
                                    violation_error_message="Ya existe un presupuesto con ese número y versión."),
            # Of one quote number, one version at most is still open or accepted.
            models.UniqueConstraint(
                fields=["numero"], condition=Q(estado__in=("emitido", "aceptado")),
                name="presupuesto_una_version_vigente",
                violation_error_code="version_vigente",
                violation_error_message="Ese presupuesto ya tiene una versión vigente.",
            ),
            models.CheckConstraint(
                condition=Q(estado__in=EstadoPresupuesto.values), name="presupuesto_estado_valido",
                violation_error_code="estado_invalido", violation_error_message="Estado de presupuesto desconocido.",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, descuento__gte=0, descuento__lte=F("subtotal")),
                name="presupuesto_totales_validos",
                violation_error_code="total_invalido",
                violation_error_message="Los totales del presupuesto no son válidos.",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="presupuesto_version_valida",
                violation_error_code="version_invalida", violation_error_message="La versión parte en 1.",
            ),
            # An answer is complete: when and how; a rejection may say why; the desk says who.
            models.CheckConstraint(
                condition=(Q(estado__in=("aceptado", "rechazado")) & Q(respondido_en__isnull=False) & ~Q(via=""))
                | (Q(estado__in=("emitido", "reemplazado")) & Q(via="")),
                name="presupuesto_respuesta_completa",
                violation_error_code="respuesta_incompleta",
                violation_error_message="La respuesta del paciente dice cuándo y cómo se dio.",
            ),
            models.CheckConstraint(
                condition=~Q(via=ViaRespuesta.RECEPCION) | Q(respondido_por__isnull=False),
                name="presupuesto_recepcion_con_quien",
                violation_error_code="respuesta_incompleta",
                violation_error_message="Una respuesta en recepción dice quién la registró.",
            ),
        ]
        indexes = [models.Index(fields=["cliente", "-emitido_en"], name="presupuesto_cliente_idx")]
        triggers = [
            pgtrigger.Trigger(
                name="presupuesto_emitido_inmutable", when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                func=_SQL_PRESUPUESTO_INMUTABLE,
            ),
            pgtrigger.Trigger(
                name="presupuesto_total_cuadra", when=pgtrigger.After, operation=pgtrigger.Insert,
                timing=pgtrigger.Deferred, func=_SQL_TOTAL_CUADRA,
            ),
        ]

    def __str__(self):
        return f"Presupuesto N° {self.numero}" + (f" v{self.version}" if self.version > 1 else "")

    @property
    def folio(self) -> str:
        """"N° 123" or "N° 123-2" (version 2), as printed."""
        return f"N° {self.numero}" + (f"-{self.version}" if self.version > 1 else "")


class ItemPresupuesto(models.Model):
    """One line of a quote (table ``tratamientos_itempresupuesto``): the plan item it quotes,
    and a copy of what it said then (description, phase, price, discount), so the quote reads
    the same forever. Inserted only in the issuing transaction; never changed."""

    presupuesto = models.ForeignKey(Presupuesto, verbose_name="presupuesto", on_delete=models.PROTECT, related_name="lineas")
    item_plan = models.ForeignKey(ItemPlan, verbose_name="ítem del plan", on_delete=models.PROTECT, related_name="lineas")
    prestacion = models.ForeignKey(
        "prestaciones.Prestacion", verbose_name="prestación", on_delete=models.PROTECT, related_name="+"
    )
    descripcion = models.CharField("descripción", max_length=200)
    fase = models.PositiveSmallIntegerField("fase", default=1)
    precio = models.IntegerField("precio (CLP)")
    descuento = models.IntegerField("descuento (CLP)", default=0)
    total = _total_de_linea()

    class Meta:
        verbose_name = "línea del presupuesto"
        verbose_name_plural = "líneas del presupuesto"
        ordering = ["fase", "pk"]
        constraints = [
            *_restricciones_de_precio("item_presupuesto"),
            models.UniqueConstraint(fields=["presupuesto", "item_plan"], name="item_presupuesto_unico",
                                    violation_error_code="item_repetido",
                                    violation_error_message="Ese ítem ya está en el presupuesto."),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="presupuesto_linea_inmutable", when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                func=_SQL_LINEA_INMUTABLE,
            ),
        ]

    def __str__(self):
        return self.descripcion
