import pghistory
from django.conf import settings
from django.db import models

from nucleo.models import ConFechas


class Rol(models.TextChoices):
    ADMINISTRADOR = "administrador", "Administrador"
    RECEPCION = "recepcion", "Recepción"
    DENTISTA = "dentista", "Dentista"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Perfil(ConFechas):
    """A staff member (table ``personal_perfil``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="usuario", on_delete=models.CASCADE, related_name="perfil_personal"
    )
    rol = models.CharField("rol", max_length=20, choices=Rol.choices)
    especialidad = models.CharField("especialidad", max_length=120, blank=True)
    activo = models.BooleanField("activo", default=True)

    class Meta:
        verbose_name = "miembro del personal"
        verbose_name_plural = "personal"

    def __str__(self):
        return self.nombre

    @property
    def nombre(self):
        return self.user.get_full_name() or self.user.username
