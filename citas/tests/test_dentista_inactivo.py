"""Slots of a dentist who no longer works (``Perfil.activo`` or ``User.is_active`` off): the
portal does not offer them, and no booking service gives them, whoever asks.

A patient is told what a taken slot tells (``hora_no_disponible``: the portal then shows the
nearest free slots); staff get their own ``dentista_inactivo``. Every refusal leaves the
database exactly as it was."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible, reprogramar_cita, reservar_cita
from citas.tests.test_services import registrar_paciente
from cliente_web.tests.conftest import cliente_de
from pruebas.soporte import huella_bd
from personal.models import Perfil
from personal.services import desactivar_personal

# The two ways a dentist is inactive; desactivar_personal turns off both, old data may have one.
FORMAS = ["perfil_inactivo", "usuario_inactivo", "desactivado_por_el_administrador"]


@pytest.fixture
def desactivar(crear_personal):
    def hacer(dentista, forma):
        if forma == "perfil_inactivo":
            Perfil.objects.filter(pk=dentista.pk).update(activo=False)
        elif forma == "usuario_inactivo":
            type(dentista.user).objects.filter(pk=dentista.user_id).update(is_active=False)
        else:
            administrador = crear_personal(rol="administrador", nombre="Ana", apellido="Admin")
            desactivar_personal(actor=administrador.user, perfil_id=dentista.pk)

    return hacer


@pytest.fixture
def libre(dentista, recepcionista, en_tres_dias_10):
    """A free slot of ``dentista`` three days ahead (beyond every portal limit)."""
    return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10)


def _rechazo(servicio, **argumentos):
    """The refusal's code; asserts it changed nothing."""
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        servicio(**argumentos)
    assert huella_bd() == antes
    return error.value


@pytest.mark.parametrize("forma", FORMAS)
def test_paciente_no_reserva_hora_de_dentista_inactivo(libre, dentista, desactivar, forma):
    paciente = registrar_paciente(1)
    desactivar(dentista, forma)
    error = _rechazo(reservar_cita, user=paciente, cita_id=libre.pk, motivo="control")
    assert error.code == "hora_no_disponible"
    assert Cita.objects.get(pk=libre.pk).estado == EstadoCita.DISPONIBLE


@pytest.mark.parametrize("forma", FORMAS)
@pytest.mark.parametrize("con_ficha", [True, False], ids=["con_ficha", "sin_ficha"])
def test_recepcion_no_asigna_hora_de_dentista_inactivo(libre, dentista, recepcionista, desactivar, forma, con_ficha):
    paciente = registrar_paciente(1)
    desactivar(dentista, forma)
    datos = {"cliente_id": paciente.cliente.pk} if con_ficha else {"paciente_nombre": "Rosa Díaz Vera"}
    error = _rechazo(asignar_cita, actor=recepcionista.user, cita_id=libre.pk, **datos)
    assert error.code == "dentista_inactivo"
    assert "inactivo" in error.message and "otro dentista" in error.message  # what to do next


@pytest.mark.parametrize("forma", FORMAS)
def test_reprogramar_a_hora_de_dentista_inactivo(libre, dentista, crear_personal, recepcionista, desactivar, forma):
    """Staff: ``dentista_inactivo``; the patient on the portal: ``hora_no_disponible``. Moving
    a booking *away* from an inactive dentist stays possible (that is why one moves it)."""
    otro = crear_personal(nombre="Tomás", apellido="Vidal")
    paciente = registrar_paciente(1)
    origen = crear_cita_disponible(actor=recepcionista.user, dentista_id=otro.pk, inicio=libre.inicio)
    reservar_cita(user=paciente, cita_id=origen.pk)
    con_el_inactivo = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                            inicio=libre.inicio + datetime.timedelta(hours=2))
    segundo = registrar_paciente(2)
    reservar_cita(user=segundo, cita_id=con_el_inactivo.pk)
    desactivar(dentista, forma)
    assert _rechazo(reprogramar_cita, actor=recepcionista.user, cita_id=origen.pk,
                    nueva_cita_id=libre.pk).code == "dentista_inactivo"
    assert _rechazo(reprogramar_cita, actor=paciente, cita_id=origen.pk,
                    nueva_cita_id=libre.pk).code == "hora_no_disponible"
    # The other way round: away from the inactive dentist.
    libre_del_otro = crear_cita_disponible(actor=recepcionista.user, dentista_id=otro.pk,
                                           inicio=libre.inicio + datetime.timedelta(hours=2))
    nueva = reprogramar_cita(actor=recepcionista.user, cita_id=con_el_inactivo.pk, nueva_cita_id=libre_del_otro.pk)
    assert nueva.cliente.user == segundo and nueva.dentista == otro


