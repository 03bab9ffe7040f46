"""The medical history (antecedentes): written by the care team's dentists, never lost to a
colleague's concurrent edit, every version kept with who and when.

``actualizar_antecedentes`` is a compare-and-set on ``version``: the form carries the version it
was opened with, and the UPDATE only lands ``WHERE version = %s``. Two dentists saving the same
history: the first wins, the second is told to look again (``antecedentes_cambiaron``) and
nothing of theirs overwrites the first's. ``historial_de_antecedentes`` reads the versions back
from the audit trail (pghistory's ``AntecedentesEvent``)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from ficha.acceso import acceso_a_ficha, perfil_clinico
from ficha.models import Antecedentes, Embarazo, Tabaquismo
from nucleo.servicios import operacion
from pacientes.models import Cliente

# The fields a dentist writes, in the form's order.
CAMPOS = ("enfermedades", "medicamentos", "alergias", "embarazo", "tabaquismo", "anticoagulantes",
          "anticoagulantes_detalle", "cirugias", "observaciones")
_TEXTOS = ("enfermedades", "medicamentos", "alergias", "cirugias", "observaciones")
LARGO_TEXTO = 5000
MENSAJE_CAMBIARON = ("Otra persona actualizó los antecedentes mientras usted editaba. "
                     "Revise los cambios y guarde de nuevo.")


def exigir_dentista_con_acceso(actor, cliente_id):
    """The actor's dentist ``Perfil`` when they may write this patient's record now (the one
    access rule, ``ficha.acceso``). Raises ``Cliente.DoesNotExist`` for a patient that does not
    exist, ``ValidationError`` (``sin_acceso``) for anyone else."""
    acceso = acceso_a_ficha(actor, cliente_id)
    if acceso is None:
        raise Cliente.DoesNotExist("Ese paciente no existe.")
    perfil = perfil_clinico(actor)
    if perfil is None or not acceso.permitido:
        raise ValidationError("Solo un dentista del equipo que atiende al paciente puede escribir en su ficha.",
                              code="sin_acceso")
    return perfil


def _limpiar(campos: dict) -> dict:
    """The fields as they will be stored, or ``ValidationError`` per field (Spanish, with codes)."""
    desconocidos = set(campos) - set(CAMPOS)
    if desconocidos:
        raise TypeError(f"Campos desconocidos: {sorted(desconocidos)}")
    datos = {}
    errores = {}
    for nombre in _TEXTOS:
        valor = str(campos.get(nombre) or "").strip()
        if "\x00" in valor:
            errores[nombre] = ValidationError("El texto tiene un carácter no permitido.", code="caracter_invalido")
        elif len(valor) > LARGO_TEXTO:
            errores[nombre] = ValidationError(f"El texto es demasiado largo (máximo {LARGO_TEXTO} caracteres).",
                                              code="texto_largo")
        datos[nombre] = valor
    for nombre, opciones in (("embarazo", Embarazo), ("tabaquismo", Tabaquismo)):
        valor = campos.get(nombre) or ""
        if valor not in opciones.values:
            errores[nombre] = ValidationError("Elija una opción de la lista.", code="opcion_invalida")
        datos[nombre] = valor
    datos["anticoagulantes"] = bool(campos.get("anticoagulantes"))
    detalle = str(campos.get("anticoagulantes_detalle") or "").strip()
    if "\x00" in detalle:
        errores["anticoagulantes_detalle"] = ValidationError("El texto tiene un carácter no permitido.",
                                                             code="caracter_invalido")
    elif len(detalle) > 200:
        errores["anticoagulantes_detalle"] = ValidationError("Escriba el anticoagulante en menos de 200 caracteres.",
                                                             code="texto_largo")
    elif detalle and not datos["anticoagulantes"]:
        errores["anticoagulantes_detalle"] = ValidationError(
            "Indique el anticoagulante solo si el paciente toma uno (marque «Toma anticoagulantes»).",
            code="anticoagulante_sin_marcar")
    datos["anticoagulantes_detalle"] = detalle
    if errores:
        raise ValidationError(errores)
    return datos


def antecedentes_de(cliente_id) -> Antecedentes:
    """The patient's history, or an unsaved empty one with ``version = 0`` (nothing recorded
    yet: the form sends 0 and the first save creates the row)."""
    antecedentes = Antecedentes.objects.filter(cliente_id=cliente_id).first()
    return antecedentes or Antecedentes(cliente_id=cliente_id, version=0)


def actualizar_antecedentes(*, actor, cliente_id, version, **campos) -> Antecedentes:
    """Save the history as the dentist edited it, on top of ``version`` (the one they read;
    0 when there was none). Only a dentist with access to the record (``ficha.acceso``).

    Raises ``ValidationError``: per field for bad input; ``antecedentes_cambiaron`` when the
    history changed since ``version`` was read (a colleague, or reception's allergies); then
    nothing is written. ``Cliente.DoesNotExist`` for a patient that does not exist."""
    datos = _limpiar(campos)
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version < 2**31:
        raise ValidationError(MENSAJE_CAMBIARON, code="antecedentes_cambiaron")
    with operacion("actualizar_antecedentes", actor=actor):
        exigir_dentista_con_acceso(actor, cliente_id)
        if version == 0:
            # Race-safe: two first saves meet on the unique cliente_id; the loser finds the row.
            antecedentes, creado = Antecedentes.objects.get_or_create(
                cliente_id=cliente_id, defaults={**datos, "actualizado_por": actor})
            if not creado:
                raise ValidationError(MENSAJE_CAMBIARON, code="antecedentes_cambiaron")
            return antecedentes
        # Compare-and-set: lands only on the version the form was opened with.
        filas = Antecedentes.objects.filter(cliente_id=cliente_id, version=version).update(
            **datos, version=F("version") + 1, actualizado_por=actor, actualizado=timezone.now())
        if filas != 1:
            raise ValidationError(MENSAJE_CAMBIARON, code="antecedentes_cambiaron")
    return Antecedentes.objects.get(cliente_id=cliente_id)


@dataclass(frozen=True)
class VersionAntecedentes:
    """One version of a history: its number, when, who (name, or "Sistema"), what changed
    (field label, before, after; before is None on the first version)."""

    version: int
    fecha: object
    quien: str
    cambios: list[tuple[str, object, object]]


def _legible(modelo_campo, valor):
    if valor is None:
        return None
    if modelo_campo.choices:
        return dict(modelo_campo.flatchoices).get(valor, valor) or "Sin registrar"
    if isinstance(valor, bool):
        return "sí" if valor else "no"
    return valor


def _usuario_del_contexto(evento):
    contexto = evento.pgh_context if evento.pgh_context_id else None
    return ((contexto.metadata if contexto is not None else None) or {}).get("user")


def autores_de_versiones(eventos) -> list[str]:
    """Who saved each version (pghistory events of ``Antecedentes``, with ``pgh_context``
    selected), in the same order: the audit context's ``user`` (the service's actor, else the
    request's user), never the row's ``actualizado_por`` (a database trigger, e.g. the allergies
    written from the patient's data by reception, leaves it to the last writer of the form).
    "Sistema" without a user; ``usuario #N`` for one deleted since. One query.

    The one answer to "who changed the history": the staff history page
    (``historial_de_antecedentes``) and the record's copy (``ficha.exportacion``) both use it."""
    ids = [_usuario_del_contexto(e) for e in eventos]
    usuarios = {
        u.pk: (u.get_full_name() or u.get_username())
        for u in get_user_model().objects.filter(pk__in={i for i in ids if isinstance(i, int)})
    } if any(isinstance(i, int) for i in ids) else {}
    return [usuarios.get(i, f"usuario #{i}" if i else "Sistema") for i in ids]


def historial_de_antecedentes(cliente_id) -> list[VersionAntecedentes]:
    """Every version of the patient's history, newest first, from the audit trail: who (the
    audit context's ``user``: the service's actor, else the request's user; "Sistema" without
    one), when, and which fields changed against the version before. Two queries."""
    Evento = Antecedentes.pgh_event_model
    eventos = list(Evento.objects.filter(cliente_id=cliente_id).select_related("pgh_context").order_by("pgh_id"))
    autores = autores_de_versiones(eventos)
    campos = [Antecedentes._meta.get_field(nombre) for nombre in CAMPOS]
    versiones = []
    anterior = None
    for evento, quien in zip(eventos, autores, strict=True):
        cambios = []
        for campo in campos:
            despues = getattr(evento, campo.name)
            antes = getattr(anterior, campo.name) if anterior is not None else None
            if anterior is None and despues in ("", False):
                continue
            if anterior is not None and antes == despues:
                continue
            cambios.append((str(campo.verbose_name), _legible(campo, antes), _legible(campo, despues)))
        versiones.append(VersionAntecedentes(version=evento.version, fecha=evento.pgh_created_at,
                                             cambios=cambios, quien=quien))
        anterior = evento
    versiones.reverse()
    return versiones
