"""Cancelling and undoing (issue 13): every cancellation (portal, one-tap link, staff for the
patient, staff for the clinic) leaves a history row (``Cancelacion``) in its transaction and
tells the patient in the right words (``cita_cancelada_paciente`` / ``cita_cancelada_clinica``,
never the visit's reason); staff always give a reason; a wrong "Llegó", "Atendida" or
"No asistió" can be undone that day, once, safely against a concurrent change."""

import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from citas import enlaces
from citas.models import Cancelacion, Cita, EstadoCita
from citas.services import (
    cancelar_cita,
    cancelar_por_enlace,
    crear_cita_disponible,
    deshacer_marca,
    marcar_atendida,
    marcar_llegada,
    marcar_no_asistio,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from citas.tests.test_transiciones import (  # noqa: F401  (fixtures)
    _en_paralelo,
    _mediodia,
    crear_cita,
    hace_una_hora,
)
from cuentas.eliminacion import eliminar_cliente
from notificaciones.models import Canal, Notificacion
from nucleo.integridad import registro
from pghistory.models import Events
from pruebas.soporte import ejecutar_worker, huella_bd

pytestmark = pytest.mark.django_db

MOTIVO_DE_LA_VISITA = "dolor en la muela del juicio"


@pytest.fixture
def paciente(db):
    return registrar_paciente(701)


@pytest.fixture
def reservada(dentista, recepcionista, paciente, en_tres_dias_10):
    """A booking of a patient with a portal account and an e-mail, with a clinical reason."""
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10)
    return reservar_cita(user=paciente, cita_id=cita.pk, motivo=MOTIVO_DE_LA_VISITA)


def _aviso(cita, canal=Canal.EMAIL):
    return Notificacion.objects.filter(cita_id=cita.pk, canal=canal).exclude(plantilla="reserva_confirmada").get()


def _codigo(funcion, **kwargs):
    with pytest.raises(ValidationError) as error:
        funcion(**kwargs)
    return error.value.code if hasattr(error.value, "code") else next(iter(error.value.error_dict.values()))[0].code


# Who cancels, and what the patient is told ----------------------------------------------------


def test_el_paciente_lo_pidio_libera_la_hora_y_lo_dice(reservada, recepcionista, paciente):
    cita = cancelar_cita(actor=recepcionista.user, cita_id=reservada.pk, motivo="llamó por teléfono")
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.DISPONIBLE
    [fila] = Cancelacion.objects.filter(cita_id=reservada.pk)
    assert (fila.por, fila.via, fila.usuario, fila.motivo) == ("paciente", "personal", recepcionista.user,
                                                                "llamó por teléfono")
    assert fila.cliente_id == paciente.cliente.pk and fila.paciente_nombre == paciente.cliente.nombre_completo
    assert (fila.inicio, fila.dentista_id) == (reservada.inicio, reservada.dentista_id)
    aviso = _aviso(reservada)
    assert aviso.plantilla == "cita_cancelada_paciente"
    assert "como lo pidió" in aviso.asunto and "como lo pidió" in aviso.cuerpo.lower()
    assert "si usted no pidió" in aviso.cuerpo.lower()
    # The desk's note and the visit's reason stay at the clinic.
    assert "teléfono" not in aviso.asunto and "llamó" not in aviso.cuerpo and MOTIVO_DE_LA_VISITA not in aviso.cuerpo


def test_la_clinica_cancela_con_motivo_disculpa_y_telefono(reservada, recepcionista, settings):
    cancelar_cita(actor=recepcionista.user, cita_id=reservada.pk, por_clinica=True, motivo="la dentista está con licencia")
    cita = Cita.objects.get(pk=reservada.pk)
    assert cita.estado == EstadoCita.CANCELADA and cita.cliente_id == reservada.cliente_id
    [fila] = Cancelacion.objects.filter(cita_id=reservada.pk)
    assert (fila.por, fila.via, fila.motivo) == ("clinica", "personal", "la dentista está con licencia")
    aviso = _aviso(reservada)
    assert aviso.plantilla == "cita_cancelada_clinica"
    assert "la clínica tuvo que cancelar" in aviso.asunto
    assert "Motivo: la dentista está con licencia" in aviso.cuerpo
    assert "disculpas" in aviso.cuerpo and settings.CLINICA_TELEFONO in aviso.cuerpo
    assert "como lo pidió" not in aviso.cuerpo and MOTIVO_DE_LA_VISITA not in aviso.cuerpo


