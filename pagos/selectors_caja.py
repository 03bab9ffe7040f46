"""Reads of the cash box and of one receipt (the screens and the PDF). Every amount is summed
by PostgreSQL; Python only arranges rows for display."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from pagos.models import SQL_EFECTIVO_ESPERADO, AplicacionPago, Caja, MedioPago, Pago
from tratamientos.models import EstadoPresupuesto, PlanTratamiento, Presupuesto


def caja_de_hoy(user) -> Caja | None:
    return Caja.objects.filter(cajero_id=user.pk, fecha=timezone.localdate()).select_related("cajero").first()


def caja_por_id(caja_id) -> Caja:
    return Caja.objects.select_related("cajero", "cerrada_por").get(pk=caja_id)


def movimientos_de_caja(caja_id):
    """The box's entries, oldest first, with the patient's name and whether each was annulled."""
    return (Pago.objects.filter(caja_id=caja_id).select_related("cliente", "anula")
            .annotate(anulado=Exists(Pago.objects.filter(anula_id=OuterRef("pk"))))
            .order_by("registrado_en", "pk"))


@dataclass(frozen=True)
class TotalMedio:
    medio: str
    etiqueta: str
    movimientos: int
    total: int


def resumen_por_medio(caja_id) -> list[TotalMedio]:
    """One row per method (all five, zero when none): the signed sum of the entries (refunds and
    annulments subtract); for ``saldo`` (credit moved to quotes, zero overall) the amount moved."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.medio, count(*),
                   CASE WHEN p.medio = 'saldo'
                        THEN coalesce(sum((SELECT sum(a.monto) FROM pagos_aplicacionpago a
                                           WHERE a.pago_id = p.id AND a.presupuesto_id IS NOT NULL)), 0)
                        ELSE coalesce(sum(p.monto), 0) END
              FROM pagos_pago p WHERE p.caja_id = %s GROUP BY p.medio
            """,
            [caja_id],
        )
        filas = {medio: (n, int(total)) for medio, n, total in cursor.fetchall()}
    return [TotalMedio(m.value, m.label, *filas.get(m.value, (0, 0))) for m in MedioPago]


def efectivo_esperado(caja_id) -> int:
    """Opening + signed cash entries, as the closing will compute it (shown while open)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {SQL_EFECTIVO_ESPERADO} FROM pagos_caja c WHERE c.id = %s", [caja_id])
        fila = cursor.fetchone()
    return int(fila[0]) if fila else 0


def cajas_recientes(*, cajero=None, limite=30):
    cajas = Caja.objects.select_related("cajero").order_by("-fecha", "-pk")
    if cajero is not None:
        cajas = cajas.filter(cajero_id=cajero.pk)
    return cajas[:limite]


def saldo_a_favor(cliente_id) -> int:
    return AplicacionPago.objects.filter(cliente_id=cliente_id, presupuesto__isnull=True).aggregate(
        s=Coalesce(Sum("monto"), Value(0)))["s"]


def presupuestos_por_pagar(cliente_id):
    """The patient's accepted quotes with what each still owes (``debe`` = total − applied)."""
    aplicado = (AplicacionPago.objects.filter(presupuesto_id=OuterRef("pk")).order_by()
                .values("presupuesto_id").annotate(s=Sum("monto")).values("s"))
    return (Presupuesto.objects.filter(cliente_id=cliente_id, estado=EstadoPresupuesto.ACEPTADO)
            .annotate(pagado=Coalesce(Subquery(aplicado), Value(0)))
            .annotate(debe=F("total") - F("pagado"))
            .order_by("-numero", "-version"))


def pago_del_paciente(*, cliente_id, pago_id) -> Pago:
    """One ledger entry of the patient (another patient's: ``Pago.DoesNotExist``), with its
    applications, its annulment and what it annuls."""
    return (Pago.objects.select_related("cliente", "registrado_por", "caja", "anula")
            .annotate(anulado=Exists(Pago.objects.filter(anula_id=OuterRef("pk"))))
            .prefetch_related("aplicaciones__presupuesto")
            .get(pk=pago_id, cliente_id=cliente_id))


def anulacion_de(pago) -> Pago | None:
    return Pago.objects.filter(anula_id=pago.pk).select_related("registrado_por").first()


def pagos_del_paciente(cliente_id, limite=50):
    return (Pago.objects.filter(cliente_id=cliente_id)
            .annotate(anulado=Exists(Pago.objects.filter(anula_id=OuterRef("pk"))))
            .order_by("-registrado_en", "-pk")[:limite])


def tiene_registros_contables(cliente_id) -> bool:
    """Whether the patient has money records the clinic must keep (and that PROTECT the
    patient's row): a payment, a quote or a treatment plan. Erasure keeps the row for them."""
    return (Pago.objects.filter(cliente_id=cliente_id).exists()
            or Presupuesto.objects.filter(cliente_id=cliente_id).exists()
            or PlanTratamiento.objects.filter(cliente_id=cliente_id).exists())
