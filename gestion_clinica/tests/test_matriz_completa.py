"""Every URL of the staff site × every kind of person, built from the URLconf itself so a new
page cannot escape the matrix: who may GET it, and nothing answers 500."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from citas.services import asignar_cita, crear_cita_disponible
from gestion_clinica.tests.test_permisos import ENTRAR, PERSONAS
from gestion_clinica.urls import urlpatterns
from notificaciones.models import EstadoNotificacion, Notificacion
from notificaciones.services import notificar
from citas.cierres import cerrar_rango
from nucleo.servicios import operacion
from pacientes.documentos import subir_documento
from cuentas.presencial import crear_cliente_presencial
from ficha.evoluciones import crear_evolucion
from ficha.consentimientos import emitir_consentimiento
from ficha.models import AccesoFicha, AccesoUrgencia, PlantillaConsentimiento
from ficha.tests.test_recetas import receta_de
from prestaciones.models import Prestacion
from tratamientos.planes import agregar_item, crear_plan

PUBLICAS = {"entrar", "salir", "activar"}  # covered with their own rules in test_permisos
SOLO_ADMINISTRADOR_PREFIJOS = ("personal", "auditoria")
# The clinical record (issue 15): the care team only (the fixture's dentist has the patient's
# appointment); administración and recepción get a 403 (Ley 20.584 art. 13).
SOLO_EQUIPO_CLINICO_PREFIJO = "ficha"
NOMBRES = [p.name for p in urlpatterns if p.name not in PUBLICAS]
# Issue 15: administration manages who reads records and reads the log, not the records.
SOLO_ADMINISTRADOR = {"ficha_lecturas", "ficha_urgencias", "ficha_urgencias_cuenta", "ficha_urgencia_revisar",
                      "ficha_accesos", "ficha_acceso_revocar"}
# Clinical content: the care team only (the fixture's dentist attends the patient), never the
# desk nor administration; urgent access is for a dentist (one of the team is sent straight on).
DEL_EQUIPO_DE_CUIDADO = {"paciente_documento", "paciente_documento_eliminar", "ficha_urgencia"}
# Issue 16: the clinic's consent templates are configuration, kept by administration.
SOLO_ADMINISTRADOR |= {"plantillas_consentimiento", "plantilla_consentimiento_nueva", "plantilla_consentimiento",
                       "plantilla_consentimiento_estado"}
# Issue 17: the cash box and the payments are the desk's and administration's (dentists: 403).
DE_CAJA = {"caja", "caja_abrir", "caja_detalle", "caja_cerrar", "pago_nuevo", "pago_usar_saldo", "pago_devolver",
           "pago", "pago_anular", "comprobante_pdf"}
ESCRITURAS_DE_RECEPCION = {
    "paciente_nuevo", "paciente_editar", "paciente_desactivar", "paciente_reenviar", "paciente_eliminar",
    "agenda_horario", "agenda_crear_hora", "agenda_generar", "agenda_dias_cerrados", "agenda_reabrir",
    "agenda_cierre", "agenda_bloquear", "agenda_desbloquear",
    "agenda_buscar_pacientes", "agenda_asignar", "agenda_reprogramar", "agenda_cancelar",
    # Resending a notification (issue 5): dentists see the delivery state, they do not resend.
    "paciente_aviso_reenviar", "agenda_cita_aviso_reenviar",
}
# Issue 17: quotes are issued and answered at the desk; a dentist only looks.
ESCRITURAS_DE_RECEPCION |= {"paciente_presupuesto_emitir", "paciente_presupuesto_aceptar",
                            "paciente_presupuesto_rechazar", "paciente_presupuesto_version"}


@pytest.fixture
def argumentos(recepcionista, dentista, settings, tmp_path, crear_personal):
    settings.MEDIA_ROOT = tmp_path / "media"  # the document's file, outside the project
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Rosa Vera Díaz")
    documento = subir_documento(actor=recepcionista.user, cliente_id=cliente.pk, titulo="Radiografía",
                                archivo=SimpleUploadedFile("rx.pdf", b"%PDF-1.7\n%%EOF\n"))
    manana = datetime.datetime.combine(
        datetime.date.today() + datetime.timedelta(days=2), datetime.time(10), tzinfo=datetime.UTC
    )
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana)
    asignada = asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=cliente.pk)
    # A notification of both that patient and that appointment, for the resend routes.
    with operacion("prueba_matriz"):
        [aviso] = notificar(evento="cita_asignada", referencia=f"matriz:{cita.pk}", email="rosa@correo.example",
                            cliente=cliente, cita=cita, contexto={"nombre": "Rosa", "fecha": "lunes", "hora": "10:00"})
    # Failed, so that a permitted resend really writes (not refused as already queued).
    Notificacion.objects.filter(pk=aviso.pk).update(estado=EstadoNotificacion.FALLIDA, ultimo_error="Timeout")
    cierre = cerrar_rango(actor=recepcionista.user, desde=datetime.date(2030, 2, 10), hasta=datetime.date(2030, 2, 14),
                          dentista_id=dentista.pk, tipo="vacaciones", motivo="Vacaciones de verano").cierre
    otro = crear_personal(rol="dentista", nombre="Luis", apellido="Muñoz")
    ahora = datetime.datetime.now(tz=datetime.UTC)
    acceso = AccesoFicha.objects.create(cliente=cliente, dentista=otro, motivo="Ortodoncia")
    urgencia = AccesoUrgencia.objects.create(cliente=cliente, usuario=otro.user, motivo="Dolor agudo, sin su dentista",
                                             abierto_en=ahora, vence_en=ahora + datetime.timedelta(hours=12))
    return {
        "acceso_id": acceso.pk, "urgencia_id": urgencia.pk,
        "cliente_id": cliente.pk, "cita_id": cita.pk, "dentista_id": dentista.pk, "perfil_id": dentista.pk,
        "fecha": "2027-02-10", "accion": "confirmar", "documento_id": documento.pk,
        "notificacion_id": aviso.pk, "cierre_id": cierre.pk, "reserva_uid": asignada.reserva_uid,
        "evolucion_id": crear_evolucion(actor=dentista.user, cliente_id=cliente.pk, texto="Control").pk,
        "receta_id": receta_de(cliente, dentista, "Amoxicilina").pk,  # issue 16
        **_consentimiento_de(cliente, dentista),
        **_pago_de(cliente, recepcionista),  # issue 17
        "presupuesto_id": _presupuesto_de(cliente, dentista, recepcionista),  # issue 17
        **_plan_de(cliente, dentista),  # issue 17
    }


def url_de(nombre, argumentos):
    patron = next(p for p in urlpatterns if p.name == nombre)
    kwargs = {clave: argumentos[clave] for clave in patron.pattern.converters}
    return reverse(f"gestion:{nombre}", kwargs=kwargs)


@pytest.mark.parametrize("nombre", NOMBRES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_toda_url_por_toda_persona(clientes, argumentos, nombre, persona):
    url = url_de(nombre, argumentos)
    # Actions are POST only (a GET answers 405 to everyone): those are tried with a POST.
    solo_post = clientes["administrador"].get(url).status_code == 405
    respuesta = (clientes[persona].post if solo_post else clientes[persona].get)(url)
    assert respuesta.status_code < 500
    if persona == "anonimo":
        assert respuesta.status_code == 302 and respuesta.url.startswith(ENTRAR)
    elif persona in ("paciente", "dentista_inactivo"):
        assert respuesta.status_code == 403
    elif nombre in DEL_EQUIPO_DE_CUIDADO:
        assert respuesta.status_code == (403 if persona != "dentista" else 200 if not solo_post else 302)
    elif nombre.startswith(SOLO_EQUIPO_CLINICO_PREFIJO) and nombre not in SOLO_ADMINISTRADOR:
        esperado = (200, 302) if persona == "dentista" else (403,)
        assert respuesta.status_code in esperado, "la ficha clínica es solo del equipo de cuidado"
    elif persona in ("administrador", "superusuario"):
        assert respuesta.status_code in (200, 302), "el administrador puede todo lo que no es clínico"
    elif nombre.startswith(SOLO_ADMINISTRADOR_PREFIJOS) or nombre in SOLO_ADMINISTRADOR:        assert respuesta.status_code == 403
    elif persona == "dentista" and nombre in ESCRITURAS_DE_RECEPCION:
        assert respuesta.status_code == 403, "el dentista solo mira fuera de sus propias citas"
    elif nombre in DE_CAJA:
        assert respuesta.status_code in ((403,) if persona == "dentista" else (200, 302))


# The appointment's page (issue 5): every staff member opens it (a dentist, their own
# appointments: the fixture's appointment is the dentist's).
PAGINA_CITA = {"anonimo": 302, "administrador": 200, "superusuario": 200, "recepcion": 200, "dentista": 200,
               "dentista_inactivo": 403, "paciente": 403}


@pytest.mark.parametrize("persona", PERSONAS)
def test_pagina_de_cita_por_persona(clientes, argumentos, persona):
    respuesta = clientes[persona].get(url_de("agenda_cita", argumentos))
    assert respuesta.status_code == PAGINA_CITA[persona]


@pytest.mark.parametrize("nombre", ["paciente_aviso_reenviar", "agenda_cita_aviso_reenviar"])
@pytest.mark.parametrize("persona", ["administrador", "superusuario", "recepcion"])
def test_reenviar_aviso_lo_deja_en_cola(clientes, argumentos, nombre, persona):
    respuesta = clientes[persona].post(url_de(nombre, argumentos))
    assert respuesta.status_code == 302 and respuesta.url.endswith("#avisos")
    aviso = Notificacion.objects.get(pk=argumentos["notificacion_id"])
    assert (aviso.estado, aviso.ultimo_error) == (EstadoNotificacion.PENDIENTE, "")


def _consentimiento_de(cliente, dentista):
    """Issue 16: a consent template and a consent issued to the patient by their dentist."""
    plantilla = PlantillaConsentimiento.objects.create(nombre="Exodoncia", procedimiento="Extracción",
                                                       texto="Riesgos: sangrado.")
    consentimiento = emitir_consentimiento(actor=dentista.user, cliente_id=cliente.pk, plantilla_id=plantilla.pk)
    return {"plantilla_id": plantilla.pk, "consentimiento_id": consentimiento.pk}


def _pago_de(cliente, recepcionista):
    """Issue 17: the receptionist's box of today and a payment of the patient in it."""
    from pagos.tests.escena import pago_en_escena

    pago = pago_en_escena(recepcionista.user, cliente)
    return {"caja_id": pago.caja_id, "pago_id": pago.pk}


