"""The demo clinic that ``bin/run`` loads (``manage.py cargar_demo``).

Everything is written through the services, exactly as the clinic's people would, and looked
up first so that loading twice creates nothing new: staff by username, patients by RUT, slots
by dentist and start time, bookings by patient (or by name for the person without a record).
"""

import base64
import datetime
import logging
import unicodedata
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.cl.rut import calc_check_digit

from citas.models import Cita, EstadoCita
from citas.horarios import Bloque, dias_no_habiles, definir_horario, generar_horas
from citas.services import asignar_cita, reservar_cita
from ficha.acceso import acceso_a_ficha
from ficha.antecedentes import actualizar_antecedentes, antecedentes_de
from ficha.consentimientos import crear_plantilla
from ficha.evoluciones import agregar_adenda, crear_evolucion, firmar_evolucion
from ficha.models import Evolucion, PlantillaConsentimiento
from notificaciones.models import Canal
from cuentas.services import registrar_cliente_web
from nucleo.registro import registrar_evento
from pacientes.models import Cliente
from cuentas.presencial import crear_cliente_presencial
from nucleo.servicios import operacion
from personal.models import Perfil, Rol
from personal.segundo_factor import NOMBRE_APP
from personal.services import crear_personal
from prestaciones.models import Prestacion
from prestaciones.services import crear_prestacion

logger = logging.getLogger(__name__)

# Documented in the README: every demo account (staff and portal patients) uses it.
PASSWORD_DEMO = "clinica-demo-2026"
# The demo staff's second factor (personal/segundo_factor.py): one known authenticator secret for
# all of them, so a tester adds it once to an app, or runs ``manage.py demo_codigo`` for the code
# of now. Base32 as an app asks for it (20 bytes); the demo only, like the password.
SECRETO_DEMO_BASE32 = "CLINICADEMOCLINICADEMOCLINICADEM"
SECRETO_DEMO = base64.b32decode(SECRETO_DEMO_BASE32).hex()
ZONA = ZoneInfo("America/Santiago")
DIAS_CORRIDOS = 14  # two weeks from the first working day
DURACION_MINUTOS = 30
# Clinic hours, local wall time: [start, end) blocks of 30-minute slots.
BLOQUES = ((datetime.time(9, 0), datetime.time(13, 0)), (datetime.time(14, 30), datetime.time(18, 30)))

# username, nombre, apellido, rol, especialidad, superuser
PERSONAL = (
    ("admin", "Carolina", "Fuentealba Ríos", Rol.ADMINISTRADOR, "", True),
    ("recepcion", "Pedro", "Rojas Lillo", Rol.RECEPCION, "", False),
    ("dra.soto", "Camila", "Soto Vergara", Rol.DENTISTA, "Odontología general", False),
    ("dr.munoz", "Matías", "Muñoz Araya", Rol.DENTISTA, "Endodoncia", False),
    ("dra.reyes", "Valentina", "Reyes Pizarro", Rol.DENTISTA, "Ortodoncia", False),
)

# The demo dentists' RUT and Superintendencia de Salud registry number (their prescriptions print
# them); invented, with a valid check digit.
DATOS_PROFESIONALES = {
    "dra.soto": ("13456789-9", "104532"),
    "dr.munoz": ("14567234-1", "118764"),
    "dra.reyes": ("15678345-5", "127391"),
}

