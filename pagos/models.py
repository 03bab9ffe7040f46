"""Payments and the cash box.

The ledger is append-only in the database: a payment (``Pago``) is never changed or deleted. A
refund, an annulment or a move of credit is a new ``Pago`` of its own type with a reason, and
an annulment names the payment it reverses (once: a unique constraint). Each ``Pago`` is split
into applications (``AplicacionPago``): to a quote (``presupuesto``) or to the patient's account
(``presupuesto`` NULL: credit, "saldo a favor"); a payment larger than what a quote still owes is
applied up to the balance and the rest to the account. The deferred trigger
``pago_aplicaciones_cuadran`` checks at commit that the applications add up to the payment.

Every desk payment goes into the open cash box (``Caja``) of the receptionist who registers it,
for that day; a closed box never changes and takes no more payments (trigger
``pago_en_caja_abierta`` locks the box's row, so a payment and a closing never cross).

Boleta electrónica (SII): not issued yet. When it is, a table of its own
(``pagos_documentotributario``: ``pago`` one-to-one, the document type 39/41, the SII folio,
the track id, its state and the XML) is attached to each ``Pago`` of type ``pago``; the ledger
row itself stays as it is (it is immutable), and an annulment gets its nota de crédito the same
way. docs/pagos.md says so too.
"""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from nucleo.models import ConFechas
from prestaciones.models import PRECIO_MAXIMO

# One payment at the desk is at most the arancel's ceiling, $100.000.000 (a whole plan paid at
# once is a few million; more is a typing error).
MONTO_MAXIMO = PRECIO_MAXIMO


class MedioPago(models.TextChoices):
    EFECTIVO = "efectivo", "Efectivo"
    DEBITO = "debito", "Tarjeta de débito"
    CREDITO = "credito", "Tarjeta de crédito"
    TRANSFERENCIA = "transferencia", "Transferencia"
    # Not money that came in: the patient's credit ("saldo a favor") applied to a quote.
    SALDO = "saldo", "Saldo a favor"


class TipoPago(models.TextChoices):
    PAGO = "pago", "Pago"
    DEVOLUCION = "devolucion", "Devolución"
    ANULACION = "anulacion", "Anulación"
    # The patient's credit moved to a quote: two applications that cancel out (−account, +quote).
    TRASPASO = "traspaso", "Uso de saldo a favor"


_SQL_CAJA = """
    IF TG_OP = 'INSERT' THEN
        NEW.abierta_en := clock_timestamp();
        NEW.cerrada_en := NULL;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.cerrada_en IS NULL AND NEW.cerrada_en IS NOT NULL
       AND NEW.contado_efectivo IS NOT NULL AND NEW.esperado_efectivo IS NOT NULL AND NEW.cerrada_por_id IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY['cerrada_en', 'cerrada_por_id', 'contado_efectivo', 'esperado_efectivo',
                                  'diferencia', 'observacion_cierre', 'actualizado'])
           = (to_jsonb(OLD) - ARRAY['cerrada_en', 'cerrada_por_id', 'contado_efectivo', 'esperado_efectivo',
                                    'diferencia', 'observacion_cierre', 'actualizado']) THEN
        -- ``diferencia`` is generated: NULL in a BEFORE trigger's NEW, computed afterwards.
        NEW.cerrada_en := clock_timestamp();
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.cerrada_en IS NULL AND NEW.cerrada_en IS NULL
       AND (to_jsonb(NEW) - ARRAY['actualizado', 'diferencia']) = (to_jsonb(OLD) - ARRAY['actualizado', 'diferencia']) THEN
        RETURN NEW;
    END IF;
    IF OLD.cerrada_en IS NOT NULL THEN
        RAISE EXCEPTION 'La caja % ya está cerrada: no cambia.', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'caja_cerrada_inmutable';
    END IF;
    RAISE EXCEPTION 'La caja % solo cambia al cerrarla (una vez, con el conteo).', OLD.id
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'caja_cerrada_inmutable';
"""


