"""Reads about a patient's portal account that need thought."""

import datetime

from django.conf import settings
from nucleo.enlaces import enlaces
from django.utils import timezone

from citas.models import Cita
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


def exportar_datos_paciente(*, cliente_id) -> dict:
    """Everything the clinic holds about the patient and their account, for the right of access
    and portability (Ley 21.719), as JSON-ready data.

    Five queries whatever the history's length: the record with its account, profile and live
    consents, the consents' history, the appointments with their dentists, the notifications
    (without their bodies), the documents (their data; the files themselves are downloaded from
    "Mis documentos"). Raises
    ``Cliente.DoesNotExist`` for an unknown id.
    """
    cliente = Cliente.objects.con_consentimientos().select_related("user", "user__perfil_cliente").get(pk=cliente_id)
    user = cliente.user
    perfil = getattr(user, "perfil_cliente", None) if user is not None else None

    # Every column of the record, so a field added later is exported without touching this.
    ficha = {campo.attname: _valor(getattr(cliente, campo.attname)) for campo in Cliente._meta.concrete_fields}

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
        for cita in Cita.objects.filter(cliente_id=cliente.pk).select_related("dentista__user").order_by("inicio")
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
    }
