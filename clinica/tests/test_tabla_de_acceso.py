"""Who may use every URL of both sites: ONE table, checked against the URLconf and tried for
the anonymous visitor, each staff role and a patient.

Reading the table: ``publica`` = anyone (its own rules live in the site's tests: login,
sign-up, one-time links); ``paciente`` = a logged-in patient with an active record, and only
their own records (another patient's id is a 404); ``administrador``/``recepcion``/``dentista``
= staff roles (an active superuser counts as administrador); ``firma del proveedor`` = no
login at all, the provider's signature on the request; ``superusuario`` = Django's admin.
Everyone else: the staff site sends the anonymous to its login and answers 403 to the rest;
the portal does the same with its own login; webhooks answer 403.
"""

import hashlib
import hmac
import json

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from clinica.tests.seguridad import PERSONAS, argumentos_de, patrones
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

A, R, D = "administrador", "recepcion", "dentista"
# JSON endpoints for staff with a role: anyone else (the anonymous too: no login page for a
# script) gets a JSON 403.
LLAVES = "personal, en JSON"

TABLA = {
    "/": {"publica"},  # the bare address redirects to the portal
    "/admin/": {"superusuario"},  # Django's admin: the clinic's safety net
    # Staff site (/gestion/) --------------------------------------------------------------
    "gestion:inicio": {A, R, D},
    "gestion:entrar": {"publica"},
    "gestion:salir": {"publica"},  # POST only
    "gestion:activar": {"publica"},  # the invitation's one-time link (staff accounts only)
    "gestion:pacientes": {A, R, D},
    "gestion:paciente_nuevo": {A, R},
    "gestion:paciente": {A, R, D},
    "gestion:paciente_editar": {A, R},
    "gestion:paciente_desactivar": {A, R},
    "gestion:paciente_reactivar": {A, R},
    "gestion:paciente_reenviar": {A, R},
    "gestion:paciente_desbloquear": {A, R},  # POST only: an account locked by "No fui yo"
    "gestion:paciente_dar_hora": {A, R},
    "gestion:paciente_invitar": {A, R},
    "gestion:paciente_eliminar": {A, R},
    "gestion:paciente_aviso_reenviar": {A, R},
    "gestion:paciente_documento_subir": {A, R, D},
    # Issue 15: the record's documents are clinical content, for the care team only (the scene's
    # dentist attends the patient; reception and administration get the record's 403 page).
    "gestion:paciente_documento": {D},
    "gestion:paciente_documento_eliminar": {D},
    "gestion:agenda": {A, R, D},  # a dentist sees only their own column
    "gestion:agenda_semana": {A, R, D},  # a dentist: only their own week
    "gestion:agenda_horario": {A, R},
    "gestion:agenda_crear_hora": {A, R},
    "gestion:agenda_generar": {A, R},
    "gestion:agenda_dias_cerrados": {A, R},
    "gestion:agenda_cierre": {A, R},  # a closure and the bookings it left to resolve
    "gestion:agenda_reabrir": {A, R},
    "gestion:agenda_bloquear": {A, R},
    "gestion:agenda_desbloquear": {A, R},
    "gestion:agenda_buscar_pacientes": {A, R},
    "gestion:agenda_cita": {A, R, D},  # a dentist: only their own appointments
    "gestion:agenda_reserva": {A, R, D},  # a booking by its identity: to its slot's page (a dentist: own only)
    "gestion:agenda_cita_aviso_reenviar": {A, R},
    "gestion:agenda_asignar": {A, R},
    "gestion:agenda_reprogramar": {A, R},
    "gestion:agenda_cancelar": {A, R},
    "gestion:agenda_deshacer": {A, R, D},  # a dentist: undo a mark on their own appointments
    "gestion:agenda_accion": {A, R, D},  # a dentist: own appointments; arrived, attended, no-show
    "gestion:personal": {A},
    "gestion:personal_nuevo": {A},
    "gestion:personal_editar": {A},
    "gestion:personal_desactivar": {A},
    "gestion:personal_reactivar": {A},
    "gestion:personal_invitar": {A},
    "gestion:auditoria": {A},
    # The clinical record's copy (issue 15): the care team only (``con_acceso_a_ficha``; the
    # scene's dentist has an appointment with the patient); reception and administration 403.
    "gestion:ficha_pdf": {D},
    "gestion:ficha_datos": {D},
    # Issue 15, who may read a record: urgent access (a dentist outside the care team; one inside
    # is sent straight to the record), the read log, the urgent accesses to review, the care team.
    "gestion:ficha_urgencia": {D},
    "gestion:ficha_lecturas": {A},
    "gestion:ficha_urgencias": {A},
    "gestion:ficha_urgencias_cuenta": {A},
    "gestion:ficha_urgencia_revisar": {A},
    "gestion:ficha_accesos": {A},
    "gestion:ficha_acceso_revocar": {A},
    # The clinical record (issue 15): the care team only (ficha.acceso). The scene's dentist has an
    # appointment with the patient; reception and administration get a 403, logged.
    "gestion:ficha": {D},
    "gestion:ficha_antecedentes": {D},
    "gestion:ficha_antecedentes_historial": {D},
    "gestion:ficha_evolucion_nueva": {D},
    "gestion:ficha_evolucion": {D},  # the author's draft (editable) or a signed note
    "gestion:ficha_evolucion_firmar": {D},  # GET: confirmation; POST: sign (the author only)
    "gestion:ficha_evolucion_descartar": {D},  # the author's draft only
    "gestion:ficha_evolucion_adenda": {D},  # signed notes only (a draft: back to it)
    # Prescriptions and the record's summary (issue 16): the care team only.
    "gestion:ficha_recetas": {D},
    "gestion:ficha_receta_nueva": {D},
    "gestion:ficha_receta": {D},
    "gestion:ficha_receta_anular": {D},  # GET: the reason's form; POST: its author annuls
    "gestion:ficha_receta_pdf": {D},
    "gestion:ficha_resumen_pdf": {D},
    # Informed consents (issue 16): clinical content, the care team only; reception does not record
    # an acceptance at the desk (ficha.consentimientos). The clinic's templates: administration.
    "gestion:ficha_consentimientos": {D},
    "gestion:ficha_consentimiento_nuevo": {D},
    "gestion:ficha_consentimiento": {D},
    "gestion:ficha_consentimiento_tableta": {D},
    "gestion:ficha_consentimiento_escaneo": {D},
    "gestion:ficha_consentimiento_revocar": {D},  # an accepted one only (else: says why)
    "gestion:ficha_consentimiento_anular": {D},  # before acceptance only
    "gestion:ficha_consentimiento_pdf": {D},
    "gestion:plantillas_consentimiento": {A},
    "gestion:plantilla_consentimiento_nueva": {A},
    "gestion:plantilla_consentimiento": {A},
    "gestion:plantilla_consentimiento_estado": {A},  # POST only
    # The second-factor step: staff who gave their password (a verified session goes on to next=)
    "gestion:segundo_factor": {A, R, D},
    "gestion:segundo_factor_inscribir": {A, R, D},
    "gestion:personal_segundo_factor_restablecer": {A},  # POST only: a lost phone
    # Passkeys of the staff's second factor (/gestion/llaves/, JSON for their script) -------------
    "otp_webauthn:credential-registration-begin": {LLAVES},  # adding one: a verified session only
    "otp_webauthn:credential-registration-complete": {LLAVES},
    "otp_webauthn:credential-authentication-begin": {LLAVES},  # after the password, like a code
    "otp_webauthn:credential-authentication-complete": {LLAVES},
    "otp_webauthn:js-i18n-catalog": {"publica"},  # the script's Spanish texts
    # Patient portal (/portal/) -------------------------------------------------------------
    "portal:inicio": {"paciente"},
    "portal:entrar": {"publica"},
    "portal:salir": {"publica"},  # POST only
    "portal:registro": {"publica"},
    "portal:registro_enviado": {"publica"},  # "revise su correo", the same for everyone
    "portal:registro_verificar": {"publica"},  # the signed token (sent to the address typed) is the key
    "portal:privacidad": {"publica"},
    "portal:recuperar_clave": {"publica"},
    "portal:recuperar_clave_enviado": {"publica"},
    "portal:activar": {"publica"},  # invitation / reset link (patients' accounts only)
    "portal:reservar": {"publica"},  # free slots are no secret: new patients look before signing up
    "portal:reservar_confirmar": {"paciente"},  # takes a free slot's id
    "portal:mis_citas": {"paciente"},
    "portal:cita": {"paciente"},
    "portal:cita_confirmar": {"paciente"},
    "portal:cita_cancelar": {"paciente"},
    "portal:cita_reprogramar": {"paciente"},
    "portal:cita_calendario": {"paciente"},
    "portal:cita_reserva": {"paciente"},  # a booking by its identity: its current slot, or "cancelled"
    "portal:cita_calendario_reserva": {"paciente"},
    "portal:mi_cuenta": {"paciente"},
    "portal:cuenta_contacto": {"paciente"},
    "portal:cuenta_avisos": {"paciente"},
    "portal:cuenta_telefono": {"paciente"},
    "portal:cuenta_clave": {"paciente"},
    "portal:cuenta_datos": {"paciente"},
    "portal:cuenta_datos_legibles": {"paciente"},  # the same copy, as a page to read or print
    "portal:cuenta_ficha_pdf": {"paciente"},  # their clinical record as a PDF (issue 15)
    "portal:cuenta_eliminar": {"paciente"},
    "portal:cuenta_eliminada": {"publica"},  # shown after the account is gone
    "portal:mis_documentos": {"paciente"},
    "portal:cuenta_lecturas_ficha": {"paciente"},  # "quién vio mi ficha": only their own rows
    "portal:mis_recetas": {"paciente"},  # their prescriptions (issue 16)
    "portal:cuenta_receta_pdf": {"paciente"},  # one of them as a PDF: their own only
    "portal:documento": {"paciente"},
    "portal:recordatorio_enlace": {"publica"},  # the reminder's signed token is the key
    "portal:cuenta_correo_confirmar": {"publica"},  # the signed token is the key
    "portal:cuenta_correo_deshacer": {"publica"},  # the signed token (sent to the old address) is the key
    # Providers' webhooks (/webhooks/): CSRF-exempt, signature-verified ------------------------
    "webhooks:twilio": {"firma del proveedor"},
    "webhooks:twilio_estado": {"firma del proveedor"},
    "webhooks:meta": {"firma del proveedor"},
    # The odontogram (issue 16): the care team only, like the rest of the record.
    "gestion:ficha_odontograma": {D},
    "gestion:ficha_odontograma_historial": {D},
    # Issue 17, the cash box and the payments: reception and administration (money, not clinical).
    "gestion:caja": {A, R},
    "gestion:caja_abrir": {A, R},  # POST only
    "gestion:caja_detalle": {A, R},  # reception: its own boxes; administration: all
    "gestion:caja_cerrar": {A, R},  # POST only
    "gestion:pago_nuevo": {A, R},
    "gestion:pago_usar_saldo": {A, R},
    "gestion:pago_devolver": {A, R},
    "gestion:pago": {A, R},
    "gestion:pago_anular": {A, R},
    "gestion:comprobante_pdf": {A, R},
    "portal:mi_comprobante": {"paciente"},  # a receipt as a PDF: their own only
    # Issue 17, the account statement (the billing view, no clinical notes): administración,
    # recepción and a dentist of the care team (the scene's dentist is); the money reports:
    # administración, and pending balances also recepción. The patient's own statement.
    "gestion:paciente_estado_cuenta": {A, R, D},
    "gestion:paciente_estado_cuenta_csv": {A, R, D},
    "gestion:reporte_produccion": {A},
    "gestion:reporte_recaudacion": {A},
    "gestion:reporte_saldos": {A, R},
    "portal:cuenta_estado": {"paciente"},
    # Quotes (issue 17): reception and administration issue them and record the answer at the
    # desk; a dentist may look. The patient sees, downloads and answers their own in the portal.
    "gestion:paciente_presupuestos": {A, R, D},
    "gestion:paciente_presupuesto_emitir": {A, R},
    "gestion:paciente_presupuesto": {A, R, D},
    "gestion:paciente_presupuesto_pdf": {A, R, D},
    "gestion:paciente_presupuesto_aceptar": {A, R},
    "gestion:paciente_presupuesto_rechazar": {A, R},
    "gestion:paciente_presupuesto_version": {A, R},
    "portal:mis_presupuestos": {"paciente"},
    "portal:presupuesto": {"paciente"},
    "portal:presupuesto_pdf": {"paciente"},
    "portal:presupuesto_aceptar": {"paciente"},
    "portal:presupuesto_rechazar": {"paciente"},
    # Issue 17, the arancel: administration keeps it.
    "gestion:prestaciones": {A},
    "gestion:prestacion_nueva": {A},
    "gestion:prestacion": {A},
    "gestion:prestacion_estado": {A},  # POST only
    # Issue 17, treatment plans: the dentist's plan shows teeth and findings (the care team only);
    # reception's billing view (prestaciones, teeth, prices) is for every staff role.
    "gestion:ficha_plan": {D},
    "gestion:ficha_plan_accion": {D},  # POST; a GET goes to the plan page
    "gestion:ficha_plan_item": {D},
    "gestion:ficha_plan_item_realizado": {D},  # POST; a GET goes to the plan page
    "gestion:paciente_plan": {A, R, D},
}

