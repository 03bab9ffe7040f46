"""Issue 13, "every patient reachable": the channel and the WhatsApp/SMS consents are the
patient's, recorded at the desk or on the portal with who, when and how; the outbox follows
them; landlines get no SMS or WhatsApp; passports and other documents have their duplicate
rules. Each rule is tried with input that should break it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from citas.models import Cancelacion, Cita
from citas.services import asignar_cita, crear_cita_disponible, reservar_cita
from cuentas.desactivacion import desactivar_paciente
from cuentas.presencial import crear_cliente_presencial
from cuentas.services import actualizar_preferencias, invitar_al_portal, registrar_baja, registrar_cliente_web
from notificaciones.models import Canal, Notificacion
from notificaciones.preferencias import Preferencias, canales_del_numero, es_celular
from notificaciones.services import canales_de_envio
from pacientes.models import Cliente, ConsentimientoCanal, MedioConsentimiento, TipoDocumento
from pacientes.services import actualizar_cliente
from pacientes.validaciones import validar_rut_cliente
from pruebas.soporte import huella_bd

CELULAR = "+56961234567"
FIJO = "+56223456789"
CELULAR_ARGENTINO = "+5491123456789"
CELULAR_ESPANOL = "+34612345678"


def presencial(actor, **datos):
    return crear_cliente_presencial(actor=actor, **{"nombre_completo": "Rosa Díaz Mella", **datos})


def codigos(error, campo):
    return [e.code for e in error.value.error_dict[campo]]


# The number decides which phone channels are possible ----------------------------------------


@pytest.mark.parametrize(("numero", "celular"), [
    (CELULAR, True), (FIJO, False), ("+56 2 2999 8877", False), ("+56 41 221 3456", False),
    (CELULAR_ARGENTINO, True), (CELULAR_ESPANOL, True), ("+447911123456", True),
    ("+14155552671", True),  # the US does not tell mobiles from landlines: either may be a mobile
    ("", False), ("no es un número", False), ("+56 1 2345", False),
])
def test_celular_o_fijo(numero, celular):
    assert es_celular(numero) is celular
    assert bool(canales_del_numero(numero)) is celular


def test_canales_de_envio_nunca_sms_ni_whatsapp_a_un_fijo():
    ahora = timezone.now()
    for canal in (Canal.SMS, Canal.WHATSAPP):
        # Each number confirmed (issue 14): the landline still gets no SMS or WhatsApp.
        fijo, argentino = (Preferencias(canal, ahora, ahora, telefono_verificado=n) for n in (FIJO, CELULAR_ARGENTINO))
        assert canales_de_envio(email="", telefono=FIJO, perfil=fijo) == []
        assert canales_de_envio(email="", telefono=CELULAR_ARGENTINO, perfil=argentino) == [
            (canal, CELULAR_ARGENTINO)]
        assert canales_de_envio(email="a@b.cl", telefono=FIJO, perfil=fijo) == [(Canal.EMAIL, "a@b.cl")]


# Recorded at the desk, with its proof ---------------------------------------------------------


def test_recepcion_registra_consentimiento_con_quien_cuando_y_como(recepcionista):
    antes = timezone.now()
    cliente = presencial(recepcionista.user, telefono="+56 9 6123 4567", canal_preferido=Canal.WHATSAPP,
                         acepta_whatsapp=True, medio_consentimiento=MedioConsentimiento.VERBAL)
    [consentimiento] = ConsentimientoCanal.objects.filter(cliente=cliente)
    assert consentimiento.canal == Canal.WHATSAPP and consentimiento.medio == MedioConsentimiento.VERBAL
    assert consentimiento.registrado_por == recepcionista.user and consentimiento.otorgado_en >= antes
    assert consentimiento.revocado_en is None
    cliente = Cliente.objects.get(pk=cliente.pk)
    assert cliente.canal_preferido == Canal.WHATSAPP and cliente.canales_de_aviso() == [Canal.WHATSAPP]
    # Audited with the service that wrote it.
    evento = consentimiento.events.get()
    assert evento.pgh_context.metadata["servicio"] == "crear_cliente_presencial"


def test_revocar_en_recepcion_cierra_el_registro_y_lo_conserva(recepcionista, dentista):
    cliente = presencial(recepcionista.user, telefono=CELULAR, canal_preferido=Canal.SMS, acepta_sms=True,
                         acepta_whatsapp=True, medio_consentimiento=MedioConsentimiento.FORMULARIO)
    actualizar_cliente(actor=dentista.user, cliente_id=cliente.pk, nombre_completo=cliente.nombre_completo,
                       telefono=CELULAR, canal_preferido=Canal.EMAIL, acepta_whatsapp=True, acepta_sms=False,
                       medio_consentimiento=MedioConsentimiento.VERBAL)
    sms = ConsentimientoCanal.objects.get(cliente=cliente, canal=Canal.SMS)
    assert sms.revocado_en is not None and sms.revocado_por == dentista.user
    assert sms.revocado_medio == MedioConsentimiento.VERBAL and sms.medio == MedioConsentimiento.FORMULARIO
    whatsapp = ConsentimientoCanal.objects.get(cliente=cliente, canal=Canal.WHATSAPP)
    assert whatsapp.revocado_en is None and whatsapp.registrado_por == recepcionista.user  # kept, not re-recorded
    # Given again later: a new row; the old one stays as history.
    actualizar_cliente(actor=recepcionista.user, cliente_id=cliente.pk, nombre_completo=cliente.nombre_completo,
                       telefono=CELULAR, canal_preferido=Canal.SMS, acepta_whatsapp=True, acepta_sms=True,
                       medio_consentimiento=MedioConsentimiento.VERBAL)
    assert ConsentimientoCanal.objects.filter(cliente=cliente, canal=Canal.SMS).count() == 2
    assert ConsentimientoCanal.objects.filter(cliente=cliente, canal=Canal.SMS, revocado_en__isnull=True).count() == 1


def test_la_base_de_datos_no_admite_dos_consentimientos_vigentes(recepcionista):
    cliente = presencial(recepcionista.user, telefono=CELULAR, acepta_sms=True,
                         medio_consentimiento=MedioConsentimiento.VERBAL)
    from django.db import IntegrityError, transaction
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentimientoCanal.objects.create(cliente=cliente, canal=Canal.SMS, otorgado_en=timezone.now(),
                                           medio=MedioConsentimiento.VERBAL)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentimientoCanal.objects.create(cliente=cliente, canal=Canal.EMAIL, otorgado_en=timezone.now(),
                                           medio=MedioConsentimiento.VERBAL)


@pytest.mark.parametrize(("datos", "campo", "codigo", "texto"), [
    ({"telefono": FIJO, "acepta_sms": True, "medio_consentimiento": "verbal"}, "acepta_sms", "sms_no_disponible",
     "teléfono fijo: no puede recibir SMS"),
    ({"telefono": FIJO, "acepta_whatsapp": True, "medio_consentimiento": "verbal"}, "acepta_whatsapp",
     "whatsapp_no_disponible", "no puede recibir WhatsApp"),
    ({"telefono": CELULAR, "canal_preferido": "whatsapp"}, "acepta_whatsapp", "whatsapp_sin_consentimiento",
     "debe aceptarlo expresamente"),
    ({"telefono": CELULAR, "canal_preferido": "sms", "acepta_whatsapp": True, "medio_consentimiento": "verbal"},
     "acepta_sms", "sms_sin_consentimiento", "debe aceptarlo expresamente"),
    ({"canal_preferido": "whatsapp", "acepta_whatsapp": True, "medio_consentimiento": "verbal"}, "canal_preferido",
     "sin_telefono", "registre primero su número"),
    ({"telefono": CELULAR, "acepta_whatsapp": True}, "medio_consentimiento", "medio_invalido", "Indique cómo"),
    ({"telefono": CELULAR, "acepta_whatsapp": True, "medio_consentimiento": "portal"}, "medio_consentimiento",
     "medio_invalido", "verbal en recepción o formulario firmado"),
    ({"canal_preferido": "paloma"}, "canal_preferido", "canal_invalido", "Elija un canal"),
    ({"canal_preferido": "<script>"}, "canal_preferido", "canal_invalido", "Elija un canal"),
    ({"telefono": "+56 1 2345"}, "telefono", "telefono_invalido", "Ingrese un teléfono válido"),
    ({"tipo_documento": "pasaporte"}, "numero_documento", "documento_obligatorio", "número del documento"),
    ({"tipo_documento": "pasaporte", "numero_documento": "AB123456"}, "pais_documento", "pais_invalido",
     "país que emitió"),
    ({"tipo_documento": "pasaporte", "numero_documento": "AB123456", "pais_documento": "ZZ"}, "pais_documento",
     "pais_invalido", "país que emitió"),
    ({"tipo_documento": "pasaporte", "numero_documento": "A<1>", "pais_documento": "AR"}, "numero_documento",
     "documento_invalido", "solo lleva letras y dígitos"),
    ({"tipo_documento": "pasaporte", "numero_documento": "X" * 21, "pais_documento": "AR"}, "numero_documento",
     "documento_invalido", "entre 3 y 20"),
    ({"tipo_documento": "pasaporte", "numero_documento": "AB123456", "pais_documento": "AR", "rut": "12.345.678-5"},
     "rut", "rut_con_otro_documento", "deje el RUT vacío"),
    ({"tipo_documento": "dni"}, "tipo_documento", "tipo_documento_invalido", "tipo de documento"),
])
def test_entrada_mala_mensaje_en_castellano_y_nada_cambia(recepcionista, datos, campo, codigo, texto):
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        presencial(recepcionista.user, **datos)
    assert codigo in codigos(error, campo)
    assert any(texto in m for m in error.value.message_dict[campo])
    assert huella_bd() == antes


def test_sms_a_un_fijo_rechazado_tambien_al_editar_y_nada_cambia(recepcionista):
    cliente = presencial(recepcionista.user, telefono=CELULAR, canal_preferido=Canal.SMS, acepta_sms=True,
                         medio_consentimiento=MedioConsentimiento.VERBAL)
    antes = huella_bd()
    # The number changes to a landline while the SMS consent stays: refused, with the reason.
    with pytest.raises(ValidationError) as error:
        actualizar_cliente(actor=recepcionista.user, cliente_id=cliente.pk, nombre_completo=cliente.nombre_completo,
                           telefono=FIJO)
    assert "sms_no_disponible" in codigos(error, "acepta_sms")
    assert huella_bd() == antes


def test_fijo_y_extranjero_se_aceptan_como_contacto(recepcionista):
    fijo = presencial(recepcionista.user, telefono="(2) 2345 6789")
    assert str(fijo.telefono) == FIJO and fijo.canales_de_aviso() == []
    turista = presencial(recepcionista.user, nombre_completo="John Smith", telefono="+54 9 11 2345-6789",
                         tipo_documento=TipoDocumento.PASAPORTE, numero_documento="aa 123-456", pais_documento="ar",
                         canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True, medio_consentimiento="formulario")
    turista = Cliente.objects.get(pk=turista.pk)
    assert str(turista.telefono) == CELULAR_ARGENTINO and turista.rut == ""
    assert (turista.tipo_documento, turista.numero_documento, turista.pais_documento) == ("pasaporte", "AA123456", "AR")
    assert turista.documento_visible == "Pasaporte AA123456 (Argentina)"
    assert turista.canales_de_aviso() == [Canal.WHATSAPP]


# Documents: duplicates per type and country; the RUT as before ---------------------------------


def test_pasaporte_duplicado_por_tipo_y_pais(recepcionista):
    primero = presencial(recepcionista.user, tipo_documento="pasaporte", numero_documento="AB123456",
                         pais_documento="PE")
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        presencial(recepcionista.user, nombre_completo="Otra Persona", tipo_documento="pasaporte",
                   numero_documento="ab-123.456", pais_documento="PE")
    assert codigos(error, "numero_documento") == ["documento_duplicado"]
    assert error.value.error_dict["numero_documento"][0].params["cliente_id"] == primero.pk
    assert huella_bd() == antes
    # Same number, another country or another type: another document.
    presencial(recepcionista.user, nombre_completo="Otra Persona", tipo_documento="pasaporte",
               numero_documento="AB123456", pais_documento="BO")
    presencial(recepcionista.user, nombre_completo="Tercera Persona", tipo_documento="otro",
               numero_documento="AB123456", pais_documento="PE")
    # Deactivated: the number is free again.
    desactivar_paciente(actor=recepcionista.user, cliente_id=primero.pk, citas_futuras="conservar")
    presencial(recepcionista.user, nombre_completo="Cuarta Persona", tipo_documento="pasaporte",
               numero_documento="AB123456", pais_documento="PE")


def test_la_base_de_datos_guarda_la_regla_del_documento(recepcionista):
    from django.db import IntegrityError, transaction
    presencial(recepcionista.user, tipo_documento="pasaporte", numero_documento="AB123456", pais_documento="PE")
    with pytest.raises(IntegrityError), transaction.atomic():  # duplicate, past the Python check
        Cliente.objects.create(nombre_completo="X Y", tipo_documento="pasaporte", numero_documento="AB123456",
                               pais_documento="PE")
    with pytest.raises(IntegrityError), transaction.atomic():  # a passport without its country
        Cliente.objects.create(nombre_completo="X Y", tipo_documento="pasaporte", numero_documento="ZZ99999")
    with pytest.raises(IntegrityError), transaction.atomic():  # a passport number with a RUT type
        Cliente.objects.create(nombre_completo="X Y", numero_documento="ZZ99999", pais_documento="PE")


def test_rut_sin_cambios(recepcionista):
    presencial(recepcionista.user, rut="12.345.678-5")
    with pytest.raises(ValidationError) as error:
        presencial(recepcionista.user, nombre_completo="Otra Persona", rut="12345678-5")
    assert codigos(error, "rut") == ["rut_duplicado"]
    with pytest.raises(ValidationError) as error:
        validar_rut_cliente("12.345.678-9")
    assert error.value.code == "rut_invalido"


# The outbox follows the consent -----------------------------------------------------------------


@pytest.fixture
def hora_libre(dentista, recepcionista, manana_10):
    def crear(horas=0):
        return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                     inicio=manana_10 + datetime.timedelta(hours=horas))
    return crear


def _canales(cita):
    return sorted(Notificacion.objects.filter(cita=cita).values_list("canal", "destinatario"))


def test_sin_consentimiento_no_hay_whatsapp_ni_sms(recepcionista, hora_libre):
    solo_telefono = presencial(recepcionista.user, telefono=CELULAR, canal_preferido=Canal.EMAIL)
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora_libre().pk, cliente_id=solo_telefono.pk)
    assert _canales(cita) == []
    assert Cliente.objects.get(pk=solo_telefono.pk).canales_de_aviso() == []


def test_consentimiento_de_recepcion_lo_usa_la_confirmacion(recepcionista, hora_libre):
    whatsapp = presencial(recepcionista.user, telefono=CELULAR, canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True,
                          medio_consentimiento="verbal")
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora_libre().pk, cliente_id=whatsapp.pk)
    assert _canales(cita) == [(Canal.WHATSAPP, CELULAR)]
    argentino = presencial(recepcionista.user, nombre_completo="Juan Pérez", telefono=CELULAR_ARGENTINO,
                           canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True, medio_consentimiento="verbal")
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora_libre(1).pk, cliente_id=argentino.pk)
    assert _canales(cita) == [(Canal.WHATSAPP, CELULAR_ARGENTINO)]
    # Withdrawn by a BAJA: the next notice skips WhatsApp.
    assert registrar_baja(telefono=CELULAR, canal=Canal.WHATSAPP, proveedor="twilio") == 1
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora_libre(2).pk, cliente_id=whatsapp.pk)
    assert _canales(cita) == []


def test_consentimiento_del_portal_y_de_recepcion_son_el_mismo(recepcionista, hora_libre):
    user = registrar_cliente_web(nombre_completo="Ana Pérez Soto", rut="11.111.111-1", email="ana@correo.example",
                                 telefono=CELULAR, password="Una-Clave-Larga-2026", acepta_privacidad=True)
    cliente = Cliente.objects.get(user=user)
    assert ConsentimientoCanal.objects.filter(cliente=cliente).count() == 0
    # Reception records WhatsApp (verbal) and confirms the number the portal sign-up left
    # unconfirmed (issue 14); the portal's booking statement uses both.
    actualizar_cliente(actor=recepcionista.user, cliente_id=cliente.pk, nombre_completo=cliente.nombre_completo,
                       email=cliente.email, telefono=CELULAR, rut=cliente.rut, canal_preferido=Canal.WHATSAPP,
                       acepta_whatsapp=True, acepta_sms=False, medio_consentimiento="verbal", confirmar_telefono=True)
    cita = reservar_cita(user=user, cita_id=hora_libre().pk)
    assert _canales(cita) == [(Canal.EMAIL, "ana@correo.example"), (Canal.WHATSAPP, CELULAR)]
    # The patient withdraws on the portal: closed, how: the portal, by: their account.
    actualizar_preferencias(user=user, canal_preferido=Canal.EMAIL, acepta_whatsapp=False, acepta_sms=False)
    consentimiento = ConsentimientoCanal.objects.get(cliente=cliente)
    assert consentimiento.medio == "verbal" and consentimiento.registrado_por == recepcionista.user
    assert consentimiento.revocado_medio == "portal" and consentimiento.revocado_por == user


# Invite later; deactivate with future bookings ------------------------------------------------------


def test_invitar_despues_al_portal(recepcionista):
    cliente = presencial(recepcionista.user, email="rosa@correo.example")
    user = invitar_al_portal(actor=recepcionista.user, cliente_id=cliente.pk)
    cliente.refresh_from_db()
    assert cliente.user == user and not user.has_usable_password()
    assert Notificacion.objects.filter(cliente=cliente, plantilla="invitacion", canal=Canal.EMAIL).count() == 1
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        invitar_al_portal(actor=recepcionista.user, cliente_id=cliente.pk)
    assert error.value.code == "cuenta_existente" and "ya tiene cuenta" in error.value.message
    sin_correo = presencial(recepcionista.user, nombre_completo="Sin Correo", telefono=CELULAR)
    with pytest.raises(ValidationError) as error:
        invitar_al_portal(actor=recepcionista.user, cliente_id=sin_correo.pk)
    assert error.value.code == "sin_email" and "registre primero su correo" in error.value.message
    assert huella_bd() != antes  # the second patient was created…
    antes = huella_bd()
    with pytest.raises(ValidationError):
        invitar_al_portal(actor=recepcionista.user, cliente_id=sin_correo.pk)
    assert huella_bd() == antes  # …and refusing changes nothing
    with pytest.raises(Cliente.DoesNotExist):
        invitar_al_portal(actor=recepcionista.user, cliente_id=987654321)


def test_desactivar_liberando_avisa_y_es_todo_o_nada(recepcionista, hora_libre):
    cliente = presencial(recepcionista.user, email="rosa@correo.example")
    primera = asignar_cita(actor=recepcionista.user, cita_id=hora_libre().pk, cliente_id=cliente.pk)
    segunda = asignar_cita(actor=recepcionista.user, cita_id=hora_libre(1).pk, cliente_id=cliente.pk)
    antes = huella_bd()
    for mala in ("", "borrar", None):
        with pytest.raises(ValidationError) as error:
            desactivar_paciente(actor=recepcionista.user, cliente_id=cliente.pk, citas_futuras=mala)
        assert codigos(error, "citas_futuras") == ["opcion_invalida"]
    with pytest.raises(ValidationError):
        desactivar_paciente(actor=recepcionista.user, cliente_id=cliente.pk, citas_futuras="liberar", motivo="x" * 201)
    assert huella_bd() == antes
    assert desactivar_paciente(actor=recepcionista.user, cliente_id=cliente.pk, citas_futuras="liberar") == 2
    cliente.refresh_from_db()
    assert not cliente.activo
    for cita in (primera, segunda):
        cita = Cita.objects.get(pk=cita.pk)
        # Freed for other patients; the day keeps who it was and why, and the patient is told.
        assert cita.estado == "disponible" and cita.cliente_id is None
        historial = Cancelacion.objects.get(cita=cita)
        assert (historial.por, historial.via, historial.paciente_nombre) == ("clinica", "personal", cliente.nombre_completo)
        assert historial.motivo and historial.usuario_id == recepcionista.user.pk
        assert Notificacion.objects.filter(cita=cita, plantilla="cita_cancelada_clinica").count() == 1


def test_desactivar_conservando_deja_las_horas(recepcionista, hora_libre):
    cliente = presencial(recepcionista.user, email="rosa@correo.example")
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora_libre().pk, cliente_id=cliente.pk)
    assert desactivar_paciente(actor=recepcionista.user, cliente_id=cliente.pk, citas_futuras="conservar") == 0
    assert Cita.objects.get(pk=cita.pk).estado == cita.estado
    assert not Notificacion.objects.filter(plantilla="cita_cancelada_clinica").exists()
