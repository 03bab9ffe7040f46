"""Prescriptions (recetas): a dentist of the care team issues one from a single form, with its
medicines ("Rp." lines), optionally linked to the progress note of that visit; it gets the next
folio of the clinic and the database's time, and from then on the database refuses any change
(``receta_emitida_inmutable``) but one annulment, with a reason, that keeps the record.

Decisions:
- No draft. A prescription is written at the chair and printed at once; a draft would be one
  more state to hide from the portal, the copy and the summary, for no use a dentist asked for.
  A mistake is annulled (the row stays, the PDF says "ANULADA") and a new one is issued.
- The dentist's RUT and Superintendencia de Salud registry number are required (a Chilean
  prescription prints them) and copied into the prescription with their name and specialty,
  so a later change of their profile does not rewrite a document the patient already has.
- The linked note must be this patient's and the issuing dentist's own (signed or draft): the
  prescription belongs to the visit they wrote about.
- Only the issuing dentist annuls (the prescription carries their name and signature).
- The folio: ``ContadorFolio`` upserted under a row lock (consecutive, none twice; a rolled
  back prescription gives its number back), with the unique constraint as the backstop.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone

from ficha.antecedentes import exigir_dentista_con_acceso
from ficha.models import Evolucion, Receta, RecetaMedicamento
from nucleo.servicios import es_id_valido, exigir_transaccion, operacion

LARGO_NOMBRE_DENTISTA = Receta._meta.get_field("dentista_nombre").max_length

SERIE = "receta"
MAX_LINEAS = 20
LARGO_INDICACIONES = 3000
LARGO_MOTIVO = 1000
DURACION_MAXIMA = 365
# The line's text fields and their lengths (the table's columns).
LARGOS_LINEA = {"medicamento": 200, "presentacion": 120, "dosis": 120, "frecuencia": 120, "indicaciones": 500}
ETIQUETAS_LINEA = {"medicamento": "Medicamento", "presentacion": "Presentación", "dosis": "Dosis",
                   "frecuencia": "Frecuencia", "indicaciones": "Indicaciones", "duracion_dias": "Duración"}
NO_EXISTE = "Esa receta no existe en la ficha de este paciente."
# "Current" prescriptions for the record's summary: not annulled, issued this many days ago at most.
DIAS_VIGENCIA = 90


@dataclass(frozen=True)
class Linea:
    """One medicine as the service takes it."""

    medicamento: str
    presentacion: str = ""
    dosis: str = ""
    frecuencia: str = ""
    duracion_dias: int | None = None
    indicaciones: str = ""


def _texto(valor, *, campo, largo, etiqueta) -> str:
    valor = " ".join(str(valor or "").split()) if campo != "indicaciones_generales" else str(valor or "").strip()
    if "\x00" in valor:
        raise ValidationError(f"{etiqueta}: el texto tiene un carácter no permitido.", code="caracter_invalido")
    if len(valor) > largo:
        raise ValidationError(f"{etiqueta}: el texto es demasiado largo (máximo {largo} caracteres).",
                              code="texto_largo")
    return valor


def _duracion(valor, *, numero) -> int | None:
    if valor in (None, ""):
        return None
    if isinstance(valor, str):
        valor = valor.strip()
        if not (valor.isascii() and valor.isdigit()):
            raise ValidationError(f"Medicamento {numero}: la duración se indica en días, de 1 a {DURACION_MAXIMA}.",
                                  code="duracion_invalida")
        valor = int(valor)
    if isinstance(valor, bool) or not isinstance(valor, int) or not 1 <= valor <= DURACION_MAXIMA:
        raise ValidationError(f"Medicamento {numero}: la duración va de 1 a {DURACION_MAXIMA} días.",
                              code="duracion_invalida")
    return valor


def limpiar_lineas(lineas) -> list[dict]:
    """The medicines as they will be stored (whitespace collapsed; empty lines dropped), or a
    ``ValidationError`` naming the line: ``sin_medicamentos``, ``demasiados_medicamentos``,
    ``medicamento_requerido`` (a line with data but no medicine), ``texto_largo``,
    ``caracter_invalido``, ``duracion_invalida``."""
    limpias = []
    for numero, linea in enumerate(lineas or [], start=1):
        datos = linea if isinstance(linea, dict) else linea.__dict__
        fila = {campo: _texto(datos.get(campo), campo=campo, largo=largo,
                              etiqueta=f"Medicamento {numero}, {ETIQUETAS_LINEA[campo].lower()}")
                for campo, largo in LARGOS_LINEA.items()}
        fila["duracion_dias"] = _duracion(datos.get("duracion_dias"), numero=numero)
        if not any(fila.values()):
            continue
        if not fila["medicamento"]:
            raise ValidationError(f"Medicamento {numero}: escriba el nombre del medicamento.",
                                  code="medicamento_requerido")
        limpias.append(fila)
    if not limpias:
        raise ValidationError("Agregue al menos un medicamento a la receta.", code="sin_medicamentos")
    if len(limpias) > MAX_LINEAS:
        raise ValidationError(f"Una receta lleva hasta {MAX_LINEAS} medicamentos.", code="demasiados_medicamentos")
    return limpias


def siguiente_folio(serie: str = SERIE) -> int:
    """The next folio of ``serie``, inside the caller's transaction: the counter's row stays
    locked until it ends, so two prescriptions never share a number."""
    exigir_transaccion()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ficha_contadorfolio (serie, ultimo) VALUES (%s, 1) "
            "ON CONFLICT (serie) DO UPDATE SET ultimo = ficha_contadorfolio.ultimo + 1 RETURNING ultimo",
            [serie],
        )
        return cursor.fetchone()[0]


def _evolucion_de_la_visita(evolucion_id, *, cliente_id, dentista_id) -> Evolucion | None:
    if evolucion_id in (None, ""):
        return None
    nota = None
    if isinstance(evolucion_id, str) and evolucion_id.isascii() and evolucion_id.isdigit():
        evolucion_id = int(evolucion_id)
    if es_id_valido(evolucion_id):
        nota = Evolucion.objects.filter(pk=evolucion_id, cliente_id=cliente_id, dentista_id=dentista_id).first()
    if nota is None:
        raise ValidationError("Esa evolución no es suya con este paciente: elija una de sus evoluciones o ninguna.",
                              code="evolucion_invalida")
    return nota


def emitir_receta(*, actor, cliente_id, lineas, indicaciones="", evolucion_id=None) -> Receta:
    """Issue a prescription of the actor (a dentist of the patient's care team, with RUT and
    registry number) with ``lineas`` (``Linea`` or dicts, in order; empty ones skipped),
    general ``indicaciones`` and optionally the actor's note of that visit. One transaction:
    the folio, the header, the lines. Raises ``ValidationError`` (``sin_acceso``,
    ``dentista_sin_datos``, ``evolucion_invalida`` and those of ``limpiar_lineas``),
    ``Cliente.DoesNotExist``."""
    limpias = limpiar_lineas(lineas)
    indicaciones = _texto(indicaciones, campo="indicaciones_generales", largo=LARGO_INDICACIONES,
                          etiqueta="Indicaciones generales")
    with operacion("emitir_receta", actor=actor):
        perfil = exigir_dentista_con_acceso(actor, cliente_id)
        if not (perfil.rut and perfil.registro_superintendencia):
            raise ValidationError(
                "Para emitir recetas falta su RUT o su número de registro en la Superintendencia de Salud: "
                "pídale a un administrador que los registre en Personal.", code="dentista_sin_datos")
        nota = _evolucion_de_la_visita(evolucion_id, cliente_id=cliente_id, dentista_id=perfil.pk)
        receta = Receta.objects.create(
            cliente_id=cliente_id, dentista=perfil, evolucion=nota, folio=siguiente_folio(),
            # The column keeps 300 characters; a staff name may be up to 301 (two 150-character fields).
            indicaciones=indicaciones, dentista_nombre=perfil.nombre[:LARGO_NOMBRE_DENTISTA],
            dentista_rut=perfil.rut,
            dentista_registro=perfil.registro_superintendencia, dentista_especialidad=perfil.especialidad,
        )
        RecetaMedicamento.objects.bulk_create(
            [RecetaMedicamento(receta=receta, orden=orden, **fila) for orden, fila in enumerate(limpias, start=1)]
        )
    return receta


def anular_receta(*, actor, receta_id, motivo, cliente_id=None) -> Receta:
    """Annul the actor's own prescription, once, with a reason; the row and its lines stay.
    Compare-and-set on ``anulada_en IS NULL``. Raises ``ValidationError`` (``motivo_requerido``,
    ``receta_anulada``, ``no_es_autor``, ``sin_acceso``), ``Receta.DoesNotExist``."""
    motivo = _texto(motivo, campo="indicaciones_generales", largo=LARGO_MOTIVO, etiqueta="Motivo")
    if len(motivo) < 5:
        raise ValidationError("Escriba el motivo de la anulación (al menos 5 caracteres).", code="motivo_requerido")
    if not es_id_valido(receta_id):
        raise Receta.DoesNotExist(NO_EXISTE)
    with operacion("anular_receta", actor=actor):
        filtro = {"pk": receta_id} if cliente_id is None else {"pk": receta_id, "cliente_id": cliente_id}
        receta = Receta.objects.filter(**filtro).first()
        if receta is None:
            raise Receta.DoesNotExist(NO_EXISTE)
        perfil = exigir_dentista_con_acceso(actor, receta.cliente_id)
        if receta.dentista_id != perfil.pk:
            raise ValidationError("Solo quien emitió la receta puede anularla.", code="no_es_autor")
        filas = Receta.objects.filter(pk=receta.pk, anulada_en__isnull=True).update(
            anulada_en=timezone.now(), anulada_por=actor, motivo_anulacion=motivo)
        if filas != 1:
            raise ValidationError("Esta receta ya está anulada.", code="receta_anulada")
        receta.refresh_from_db()
    return receta


# Reads -------------------------------------------------------------------------------------


def _con_lineas(consulta):
    return consulta.prefetch_related(
        Prefetch("medicamentos", queryset=RecetaMedicamento.objects.order_by("orden"))
    )


def recetas_del_paciente(cliente_id, *, limite: int | None = None) -> list[Receta]:
    """The patient's prescriptions, newest first, with their lines (two queries)."""
    consulta = _con_lineas(Receta.objects.filter(cliente_id=cliente_id).order_by("-emitida_en", "-folio"))
    return list(consulta[:limite] if limite else consulta)