def test_por_sms_y_whatsapp_tambien_dice_quien_y_por_que(dentista, recepcionista, en_tres_dias_10, settings):
    """The short text (SMS and WhatsApp) and the WhatsApp template's values: the clinic's
    reason in the clinic's notice, never in the patient's; the visit's reason in neither."""
    citas = []
    for n, canal in enumerate((Canal.SMS, Canal.WHATSAPP)):
        user = registrar_paciente(720 + n, canal_preferido=canal, **{f"acepta_{canal}": True})
        for m in range(2):
            libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                          inicio=en_tres_dias_10 + datetime.timedelta(hours=2 * n + m))
            citas.append((canal, m == 1, reservar_cita(user=user, cita_id=libre.pk, motivo=MOTIVO_DE_LA_VISITA)))
    for canal, por_clinica, cita in citas:
        cancelar_cita(actor=recepcionista.user, cita_id=cita.pk, por_clinica=por_clinica, motivo="corte de agua")
        corto = _aviso(cita, canal)
        assert corto.plantilla == ("cita_cancelada_clinica" if por_clinica else "cita_cancelada_paciente")
        assert MOTIVO_DE_LA_VISITA not in corto.cuerpo and MOTIVO_DE_LA_VISITA not in corto.variables
        if por_clinica:
            assert "debimos cancelar su hora" in corto.cuerpo and "(corte de agua)" in corto.cuerpo
            assert corto.variables[4] == "corte de agua" and corto.variables[5] == settings.CLINICA_TELEFONO
        else:
            assert "como lo pidió" in corto.cuerpo and "agua" not in corto.cuerpo and "agua" not in corto.variables
        assert len(corto.cuerpo) < 320  # two SMS at most


def test_el_paciente_cancela_en_el_portal(reservada, paciente):
    cancelar_cita(actor=paciente, cita_id=reservada.pk)
    [fila] = Cancelacion.objects.filter(cita_id=reservada.pk)
    assert (fila.por, fila.via, fila.usuario_id, fila.motivo) == ("paciente", "portal", paciente.pk, "")
    assert _aviso(reservada).plantilla == "cita_cancelada_paciente"


def test_el_paciente_cancela_con_el_enlace_del_recordatorio(dentista, recepcionista, paciente):
    inicio = (timezone.now() + datetime.timedelta(hours=20)).replace(second=0, microsecond=0)
    libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
    cita = reservar_cita(user=paciente, cita_id=libre.pk)
    cancelar_por_enlace(token=enlaces.token_de(Cita.objects.get(pk=cita.pk), "cancelar"))
    [fila] = Cancelacion.objects.filter(cita_id=cita.pk)
    assert (fila.por, fila.via, fila.usuario_id) == ("paciente", "enlace", None)
    assert _aviso(cita).plantilla == "cita_cancelada_paciente"


@pytest.mark.parametrize("por_clinica", [False, True])
@pytest.mark.parametrize("motivo", ["", "   ", "\n\t"])
def test_el_personal_siempre_da_un_motivo(reservada, recepcionista, por_clinica, motivo):
    antes = huella_bd()
    assert _codigo(cancelar_cita, actor=recepcionista.user, cita_id=reservada.pk, por_clinica=por_clinica,
                   motivo=motivo) == "motivo_requerido"
    assert huella_bd() == antes


def test_la_clinica_no_puede_guardar_una_cancelacion_sin_motivo(reservada):
    """The database holds the rule too (a write that skips the service)."""
    with pytest.raises(Exception, match="cancelacion_clinica_con_motivo"), transaction.atomic():
        Cancelacion.objects.create(cita=reservada, inicio=reservada.inicio, dentista_id=reservada.dentista_id,
                                   por="clinica", via="personal", motivo="", creada=timezone.now())


@pytest.mark.parametrize("por_clinica", [False, True])
def test_el_historial_va_en_la_misma_transaccion(probar_fallas, reservada, recepcionista, por_clinica):
    """A crash after any write (the history row first) leaves nothing: the row, the change,
    the notification and its job commit together."""
    escrituras = probar_fallas(lambda: cancelar_cita(actor=recepcionista.user, cita_id=reservada.pk,
                                                     por_clinica=por_clinica, motivo="llamó"))
    assert escrituras == 4  # history row, the slot, the notification, its job (staff: outside the send budget)
    assert Cancelacion.objects.filter(cita_id=reservada.pk).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("por_clinica", [False, True])
