import datetime
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import (
    asignar_cita,
    cancelar_cita,
    crear_cita_disponible,
    reservar_cita,
)
from cuentas.services import registrar_cliente_web
from notificaciones.models import Notificacion
from pacientes.models import Cliente
from pruebas.soporte import huella_bd, rut_valido
from cuentas.presencial import crear_cliente_presencial

from pruebas import soporte  # noqa: E402

PASSWORD = "Muela-Sana-2026"


def registrar_paciente(n, *, confirmar_telefono=None, **extra):
    """A portal patient. One who opts in to WhatsApp or SMS also confirms their number (as with
    the code of cuentas.codigos), or no message could reach that channel (issue 14);
    ``confirmar_telefono`` says otherwise."""
    datos = {
        "nombre_completo": f"Paciente Número {n}",
        "rut": rut_valido(11_000_000 + n),
        "email": f"paciente{n}@correo.example",
        "telefono": f"+5696{n:07d}",
        "password": PASSWORD,
        "acepta_privacidad": True,
    }
    datos.update(extra)
    resultado = registrar_cliente_web(**datos)
    if confirmar_telefono is None:
        confirmar_telefono = bool(datos.get("acepta_whatsapp") or datos.get("acepta_sms"))
    if confirmar_telefono:
        soporte.confirmar_telefono(user=resultado)
    return resultado


@pytest.fixture
def hora_libre(dentista, recepcionista, manana_10):
    return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)


@pytest.fixture
def paciente_web(db):
    return registrar_paciente(1)


# crear_cita_disponible ------------------------------------------------------------------------


def test_crear_cita_disponible_calcula_fin_en_utc(dentista, recepcionista, manana_10):
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10, duracion_minutos=45)
    assert cita.estado == EstadoCita.DISPONIBLE
    assert cita.duracion == datetime.timedelta(minutes=45)


def test_crear_cita_traslapada_da_mensaje_claro(hora_libre, dentista, recepcionista, manana_10):
    with pytest.raises(ValidationError) as error:
        crear_cita_disponible(
            actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10 + datetime.timedelta(minutes=15)
        )
    assert error.value.code == "traslape"
    assert Cita.objects.count() == 1


@pytest.mark.parametrize(
    ("cambios", "campo", "codigo"),
    [
        ({"duracion_minutos": 0}, "duracion_minutos", "duracion_invalida"),
        ({"duracion_minutos": 10_000}, "duracion_minutos", "duracion_invalida"),
        ({"duracion_minutos": "30"}, "duracion_minutos", "duracion_invalida"),
        ({"inicio": datetime.datetime(2027, 1, 4, 10, 0)}, "inicio", "fecha_sin_zona"),
        ({"inicio": "mañana"}, "inicio", "fecha_sin_zona"),
        ({"dentista_id": 999_999}, "dentista", "dentista_invalido"),
    ],
)
def test_crear_cita_disponible_rechaza_datos_malos(dentista, recepcionista, manana_10, cambios, campo, codigo):
    argumentos = {"actor": recepcionista.user, "dentista_id": dentista.pk, "inicio": manana_10, **cambios}
    with pytest.raises(ValidationError) as error:
        crear_cita_disponible(**argumentos)
    assert error.value.error_dict[campo][0].code == codigo
    assert not Cita.objects.exists()


def test_recepcionista_no_es_dentista(recepcionista, manana_10):
    with pytest.raises(ValidationError):
        crear_cita_disponible(actor=recepcionista.user, dentista_id=recepcionista.pk, inicio=manana_10)


# reservar_cita ------------------------------------------------------------------------------