# nombre_completo, RUT body, birth date, allergies, kind, preferred channel.
# kind: "portal" registers on the portal (account with PASSWORD_DEMO), "invitacion" is a walk-in
# with a portal account invitation, "presencial" is a walk-in without account.
PACIENTES = (
    ("Ana María Pérez Soto", 15234871, "1985-03-14", "", "portal", Canal.EMAIL),
    ("Benjamín Rojas Fuentes", 18456123, "1992-07-02", "", "portal", Canal.WHATSAPP),
    ("Catalina Muñoz Díaz", 10987654, "1978-11-23", "", "portal", Canal.EMAIL),
    ("Diego Contreras Silva", 20345678, "2001-01-30", "", "portal", Canal.SMS),
    ("Fernanda González Lagos", 19012345, "1995-05-09", "", "portal", Canal.WHATSAPP),
    ("Gabriel Sepúlveda Castro", 8765432, "1969-09-17", "", "portal", Canal.EMAIL),
    ("Isidora Morales Vega", 16543210, "1988-12-04", "", "invitacion", Canal.EMAIL),
    ("Joaquín Araya Navarro", 23456789, "2010-06-21", "", "invitacion", Canal.EMAIL),
    ("Josefa Espinoza Torres", 12678901, "1980-02-11", "Penicilina", "presencial", Canal.EMAIL),
    ("Martín Valenzuela Reyes", 17890123, "1990-10-05", "", "presencial", Canal.EMAIL),
    ("Antonia Castillo Herrera", 21234567, "2003-04-18", "", "presencial", Canal.EMAIL),
    ("Vicente Fuentes Jara", 9345678, "1972-08-29", "Látex", "presencial", Canal.EMAIL),
    ("Sofía Tapia Olivares", 14567890, "1983-01-07", "", "presencial", Canal.EMAIL),
    ("Tomás Carrasco Pinto", 22345678, "2006-03-25", "", "presencial", Canal.EMAIL),
    ("Emilia Núñez Bravo", 13456789, "1981-12-15", "", "presencial", Canal.EMAIL),
    ("Lucas Gutiérrez Campos", 19876543, "1997-09-02", "", "presencial", Canal.EMAIL),
    ("Florencia Vargas Ortiz", 11234567, "1976-06-30", "", "presencial", Canal.EMAIL),
    ("Agustín Cortés Sandoval", 24567890, "2012-11-11", "", "presencial", Canal.EMAIL),
    ("Javiera Riquelme Aguilera", 16012345, "1986-05-22", "", "presencial", Canal.EMAIL),
    ("Maximiliano Salazar Ibáñez", 7654321, "1958-07-14", "Ibuprofeno (AINES)", "presencial", Canal.EMAIL),
)
SIN_CORREO = {"Florencia Vargas Ortiz", "Agustín Cortés Sandoval"}

# Bookings: (patient index or None, dentist index, working-day index, local time, reason).
RESERVAS_PORTAL = (
    (0, 0, 0, "09:00", "Control anual"),
    (1, 1, 1, "10:30", "Dolor en una muela"),
    (2, 2, 2, "15:00", "Revisión de frenillos"),
)
ASIGNACIONES_RECEPCION = (
    (8, 0, 1, "11:00", "Limpieza"),
    (9, 1, 0, "14:30", "Tratamiento de conducto"),
    (10, 2, 3, "09:30", "Evaluación de ortodoncia"),
)
SIN_FICHA = ("Jorge Tapia Fuentes", "+56961234599", 0, 2, "16:00", "Urgencia: diente roto")

# A real-looking clinical record for two of dra. Soto's patients (her bookings put them in her
# care team): history, signed notes (days ago), one addendum. Patient index → (history, notes).
FICHAS = {
    0: ({"enfermedades": "Hipotiroidismo en tratamiento", "medicamentos": "Levotiroxina 50 µg",
         "embarazo": "no", "tabaquismo": "no"},
        [(200, "Destartraje y profilaxis", "", "Sangrado leve al sondaje en sector anteroinferior. Se refuerza "
                                               "técnica de cepillado y uso de seda dental.", None),
         (30, "Obturación con resina", "36", "Caries oclusal moderada. Aislamiento relativo, resina compuesta "
                                             "A2. Sin sensibilidad al alta.",
          "Control de la obturación del 36 en la próxima visita: revisar contacto oclusal.")]),
    8: ({"enfermedades": "Hipertensión arterial", "medicamentos": "Losartán 50 mg; acenocumarol 4 mg",
         "anticoagulantes": True, "anticoagulantes_detalle": "Acenocumarol 4 mg", "tabaquismo": "ex",
         "cirugias": "Reemplazo valvular aórtico (2019)"},
        [(60, "Evaluación y radiografías", "16, 26", "Caries interproximales en 16 y 26. Se solicita INR "
                                                    "antes de cualquier procedimiento con sangrado.", None)]),
}


@dataclass
class ResumenDemo:
    """What ``cargar_demo`` did: ``creados`` are new rows, ``existentes`` were already there."""

    personal_creado: int = 0
    personal_existente: int = 0
    pacientes_creados: int = 0
    pacientes_existentes: int = 0
    horas_creadas: int = 0
    horas_existentes: int = 0
    reservas_creadas: int = 0
    reservas_existentes: int = 0
    reservas_omitidas: int = 0
    evoluciones_creadas: int = 0
    dias: list[datetime.date] = field(default_factory=list)
    feriados: list[tuple[datetime.date, str]] = field(default_factory=list)