def receta_del_paciente(*, cliente_id, receta_id) -> Receta:
    """One prescription of this patient with its lines and who annulled it. Raises
    ``Receta.DoesNotExist``."""
    if not es_id_valido(receta_id):
        raise Receta.DoesNotExist(NO_EXISTE)
    receta = (_con_lineas(Receta.objects.filter(pk=receta_id, cliente_id=cliente_id))
              .select_related("cliente", "anulada_por", "evolucion").first())
    if receta is None:
        raise Receta.DoesNotExist(NO_EXISTE)
    return receta


def recetas_vigentes(cliente_id, *, hoy: datetime.date | None = None) -> list[Receta]:
    """Prescriptions in force for the record's summary: not annulled, issued in the last
    ``DIAS_VIGENCIA`` days, newest first, with their lines."""
    hoy = hoy or timezone.localdate()
    desde = timezone.make_aware(datetime.datetime.combine(hoy - datetime.timedelta(days=DIAS_VIGENCIA),
                                                          datetime.time.min))
    return list(_con_lineas(Receta.objects.filter(cliente_id=cliente_id, anulada_en__isnull=True,
                                                  emitida_en__gte=desde).order_by("-emitida_en", "-folio")))


def texto_de_linea(linea) -> str:
    """"1 comprimido cada 8 horas durante 5 días. Después de comer." (what goes under the
    medicine's name)."""
    partes = [p for p in (linea.dosis, linea.frecuencia) if p]
    texto = " ".join(partes)
    if linea.duracion_dias:
        dias = f"{linea.duracion_dias} día{'s' if linea.duracion_dias != 1 else ''}"
        texto = f"{texto} durante {dias}" if texto else f"Durante {dias}"
    if texto:
        texto += "."
    if linea.indicaciones:
        texto = f"{texto} {linea.indicaciones}".strip()
    return texto
