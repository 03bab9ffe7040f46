"""Progress notes (evoluciones): a dentist of the care team writes a draft, edits or discards it,
and signs it; once signed the database refuses any change (``evolucion_firmada_inmutable``), so
a correction is an addendum: a new, signed note whose ``corrige`` points to the original.

Decisions:
- A note may name an appointment (``cita_id``) only if it is an appointment of THIS patient with
  THIS dentist, in a state that took place or is still ahead (not free, blocked or cancelled):
  the note records what its author did at that visit; linking a colleague's visit would put
  their name on work they did not write.
- Drafts are their author's: only they see, edit, discard or sign them.
- An addendum may be added by any dentist with access to the record, not only the author: the
  care team shares the record, the author may have left the clinic, and the addendum carries
  its own author and time, so nobody's words are put in another's mouth. It attaches to the
  original note (an addendum to an addendum attaches to the same original).
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

from citas.models import Cita
from ficha.acceso import ESTADOS_DE_CUIDADO
from ficha.antecedentes import exigir_dentista_con_acceso
from ficha.models import DIENTES_FDI, Evolucion
from nucleo.servicios import es_id_valido, operacion

LARGO_TEXTO = 20_000
LARGO_PROCEDIMIENTO = 200
MENSAJE_FDI = "Use la numeración FDI: 11 a 18, 21 a 28, 31 a 38, 41 a 48 (temporales 51 a 85)."
FECHA_MINIMA = datetime.date(2000, 1, 1)
NO_EXISTE = "Esa evolución no existe (quizás su autor descartó el borrador)."

_SEPARADORES = re.compile(r"\s*(?:,|;|/|\s+y\s+|\s+)\s*", re.IGNORECASE)
_DIENTES = frozenset(DIENTES_FDI)


def interpretar_dientes(texto) -> list[int]:
    """"16, 26 y 11" → ``[16, 26, 11]`` (FDI two-digit numbers, repeated ones once, in the
    order written). Commas, semicolons, slashes, spaces and "y" separate. Raises
    ``ValidationError`` (``diente_invalido``) naming the first number that is not a tooth."""
    if isinstance(texto, (list, tuple)):
        texto = ", ".join(str(t) for t in texto)
    texto = str(texto or "").strip()
    if not texto:
        return []
    if len(texto) > 300:
        raise ValidationError("Son demasiados dientes: indique hasta 52.", code="diente_invalido")
    dientes = []
    for parte in _SEPARADORES.split(texto):
        if not parte or parte.lower() == "y":
            continue
        if not (parte.isascii() and parte.isdigit()) or int(parte) not in _DIENTES:
            raise ValidationError(f"«{parte[:10]}» no es un diente. {MENSAJE_FDI}", code="diente_invalido")
        if int(parte) not in dientes:
            dientes.append(int(parte))
    return dientes


def _limpiar_texto(valor, *, campo, largo) -> str:
    valor = str(valor or "").strip()
    if "\x00" in valor:
        raise ValidationError({campo: ValidationError("El texto tiene un carácter no permitido.",
                                                      code="caracter_invalido")})
    if len(valor) > largo:
        raise ValidationError({campo: ValidationError(f"El texto es demasiado largo (máximo {largo} caracteres).",
                                                      code="texto_largo")})
    return valor


def _limpiar_fecha(atendido_el, hoy):
    if atendido_el is None:
        return hoy
    if not isinstance(atendido_el, datetime.date) or isinstance(atendido_el, datetime.datetime):
        raise ValidationError({"atendido_el": ValidationError("La fecha no es válida.", code="fecha_invalida")})
    if atendido_el > hoy:
        raise ValidationError({"atendido_el": ValidationError("La fecha de la atención no puede ser futura.",
                                                              code="fecha_futura")})
    if atendido_el < FECHA_MINIMA:
        raise ValidationError({"atendido_el": ValidationError("Use una fecha desde el año 2000.",
                                                              code="fecha_invalida")})
    return atendido_el


def _contenido(*, procedimiento, dientes, texto):
    datos = {"procedimiento": _limpiar_texto(procedimiento, campo="procedimiento", largo=LARGO_PROCEDIMIENTO),
             "texto": _limpiar_texto(texto, campo="texto", largo=LARGO_TEXTO)}
    try:
        datos["dientes"] = interpretar_dientes(dientes)
    except ValidationError as error:
        raise ValidationError({"dientes": error}) from None
    return datos


def _cita_del_paciente(cita_id, *, cliente_id, dentista_id) -> Cita:
    """The appointment a note may name (see the module's decisions), or ``cita_invalida``."""
    cita = None
    if es_id_valido(cita_id):
        cita = (Cita.objects.filter(pk=cita_id, cliente_id=cliente_id, dentista_id=dentista_id,
                                    estado__in=ESTADOS_DE_CUIDADO).only("pk", "inicio").first())
    if cita is None:
        raise ValidationError({"cita": ValidationError(
            "Esa cita no es suya con este paciente: elija una de sus citas con él o ninguna.", code="cita_invalida")})
    return cita


def crear_evolucion(*, actor, cliente_id, procedimiento="", dientes="", texto="", atendido_el=None,
                    cita_id=None) -> Evolucion:
    """A draft note by the actor (a dentist with access to the record). ``cita_id``: one of
    the actor's own appointments with this patient (its date becomes ``atendido_el`` unless
    given). Raises ``ValidationError`` (per field, ``sin_acceso``), ``Cliente.DoesNotExist``."""
    datos = _contenido(procedimiento=procedimiento, dientes=dientes, texto=texto)
    hoy = timezone.localdate()
    with operacion("crear_evolucion", actor=actor):
        perfil = exigir_dentista_con_acceso(actor, cliente_id)
        cita = None
        if cita_id not in (None, ""):
            cita = _cita_del_paciente(cita_id, cliente_id=cliente_id, dentista_id=perfil.pk)
            if atendido_el is None:
                atendido_el = min(timezone.localdate(cita.inicio), hoy)
        atendido_el = _limpiar_fecha(atendido_el, hoy)
        return Evolucion.objects.create(cliente_id=cliente_id, dentista=perfil, cita=cita, atendido_el=atendido_el,
                                        **datos)


def _borrador_propio(actor, evolucion_id, *, cliente_id=None) -> Evolucion:
    """The actor's own draft, locked (``SELECT … FOR UPDATE``), or the reason why not."""
    if not es_id_valido(evolucion_id):
        raise Evolucion.DoesNotExist(NO_EXISTE)
    filtro = {"pk": evolucion_id} if cliente_id is None else {"pk": evolucion_id, "cliente_id": cliente_id}
    nota = Evolucion.objects.select_for_update().filter(**filtro).first()
    if nota is None:
        raise Evolucion.DoesNotExist(NO_EXISTE)
    perfil = exigir_dentista_con_acceso(actor, nota.cliente_id)
    if nota.dentista_id != perfil.pk:
        raise ValidationError("Solo quien escribió esta evolución puede cambiarla, descartarla o firmarla.",
                              code="no_es_autor")
    if nota.firmada:
        raise ValidationError("Esta evolución ya está firmada: no se puede modificar. Agregue una adenda.",
                              code="evolucion_firmada")
    return nota


def editar_borrador(*, actor, evolucion_id, procedimiento="", dientes="", texto="", atendido_el=None,
                    cliente_id=None) -> Evolucion:
    """Change the actor's own unsigned note. Raises ``ValidationError`` (``no_es_autor``,
    ``evolucion_firmada``, per field), ``Evolucion.DoesNotExist``."""
    datos = _contenido(procedimiento=procedimiento, dientes=dientes, texto=texto)
    with operacion("editar_borrador", actor=actor):
        nota = _borrador_propio(actor, evolucion_id, cliente_id=cliente_id)
        datos["atendido_el"] = _limpiar_fecha(atendido_el or nota.atendido_el, timezone.localdate())
        for campo, valor in datos.items():
            setattr(nota, campo, valor)
        nota.save(update_fields=[*datos, "actualizado"])
    return nota


def descartar_borrador(*, actor, evolucion_id, cliente_id=None) -> None:
    """Delete the actor's own unsigned note (a signed one never: the database refuses too). A
    draft a prescription was issued from stays: the prescription is a document the patient took
    and names its visit (``Receta.evolucion`` is PROTECT). Raises ``ValidationError``
    (``borrador_con_receta``, and those of ``_borrador_propio``)."""
    with operacion("descartar_borrador", actor=actor):
        nota = _borrador_propio(actor, evolucion_id, cliente_id=cliente_id)
        if nota.recetas.exists():
            raise ValidationError(
                "Este borrador no se puede descartar: se emitió una receta desde esta atención. Complételo y "
                "fírmelo; si la receta tenía un error, anúlela.", code="borrador_con_receta")
        nota.delete()


def firmar_evolucion(*, actor, evolucion_id, cliente_id=None) -> Evolucion:
    """Sign the actor's own draft: from now on the database refuses any change. Compare-and-set
    on ``firmada_en IS NULL`` (two clicks sign once). Raises ``ValidationError``
    (``evolucion_vacia``, ``evolucion_firmada``, ``no_es_autor``), ``Evolucion.DoesNotExist``."""
    with operacion("firmar_evolucion", actor=actor):
        nota = _borrador_propio(actor, evolucion_id, cliente_id=cliente_id)
        if not (nota.procedimiento.strip() or nota.texto.strip()):
            raise ValidationError("Escriba qué se hizo o la evolución antes de firmar.", code="evolucion_vacia")
        # Python's clock, as for ``creado``: the database's now() is the transaction's start.
        firmada_en = max(timezone.now(), nota.creado)
        filas = Evolucion.objects.filter(pk=nota.pk, firmada_en__isnull=True).update(firmada_en=firmada_en)
        if filas != 1:
            raise ValidationError("Esta evolución ya está firmada.", code="evolucion_firmada")
        nota.firmada_en = firmada_en
    return nota


def agregar_adenda(*, actor, evolucion_id, texto, cliente_id=None) -> Evolucion:
    """An addendum to a signed note: a new note of the same patient, by the actor (any dentist
    with access), signed at once, ``corrige`` = the original note. Raises ``ValidationError``
    (``adenda_de_borrador``, ``adenda_vacia``, ``sin_acceso``, per field),
    ``Evolucion.DoesNotExist``."""
    texto = _limpiar_texto(texto, campo="texto", largo=LARGO_TEXTO)
    if not texto:
        raise ValidationError({"texto": ValidationError("Escriba el texto de la adenda.", code="adenda_vacia")})
    if not es_id_valido(evolucion_id):
        raise Evolucion.DoesNotExist(NO_EXISTE)
    with operacion("agregar_adenda", actor=actor):
        filtro = {"pk": evolucion_id} if cliente_id is None else {"pk": evolucion_id, "cliente_id": cliente_id}
        original = Evolucion.objects.filter(**filtro).first()
        if original is None:
            raise Evolucion.DoesNotExist(NO_EXISTE)
        perfil = exigir_dentista_con_acceso(actor, original.cliente_id)
        if not original.firmada:
            raise ValidationError("Solo se agrega una adenda a una evolución firmada; un borrador se edita.",
                                  code="adenda_de_borrador")
        if original.corrige_id is not None:
            original = Evolucion.objects.get(pk=original.corrige_id)
        adenda = Evolucion.objects.create(cliente_id=original.cliente_id, dentista=perfil, corrige=original,
                                          atendido_el=timezone.localdate(), texto=texto)
        adenda.firmada_en = max(timezone.now(), adenda.creado)
        Evolucion.objects.filter(pk=adenda.pk).update(firmada_en=adenda.firmada_en)
    return adenda