# The cash a box ``c`` (alias of ``pagos_caja``) should hold: its opening plus the signed cash
# entries (payments in, refunds and annulments out). One definition for the closing's UPDATE
# (``pagos.services.cerrar_caja``) and the open box's page (``pagos.selectors_caja``).
SQL_EFECTIVO_ESPERADO = (
    "c.monto_apertura + coalesce((SELECT sum(p.monto) FROM pagos_pago p "
    "WHERE p.caja_id = c.id AND p.medio = 'efectivo'), 0)"
)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Caja(ConFechas):
    """A receptionist's cash box for one day (table ``pagos_caja``): opened with the cash in the
    drawer (``monto_apertura``), it takes that person's payments of the day; closed once with the
    counted cash (``contado_efectivo``) against what should be there (``esperado_efectivo``:
    opening + cash payments − cash refunds and annulments, computed by PostgreSQL at the closing)
    and the difference (a generated column). A closed box never changes (trigger
    ``caja_cerrada_inmutable``)."""

    cajero = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="cajero(a)", on_delete=models.PROTECT, related_name="cajas"
    )
    fecha = models.DateField("fecha")
    abierta_en = models.DateTimeField(
        "abierta el", db_default=models.Func(function="clock_timestamp", output_field=models.DateTimeField())
    )
    monto_apertura = models.IntegerField("efectivo al abrir (CLP)", default=0)
    cerrada_en = models.DateTimeField("cerrada el", null=True, blank=True)
    cerrada_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="cerrada por", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    # bigint: the sum of a day's cash may pass an int4 even if each payment cannot.
    esperado_efectivo = models.BigIntegerField("efectivo esperado (CLP)", null=True, blank=True)
    contado_efectivo = models.IntegerField("efectivo contado (CLP)", null=True, blank=True)
    diferencia = models.GeneratedField(
        expression=F("contado_efectivo") - F("esperado_efectivo"), output_field=models.BigIntegerField(),
        db_persist=True, verbose_name="diferencia",
    )
    observacion_cierre = models.CharField("observación del cierre", max_length=300, blank=True, default="")

    class Meta:
        verbose_name = "caja"
        verbose_name_plural = "cajas"
        ordering = ["-fecha", "cajero_id"]
        constraints = [
            models.UniqueConstraint(fields=["cajero", "fecha"], name="caja_una_por_dia",
                                    violation_error_code="caja_duplicada",
                                    violation_error_message="Ya abrió su caja de ese día."),
            models.CheckConstraint(
                condition=Q(monto_apertura__gte=0, monto_apertura__lte=MONTO_MAXIMO), name="caja_apertura_valida",
                violation_error_code="monto_invalido",
                violation_error_message="El efectivo al abrir debe estar entre $0 y $100.000.000.",
            ),
            models.CheckConstraint(
                condition=Q(contado_efectivo__isnull=True)
                | Q(contado_efectivo__gte=0, contado_efectivo__lte=MONTO_MAXIMO),
                name="caja_conteo_valido",
                violation_error_code="monto_invalido",
                violation_error_message="El efectivo contado debe estar entre $0 y $100.000.000.",
            ),
            models.CheckConstraint(
                condition=(Q(cerrada_en__isnull=True) & Q(contado_efectivo__isnull=True)
                           & Q(esperado_efectivo__isnull=True) & Q(cerrada_por__isnull=True))
                | (Q(cerrada_en__isnull=False) & Q(contado_efectivo__isnull=False)
                   & Q(esperado_efectivo__isnull=False) & Q(cerrada_por__isnull=False)),
                name="caja_cierre_completo",
                violation_error_code="cierre_incompleto",
                violation_error_message="Una caja cerrada dice cuándo, quién, lo esperado y lo contado.",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="caja_cerrada_inmutable", when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete, func=_SQL_CAJA,
            ),
        ]

    def __str__(self):
        return f"Caja de {self.cajero_id} del {self.fecha:%d-%m-%Y}"

    @property
    def abierta(self) -> bool:
        return self.cerrada_en is None


_SQL_PAGO_INMUTABLE = """
    RAISE EXCEPTION 'Los pagos no se modifican ni se eliminan: registre una devolución o una anulación.'
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'pago_inmutable';
"""

# A payment enters an open box of its own registrar. ``FOR SHARE`` waits for a closing that is
# writing the box's row, and then sees it closed: a payment is never counted in a box after its
# count, and never left out of it.
_SQL_PAGO_EN_CAJA_ABIERTA = """
    NEW.registrado_en := now();
    PERFORM 1 FROM pagos_caja c
      WHERE c.id = NEW.caja_id AND c.cerrada_en IS NULL AND c.cajero_id = NEW.registrado_por_id
      FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'La caja % no está abierta para quien registra el pago.', NEW.caja_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'pago_en_caja_abierta';
    END IF;
    RETURN NEW;
"""