def test_reservar_cita_toma_la_hora_llena_snapshot_y_encola_confirmacion(hora_libre, paciente_web):
    cita = reservar_cita(user=paciente_web, cita_id=hora_libre.pk, motivo="  control  anual ")
    cliente = paciente_web.cliente
    assert cita.estado == EstadoCita.RESERVADA
    assert cita.cliente_id == cliente.pk
    assert (cita.paciente_nombre, cita.paciente_email, cita.paciente_telefono) == (
        cliente.nombre_completo, cliente.email, str(cliente.telefono),
    )
    assert cita.motivo == "control anual"
    confirmacion = Notificacion.objects.get(cita=cita, plantilla="reserva_confirmada")
    assert confirmacion.canal == "email" and confirmacion.destinatario == cliente.email
    assert "Camila Soto" in confirmacion.cuerpo and "10:00" in confirmacion.cuerpo
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE args->>'notificacion_id' = %s", [str(confirmacion.pk)])
        assert cursor.fetchone()[0] == 1


def test_reservar_hora_tomada_da_hora_no_disponible(hora_libre, paciente_web):
    reservar_cita(user=paciente_web, cita_id=hora_libre.pk)
    otro = registrar_paciente(2)
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=otro, cita_id=hora_libre.pk)
    assert error.value.code == "hora_no_disponible"
    assert Cita.objects.get().cliente.user == paciente_web


def test_no_se_reserva_una_hora_pasada(dentista, recepcionista, paciente_web):
    ayer = timezone.now() - datetime.timedelta(days=1)
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=ayer)
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=paciente_web, cita_id=cita.pk)
    assert error.value.code == "hora_no_disponible"


def test_reservar_id_inexistente_o_basura_no_cambia_nada(hora_libre, paciente_web):
    for cita_id in (999_999, -1, 0):
        with pytest.raises(ValidationError) as error:
            reservar_cita(user=paciente_web, cita_id=cita_id)
        assert error.value.code == "hora_no_disponible"
    assert Cita.objects.get().estado == EstadoCita.DISPONIBLE
    assert not Notificacion.objects.filter(plantilla="reserva_confirmada").exists()


def test_reservar_motivo_demasiado_largo(hora_libre, paciente_web):
    with pytest.raises(ValidationError) as error:
        reservar_cita(user=paciente_web, cita_id=hora_libre.pk, motivo="x" * 201)
    assert error.value.error_dict["motivo"][0].code == "motivo_largo"
    assert Cita.objects.get().estado == EstadoCita.DISPONIBLE


def test_usuario_antiguo_sin_ficha_obtiene_una_al_reservar(hora_libre):
    user = get_user_model().objects.create_user(
        username="antiguo@correo.example", email="Antiguo@Correo.example", first_name="Rosa", last_name="Vera"
    )
    cita = reservar_cita(user=user, cita_id=hora_libre.pk)
    assert cita.cliente.user == user
    assert cita.cliente.email == "antiguo@correo.example"
    assert cita.paciente_nombre == "Rosa Vera"


def test_whatsapp_con_consentimiento_queda_pendiente_sin_trabajo(hora_libre):
    user = registrar_paciente(3, canal_preferido="whatsapp", acepta_whatsapp=True)
    cita = reservar_cita(user=user, cita_id=hora_libre.pk)
    canales = dict(Notificacion.objects.filter(cita=cita).values_list("canal", "estado"))
    assert canales == {"email": "pendiente", "whatsapp": "pendiente"}
    whatsapp = Notificacion.objects.get(cita=cita, canal="whatsapp")
    assert whatsapp.destinatario == "+56960000003"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE args->>'notificacion_id' = %s", [str(whatsapp.pk)])
        assert cursor.fetchone()[0] == 0


# asignar_cita -------------------------------------------------------------------------------


def test_asignar_cita_a_paciente_con_ficha(hora_libre, recepcionista):
    cliente = crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Luis Muñoz", rut=rut_valido(9_876_543), email="luis@correo.example"
    )
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora_libre.pk, cliente_id=cliente.pk)
    assert cita.estado == EstadoCita.RESERVADA and cita.cliente == cliente
    assert cita.paciente_nombre == "Luis Muñoz"
    assert Notificacion.objects.filter(cita=cita, plantilla="cita_asignada", destinatario="luis@correo.example").exists()


