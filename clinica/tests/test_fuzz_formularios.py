"""Every form of both sites, fed garbage by ``hypothesis``: any text (NUL, right-to-left marks,
emoji, 100 000 characters), huge and negative numbers, several values for one name, missing
fields, random ids in the path. Whatever comes in, the answer is never a 5xx.

Each URL is in exactly one group (a test checks that, so a new URL must pick one): a form
that takes a POST, a page that reads its query string, or a page whose only input is the
ids in its path. Staff forms are sent by an administrator, portal forms by a patient, public
ones (login, sign-up, password links, reminder links, webhooks) by nobody in particular.

Examples of one test share its database transaction: a 500 from a database error would break
the examples after it, so shrinking is off and the first failing example is the one reported.
"""

import datetime
import hashlib
import hmac
import json
import os

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as ajustes_hypothesis
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from clinica.tests.seguridad import argumentos_de, cliente_logueado, patrones
from clinica.tests.test_tabla_de_acceso import TABLA, _ids_enteros
from personal.models import Perfil, Rol
from pruebas.soporte import dispositivo_de_prueba, iniciar_sesion

pytestmark = [pytest.mark.django_db, pytest.mark.lento]

FILAS = dict(patrones())

# The examples per URL keep the whole file under 90 s on two cores (about 40 s measured);
# CLINICA_FUZZ_FACTOR=10 searches ten times deeper (a nightly run, a suspicion).
_FACTOR = int(os.environ.get("CLINICA_FUZZ_FACTOR", "1"))
EJEMPLOS_POST, EJEMPLOS_GET, EJEMPLOS_RUTA = 30 * _FACTOR, 20 * _FACTOR, 10 * _FACTOR


def _ajustes(ejemplos):
    # CI replays a fixed sequence (a red build must be reproducible, not bad luck); a developer's
    # run draws new examples each time and so keeps finding new cases.
    return ajustes_hypothesis(
        max_examples=ejemplos, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


# Values -----------------------------------------------------------------------------------

RAROS = [
    "", " ", "\x00", "a\x00b", "\u202e\u0645\u0631\u062d\u0628\u0627", "\u200b", "\ufeff", "😀" * 50, "👩‍⚕️🦷",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR 1=1 --", "%00", "%s%s%n", "{{ 7*7 }}",
    "../../etc/passwd", "null", "None", "true", "on", "-1", "0", "9" * 30, "-" + "9" * 30, "1e309", "NaN", "١٢٣",
    "𝟙𝟚𝟛", "2026-02-30", "0001-01-01", "9999-12-31", "10000-01-01", "31-12-2026", "25:61", "23:59:60", "24:00",
    "12.345.678-5", "11111111-1", "+56 9 6123 4567", "+1" + "0" * 30, "a@b", "@" * 300, "x" * 100_000,
]
texto = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=300),  # any encodable character, surrogates excluded
    st.sampled_from(RAROS),
)
numero = st.one_of(st.integers(min_value=-(10**40), max_value=10**40), st.integers(-3, 3)).map(str)
fecha = st.one_of(st.dates().map(str), st.datetimes().map(str))
valor = st.one_of(texto, numero, fecha, st.booleans().map(str))


def real(nombre):
    """A placeholder for the id of one of the test's records (``registros[nombre]``), put in
    at request time: garbage mixed with real ids reaches deeper than ids that never exist."""
    return st.just(f"«{nombre}»")


hora = st.one_of(st.sampled_from(["23:59", "23:30", "21:00", "00:00", "00:30", "24:00", "12:60"]),
                 st.times().map(lambda t: t.strftime("%H:%M")))
fecha_borde = st.one_of(st.sampled_from(["9999-12-31", "0001-01-01", "2026-09-06", "2027-04-03", "2000-01-01"]),
                        st.dates().map(str))
