"""Issue 13: a phone-only walk-in whose WhatsApp consent reception recorded gets the booking
confirmation on WhatsApp, delivered through the local provider (Twilio's API over HTTP); a
landline gets none, whatever was asked."""

import datetime

import pytest

from citas.services import asignar_cita, crear_cita_disponible
from cuentas.presencial import crear_cliente_presencial
from notificaciones.models import Canal, EstadoNotificacion, Notificacion
from pruebas import proveedores as pp
from pruebas.soporte import ejecutar_worker

en_worker = pytest.mark.django_db(transaction=True)


@en_worker
def test_solo_telefono_con_whatsapp_de_recepcion_recibe_la_confirmacion(twilio, recepcionista, dentista, manana_10):
    paciente = crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Rosa Díaz Mella", telefono="+56 9 6123 4567",
        canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True, medio_consentimiento="verbal",
    )
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=paciente.pk)
    ejecutar_worker()

    [solicitud] = twilio.solicitudes
    assert solicitud.formulario["To"] == "whatsapp:+56961234567"
    assert solicitud.formulario["ContentSid"] == pp.CONTENT_SIDS["cita_asignada"]
    [aviso] = Notificacion.objects.filter(cita=cita)
    assert aviso.canal == Canal.WHATSAPP and aviso.estado == EstadoNotificacion.ENVIADA
    assert aviso.proveedor_id == solicitud.id_mensaje


@en_worker
def test_un_fijo_no_recibe_nada_por_telefono(twilio, recepcionista, dentista, manana_10):
    paciente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Luis Mella",
                                        telefono="+56 2 2345 6789")
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=manana_10 + datetime.timedelta(hours=1))
    asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=paciente.pk)
    ejecutar_worker()
    assert twilio.solicitudes == [] and not Notificacion.objects.exists()
