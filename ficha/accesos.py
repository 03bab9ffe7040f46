"""Who is in a patient's care team beyond their appointments, and urgent access to a record
(Ley 20.584 art. 13). Each write is one service in one transaction (``operacion``); errors are
``ValidationError`` in Spanish with a stable code and change nothing.

- ``abrir_urgencia``: an active dentist outside the care team opens the record with a written
  reason; it lasts ``CLINICA_FICHA_URGENCIA_HORAS`` and stays flagged until reviewed.
- ``revisar_urgencia``: an administrator marks it reviewed, with a note (compare-and-set: two
  reviewers at once, one wins).
- ``conceder_acceso`` / ``revocar_acceso``: an administrator assigns an active dentist to the
  patient's treatment, or closes that assignment.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from ficha.acceso import acceso_a_ficha, horas_de_urgencia, perfil_clinico
from ficha.models import AccesoFicha, AccesoUrgencia, Via
from nucleo.servicios import operacion
from pacientes.models import Cliente
from personal.models import Perfil
from personal.permisos import es_administrador

MOTIVO_MINIMO = 10
NO_EXISTE_PACIENTE = "Ese paciente no existe."


def _exigir_administrador(actor, que):
    if not es_administrador(actor):
        raise ValidationError(f"Solo la administración puede {que}.", code="sin_permiso")


def _motivo(motivo, *, minimo=MOTIVO_MINIMO, maximo=None, mensaje):
    texto = " ".join((motivo or "").split())
    if len(texto) < minimo:
        raise ValidationError(mensaje, code="motivo_requerido")
    if maximo is not None and len(texto) > maximo:
        raise ValidationError(f"El motivo no puede pasar de {maximo} caracteres.", code="motivo_largo")
    return texto


def abrir_urgencia(*, actor, cliente_id, motivo) -> AccesoUrgencia:
    """Open urgent access to a record for ``actor``: an active dentist outside the patient's
    care team, with a reason of at least ten characters. Raises ValidationError: not a dentist
    (``sin_permiso``), already in the team (``ya_tiene_acceso``, an urgent access in force
    included), reason too short (``motivo_requerido``), no such patient (``no_existe``)."""
    texto = _motivo(motivo, mensaje="Escriba el motivo de la urgencia (al menos 10 caracteres).")
    if perfil_clinico(actor) is None:
        raise ValidationError("Solo un dentista activo puede abrir un acceso de urgencia.", code="sin_permiso")
    with operacion("abrir_urgencia", actor=actor):
        # Lock the patient: two urgent openings at once by one dentist make one row.
        if not Cliente.objects.select_for_update().filter(pk=cliente_id).exists():
            raise ValidationError(NO_EXISTE_PACIENTE, code="no_existe")
        acceso = acceso_a_ficha(actor, cliente_id)
        if acceso.permitido:
            if acceso.via == Via.URGENCIA:
                raise ValidationError("Ya tiene un acceso de urgencia vigente a esta ficha.", code="ya_tiene_acceso")
            raise ValidationError("Usted ya es parte del equipo de cuidado de este paciente: no necesita un acceso "
                                  "de urgencia.", code="ya_tiene_acceso")
        ahora = timezone.now()
        return AccesoUrgencia.objects.create(
            cliente_id=cliente_id, usuario=actor, motivo=texto, abierto_en=ahora,
            vence_en=ahora + datetime.timedelta(hours=horas_de_urgencia()),
        )


def revisar_urgencia(*, actor, urgencia_id, nota="") -> AccesoUrgencia:
    """Mark an urgent access reviewed by an administrator, with an optional note. Raises
    ValidationError: not an administrator (``sin_permiso``), no such access (``no_existe``),
    already reviewed by someone else (``ya_revisada``)."""
    _exigir_administrador(actor, "revisar los accesos de urgencia")
    nota = (nota or "").strip()
    if len(nota) > 2000:
        raise ValidationError("La nota no puede pasar de 2000 caracteres.", code="nota_larga")
    with operacion("revisar_urgencia", actor=actor):
        cambiadas = AccesoUrgencia.objects.filter(pk=urgencia_id, revisado_en__isnull=True).update(
            revisado_en=timezone.now(), revisado_por=actor, revision_nota=nota,
        )
        if not cambiadas:
            if AccesoUrgencia.objects.filter(pk=urgencia_id).exists():
                raise ValidationError("Ese acceso de urgencia ya fue revisado.", code="ya_revisada")
            raise ValidationError("Ese acceso de urgencia no existe.", code="no_existe")
        return AccesoUrgencia.objects.get(pk=urgencia_id)


def conceder_acceso(*, actor, cliente_id, dentista_id, motivo) -> AccesoFicha:
    """Assign an active dentist to a patient's treatment (part of the care team from now on).
    Raises ValidationError: not an administrator (``sin_permiso``), no such patient or not an
    active dentist (``no_existe``, ``no_es_dentista``), no reason (``motivo_requerido``), the
    dentist already has access (``acceso_duplicado``, the constraint's message)."""
    _exigir_administrador(actor, "otorgar acceso a una ficha")
    texto = _motivo(motivo, minimo=3, maximo=200, mensaje="Indique por qué se otorga el acceso.")
    with operacion("conceder_acceso", actor=actor):
        if not Cliente.objects.filter(pk=cliente_id).exists():
            raise ValidationError(NO_EXISTE_PACIENTE, code="no_existe")
        if not Perfil.objects.reservables().filter(pk=dentista_id).exists():
            raise ValidationError("Elija un dentista activo de la clínica.", code="no_es_dentista")
        return AccesoFicha.objects.create(cliente_id=cliente_id, dentista_id=dentista_id, motivo=texto,
                                          otorgado_por=actor)


def revocar_acceso(*, actor, acceso_id) -> AccesoFicha:
    """Close a dentist's assignment to a treatment (compare-and-set on ``revocado_en``). Raises
    ValidationError: not an administrator (``sin_permiso``), no such assignment (``no_existe``),
    already revoked (``ya_revocado``). Appointments keep making a dentist part of the team."""
    _exigir_administrador(actor, "revocar el acceso a una ficha")
    with operacion("revocar_acceso", actor=actor):
        cambiadas = AccesoFicha.objects.filter(pk=acceso_id, revocado_en__isnull=True).update(
            revocado_en=timezone.now(), revocado_por=actor,
        )
        if not cambiadas:
            if AccesoFicha.objects.filter(pk=acceso_id).exists():
                raise ValidationError("Ese acceso ya estaba revocado.", code="ya_revocado")
            raise ValidationError("Ese acceso no existe.", code="no_existe")
        return AccesoFicha.objects.get(pk=acceso_id)