casilla = st.sampled_from(["on", "1", "true", "", "0", "off"])
# What a field's name promises, mixed half and half with anything at all.
PISTAS = {
    "dentista": real("dentista_id"), "cliente": real("cliente_id") | real("otro_cliente_id"),
    "nueva": real("libre_id") | real("otra_cita_id"), "nueva_cita_id": real("libre_id") | real("otra_cita_id"),
    "rol": st.sampled_from(["administrador", "recepcion", "dentista", "superusuario"]),
    "canal_preferido": st.sampled_from(["whatsapp", "sms", "email", "correo"]),
    "fecha": fecha_borde, "desde": fecha_borde, "hasta": fecha_borde, "fecha_nacimiento": fecha_borde,
    "hora": hora, "hora_inicio": hora, "hora_fin": hora,
    "duracion_minutos": st.integers(min_value=-10, max_value=20_000).map(str),
    "semana": st.integers(min_value=-(10**20), max_value=10**20).map(str),
    "dia_semana": st.integers(min_value=-2, max_value=9).map(str),
    "username": real("rut_paciente") | real("email_paciente"),
    "enviar_invitacion": casilla, "acepta_whatsapp": casilla, "acepta_sms": casilla, "acepta_privacidad": casilla,
    "por_clinica": casilla, "inactivos": casilla, "volver": st.just("cita"), "confirmado": casilla,
    "tipo": st.sampled_from(["clinica", "vacaciones", "licencia", "capacitacion", "otro", "feriado"]),
    "tipo_documento": st.sampled_from(["rut", "pasaporte", "otro", "dni"]),
    "pais_documento": st.sampled_from(["AR", "PE", "ZZ", "", "ar"]),
    "medio_consentimiento": st.sampled_from(["verbal", "formulario", "portal", ""]),
    "version": st.integers(min_value=-2, max_value=5).map(str),
    "anticoagulantes": casilla, "atendido_el": fecha_borde,
    "cita": real("cita_id") | real("otra_cita_id") | real("libre_id"),
    "dientes": st.sampled_from(["16, 26 y 11", "19", "0", "abc", "11 y", "y", "85 51", "١٦", "16,,", "-11"]),
    "embarazo": st.sampled_from(["", "no_aplica", "no", "si", "quizas"]),
    "tabaquismo": st.sampled_from(["", "no", "ex", "si", "mucho"]),
    "evolucion": real("evolucion_id") | real("otra_evolucion_id"),
    "duracion_dias": st.sampled_from(["7", "-3", "0", "365", "366", "99999999999999999999", "1e3", "٧"]),
    "medicamento": st.sampled_from(["Amoxicilina", " ", "x" * 5000]),
    "telefono": st.sampled_from(["+56 9 6123 4567", "+56 2 2345 6789", "+54 9 11 2345 6789", "+1 415 555 2671",
                                 "123"]),
    # The odontogram (issue 16).
    "diente": st.sampled_from(["16", "19", "85", "86", "0", "-16", "١٦", "16.0", "9" * 30]),
    "superficie": st.sampled_from(["O", "M", "D", "V", "L", "", "Z", "o", "OM"]),
    "estado": st.sampled_from(["caries", "obturacion", "corona", "ausente", "xyz", ""]),
    "condicion": st.sampled_from(["hallazgo", "realizado", "otro", ""]),
    "accion": st.sampled_from(["marcar", "quitar", "x"]),
    "evolucion": real("evolucion_id"),
    "cara": st.sampled_from(["O", "M", "Z", "", "OO"]),
}


def campo(nombre):
    """A field: missing, one value (what its name promises, or anything), or several values."""
    sencillo = st.one_of(PISTAS[nombre], valor) if nombre in PISTAS else valor
    return st.one_of(st.none(), sencillo, st.lists(sencillo, min_size=2, max_size=3))


id_aleatorio = st.one_of(st.integers(min_value=0, max_value=2**70), st.integers(min_value=0, max_value=50))
archivo = st.builds(
    lambda nombre, contenido, tipo: SimpleUploadedFile(nombre or "x", contenido, content_type=tipo),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00/\\\r\n\""), max_size=120),
    st.one_of(st.binary(max_size=2000), st.sampled_from([b"%PDF-1.7\n%%EOF\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"])),
    st.sampled_from(["application/pdf", "image/png", "image/jpeg", "text/html", "application/x-msdownload", ""]),
)


def formulario(*nombres, archivos=()):
    """The POST data strategy: each named field present or not, with any value; plus now and
    then a field nobody asked for."""
    campos = {n: campo(n) for n in nombres} | {n: st.one_of(st.none(), archivo) for n in archivos}
    extra = st.dictionaries(st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20),
                            valor, max_size=2)
    return st.builds(lambda d, e: {**e, **{k: v for k, v in d.items() if v is not None}},
                     st.fixed_dictionaries(campos), extra)