def rut_demo(cuerpo: int) -> str:
    """A valid RUT in normal form (``12345678-5``) for ``cuerpo``."""
    return f"{cuerpo}-{calc_check_digit(str(cuerpo))}"


def telefono_demo(indice: int) -> str:
    """A valid (allocated) Chilean mobile: +569612345xx."""
    return f"+569612345{indice:02d}"


def email_demo(nombre_completo: str) -> str:
    """'Ana María Pérez Soto' → 'ana.perez@correo.example'."""
    partes = unicodedata.normalize("NFKD", nombre_completo).encode("ascii", "ignore").decode().lower().split()
    return f"{partes[0]}.{partes[-2]}@correo.example"


def dias_habiles(desde: datetime.date, dias_corridos: int = DIAS_CORRIDOS):
    """Working days (Mon–Fri, not a Chilean public holiday) in ``[first working day ≥ desde,
    + dias_corridos)``, and the holidays skipped there."""
    feriados = dias_no_habiles(desde, desde + datetime.timedelta(days=dias_corridos + 7))

    def habil(dia):
        return dia.weekday() < 5 and dia not in feriados

    primero = desde
    while not habil(primero):
        primero += datetime.timedelta(days=1)
    corridos = [primero + datetime.timedelta(days=n) for n in range(dias_corridos)]
    omitidos = [(dia, feriados.get(dia)) for dia in corridos if dia.weekday() < 5 and dia in feriados]
    return [dia for dia in corridos if habil(dia)], omitidos


def cargar_demo(*, desde: datetime.date | None = None) -> ResumenDemo:
    """Load the demo clinic (idempotent): staff, patients, two weeks of free slots from the
    first working day after today (or from ``desde``), and a few bookings.

    Each write goes through its service in its own transaction; rows that already exist are
    left as they are. Raises ValidationError if existing data clashes with the demo's.
    """
    resumen = ResumenDemo()
    if desde is None:
        desde = timezone.localdate() + datetime.timedelta(days=1)
    resumen.dias, resumen.feriados = dias_habiles(desde)

    admin, recepcion, dentistas = _cargar_personal(resumen)
    pacientes = _cargar_pacientes(resumen, actor=admin)
    _cargar_horas(resumen, actor=recepcion, dentistas=dentistas)
    _cargar_reservas(resumen, recepcion=recepcion, dentistas=dentistas, pacientes=pacientes)
    _cargar_fichas(resumen, dentista=dentistas[0], pacientes=pacientes)
    _cargar_plantillas_consentimiento(actor=admin)
    _cargar_prestaciones(actor=admin, dentistas=dentistas)

    registrar_evento(
        logger, "demo_cargada", personal_creado=resumen.personal_creado, pacientes_creados=resumen.pacientes_creados,
        horas_creadas=resumen.horas_creadas, reservas_creadas=resumen.reservas_creadas,
    )
    return resumen


def _cargar_personal(resumen):
    User = get_user_model()
    usuarios = {}
    creados = []
    actor = None
    for username, nombre, apellido, rol, especialidad, superusuario in PERSONAL:
        user = User.objects.filter(username=username).first()
        if user is None:
            perfil = crear_personal(
                actor=actor, username=username, nombre=nombre, apellido=apellido,
                email=f"{username}@clinica.example", rol=rol, especialidad=especialidad,
                password=PASSWORD_DEMO, es_superusuario=superusuario,
            )
            user = perfil.user
            creados.append(user)
            resumen.personal_creado += 1
        else:
            resumen.personal_existente += 1
        usuarios[username] = user
        actor = actor or user  # the administrator creates everyone after themself
        if username in DATOS_PROFESIONALES:
            # Also a demo loaded before prescriptions existed gets them (its dentists could not
            # issue one); data someone already typed is never overwritten.
            rut, registro = DATOS_PROFESIONALES[username]
            Perfil.objects.filter(user=user, rut="", registro_superintendencia="").update(
                rut=rut, registro_superintendencia=registro)
    _segundo_factor_demo(creados)
    # In the order of PERSONAL, which the booking plan refers to.
    dentistas = [usuarios[p[0]].perfil_personal for p in PERSONAL if p[3] == Rol.DENTISTA]
    return usuarios["admin"], usuarios["recepcion"], dentistas


