import uuid

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
    # One-time key of the staff form that created this record: a resubmitted form (double click,
    # browser retry) hits this unique index instead of storing the same walk-in twice.
    clave_envio = models.UUIDField("clave de envío", null=True, blank=True, editable=False)

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
            models.UniqueConstraint(
                fields=["clave_envio"],
                name="cliente_clave_envio_unica",
                violation_error_code="envio_repetido",
                violation_error_message="Este paciente ya quedó registrado; no se creó de nuevo.",
            ),
        ]
        indexes = [models.Index(Lower("nombre_completo"), name="cliente_nombre_idx")]

    def __str__(self):
        return self.nombre_completo


# Detected type → extension on disk; the only types a document may have (see pacientes.documentos).
EXTENSIONES_DOCUMENTO = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def ruta_documento(documento, nombre):
    """``documentos/<cliente_id>/<uuid4 hex><ext>``: the user's filename never reaches the
    disk (no path tricks, no guessable names); the extension follows the detected type."""
    extension = EXTENSIONES_DOCUMENTO.get(documento.tipo_contenido, "")
    return f"documentos/{documento.cliente_id}/{uuid.uuid4().hex}{extension}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ClienteDocumento(ConFechas):
    """A document the clinic attached to a patient (x-ray, budget, consent): table
    ``pacientes_clientedocumento``. Served only through a view, to staff and to its owner."""

    cliente = models.ForeignKey(
        Cliente, verbose_name="paciente", on_delete=models.CASCADE, related_name="documentos"
    )
    titulo = models.CharField("título", max_length=120)
    archivo = models.FileField("archivo", upload_to=ruta_documento, max_length=255)
    nombre_original = models.CharField("nombre original", max_length=255)
    tipo_contenido = models.CharField("tipo de contenido", max_length=100)
    tamano = models.PositiveIntegerField("tamaño (bytes)")
    subido_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="subido por", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "documento del paciente"
        verbose_name_plural = "documentos de pacientes"
        constraints = [
            models.CheckConstraint(
                condition=~Q(titulo=""),
                name="documento_titulo_obligatorio",
                violation_error_code="titulo_obligatorio",
                violation_error_message="Ingrese un título para el documento.",
            ),
            models.CheckConstraint(
                condition=Q(tipo_contenido__in=list(EXTENSIONES_DOCUMENTO)),
                name="documento_tipo_permitido",
                violation_error_code="tipo_no_permitido",
                violation_error_message="Solo se aceptan documentos PDF, JPG o PNG.",
            ),
        ]
        indexes = [models.Index(fields=["cliente", "-creado"], name="documento_cliente_idx")]

    def __str__(self):
        return self.titulo

    @property
    def nombre_descarga(self) -> str:
        """The original name, with the extension of the detected type (a PNG renamed .pdf is
        downloaded as .png, so the patient's device opens it)."""
        extension = EXTENSIONES_DOCUMENTO.get(self.tipo_contenido, "")
        base, punto, actual = self.nombre_original.rpartition(".")
        validas = {extension, ".jpeg"} if extension == ".jpg" else {extension}
        if punto and f".{actual.lower()}" in validas:
            return self.nombre_original
        return f"{base if punto else self.nombre_original}{extension}"
