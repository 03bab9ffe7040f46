"""The portal's self-service: forgotten password (also for invited accounts), notification
preferences with dated consent, deleting one's own account, and the data export."""

import datetime
import json
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import F

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible, reservar_cita
from citas.tests.test_services import PASSWORD, registrar_paciente
from cuentas.models import PerfilCliente
from cuentas.selectors import exportar_datos_paciente
from cuentas.services import (
    VENTANA_RESTABLECIMIENTO,
    actualizar_preferencias,
    eliminar_mi_cuenta,
    solicitar_restablecimiento,
)
from notificaciones.models import Notificacion
from pruebas.soporte import huella_bd
from pacientes.documentos import subir_documento
from pacientes.models import Cliente
from cuentas.presencial import crear_cliente_presencial
from pacientes.services import desactivar_cliente
from pacientes.tests.test_documentos import PNG

User = get_user_model()
pytestmark = pytest.mark.django_db


def restablecimientos(cliente=None):
    filas = Notificacion.objects.filter(plantilla="restablecer_clave")
    return filas.filter(cliente=cliente) if cliente is not None else filas


# solicitar_restablecimiento -------------------------------------------------------------------


@pytest.mark.parametrize("forma", ["rut", "rut_con_puntos", "correo_mayusculas"])
def test_restablecimiento_registra_un_correo_con_el_enlace(db, forma):
    user = registrar_paciente(1)
    cliente = user.cliente
    identificador = {
        "rut": cliente.rut,
        "rut_con_puntos": "11.000.001-" + cliente.rut[-1],
        "correo_mayusculas": f"  {cliente.email.upper()} ",
    }[forma]
    assert solicitar_restablecimiento(identificador=identificador) is True
    aviso = restablecimientos(cliente).get()
    assert aviso.canal == "email" and aviso.destinatario == cliente.email
    assert "/portal/activar/" in aviso.cuerpo and "Hola Paciente Número 1" in aviso.cuerpo


def test_restablecimiento_sirve_a_cuentas_invitadas_sin_clave(recepcionista):
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Ana Gómez",
                                       email="ana@correo.example", enviar_invitacion=True)
    assert not cliente.user.has_usable_password()  # Django's PasswordResetForm would skip it
    assert solicitar_restablecimiento(identificador="ana@correo.example") is True
    assert restablecimientos(cliente).count() == 1


def test_una_vez_por_ventana_de_15_minutos(db):
    cliente = registrar_paciente(1).cliente
    assert solicitar_restablecimiento(identificador=cliente.rut) is True
    for _ in range(3):
        assert solicitar_restablecimiento(identificador=cliente.email) is False
    assert restablecimientos(cliente).count() == 1

    # 5 minutes ago, in the previous 15-minute slot of the clock: the window is still open.
    aviso = restablecimientos(cliente).get()
    tramo = int(aviso.clave_idempotencia.split(":")[2])
    restablecimientos(cliente).update(creado=F("creado") - datetime.timedelta(minutes=5),
                                      clave_idempotencia=f"restablecer_clave:{cliente.user_id}:{tramo - 1}:email")
    assert solicitar_restablecimiento(identificador=cliente.rut) is False

    # 16 minutes ago: a new message is due.
    restablecimientos(cliente).update(creado=F("creado") - VENTANA_RESTABLECIMIENTO)
    assert solicitar_restablecimiento(identificador=cliente.rut) is True
    assert restablecimientos(cliente).count() == 2


@pytest.mark.parametrize("identificador", [
    "", "   ", "x" * 10_000, "<script>alert(1)</script>", "12.345.678-0", "nadie@correo.example",
    "11.000.009-" , "\x00", None,
])
def test_restablecimiento_con_datos_desconocidos_no_registra_nada(db, identificador):
    registrar_paciente(1)
    antes = huella_bd()
    assert solicitar_restablecimiento(identificador=identificador) is False
    assert huella_bd() == antes


