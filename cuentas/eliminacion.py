"""Deleting a patient (the seed's improved deletion flow): their record, their portal account,
their documents and notices go; their appointments are freed or kept as history. One
transaction, from either site (staff: ``eliminar_cliente``; the patient: ``eliminar_mi_cuenta``).

A patient with a clinical record (``ficha.retencion.tiene_ficha``) is erased instead of deleted:
the clinic must keep the record at least 15 years after its last entry (Decreto 41 art. 11,
Ley 20.584), so the account, the contact data, the consents and the notices go, and the record
stays under legal hold with the minimum identification (name, RUT or document, birth date) until
the purge (``ficha.retencion.purgar_ficha``). The audit trail loses the contact data and the free
text the record does not need, field by field (``docs/retencion.md``).

A patient with money records (quotes, plans, payments: ``pagos.selectors_caja.tiene_registros_contables``)
and no clinical record is erased the same way, without the legal hold: the accounting records stay
(the SII asks to keep them six years, Código Tributario art. 17 and 200; the ledger is append-only
and PROTECTs the patient), so the ``Cliente`` row stays with name and RUT only, inactive, without
account or contact; documents and notices go as for any erasure (docs/pagos.md).
"""

import datetime
import logging
import re
from dataclasses import dataclass

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from django.core.exceptions import ValidationError

from citas.models import Cancelacion, Cita, PorQuien
from citas.services import liberar_citas_del_cliente
from cuentas.autenticacion import identificador_normalizado
from cuentas.models import CodigoTelefono, RegistroPendiente, UsuarioAuditado
from ficha.models import Antecedentes, Resguardo
from ficha.retencion import _limpiar_auditoria_de_la_purga, plazo_de_conservacion, poner_en_resguardo
from notificaciones.models import Canal, Notificacion
from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from pacientes.documentos import borrar_archivos_tras_commit
from pacientes.models import Cliente, ClienteDocumento, ConsentimientoCanal, MedioConsentimiento
from pagos.selectors_caja import tiene_registros_contables

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
    # With a clinical record: it stays under legal hold (with its documents) until this date.
    ficha_en_resguardo: bool = False
    conservar_hasta: datetime.date | None = None
    documentos_conservados: int = 0
    # Issue 17: quotes or payments (accounting records) keep the patient's name and RUT.
    registros_contables: bool = False


def error_ya_en_resguardo(resguardo) -> ValidationError:
    return ValidationError(
        "Este paciente ya fue eliminado: solo queda su ficha clínica en resguardo legal, hasta el "
        f"{resguardo.conservar_hasta:%d-%m-%Y}. No hay nada más que eliminar.",
        code="ficha_en_resguardo",
    )


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
    """What ``eliminar_cliente`` would do, for the confirmation page. Raises ValidationError
    ``ficha_en_resguardo`` for a patient erased already."""
    cliente = Cliente.objects.get(pk=cliente_id)
    resguardo = Resguardo.objects.filter(cliente_id=cliente.pk).first()
    if resguardo is not None:
        raise error_ya_en_resguardo(resguardo)
    ahora = timezone.now()
    citas = Cita.objects.filter(cliente=cliente)
    liberables = citas.liberables(ahora=ahora)
    documentos = ClienteDocumento.objects.filter(cliente=cliente).count()
    plazo = plazo_de_conservacion(cliente.pk)
    contables = tiene_registros_contables(cliente.pk)
    return ResumenEliminacion(
        cliente_id=cliente.pk,
        cuenta_eliminada=_cuentas_del_cliente(cliente).exists(),
        citas_futuras_liberadas=liberables.count(),
        citas_pasadas_conservadas=citas.exclude(pk__in=liberables.values("pk")).count(),
        documentos_eliminados=0 if plazo else documentos,
        notificaciones_eliminadas=Notificacion.objects.filter(cliente=cliente).count(),
        ficha_en_resguardo=plazo is not None,
        conservar_hasta=plazo[1] if plazo else None,
        documentos_conservados=documentos if plazo else 0,
        registros_contables=contables,
    )


