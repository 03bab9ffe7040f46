from django.db import models
from django.db.models import Q

from nucleo.models import ConFechas


class Canal(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    SMS = "sms", "SMS"
    EMAIL = "email", "Correo electrónico"


class EstadoNotificacion(models.TextChoices):
    PENDIENTE = "pendiente", "Pendiente"
    ENVIADA = "enviada", "Enviada"
    FALLIDA = "fallida", "Fallida tras reintentos"
    # Over the destination's send budget (issue 14): recorded, never sent; the reason is in
    # ``ultimo_error``. Staff may still resend it by hand.
    SUPRIMIDA = "suprimida", "No enviada (límite por hora)"


class Notificacion(ConFechas):
    """A message that a committed change asked for (invariant 6).

    Written in the same transaction as the change; delivered after commit by a job, with
    retries. Its text is rendered when it is recorded, so delivery only sends.
    """

    cliente = models.ForeignKey(
        "pacientes.Cliente", verbose_name="paciente", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="notificaciones",
    )
    cita = models.ForeignKey(
        "citas.Cita", verbose_name="cita", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="notificaciones",
    )
    canal = models.CharField("canal", max_length=10, choices=Canal.choices)
    plantilla = models.CharField("plantilla", max_length=60)
    destinatario = models.CharField("destinatario", max_length=254)
    asunto = models.CharField("asunto", max_length=200, blank=True)
    cuerpo = models.TextField("cuerpo")
    # A WhatsApp template's positional values ({{1}}, {{2}}…), rendered with the text from the
    # event's variables.txt: neutral about health, like the short text. Empty for e-mail.
    variables = models.JSONField("variables de la plantilla", default=list, blank=True, db_default=[])
    # An iCalendar file (RFC 5545 text) the e-mail carries as a ``text/calendar`` part, with the
    # METHOD it states (REQUEST, PUBLISH or CANCEL); rendered when recorded, like the body, by the
    # layer that asks for the message. NULL: no attachment (and never on SMS or WhatsApp).
    adjunto_calendario = models.TextField("archivo de calendario adjunto", null=True, blank=True)
    estado = models.CharField(
        "estado", max_length=10, choices=EstadoNotificacion.choices, default=EstadoNotificacion.PENDIENTE
    )
    intentos = models.PositiveSmallIntegerField("intentos", default=0)
    ultimo_error = models.TextField("último error", blank=True)
    proveedor_id = models.CharField("id en el proveedor", max_length=200, blank=True)
    # At most one message per key: a retried job or a repeated request cannot send twice.
    clave_idempotencia = models.CharField("clave de idempotencia", max_length=200, unique=True)
    enviada_en = models.DateTimeField("enviada el", null=True, blank=True)

    class Meta:
        verbose_name = "notificación"
        verbose_name_plural = "notificaciones"
        constraints = [
            models.CheckConstraint(
                condition=~Q(estado=EstadoNotificacion.ENVIADA) | Q(enviada_en__isnull=False),
                name="notificacion_enviada_con_fecha",
                violation_error_code="enviada_sin_fecha",
                violation_error_message="Una notificación enviada debe tener su fecha de envío.",
            ),
        ]
        indexes = [
            models.Index(fields=["estado", "creado"], name="notificacion_estado_idx"),
            # Delivery receipts find their row by the provider's id.
            models.Index(fields=["proveedor_id"], name="notificacion_proveedor_idx", condition=~Q(proveedor_id="")),
        ]

    def __str__(self):
        return f"{self.plantilla} por {self.get_canal_display()} ({self.get_estado_display()})"


class CupoEnvio(models.Model):
    """How many budgeted messages one destination (an e-mail address or a phone number) got in
    one clock hour (``hora``, its start in UTC). One row per (destination, hour), raised by an
    ``INSERT … ON CONFLICT DO UPDATE`` in the transaction that records the messages: the row
    lock makes a concurrent transaction wait and then read the committed count, so two cannot
    both pass the budget; a rolled-back change gives its share back. Old rows are swept by
    ``notificaciones.tasks.barrer_cupos``."""

    destinatario = models.CharField("destinatario", max_length=254)
    hora = models.DateTimeField("hora")
    enviados = models.PositiveIntegerField("avisos registrados")

    class Meta:
        verbose_name = "cupo de envío"
        verbose_name_plural = "cupos de envío"
        constraints = [
            models.UniqueConstraint(fields=["destinatario", "hora"], name="cupoenvio_destino_hora_unico"),
        ]
        indexes = [models.Index(fields=["hora"], name="cupoenvio_hora_idx")]

    def __str__(self):
        return f"{self.destinatario} {self.hora:%Y-%m-%d %H}h: {self.enviados}"