def test_restablecimiento_no_sirve_a_pacientes_desactivados_ni_al_personal(recepcionista):
    cliente = registrar_paciente(1).cliente
    desactivar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)
    assert solicitar_restablecimiento(identificador=cliente.rut) is False
    assert solicitar_restablecimiento(identificador=recepcionista.user.username) is False
    assert solicitar_restablecimiento(identificador=recepcionista.user.email) is False
    assert not restablecimientos().exists()


@pytest.mark.django_db(transaction=True)
def test_pedidos_simultaneos_registran_un_solo_correo(db):
    cliente = registrar_paciente(1).cliente
    barrera = threading.Barrier(4)
    resultados = []

    def pedir():
        try:
            barrera.wait()
            resultados.append(solicitar_restablecimiento(identificador=cliente.rut))
        finally:
            connection.close()

    hilos = [threading.Thread(target=pedir) for _ in range(4)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    assert sorted(resultados) == [False, False, False, True]
    assert restablecimientos(cliente).count() == 1


@pytest.mark.django_db(transaction=True)
def test_fallas_en_solicitar_restablecimiento(probar_fallas):
    cliente = registrar_paciente(1).cliente
    assert probar_fallas(lambda: solicitar_restablecimiento(identificador=cliente.rut)) >= 1


# actualizar_preferencias ---------------------------------------------------------------------


def test_consentimiento_guarda_su_fecha_la_conserva_y_el_retiro_la_borra(db):
    user = registrar_paciente(1)
    perfil = actualizar_preferencias(user=user, canal_preferido="whatsapp", acepta_whatsapp=True, acepta_sms=False)
    primera = perfil.whatsapp_aceptado_en
    assert perfil.canal_preferido == "whatsapp" and primera is not None and perfil.sms_aceptado_en is None

    perfil = actualizar_preferencias(user=user, canal_preferido="sms", acepta_whatsapp=True, acepta_sms=True)
    assert perfil.whatsapp_aceptado_en == primera  # consent given earlier keeps its date
    assert perfil.sms_aceptado_en is not None

    perfil = actualizar_preferencias(user=user, canal_preferido="email", acepta_whatsapp=False, acepta_sms=False)
    perfil.refresh_from_db()
    assert perfil.canal_preferido == "email"
    assert perfil.whatsapp_aceptado_en is None and perfil.sms_aceptado_en is None
    assert perfil.privacidad_aceptada_en is not None  # untouched


@pytest.mark.parametrize(
    ("datos", "campo", "codigo"),
    [
        ({"canal_preferido": "whatsapp", "acepta_whatsapp": False, "acepta_sms": True}, "acepta_whatsapp",
         "whatsapp_sin_consentimiento"),
        ({"canal_preferido": "sms", "acepta_whatsapp": True, "acepta_sms": False}, "acepta_sms",
         "sms_sin_consentimiento"),
        ({"canal_preferido": "paloma", "acepta_whatsapp": False, "acepta_sms": False}, "canal_preferido",
         "canal_invalido"),
        ({"canal_preferido": "<script>", "acepta_whatsapp": True, "acepta_sms": True}, "canal_preferido",
         "canal_invalido"),
    ],
)
def test_preferencias_invalidas_no_cambian_nada(db, datos, campo, codigo):
    user = registrar_paciente(1, canal_preferido="email")
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        actualizar_preferencias(user=user, **datos)
    assert [e.code for e in error.value.error_dict[campo]] == [codigo]
    assert huella_bd() == antes


def test_canal_del_celular_exige_tener_celular(recepcionista):
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Ana Gómez",
                                       email="ana@correo.example", enviar_invitacion=True)
    with pytest.raises(ValidationError) as error:
        actualizar_preferencias(user=cliente.user, canal_preferido="whatsapp", acepta_whatsapp=True, acepta_sms=False)
    assert error.value.error_dict["canal_preferido"][0].code == "sin_telefono"
    # Opting in without making it the channel is allowed; e-mail always is.
    perfil = actualizar_preferencias(user=cliente.user, canal_preferido="email", acepta_whatsapp=True, acepta_sms=False)
    assert perfil.whatsapp_aceptado_en is not None