# URLs with an id, and how another owner's id is tried on them (IDOR). The value names the
# person, the kwargs replaced with someone else's record and the expected answer.
IDOR = {
    "portal:cita": ("paciente", {"pk": "otra_cita_id"}, 404),
    "portal:cita_confirmar": ("paciente", {"pk": "otra_cita_id"}, 404),
    "portal:cita_cancelar": ("paciente", {"pk": "otra_cita_id"}, 404),
    "portal:cita_reprogramar": ("paciente", {"pk": "otra_cita_id"}, 404),
    "portal:cita_calendario": ("paciente", {"pk": "otra_cita_id"}, 404),
    "portal:documento": ("paciente", {"pk": "otro_documento_id"}, 404),
    # Another patient's booking is not a free slot: the "no longer available" page.
    "portal:reservar_confirmar": ("paciente", {"cita_id": "otra_cita_id"}, 404),
    # Staff see every patient; what must not mix is a child id under another parent.
    # The record's documents: another patient's record is refused by the access rule (the
    # dentist is not in that patient's care team) before the document is looked up.
    "gestion:paciente_documento": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:paciente_documento_eliminar": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_acceso_revocar": ("administrador", {"cliente_id": "otro_cliente_id"}, 404),
    "gestion:paciente_aviso_reenviar": ("recepcion", {"notificacion_id": "otra_notificacion_id"}, 404),
    "gestion:agenda_cita_aviso_reenviar": ("recepcion", {"notificacion_id": "otra_notificacion_id"}, 404),
    # A dentist owns their agenda: another dentist's week or appointment does not exist for them.
    "gestion:agenda_semana": ("dentista", {"dentista_id": "otro_dentista_id"}, 404),
    "gestion:agenda_cita": ("dentista", {"cita_id": "otra_cita_id"}, 404),
    "gestion:agenda_accion": ("dentista", {"cita_id": "otra_cita_id"}, 404),
    "gestion:agenda_deshacer": ("dentista", {"cita_id": "otra_cita_id"}, 404),
    # A dentist outside another patient's care team: that record is refused (and logged).
    "gestion:ficha": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_antecedentes": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_antecedentes_historial": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_evolucion_nueva": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    # Another patient's note under this patient's record does not exist.
    "gestion:ficha_evolucion": ("dentista", {"evolucion_id": "otra_evolucion_id"}, 404),
    "gestion:ficha_evolucion_firmar": ("dentista", {"evolucion_id": "otra_evolucion_id"}, 404),
    "gestion:ficha_evolucion_descartar": ("dentista", {"evolucion_id": "otra_evolucion_id"}, 404),
    "gestion:ficha_evolucion_adenda": ("dentista", {"evolucion_id": "otra_evolucion_id"}, 404),
    # Issue 16: another patient's record is refused; another patient's prescription under this
    # patient's record does not exist; in the portal, another patient's prescription neither.
    "gestion:ficha_recetas": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_receta_nueva": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_resumen_pdf": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_receta": ("dentista", {"receta_id": "otra_receta_id"}, 404),
    "gestion:ficha_receta_anular": ("dentista", {"receta_id": "otra_receta_id"}, 404),
    "gestion:ficha_receta_pdf": ("dentista", {"receta_id": "otra_receta_id"}, 404),
    "portal:cuenta_receta_pdf": ("paciente", {"receta_id": "otra_receta_id"}, 404),
    # The odontogram (issue 16): another patient's record is refused (and logged).
    "gestion:ficha_odontograma": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_odontograma_historial": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    # Issue 16: another patient's consent under this patient's record does not exist; another
    # patient's record itself is refused by the care rule.
    "gestion:ficha_consentimientos": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_consentimiento_nuevo": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_consentimiento": ("dentista", {"consentimiento_id": "otro_consentimiento_id"}, 404),
    "gestion:ficha_consentimiento_tableta": ("dentista", {"consentimiento_id": "otro_consentimiento_id"}, 404),
    "gestion:ficha_consentimiento_escaneo": ("dentista", {"consentimiento_id": "otro_consentimiento_id"}, 404),
    "gestion:ficha_consentimiento_revocar": ("dentista", {"consentimiento_id": "otro_consentimiento_id"}, 404),
    "gestion:ficha_consentimiento_anular": ("dentista", {"consentimiento_id": "otro_consentimiento_id"}, 404),
    "gestion:ficha_consentimiento_pdf": ("dentista", {"consentimiento_id": "otro_consentimiento_id"}, 404),
    # Issue 17: another receptionist's box is not there for reception; another patient's receipt
    # under this patient does not exist; in the portal, another patient's receipt neither.
    "gestion:caja_detalle": ("recepcion", {"caja_id": "otra_caja_id"}, 404),
    "gestion:caja_cerrar": ("recepcion", {"caja_id": "otra_caja_id"}, 404),
    "gestion:pago": ("recepcion", {"pago_id": "otro_pago_id"}, 404),
    "gestion:pago_anular": ("recepcion", {"pago_id": "otro_pago_id"}, 404),
    "gestion:comprobante_pdf": ("recepcion", {"pago_id": "otro_pago_id"}, 404),
    "portal:mi_comprobante": ("paciente", {"pago_id": "otro_pago_id"}, 404),
    # Issue 17: a dentist sees the statement of their care team's patients only.
    "gestion:paciente_estado_cuenta": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:paciente_estado_cuenta_csv": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    # Issue 17: another patient's quote under this patient does not exist; in the portal neither.
    "gestion:paciente_presupuesto": ("recepcion", {"presupuesto_id": "otro_presupuesto_id"}, 404),
    "gestion:paciente_presupuesto_pdf": ("recepcion", {"presupuesto_id": "otro_presupuesto_id"}, 404),
    "gestion:paciente_presupuesto_aceptar": ("recepcion", {"presupuesto_id": "otro_presupuesto_id"}, 404),
    "gestion:paciente_presupuesto_rechazar": ("recepcion", {"presupuesto_id": "otro_presupuesto_id"}, 404),
    "gestion:paciente_presupuesto_version": ("recepcion", {"presupuesto_id": "otro_presupuesto_id"}, 404),
    "portal:presupuesto": ("paciente", {"presupuesto_id": "otro_presupuesto_id"}, 404),
    "portal:presupuesto_pdf": ("paciente", {"presupuesto_id": "otro_presupuesto_id"}, 404),
    "portal:presupuesto_aceptar": ("paciente", {"presupuesto_id": "otro_presupuesto_id"}, 404),
    "portal:presupuesto_rechazar": ("paciente", {"presupuesto_id": "otro_presupuesto_id"}, 404),
    # Issue 17: another patient's plan or plan item under this patient's record does not exist;
    # another patient's record itself is refused by the care rule.
    "gestion:ficha_plan": ("dentista", {"cliente_id": "otro_cliente_id"}, 403),
    "gestion:ficha_plan_accion": ("dentista", {"plan_id": "otro_plan_id"}, 404),
    "gestion:ficha_plan_item": ("dentista", {"item_id": "otro_item_id"}, 404),
    "gestion:ficha_plan_item_realizado": ("dentista", {"item_id": "otro_item_id"}, 404),
}
# URLs with an id that has no owner to mix up (each still answers 404 to an id that does not
# exist: test_id_inexistente_es_404).
SIN_DUENO = {
    "gestion:paciente", "gestion:paciente_editar", "gestion:paciente_desactivar", "gestion:paciente_reactivar",
    "gestion:paciente_reenviar", "gestion:paciente_desbloquear", "gestion:paciente_dar_hora", "gestion:paciente_invitar",
    "gestion:paciente_eliminar", "gestion:paciente_documento_subir", "gestion:agenda_horario",
    "gestion:agenda_asignar", "gestion:agenda_reprogramar", "gestion:agenda_cancelar",
    "gestion:personal_desactivar", "gestion:personal_reactivar", "gestion:personal_invitar",
    "gestion:personal_editar", "gestion:personal_segundo_factor_restablecer",
    "gestion:agenda_cierre", "gestion:agenda_reabrir", "gestion:agenda_bloquear", "gestion:agenda_desbloquear",
    # The care rule, not an owner, decides: a dentist outside the team gets 403 and a logged
    # attempt (gestion_clinica/tests/test_ficha_exportacion.py).
    "gestion:ficha_pdf", "gestion:ficha_datos",
    "gestion:ficha_urgencia", "gestion:ficha_accesos", "gestion:ficha_urgencia_revisar",
    # The clinic's consent templates: no owner (issue 16).
    "gestion:plantilla_consentimiento", "gestion:plantilla_consentimiento_estado",
    # Issue 17: a patient's payment forms (any patient's, for the desk).
    "gestion:pago_nuevo", "gestion:pago_usar_saldo", "gestion:pago_devolver",
    # A patient's quotes and issuing one (issue 17): staff see every patient.
    "gestion:paciente_presupuestos", "gestion:paciente_presupuesto_emitir",
    # The arancel (issue 17): no owner; the billing view of a plan: any patient, every staff role.
    "gestion:prestacion", "gestion:prestacion_estado", "gestion:paciente_plan",
}
ID_INEXISTENTE = 987_654_321
FILAS = {clave: patron for clave, patron in patrones()}


