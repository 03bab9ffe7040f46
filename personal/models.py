import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from nucleo.models import ConFechas


class Rol(models.TextChoices):
    ADMINISTRADOR = "administrador", "Administrador"
    RECEPCION = "recepcion", "Recepción"
    DENTISTA = "dentista", "Dentista"


def nombre_de_personal(first_name: str, last_name: str, username: str) -> str:
    """A staff member's display name: "Nombre Apellido", or the username when both are empty.
    The one definition: ``Perfil.nombre`` and every SQL row that shows a staff member use it
    (as Django's ``User.get_full_name() or username``)."""
    return f"{first_name} {last_name}".strip() or username


def condicion_reservable(prefijo: str = "") -> Q:
    """Who can be booked: a dentist whose profile and login are both active (``desactivar_personal``
    turns off both; old data may have one). As a ``Q`` on ``Perfil``, or on a model that reaches
    it through ``prefijo`` (e.g. ``"dentista__"`` from ``Cita``). ``Perfil.objects.reservables()``."""
    return Q(**{f"{prefijo}rol": Rol.DENTISTA, f"{prefijo}activo": True, f"{prefijo}user__is_active": True})


def sql_reservable(perfil: str = "p", usuario: str = "u") -> str:
    """``condicion_reservable`` written out for the hand-written SQL (aliases of
    ``personal_perfil`` and ``auth_user``); tests prove both select the same dentists."""
    return f"{perfil}.rol = '{Rol.DENTISTA.value}' AND {perfil}.activo AND {usuario}.is_active"


class PerfilQuerySet(models.QuerySet):
    def reservables(self):
        """Dentists whose slots can be given or booked (``condicion_reservable``)."""
        return self.filter(condicion_reservable())


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Perfil(ConFechas):
    """A staff member (table ``personal_perfil``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="usuario", on_delete=models.CASCADE, related_name="perfil_personal"
    )
    rol = models.CharField("rol", max_length=20, choices=Rol.choices)
    especialidad = models.CharField("especialidad", max_length=120, blank=True)
    activo = models.BooleanField("activo", default=True)
    # When an administrator last removed this member's second-factor devices (a lost phone):
    # the reset itself is in the audit trail, with who did it (personal.segundo_factor).
    segundo_factor_restablecido = models.DateTimeField("segundo factor restablecido", null=True, blank=True)
    # A Chilean prescription carries the dentist's RUT and their number in the Superintendencia de
    # Salud's registry of individual providers (Registro Nacional de Prestadores Individuales).
    rut = models.CharField("RUT", max_length=12, blank=True, default="", db_default="")
    registro_superintendencia = models.CharField(
        "N° de registro en la Superintendencia de Salud", max_length=10, blank=True, default="", db_default=""
    )

    objects = PerfilQuerySet.as_manager()

    class Meta:
        verbose_name = "miembro del personal"
        verbose_name_plural = "personal"
        constraints = [
            models.UniqueConstraint(
                fields=["rut"], condition=~Q(rut=""), name="perfil_rut_unico",
                violation_error_code="rut_duplicado",
                violation_error_message="Otro miembro del personal ya tiene ese RUT.",
            ),
            models.CheckConstraint(
                condition=Q(registro_superintendencia__regex=r"^[0-9]{0,10}$"),
                name="perfil_registro_numerico",
                violation_error_code="registro_invalido",
                violation_error_message="El número de registro son solo dígitos (hasta 10).",
            ),
        ]

    def __str__(self):
        return self.nombre

    @property
    def nombre(self):
        return nombre_de_personal(self.user.first_name, self.user.last_name, self.user.username)