def test_cuenta_antigua_sin_perfil_lo_recibe(db):
    user = registrar_paciente(1)
    PerfilCliente.objects.filter(user=user).delete()
    perfil = actualizar_preferencias(user=user, canal_preferido="sms", acepta_whatsapp=False, acepta_sms=True)
    assert PerfilCliente.objects.get(user=user) == perfil and perfil.sms_aceptado_en is not None


# eliminar_mi_cuenta --------------------------------------------------------------------------


@pytest.mark.parametrize("clave", ["", "otra-clave-1234", PASSWORD.upper(), "x" * 10_000])
def test_eliminar_con_clave_equivocada_no_cambia_nada(db, clave):
    user = registrar_paciente(1)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        eliminar_mi_cuenta(user=user, password=clave)
    assert error.value.error_dict["password"][0].code == "clave_incorrecta"
    assert huella_bd() == antes


def test_eliminar_mi_cuenta_borra_cuenta_y_ficha_y_conserva_la_historia(dentista, recepcionista, manana_10):
    user = registrar_paciente(1)
    cliente_id = user.cliente.pk
    futura = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    reservar_cita(user=user, cita_id=futura.pk)
    pasada = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=manana_10 - datetime.timedelta(days=30))
    Cita.objects.filter(pk=pasada.pk).update(estado=EstadoCita.ATENDIDA, cliente_id=cliente_id,
                                             paciente_nombre="Paciente Número 1")
    otro = registrar_paciente(2)

    resumen = eliminar_mi_cuenta(user=user, password=PASSWORD)

    assert resumen.cuenta_eliminada and resumen.citas_futuras_liberadas == 1
    # Issue 15: the attended visit is a clinical record, kept under legal hold; the patient row
    # stays only as its minimum identification (no contact data, inactive).
    assert resumen.ficha_en_resguardo
    guardado = Cliente.objects.get(pk=cliente_id)
    assert not guardado.activo and guardado.email == "" and guardado.user_id is None
    assert not User.objects.filter(pk=user.pk).exists() and not PerfilCliente.objects.filter(user_id=user.pk).exists()
    futura.refresh_from_db()
    pasada.refresh_from_db()
    assert futura.estado == EstadoCita.DISPONIBLE and futura.cliente_id is None
    assert pasada.estado == EstadoCita.ATENDIDA and pasada.paciente_nombre == "Paciente Número 1"
    assert User.objects.filter(pk=otro.pk).exists()  # nobody else's


def test_eliminar_sin_ficha_activa(recepcionista):
    user = registrar_paciente(1)
    desactivar_cliente(actor=recepcionista.user, cliente_id=user.cliente.pk)
    with pytest.raises(ValidationError) as error:
        eliminar_mi_cuenta(user=user, password=PASSWORD)
    assert error.value.code == "sin_ficha"


# exportar_datos_paciente ---------------------------------------------------------------------


@pytest.fixture
def con_historia(dentista, recepcionista, manana_10):
    """A patient with two appointments and notifications, and another patient with their own."""
    user = registrar_paciente(1, canal_preferido="whatsapp", acepta_whatsapp=True, fecha_nacimiento="1990-05-17")
    otro = registrar_paciente(2)
    for horas in (0, 1):
        cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                     inicio=manana_10 + datetime.timedelta(hours=horas))
        reservar_cita(user=user, cita_id=cita.pk)
    cita_otro = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                      inicio=manana_10 + datetime.timedelta(hours=3))
    asignar_cita(actor=recepcionista.user, cita_id=cita_otro.pk, cliente_id=otro.cliente.pk)
    return user


