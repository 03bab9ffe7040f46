"""The staff's summary of a patient's appointments and notices (``citas.del_paciente``)."""

import datetime

import pytest
from django.utils import timezone

from citas.del_paciente import resumen_paciente
from citas.models import Cita, EstadoCita
from notificaciones.models import Notificacion
from pacientes.models import Cliente


def crear(nombre, rut="", email="", telefono=""):
    return Cliente.objects.create(nombre_completo=nombre, rut=rut, email=email, telefono=telefono)


def test_resumen_paciente_en_dos_consultas(dentista, django_assert_num_queries):
    cliente = crear("José Núñez Ávila", "12345678-5", "jose.nunez@correo.example", "+56961234567")
    otro = crear("María José Pérez Soto", "10000013-K", "mjperez@correo.example", "+56962223333")
    ahora = timezone.now()
    horas = iter(range(100))

    def cita(quien, dias, estado):
        inicio = ahora + datetime.timedelta(days=dias, hours=next(horas))
        return Cita.objects.create(
            dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30), estado=estado,
            cliente=quien, paciente_nombre=quien.nombre_completo,
        )

    for estado in (EstadoCita.RESERVADA, EstadoCita.CONFIRMADA, EstadoCita.CANCELADA):
        cita(cliente, 3, estado)
    for estado in (EstadoCita.ATENDIDA, EstadoCita.NO_ASISTIO, EstadoCita.ATENDIDA, EstadoCita.CANCELADA):
        cita(cliente, -30, estado)
    cita(otro, 3, EstadoCita.RESERVADA)
    cita(otro, -3, EstadoCita.ATENDIDA)
    for i in range(8):
        Notificacion.objects.create(
            cliente=cliente, canal="email", plantilla="reserva_confirmada", destinatario=cliente.email,
            cuerpo=f"aviso {i}", clave_idempotencia=f"prueba:{cliente.pk}:{i}",
        )
    Notificacion.objects.create(
        cliente=otro, canal="email", plantilla="bienvenida", destinatario=otro.email, cuerpo="otro",
        clave_idempotencia=f"prueba:{otro.pk}",
    )

    with django_assert_num_queries(2):
        resumen = resumen_paciente(cliente.pk)
        assert resumen.cliente.user is None  # loaded with the patient, no extra query
    assert resumen.cliente == cliente
    assert (resumen.citas_futuras, resumen.citas_pasadas) == (2, 3)
    assert [n.cuerpo for n in resumen.ultimas_notificaciones] == [f"aviso {i}" for i in range(7, 2, -1)]

    with django_assert_num_queries(2):
        resumen = resumen_paciente(otro.pk, notificaciones=10)
    assert (resumen.citas_futuras, resumen.citas_pasadas) == (1, 1)
    assert [n.cuerpo for n in resumen.ultimas_notificaciones] == ["otro"]


def test_resumen_de_paciente_sin_historia(db):
    cliente = crear("Paciente Nuevo")
    resumen = resumen_paciente(cliente.pk)
    assert (resumen.citas_futuras, resumen.citas_pasadas, resumen.ultimas_notificaciones) == (0, 0, [])


def test_resumen_de_paciente_inexistente(db):
    with pytest.raises(Cliente.DoesNotExist):
        resumen_paciente(999_999)