def _segundo_factor_demo(usuarios):
    """The staff members created by this very load enrolled with ``SECRETO_DEMO``. Never an
    existing account that merely has a demo username (a real "admin" would get a public secret);
    those created by an earlier load already carry the demo device (or enrolled their own app)."""
    with operacion("demo_segundo_factor"):
        for user in usuarios:
            if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                TOTPDevice.objects.create(user=user, name=NOMBRE_APP, key=SECRETO_DEMO, confirmed=True)


def _cargar_pacientes(resumen, *, actor):
    """Patients by index of PACIENTES (looked up by RUT)."""
    pacientes = []
    for indice, (nombre, cuerpo, nacimiento, alergias, tipo, canal) in enumerate(PACIENTES):
        rut = rut_demo(cuerpo)
        cliente = Cliente.objects.filter(rut=rut, activo=True).select_related("user").first()
        if cliente is not None:
            resumen.pacientes_existentes += 1
            pacientes.append(cliente)
            continue
        email = "" if nombre in SIN_CORREO else email_demo(nombre)
        fecha = datetime.date.fromisoformat(nacimiento)
        if tipo == "portal":
            registrar_cliente_web(
                nombre_completo=nombre, rut=rut, email=email, telefono=telefono_demo(indice), password=PASSWORD_DEMO,
                fecha_nacimiento=fecha, canal_preferido=canal, acepta_whatsapp=canal == Canal.WHATSAPP,
                acepta_sms=canal == Canal.SMS, acepta_privacidad=True,
            )
            cliente = Cliente.objects.select_related("user").get(rut=rut, activo=True)
        else:
            cliente = crear_cliente_presencial(
                actor=actor, nombre_completo=nombre, email=email, telefono=telefono_demo(indice), rut=rut,
                fecha_nacimiento=fecha, alergias=alergias, enviar_invitacion=tipo == "invitacion",
            )
        resumen.pacientes_creados += 1
        pacientes.append(cliente)
    return pacientes


def _cargar_horas(resumen, *, actor, dentistas):
    """Each dentist gets the clinic's weekly hours (if they have none yet), then the slots of
    the demo's days are generated from them (idempotent, holidays skipped)."""
    if not resumen.dias:
        return
    bloques = [Bloque(dia, desde, hasta, DURACION_MINUTOS) for dia in range(5) for desde, hasta in BLOQUES]
    for dentista in dentistas:
        if not dentista.horarios.exists():
            definir_horario(actor=actor, dentista_id=dentista.pk, bloques=bloques)
    generacion = generar_horas(actor=actor, desde=resumen.dias[0], hasta=resumen.dias[-1])
    resumen.horas_creadas += generacion.creadas
    resumen.horas_existentes += generacion.existentes


def _hora_libre(dentista, dia, hora):
    """The dentist's free slot at ``dia hora`` local, or the next free one after it."""
    inicio = timezone.make_aware(datetime.datetime.combine(dia, datetime.time.fromisoformat(hora)), ZONA)
    return (
        Cita.objects.filter(dentista=dentista, estado=EstadoCita.DISPONIBLE, inicio__gte=inicio)
        .order_by("inicio")
        .values_list("pk", flat=True)
        .first()
    )