def eliminar_cliente(*, actor, cliente_id) -> ResumenEliminacion:
    """Delete a patient (the seed's improved deletion flow), all in one transaction.

    Without a clinical record: their ``User`` and ``PerfilCliente`` go; future bookings are
    released to ``disponible``; every other appointment stays as history with its snapshot and
    ``cliente = NULL``; their documents and notifications go (erasure under Ley 21.719: those rows
    hold contact data and message bodies; a pending one simply never goes out), the documents'
    files only after commit; the audit trail records each change with the acting user; the
    ``Cliente`` goes last.

    With a clinical record (``ficha.retencion``): see ``_eliminar_con_ficha`` — the record stays
    under legal hold, everything else about the person goes.

    Raises ``Cliente.DoesNotExist``; ValidationError ``ficha_en_resguardo`` when the patient was
    erased already.
    """
    ahora = timezone.now()
    with operacion("eliminar_cliente", actor=actor):
        cliente = Cliente.objects.select_for_update().get(pk=cliente_id)
        resguardo = Resguardo.objects.filter(cliente_id=cliente.pk).first()
        if resguardo is not None:
            raise error_ya_en_resguardo(resguardo)
        _borrar_rastros_de_acceso(cliente)
        if plazo_de_conservacion(cliente.pk) is not None:
            resumen, cuentas = _eliminar_con_ficha(actor=actor, cliente=cliente, ahora=ahora)
        elif tiene_registros_contables(cliente.pk):
            resumen, cuentas = _eliminar_con_ficha(actor=actor, cliente=cliente, ahora=ahora, contable=True)
        else:
            resumen, cuentas = _eliminar_sin_ficha(cliente=cliente, ahora=ahora)
    registrar_evento(
        logger, "cliente_eliminado", cliente_id=cliente_id, cuentas_eliminadas=len(cuentas),
        citas_liberadas=resumen.citas_futuras_liberadas, citas_conservadas=resumen.citas_pasadas_conservadas,
        documentos_eliminados=resumen.documentos_eliminados, notificaciones_eliminadas=resumen.notificaciones_eliminadas,
        ficha_en_resguardo=resumen.ficha_en_resguardo, actor_id=getattr(actor, "pk", None),
    )
    return resumen


def _borrar_rastros_de_acceso(cliente) -> None:
    """Their login trail outside the audit: django-axes' attempts and logs are keyed by the login
    typed (their username, e-mail or RUT, ``cuentas.axes``), and "forgot my password" jobs carry
    it in their arguments. Those rows go (a job being run right now is left to finish: it finds
    no account). Inside the erasure's transaction."""
    identificadores = {i.lower() for i in _cuentas_del_cliente(cliente).values_list("username", flat=True) if i}
    for valor in (cliente.email, cliente.rut):
        normal = identificador_normalizado(valor)
        if normal:
            identificadores.add(normal.lower())
    if not identificadores:
        return
    por_usuario = Q()
    for identificador in identificadores:
        por_usuario |= Q(username__iexact=identificador)
    for modelo in (AccessAttempt, AccessLog, AccessFailureLog):
        modelo.objects.filter(por_usuario).delete()
    # A RUT may have been typed with dots or without the dash: compared on its digits and verifier.
    ruts = [re.sub(r"[^0-9k]", "", i) for i in identificadores if "@" not in i]
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE task_name = %s AND status <> 'doing' AND ("
            "  lower(btrim(args->>'identificador')) = ANY(%s)"
            "  OR lower(regexp_replace(args->>'identificador', '[^0-9kK]', '', 'g')) = ANY(%s))",
            ["cuentas.restablecer_clave", sorted(identificadores), ruts or [""]],  # cuentas.tasks' name
        )


def _borrar_cuentas(cliente) -> list[int]:
    """Delete the patient's login(s) (``PerfilCliente`` goes with its User, CASCADE)."""
    cuentas = list(_cuentas_del_cliente(cliente).values_list("pk", flat=True))
    if cuentas and cliente.user_id is None:
        # Old data: found by the seed's e-mail/username fallback, not by the link. Worth a look.
        registrar_evento(logger, "cuenta_encontrada_por_respaldo", logging.WARNING, cliente_id=cliente.pk,
                         user_ids=",".join(map(str, sorted(cuentas))))
    get_user_model().objects.filter(pk__in=cuentas).delete()
    return cuentas


