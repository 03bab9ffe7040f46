"""The arancel: prestaciones with their duration and price, and which dentists perform them.

Money is integer Chilean pesos (CLP has no cents) in every table of the clinic: a price is a
whole number of pesos, never a float or a decimal with places.
"""

import pghistory
from django.db import models
from django.db.models import Q

from nucleo.models import ConFechas

# The dearest prestación a clinic lists (a full-arch rehabilitation on implants) is a few
# million pesos; a hundred million is a typing error (a price typed with its RUT, say), and the
# ceiling keeps every sum of a patient's account far inside a bigint.
PRECIO_MAXIMO = 100_000_000
DURACION_MINIMA = 5
DURACION_MAXIMA = 8 * 60

# The odontogram findings a prestación may treat, as plain strings: ``ficha.models.EstadoDental``'s
# values (ficha sits above this layer and is not imported; ``ficha``'s tests check they agree).
HALLAZGOS_TRATABLES = {
    "caries": "Caries", "obturacion": "Obturación", "sellante": "Sellante", "fractura": "Fractura",
    "corona": "Corona", "endodoncia": "Endodoncia", "ausente": "Ausente", "implante": "Implante",
    "extraccion": "Extracción indicada",
}


class PrestacionQuerySet(models.QuerySet):
    def activas(self):
        return self.filter(activa=True)

    def reservables_en_linea(self):
        """What a patient may book on the portal: active and marked for online booking."""
        return self.filter(activa=True, reservable_en_linea=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Prestacion(ConFechas):
    """One line of the arancel (table ``prestaciones_prestacion``). Deactivated, never deleted:
    plans, quotes and appointments keep pointing at it (PROTECT)."""

    codigo = models.CharField("código", max_length=20, unique=True)
    nombre = models.CharField("nombre", max_length=120)
    especialidad = models.CharField("especialidad", max_length=120, blank=True, default="", db_default="")
    duracion_minutos = models.PositiveSmallIntegerField("duración (minutos)", default=30)
    precio = models.PositiveIntegerField("precio (CLP)")
    activa = models.BooleanField("activa", default=True, db_default=True)
    reservable_en_linea = models.BooleanField(
        "se reserva en el portal", default=False, db_default=False,
        help_text="Los pacientes pueden reservarla en línea (p. ej. evaluación, limpieza, urgencia).",
    )
    trata_hallazgo = models.CharField(
        "trata el hallazgo", max_length=12, blank=True, default="", db_default="",
        help_text="El hallazgo del odontograma que resuelve (se sugiere al armar un plan desde el odontograma).",
    )
    dentistas = models.ManyToManyField(
        "personal.Perfil", verbose_name="dentistas que la realizan", through="PrestacionDentista",
        related_name="prestaciones", blank=True,
    )

    objects = PrestacionQuerySet.as_manager()

    class Meta:
        verbose_name = "prestación"
        verbose_name_plural = "prestaciones"
        ordering = ["nombre", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(codigo__regex=r"^[A-Z0-9][A-Z0-9.\-]{0,19}$"),
                name="prestacion_codigo_valido",
                violation_error_code="codigo_invalido",
                violation_error_message="El código son letras mayúsculas, dígitos, punto o guion (hasta 20).",
            ),
            models.CheckConstraint(
                condition=~Q(nombre=""), name="prestacion_con_nombre",
                violation_error_code="nombre_requerido", violation_error_message="Indique el nombre de la prestación.",
            ),
            models.CheckConstraint(
                condition=Q(duracion_minutos__gte=DURACION_MINIMA, duracion_minutos__lte=DURACION_MAXIMA),
                name="prestacion_duracion_valida",
                violation_error_code="duracion_invalida",
                violation_error_message=f"La duración debe estar entre {DURACION_MINIMA} y {DURACION_MAXIMA} minutos.",
            ),
            models.CheckConstraint(
                condition=Q(precio__gte=0, precio__lte=PRECIO_MAXIMO),
                name="prestacion_precio_valido",
                violation_error_code="precio_invalido",
                violation_error_message="El precio debe estar entre $0 y $100.000.000.",
            ),
            models.CheckConstraint(
                condition=Q(trata_hallazgo="") | Q(trata_hallazgo__in=list(HALLAZGOS_TRATABLES)),
                name="prestacion_hallazgo_valido",
                violation_error_code="hallazgo_invalido",
                violation_error_message="Elija un hallazgo del odontograma de la lista.",
            ),
            # Only an active prestación is offered online.
            models.CheckConstraint(
                condition=Q(activa=True) | Q(reservable_en_linea=False),
                name="prestacion_en_linea_solo_activa",
                violation_error_code="inactiva_en_linea",
                violation_error_message="Una prestación inactiva no se reserva en línea.",
            ),
        ]

    def __str__(self):
        return f"{self.codigo} · {self.nombre}"


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class PrestacionDentista(models.Model):
    """That a dentist performs a prestación (table ``prestaciones_prestaciondentista``)."""

    prestacion = models.ForeignKey(Prestacion, verbose_name="prestación", on_delete=models.CASCADE)
    dentista = models.ForeignKey("personal.Perfil", verbose_name="dentista", on_delete=models.CASCADE)

    class Meta:
        verbose_name = "dentista de la prestación"
        verbose_name_plural = "dentistas de las prestaciones"
        constraints = [
            models.UniqueConstraint(fields=["prestacion", "dentista"], name="prestacion_dentista_unico"),
        ]
        indexes = [models.Index(fields=["dentista", "prestacion"], name="prestaciondentista_dent_idx")]

    def __str__(self):
        return f"{self.dentista_id} → {self.prestacion_id}"


def total_con_descuento(precio: int, descuento: int) -> int:
    """What a line costs after its discount (both integer CLP). The database computes the same
    sum in its generated columns; this is for forms that show it before saving."""
    return precio - descuento