def test_asignar_cita_a_persona_sin_ficha_usa_snapshot(hora_libre, recepcionista):
    cita = asignar_cita(
        actor=recepcionista.user, cita_id=hora_libre.pk, paciente_nombre=" Marta  Díaz ", paciente_telefono="9 6123 4567"
    )
    assert cita.cliente is None
    assert (cita.paciente_nombre, cita.paciente_telefono) == ("Marta Díaz", "+56961234567")
    # Without opt-in records nobody gets a WhatsApp/SMS; without e-mail there is nothing to send.
    assert not Notificacion.objects.filter(cita=cita).exists()


@pytest.mark.parametrize(
    ("datos", "campo", "codigo"),
    [
        ({"paciente_nombre": ""}, "paciente_nombre", "nombre_obligatorio"),
        ({"paciente_nombre": "Ana", "paciente_telefono": "+1 415 555 2671"}, "paciente_telefono", "telefono_invalido"),
        ({"paciente_nombre": "Ana", "paciente_email": "no-es-correo"}, "paciente_email", "email_invalido"),
    ],
)
def test_asignar_sin_ficha_rechaza_datos_malos(hora_libre, recepcionista, datos, campo, codigo):
    with pytest.raises(ValidationError) as error:
        asignar_cita(actor=recepcionista.user, cita_id=hora_libre.pk, **datos)
    assert error.value.error_dict[campo][0].code == codigo
    assert Cita.objects.get().estado == EstadoCita.DISPONIBLE


def test_asignar_a_paciente_inexistente(hora_libre, recepcionista):
    with pytest.raises(ValidationError) as error:
        asignar_cita(actor=recepcionista.user, cita_id=hora_libre.pk, cliente_id=123_456)
    assert error.value.error_dict["cliente"][0].code == "cliente_invalido"


def _antes_de_la_transaccion(monkeypatch, cambio):
    """Run ``cambio`` just before the service opens its transaction: what a concurrent erasure or
    edit committed between a read outside the transaction and the booking would look like."""
    import citas.services as servicios

    original = servicios.operacion

    def operacion(*args, **kwargs):
        cambio()
        return original(*args, **kwargs)

    monkeypatch.setattr(servicios, "operacion", operacion)


def test_asignar_relee_al_paciente_dentro_de_la_transaccion(hora_libre, recepcionista, monkeypatch):
    """A patient erased (or put under legal hold) while reception was booking is refused: the
    service reads them under a row lock in its own transaction, never before it."""
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Rosa Díaz Muñoz",
                                       rut=rut_valido(15_000_001), email="rosa@correo.example")
    _antes_de_la_transaccion(monkeypatch, lambda: Cliente.objects.filter(pk=cliente.pk).update(activo=False))
    with pytest.raises(ValidationError) as error:
        asignar_cita(actor=recepcionista.user, cita_id=hora_libre.pk, cliente_id=cliente.pk)
    assert error.value.error_dict["cliente"][0].code == "cliente_invalido"
    assert Cita.objects.get().estado == EstadoCita.DISPONIBLE


def test_asignar_toma_la_copia_del_contacto_de_la_lectura_bloqueada(hora_libre, recepcionista, monkeypatch):
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Rosa Díaz Muñoz",
                                       rut=rut_valido(15_000_001), email="rosa@correo.example")
    _antes_de_la_transaccion(monkeypatch,
                             lambda: Cliente.objects.filter(pk=cliente.pk).update(email="rosa.nueva@correo.example"))
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora_libre.pk, cliente_id=cliente.pk)
    assert cita.paciente_email == "rosa.nueva@correo.example"
    assert Notificacion.objects.get(cita=cita).destinatario == "rosa.nueva@correo.example"


# cancelar_cita ------------------------------------------------------------------------------


