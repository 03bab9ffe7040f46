import datetime

import pghistory.models
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente, rut_valido
from cuentas.models import PerfilCliente
from notificaciones.models import Notificacion
from pacientes.models import Cliente
from pacientes.services import actualizar_cliente, desactivar_cliente
from cuentas.presencial import crear_cliente_presencial
from cuentas.eliminacion import eliminar_cliente, resumen_eliminacion

User = get_user_model()


def presencial(actor, **extra):
    datos = {
        "nombre_completo": "Javiera Fuentes Muñoz",
        "rut": "10.000.013-k",
        "email": "  Javiera.Fuentes@Correo.EXAMPLE ",
        "telefono": "9 6123 4567",
        "alergias": "Penicilina",
    }
    datos.update(extra)
    return crear_cliente_presencial(actor=actor, **datos)


# crear_cliente_presencial (flow A) ---------------------------------------------------------


def test_presencial_sin_cuenta_normaliza_y_no_crea_login(recepcionista):
    cliente = presencial(recepcionista.user)
    assert (cliente.rut, cliente.email, str(cliente.telefono)) == (
        "10000013-K", "javiera.fuentes@correo.example", "+56961234567",
    )
    assert cliente.user is None
    assert not Notificacion.objects.exists()


def test_presencial_con_invitacion_crea_cuenta_sin_clave_y_enlace(recepcionista):
    cliente = presencial(recepcionista.user, enviar_invitacion=True)
    user = cliente.user
    assert user.username == user.email == "javiera.fuentes@correo.example"
    assert (user.first_name, user.last_name) == ("Javiera", "Fuentes Muñoz")
    assert not user.has_usable_password()
    assert PerfilCliente.objects.filter(user=user).exists()
    invitacion = Notificacion.objects.get(plantilla="invitacion")
    assert invitacion.destinatario == user.email
    assert "/portal/activar/" in invitacion.cuerpo
    # Never a password in the message: the account has none to leak.
    assert "contraseña:" not in invitacion.cuerpo.lower()


def test_presencial_invitacion_exige_correo(recepcionista):
    with pytest.raises(ValidationError) as error:
        presencial(recepcionista.user, email="", enviar_invitacion=True)
    assert error.value.error_dict["email"][0].code == "email_obligatorio"
    assert not Cliente.objects.exists() and not User.objects.filter(is_staff=False).exists()


@pytest.mark.parametrize(
    ("campo", "valor", "codigo"),
    [
        ("rut", "10000013-K", "rut_duplicado"),
        ("email", "JAVIERA.fuentes@correo.example", "email_duplicado"),
        ("telefono", "+56 9 6123 4567", "telefono_duplicado"),
    ],
)
def test_presencial_duplicado_rechazado_con_enlace_a_la_ficha(recepcionista, campo, valor, codigo):
    original = presencial(recepcionista.user)
    otros = {"rut": rut_valido(7_000_001), "email": "otra@correo.example", "telefono": "+56961234999"}
    otros[campo] = valor
    with pytest.raises(ValidationError) as error:
        presencial(recepcionista.user, nombre_completo="Otra Persona", **otros)
    detalle = error.value.error_dict[campo][0]
    assert detalle.code == codigo and detalle.params["cliente_id"] == original.pk
    assert Cliente.objects.count() == 1


def test_presencial_rechaza_correo_de_una_cuenta_existente(recepcionista):
    User.objects.create_user(username="ocupado@correo.example", email="ocupado@correo.example")
    with pytest.raises(ValidationError) as error:
        presencial(recepcionista.user, email="Ocupado@correo.example", enviar_invitacion=True)
    assert error.value.error_dict["email"][0].code == "cuenta_duplicada"


def test_datos_invalidos_todos_a_la_vez(recepcionista):
    with pytest.raises(ValidationError) as error:
        # A foreign number is a valid contact number at the desk now (issue 13): an unallocated one is not.
        presencial(recepcionista.user, nombre_completo="", rut="12.345.678-9", email="x@", telefono="+56 1 2345")
    assert set(error.value.error_dict) == {"nombre_completo", "rut", "email", "telefono"}


@pytest.mark.django_db(transaction=True)
def test_fallas_en_crear_cliente_presencial(probar_fallas, recepcionista):
    escrituras = probar_fallas(lambda: presencial(recepcionista.user, enviar_invitacion=True))
    # Cliente, User, PerfilCliente, the link, the notification with its job (audit rows by trigger).
    assert escrituras >= 5
    assert Cliente.objects.get().user.perfil_cliente is not None


# actualizar_cliente / desactivar_cliente -------------------------------------------------------


def test_actualizar_cliente_arrastra_el_login(recepcionista):
    cliente = presencial(recepcionista.user, enviar_invitacion=True)
    actualizar_cliente(
        actor=recepcionista.user, cliente_id=cliente.pk, nombre_completo="Javiera Andrea Fuentes Muñoz",
        email="JFuentes@Nuevo.example", telefono="+56961234567", rut="10000013-K",
    )
    user = User.objects.get(pk=cliente.user_id)
    assert user.email == user.username == "jfuentes@nuevo.example"
    assert (user.first_name, user.last_name) == ("Javiera Andrea", "Fuentes Muñoz")


def test_actualizar_no_choca_consigo_mismo_pero_si_con_otro(recepcionista):
    uno = presencial(recepcionista.user)
    otro = presencial(
        recepcionista.user, nombre_completo="Otro", rut=rut_valido(7_000_002), email="otro@correo.example",
        telefono="+56961230000",
    )
    actualizar_cliente(actor=recepcionista.user, cliente_id=uno.pk, nombre_completo="Javiera F.", rut=uno.rut,
                       email=uno.email, telefono=str(uno.telefono))
    with pytest.raises(ValidationError) as error:
        actualizar_cliente(actor=recepcionista.user, cliente_id=otro.pk, nombre_completo="Otro", rut=uno.rut)
    assert error.value.error_dict["rut"][0].code == "rut_duplicado"


