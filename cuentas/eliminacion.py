"""Deleting a patient (the seed's improved deletion flow): their record, their portal account,
their documents and notices go; their appointments are freed or kept as history. One
transaction, from either site (staff: ``eliminar_cliente``; the patient: ``eliminar_mi_cuenta``)."""

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from citas.models import Cita
from citas.services import liberar_citas_del_cliente
from notificaciones.models import Notificacion
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from pacientes.documentos import borrar_archivos_tras_commit
from pacientes.models import Cliente, ClienteDocumento

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResumenEliminacion:
    """What deleting a patient does (shown before, returned after)."""

    cliente_id: int
    cuenta_eliminada: bool
    citas_futuras_liberadas: int
    citas_pasadas_conservadas: int
    documentos_eliminados: int = 0
    notificaciones_eliminadas: int = 0


def _cuentas_del_cliente(cliente):
    """The patient's login: ``Cliente.user``, or for old data without the link, the seed's
    fallback by e-mail and username. Never staff, superusers or another patient's account."""
    User = get_user_model()
    if cliente.user_id is not None:
        return User.objects.filter(pk=cliente.user_id)
    if not cliente.email:
        return User.objects.none()
    return (
        User.objects.filter(Q(email__iexact=cliente.email) | Q(username__iexact=cliente.email))
        .filter(is_staff=False, is_superuser=False, perfil_personal__isnull=True, cliente__isnull=True)
    )


def resumen_eliminacion(*, cliente_id) -> ResumenEliminacion:
    """What ``eliminar_cliente`` would do, for the confirmation page."""
    cliente = Cliente.objects.get(pk=cliente_id)
    ahora = timezone.now()
    citas = Cita.objects.filter(cliente=cliente)
    liberables = citas.liberables(ahora=ahora)
    return ResumenEliminacion(
        cliente_id=cliente.pk,
        cuenta_eliminada=_cuentas_del_cliente(cliente).exists(),
        citas_futuras_liberadas=liberables.count(),
        citas_pasadas_conservadas=citas.exclude(pk__in=liberables.values("pk")).count(),
        documentos_eliminados=ClienteDocumento.objects.filter(cliente=cliente).count(),
        notificaciones_eliminadas=Notificacion.objects.filter(cliente=cliente).count(),
    )


def eliminar_cliente(*, actor, cliente_id) -> ResumenEliminacion:
    """Delete a patient (the seed's improved deletion flow), all in one transaction:

    their ``User`` and ``PerfilCliente`` go; future bookings are released to ``disponible``;
    every other appointment stays as history with its snapshot and ``cliente = NULL``; their
    documents and notifications go (erasure under Ley 21.719: those rows hold contact data and
    message bodies; a pending one simply never goes out), the documents' files only after
    commit; the audit trail records each change with the acting user; the ``Cliente`` goes last.
    """
    ahora = timezone.now()
    with operacion("eliminar_cliente", actor=actor):
        cliente = Cliente.objects.select_for_update().get(pk=cliente_id)
        liberadas, conservadas = liberar_citas_del_cliente(cliente=cliente, ahora=ahora)
        # PerfilCliente goes with its User (on_delete=CASCADE).
        cuentas = list(_cuentas_del_cliente(cliente).values_list("pk", flat=True))
        if cuentas and cliente.user_id is None:
            # Old data: found by the seed's e-mail/username fallback, not by the link. Worth a look.
            registrar_evento(logger, "cuenta_encontrada_por_respaldo", logging.WARNING, cliente_id=cliente.pk,
                             user_ids=",".join(map(str, sorted(cuentas))))
        get_user_model().objects.filter(pk__in=cuentas).delete()
        documentos = ClienteDocumento.objects.filter(cliente=cliente)
        archivos = list(documentos.values_list("archivo", flat=True))
        documentos_eliminados = documentos.delete()[0] if archivos else 0
        borrar_archivos_tras_commit(archivos)
        notificaciones_eliminadas = Notificacion.objects.filter(cliente=cliente).delete()[0]
        cliente.delete()
    resumen = ResumenEliminacion(
        cliente_id=cliente_id, cuenta_eliminada=bool(cuentas), citas_futuras_liberadas=liberadas,
        citas_pasadas_conservadas=conservadas, documentos_eliminados=documentos_eliminados,
        notificaciones_eliminadas=notificaciones_eliminadas,
    )
    registrar_evento(
        logger, "cliente_eliminado", cliente_id=cliente_id, cuentas_eliminadas=len(cuentas),
        citas_liberadas=liberadas, citas_conservadas=conservadas, documentos_eliminados=documentos_eliminados,
        notificaciones_eliminadas=notificaciones_eliminadas, actor_id=getattr(actor, "pk", None),
    )
    return resumen
