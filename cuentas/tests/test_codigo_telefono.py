"""Phone numbers confirmed before SMS/WhatsApp (issue 14): a code sent once by SMS, rate-limited,
stored hashed, expiring and with a few tries; the desk's numbers count as confirmed; and an
unconfirmed claim never blocks the number's owner."""

import datetime
import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from citas.services import asignar_cita, crear_cita_disponible, reservar_cita
from citas.tests.test_services import PASSWORD, registrar_paciente
from cuentas.codigos import confirmar_codigo_telefono, enviar_codigo_telefono
from cuentas.models import CodigoTelefono
from cuentas.presencial import crear_cliente_presencial
from cuentas.services import actualizar_contacto_del_paciente, registrar_cliente_web
from notificaciones.models import Canal, Notificacion
from pacientes.models import Cliente, MedioConsentimiento
from pacientes.services import actualizar_cliente
from pruebas.soporte import huella_bd, rut_valido

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms_por_consola(settings):
    """An SMS provider is configured (the console one: the message stays in the outbox)."""
    settings.NOTIFICACIONES_SMS = "consola"

CELULAR = "+56961234567"


def paciente_sms(n=1, telefono=CELULAR, **extra):
    """A portal patient who asked for SMS notices; their number is not confirmed yet."""
    return registrar_paciente(n, telefono=telefono, canal_preferido=Canal.SMS, acepta_sms=True,
                              confirmar_telefono=False, **extra)


def codigo_enviado(telefono=CELULAR):
    """The code of the newest SMS to ``telefono`` in the outbox (what the patient reads)."""
    sms = Notificacion.objects.filter(plantilla="codigo_telefono", canal=Canal.SMS, destinatario=telefono).latest("pk")
    return re.search(r"\b(\d{6})\b", sms.cuerpo).group(1)


def error_de(funcion, **kwargs):
    with pytest.raises(ValidationError) as error:
        funcion(**kwargs)
    return error.value


def ficha(user):
    return Cliente.objects.get(user=user)


def test_sin_confirmar_no_hay_sms_ni_en_la_reserva(dentista, recepcionista, manana_10):
    user = paciente_sms()
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    reservar_cita(user=user, cita_id=hora.pk)
    assert set(Notificacion.objects.values_list("canal", flat=True)) == {Canal.EMAIL}
    assert ficha(user).canales_de_aviso() == [Canal.EMAIL]


def test_enviar_y_confirmar_el_codigo(dentista, recepcionista, manana_10):
    user = paciente_sms()
    fila = enviar_codigo_telefono(user=user)
    sms = Notificacion.objects.get(plantilla="codigo_telefono")
    assert (sms.canal, sms.destinatario) == (Canal.SMS, CELULAR)
    codigo = codigo_enviado()
    assert "Vence en 10 minutos" in sms.cuerpo
    # Only a keyed hash is stored, never the code.
    assert codigo not in fila.codigo_hash and len(fila.codigo_hash) == 64
    assert abs(fila.expira_en - fila.creado - datetime.timedelta(minutes=10)) < datetime.timedelta(seconds=1)

    confirmar_codigo_telefono(user=user, codigo=f" {codigo[:3]} {codigo[3:]} ")
    cliente = ficha(user)
    assert cliente.telefono_verificado_en is not None and cliente.telefono_verificado_medio == "codigo"
    assert CodigoTelefono.objects.get().usado_en is not None
    assert error_de(confirmar_codigo_telefono, user=user, codigo=codigo).code == "telefono_ya_confirmado"
    # Now the booking goes by SMS too.
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    reservar_cita(user=user, cita_id=hora.pk)
    assert set(Notificacion.objects.filter(plantilla="reserva_confirmada").values_list("canal", "destinatario")) == {
        (Canal.EMAIL, user.email), (Canal.SMS, CELULAR)}
    assert cliente.canales_de_aviso() == [Canal.EMAIL, Canal.SMS]


def test_cinco_codigos_malos_bloquean_ese_codigo():
    user = paciente_sms()
    enviar_codigo_telefono(user=user)
    bueno = codigo_enviado()
    malo = f"{(int(bueno) + 1) % 10**6:06d}"
    mensajes = [error_de(confirmar_codigo_telefono, user=user, codigo=malo).messages[0] for _ in range(5)]
    assert mensajes[0] == "El código no coincide. Le quedan 4 intentos."
    assert mensajes[3] == "El código no coincide. Le queda 1 intento."
    assert mensajes[4] == "El código no coincide. Ingresó mal el código demasiadas veces: pida uno nuevo."
    assert CodigoTelefono.objects.get().intentos == 5  # every wrong try was kept
    antes = huella_bd()
    error = error_de(confirmar_codigo_telefono, user=user, codigo=bueno)
    assert error.code == "codigo_bloqueado" and error.messages == [
        "Ingresó mal el código demasiadas veces. Pida uno nuevo."]
    assert huella_bd() == antes
    assert ficha(user).telefono_verificado_en is None