def test_reactivado_vuelve_a_dar_horas(libre, dentista, recepcionista, desactivar):
    desactivar(dentista, "perfil_inactivo")
    assert _rechazo(asignar_cita, actor=recepcionista.user, cita_id=libre.pk,
                    paciente_nombre="Rosa Díaz Vera").code == "dentista_inactivo"
    Perfil.objects.filter(pk=dentista.pk).update(activo=True)
    assert asignar_cita(actor=recepcionista.user, cita_id=libre.pk, paciente_nombre="Rosa Díaz Vera").estado == (
        EstadoCita.RESERVADA
    )


def test_una_hora_tomada_de_dentista_inactivo_sigue_siendo_hora_no_disponible(libre, dentista, recepcionista, desactivar):
    """The specific code is for a slot that would otherwise be given; a taken one is just gone."""
    asignar_cita(actor=recepcionista.user, cita_id=libre.pk, paciente_nombre="Rosa Díaz Vera")
    desactivar(dentista, "perfil_inactivo")
    assert _rechazo(asignar_cita, actor=recepcionista.user, cita_id=libre.pk,
                    paciente_nombre="Otra Persona").code == "hora_no_disponible"


def test_portal_dentista_desactivado_mientras_el_paciente_confirmaba(
    libre, dentista, crear_personal, recepcionista, desactivar
):
    """The patient opened the confirm page; the dentist was deactivated before they pressed
    the button: the portal answers as for a taken slot, with the nearest free ones (of active
    dentists only)."""
    paciente = registrar_paciente(1)
    otro = crear_personal(nombre="Tomás", apellido="Vidal")
    cercana = crear_cita_disponible(actor=recepcionista.user, dentista_id=otro.pk,
                                    inicio=libre.inicio + datetime.timedelta(minutes=30))
    del_inactivo = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                         inicio=libre.inicio + datetime.timedelta(minutes=30))
    portal = cliente_de(paciente)
    url = reverse("portal:reservar_confirmar", args=[libre.pk])
    assert portal.get(url).status_code == 200
    desactivar(dentista, "desactivado_por_el_administrador")
    antes = huella_bd()
    respuesta = portal.post(url, {"motivo": "control"})
    assert respuesta.status_code == 409
    contenido = respuesta.content.decode()
    assert "Esa hora ya no está disponible" in contenido
    assert reverse("portal:reservar_confirmar", args=[cercana.pk]) in contenido
    assert reverse("portal:reservar_confirmar", args=[del_inactivo.pk]) not in contenido
    assert huella_bd() == antes


def test_reservar_sigue_en_dos_sentencias_con_el_dentista_en_la_reserva(
    libre, django_assert_num_queries
):
    """The dentist's check lives inside the booking's statement: still one statement to take
    the slot, then the notifications and their job (plus the savepoint pair of the test's
    transaction), and the message still names the dentist."""
    user = registrar_paciente(5)
    # + the patient's row lock (the portal's cap), + the send budget's counter (issue 14)
    with django_assert_num_queries(7) as consultas:
        cita = reservar_cita(user=user, cita_id=libre.pk)
    assert "FOR NO KEY UPDATE" in consultas.captured_queries[1]["sql"]
    tomar = consultas.captured_queries[2]["sql"]
    assert "UPDATE citas_cita" in tomar and "personal_perfil" in tomar and "is_active" in tomar
    assert cita.reservada_en is not None
    from notificaciones.models import Notificacion

    assert "Camila Soto" in Notificacion.objects.get(cita=cita, canal="email").cuerpo