def _eliminar_sin_ficha(*, cliente, ahora):
    email, telefono = cliente.email, str(cliente.telefono or "")
    cliente_id = cliente.pk
    citas = Cita.objects.filter(cliente=cliente)
    # The kept history keeps the name only (as with a record): contact and the booking's reason go.
    citas.exclude(pk__in=citas.liberables(ahora=ahora).values("pk")).update(paciente_email="", paciente_telefono="", motivo="")
    Cancelacion.objects.filter(cliente=cliente, por=PorQuien.PACIENTE).exclude(motivo="").update(motivo="")
    liberadas, conservadas = liberar_citas_del_cliente(cliente=cliente, ahora=ahora)
    cuentas = _borrar_cuentas(cliente)
    documentos = ClienteDocumento.objects.filter(cliente=cliente)
    archivos = list(documentos.values_list("archivo", flat=True))
    documentos_eliminados = documentos.delete()[0] if archivos else 0
    borrar_archivos_tras_commit(archivos)
    notificaciones_eliminadas = Notificacion.objects.filter(cliente=cliente).delete()[0]
    # A history row with nothing in it (allergies written and cleared) is no record; it goes.
    Antecedentes.objects.filter(cliente=cliente).delete()
    cliente.delete()
    # Nothing is kept for the law: the trail forgets what the purge would (docs/retencion.md).
    _limpiar_auditoria(cliente_id=cliente_id, cuentas=cuentas, email=email, telefono=telefono)
    _limpiar_auditoria_de_la_purga(cliente_id)
    return ResumenEliminacion(
        cliente_id=cliente_id, cuenta_eliminada=bool(cuentas), citas_futuras_liberadas=liberadas,
        citas_pasadas_conservadas=conservadas, documentos_eliminados=documentos_eliminados,
        notificaciones_eliminadas=notificaciones_eliminadas,
    ), cuentas