def test_paciente_cancela_y_la_hora_vuelve_a_estar_disponible(dentista, recepcionista, en_tres_dias_10, paciente_web):
    hora_libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10)
    reservar_cita(user=paciente_web, cita_id=hora_libre.pk)
    cita = cancelar_cita(actor=paciente_web, cita_id=hora_libre.pk)
    cita.refresh_from_db()
    assert cita.estado == EstadoCita.DISPONIBLE
    assert cita.cliente is None and cita.paciente_nombre == ""
    assert Notificacion.objects.filter(plantilla="cita_cancelada_paciente", destinatario=paciente_web.email).exists()
    # The slot can be booked again.
    assert reservar_cita(user=registrar_paciente(2), cita_id=cita.pk).estado == EstadoCita.RESERVADA


def test_clinica_cancela_y_avisa_al_paciente(hora_libre, paciente_web, recepcionista):
    reservar_cita(user=paciente_web, cita_id=hora_libre.pk)
    cita = cancelar_cita(actor=recepcionista.user, cita_id=hora_libre.pk, por_clinica=True, motivo="dentista enfermo")
    cita.refresh_from_db()
    assert cita.estado == EstadoCita.CANCELADA and cita.cliente.user == paciente_web
    aviso = Notificacion.objects.get(plantilla="cita_cancelada_clinica")
    assert "dentista enfermo" in aviso.cuerpo


def test_paciente_no_cancela_la_cita_de_otro(hora_libre, paciente_web):
    reservar_cita(user=paciente_web, cita_id=hora_libre.pk)
    intruso = registrar_paciente(2)
    with pytest.raises(ValidationError) as error:
        cancelar_cita(actor=intruso, cita_id=hora_libre.pk)
    assert error.value.code == "cita_no_encontrada"
    with pytest.raises(ValidationError) as error:
        cancelar_cita(actor=intruso, cita_id=hora_libre.pk, por_clinica=True)
    assert error.value.code == "no_autorizado"
    assert Cita.objects.get().estado == EstadoCita.RESERVADA


def test_no_se_cancela_una_hora_libre(hora_libre, recepcionista):
    with pytest.raises(ValidationError) as error:
        cancelar_cita(actor=recepcionista.user, cita_id=hora_libre.pk, motivo="llamó por teléfono")
    assert error.value.code == "no_cancelable"


# Invariant 5 under real concurrency ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_veinte_reservas_simultaneas_de_una_hora_solo_una_gana(dentista, recepcionista, manana_10):
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    usuarios = [registrar_paciente(n) for n in range(20)]
    barrera = threading.Barrier(len(usuarios))
    resultados = []

    def intentar(user):
        try:
            barrera.wait()
            reservar_cita(user=user, cita_id=hora.pk)
            resultados.append("ok")
        except ValidationError as error:
            resultados.append(error.code)
        finally:
            connection.close()

    hilos = [threading.Thread(target=intentar, args=(u,)) for u in usuarios]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()

    assert sorted(resultados) == ["hora_no_disponible"] * 19 + ["ok"]
    assert Cita.objects.filter(estado=EstadoCita.RESERVADA).count() == 1
    assert Notificacion.objects.filter(plantilla="reserva_confirmada").count() == 1


# Fault injection: a crash after any write leaves nothing behind -----------------------------