def _cargar_reservas(resumen, *, recepcion, dentistas, pacientes):
    if not resumen.dias:
        return
    ahora = timezone.now()
    vigentes = Cita.objects.filter(inicio__gt=ahora).exclude(
        estado__in=[EstadoCita.DISPONIBLE, EstadoCita.BLOQUEADA, EstadoCita.CANCELADA]
    )

    def plan(dentista_i, dia_i, hora):
        dia = resumen.dias[min(dia_i, len(resumen.dias) - 1)]
        return _hora_libre(dentistas[dentista_i], dia, hora)

    for paciente_i, dentista_i, dia_i, hora, motivo in RESERVAS_PORTAL:
        cliente = pacientes[paciente_i]
        if vigentes.filter(cliente=cliente).exists():
            resumen.reservas_existentes += 1
            continue
        cita_id = plan(dentista_i, dia_i, hora)
        if cita_id is None or cliente.user is None:
            resumen.reservas_omitidas += 1
            continue
        reservar_cita(user=cliente.user, cita_id=cita_id, motivo=motivo)
        resumen.reservas_creadas += 1

    for paciente_i, dentista_i, dia_i, hora, motivo in ASIGNACIONES_RECEPCION:
        cliente = pacientes[paciente_i]
        if vigentes.filter(cliente=cliente).exists():
            resumen.reservas_existentes += 1
            continue
        cita_id = plan(dentista_i, dia_i, hora)
        if cita_id is None:
            resumen.reservas_omitidas += 1
            continue
        asignar_cita(actor=recepcion, cita_id=cita_id, cliente_id=cliente.pk, motivo=motivo)
        resumen.reservas_creadas += 1

    nombre, telefono, dentista_i, dia_i, hora, motivo = SIN_FICHA
    if vigentes.filter(cliente__isnull=True, paciente_nombre=nombre).exists():
        resumen.reservas_existentes += 1
        return
    cita_id = plan(dentista_i, dia_i, hora)
    if cita_id is None:
        resumen.reservas_omitidas += 1
        return
    asignar_cita(actor=recepcion, cita_id=cita_id, paciente_nombre=nombre, paciente_telefono=telefono, motivo=motivo)
    resumen.reservas_creadas += 1


def _cargar_fichas(resumen, *, dentista, pacientes):
    """The history and signed notes of ``FICHAS``, written by the dentist through the ficha's
    services (a patient who already has a note is left as it is)."""
    hoy = timezone.localdate()
    for indice, (historia, notas) in FICHAS.items():
        cliente = pacientes[indice]
        if Evolucion.objects.filter(cliente=cliente).exists() or not acceso_a_ficha(dentista.user, cliente.pk).permitido:
            continue
        actual = antecedentes_de(cliente.pk)
        actualizar_antecedentes(actor=dentista.user, cliente_id=cliente.pk, version=actual.version,
                                **{"alergias": actual.alergias, **historia})
        for dias, procedimiento, dientes, texto, adenda in notas:
            nota = crear_evolucion(actor=dentista.user, cliente_id=cliente.pk, procedimiento=procedimiento,
                                   dientes=dientes, texto=texto, atendido_el=hoy - datetime.timedelta(days=dias))
            firmar_evolucion(actor=dentista.user, evolucion_id=nota.pk)
            resumen.evoluciones_creadas += 1
            if adenda:
                agregar_adenda(actor=dentista.user, evolucion_id=nota.pk, texto=adenda)


# The clinic's informed-consent templates (issue 16): a dentist issues consents from them.
PLANTILLAS_CONSENTIMIENTO = [
    ("Exodoncia", "Extracción de una o más piezas dentales",
     "En qué consiste: se extrae la pieza dental indicada bajo anestesia local; puede requerir separar la "
     "encía, retirar hueso o dividir la pieza, y suturar.\n"
     "Riesgos: dolor, inflamación y hematoma los primeros días; sangrado; infección o alveolitis seca; "
     "fractura de la raíz que obligue a dejar un fragmento; daño a dientes vecinos; adormecimiento transitorio "
     "o, rara vez, permanente del labio o la lengua (lesión del nervio dentario inferior o lingual); "
     "comunicación con el seno maxilar en piezas superiores.\n"
     "Alternativas: tratamiento de conducto y restauración cuando la pieza se puede conservar; no tratar, con "
     "riesgo de dolor, infección y pérdida de hueso.\n"
     "Cuidados: morder la gasa 30 minutos, no enjuagar ni fumar en 24 horas, dieta blanda y fría, tomar los "
     "medicamentos indicados y consultar si el sangrado o la fiebre persisten."),
    ("Endodoncia", "Tratamiento de conducto",
     "En qué consiste: bajo anestesia local se retira la pulpa (nervio) de la pieza, se limpian y desinfectan "
     "los conductos y se sellan; puede requerir más de una sesión y, al final, una restauración o corona.\n"
     "Riesgos: molestias al masticar algunos días; fractura de un instrumento dentro del conducto; perforación "
     "de la raíz; conductos calcificados que impidan terminar; fractura de la pieza si no se restaura a tiempo; "
     "fracaso del tratamiento que requiera retratamiento, cirugía o extracción.\n"
     "Alternativas: extracción de la pieza y su reemplazo (implante, puente o prótesis); no tratar, con riesgo "
     "de dolor, absceso y pérdida de la pieza."),
    ("Implante dental", "Instalación de implante de titanio",
     "En qué consiste: bajo anestesia local se instala un implante de titanio en el hueso maxilar; tras "
     "un período de integración de 3 a 6 meses se confecciona la corona sobre él. Puede requerir injerto "
     "de hueso.\n"
     "Riesgos: dolor, inflamación y hematoma; infección; falta de integración del implante que obligue a "
     "retirarlo; lesión del nervio con adormecimiento del labio o mentón; comunicación con el seno maxilar; "
     "periimplantitis a largo plazo, más frecuente en fumadores y diabéticos.\n"
     "Alternativas: puente fijo sobre dientes vecinos; prótesis removible; no reemplazar la pieza, con riesgo "
     "de que los dientes vecinos se desplacen."),
]


