"""Reads about a patient's portal account that need thought."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from nucleo.enlaces import enlaces
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.selectors import canceladas_del_paciente
from cuentas.models import PerfilCliente
from ficha.exportacion import ficha_como_datos
from notificaciones.models import Notificacion
from pacientes.models import Cliente, ClienteDocumento, ConsentimientoCanal


def _fecha(valor):
    """ISO 8601; instants in Santiago's time with their offset, so they read as the patient lived them."""
    if valor is None:
        return None
    if isinstance(valor, datetime.datetime):
        return timezone.localtime(valor).isoformat()
    if isinstance(valor, datetime.date):
        return valor.isoformat()
    return valor


def _valor(valor):
    if isinstance(valor, datetime.date):
        return _fecha(valor)
    if valor is None or isinstance(valor, bool | int | float):
        return valor
    return str(valor)  # phone numbers and other value objects


# The record's columns, each decided: what the patient gets in their copy, and what stays out
# because it is the clinic's plumbing, not data about them (a test fails when a new column of
# ``Cliente`` is in neither list).
CAMPOS_DE_LA_FICHA = (
    "nombre_completo", "rut", "tipo_documento", "numero_documento", "pais_documento", "fecha_nacimiento",
    "email", "telefono", "telefono_verificado_en", "telefono_verificado_medio", "canal_preferido", "alergias",
    "activo", "creado", "actualizado",
)
CAMPOS_INTERNOS_DE_LA_FICHA = (
    "id",  # the row's key: means nothing outside the database
    "user_id",  # the login's key (the account is exported as "cuenta")
    "clave_envio",  # the staff form's one-time key against double submits
)


def exportar_datos_paciente(*, cliente_id) -> dict:
    """Everything the clinic holds about the patient and their account, for the right of access
    and portability (Ley 21.719), as JSON-ready data.

    Nine or ten queries whatever the history's length: the record with its account, profile and live
    consents, the consents' history, the appointments with their dentists, the cancelled ones
    (``citas.selectors.canceladas_del_paciente``), the notifications (without their bodies,
    keys or provider ids), the documents (their data; the files themselves are downloaded from
    "Mis documentos"), and the clinical record (``ficha_clinica``, from
    ``ficha.exportacion.ficha_como_datos``: three more, four with a medical history). It writes nothing: the views that show
    or download it log the read of the clinical record. No internal key or id is exported (``CAMPOS_INTERNOS_DE_LA_FICHA``, and
    nothing of other people: no staff member's name but the dentist's). Raises
    ``Cliente.DoesNotExist`` for an unknown id.
    """
    cliente = Cliente.objects.con_consentimientos().select_related("user", "user__perfil_cliente").get(pk=cliente_id)
    user = cliente.user
    perfil = getattr(user, "perfil_cliente", None) if user is not None else None

    ficha = {campo: _valor(getattr(cliente, campo)) for campo in CAMPOS_DE_LA_FICHA}

    cuenta = None
    if user is not None:
        cuenta = {
            "usuario": user.username,
            "correo": user.email,
            "creada_en": _fecha(user.date_joined),
            "ultimo_ingreso": _fecha(user.last_login),
        }
    # The channel and consents are the record's (recorded at the desk or on the portal).
    preferencias = {
        "canal_preferido": cliente.canal_preferido,
        "whatsapp_aceptado_en": _fecha(cliente.whatsapp_aceptado_en),
        "sms_aceptado_en": _fecha(cliente.sms_aceptado_en),
        "privacidad_aceptada_en": _fecha(perfil.privacidad_aceptada_en) if perfil is not None else None,
    }

    citas = [
        {
            "inicio": _fecha(cita.inicio),
            "fin": _fecha(cita.fin),
            "dentista": cita.dentista.nombre,
            "estado": cita.estado,
            "estado_texto": cita.get_estado_display(),
            "motivo": cita.motivo,
        }
        # The clinic's cancellations are in "citas_canceladas", with the others.
        for cita in Cita.objects.filter(cliente_id=cliente.pk).exclude(estado=EstadoCita.CANCELADA)
        .select_related("dentista__user").order_by("inicio")
    ]
    # A patient's cancellation frees the slot: only its history row remembers it. Who is "usted"
    # or "la clínica", never which staff member; the reason only when the clinic told it.
    canceladas = [
        {
            "inicio": _fecha(c.inicio),
            "dentista": c.dentista,
            "cancelada_en": _fecha(c.cancelada_en),
            "cancelada_por": "usted" if c.por_paciente else "la clínica",
            "como": c.como,
            "motivo": c.motivo,
        }
        for c in canceladas_del_paciente(cliente_id=cliente.pk, limite=None)
    ]
    notificaciones = [
        {
            "evento": n["plantilla"],
            "canal": n["canal"],
            "destinatario": n["destinatario"],
            "estado": n["estado"],
            "creada_en": _fecha(n["creado"]),
            "enviada_en": _fecha(n["enviada_en"]),
        }
        for n in Notificacion.objects.filter(cliente_id=cliente.pk)
        .order_by("creado", "pk")
        .values("plantilla", "canal", "destinatario", "estado", "creado", "enviada_en")
    ]
    return {
        "generado_en": _fecha(timezone.now()),
        "responsable": settings.CLINICA_NOMBRE,
        "paciente": ficha,
        "cuenta": cuenta,
        "preferencias": preferencias,
        # Every consent, live and withdrawn: when and how it was given or withdrawn (Ley 21.719).
        "consentimientos": [
            {"canal": k.canal, "otorgado_en": _fecha(k.otorgado_en), "medio": k.get_medio_display(),
             "revocado_en": _fecha(k.revocado_en), "medio_revocacion": k.get_revocado_medio_display()}
            for k in ConsentimientoCanal.objects.filter(cliente_id=cliente.pk).order_by("otorgado_en", "pk")
        ],
        "citas": citas,
        "citas_canceladas": canceladas,
        "notificaciones": notificaciones,
        "documentos": [
            {
                "titulo": documento.titulo,
                "nombre": documento.nombre_descarga,
                "tipo": documento.tipo_contenido,
                "tamano_bytes": documento.tamano,
                "adjuntado_en": _fecha(documento.creado),
                "descarga": enlaces().descarga_documento(documento_id=documento.pk),
            }
            for documento in ClienteDocumento.objects.filter(cliente_id=cliente.pk).order_by("creado", "pk")
        ],
        # The clinical record (issue 15): history with its versions, signed notes with their
        # addenda, how long it is kept. Also as a PDF (portal:cuenta_ficha_pdf).
        "ficha_clinica": ficha_como_datos(cliente.pk, cliente=cliente),
    }


@dataclass(frozen=True)
class BloqueoDeCuenta:
    """A portal account locked for review ("No fui yo"): since when (None for a lock older
    than ``PerfilCliente.bloqueada_en``)."""

    desde: datetime.datetime | None


def bloqueo_de_cuenta(cliente) -> BloqueoDeCuenta | None:
    """Whether ``cliente``'s portal login is locked while the patient is active: what
    ``desbloquear_cuenta`` undoes (a deactivated patient's login is off with the record, and
    "Reactivar" is its way back). ``cliente.user`` loaded; one query only when locked."""
    user = cliente.user if cliente.user_id is not None else None
    if user is None or user.is_active or not cliente.activo:
        return None
    desde = PerfilCliente.objects.filter(user_id=user.pk).values_list("bloqueada_en", flat=True).first()
    return BloqueoDeCuenta(desde=desde)
