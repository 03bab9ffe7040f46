import re
import uuid

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Trim
from phonenumber_field.modelfields import PhoneNumberField
from stdnum.cl import rut as stdnum_rut

from notificaciones.models import Canal
from notificaciones.preferencias import Preferencias, canales_alcanzables
from nucleo.models import ConFechas
from pacientes.paises import PAISES

# Normal forms enforced by the database, so raw SQL cannot store a second spelling of the
# same RUT, e-mail or phone and slip past the unique indexes below.
RUT_NORMAL = r"^[1-9][0-9]{0,7}-[0-9K]$"
TELEFONO_E164 = r"^\+[1-9][0-9]{6,14}$"


def rut_legible(valor) -> str:
    """A RUT as Chileans read it, ``12.345.678-5``. The one definition: templates reach it through
    ``pacientes.formato`` and the ``rut`` filter, models and documents from here. Anything not
    in normal form (old or odd data, or what was just typed) is shown as it is."""
    texto = str(valor or "")
    return stdnum_rut.format(texto) if re.match(RUT_NORMAL, texto) else texto

# A passport's or another document's number: letters and digits only, upper-case.
DOCUMENTO_NORMAL = r"^[A-Z0-9]{3,20}$"


class TipoDocumento(models.TextChoices):
    RUT = "rut", "RUT"
    PASAPORTE = "pasaporte", "Pasaporte"
    OTRO = "otro", "Otro documento de identidad"