def _ids_enteros(patron):
    return [n for n, conv in patron.pattern.converters.items() if type(conv).__name__ == "IntConverter"]


CON_ID = sorted(c for c, p in FILAS.items() if c != "/admin/" and _ids_enteros(p))


def test_la_tabla_cubre_exactamente_el_urlconf():
    faltan = sorted(set(FILAS) - set(TABLA))
    sobran = sorted(set(TABLA) - set(FILAS))
    assert not faltan, f"URLs sin fila en TABLA de {__file__}: agréguelas con quién puede usarlas: {faltan}"
    assert not sobran, f"Filas de TABLA sin URL (¿se renombró o eliminó?): {sobran}"
    conocidos = {"publica", "paciente", A, R, D, "firma del proveedor", "superusuario", LLAVES}
    assert all(quien and quien <= conocidos for quien in TABLA.values())


def test_toda_url_con_id_tiene_su_prueba_de_idor():
    sin_prueba = sorted(set(CON_ID) - set(IDOR) - SIN_DUENO)
    assert not sin_prueba, f"URLs con id sin caso en IDOR ni en SIN_DUENO: {sin_prueba}"
    assert set(IDOR) <= set(CON_ID) and SIN_DUENO <= set(CON_ID)


def _pedir(cliente, url):
    """GET, or POST when the URL takes only POST (405 to a GET)."""
    respuesta = cliente.get(url)
    if respuesta.status_code == 405:
        return "POST", cliente.post(url)
    return "GET", respuesta


