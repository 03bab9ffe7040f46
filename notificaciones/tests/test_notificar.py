"""Recording notifications with the change that causes them (invariant 6, first half):
one row per channel, an idempotency key, and a delivery job only where there is a provider,
all inside the caller's transaction."""

import pytest
from django.core.exceptions import ValidationError

from notificaciones.models import Canal
from notificaciones.models import EstadoNotificacion, Notificacion
from notificaciones.services import notificar
from notificaciones.tests.conftest import EMAIL, TELEFONO, notificar_en_servicio
from pruebas.soporte import trabajos
from nucleo.servicios import operacion


class Interrumpido(Exception):
    pass


def ids_en_trabajos():
    return sorted(t["args"]["notificacion_id"] for t in trabajos(tarea="notificaciones.enviar"))


def test_sin_perfil_solo_correo(db):
    [n] = notificar_en_servicio(email=EMAIL, telefono=TELEFONO)
    n.refresh_from_db()
    assert n.canal == Canal.EMAIL
    assert n.destinatario == EMAIL
    assert n.plantilla == "reserva_confirmada"
    assert n.clave_idempotencia == "reserva_confirmada:cita-1:email"
    assert n.estado == EstadoNotificacion.PENDIENTE and n.intentos == 0 and n.enviada_en is None
    assert n.asunto == "Clínica Dental Sonrisa: su hora del lunes 3 de marzo a las 10:00"
    assert n.cuerpo.startswith("Hola Ana:")
    assert "Dra. Soto" in n.cuerpo and "http://127.0.0.1:8000/portal/citas/1/" in n.cuerpo


@pytest.mark.parametrize(
    ("preferido", "acepta", "email", "telefono", "canales"),
    [
        (Canal.WHATSAPP, {"whatsapp": True}, EMAIL, TELEFONO, {"email", "whatsapp"}),
        (Canal.WHATSAPP, {}, EMAIL, TELEFONO, {"email"}),
        (Canal.WHATSAPP, {"sms": True}, EMAIL, TELEFONO, {"email"}),
        (Canal.SMS, {"sms": True}, EMAIL, TELEFONO, {"email", "sms"}),
        (Canal.SMS, {"whatsapp": True}, EMAIL, TELEFONO, {"email"}),
        (Canal.EMAIL, {"whatsapp": True, "sms": True}, EMAIL, TELEFONO, {"email"}),
        (Canal.WHATSAPP, {"whatsapp": True}, EMAIL, "", {"email"}),
        (Canal.WHATSAPP, {"whatsapp": True}, "", TELEFONO, {"whatsapp"}),
        (Canal.SMS, {}, "", TELEFONO, set()),
    ],
)
def test_un_registro_por_canal_segun_preferencia_y_consentimiento(
    crear_perfil, preferido, acepta, email, telefono, canales
):
    perfil = crear_perfil(canal=preferido, **acepta)
    creadas = notificar_en_servicio(email=email, telefono=telefono, perfil=perfil)
    assert {n.canal for n in creadas} == canales
    assert Notificacion.objects.count() == len(canales)
    for n in Notificacion.objects.all():
        assert n.clave_idempotencia == f"reserva_confirmada:cita-1:{n.canal}"
        assert n.estado == EstadoNotificacion.PENDIENTE
        if n.canal == Canal.EMAIL:
            assert n.destinatario == email and n.asunto
        else:
            # The short text, no subject, to the phone.
            assert n.destinatario == telefono and n.asunto == ""
            assert n.cuerpo.startswith("Clínica Dental Sonrisa: su hora quedó reservada")
            # The dentist (issue 14: whom to ask for) and the appointment's page.
            assert "Dra. Soto" in n.cuerpo and n.cuerpo.endswith("http://127.0.0.1:8000/portal/citas/1/")


def test_trabajos_solo_para_los_correos(crear_perfil):
    perfil = crear_perfil(canal=Canal.WHATSAPP, whatsapp=True)
    creadas = notificar_en_servicio(email=EMAIL, telefono=TELEFONO, perfil=perfil)
    correo = next(n for n in creadas if n.canal == Canal.EMAIL)
    [trabajo] = trabajos()
    assert trabajo["task_name"] == "notificaciones.enviar"
    assert trabajo["args"] == {"notificacion_id": correo.pk}  # the id only, never the address
    assert trabajo["status"] == "todo"


def test_sin_correo_no_hay_trabajos(crear_perfil):
    perfil = crear_perfil(canal=Canal.SMS, sms=True)
    [n] = notificar_en_servicio(email="", telefono=TELEFONO, perfil=perfil)
    assert n.canal == Canal.SMS
    assert trabajos() == []


def test_la_misma_referencia_se_registra_una_vez(crear_perfil):
    perfil = crear_perfil(canal=Canal.WHATSAPP, whatsapp=True)
    primeras = notificar_en_servicio(referencia="cita-7", email=EMAIL, telefono=TELEFONO, perfil=perfil)
    # A retried request, in its own service transaction: the unique key refuses it and
    # operacion turns the IntegrityError into a ValidationError (never a 500).
    with pytest.raises(ValidationError) as error:
        notificar_en_servicio(referencia="cita-7", email=EMAIL, telefono=TELEFONO, perfil=perfil)
    assert error.value.code == "notificacion_duplicada"
    assert error.value.messages == ["Ese aviso ya fue registrado."]
    assert Notificacion.objects.count() == 2
    assert set(Notificacion.objects.values_list("pk", flat=True)) == {n.pk for n in primeras}
    assert len(trabajos()) == 1
    # Another reference, or another event for the same thing, is another message.
    notificar_en_servicio(referencia="cita-8", email=EMAIL)
    notificar_en_servicio(evento="cita_asignada", referencia="cita-7", email=EMAIL)
    assert Notificacion.objects.count() == 4
    assert len(trabajos()) == 3


@pytest.mark.django_db(transaction=True)
def test_rollback_no_deja_ni_filas_ni_trabajos(crear_perfil):
    perfil = crear_perfil(canal=Canal.WHATSAPP, whatsapp=True)
    with pytest.raises(Interrumpido):
        with operacion("prueba_rollback"):
            creadas = notificar(
                evento="bienvenida", referencia="u-1", email=EMAIL, telefono=TELEFONO, perfil=perfil,
                contexto={"nombre": "Ana"},
            )
            assert len(creadas) == 2 and len(trabajos()) == 1  # written, inside the transaction
            raise Interrumpido
    assert not Notificacion.objects.exists()
    assert trabajos() == []


@pytest.mark.django_db(transaction=True)
def test_commit_deja_filas_y_trabajos():
    with operacion("prueba_commit"):
        [n] = notificar(evento="bienvenida", referencia="u-1", email=EMAIL, contexto={"nombre": "Ana"})
    assert Notificacion.objects.filter(pk=n.pk).exists()
    assert ids_en_trabajos() == [n.pk]


@pytest.mark.django_db(transaction=True)
def test_fuera_de_una_transaccion_es_un_error():
    with pytest.raises(RuntimeError):
        notificar(evento="bienvenida", referencia="u-1", email=EMAIL, contexto={"nombre": "Ana"})
    assert not Notificacion.objects.exists()
    assert trabajos() == []


def test_evento_desconocido(db):
    with pytest.raises(ValueError):
        notificar_en_servicio(evento="promocion")
    assert not Notificacion.objects.exists()