def _eliminar_con_ficha(*, actor, cliente, ahora, contable=False):
    """Erasure of a patient whose clinical record the law makes the clinic keep, inside the
    caller's transaction:

    - their portal account (User + PerfilCliente), pending sign-ups of their e-mail and their
      phone codes go; so do their notifications (message bodies and addresses);
    - their live WhatsApp/SMS consents are closed (``revocado_medio = eliminacion``), not deleted:
      the rows hold no contact data, and they are the clinic's proof that the messages it sent
      were consented (Ley 21.719 puts that burden on the controller); they go with the record at
      the purge;
    - future bookings are freed; past appointments stay linked to the record (they are its
      visits) without the contact snapshot or the booking's reason; the patient's own words in
      their cancellations go too;
    - the ``Cliente`` keeps only name, RUT or document, birth date (and the allergies, which are
      the record's): no e-mail or phone, the default channel, no account, inactive;
    - the record goes under legal hold (``Resguardo``) until its last entry plus the legal years;
    - the audit trail loses the same contact data and free text (``_limpiar_auditoria``).

    ``contable``: no clinical record, but money records (issue 17) that PROTECT the patient and
    must be kept: the same, without the legal hold, and their documents go (they are no record).
    """
    email, telefono = cliente.email, str(cliente.telefono or "")
    citas = Cita.objects.filter(cliente=cliente)
    liberadas = citas.liberables(ahora=ahora).liberar(ahora=ahora)
    conservadas = citas.update(paciente_email="", paciente_telefono="", motivo="", actualizado=ahora)
    Cancelacion.objects.filter(cliente=cliente, por=PorQuien.PACIENTE).exclude(motivo="").update(motivo="")
    propia = actor is not None and cliente.user_id is not None and getattr(actor, "pk", None) == cliente.user_id
    ConsentimientoCanal.objects.filter(cliente=cliente, revocado_en__isnull=True).update(
        revocado_en=ahora, revocado_medio=MedioConsentimiento.ELIMINACION,
        revocado_por_id=None if propia else getattr(actor, "pk", None), actualizado=ahora,
    )
    cuentas = _borrar_cuentas(cliente)
    CodigoTelefono.objects.filter(cliente=cliente).delete()
    if email:
        RegistroPendiente.objects.filter(email__iexact=email).delete()
    notificaciones_eliminadas = Notificacion.objects.filter(cliente=cliente).delete()[0]
    cliente.email = ""
    cliente.telefono = ""
    cliente.telefono_verificado_en = None
    cliente.telefono_verificado_medio = ""
    cliente.canal_preferido = Canal.EMAIL
    cliente.user = None
    cliente.activo = False
    cliente.save(update_fields=["email", "telefono", "telefono_verificado_en", "telefono_verificado_medio",
                                "canal_preferido", "user", "activo", "actualizado"])
    if contable:
        documentos = ClienteDocumento.objects.filter(cliente=cliente)
        archivos = list(documentos.values_list("archivo", flat=True))
        documentos_eliminados = documentos.delete()[0] if archivos else 0
        borrar_archivos_tras_commit(archivos)
        _limpiar_auditoria(cliente_id=cliente.pk, cuentas=cuentas, email=email, telefono=telefono)
        return ResumenEliminacion(
            cliente_id=cliente.pk, cuenta_eliminada=bool(cuentas), citas_futuras_liberadas=liberadas,
            citas_pasadas_conservadas=conservadas, notificaciones_eliminadas=notificaciones_eliminadas,
            documentos_eliminados=documentos_eliminados, registros_contables=True,
        ), cuentas
    resguardo = poner_en_resguardo(cliente=cliente, solicitado_por="paciente" if propia else "clinica")
    _limpiar_auditoria(cliente_id=cliente.pk, cuentas=cuentas, email=email, telefono=telefono)
    return ResumenEliminacion(
        cliente_id=cliente.pk, cuenta_eliminada=bool(cuentas), citas_futuras_liberadas=liberadas,
        citas_pasadas_conservadas=conservadas, notificaciones_eliminadas=notificaciones_eliminadas,
        ficha_en_resguardo=True, conservar_hasta=resguardo.conservar_hasta,
        documentos_conservados=ClienteDocumento.objects.filter(cliente=cliente).count(),
        registros_contables=tiene_registros_contables(cliente.pk),
    ), cuentas


def _limpiar_auditoria(*, cliente_id, cuentas, email, telefono) -> None:
    """Blank, in the audit trail, the erased patient's contact data and the free text the record
    does not need (the decision per field: docs/retencion.md). Who did what and when stays:
    ``pgh_context`` (user, service, URL), ``pgh_label``, ``pgh_created_at``, ids and states.
    Runs after the erasure's own writes, so their fresh events are blanked too."""
    Cliente.pgh_event_models["insert"].objects.filter(pgh_obj_id=cliente_id).update(email="", telefono="")
    UsuarioAuditado.pgh_event_models["insert"].objects.filter(pgh_obj_id__in=cuentas).update(
        email="", username="", first_name="", last_name=""
    )
    # Their appointments' events: linked to them, or unlinked (a deletion, a booking without a
    # record) with their address or phone in the snapshot. Never another patient's (a child
    # booked with their mother's phone keeps their own events).
    del_paciente = Q(cliente_id=cliente_id)
    contacto = Q(pk__in=[])
    if email:
        contacto |= Q(paciente_email__iexact=email)
    if telefono:
        contacto |= Q(paciente_telefono=telefono)
    del_paciente |= Q(cliente_id__isnull=True) & contacto
    Cita.pgh_event_models["insert"].objects.filter(del_paciente).update(
        paciente_email="", paciente_telefono="", motivo=""
    )
    Cancelacion.pgh_event_models["insert"].objects.filter(cliente_id=cliente_id, por=PorQuien.PACIENTE).update(
        motivo=""
    )