def _orden(persona, quien):
    # Those refused first: a permitted POST may change what the next person would see.
    return (persona in quien or "publica" in quien, PERSONAS.index(persona))


def _login_de(clave):
    return {"gestion": "/gestion/entrar/", "portal": "/portal/entrar/"}.get(clave.split(":")[0])


FILAS_DE_SITIO = sorted(c for c in TABLA if c not in ("/admin/",))


@pytest.mark.parametrize("clave", FILAS_DE_SITIO)
def test_cada_fila_para_cada_persona(clave, personas, registros):
    quien = TABLA[clave]
    patron = FILAS[clave]
    url = "/" if clave == "/" else reverse(clave, kwargs=argumentos_de(clave, patron, registros))
    for persona in sorted(PERSONAS, key=lambda p: _orden(p, quien)):
        permitido = persona in quien or "publica" in quien
        antes = None if permitido else huella_bd()
        metodo, respuesta = _pedir(personas[persona], url)
        caso = f"{persona} {metodo} {url} → {respuesta.status_code}"
        assert respuesta.status_code < 500, caso
        if "firma del proveedor" in quien:
            assert respuesta.status_code == 403, caso
        elif "publica" in quien:
            assert respuesta.status_code != 403, caso
        elif LLAVES in quien:
            assert respuesta["Content-Type"] == "application/json", caso
            assert (respuesta.status_code != 403) == (persona in (A, R, D)), caso
        elif persona == "anonimo":
            assert respuesta.status_code == 302, caso
            assert respuesta.url.startswith(f"{_login_de(clave)}?next="), caso
        elif permitido:
            assert respuesta.status_code in (200, 302), caso
            if respuesta.status_code == 302:
                assert not respuesta.url.startswith(_login_de(clave)), caso
        else:
            assert respuesta.status_code == 403, caso
        if antes is not None and metodo == "POST":
            assert huella_bd() == antes, f"{caso}: una solicitud rechazada cambió la base de datos"


