"""Who may read a patient's clinical record: the one place that decides (Ley 20.584 art. 13).

Clinical content (medical history, allergies, progress notes, the record's documents) is for the
care team only: an active dentist (active user, active profile, not a superuser) who has or had
an appointment with the patient in one of ``ESTADOS_DE_CUIDADO``, or whom an administrator
assigned to the patient's treatment (``AccesoFicha``). ``ESTADOS_DE_CUIDADO`` is every state
that names the patient except ``cancelada``: booked, confirmed, waiting, attended and no-show,
future appointments included (the dentist prepares a booked visit, and a no-show was still
their patient's appointment). A slot the clinic cancelled keeps the patient's name but was no
care, so it gives no access; a booking the patient cancelled frees the slot and names nobody.
A dentist outside the team may open the record only through "acceso de urgencia" with a
written reason, which lasts ``CLINICA_FICHA_URGENCIA_HORAS`` and stays flagged for review
(``AccesoUrgencia``). Reception and administration see administrative data only (name,
contact, appointments), never clinical content; an administrator grants access but does not
read. A superuser is never a clinical reader, even with a dentist profile: the staff site
counts an active superuser as ``administrador`` (``gestion_clinica.permisos.rol_de``), and this
rule agrees. Every view that shows any part of a record asks ``acceso_a_ficha`` and writes the
answer to the read log (``ficha.lecturas``).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Exists
from django.utils import timezone

from citas.estados import ESTADOS_CON_PACIENTE, EstadoCita
from citas.models import Cita
from ficha.models import AccesoFicha, AccesoUrgencia, Via
from pacientes.models import Cliente
from nucleo.sql import cursor_preparado
from personal.models import Perfil, Rol

# The appointments that make a dentist part of a patient's care: every state that names the
# patient (future bookings and no-shows included) except a cancellation by the clinic (a
# booking the patient cancelled frees the slot and no longer names them).
ESTADOS_DE_CUIDADO = [estado for estado in ESTADOS_CON_PACIENTE if estado != EstadoCita.CANCELADA]


@dataclass(frozen=True)
class Acceso:
    """The answer for one person and one record.

    ``permitido``: they may read clinical content now; ``via``: on what ground (a ``Via``,
    ``denegado`` when refused); ``puede_urgencia``: refused, but a dentist who may open urgent
    access with a reason; ``urgencia_id`` / ``motivo_urgencia`` / ``vence_urgencia``: the urgent
    access in force (its banner says until when);
    ``rol``: the reader's role as the log shows it."""

    permitido: bool
    via: str
    rol: str
    puede_urgencia: bool = False
    urgencia_id: int | None = None
    motivo_urgencia: str = ""
    vence_urgencia: datetime.datetime | None = None


def horas_de_urgencia() -> int:
    return getattr(settings, "CLINICA_FICHA_URGENCIA_HORAS", 12)


def perfil_clinico(usuario) -> Perfil | None:
    """The active dentist profile of an active user, or None: only dentists read records, and a
    superuser is an administrator (as ``gestion_clinica.permisos.rol_de`` says), not a dentist.
    Through ``user.perfil_personal``, the relation the staff site's role check already loaded."""
    if usuario is None or not getattr(usuario, "is_authenticated", False) or not usuario.is_active:
        return None
    if usuario.is_superuser:
        return None
    try:
        perfil = usuario.perfil_personal
    except ObjectDoesNotExist:
        return None
    if not perfil.activo or perfil.rol != Rol.DENTISTA:
        return None
    return perfil


def rol_visible(usuario) -> str:
    """The reader's role for the log: the staff role's label, "Superusuario" or "Paciente"."""
    perfil = Perfil.objects.filter(user_id=usuario.pk).values_list("rol", flat=True).first()
    if perfil is not None:
        return Rol(perfil).label
    if usuario.is_superuser:
        return "Superusuario"
    return "Paciente" if hasattr(usuario, "cliente") else "Sin rol"