@pytest.mark.django_db(transaction=True)
def test_fallas_en_reservar_cita(probar_fallas, dentista, recepcionista, manana_10):
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    user = registrar_paciente(1, canal_preferido="sms", acepta_sms=True)
    escrituras = probar_fallas(lambda: reservar_cita(user=user, cita_id=hora.pk))
    # The patient's row lock (the portal's cap); the booking; the send budget's counter (issue 14);
    # the notifications; their job (procrastinate's defer).
    assert escrituras == 5
    assert Cita.objects.get().estado == EstadoCita.RESERVADA


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("tabla", ["citas_citaevent", "notificaciones_notificacion", "procrastinate_jobs"])
def test_una_falla_dentro_de_la_base_tampoco_deja_nada(dentista, recepcionista, manana_10, tabla):
    """Faults inside the database (the audit row, the notification, the job: a trigger that
    raises, injected here) undo the whole booking too."""
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    user = registrar_paciente(1, canal_preferido="sms", acepta_sms=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION falla_inyectada() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'falla inyectada'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER falla_inyectada BEFORE INSERT ON {tabla} FOR EACH ROW EXECUTE FUNCTION falla_inyectada()"
        )
    try:
        antes = huella_bd()
        with pytest.raises(Exception) as falla:
            reservar_cita(user=user, cita_id=hora.pk)
        # procrastinate wraps the job's database error (ConnectorException), the original as its cause.
        assert "falla inyectada" in f"{falla.value} {falla.value.__cause__}"
        assert huella_bd() == antes
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER falla_inyectada ON {tabla}; DROP FUNCTION falla_inyectada()")
    assert reservar_cita(user=user, cita_id=hora.pk).estado == EstadoCita.RESERVADA


@pytest.mark.django_db(transaction=True)
def test_fallas_en_asignar_y_cancelar(probar_fallas, dentista, recepcionista, en_tres_dias_10):
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10)
    user = registrar_paciente(1)
    assert probar_fallas(lambda: asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=user.cliente.pk)) >= 2
    assert probar_fallas(lambda: cancelar_cita(actor=user, cita_id=hora.pk)) >= 2
    assert Cita.objects.get().estado == EstadoCita.DISPONIBLE


def test_reservar_cita_hace_un_numero_fijo_de_consultas(hora_libre, django_assert_num_queries):
    """Pinned: one statement locks the patient's row (so the portal's cap counts right under
    concurrency), one takes the slot for the user's patient (and returns what the message
    needs), one counts the messages on their destinations' send budget (issue 14), one records
    the notifications, one defers their job (procrastinate's batch_defer), plus the savepoint
    pair of the durable block inside the test's transaction."""
    user = registrar_paciente(5, canal_preferido="whatsapp", acepta_whatsapp=True)
    with django_assert_num_queries(7) as consultas:
        reservar_cita(user=user, cita_id=hora_libre.pk)
    assert sum("procrastinate_defer" in c["sql"] for c in consultas.captured_queries) == 1


def test_una_hora_que_cruza_el_cambio_de_hora_dura_lo_que_dice(dentista, recepcionista):
    """Saturday 2027-04-03 23:30 in Santiago, 60 minutes: clocks go back at 24:00, so the slot
    ends at 23:30 again (second occurrence), one real hour later."""
    from zoneinfo import ZoneInfo

    inicio = datetime.datetime(2027, 4, 3, 23, 30, tzinfo=ZoneInfo("America/Santiago"))
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio, duracion_minutos=60)
    cita.refresh_from_db()
    assert cita.fin - cita.inicio == datetime.timedelta(minutes=60)


@pytest.mark.django_db(transaction=True)
def test_fallas_al_crear_la_ficha_y_reservar(probar_fallas, dentista, recepcionista, manana_10):
    """Old data: a portal login without its patient record books. The record is made and the
    slot taken in one transaction: a crash after any write leaves neither."""
    from django.contrib.auth import get_user_model

    from cuentas.models import PerfilCliente
    from pacientes.models import Cliente

    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    user = get_user_model().objects.create_user(
        username="antigua@correo.example", email="antigua@correo.example", first_name="Rosa", last_name="Antigua"
    )
    PerfilCliente.objects.create(user=user)
    escrituras = probar_fallas(lambda: reservar_cita(user=user, cita_id=hora.pk))
    # The lock and the booking statement find no record; the record; the lock and the booking again;
    # the send budget's counter (issue 14); the confirmation; its job.
    assert escrituras == 8
    cliente = Cliente.objects.get(user=user)
    assert cliente.nombre_completo == "Rosa Antigua"
    assert Cita.objects.get(pk=hora.pk).cliente_id == cliente.pk