def _quienes_abren(clave):
    """The people of PERSONAS who may open ``clave`` (none for the webhooks: no login opens them)."""
    quien = TABLA[clave]
    return [persona for persona in PERSONAS if persona in quien or "publica" in quien]


# Pages that show clinical content: their GET writes exactly one row of the read log
# (Decreto 41 art. 9), and nothing else. The staff site's gated views (``con_acceso_a_ficha``)
# are found by their mark; these are the portal's copies and the staff site's own.
LECTURAS_DE_FICHA = {
    "gestion:ficha_pdf", "gestion:ficha_datos",
    "portal:cuenta_datos", "portal:cuenta_datos_legibles", "portal:cuenta_ficha_pdf",
    # The patient's own reads: Mi cuenta (their allergies), their documents' list and a download.
    "portal:mi_cuenta", "portal:mis_documentos", "portal:documento",
    "portal:mis_recetas", "portal:cuenta_receta_pdf",  # their prescriptions (issue 16)
}
# Administrative pages that show a piece of the record inline to the care team (the allergy
# alert, the documents' list): one row per part shown, none for everyone else.
LEEN_UNA_PARTE = {"gestion:paciente", "gestion:agenda_cita"}


def _filas_de_lectura():
    from ficha.models import LecturaFicha

    return LecturaFicha.objects.count()