_SQL_APLICACIONES_CUADRAN = """
    IF (SELECT coalesce(sum(a.monto), 0) FROM pagos_aplicacionpago a WHERE a.pago_id = NEW.id) <> NEW.monto
       AND NEW.tipo <> 'traspaso' THEN
        RAISE EXCEPTION 'El pago % no cuadra con sus aplicaciones.', NEW.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'pago_aplicaciones_cuadran';
    END IF;
    IF NEW.tipo = 'traspaso' AND (SELECT coalesce(sum(a.monto), 0) FROM pagos_aplicacionpago a WHERE a.pago_id = NEW.id) <> 0 THEN
        RAISE EXCEPTION 'El traspaso % no cuadra: lo que sale del saldo entra al presupuesto.', NEW.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'pago_aplicaciones_cuadran';
    END IF;
    RETURN NULL;
"""


class Pago(models.Model):
    """One entry of the ledger (table ``pagos_pago``), never changed or deleted.

    ``monto`` is signed integer CLP: a payment is positive; a refund or an annulment negative
    (money going back, or an entry reversed); a move of credit (``traspaso``) is zero overall and
    records its amount in its applications. ``numero`` is the receipt's folio (comprobante).
    ``motivo`` is required for every entry but a plain payment; an annulment names what it
    annuls (``anula``, once)."""

    numero = models.PositiveIntegerField("N° de comprobante", unique=True)
    cliente = models.ForeignKey("pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT, related_name="pagos")
    tipo = models.CharField("tipo", max_length=12, choices=TipoPago.choices, default=TipoPago.PAGO)
    medio = models.CharField("medio de pago", max_length=14, choices=MedioPago.choices)
    referencia = models.CharField("referencia", max_length=60, blank=True, default="",
                                  help_text="N° de operación de la tarjeta o de la transferencia.")
    monto = models.IntegerField("monto (CLP)")
    motivo = models.CharField("motivo", max_length=300, blank=True, default="")
    anula = models.OneToOneField(
        "self", verbose_name="anula a", on_delete=models.PROTECT, null=True, blank=True, related_name="anulado_por"
    )
    caja = models.ForeignKey(Caja, verbose_name="caja", on_delete=models.PROTECT, related_name="pagos")
    # The key of the form that registered it (a fresh UUID per form shown): a double click or a
    # resent POST finds the entry already there instead of charging twice (``registrar_pago``).
    clave = models.UUIDField("clave del formulario", null=True, blank=True, unique=True, editable=False)
    registrado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="registrado por", on_delete=models.PROTECT, related_name="+"
    )
    # The transaction's ``now()``, set by the insert trigger: the entry's applications compare it
    # to theirs, so they can only be inserted in the entry's own transaction (savepoints included),
    # as a prescription's lines are (``ficha.Receta.emitida_en``).
    registrado_en = models.DateTimeField(
        "registrado el", db_default=models.Func(function="now", output_field=models.DateTimeField())
    )

    class Meta:
        verbose_name = "pago"
        verbose_name_plural = "pagos"
        ordering = ["-registrado_en", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tipo__in=TipoPago.values), name="pago_tipo_valido",
                violation_error_code="tipo_invalido", violation_error_message="Tipo de movimiento desconocido.",
            ),
            models.CheckConstraint(
                condition=Q(medio__in=MedioPago.values), name="pago_medio_valido",
                violation_error_code="medio_invalido", violation_error_message="Medio de pago desconocido.",
            ),
            models.CheckConstraint(
                condition=(Q(tipo=TipoPago.PAGO) & Q(monto__gt=0, monto__lte=MONTO_MAXIMO) & ~Q(medio=MedioPago.SALDO))
                | (Q(tipo__in=(TipoPago.DEVOLUCION, TipoPago.ANULACION)) & Q(monto__lt=0, monto__gte=-MONTO_MAXIMO))
                | (Q(tipo=TipoPago.TRASPASO) & Q(monto=0) & Q(medio=MedioPago.SALDO)),
                name="pago_monto_segun_tipo",
                violation_error_code="monto_invalido",
                violation_error_message="El monto no corresponde al tipo de movimiento.",
            ),
            models.CheckConstraint(
                condition=Q(tipo=TipoPago.PAGO) | Q(motivo__regex=r"\S"), name="pago_motivo_requerido",
                violation_error_code="motivo_requerido",
                violation_error_message="Indique el motivo de la devolución o anulación.",
            ),
            models.CheckConstraint(
                condition=(Q(tipo=TipoPago.ANULACION) & Q(anula__isnull=False))
                | (~Q(tipo=TipoPago.ANULACION) & Q(anula__isnull=True)),
                name="pago_anulacion_con_original",
                violation_error_code="anulacion_sin_original",
                violation_error_message="Una anulación dice qué pago anula.",
            ),
        ]
        indexes = [
            models.Index(fields=["cliente", "-registrado_en"], name="pago_cliente_idx"),
            models.Index(fields=["caja", "medio"], name="pago_caja_medio_idx"),
            models.Index(fields=["registrado_en"], name="pago_fecha_idx"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="pago_inmutable", when=pgtrigger.Before, operation=pgtrigger.Update | pgtrigger.Delete,
                func=_SQL_PAGO_INMUTABLE,
            ),
            pgtrigger.Trigger(
                name="pago_en_caja_abierta", when=pgtrigger.Before, operation=pgtrigger.Insert,
                func=_SQL_PAGO_EN_CAJA_ABIERTA,
            ),
            pgtrigger.Trigger(
                name="pago_aplicaciones_cuadran", when=pgtrigger.After, operation=pgtrigger.Insert,
                timing=pgtrigger.Deferred, func=_SQL_APLICACIONES_CUADRAN,
            ),
        ]

    def __str__(self):
        return f"Comprobante N° {self.numero}"


