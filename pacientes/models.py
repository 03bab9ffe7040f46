import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Trim
from phonenumber_field.modelfields import PhoneNumberField

from nucleo.models import ConFechas

# Normal forms enforced by the database, so raw SQL cannot store a second spelling of the
# same RUT, e-mail or phone and slip past the unique indexes below.
RUT_NORMAL = r"^[1-9][0-9]{0,7}-[0-9K]$"
TELEFONO_E164 = r"^\+[1-9][0-9]{6,14}$"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Cliente(ConFechas):
    """A patient of the clinic (table ``pacientes_cliente``): the one source of contact data."""

    nombre_completo = models.CharField("nombre completo", max_length=200)
    email = models.EmailField("correo electrónico", blank=True)
    telefono = PhoneNumberField("teléfono", blank=True)
    rut = models.CharField("RUT", max_length=12, blank=True, help_text="Formato 12345678-5.")
    fecha_nacimiento = models.DateField("fecha de nacimiento", null=True, blank=True)
    alergias = models.TextField("alergias", blank=True)
    activo = models.BooleanField("activo", default=True)
    # Nullable: a walk-in patient may have no portal account.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="cuenta del portal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cliente",
    )

    class Meta:
        verbose_name = "paciente"
        verbose_name_plural = "pacientes"
        constraints = [
            models.CheckConstraint(
                condition=~Q(nombre_completo=""),
                name="cliente_nombre_obligatorio",
                violation_error_code="nombre_obligatorio",
                violation_error_message="El nombre completo es obligatorio.",
            ),
            models.CheckConstraint(
                condition=Q(rut="") | Q(rut__regex=RUT_NORMAL),
                name="cliente_rut_normalizado",
                violation_error_code="rut_invalido",
                violation_error_message="El RUT debe guardarse como 12345678-5.",
            ),
            models.CheckConstraint(
                condition=Q(email=Lower(Trim("email"))),
                name="cliente_email_normalizado",
                violation_error_code="email_invalido",
                violation_error_message="El correo debe guardarse en minúsculas y sin espacios.",
            ),
            models.CheckConstraint(
                condition=Q(telefono="") | Q(telefono__regex=TELEFONO_E164),
                name="cliente_telefono_e164",
                violation_error_code="telefono_invalido",
                violation_error_message="El teléfono debe guardarse en formato internacional (+56961234567).",
            ),
            models.UniqueConstraint(
                "rut",
                condition=Q(activo=True) & ~Q(rut=""),
                name="cliente_rut_activo_unico",
                violation_error_code="rut_duplicado",
                violation_error_message="Ya existe un paciente activo con ese RUT.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(activo=True) & ~Q(email=""),
                name="cliente_email_activo_unico",
                violation_error_code="email_duplicado",
                violation_error_message="Ya existe un paciente activo con ese correo electrónico.",
            ),
            models.UniqueConstraint(
                "telefono",
                condition=Q(activo=True) & ~Q(telefono=""),
                name="cliente_telefono_activo_unico",
                violation_error_code="telefono_duplicado",
                violation_error_message="Ya existe un paciente activo con ese teléfono.",
            ),
        ]
        indexes = [models.Index(Lower("nombre_completo"), name="cliente_nombre_idx")]

    def __str__(self):
        return self.nombre_completo