@pytest.mark.parametrize("clave", [c for c in FILAS_DE_SITIO if _quienes_abren(c)])
def test_un_get_no_escribe(clave, personas, registros):
    """The audit context is opened for writing methods only (PGHISTORY_MIDDLEWARE_METHODS):
    a page that wrote on GET would leave audit rows without their user. No page does, for
    anyone who may open it, but for the read log of a clinical record's pages (``huella_bd``
    leaves that table out: it is counted here)."""
    url = "/" if clave == "/" else reverse(clave, kwargs=argumentos_de(clave, FILAS[clave], registros))
    con_puerta = clave in LECTURAS_DE_FICHA or hasattr(FILAS[clave].callback, "seccion_de_ficha")
    for persona in _quienes_abren(clave):
        antes, lecturas_antes = huella_bd(), _filas_de_lectura()
        respuesta = personas[persona].get(url)
        assert respuesta.status_code < 500, f"{persona} GET {url} → {respuesta.status_code}"
        assert huella_bd() == antes, f"{persona} GET {url} escribió en la base"
        lecturas = _filas_de_lectura() - lecturas_antes
        if con_puerta and respuesta.status_code != 405:
            assert lecturas == 1, f"{persona} GET {url}: {lecturas} filas en el registro de lecturas"
        elif clave in LEEN_UNA_PARTE and persona == D:
            assert lecturas <= 2, f"{persona} GET {url}: {lecturas} filas en el registro de lecturas"
        else:
            assert lecturas == 0, f"{persona} GET {url} escribió en el registro de lecturas sin mostrar la ficha"