_SQL_APLICACION_INMUTABLE = """
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM pagos_pago p WHERE p.id = NEW.pago_id AND p.cliente_id = NEW.cliente_id
                   AND p.registrado_en = now()) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'Las aplicaciones de un pago se registran con el pago, del mismo paciente.'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'pago_inmutable';
    END IF;
    RAISE EXCEPTION 'Los pagos no se modifican ni se eliminan: registre una devolución o una anulación.'
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'pago_inmutable';
"""


class AplicacionPago(models.Model):
    """Where (part of) a ledger entry goes (table ``pagos_aplicacionpago``): a quote of the same
    patient, or the patient's account (``presupuesto`` NULL: credit). Inserted with its entry,
    in the same transaction; never changed. ``cliente`` repeats the entry's patient so that a
    composite check (trigger and foreign key to the quote's patient) refuses a payment applied
    to another patient's quote."""

    pago = models.ForeignKey(Pago, verbose_name="pago", on_delete=models.PROTECT, related_name="aplicaciones")
    cliente = models.ForeignKey("pacientes.Cliente", verbose_name="paciente", on_delete=models.PROTECT, related_name="+")
    presupuesto = models.ForeignKey(
        "tratamientos.Presupuesto", verbose_name="presupuesto", on_delete=models.PROTECT, null=True, blank=True,
        related_name="aplicaciones",
    )
    monto = models.IntegerField("monto (CLP)")

    class Meta:
        verbose_name = "aplicación del pago"
        verbose_name_plural = "aplicaciones de los pagos"
        constraints = [
            models.CheckConstraint(
                condition=~Q(monto=0) & Q(monto__gte=-MONTO_MAXIMO, monto__lte=MONTO_MAXIMO),
                name="aplicacion_monto_valido",
                violation_error_code="monto_invalido",
                violation_error_message="El monto aplicado no es válido.",
            ),
        ]
        indexes = [
            models.Index(fields=["presupuesto"], name="aplicacion_presupuesto_idx"),
            models.Index(fields=["cliente", "presupuesto"], name="aplicacion_cliente_idx"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="aplicacion_pago_inmutable", when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete, func=_SQL_APLICACION_INMUTABLE,
            ),
            # The quote must be of the payment's patient.
            pgtrigger.Trigger(
                name="aplicacion_presupuesto_del_paciente", when=pgtrigger.Before, operation=pgtrigger.Insert,
                condition=pgtrigger.Q(new__presupuesto__isnull=False),
                func="""
    IF NOT EXISTS (SELECT 1 FROM tratamientos_presupuesto p WHERE p.id = NEW.presupuesto_id AND p.cliente_id = NEW.cliente_id) THEN
        RAISE EXCEPTION 'El presupuesto % es de otro paciente.', NEW.presupuesto_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'aplicacion_presupuesto_del_paciente';
    END IF;
    RETURN NEW;
""",
            ),
        ]

    def __str__(self):
        return f"{self.pago_id} → {self.presupuesto_id or 'cuenta'}: {self.monto}"