def bloques_de_horario():
    """The weekly-hours formset: management form included (huge or negative counts too)."""
    gestion = {f"form-{n}": st.one_of(st.none(), numero, st.sampled_from(["3", "0", "61", "1000000"]))
               for n in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")}
    filas = {f"form-{i}-{n}": campo(n) for i in range(3) for n in ("dia_semana", "hora_inicio", "hora_fin", "duracion_minutos")}
    return st.fixed_dictionaries(gestion | filas).map(lambda d: {k: v for k, v in d.items() if v is not None})


def lineas_de_receta():
    """A prescription's form (issue 16): header, and the medicines' formset with its management
    form (huge, negative or missing counts too), now and then "Agregar línea"."""
    gestion = {f"lineas-{n}": st.one_of(st.none(), numero, st.sampled_from(["3", "0", "21", "1000000"]))
               for n in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")}
    filas = {f"lineas-{i}-{n}": campo(n) for i in range(3)
             for n in ("medicamento", "presentacion", "dosis", "frecuencia", "duracion_dias", "indicaciones")}
    cabecera = {"indicaciones": campo("indicaciones"), "evolucion": campo("evolucion"),
                "agregar": st.one_of(st.none(), st.none(), st.just("1"))}
    return st.fixed_dictionaries(gestion | filas | cabecera).map(lambda d: {k: v for k, v in d.items() if v is not None})


PISTAS.update({f"semana-{n}": hora for n in ("manana_desde", "manana_hasta", "tarde_desde", "tarde_hasta")})
PISTAS.update({"semana-dias": PISTAS["dia_semana"], "semana-duracion_minutos": PISTAS["duracion_minutos"]})
# Informed consents (issue 16): strokes that look like a signature (or nearly), RUTs, relations.
firma_trazos = st.lists(st.lists(st.tuples(st.integers(-5, 1100), st.integers(-5, 450)).map(list), min_size=0,
                                 max_size=40), max_size=8).map(json.dumps)
PISTAS.update({
    "firma": st.one_of(firma_trazos, st.sampled_from(["[]", "[[[1,1]]]", "[[[1e999,1],[2,2]]]", "{}", "[" * 3000,
                                                       '[[["a","b"],[1,2]]]', "[[[true,1],[2,2]]]"])),
    "firmante_rut": st.sampled_from(["12.345.678-5", "12.345.678-9", "11111111-1", "", "abc", "0-0"]),
    "firmante_relacion": st.sampled_from(["paciente", "padre_madre", "tutor", "apoderado", "vecino", ""]),
    "leido": casilla, "plantilla": real("plantilla_id"), "activa": st.sampled_from(["0", "1", "2", ""]),
})


def semana_tipo():
    """The weekly hours' one-step form (``accion=semana``, fields prefixed ``semana-``)."""
    return formulario(*(f"semana-{n}" for n in ("dias", "manana_desde", "manana_hasta", "tarde_desde", "tarde_hasta",
                                                 "duracion_minutos"))).map(lambda d: {**d, "accion": "semana"})


PACIENTE = ("nombre_completo", "rut", "email", "telefono", "fecha_nacimiento", "alergias")
# Reception's patient form also records the identity document and the notice channel (issue 13).
PACIENTE_RECEPCION = (*PACIENTE, "tipo_documento", "numero_documento", "pais_documento", "canal_preferido",
                      "acepta_whatsapp", "acepta_sms", "medio_consentimiento")
CLAVES_NUEVAS = ("new_password1", "new_password2")
# The dentist's forms of the clinical record (gestion_clinica.forms.ficha).
ANTECEDENTES = ("alergias", "enfermedades", "medicamentos", "anticoagulantes", "anticoagulantes_detalle",
                "embarazo", "tabaquismo", "cirugias", "observaciones")
EVOLUCION = ("atendido_el", "cita", "procedimiento", "dientes", "texto")
FIRMANTE = ("leido", "firmante_relacion", "firmante_nombre", "firmante_rut")

# The arancel's form (issue 17): amounts typed as people write them, and garbage.
PRESTACION = ("codigo", "nombre", "especialidad", "duracion_minutos", "precio", "reservable_en_linea",
              "trata_hallazgo", "dentistas")
monto = st.one_of(st.sampled_from(["$12.500", "12.500", "12500", "-1", "12,5", "1e9", "100.000.001", "$ 0", "1.2.3"]),
                  st.integers(min_value=-(10**12), max_value=10**12).map(str))
PISTAS.update({
    "precio": monto, "descuento": monto, "codigo": st.sampled_from(["OBT-01", "obt 01", "", "X" * 21, "A.B-1"]),
    "trata_hallazgo": st.sampled_from(["caries", "extraccion", "gingivitis", ""]),
    "dentistas": real("dentista_id") | real("otro_dentista_id"), "prestacion": real("prestacion_id"),
    "hallazgo": real("hallazgo_id"), "fase": st.sampled_from(["1", "9", "0", "10", "-1", "x"]),
    "orden": st.sampled_from(["0", "9999", "10000", "-1", "x"]),
    "accion": st.sampled_from(["agregar", "hallazgo", "todos", "terminar", "anular", "guardar", "quitar",
                               "cancelar", "marcar", "x"]),
})

# url → (who sends it, its POST data). Field names are those of each view's form class.
POST = {
    "gestion:entrar": ("anonimo", formulario("username", "password")),
    "gestion:salir": ("administrador", formulario()),
    "gestion:activar": ("activacion_personal", formulario(*CLAVES_NUEVAS)),
    "gestion:paciente_nuevo": ("administrador", formulario(*PACIENTE_RECEPCION, "enviar_invitacion", "clave_envio")),
    "gestion:paciente_editar": ("administrador", formulario(*PACIENTE_RECEPCION, "agregar_alergias",
                                                            "confirmar_telefono")),
    "gestion:paciente_desactivar": ("administrador", formulario()),
    "gestion:paciente_reactivar": ("administrador", formulario()),
    "gestion:paciente_reenviar": ("administrador", formulario()),
    "gestion:paciente_desbloquear": ("administrador", formulario()),
    "gestion:paciente_dar_hora": ("administrador", formulario("hora", "motivo", "dentista", "fecha")),
    "gestion:paciente_invitar": ("administrador", formulario()),
    "gestion:paciente_eliminar": ("administrador", formulario()),
    "gestion:paciente_aviso_reenviar": ("administrador", formulario()),
    "gestion:paciente_documento_subir": ("administrador", formulario("titulo", archivos=["archivo"])),
    "gestion:paciente_documento_eliminar": ("dentista", formulario()),  # the care team's (issue 15)
    "gestion:ficha_urgencia": ("dentista_ajeno", formulario("motivo", "next")),
    "gestion:ficha_urgencia_revisar": ("administrador", formulario("nota")),
    "gestion:ficha_accesos": ("administrador", formulario("dentista", "motivo")),
    "gestion:ficha_acceso_revocar": ("administrador", formulario()),
    "gestion:agenda_horario": ("administrador", st.one_of(bloques_de_horario(), semana_tipo())),
    "gestion:agenda_crear_hora": ("administrador", formulario("dentista", "fecha", "hora", "duracion_minutos")),
    "gestion:agenda_generar": ("administrador", formulario("desde", "hasta", "dentista")),
    "gestion:agenda_dias_cerrados": ("administrador", formulario("dentista", "tipo", "desde", "hasta", "motivo",
                                                                "confirmado")),
    "gestion:agenda_reabrir": ("administrador", formulario()),
    "gestion:agenda_bloquear": ("administrador", formulario("motivo")),
    "gestion:agenda_desbloquear": ("administrador", formulario("volver")),
    "gestion:agenda_cita_aviso_reenviar": ("administrador", formulario()),
    "gestion:agenda_asignar": ("administrador", formulario("cliente", "paciente_nombre", "paciente_telefono",
                                                          "paciente_email", "motivo")),
    "gestion:agenda_reprogramar": ("administrador", formulario("nueva", "dentista", "fecha")),
    "gestion:agenda_cancelar": ("administrador", formulario("por_clinica", "motivo", "volver")),
    "gestion:agenda_deshacer": ("administrador", formulario("desde", "volver")),
    "gestion:agenda_accion": ("administrador", formulario("volver")),
    # The clinical record (issue 15): sent by the patient's dentist (the care team).
    "gestion:ficha_antecedentes": ("dentista", formulario("version", *ANTECEDENTES)),
    "gestion:ficha_evolucion_nueva": ("dentista", formulario(*EVOLUCION)),
    "gestion:ficha_evolucion": ("dentista", formulario(*EVOLUCION)),
    "gestion:ficha_evolucion_firmar": ("dentista", formulario()),
    "gestion:ficha_evolucion_descartar": ("dentista", formulario()),
    "gestion:ficha_evolucion_adenda": ("dentista", formulario("texto")),
    # Prescriptions (issue 16): the patient's dentist, with RUT and registry number.
    "gestion:ficha_receta_nueva": ("dentista", lineas_de_receta()),
    "gestion:ficha_receta_anular": ("dentista", formulario("motivo")),
    # Informed consents (issue 16): the patient's dentist; the templates, administration.
    "gestion:ficha_consentimiento_nuevo": ("dentista", formulario("plantilla")),
    "gestion:ficha_consentimiento_tableta": ("dentista", formulario(*FIRMANTE, "firma")),
    "gestion:ficha_consentimiento_escaneo": ("dentista", formulario(*FIRMANTE, archivos=["archivo"])),
    "gestion:ficha_consentimiento_revocar": ("dentista", formulario("motivo")),
    "gestion:ficha_consentimiento_anular": ("dentista", formulario("motivo")),
    "gestion:plantilla_consentimiento_nueva": ("administrador", formulario("nombre", "procedimiento", "texto")),
    "gestion:plantilla_consentimiento": ("administrador", formulario("nombre", "procedimiento", "texto")),
    "gestion:plantilla_consentimiento_estado": ("administrador", formulario("activa")),
    "gestion:personal_nuevo": ("administrador", formulario("username", "nombre", "apellido", "email", "rol",
                                                          "especialidad", "enviar_invitacion")),
    "gestion:personal_editar": ("administrador", formulario("nombre", "apellido", "rol", "especialidad", "rut",
                                                           "registro_superintendencia")),
    "gestion:personal_desactivar": ("administrador", formulario()),
    "gestion:personal_reactivar": ("administrador", formulario()),
    "gestion:personal_invitar": ("administrador", formulario()),
    "gestion:personal_segundo_factor_restablecer": ("administrador", formulario("confirmar")),
    "gestion:segundo_factor": ("personal_sin_verificar", formulario("codigo", "next")),
    "otp_webauthn:credential-registration-begin": ("administrador", formulario()),
    "otp_webauthn:credential-registration-complete": ("administrador", formulario("id", "rawId", "type", "response")),
    "otp_webauthn:credential-authentication-begin": ("personal_sin_verificar", formulario()),
    "otp_webauthn:credential-authentication-complete": ("personal_sin_verificar",
                                                        formulario("id", "rawId", "type", "response")),
    "gestion:segundo_factor_inscribir": ("personal_sin_inscribir", formulario("codigo", "next")),
    "portal:entrar": ("anonimo", formulario("username", "password")),
    "portal:salir": ("paciente", formulario()),
    "portal:registro": ("anonimo", formulario(*PACIENTE[:5], "password", "password2", "canal_preferido",
                                              "acepta_whatsapp", "acepta_sms", "acepta_privacidad")),
    "portal:recuperar_clave": ("anonimo", formulario("identificador")),
    "portal:activar": ("activacion_paciente", formulario(*CLAVES_NUEVAS)),
    "portal:reservar_confirmar": ("paciente", formulario("motivo")),
    "portal:cita_confirmar": ("paciente", formulario()),
    "portal:cita_cancelar": ("paciente", formulario()),
    "portal:cita_reprogramar": ("paciente", formulario("nueva_cita_id")),
    "portal:cuenta_contacto": ("paciente", formulario("email", "telefono", "fecha_nacimiento", "password")),
    "portal:cuenta_avisos": ("paciente", formulario("canal_preferido", "acepta_whatsapp", "acepta_sms")),
    "portal:cuenta_telefono": ("paciente", formulario("accion", "codigo")),
    "portal:cuenta_clave": ("paciente", formulario("old_password", *CLAVES_NUEVAS)),
    "portal:cuenta_eliminar": ("paciente", formulario("password")),
    "portal:recordatorio_enlace": ("anonimo", formulario()),
    "portal:cuenta_correo_confirmar": ("anonimo", formulario()),
    "portal:cuenta_correo_deshacer": ("anonimo", formulario()),
    "portal:registro_verificar": ("anonimo", formulario()),
    # The odontogram's charting (issue 16), by the care team; ``evolucion`` a real draft or garbage.
    "gestion:ficha_odontograma": ("dentista", formulario("diente", "superficie", "estado", "condicion", "accion",
                                                         "nota", "evolucion", "volver")),
    # Issue 17: the cash box and the payments (the receptionist's box and payment of the scene).
    "gestion:caja_abrir": ("administrador", formulario("monto_apertura")),
    "gestion:caja_cerrar": ("recepcion", formulario("contado_efectivo", "observacion")),
    "gestion:pago_nuevo": ("administrador", formulario("presupuesto", "monto", "medio", "referencia")),
    "gestion:pago_usar_saldo": ("administrador", formulario("presupuesto", "monto")),
    "gestion:pago_devolver": ("administrador", formulario("monto", "medio", "referencia", "motivo")),
    "gestion:pago_anular": ("recepcion", formulario("motivo")),
    # Quotes (issue 17): issue / new version (items, validity date), the desk's answer; the portal's.
    "gestion:paciente_presupuesto_emitir": ("administrador", formulario("plan", "items", "valido_hasta",
                                                                       "observaciones")),
    "gestion:paciente_presupuesto_version": ("administrador", formulario("plan", "items", "valido_hasta",
                                                                        "observaciones")),
    "gestion:paciente_presupuesto_aceptar": ("administrador", formulario()),
    "gestion:paciente_presupuesto_rechazar": ("administrador", formulario("motivo")),
    "portal:presupuesto_aceptar": ("paciente", formulario()),
    "portal:presupuesto_rechazar": ("paciente", formulario("motivo")),
    # Issue 17: the arancel (administration) and the treatment plan (the patient's dentist).
    "gestion:prestacion_nueva": ("administrador", formulario(*PRESTACION)),
    "gestion:prestacion": ("administrador", formulario(*PRESTACION)),
    "gestion:prestacion_estado": ("administrador", formulario("activa")),
    "gestion:ficha_plan": ("dentista", formulario("titulo", "observaciones")),
    "gestion:ficha_plan_accion": ("dentista", formulario("accion", "prestacion", "diente", "superficie", "fase",
                                                         "descuento", "hallazgo")),
    "gestion:ficha_plan_item": ("dentista", formulario("accion", "precio", "descuento", "fase", "orden")),
    "gestion:ficha_plan_item_realizado": ("dentista", formulario("evolucion")),
}
# Pages that read their query string: url → (who, the GET parameters).
GET = {
    "gestion:pacientes": ("administrador", formulario("q", "inactivos", "pagina")),
    "gestion:agenda": ("administrador", formulario("fecha")),
    "gestion:agenda_semana": ("administrador", formulario("semana")),
    "gestion:agenda_buscar_pacientes": ("administrador", formulario("q")),
    "gestion:agenda_asignar": ("administrador", formulario("q")),
    "gestion:agenda_reprogramar": ("administrador", formulario("dentista", "fecha", "semana")),
    "gestion:paciente_dar_hora": ("administrador", formulario("dentista", "fecha", "semana")),
    "gestion:agenda_cancelar": ("administrador", formulario("por_clinica", "motivo", "volver")),
    "gestion:agenda_deshacer": ("administrador", formulario("volver")),
    "gestion:agenda_generar": ("administrador", formulario("desde", "hasta")),
    "gestion:ficha": ("dentista", formulario("todas")),
    "gestion:ficha_evolucion_nueva": ("dentista", formulario("cita")),
    "gestion:ficha_antecedentes_historial": ("dentista", formulario()),  # only its path; sent by the care team
    "gestion:auditoria": ("administrador", formulario("modelo", "usuario", "desde", "hasta", "registro_id", "pagina", "contexto")),
    "gestion:ficha_lecturas": ("administrador", formulario("paciente", "usuario", "desde", "hasta", "via",
                                                           "solo_urgencia", "pagina")),
    "portal:cuenta_lecturas_ficha": ("paciente", formulario("pagina")),
    "portal:reservar": ("paciente", formulario("dentista", "semana")),
    "portal:cita_reprogramar": ("paciente", formulario("nueva", "dentista", "semana")),
    "portal:entrar": ("anonimo", formulario("next")),
    "gestion:entrar": ("anonimo", formulario("next")),
    "gestion:segundo_factor": ("personal_sin_verificar", formulario("next")),
    "gestion:segundo_factor_inscribir": ("personal_sin_inscribir", formulario("next")),
    "webhooks:meta": ("anonimo", formulario("hub.mode", "hub.verify_token", "hub.challenge")),
    # The odontogram (issue 16): the chart as of a date, a tooth selected; the history's pages.
    "gestion:ficha_odontograma_historial": ("dentista", formulario("pagina")),
    "gestion:ficha_odontograma": ("dentista", formulario("fecha", "diente", "cara")),
    "gestion:pago_nuevo": ("administrador", formulario("presupuesto")),  # issue 17: the quote preselected
    # Issue 17: the statement's two pages of lists; the money reports' period and CSV.
    "gestion:paciente_estado_cuenta": ("administrador", formulario("cargos", "pagos")),
    "gestion:reporte_produccion": ("administrador", formulario("desde", "hasta", "formato")),
    "gestion:reporte_recaudacion": ("administrador", formulario("desde", "hasta", "formato")),
    "gestion:reporte_saldos": ("administrador", formulario("pagina", "formato")),
    "gestion:paciente_presupuesto_emitir": ("administrador", formulario("plan")),  # issue 17: the plan's tab
}
# Pages whose only input is the ids in their path (and the bare pages without any).
SOLO_RUTA = {
    "/", "otp_webauthn:js-i18n-catalog", "gestion:inicio", "gestion:paciente", "gestion:paciente_documento", "gestion:agenda_cita", "gestion:personal",
    "gestion:agenda_cierre",
    "portal:inicio", "portal:privacidad", "portal:recuperar_clave_enviado", "portal:registro_enviado", "portal:mis_citas",
    "portal:cita", "portal:cita_calendario", "portal:cita_reserva", "portal:cita_calendario_reserva",
    "gestion:agenda_reserva", "portal:mi_cuenta", "portal:cuenta_datos", "portal:cuenta_datos_legibles",
    "portal:cuenta_eliminada",
    "portal:mis_documentos", "portal:documento",
    "gestion:ficha_pdf", "gestion:ficha_datos", "portal:cuenta_ficha_pdf",  # the clinical record's copy (issue 15)
    "gestion:ficha_urgencias", "gestion:ficha_urgencias_cuenta",
    # Prescriptions and the record's summary (issue 16).
    "gestion:ficha_recetas", "gestion:ficha_receta", "gestion:ficha_receta_pdf", "gestion:ficha_resumen_pdf",
    "portal:mis_recetas", "portal:cuenta_receta_pdf",
    "gestion:ficha_consentimientos", "gestion:ficha_consentimiento", "gestion:ficha_consentimiento_pdf",  # issue 16
    "gestion:plantillas_consentimiento",
    # Issue 17: the cash box, a receipt and its PDF (staff and portal).
    "gestion:caja", "gestion:caja_detalle", "gestion:pago", "gestion:comprobante_pdf", "portal:mi_comprobante",
    "gestion:paciente_estado_cuenta_csv", "portal:cuenta_estado",  # issue 17
    # Quotes (issue 17).
    "gestion:paciente_presupuestos", "gestion:paciente_presupuesto", "gestion:paciente_presupuesto_pdf",
    "portal:mis_presupuestos", "portal:presupuesto", "portal:presupuesto_pdf",
    "gestion:prestaciones", "gestion:paciente_plan",  # issue 17
}
# Signed by the provider: fuzzed with a valid signature over the garbage (test_webhooks_*).
WEBHOOKS = {"webhooks:twilio", "webhooks:twilio_estado", "webhooks:meta"}


def test_cada_url_tiene_su_grupo():
    agrupadas = set(POST) | set(GET) | SOLO_RUTA | WEBHOOKS
    faltan = sorted(set(TABLA) - {"/admin/"} - agrupadas)
    assert not faltan, f"URLs sin prueba de fuzz: agréguelas a POST, GET o SOLO_RUTA: {faltan}"
    assert agrupadas <= set(TABLA)


# Who sends ---------------------------------------------------------------------------------


def _enlace_de_activacion(user, nombre):
    """An anonymous client on the set-password step of ``user``'s one-time link (Django keeps
    the token in the session and moves the browser to ``…/definir-clave/``)."""
    cliente = Client()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    respuesta = cliente.get(reverse(nombre, args=[uid, default_token_generator.make_token(user)]))
    assert respuesta.status_code == 302
    return cliente, {"uidb64": uid, "token": "definir-clave"}


@pytest.fixture
def remitentes(personas, registros, crear_personal, otro_paciente, settings):
    # Logins are fuzzed, not locked out: the form and axes' username parsing run every time.
    settings.AXES_FAILURE_LIMIT = 10_000
    invitado = crear_personal(rol=Rol.RECEPCION, nombre="Nuevo", apellido="Invitado").user
    # The second-factor step: someone who gave the password only, with a device and without one.
    sin_verificar = crear_personal(rol=Rol.DENTISTA, nombre="Sin", apellido="Verificar").user
    dispositivo_de_prueba(sin_verificar)
    sin_inscribir = crear_personal(rol=Rol.RECEPCION, nombre="Sin", apellido="Inscribir").user
    # The scene's dentist may issue prescriptions (issue 16): the form's garbage reaches the service.
    Perfil.objects.filter(pk=registros["dentista_id"]).update(rut="13456789-9", registro_superintendencia="104532")
    return {
        **personas,
        "personal_sin_verificar": iniciar_sesion(Client(), sin_verificar, segundo_factor=False),
        "personal_sin_inscribir": iniciar_sesion(Client(), sin_inscribir, segundo_factor=False),
        "activacion_personal": _enlace_de_activacion(invitado, "gestion:activar"),
        "activacion_paciente": _enlace_de_activacion(otro_paciente, "portal:activar"),
        # A dentist outside the patient's care team: the one who may ask for urgent access.
        "dentista_ajeno": cliente_logueado(crear_personal(rol=Rol.DENTISTA, nombre="Jorge", apellido="Mora").user),
    }


def _cliente_y_ruta(remitentes, quien):
    remitente = remitentes[quien]
    return remitente if isinstance(remitente, tuple) else (remitente, {})


def _ruta(clave):
    """A strategy for the path's kwargs: the real record's id most of the time, else any
    non-negative integer (what the ``int`` converter lets through), or any text where the
    path takes a string."""
    patron = FILAS[clave]
    opciones = {n: st.one_of(st.none(), st.none(), id_aleatorio) for n in _ids_enteros(patron)}
    if clave == "gestion:agenda_accion":
        opciones["accion"] = st.one_of(st.none(), st.from_regex(r"\A[-a-zA-Z0-9_]{1,40}\Z"),
                                       st.sampled_from(["confirmar", "cancelar", "marcar_atendida", "reprogramar"]))
    if clave in ("portal:recordatorio_enlace", "portal:cuenta_correo_confirmar", "portal:cuenta_correo_deshacer",
                 "portal:registro_verificar"):
        opciones["token"] = st.one_of(st.none(), st.text(st.characters(codec="utf-8", exclude_characters="/"),
                                                          min_size=1, max_size=300))
    return st.fixed_dictionaries(opciones).map(lambda d: {k: v for k, v in d.items() if v is not None})


def _url(clave, registros, fijos, cambios):
    if clave == "/":
        return "/"
    return reverse(clave, kwargs=argumentos_de(clave, FILAS[clave], registros, **{**cambios, **fijos}))


def _con_ids_reales(datos, registros):
    def poner(v):
        if isinstance(v, list):
            return [poner(x) for x in v]
        if isinstance(v, str) and v.startswith("«") and v.endswith("»"):
            return str(registros[v[1:-1]])
        return v

    return {k: poner(v) for k, v in datos.items()}


def _revisar(respuesta, clave, url, datos):
    assert respuesta.status_code < 500, f"{clave} {url} con {datos!r:.2000} → {respuesta.status_code}"


@pytest.mark.parametrize("clave", sorted(POST))
def test_post_con_basura_nunca_es_5xx(clave, remitentes, registros):
    quien, estrategia = POST[clave]
    cliente, fijos = _cliente_y_ruta(remitentes, quien)

    @_ajustes(EJEMPLOS_POST)
    @given(datos=estrategia, cambios=_ruta(clave))
    def probar(datos, cambios):
        url = _url(clave, registros, fijos, cambios)
        datos = _con_ids_reales(datos, registros)
        for adjunto in datos.values():
            if isinstance(adjunto, SimpleUploadedFile):
                adjunto.seek(0)
        _revisar(cliente.post(url, datos), clave, url, datos)

    probar()


@pytest.mark.parametrize("clave", sorted(GET))
def test_get_con_basura_nunca_es_5xx(clave, remitentes, registros):
    quien, estrategia = GET[clave]
    cliente, fijos = _cliente_y_ruta(remitentes, quien)

    @_ajustes(EJEMPLOS_GET)
    @given(datos=estrategia, cambios=_ruta(clave))
    def probar(datos, cambios):
        url = _url(clave, registros, fijos, cambios)
        datos = _con_ids_reales(datos, registros)
        _revisar(cliente.get(url, datos), clave, url, datos)
        # htmx asks for fragments of the same pages.
        _revisar(cliente.get(url, datos, HTTP_HX_REQUEST="true"), clave, url, datos)

    probar()


def _persona_de(clave):
    quien = TABLA[clave]
    if "paciente" in quien:
        return "paciente"
    if "administrador" in quien:
        return "administrador"
    return "dentista" if "dentista" in quien else "anonimo"  # the care team's pages (issue 15)


@pytest.mark.parametrize("clave", sorted(SOLO_RUTA))
def test_ids_al_azar_en_la_ruta_nunca_son_5xx(clave, remitentes, registros):
    cliente = remitentes[_persona_de(clave)]

    @_ajustes(EJEMPLOS_RUTA)
    @given(cambios=_ruta(clave))
    def probar(cambios):
        url = _url(clave, registros, {}, cambios)
        _revisar(cliente.get(url), clave, url, cambios)
        _revisar(cliente.post(url, {"x": "1"}), clave, url, cambios)

    probar()


# Webhooks: garbage with a valid signature, so that it reaches the parsing ------------------

TOKEN_TWILIO, SECRETO_META = "token-de-prueba-fuzz", "secreto-de-prueba-fuzz"
json_cualquiera = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texto,
    lambda hijos: st.lists(hijos, max_size=4) | st.dictionaries(st.sampled_from(
        ["entry", "changes", "value", "messages", "statuses", "from", "text", "body", "id", "status", "errors",
         "code", "button", "interactive", "button_reply", "payload", "title"]) | texto, hijos, max_size=4),
    max_leaves=30,
)


@pytest.fixture
def credenciales(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN_TWILIO
    settings.META_WA_APP_SECRET = SECRETO_META


@pytest.mark.parametrize("clave", ["webhooks:twilio", "webhooks:twilio_estado"])
def test_webhook_twilio_firmado_con_basura(clave, client, credenciales, registros):
    url = reverse(clave)
    campos = formulario("From", "To", "Body", "MessageSid", "MessageStatus", "ErrorCode", "AccountSid")

    @_ajustes(EJEMPLOS_POST)
    @given(datos=campos.map(lambda d: {k: (v[0] if isinstance(v, list) else v) for k, v in d.items()}))
    def probar(datos):
        datos = _con_ids_reales(datos, registros)
        firma = RequestValidator(TOKEN_TWILIO).compute_signature(f"http://testserver{url}", datos)
        respuesta = client.post(url, datos, HTTP_X_TWILIO_SIGNATURE=firma)
        _revisar(respuesta, clave, url, datos)

    probar()


def test_webhook_meta_firmado_con_basura(client, credenciales, registros):
    url = reverse("webhooks:meta")

    @_ajustes(EJEMPLOS_POST)
    @given(cuerpo=st.one_of(json_cualquiera.map(lambda v: json.dumps(v).encode()), st.binary(max_size=500)))
    def probar(cuerpo):
        firma = "sha256=" + hmac.new(SECRETO_META.encode(), cuerpo, hashlib.sha256).hexdigest()
        respuesta = client.post(url, cuerpo, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=firma)
        _revisar(respuesta, "webhooks:meta", url, cuerpo)

    probar()


# What the fuzz found (now fixed): the last days of the calendar overflowed the time-zone
# arithmetic (OverflowError → 500); the agenda's date fields now accept years 2000-2100 only.
BORDES = [
    ("gestion:agenda_generar", {"desde": "9999-12-31", "hasta": "9999-12-31"}),
    ("gestion:agenda_crear_hora", {"fecha": "9999-12-31", "hora": "23:30", "duracion_minutos": "30"}),
]


@pytest.mark.parametrize("clave,datos", BORDES, ids=[c for c, _ in BORDES])
def test_bordes_del_calendario(clave, datos, personas, registros):
    respuesta = personas["administrador"].post(
        reverse(clave), {**datos, "dentista": registros["dentista_id"]}, follow=True
    )
    assert respuesta.status_code == 200
    assert "Use una fecha entre los años 2000 y 2100." in respuesta.content.decode()


def test_la_basura_incluye_lo_que_debe():
    """The strategies really produce the nasty cases (a regression guard for this file)."""
    assert "\x00" in RAROS and "x" * 100_000 in RAROS and any("\u202e" in r for r in RAROS)
    assert datetime.date(9999, 12, 31).isoformat() in RAROS