def test_desactivar_bloquea_login_y_libera_datos(recepcionista):
    cliente = presencial(recepcionista.user, enviar_invitacion=True)
    desactivar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)
    assert not User.objects.get(pk=cliente.user_id).is_active
    nuevo = presencial(recepcionista.user)  # same RUT/e-mail/phone, now free among active patients
    assert nuevo.pk != cliente.pk


@pytest.mark.django_db(transaction=True)
def test_fallas_en_actualizar_y_desactivar(probar_fallas, recepcionista):
    cliente = presencial(recepcionista.user, enviar_invitacion=True)
    probar_fallas(lambda: actualizar_cliente(
        actor=recepcionista.user, cliente_id=cliente.pk, nombre_completo="Javiera Nueva", email="nueva@correo.example"
    ))
    probar_fallas(lambda: desactivar_cliente(actor=recepcionista.user, cliente_id=cliente.pk))
    cliente.refresh_from_db()
    assert cliente.email == "nueva@correo.example" and not cliente.activo


# eliminar_cliente (the seed's improved deletion flow) ------------------------------------------


@pytest.fixture
def paciente_con_historia(dentista, recepcionista):
    """A portal patient with one past attended visit, one future booking and one cancelled one."""
    user = registrar_paciente(7)
    cliente = user.cliente
    ahora = timezone.now()
    pasada = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=ahora + datetime.timedelta(hours=1))
    futura = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=ahora + datetime.timedelta(days=3))
    asignar_cita(actor=recepcionista.user, cita_id=pasada.pk, cliente_id=cliente.pk)
    asignar_cita(actor=recepcionista.user, cita_id=futura.pk, cliente_id=cliente.pk)
    # The first visit happened last month and was attended.
    Cita.objects.filter(pk=pasada.pk).update(
        estado=EstadoCita.ATENDIDA, inicio=ahora - datetime.timedelta(days=30),
        fin=ahora - datetime.timedelta(days=30) + datetime.timedelta(minutes=30),
    )
    return cliente, pasada, futura


def test_eliminar_cliente_completo(paciente_con_historia, recepcionista):
    """Issue 15: the attended visit is a clinical record, so the patient is erased under legal
    hold (``ficha.retencion``): the account goes, the future booking is freed, the visit stays
    linked to the kept record without contact data. Without a record, see
    ``cuentas/tests/test_eliminacion_resguardo.py::test_sin_ficha_se_elimina_como_siempre``."""
    cliente, pasada, futura = paciente_con_historia
    user_id = cliente.user_id
    previsto = resumen_eliminacion(cliente_id=cliente.pk)

    resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)

    assert resumen == previsto
    assert (resumen.cuenta_eliminada, resumen.citas_futuras_liberadas, resumen.citas_pasadas_conservadas) == (True, 1, 1)
    assert resumen.ficha_en_resguardo
    cliente_guardado = Cliente.objects.get(pk=cliente.pk)
    assert not cliente_guardado.activo and cliente_guardado.email == "" and cliente_guardado.user_id is None
    assert not User.objects.filter(pk=user_id).exists()
    assert not PerfilCliente.objects.filter(user_id=user_id).exists()
    futura.refresh_from_db()
    assert futura.estado == EstadoCita.DISPONIBLE and futura.paciente_nombre == "" and futura.cliente is None
    pasada.refresh_from_db()
    assert pasada.estado == EstadoCita.ATENDIDA and pasada.cliente_id == cliente.pk
    assert pasada.paciente_nombre == cliente.nombre_completo and pasada.paciente_email == ""
    # The audit trail names the erased record and who erased it.
    cambios = pghistory.models.Events.objects.filter(pgh_label="update", pgh_obj_id=str(cliente.pk),
                                                     pgh_obj_model="pacientes.Cliente")
    borrado = [e for e in cambios if (e.pgh_context or {}).get("servicio") == "eliminar_cliente"]
    assert borrado and borrado[-1].pgh_context["user"] == recepcionista.user.pk
    assert borrado[-1].pgh_data["activo"] is False and borrado[-1].pgh_data["email"] == ""


def test_eliminar_con_respaldo_por_correo_para_datos_antiguos(recepcionista):
    """Old data: the patient's login is not linked through user_id (the seed's fallback)."""
    cliente = presencial(recepcionista.user)
    huerfano = User.objects.create_user(username="javiera.fuentes@correo.example", email="javiera.fuentes@correo.example")
    PerfilCliente.objects.create(user=huerfano)
    personal = User.objects.create_user(username="staff", email="javiera.fuentes@correo.example", is_staff=True)

    resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)

    assert resumen.cuenta_eliminada
    assert not User.objects.filter(pk=huerfano.pk).exists()
    assert not PerfilCliente.objects.filter(user_id=huerfano.pk).exists()
    assert User.objects.filter(pk=personal.pk).exists(), "el personal nunca se borra"


def test_eliminar_inexistente(recepcionista):
    with pytest.raises(Cliente.DoesNotExist):
        eliminar_cliente(actor=recepcionista.user, cliente_id=987_654)


@pytest.mark.django_db(transaction=True)
def test_fallas_en_eliminar_cliente(probar_fallas, paciente_con_historia, recepcionista):
    cliente, _, _ = paciente_con_historia
    assert probar_fallas(lambda: eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)) >= 4
    # Issue 15: the attended visit is a clinical record; the patient stays only as its holder.
    assert not Cliente.objects.get(pk=cliente.pk).activo and Cliente.objects.get(pk=cliente.pk).resguardo