def test_exportacion_tiene_todo_lo_del_paciente_y_nada_de_otros(con_historia, django_assert_num_queries,
                                                                recepcionista, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cliente = con_historia.cliente
    otro = Cliente.objects.exclude(pk=cliente.pk).get(user__isnull=False)
    for destino, titulo in ((cliente, "Radiografía panorámica"), (otro, "Documento ajeno")):
        subir_documento(
            actor=recepcionista.user, cliente_id=destino.pk, titulo=titulo,
            archivo=SimpleUploadedFile("rx.png", PNG, content_type="image/png"),
        )
    # + the consents' history (issue 13), + the cancelled ones (issue 14), + the clinical record's
    # three (issue 15: history, notes, documents; a fourth for the history's versions when there is one)
    # + the prescriptions, the odontogram history and the consents (issue 16; prescription lines
    # are a second query only when there are some)
    with django_assert_num_queries(12):
        datos = exportar_datos_paciente(cliente_id=cliente.pk)
    json.dumps(datos, cls=DjangoJSONEncoder)  # serialisable as is
    [consentimiento] = datos["consentimientos"]
    assert consentimiento["canal"] == "whatsapp" and consentimiento["medio"] == "Portal del paciente"
    assert consentimiento["otorgado_en"] and consentimiento["revocado_en"] is None

    assert datos["paciente"]["rut"] == cliente.rut and datos["paciente"]["telefono"] == str(cliente.telefono)
    assert datos["paciente"]["fecha_nacimiento"] == "1990-05-17"
    assert set(datos["paciente"]) >= {"nombre_completo", "email", "alergias", "activo", "creado"}
    assert not set(datos["paciente"]) & {"id", "user_id", "clave_envio"}  # internal keys (issue 14)
    assert datos["cuenta"]["usuario"] == con_historia.username and datos["cuenta"]["creada_en"]
    assert datos["preferencias"]["canal_preferido"] == "whatsapp" and datos["preferencias"]["whatsapp_aceptado_en"]
    assert len(datos["citas"]) == 2
    cita = datos["citas"][0]
    inicio = datetime.datetime.fromisoformat(cita["inicio"])
    assert inicio.utcoffset() is not None and inicio.hour == 10  # Santiago's clock, with its offset
    assert cita["dentista"] == "Camila Soto" and cita["estado"] == "reservada"
    eventos = {n["evento"] for n in datos["notificaciones"]}
    assert eventos == {"bienvenida", "reserva_confirmada"}
    assert all("cuerpo" not in n for n in datos["notificaciones"])
    assert all(n["destinatario"] in (cliente.email, str(cliente.telefono)) for n in datos["notificaciones"])
    [documento] = datos["documentos"]
    assert documento["titulo"] == "Radiografía panorámica" and documento["tipo"] == "image/png"
    assert documento["tamano_bytes"] == len(PNG) and documento["nombre"] == "rx.png"
    assert documento["descarga"].startswith("/portal/documentos/")


def test_exportacion_hace_las_mismas_consultas_con_mucha_historia(con_historia, dentista, recepcionista, manana_10,
                                                                  django_assert_num_queries, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 100  # many bookings of one patient; the cap has its own tests
    for dias in range(2, 12):
        cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                     inicio=manana_10 + datetime.timedelta(days=dias))
        reservar_cita(user=con_historia, cita_id=cita.pk)
    with django_assert_num_queries(12):  # + the prescriptions, the odontogram history, the consents (issue 16)
        datos = exportar_datos_paciente(cliente_id=con_historia.cliente.pk)
    assert len(datos["citas"]) == 12


def test_exportacion_de_paciente_sin_cuenta(recepcionista):
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Sin Cuenta")
    datos = exportar_datos_paciente(cliente_id=cliente.pk)
    assert datos["cuenta"] is None and datos["citas"] == [] and datos["citas_canceladas"] == []
    # The channel and consents are the record's, recorded at the desk too (issue 13).
    assert datos["preferencias"] == {"canal_preferido": "email", "whatsapp_aceptado_en": None,
                                     "sms_aceptado_en": None, "privacidad_aceptada_en": None}
    assert datos["documentos"] == []