def test_el_correo_que_llega(servidor_smtp, dentista, recepcionista, en_tres_dias_10, settings, por_clinica):
    """Through the worker and a real SMTP server: what the patient reads."""
    user = registrar_paciente(740)
    libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10)
    cita = reservar_cita(user=user, cita_id=libre.pk, motivo=MOTIVO_DE_LA_VISITA)
    cancelar_cita(actor=recepcionista.user, cita_id=cita.pk, por_clinica=por_clinica, motivo="sillón en reparación")
    ejecutar_worker()
    [mensaje] = [m for m in servidor_smtp.para(user.email) if "cancel" in m.asunto]
    hora = f"{timezone.localtime(cita.inicio):%H:%M}"
    assert settings.CLINICA_NOMBRE in mensaje.asunto and hora in mensaje.cuerpo
    assert MOTIVO_DE_LA_VISITA not in mensaje.cuerpo
    if por_clinica:
        assert "la clínica tuvo que cancelar su hora" in mensaje.asunto
        assert "Motivo: sillón en reparación" in mensaje.cuerpo and "disculpas" in mensaje.cuerpo
        assert settings.CLINICA_TELEFONO in mensaje.cuerpo and "como lo pidió" not in mensaje.cuerpo
    else:
        assert "como lo pidió" in mensaje.asunto and "Como lo pidió, cancelamos" in mensaje.cuerpo
        assert "sillón" not in mensaje.cuerpo


def test_eliminar_al_paciente_desvincula_su_historial(reservada, recepcionista, paciente):
    """The rows stay as the day's history with the name only (like a past appointment's
    snapshot), without the link to the deleted record or to their deleted account."""
    cliente = paciente.cliente
    cancelar_cita(actor=paciente, cita_id=reservada.pk)
    eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)
    [fila] = Cancelacion.objects.filter(cita_id=reservada.pk)
    assert (fila.cliente_id, fila.usuario_id, fila.paciente_nombre) == (None, None, cliente.nombre_completo)


def test_integridad_encuentra_una_cancelada_sin_historial(reservada):
    Cita.objects.filter(pk=reservada.pk).update(estado=EstadoCita.CANCELADA)  # skipping the service
    codigos = {h.codigo for h in registro.ejecutar(limite=10, etiquetas=["citas"]).problemas}
    assert "cita_cancelada_sin_historial" in codigos
    Cancelacion.objects.create(cita=reservada, inicio=reservada.inicio + datetime.timedelta(minutes=5),
                               dentista_id=reservada.dentista_id, por="clinica", via="personal", motivo="x",
                               creada=timezone.now())
    codigos = {h.codigo for h in registro.ejecutar(limite=10, etiquetas=["citas"]).problemas}
    assert "cita_cancelada_sin_historial" not in codigos and "cancelacion_no_coincide" in codigos


# Undoing a wrong mark -------------------------------------------------------------------------


@pytest.mark.parametrize("marcar, origen, destino", [
    (marcar_llegada, EstadoCita.CONFIRMADA, EstadoCita.EN_ESPERA),
    (marcar_atendida, EstadoCita.CONFIRMADA, EstadoCita.ATENDIDA),
    (marcar_atendida, EstadoCita.EN_ESPERA, EstadoCita.ATENDIDA),
    (marcar_no_asistio, EstadoCita.RESERVADA, EstadoCita.NO_ASISTIO),
])
def test_deshacer_vuelve_al_estado_anterior_una_vez(crear_cita, recepcionista, marcar, origen, destino):
    cita = crear_cita(origen, "pasada")
    marcar(actor=recepcionista.user, cita_id=cita.pk)
    assert Cita.objects.get(pk=cita.pk).estado_anterior == origen
    assert deshacer_marca(actor=recepcionista.user, cita_id=cita.pk, desde=destino).estado == origen
    cita = Cita.objects.get(pk=cita.pk)
    assert (cita.estado, cita.estado_anterior) == (origen, "")
    # Once: the undo leaves nothing to undo (en_espera again still has no recorded state).
    antes = huella_bd()
    if origen == EstadoCita.EN_ESPERA:
        assert _codigo(deshacer_marca, actor=recepcionista.user, cita_id=cita.pk, desde=origen) == "nada_que_deshacer"
    else:
        assert _codigo(deshacer_marca, actor=recepcionista.user, cita_id=cita.pk, desde=destino) == "transicion_invalida"
    assert huella_bd() == antes


def test_deshacer_solo_el_dia_de_la_cita(crear_cita, recepcionista):
    ayer = timezone.now() - datetime.timedelta(days=1)
    cita = crear_cita(EstadoCita.CONFIRMADA, inicio=ayer)
    marcar_no_asistio(actor=recepcionista.user, cita_id=cita.pk)
    antes = huella_bd()
    assert _codigo(deshacer_marca, actor=recepcionista.user, cita_id=cita.pk,
                   desde=EstadoCita.NO_ASISTIO) == "deshacer_fuera_del_dia"
    assert huella_bd() == antes