def _cargar_plantillas_consentimiento(*, actor):
    """The templates of ``PLANTILLAS_CONSENTIMIENTO`` (one that exists by name is left as it is)."""
    for nombre, procedimiento, texto in PLANTILLAS_CONSENTIMIENTO:
        if not PlantillaConsentimiento.objects.filter(nombre__iexact=nombre).exists():
            crear_plantilla(actor=actor, nombre=nombre, procedimiento=procedimiento, texto=texto)


# The demo clinic's arancel (issue 17): code, name, specialty, minutes, price in CLP, online,
# the odontogram finding it treats, and who performs it ("todos" or the dentists' usernames).
# Prices as a private clinic in Santiago lists them.
TODOS_LOS_DENTISTAS = "todos"
ARANCEL = (
    ("EVA-01", "Evaluación y diagnóstico", "Odontología general", 30, 20_000, True, "", TODOS_LOS_DENTISTAS),
    ("PER-01", "Limpieza: destartraje y profilaxis", "Periodoncia", 60, 35_000, True, "", TODOS_LOS_DENTISTAS),
    ("URG-01", "Atención de urgencia", "Odontología general", 30, 30_000, True, "", TODOS_LOS_DENTISTAS),
    ("RAD-01", "Radiografía periapical", "Radiología", 10, 12_000, False, "", TODOS_LOS_DENTISTAS),
    ("OPE-01", "Obturación de resina compuesta", "Operatoria", 45, 45_000, False, "caries",
     ("dra.soto", "dr.munoz")),
    ("OPE-02", "Sellante de fosas y fisuras", "Operatoria", 20, 18_000, False, "", ("dra.soto", "dra.reyes")),
    ("OPE-03", "Reconstrucción de resina por fractura", "Operatoria", 60, 55_000, False, "fractura", ("dra.soto",)),
    ("END-01", "Endodoncia unirradicular", "Endodoncia", 90, 180_000, False, "endodoncia", ("dr.munoz",)),
    ("END-02", "Endodoncia multirradicular", "Endodoncia", 120, 260_000, False, "", ("dr.munoz",)),
    ("CIR-01", "Exodoncia simple", "Cirugía", 45, 55_000, False, "extraccion", ("dra.soto",)),
    ("REH-01", "Corona de porcelana", "Rehabilitación", 60, 350_000, False, "corona", ("dra.soto", "dr.munoz")),
    ("IMP-01", "Implante dental con corona", "Implantología", 90, 1_100_000, False, "ausente", ("dra.soto",)),
    ("EST-01", "Blanqueamiento dental", "Estética", 60, 180_000, False, "", ("dra.soto",)),
    ("ORT-01", "Control de ortodoncia", "Ortodoncia", 30, 40_000, False, "", ("dra.reyes",)),
)


def _cargar_prestaciones(*, actor, dentistas):
    """The arancel of ``ARANCEL`` with its dentists by specialty (every demo dentist does the
    evaluation, the cleaning and emergencies). One that exists by code is left as it is."""
    por_usuario = {d.user.username: d.pk for d in dentistas}
    for codigo, nombre, especialidad, minutos, precio, en_linea, hallazgo, quienes in ARANCEL:
        if Prestacion.objects.filter(codigo=codigo).exists():
            continue
        ids = list(por_usuario.values()) if quienes == TODOS_LOS_DENTISTAS else [
            por_usuario[u] for u in quienes if u in por_usuario]
        crear_prestacion(actor=actor, codigo=codigo, nombre=nombre, especialidad=especialidad,
                         duracion_minutos=minutos, precio=precio, reservable_en_linea=en_linea,
                         trata_hallazgo=hallazgo, dentista_ids=ids)