def test_codigo_vencido_y_entradas_malas_no_cambian_nada():
    user = paciente_sms()
    assert error_de(confirmar_codigo_telefono, user=user, codigo="123456").code == "sin_codigo"
    enviar_codigo_telefono(user=user)
    antes = huella_bd()
    for entrada in ("", "12345", "abcdef", "1234567", "12 34 5x"):
        error = error_de(confirmar_codigo_telefono, user=user, codigo=entrada)
        assert error.code == "codigo_invalido"
        assert error.messages == ["Ingrese los 6 dígitos del código que le enviamos por SMS."]
    assert huella_bd() == antes
    CodigoTelefono.objects.update(expira_en=timezone.now() - datetime.timedelta(seconds=1))
    error = error_de(confirmar_codigo_telefono, user=user, codigo=codigo_enviado())
    assert error.code == "codigo_vencido" and error.messages == ["El código venció. Pida uno nuevo."]
    assert ficha(user).telefono_verificado_en is None


def test_limite_de_envio_uno_por_minuto_y_cinco_al_dia(settings):
    settings.CLINICA_TELEFONO = "+56 2 2999 0000"
    user = paciente_sms()
    enviar_codigo_telefono(user=user)
    antes = huella_bd()
    error = error_de(enviar_codigo_telefono, user=user)
    assert error.code == "codigo_reciente"
    assert huella_bd() == antes
    for _ in range(4):
        CodigoTelefono.objects.update(creado=timezone.now() - datetime.timedelta(seconds=61))
        enviar_codigo_telefono(user=user)
    CodigoTelefono.objects.update(creado=timezone.now() - datetime.timedelta(seconds=61))
    error = error_de(enviar_codigo_telefono, user=user)
    assert error.code == "demasiados_codigos"
    assert error.messages == ["Ya enviamos 5 códigos a este celular hoy. Intente mañana, o llame a la clínica al "
                              "+56 2 2999 0000 para registrarlo."]
    assert Notificacion.objects.filter(plantilla="codigo_telefono").count() == 5
    # The limit is the number's: another account claiming it cannot send more either.
    otro = paciente_sms(2)
    assert error_de(enviar_codigo_telefono, user=otro).code == "demasiados_codigos"
    # A day later it may ask again; only the newest code counts.
    CodigoTelefono.objects.update(creado=timezone.now() - datetime.timedelta(days=1, seconds=1))
    enviar_codigo_telefono(user=user)


def test_sin_celular_con_fijo_o_sin_proveedor_no_se_envia_codigo(settings):
    settings.CLINICA_TELEFONO = "+56 2 2999 0000"
    user = registrar_paciente(1)
    settings.NOTIFICACIONES_SMS = ""
    error = error_de(enviar_codigo_telefono, user=user)
    assert error.code == "sms_no_disponible" and error.messages == [
        "Por ahora la clínica no envía SMS: para confirmar su celular, llame a la clínica al +56 2 2999 0000."]
    settings.NOTIFICACIONES_SMS = "consola"
    Cliente.objects.filter(user=user).update(telefono="")
    assert error_de(enviar_codigo_telefono, user=user).code == "sin_telefono"
    Cliente.objects.filter(user=user).update(telefono="+56222345678")
    assert error_de(enviar_codigo_telefono, user=user).code == "no_es_celular"
    assert not Notificacion.objects.filter(plantilla="codigo_telefono").exists()


@pytest.mark.django_db(transaction=True)
def test_cinco_pedidos_simultaneos_envian_un_solo_codigo():
    usuarios = [paciente_sms(1), paciente_sms(2), paciente_sms(3), paciente_sms(4), paciente_sms(5)]
    barrera = threading.Barrier(len(usuarios))
    resultados = []

    def pedir(user):
        try:
            barrera.wait()
            enviar_codigo_telefono(user=user)
            resultados.append("ok")
        except ValidationError as error:
            resultados.append(error.code)
        finally:
            connection.close()

    hilos = [threading.Thread(target=pedir, args=(u,)) for u in usuarios]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    assert sorted(resultados) == ["codigo_reciente"] * 4 + ["ok"]
    assert Notificacion.objects.filter(plantilla="codigo_telefono").count() == 1