@pytest.mark.parametrize("desde", ["reservada", "confirmada", "cancelada", "disponible", "", "x" * 50, None])
def test_deshacer_solo_desde_una_marca(crear_cita, recepcionista, desde):
    cita = crear_cita(EstadoCita.CONFIRMADA, "pasada")
    antes = huella_bd()
    assert _codigo(deshacer_marca, actor=recepcionista.user, cita_id=cita.pk, desde=desde) == "transicion_invalida"
    assert huella_bd() == antes


def test_deshacer_no_es_para_pacientes(crear_cita, recepcionista):
    user = registrar_paciente(760)
    cita = crear_cita(EstadoCita.CONFIRMADA, "pasada", user=user)
    marcar_llegada(actor=recepcionista.user, cita_id=cita.pk)
    assert _codigo(deshacer_marca, actor=user, cita_id=cita.pk, desde=EstadoCita.EN_ESPERA) == "no_autorizado"


def test_deshacer_queda_en_la_auditoria_con_quien_lo_hizo(crear_cita, recepcionista, crear_personal):
    otra = crear_personal(rol="recepcion", nombre="Rita").user
    cita = crear_cita(EstadoCita.CONFIRMADA, "pasada")
    marcar_llegada(actor=recepcionista.user, cita_id=cita.pk)
    deshacer_marca(actor=otra, cita_id=cita.pk, desde=EstadoCita.EN_ESPERA)
    evento = Events.objects.filter(pgh_obj_model="citas.Cita", pgh_obj_id=str(cita.pk)).order_by("-pgh_created_at",
                                                                                                 "-pgh_id").first()
    assert evento.pgh_context["servicio"] == "deshacer" and evento.pgh_context["user"] == otra.pk
    assert evento.pgh_diff["estado"] == [EstadoCita.EN_ESPERA, EstadoCita.CONFIRMADA]


@pytest.mark.django_db(transaction=True)
def test_dos_deshacer_a_la_vez_solo_uno_gana(crear_personal, crear_cita):
    r1, r2 = crear_personal(rol="recepcion").user, crear_personal(rol="recepcion").user
    cita = crear_cita(EstadoCita.CONFIRMADA, "pasada")
    marcar_atendida(actor=r1, cita_id=cita.pk)
    resultados = _en_paralelo(
        lambda: deshacer_marca(actor=r1, cita_id=cita.pk, desde=EstadoCita.ATENDIDA),
        lambda: deshacer_marca(actor=r2, cita_id=cita.pk, desde=EstadoCita.ATENDIDA),
    )
    assert sorted(resultados) == ["ok", "transicion_invalida"]
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.CONFIRMADA


@pytest.mark.django_db(transaction=True)
def test_deshacer_llego_no_deshace_un_atendida_hecho_entretanto(crear_personal, crear_cita):
    """Reception confirms "Deshacer «Llegó»" while the dentist marks "Atendida": the undo waits
    for the row, re-reads it, sees another mark and changes nothing (it never undoes a mark
    the person did not see)."""
    recepcion, dentista_user = crear_personal(rol="recepcion").user, crear_personal().user
    cita = crear_cita(EstadoCita.CONFIRMADA, "pasada")
    marcar_llegada(actor=recepcion, cita_id=cita.pk)
    resultado = []

    def deshacer():
        try:
            deshacer_marca(actor=recepcion, cita_id=cita.pk, desde=EstadoCita.EN_ESPERA)
            resultado.append("ok")
        except ValidationError as error:
            resultado.append(error.code)
        finally:
            connection.close()

    with transaction.atomic():
        # The dentist's mark, held uncommitted while the undo waits for the row.
        Cita.objects.filter(pk=cita.pk).update(estado=EstadoCita.ATENDIDA, estado_anterior=EstadoCita.EN_ESPERA)
        hilo = threading.Thread(target=deshacer)
        hilo.start()
        limite = time.monotonic() + 10
        with connection.cursor() as cursor:
            while time.monotonic() < limite:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.01)
            else:
                pytest.fail("deshacer no llegó a esperar el bloqueo")
    hilo.join(timeout=10)
    assert resultado == ["cita_cambio"]
    cita = Cita.objects.get(pk=cita.pk)
    assert (cita.estado, cita.estado_anterior) == (EstadoCita.ATENDIDA, EstadoCita.EN_ESPERA)
