"""A patient's appointments and latest notices as the staff see them on the patient's record
(the record itself is ``pacientes``; appointments sit above it in the layers)."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from citas.models import Cita, EstadoCita
from notificaciones.models import Notificacion
from pacientes.models import Cliente

ULTIMAS_NOTIFICACIONES = 5
ULTIMAS_CITAS = 100


@dataclass(frozen=True)
class ResumenPaciente:
    """What the staff see at the top of a patient's record."""

    cliente: Cliente
    citas_futuras: int
    citas_pasadas: int
    ultimas_notificaciones: list[Notificacion]


def resumen_paciente(cliente_id, *, notificaciones=ULTIMAS_NOTIFICACIONES) -> ResumenPaciente:
    """The patient (with their portal account), how many appointments they have ahead and
    behind (cancelled ones not counted), and their latest notifications, newest first.

    Two queries whatever the history's size. Raises ``Cliente.DoesNotExist``.
    """
    ahora = timezone.now()
    vigente = ~Q(citas__estado=EstadoCita.CANCELADA)
    cliente = (
        # "resguardo": ficha.Resguardo's reverse relation, by name (a layer above; no import).
        Cliente.objects.select_related("user", "resguardo")
        .annotate(
            citas_futuras=Count("citas", filter=vigente & Q(citas__inicio__gte=ahora)),
            citas_pasadas=Count("citas", filter=vigente & Q(citas__inicio__lt=ahora)),
        )
        .prefetch_related(
            Prefetch(
                "notificaciones",
                queryset=Notificacion.objects.order_by("-creado", "-pk")[:notificaciones],
                to_attr="ultimas_notificaciones",
            )
        )
        .get(pk=cliente_id)
    )
    return ResumenPaciente(
        cliente=cliente,
        citas_futuras=cliente.citas_futuras,
        citas_pasadas=cliente.citas_pasadas,
        ultimas_notificaciones=cliente.ultimas_notificaciones,
    )




def citas_de_paciente(cliente_id, *, limite=ULTIMAS_CITAS):
    """The patient's appointments, newest first (at most ``limite``), with their dentist.
    One query."""
    return list(
        Cita.objects.filter(cliente_id=cliente_id)
        .select_related("dentista__user")
        .order_by("-inicio", "-pk")[:limite]
    )