def test_cambiar_el_celular_en_el_portal_quita_la_confirmacion():
    user = paciente_sms()
    enviar_codigo_telefono(user=user)
    confirmar_codigo_telefono(user=user, codigo=codigo_enviado())
    actualizar_contacto_del_paciente(user=user, email=user.email, telefono="+56 9 6222 3333", password=PASSWORD)
    cliente = ficha(user)
    assert str(cliente.telefono) == "+56962223333"
    assert cliente.telefono_verificado_en is None and cliente.telefono_verificado_medio == ""
    # Raw SQL too: the database trigger.
    Cliente.objects.filter(pk=cliente.pk).update(telefono_verificado_en=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pacientes_cliente SET telefono = '+56962224444' WHERE id = %s", [cliente.pk])
    assert ficha(user).telefono_verificado_en is None


# The desk's numbers, and the owner of a number claimed by someone else -----------------------


def test_numero_registrado_en_recepcion_recibe_sms(recepcionista, dentista, manana_10):
    cliente = crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Rosa Díaz Mella", email="rosa@correo.example", telefono=CELULAR,
        canal_preferido=Canal.SMS, acepta_sms=True, medio_consentimiento=MedioConsentimiento.VERBAL)
    cliente.refresh_from_db()
    assert cliente.telefono_verificado_en is not None and cliente.telefono_verificado_medio == "recepcion"
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=cliente.pk)
    assert set(Notificacion.objects.filter(plantilla="cita_asignada").values_list("canal", flat=True)) == {
        Canal.EMAIL, Canal.SMS}


def test_recepcion_confirma_el_numero_al_cambiarlo_o_a_pedido(recepcionista):
    user = paciente_sms()
    cliente = ficha(user)
    datos = {"nombre_completo": cliente.nombre_completo, "email": cliente.email, "rut": cliente.rut,
             "telefono": str(cliente.telefono)}
    actualizar_cliente(actor=recepcionista.user, cliente_id=cliente.pk, **datos)
    assert ficha(user).telefono_verificado_en is None  # saving the record does not confirm it
    actualizar_cliente(actor=recepcionista.user, cliente_id=cliente.pk, **datos, confirmar_telefono=True)
    assert ficha(user).telefono_verificado_medio == "recepcion"
    actualizar_cliente(actor=recepcionista.user, cliente_id=cliente.pk, **{**datos, "telefono": "+56 9 6333 4444"})
    cliente = ficha(user)
    assert str(cliente.telefono) == "+56963334444" and cliente.telefono_verificado_medio == "recepcion"


def test_el_dueno_se_registra_y_confirma_el_numero_que_otro_escribio(servidor_smtp):
    extrano = paciente_sms(1)  # typed the owner's number at sign-up
    dueno = registrar_cliente_web(nombre_completo="Dueño del Número", rut=rut_valido(12_000_001),
                                  email="dueno@correo.example", telefono=CELULAR, password=PASSWORD,
                                  acepta_privacidad=True)
    assert str(ficha(dueno).telefono) == CELULAR == str(ficha(extrano).telefono)
    enviar_codigo_telefono(user=dueno)
    confirmar_codigo_telefono(user=dueno, codigo=codigo_enviado())
    assert ficha(dueno).telefono_verificado_en is not None
    perdio = ficha(extrano)
    assert perdio.telefono == "" and perdio.canal_preferido == Canal.EMAIL
    [aviso] = Notificacion.objects.filter(plantilla="telefono_liberado")
    assert (aviso.canal, aviso.destinatario, aviso.cliente_id) == (Canal.EMAIL, extrano.email, perdio.pk)
    assert "terminado en 4567" in aviso.cuerpo
    # Now that it is confirmed, nobody else can claim it on the portal.
    error = error_de(registrar_cliente_web, nombre_completo="Otro Más", rut=rut_valido(12_000_002),
                     email="otro@correo.example", telefono=CELULAR, password=PASSWORD, acepta_privacidad=True)
    assert "telefono" in error.error_dict


def test_recepcion_registra_el_numero_que_otro_reclamo_sin_confirmar(recepcionista):
    extrano = paciente_sms(1)
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Rosa Díaz Mella",
                                       telefono="+56 9 6123 4567")
    cliente.refresh_from_db()
    assert cliente.telefono_verificado_medio == "recepcion"
    assert ficha(extrano).telefono == ""
    assert Notificacion.objects.filter(plantilla="telefono_liberado", destinatario=extrano.email).count() == 1
    # A confirmed number is unique among active patients: the desk cannot give it to a second one.
    with pytest.raises(ValidationError) as error:
        crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Otra Persona", telefono=CELULAR)
    assert [e.code for e in error.value.error_dict["telefono"]] == ["telefono_duplicado"]
