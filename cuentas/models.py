import pghistory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from notificaciones.models import Canal
from notificaciones.preferencias import Preferencias
from nucleo.models import ConFechas
from pacientes.models import Cliente


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

    Contact data is not here: it lives on ``pacientes.Cliente``. Neither are the notice channel
    and the WhatsApp/SMS consents: they are the patient's, recorded at the desk or on the
    portal (``Cliente.canal_preferido``, ``pacientes.ConsentimientoCanal``); the read-only
    properties below read them from there, for code that holds the account.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="usuario", on_delete=models.CASCADE, related_name="perfil_cliente"
    )
    privacidad_aceptada_en = models.DateTimeField("aviso de privacidad aceptado el", null=True, blank=True)
    # Set when the patient answered "No fui yo" to a change notice (``deshacer_cambio_de_correo``
    # locks the login); cleared by ``desbloquear_cuenta``. The staff's patient page shows it.
    bloqueada_en = models.DateTimeField("bloqueada por revisión el", null=True, blank=True)

    class Meta:
        verbose_name = "perfil de cliente"
        verbose_name_plural = "perfiles de cliente"

    def __str__(self):
        return f"Perfil de {self.user}"

    def _preferencias(self):
        cliente = Cliente.objects.filter(user_id=self.user_id).first()
        return cliente.preferencias() if cliente is not None else Preferencias(Canal.EMAIL)

    @property
    def canal_preferido(self) -> str:
        return self._preferencias().canal_preferido

    @property
    def whatsapp_aceptado_en(self):
        return self._preferencias().whatsapp_aceptado_en

    @property
    def sms_aceptado_en(self):
        return self._preferencias().sms_aceptado_en

    def acepta(self, canal: str) -> bool:
        """Whether the account's patient opted in to ``canal`` (the outbox's rule)."""
        return self._preferencias().acepta(canal)

    def confirmado(self, telefono) -> bool:
        """Whether ``telefono`` is the patient's confirmed number (the outbox's rule)."""
        return self._preferencias().confirmado(telefono)


class CodigoTelefono(ConFechas):
    """A code sent by SMS to confirm that a number is the patient's (issue 14; table
    ``cuentas_codigotelefono``). Only a keyed hash of the code is stored (``cuentas.codigos``);
    it expires, admits a few wrong tries, and is spent when used. The rows also count how many
    codes a number and a patient asked for (the send limits)."""

    cliente = models.ForeignKey(Cliente, verbose_name="paciente", on_delete=models.CASCADE,
                                related_name="codigos_telefono")
    telefono = models.CharField("teléfono", max_length=20)
    codigo_hash = models.CharField("código (hash)", max_length=64)
    expira_en = models.DateTimeField("vence el")
    intentos = models.PositiveSmallIntegerField("intentos fallidos", default=0)
    usado_en = models.DateTimeField("usado el", null=True, blank=True)

    class Meta:
        verbose_name = "código de teléfono"
        verbose_name_plural = "códigos de teléfono"
        indexes = [
            models.Index(fields=["telefono", "creado"], name="codigotelefono_numero_idx"),
            models.Index(fields=["cliente", "creado"], name="codigotelefono_cliente_idx"),
        ]

    def __str__(self):
        return f"Código para {self.cliente_id} ({self.creado:%Y-%m-%d %H:%M})"


class RegistroPendiente(models.Model):
    """A portal sign-up waiting for its e-mail to be proven (issue 14): the validated data and the
    password's hash, until the link sent to that address creates the account
    (``cuentas.registro.confirmar_registro_web``) or the sign-up expires (``vence``, 48 h) and the
    periodic purge deletes it.

    It claims nothing: no unique index on the RUT, e-mail or phone, so signing up with someone
    else's address never blocks its owner, and the checks that matter run again when the link is
    opened (whether a desk patient's record is linked is decided then, by the RUT). Not audited by pghistory on purpose: it holds a password hash and the data of a person
    not yet proven, which must disappear with the row (the account it creates is audited)."""

    nombre_completo = models.CharField("nombre completo", max_length=200)
    rut = models.CharField("RUT", max_length=12)
    email = models.EmailField("correo electrónico", max_length=254)
    telefono = models.CharField("celular", max_length=20)
    fecha_nacimiento = models.DateField("fecha de nacimiento", null=True, blank=True)
    clave = models.CharField("contraseña (hash)", max_length=128)
    canal_preferido = models.CharField("canal preferido", max_length=10, choices=Canal.choices, default=Canal.EMAIL)
    acepta_whatsapp = models.BooleanField("acepta WhatsApp", default=False)
    acepta_sms = models.BooleanField("acepta SMS", default=False)
    # Where the patient was going (the slot they chose): a path on the portal, checked on use.
    siguiente = models.CharField("volver a", max_length=300, blank=True)
    # Names this sign-up in its link; the link works once (the row goes when it is used).
    nonce = models.CharField(max_length=32)
    creado = models.DateTimeField("creado", default=timezone.now)
    vence = models.DateTimeField("vence", db_index=True)

    class Meta:
        verbose_name = "registro pendiente de verificación"
        verbose_name_plural = "registros pendientes de verificación"

    def __str__(self):
        return f"Registro pendiente {self.pk}"
