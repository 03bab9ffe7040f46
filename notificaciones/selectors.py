"""Reads of notifications for the staff site: a patient's and an appointment's, with what
staff need to judge delivery (state, attempts, last error, whether a job is still behind
it) and whether "Reenviar" can work. One query each, however many rows."""

from django.db.models import BooleanField, ExpressionWrapper, Q

from notificaciones.canales import canales_con_entrega
from notificaciones.models import EstadoNotificacion, Notificacion
from notificaciones.trabajos import ids_con_trabajo_vivo

ULTIMOS_AVISOS_PACIENTE = 20
MAXIMO_AVISOS_CITA = 50

def _con_estado_de_entrega(consulta, limite) -> list[Notificacion]:
    # Whether a job is still behind it: the rule of ``notificaciones.trabajos``.
    en_cola = ExpressionWrapper(Q(pk__in=ids_con_trabajo_vivo()), output_field=BooleanField())
    avisos = list(consulta.annotate(en_cola=en_cola).order_by("-creado", "-pk")[:limite])
    con_entrega = canales_con_entrega()
    for aviso in avisos:
        aviso.motivo_no_reenviable = _motivo_no_reenviable(aviso, con_entrega)
        aviso.reenviable = aviso.motivo_no_reenviable == ""
    return avisos


def _motivo_no_reenviable(aviso, con_entrega) -> str:
    """Why "Reenviar" would be refused (the service's own checks, short), or ""."""
    if not aviso.destinatario.strip():
        return "Sin destinatario"
    if aviso.canal not in con_entrega:
        return f"Sin proveedor de {aviso.get_canal_display()}"
    if aviso.estado == EstadoNotificacion.PENDIENTE and aviso.en_cola:
        return "En cola de envío"
    return ""


def avisos_de_paciente(cliente_id, *, limite=ULTIMOS_AVISOS_PACIENTE) -> list[Notificacion]:
    """The patient's latest notifications, newest first, each with ``en_cola``,
    ``reenviable`` and ``motivo_no_reenviable``. One query."""
    return _con_estado_de_entrega(Notificacion.objects.filter(cliente_id=cliente_id), limite)


def avisos_de_cita(cita_id, *, limite=MAXIMO_AVISOS_CITA) -> list[Notificacion]:
    """The appointment's notifications, newest first, with the same delivery details as
    ``avisos_de_paciente``. One query."""
    return _con_estado_de_entrega(Notificacion.objects.filter(cita_id=cita_id), limite)


def es_aviso_de(notificacion_id, *, cliente_id=None, cita_id=None) -> bool:
    """Whether the notification belongs to that patient (or that appointment): the staff
    pages act only on their own rows, so another record's id is a 404. One query."""
    if cliente_id is None and cita_id is None:
        raise ValueError("es_aviso_de: indique cliente_id o cita_id")
    filtro = {"cliente_id": cliente_id} if cliente_id is not None else {"cita_id": cita_id}
    return Notificacion.objects.filter(pk=notificacion_id, **filtro).exists()