def test_admin_solo_para_el_superusuario(personas, registros):
    modelo = "/admin/pacientes/cliente/"
    assert personas["superusuario"].get("/admin/").status_code == 200
    assert personas["superusuario"].get(modelo).status_code == 200
    # Staff accounts are ``is_staff`` (Django's flag for the admin), yet the admin is the
    # superuser's only (clinica/admin_sitio.py): for them, as for the anonymous and patients,
    # every admin page, the index included, is the admin's login.
    for persona in ("anonimo", "paciente", A, R, D):
        for url in ("/admin/", modelo, "/admin/pacientes/"):
            respuesta = personas[persona].get(url)
            assert respuesta.status_code == 302 and respuesta.url.startswith("/admin/login/"), (persona, url)


def test_admin_login_rechaza_al_personal(personas, administrador):
    """The admin's login refuses a staff member's right password, and says where to go."""
    from django.test import Client

    from gestion_clinica.tests.conftest import CLAVE_PERSONAL

    respuesta = Client().post(
        "/admin/login/?next=/admin/", {"username": administrador.user.username, "password": CLAVE_PERSONAL}
    )
    assert respuesta.status_code == 200 and "_auth_user_id" not in respuesta.client.session
    assert "solo para el superusuario" in respuesta.content.decode() and "/gestion/" in respuesta.content.decode()
    raiz = Client().post("/admin/login/?next=/admin/", {"username": "raiz", "password": CLAVE_PERSONAL})
    assert raiz.status_code == 302 and raiz.url == "/admin/"