# Issue 17: the money reports are administration's (pending balances also reception's, and the
# statement also a dentist of the care team: the access table says both).
SOLO_ADMINISTRADOR |= {"reporte_produccion", "reporte_recaudacion"}


def _presupuesto_de(cliente, dentista, recepcionista):
    """Issue 17: a quote of the patient, from a plan of their dentist, issued by reception."""
    from tratamientos.presupuestos import emitir_presupuesto
    from tratamientos.tests.fabricas import plan_con_items

    plan, _ = plan_con_items(cliente, dentista)
    return emitir_presupuesto(actor=recepcionista.user, plan_id=plan.pk).pk


# Issue 17: the arancel is the administration's; the plan is the care team's ("ficha_" URLs).
SOLO_ADMINISTRADOR |= {"prestaciones", "prestacion_nueva", "prestacion", "prestacion_estado"}


def _plan_de(cliente, dentista):
    """Issue 17: a prestación of the arancel and the patient's plan by their dentist, one item."""
    prestacion = Prestacion.objects.get_or_create(codigo="OBT-01", defaults={
        "nombre": "Obturación resina", "precio": 45000, "duracion_minutos": 45})[0]
    plan = crear_plan(actor=dentista.user, cliente_id=cliente.pk)
    item = agregar_item(actor=dentista.user, plan_id=plan.pk, prestacion_id=prestacion.pk, diente=16, superficie="O")
    return {"prestacion_id": prestacion.pk, "plan_id": plan.pk, "item_id": item.pk}
