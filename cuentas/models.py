import pghistory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models

from notificaciones.models import Canal
from notificaciones.preferencias import acepta_canal
from nucleo.models import ConFechas


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["password", "last_login"],
    model_name="UserEvent",
)
class UsuarioAuditado(get_user_model()):
    """Audits Django's login table (never the password hash).

    A proxy, so that the triggers live in our migrations, not in django.contrib.auth's.
    """

    class Meta:
        proxy = True
        verbose_name = "usuario"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PerfilCliente(ConFechas):
    """What belongs to a patient's portal account (table ``cuentas_perfilcliente``).

    Contact data is not here: it lives on ``pacientes.Cliente``.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="usuario", on_delete=models.CASCADE, related_name="perfil_cliente"
    )
    canal_preferido = models.CharField("canal preferido", max_length=10, choices=Canal.choices, default=Canal.EMAIL)
    # Consent is a date, not a flag: the law asks when it was given.
    whatsapp_aceptado_en = models.DateTimeField("WhatsApp aceptado el", null=True, blank=True)
    sms_aceptado_en = models.DateTimeField("SMS aceptado el", null=True, blank=True)
    privacidad_aceptada_en = models.DateTimeField("aviso de privacidad aceptado el", null=True, blank=True)

    class Meta:
        verbose_name = "perfil de cliente"
        verbose_name_plural = "perfiles de cliente"

    def __str__(self):
        return f"Perfil de {self.user}"

    def acepta(self, canal: str) -> bool:
        """Whether the patient opted in to ``canal`` (the outbox's rule, ``acepta_canal``)."""
        return acepta_canal(canal, whatsapp_aceptado_en=self.whatsapp_aceptado_en, sms_aceptado_en=self.sms_aceptado_en)