def en_el_equipo(cliente_ref, dentista_id):
    """``Exists`` expressions: the dentist has or had an appointment with the patient at
    ``cliente_ref`` (an OuterRef or an id), or is assigned to their treatment."""
    return (
        Exists(Cita.objects.filter(cliente_id=cliente_ref, dentista_id=dentista_id, estado__in=ESTADOS_DE_CUIDADO)),
        Exists(AccesoFicha.objects.filter(cliente_id=cliente_ref, dentista_id=dentista_id, revocado_en__isnull=True)),
    )


# ``acceso_a_ficha``'s one query, written in SQL and prepared per connection (nucleo.sql): the
# same rule as ``en_el_equipo`` (same tables, same conditions) plus the urgent access in force.
# Built by the ORM (two Exists and three Subquery annotations) it cost ~2.4 ms of Python per
# staff request to any clinical page, ~10 % of the ficha page (benchmarks/perfil_ficha.py).
# ficha/tests/test_acceso_sql.py checks it answers as the ORM rule does.
_ACCESO_SQL = f"""
SELECT EXISTS (SELECT 1 FROM {Cita._meta.db_table} c
                WHERE c.cliente_id = p.id AND c.dentista_id = %s AND c.estado = ANY(%s)),
       EXISTS (SELECT 1 FROM {AccesoFicha._meta.db_table} a
                WHERE a.cliente_id = p.id AND a.dentista_id = %s AND a.revocado_en IS NULL),
       u.id, u.motivo, u.vence_en
  FROM {Cliente._meta.db_table} p
  LEFT JOIN LATERAL (SELECT id, motivo, vence_en FROM {AccesoUrgencia._meta.db_table}
                      WHERE cliente_id = p.id AND usuario_id = %s AND vence_en > %s
                      ORDER BY vence_en DESC, id DESC LIMIT 1) u ON true
 WHERE p.id = %s"""
_ESTADOS_DE_CUIDADO = [str(estado) for estado in ESTADOS_DE_CUIDADO]


def acceso_a_ficha(usuario, cliente_id, *, ahora: datetime.datetime | None = None) -> Acceso | None:
    """Whether ``usuario`` may read the clinical record of patient ``cliente_id`` now, and why
    (one query for a dentist, none for anyone else). None when there is no such patient."""
    ahora = ahora or timezone.now()
    perfil = perfil_clinico(usuario)
    if perfil is None:
        if not Cliente.objects.filter(pk=cliente_id).exists():
            return None
        rol = rol_visible(usuario) if getattr(usuario, "is_authenticated", False) else "Anónimo"
        return Acceso(permitido=False, via=Via.DENEGADO, rol=rol)
    rol = Rol.DENTISTA.label
    with cursor_preparado() as cursor:
        cursor.execute(_ACCESO_SQL, [perfil.pk, _ESTADOS_DE_CUIDADO, perfil.pk, usuario.pk, ahora, cliente_id])
        fila = cursor.fetchone()
    if fila is None:
        return None
    equipo, asignado, urgencia_id, motivo_urgencia, vence_urgencia = fila
    if equipo:
        return Acceso(permitido=True, via=Via.EQUIPO, rol=rol)
    if asignado:
        return Acceso(permitido=True, via=Via.ASIGNADO, rol=rol)
    if urgencia_id is not None:
        return Acceso(permitido=True, via=Via.URGENCIA, rol=rol, urgencia_id=urgencia_id,
                      motivo_urgencia=motivo_urgencia, vence_urgencia=vence_urgencia)
    return Acceso(permitido=False, via=Via.DENEGADO, rol=rol, puede_urgencia=True)


def acceso_del_paciente(usuario, cliente_id) -> Acceso:
    """The patient reading their own record in the portal (the exports, their documents, their
    allergies): allowed when ``cliente_id`` is ``usuario``'s own record, and logged like any
    other read. Anyone else (another patient, staff, anonymous) raises ``PermissionDenied``:
    the portal's views only ever ask for ``request.paciente``. No query (the login backend
    loads the record with the user)."""
    propio = getattr(usuario, "cliente", None) if getattr(usuario, "is_authenticated", False) else None
    if propio is None or propio.pk != cliente_id:
        raise PermissionDenied("Solo el propio paciente lee su ficha desde el portal.")
    return Acceso(permitido=True, via=Via.PACIENTE, rol="Paciente")