@pytest.mark.parametrize("clave", sorted(IDOR))
def test_id_de_otro_dueno_es_404(clave, personas, registros):
    persona, cambios, esperado = IDOR[clave]
    cambios = {k: registros[v] for k, v in cambios.items()}
    url = reverse(clave, kwargs=argumentos_de(clave, FILAS[clave], registros, **cambios))
    antes = huella_bd()
    metodo, respuesta = _pedir(personas[persona], url)
    assert respuesta.status_code == esperado, f"{persona} {metodo} {url}"
    if metodo == "GET" and clave not in ("portal:cita_calendario", "portal:cita_calendario_reserva",
                                         "gestion:paciente_documento"):
        # Pages that also take a POST: the POST with the foreign id must not act either.
        respuesta = personas[persona].post(url)
        assert respuesta.status_code in (esperado, 302, 405, 409), f"{persona} POST {url}"
    assert huella_bd() == antes, f"{persona} {url}: el id ajeno cambió algo"
    for secreto in ("motivo-privado", "Radiografía"):
        assert secreto not in respuesta.content.decode(errors="replace")


PERSONA_DE_SITIO = {"gestion": "administrador", "portal": "paciente"}


@pytest.mark.parametrize("clave", CON_ID)
def test_id_inexistente_es_404(clave, personas, registros):
    cambios = {n: ID_INEXISTENTE for n in _ids_enteros(FILAS[clave])}
    url = reverse(clave, kwargs=argumentos_de(clave, FILAS[clave], registros, **cambios))
    antes = huella_bd()
    metodo, respuesta = _pedir(personas[PERSONA_DE_SITIO[clave.split(":")[0]]], url)
    if metodo == "GET":
        assert respuesta.status_code == 404, url
    else:
        # Deleting what is already gone says so and goes back (idempotent), never a 500.
        assert respuesta.status_code in (302, 404, 409), url
    assert huella_bd() == antes


# The providers' side: with a valid signature the webhooks answer, without one they refuse.
TOKEN_TWILIO, SECRETO_META = "token-de-prueba-seguridad", "secreto-de-prueba-seguridad"


def test_webhooks_firmados_responden(client, settings, registros):
    settings.TWILIO_AUTH_TOKEN = TOKEN_TWILIO
    settings.META_WA_APP_SECRET = SECRETO_META
    for nombre, datos, esperado in [("webhooks:twilio", {"From": "+56961234567", "Body": "hola"}, 200),
                                    ("webhooks:twilio_estado", {"MessageSid": "SM1", "MessageStatus": "sent"}, 204)]:
        url = reverse(nombre)
        firma = RequestValidator(TOKEN_TWILIO).compute_signature(f"http://testserver{url}", datos)
        assert client.post(url, datos, HTTP_X_TWILIO_SIGNATURE=firma).status_code == esperado, nombre
        assert client.post(url, datos, HTTP_X_TWILIO_SIGNATURE="otra").status_code == 403, nombre
    crudo = json.dumps({"entry": []}).encode()
    firma = "sha256=" + hmac.new(SECRETO_META.encode(), crudo, hashlib.sha256).hexdigest()
    url = reverse("webhooks:meta")
    assert client.post(url, crudo, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=firma).status_code == 200
    assert client.post(url, crudo, content_type="application/json").status_code == 403