class ClienteQuerySet(models.QuerySet):
    def con_consentimientos(self):
        """Each patient with ``whatsapp_aceptado_en`` / ``sms_aceptado_en``: the date of their
        live consent, or None (two subqueries in the same statement)."""
        return self.annotate(
            whatsapp_aceptado_en=consentimiento_vigente(Canal.WHATSAPP),
            sms_aceptado_en=consentimiento_vigente(Canal.SMS),
        )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Cliente(ConFechas):
    """A patient of the clinic (table ``pacientes_cliente``): the one source of contact data."""

    nombre_completo = models.CharField("nombre completo", max_length=200)
    email = models.EmailField("correo electrónico", blank=True)
    telefono = PhoneNumberField("teléfono", blank=True)
    # When ``telefono`` was confirmed to belong to this patient: recorded at the desk by staff,
    # or confirmed by the patient with a code sent to it. Only a confirmed number receives SMS
    # or WhatsApp, and only a confirmed one is unique among active patients (an unconfirmed
    # claim blocks nobody). A database trigger clears it whenever the number changes without
    # it being set in the same UPDATE (migration ``0006_telefono_verificado``).
    telefono_verificado_en = models.DateTimeField("teléfono confirmado el", null=True, blank=True)
    telefono_verificado_medio = models.CharField(
        "cómo se confirmó el teléfono", max_length=10, blank=True, default="", db_default="",
        choices=[("recepcion", "Registrado en recepción"), ("codigo", "Código enviado al número")],
    )
    rut = models.CharField("RUT", max_length=12, blank=True, help_text="Formato 12345678-5.")
    # Patients without a Chilean RUT (tourists, recent immigrants): the RUT stays in ``rut``
    # (the seed's column); any other document is its number and its issuing country.
    tipo_documento = models.CharField(
        "tipo de documento", max_length=10, choices=TipoDocumento.choices, default=TipoDocumento.RUT,
        db_default=TipoDocumento.RUT,
    )
    numero_documento = models.CharField("número de documento", max_length=20, blank=True, default="", db_default="")
    pais_documento = models.CharField("país del documento", max_length=2, blank=True, choices=PAISES, default="",
                                      db_default="")
    # The channel the patient prefers for notices; WhatsApp and SMS also need a live consent
    # record (``ConsentimientoCanal``). Whoever records it: the portal, or reception.
    # Database defaults too: raw SQL inserts (maintenance, benchmarks) need not name them.
    canal_preferido = models.CharField("canal preferido", max_length=10, choices=Canal.choices, default=Canal.EMAIL,
                                       db_default=Canal.EMAIL)
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

    objects = ClienteQuerySet.as_manager()

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
            models.CheckConstraint(
                condition=Q(telefono_verificado_en__isnull=True) | ~Q(telefono=""),
                name="cliente_telefono_verificado_con_numero",
                violation_error_code="telefono_verificado_sin_numero",
                violation_error_message="Un teléfono confirmado necesita el número.",
            ),
            # Only confirmed numbers: a stranger who typed someone else's number at sign-up
            # must not block its owner (issue 14).
            models.UniqueConstraint(
                "telefono",
                condition=Q(activo=True) & ~Q(telefono="") & Q(telefono_verificado_en__isnull=False),
                name="cliente_telefono_activo_unico",
                violation_error_code="telefono_duplicado",
                violation_error_message="Ya existe un paciente activo con ese teléfono.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(tipo_documento=TipoDocumento.RUT, numero_documento="", pais_documento="")
                    | (Q(tipo_documento__in=[TipoDocumento.PASAPORTE, TipoDocumento.OTRO], rut="")
                       & Q(numero_documento__regex=DOCUMENTO_NORMAL) & Q(pais_documento__regex=r"^[A-Z]{2}$"))
                ),
                name="cliente_documento_coherente",
                violation_error_code="documento_invalido",
                violation_error_message="Un pasaporte u otro documento necesita su número y su país; un RUT va en su campo.",
            ),
            models.UniqueConstraint(
                "tipo_documento", "pais_documento", "numero_documento",
                condition=Q(activo=True) & ~Q(numero_documento=""),
                name="cliente_documento_activo_unico",
                violation_error_code="documento_duplicado",
                violation_error_message="Ya existe un paciente activo con ese documento.",
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

    def fechas_de_consentimiento(self) -> tuple:
        """(WhatsApp, SMS): the dates of the live consents, or None. From ``con_consentimientos``
        when the row came with it, else one query."""
        if hasattr(self, "whatsapp_aceptado_en"):
            return self.whatsapp_aceptado_en, self.sms_aceptado_en
        fechas = dict(self.consentimientos.filter(revocado_en__isnull=True).values_list("canal", "otorgado_en"))
        return fechas.get(Canal.WHATSAPP), fechas.get(Canal.SMS)

    def preferencias(self) -> Preferencias:
        """What the outbox reads (``notificaciones.preferencias.Preferencias``)."""
        return Preferencias(self.canal_preferido, *self.fechas_de_consentimiento(),
                            telefono_verificado=self.telefono_confirmado)

    @property
    def telefono_confirmado(self) -> str:
        """The number (E.164) when it is confirmed (desk or code), else ''."""
        return str(self.telefono) if self.telefono and self.telefono_verificado_en is not None else ""

    def acepta(self, canal: str) -> bool:
        """Whether the patient has a live consent to ``canal`` (e-mail needs none)."""
        return self.preferencias().acepta(canal)

    def canales_de_aviso(self) -> list[str]:
        """Every channel a notice can reach this patient by (``canales_alcanzables``); empty:
        they will receive no notice at all, and the staff site says so."""
        return canales_alcanzables(email=self.email, telefono=str(self.telefono or ""),
                                   preferencias=self.preferencias())

    @property
    def documento_visible(self) -> str:
        """'RUT 12.345.678-5' (as Chileans read it), 'Pasaporte AB123456 (Argentina)', or '' without
        a document. A RUT not in normal form (old or odd data) is shown as it is."""
        if self.tipo_documento == TipoDocumento.RUT:
            return f"RUT {rut_legible(self.rut)}" if self.rut else ""
        return f"{self.get_tipo_documento_display()} {self.numero_documento} ({self.get_pais_documento_display()})"


class MedioConsentimiento(models.TextChoices):
    """How a consent was given or withdrawn: the proof Ley 21.719 asks the clinic to keep."""

    PORTAL = "portal", "Portal del paciente"
    VERBAL = "verbal", "Verbal en recepción"
    FORMULARIO = "formulario", "Formulario firmado"
    RESPUESTA = "respuesta", "Respuesta del paciente al mensaje (BAJA/STOP)"
    # Withdrawn by erasing the patient whose clinical record the clinic must keep (ficha.retencion).
    ELIMINACION = "eliminacion", "Eliminación de los datos del paciente"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ConsentimientoCanal(ConFechas):
    """A patient's consent to receive notices by WhatsApp or SMS (table
    ``pacientes_consentimientocanal``): who recorded it, when and how; a withdrawal closes the
    row (``revocado_en``) and never deletes it, so the history stays. At most one live row per
    patient and channel (a partial unique index)."""

    cliente = models.ForeignKey(
        Cliente, verbose_name="paciente", on_delete=models.CASCADE, related_name="consentimientos"
    )
    canal = models.CharField("canal", max_length=10, choices=[(Canal.WHATSAPP.value, Canal.WHATSAPP.label),
                                                               (Canal.SMS.value, Canal.SMS.label)])
    otorgado_en = models.DateTimeField("otorgado el")
    medio = models.CharField("cómo se otorgó", max_length=12, choices=MedioConsentimiento.choices)
    registrado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="registrado por", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    revocado_en = models.DateTimeField("revocado el", null=True, blank=True)
    revocado_medio = models.CharField("cómo se revocó", max_length=12, choices=MedioConsentimiento.choices,
                                      blank=True, default="", db_default="")
    revocado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="revocado por", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "consentimiento de canal"
        verbose_name_plural = "consentimientos de canal"
        constraints = [
            models.CheckConstraint(
                condition=Q(canal__in=[Canal.WHATSAPP, Canal.SMS]),
                name="consentimiento_canal_telefono",
                violation_error_code="canal_invalido",
                violation_error_message="Solo WhatsApp y SMS necesitan consentimiento.",
            ),
            models.CheckConstraint(
                condition=Q(revocado_en__isnull=True, revocado_medio="")
                | Q(revocado_en__isnull=False, revocado_en__gte=models.F("otorgado_en")) & ~Q(revocado_medio=""),
                name="consentimiento_revocacion_completa",
                violation_error_code="revocacion_invalida",
                violation_error_message="Una revocación necesita su fecha (posterior al consentimiento) y cómo se hizo.",
            ),
            models.UniqueConstraint(
                fields=["cliente", "canal"],
                condition=Q(revocado_en__isnull=True),
                name="consentimiento_vigente_unico",
                violation_error_code="consentimiento_duplicado",
                violation_error_message="Este paciente ya tiene un consentimiento vigente para ese canal.",
            ),
        ]

    def __str__(self):
        return f"{self.get_canal_display()} de {self.cliente_id}"


def consentimiento_vigente(canal, campo_cliente="pk"):
    """A subquery expression: when the patient at ``campo_cliente`` (an OuterRef path) gave
    their live consent to ``canal``, or NULL. For annotations on any queryset that reaches a
    patient (``Cliente``: "pk"; ``Cita``: "cliente_id")."""
    return models.Subquery(
        ConsentimientoCanal.objects.filter(
            cliente_id=models.OuterRef(campo_cliente), canal=canal, revocado_en__isnull=True
        ).values("otorgado_en")[:1]
    )


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
