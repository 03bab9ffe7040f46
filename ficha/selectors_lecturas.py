"""Reads about who reads a record: the read log's search (administrators), a patient's own
"quién vio mi ficha" (portal), the urgent accesses to review and a patient's care team."""

import datetime
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from citas.models import Cita
from ficha.acceso import ESTADOS_DE_CUIDADO, en_el_equipo
from ficha.models import AccesoFicha, AccesoUrgencia, LecturaFicha, Via
from pacientes.models import Cliente, ClienteDocumento
from pacientes.selectors import buscar_pacientes
from personal.models import Perfil, Rol, nombre_de_personal


def _inicio_del_dia(dia: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(dia, datetime.time.min))


def buscar_lecturas(*, paciente: str = "", usuario_id: int | None = None, desde: datetime.date | None = None,
                    hasta: datetime.date | None = None, via: str = "", solo_urgencia: bool = False) -> QuerySet:
    """The read log, newest first, filtered: ``paciente`` (name, RUT, e-mail or phone, as the
    patients' search finds them, inactive ones included), who read, local dates (both
    included), on what ground (a ``Via``, ``denegado`` for refused attempts), only urgent
    accesses. Each row carries ``paciente_nombre`` and ``paciente_rut`` (empty once the
    patient is gone: the log outlives them). Lazy; paginate it."""
    lecturas = LecturaFicha.objects.all()
    if paciente.strip():
        lecturas = lecturas.filter(cliente_id__in=buscar_pacientes(paciente, incluir_inactivos=True).values("pk"))
    if usuario_id:
        lecturas = lecturas.filter(usuario_id=usuario_id)
    if desde:
        lecturas = lecturas.filter(momento__gte=_inicio_del_dia(desde))
    if hasta:
        lecturas = lecturas.filter(momento__lt=_inicio_del_dia(hasta + datetime.timedelta(days=1)))
    if via:
        lecturas = lecturas.filter(via=via)
    if solo_urgencia:
        lecturas = lecturas.filter(via=Via.URGENCIA)
    clientes = Cliente.objects.filter(pk=OuterRef("cliente_id"))
    return lecturas.annotate(
        paciente_nombre=Subquery(clientes.values("nombre_completo")[:1]),
        paciente_rut=Subquery(clientes.values("rut")[:1]),
    ).order_by("-momento", "-pk")


def lecturas_del_paciente(cliente_id: int) -> QuerySet:
    """"Quién vio mi ficha": the rows of the log about the patient's record, newest first,
    written by someone else (their own reads in the portal are logged too, but listing them
    would bury the clinic's among their own visits). Only what the portal shows (when, name,
    role, what, the ground): never the IP or the urgent reason."""
    return (LecturaFicha.objects.filter(cliente_id=cliente_id).exclude(via=Via.PACIENTE)
            .only("momento", "usuario_nombre", "rol", "seccion", "via", "cliente_id")
            .order_by("-momento", "-pk"))


def urgencias_por_revisar() -> QuerySet:
    """Urgent accesses not reviewed yet, oldest first, with who opened them and the patient."""
    return (AccesoUrgencia.objects.filter(revisado_en__isnull=True)
            .select_related("usuario", "cliente").order_by("abierto_en", "pk"))


def cuantas_urgencias_por_revisar() -> int:
    return AccesoUrgencia.objects.filter(revisado_en__isnull=True).count()


@dataclass(frozen=True)
class DentistaConCitas:
    perfil_id: int
    nombre: str
    ultima: datetime.datetime


@dataclass(frozen=True)
class EquipoDeCuidado:
    """A patient's care team: dentists with appointments (read-only: the appointments decide)
    and dentists assigned by an administrator (``AccesoFicha`` in force, revocable)."""

    con_citas: list[DentistaConCitas]
    asignados: list[AccesoFicha]


def _lectores_clinicos() -> QuerySet:
    """The profiles ``ficha.acceso.perfil_clinico`` accepts: active dentists of active users
    that are not superusers."""
    return Perfil.objects.filter(rol=Rol.DENTISTA, activo=True, user__is_active=True, user__is_superuser=False)


def equipo_de_cuidado(cliente_id: int) -> EquipoDeCuidado:
    """Exactly who ``acceso_a_ficha`` lets in without urgent access: the clinical readers
    (``_lectores_clinicos``) that ``en_el_equipo`` finds, by appointment or by assignment (the
    same expressions the rule asks). Two queries."""
    equipo, _ = en_el_equipo(cliente_id, OuterRef("pk"))
    ultima = (Cita.objects.filter(cliente_id=cliente_id, dentista_id=OuterRef("pk"), estado__in=ESTADOS_DE_CUIDADO)
              .order_by("-inicio").values("inicio")[:1])
    perfiles = (_lectores_clinicos().filter(equipo).annotate(ultima=Subquery(ultima)).select_related("user")
                .order_by("-ultima", "pk"))
    con_citas = [
        DentistaConCitas(perfil_id=p.pk, ultima=p.ultima,
                         nombre=nombre_de_personal(p.user.first_name, p.user.last_name, p.user.username))
        for p in perfiles
    ]
    # ``en_el_equipo``'s assignment: in force (not revoked), of a clinical reader.
    asignados = list(AccesoFicha.objects.filter(cliente_id=cliente_id, revocado_en__isnull=True,
                                                dentista__in=_lectores_clinicos())
                     .select_related("dentista__user", "otorgado_por").order_by("creado", "pk"))
    return EquipoDeCuidado(con_citas=con_citas, asignados=asignados)


def acceso_asignado_de(*, cliente_id: int, acceso_id: int) -> AccesoFicha | None:
    """An assignment only if it belongs to that patient (another patient's id finds nothing)."""
    return AccesoFicha.objects.filter(pk=acceso_id, cliente_id=cliente_id).first()


def documentos_en_la_ficha(cliente_id: int) -> int:
    """How many documents a patient's record holds (what reception and administration see of
    them: the count, never their titles). One query."""
    return ClienteDocumento.objects.filter(cliente_id=cliente_id).count()
