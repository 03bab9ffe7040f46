"""Quotes (presupuestos): reception issues one from a plan's proposed items, the patient accepts
or rejects it on the portal (or reception records the answer at the desk), and a change is a new
version of the same number. The rules are the tables' (``tratamientos.models``); this module
gives them their Spanish messages first and writes each flow in one transaction.

Decisions:
- Money is never summed in Python for storage: the quote's subtotal and discount are the SUM of
  the plan items in the very INSERT that issues it, and its lines are copied with INSERT …
  SELECT in the same transaction; the deferred trigger ``presupuesto_total_cuadra`` checks them
  at commit whatever wrote them.
- Who issues: reception and administration (the billing side of the plan: prestación names,
  teeth, prices). That is all a quote needs, so reception never opens the clinical record.
- Every answer is a compare-and-set on ``estado = 'emitido'``: of a patient accepting on the
  portal, reception recording it at the desk and a new version replacing it, exactly one wins.
  Locks are taken in one order everywhere (the quote, then its plan items by id) so two flows
  never deadlock.
- Accepting moves the quoted items to ``aceptado`` with the quote's own prices, only if all of
  them are still ``propuesto``: otherwise the plan changed since the quote was issued and the
  answer is to issue a new version (nothing is accepted halfway).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone

from ficha.recetas import siguiente_folio
from notificaciones.services import notificar
from nucleo.enlaces import enlaces
from nucleo.formato import pesos
from nucleo.servicios import es_id_valido, operacion
from pacientes.models import Cliente
from personal.permisos import es_de_mostrador
from tratamientos.models import (
    MAXIMO_ITEMS, EstadoItem, EstadoPlan, EstadoPresupuesto, ItemPlan, PlanTratamiento, Presupuesto, ViaRespuesta,
)

# Prescriptions and quotes share ``ficha_contadorfolio``: it is a generic table of one row per
# series (``serie`` → last number), so each series counts on its own ("receta" 1, 2, 3…;
# "presupuesto" 1, 2, 3…) and the row lock of one series never waits for the other. A second
# counter table would be the same code twice.
SERIE = "presupuesto"
DIAS_VALIDEZ = 30
DIAS_VALIDEZ_MAXIMA = 365
LARGO_OBSERVACIONES = Presupuesto._meta.get_field("observaciones").max_length
LARGO_MOTIVO = Presupuesto._meta.get_field("motivo_rechazo").max_length
# The quote's totals are int4 columns: a sum beyond this is refused with a message, not a 500.
TOTAL_MAXIMO = 2**31 - 1
NO_EXISTE = "Ese presupuesto no existe."
PLAN_NO_EXISTE = "Ese plan de tratamiento no existe."
PLAN_CAMBIO = "El plan cambió desde que se emitió este presupuesto; emita una nueva versión."


def _error(mensaje, codigo):
    return ValidationError(mensaje, code=codigo)


def _exigir_recepcion(actor):
    if not es_de_mostrador(actor):
        raise _error("Solo recepción o administración emiten presupuestos y registran respuestas en la clínica.",
                     "sin_permiso")


def leer_fecha(valor, *, etiqueta="La fecha") -> datetime.date:
    """A date as the service takes it: a ``date`` or "AAAA-MM-DD" text; anything else is a
    ``ValidationError`` (``fecha_invalida``) in Spanish."""
    if isinstance(valor, datetime.datetime):
        valor = valor.date()
    if isinstance(valor, datetime.date):
        return valor
    try:
        return datetime.date.fromisoformat(str(valor).strip())
    except (TypeError, ValueError):
        raise _error(f"{etiqueta} no es válida: escríbala como día-mes-año.", "fecha_invalida") from None


def _validez(valido_hasta) -> datetime.date:
    hoy = timezone.localdate()
    if valido_hasta in (None, ""):
        return hoy + datetime.timedelta(days=DIAS_VALIDEZ)
    fecha = leer_fecha(valido_hasta, etiqueta="La fecha de validez")
    if fecha < hoy:
        raise _error("La fecha de validez no puede estar en el pasado.", "validez_pasada")
    if fecha > hoy + datetime.timedelta(days=DIAS_VALIDEZ_MAXIMA):
        raise _error("Un presupuesto vale como máximo un año desde hoy.", "validez_larga")
    return fecha


def _texto(valor, *, largo, etiqueta) -> str:
    valor = " ".join(str(valor or "").split())
    if "\x00" in valor:
        raise _error(f"{etiqueta}: el texto tiene un carácter no permitido.", "caracter_invalido")
    if len(valor) > largo:
        raise _error(f"{etiqueta}: el texto es demasiado largo (máximo {largo} caracteres).", "texto_largo")
    return valor


def _ids(item_ids) -> list[int] | None:
    if item_ids is None:
        return None
    ids = []
    for valor in item_ids:
        if isinstance(valor, str) and valor.strip().isascii() and valor.strip().isdigit():
            valor = int(valor.strip())
        if not es_id_valido(valor):
            raise _error("Uno de los ítems elegidos no es de este plan.", "item_ajeno")
        ids.append(valor)
    if not ids:
        raise _error("Elija al menos un ítem del plan para el presupuesto.", "sin_items")
    if len(set(ids)) > MAXIMO_ITEMS:
        raise _error(f"Un presupuesto lleva hasta {MAXIMO_ITEMS} ítems.", "demasiados_items")
    return sorted(set(ids))


def _bloquear_items(plan_id, ids) -> list[int]:
    """Lock the plan's chosen items (by id, the one order every flow uses) and check that all are
    this plan's and still proposed; ``ids`` None: all of its proposed items. Returns their ids."""
    items = ItemPlan.objects.filter(plan_id=plan_id).order_by("pk").select_for_update(of=("self",))
    if ids is None:
        elegidos = list(items.filter(estado=EstadoItem.PROPUESTO).values_list("pk", "estado", "precio"))
        if not elegidos:
            raise _error("El plan no tiene ítems propuestos que presupuestar.", "sin_items")
    else:
        elegidos = list(items.filter(pk__in=ids).values_list("pk", "estado", "precio"))
        if len(elegidos) != len(ids):
            raise _error("Uno de los ítems elegidos no es de este plan.", "item_ajeno")
    if len(elegidos) > MAXIMO_ITEMS:
        raise _error(f"Un presupuesto lleva hasta {MAXIMO_ITEMS} ítems.", "demasiados_items")
    if any(estado != EstadoItem.PROPUESTO for _, estado, _ in elegidos):
        raise _error("Solo se presupuestan ítems propuestos: uno de los elegidos ya fue aceptado, realizado o "
                     "cancelado.", "item_no_propuesto")
    ids = [pk for pk, _, _ in elegidos]
    # A guard only (nothing stored from it): an int4 total that would overflow gets a message.
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(precio), 0) FROM tratamientos_itemplan WHERE id = ANY(%s)", [ids])
        if cursor.fetchone()[0] > TOTAL_MAXIMO:
            raise _error(f"El total del presupuesto supera el máximo de {pesos(TOTAL_MAXIMO)}: divídalo en dos.",
                         "total_excesivo")
    return ids


def _insertar(*, plan, numero, version, actor, valido_hasta, observaciones, ids) -> Presupuesto:
    """The quote and its lines, totals summed by PostgreSQL in the same statements."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tratamientos_presupuesto
                (plan_id, cliente_id, numero, version, emitido_en, emitido_por_id, valido_hasta,
                 subtotal, descuento, estado, via, motivo_rechazo, observaciones)
            SELECT %(plan)s, %(cliente)s, %(numero)s, %(version)s, now(), %(actor)s, %(valido)s,
                   sum(i.precio), sum(i.descuento), 'emitido', '', '', %(obs)s
              FROM tratamientos_itemplan i
             WHERE i.id = ANY(%(ids)s) AND i.plan_id = %(plan)s
            RETURNING id
            """,
            {"plan": plan.pk, "cliente": plan.cliente_id, "numero": numero, "version": version, "actor": actor.pk,
             "valido": valido_hasta, "obs": observaciones, "ids": ids},
        )
        presupuesto_id = cursor.fetchone()[0]
        # The line says what the item was then ("Obturación resina · diente 16 O").
        cursor.execute(
            """
            INSERT INTO tratamientos_itempresupuesto
                (presupuesto_id, item_plan_id, prestacion_id, descripcion, fase, precio, descuento)
            SELECT %(p)s, i.id, i.prestacion_id,
                   left(pr.nombre || CASE WHEN i.diente IS NULL THEN ''
                                          ELSE ' · diente ' || i.diente
                                               || CASE WHEN i.superficie = '' THEN '' ELSE ' ' || i.superficie END
                                     END, 200),
                   i.fase, i.precio, i.descuento
              FROM tratamientos_itemplan i JOIN prestaciones_prestacion pr ON pr.id = i.prestacion_id
             WHERE i.id = ANY(%(ids)s) AND i.plan_id = %(plan)s
             ORDER BY i.fase, i.orden, i.id
            """,
            {"p": presupuesto_id, "ids": ids, "plan": plan.pk},
        )
    return Presupuesto.objects.get(pk=presupuesto_id)


def _avisar_emision(presupuesto: Presupuesto):
    """"Tiene un presupuesto nuevo", with the portal's link, recorded with the quote."""
    cliente = Cliente.objects.con_consentimientos().get(pk=presupuesto.cliente_id)
    notificar(
        evento="presupuesto_emitido", referencia=str(presupuesto.pk), email=cliente.email, telefono=cliente.telefono,
        perfil=cliente.preferencias(), cliente=cliente,
        contexto={"nombre": cliente.nombre_completo, "folio": presupuesto.folio, "total": pesos(presupuesto.total),
                  "valido_hasta": presupuesto.valido_hasta.strftime("%d-%m-%Y"),
                  "enlace": enlaces().presupuesto_paciente(presupuesto_id=presupuesto.pk)},
        con_cupo=False,
    )


def _plan_vigente(plan_id) -> PlanTratamiento:
    if not es_id_valido(plan_id):
        raise PlanTratamiento.DoesNotExist(PLAN_NO_EXISTE)
    plan = PlanTratamiento.objects.select_for_update().get(pk=plan_id)
    if plan.estado != EstadoPlan.VIGENTE:
        raise _error("Ese plan ya no está vigente: no se presupuesta.", "plan_no_vigente")
    return plan


def emitir_presupuesto(*, actor, plan_id, item_ids=None, valido_hasta=None, observaciones="") -> Presupuesto:
    """Issue a quote of ``plan_id`` with ``item_ids`` (default: the plan's proposed items), valid
    until ``valido_hasta`` (default: today + 30 days; from today to a year ahead), with its next
    number, and tell the patient. Raises ``PlanTratamiento.DoesNotExist`` and ``ValidationError``
    (``sin_permiso``, ``plan_no_vigente``, ``sin_items``, ``item_ajeno``, ``item_no_propuesto``,
    ``demasiados_items``, ``total_excesivo``, ``fecha_invalida``, ``validez_pasada``,
    ``validez_larga``, ``texto_largo``)."""
    ids = _ids(item_ids)
    observaciones = _texto(observaciones, largo=LARGO_OBSERVACIONES, etiqueta="Observaciones")
    with operacion("emitir_presupuesto", actor=actor):
        _exigir_recepcion(actor)
        validez = _validez(valido_hasta)
        plan = _plan_vigente(plan_id)
        ids = _bloquear_items(plan.pk, ids)
        presupuesto = _insertar(plan=plan, numero=siguiente_folio(serie=SERIE), version=1, actor=actor,
                                valido_hasta=validez, observaciones=observaciones, ids=ids)
        _avisar_emision(presupuesto)
    return presupuesto


def _bloquear_presupuesto(presupuesto_id) -> Presupuesto:
    if not es_id_valido(presupuesto_id):
        raise Presupuesto.DoesNotExist(NO_EXISTE)
    return Presupuesto.objects.select_for_update(of=("self",)).select_related("plan").get(pk=presupuesto_id)


def _ya_respondido(presupuesto: Presupuesto) -> ValidationError:
    """Why an answer or a new version came too late, by the quote's state now."""
    if presupuesto.estado == EstadoPresupuesto.ACEPTADO:
        return _error("Este presupuesto ya fue aceptado.", "ya_aceptado")
    if presupuesto.estado == EstadoPresupuesto.RECHAZADO:
        return _error("Este presupuesto ya fue rechazado.", "ya_rechazado")
    return _error("Este presupuesto fue reemplazado por una versión nueva: revise la última.", "reemplazado")


def nueva_version(*, actor, presupuesto_id, item_ids=None, valido_hasta=None, observaciones="") -> Presupuesto:
    """A new version of an issued (or rejected) quote: same number, version + 1, from the plan's
    current proposed items (or ``item_ids``); the open version becomes ``reemplazado`` in the same
    transaction. Only the latest version of a number has a new one. Raises
    ``Presupuesto.DoesNotExist`` and those of ``emitir_presupuesto``, plus ``ya_aceptado``,
    ``reemplazado``."""
    ids = _ids(item_ids)
    observaciones = _texto(observaciones, largo=LARGO_OBSERVACIONES, etiqueta="Observaciones")
    with operacion("nueva_version_presupuesto", actor=actor):
        _exigir_recepcion(actor)
        validez = _validez(valido_hasta)
        anterior = _bloquear_presupuesto(presupuesto_id)
        if anterior.estado in (EstadoPresupuesto.ACEPTADO, EstadoPresupuesto.REEMPLAZADO):
            raise _ya_respondido(anterior)
        ultima = Presupuesto.objects.filter(numero=anterior.numero).order_by("-version").values_list(
            "version", flat=True).first()
        if ultima != anterior.version:
            raise _error("Este presupuesto ya tiene una versión más nueva: revise la última.", "reemplazado")
        if anterior.estado == EstadoPresupuesto.EMITIDO:
            # Compare-and-set: a patient's acceptance that committed first wins (0 rows).
            if not Presupuesto.objects.filter(pk=anterior.pk, estado=EstadoPresupuesto.EMITIDO).update(
                    estado=EstadoPresupuesto.REEMPLAZADO):
                raise _ya_respondido(Presupuesto.objects.get(pk=anterior.pk))
        plan = _plan_vigente(anterior.plan_id)
        ids = _bloquear_items(plan.pk, ids)
        presupuesto = _insertar(plan=plan, numero=anterior.numero, version=anterior.version + 1, actor=actor,
                                valido_hasta=validez, observaciones=observaciones, ids=ids)
        _avisar_emision(presupuesto)
    return presupuesto


def _exigir_quien_responde(user, presupuesto: Presupuesto, via):
    if via == ViaRespuesta.PORTAL:
        cliente = getattr(user, "cliente", None) if getattr(user, "is_authenticated", False) else None
        # Another patient's quote does not exist for them (the portal answers 404).
        if cliente is None or not cliente.activo or cliente.pk != presupuesto.cliente_id:
            raise Presupuesto.DoesNotExist(NO_EXISTE)
    elif via == ViaRespuesta.RECEPCION:
        _exigir_recepcion(user)
    else:
        raise _error("Indique si la respuesta se dio en el portal o en recepción.", "via_invalida")


def _responder(nombre, *, actor, presupuesto_id, via, aceptar, motivo=""):
    user = actor
    with operacion(nombre, actor=user):
        if not es_id_valido(presupuesto_id):
            raise Presupuesto.DoesNotExist(NO_EXISTE)
        presupuesto = Presupuesto.objects.get(pk=presupuesto_id)
        _exigir_quien_responde(user, presupuesto, via)
        if aceptar and presupuesto.estado == EstadoPresupuesto.EMITIDO \
                and presupuesto.valido_hasta < timezone.localdate():
            raise _error(f"Este presupuesto venció el {presupuesto.valido_hasta:%d-%m-%Y}: pida a la clínica una "
                         "versión nueva.", "vencido")
        # Compare-and-set first (the quote, then its items: the order every flow takes).
        ganado = Presupuesto.objects.filter(pk=presupuesto.pk, estado=EstadoPresupuesto.EMITIDO).update(
            estado=EstadoPresupuesto.ACEPTADO if aceptar else EstadoPresupuesto.RECHAZADO, via=via,
            respondido_por_id=user.pk, motivo_rechazo="" if aceptar else motivo)
        if not ganado:
            raise _ya_respondido(Presupuesto.objects.get(pk=presupuesto.pk))
        if aceptar:
            # Only a plan in force takes accepted work (quote → plan → items: the order every flow
            # takes): a quote left open on a plan that was ended or annulled is not accepted.
            if not PlanTratamiento.objects.select_for_update().filter(
                    pk=presupuesto.plan_id, estado=EstadoPlan.VIGENTE).values_list("pk", flat=True):
                raise _error("El plan de tratamiento de este presupuesto ya se terminó o se anuló: pida a la "
                             "clínica un presupuesto nuevo.", "plan_cerrado")
            ids = list(presupuesto.lineas.values_list("item_plan_id", flat=True))
            estados = list(ItemPlan.objects.filter(pk__in=ids).order_by("pk").select_for_update()
                           .values_list("estado", flat=True))
            if len(estados) != len(ids) or any(e != EstadoItem.PROPUESTO for e in estados):
                raise _error(PLAN_CAMBIO, "plan_cambio")
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    UPDATE tratamientos_itemplan i
                       SET estado = 'aceptado', aceptado_en = now(), precio = l.precio, descuento = l.descuento,
                           actualizado = now()
                      FROM tratamientos_itempresupuesto l
                     WHERE l.presupuesto_id = %s AND i.id = l.item_plan_id AND i.estado = 'propuesto'
                    """,
                    [presupuesto.pk],
                )
                if cursor.rowcount != len(ids):
                    raise _error(PLAN_CAMBIO, "plan_cambio")
    return Presupuesto.objects.get(pk=presupuesto.pk)


def aceptar_presupuesto(*, actor, presupuesto_id, via) -> Presupuesto:
    """The patient accepts a quote: on the portal (``via="portal"``, ``actor`` the patient's own
    user) or at the desk (``via="recepcion"``, ``actor`` reception or administration, recorded
    as who). One compare-and-set on ``emitido``; its items become pending work (``aceptado``)
    with the quote's prices, all or none. Raises ``Presupuesto.DoesNotExist`` (also for another
    patient's quote) and ``ValidationError`` (``vencido``, ``ya_aceptado``, ``ya_rechazado``,
    ``reemplazado``, ``plan_cambio``, ``sin_permiso``, ``via_invalida``)."""
    return _responder("aceptar_presupuesto", actor=actor, presupuesto_id=presupuesto_id, via=via, aceptar=True)


def rechazar_presupuesto(*, actor, presupuesto_id, via, motivo="") -> Presupuesto:
    """The patient rejects a quote (portal or desk, like ``aceptar_presupuesto``), optionally
    saying why. The plan's items stay proposed. Raises like ``aceptar_presupuesto`` (but
    ``vencido`` and ``plan_cambio``) and ``texto_largo``."""
    motivo = _texto(motivo, largo=LARGO_MOTIVO, etiqueta="Motivo")
    return _responder("rechazar_presupuesto", actor=actor, presupuesto_id=presupuesto_id, via=via, aceptar=False,
                      motivo=motivo)


# Reads ---------------------------------------------------------------------------------------

def presupuestos_del_paciente(cliente_id):
    """A patient's quotes, newest number and version first, with their plan's dentist."""
    return (Presupuesto.objects.filter(cliente_id=cliente_id)
            .select_related("plan__dentista__user").order_by("-numero", "-version"))


def presupuesto_del_paciente(*, cliente_id, presupuesto_id) -> Presupuesto:
    """One quote of the patient with its lines, its plan's dentist and the newer version that
    replaced it (``reemplazo``), or ``Presupuesto.DoesNotExist`` (also for another patient's)."""
    if not es_id_valido(presupuesto_id) or not es_id_valido(cliente_id):
        raise Presupuesto.DoesNotExist(NO_EXISTE)
    presupuesto = (Presupuesto.objects
                   .select_related("plan__dentista__user", "cliente", "respondido_por", "emitido_por")
                   .prefetch_related("lineas").get(pk=presupuesto_id, cliente_id=cliente_id))
    presupuesto.reemplazo = None
    if presupuesto.estado == EstadoPresupuesto.REEMPLAZADO:
        presupuesto.reemplazo = (Presupuesto.objects.filter(numero=presupuesto.numero,
                                                            version__gt=presupuesto.version)
                                 .order_by("version").first())
    return presupuesto


def planes_para_presupuestar(cliente_id):
    """The patient's current plans with their proposed items (the billing view: prestación,
    tooth, price; no clinical notes), for the issuing form."""
    propuestos = ItemPlan.objects.filter(estado=EstadoItem.PROPUESTO).select_related("prestacion")
    return list(PlanTratamiento.objects.filter(cliente_id=cliente_id, estado=EstadoPlan.VIGENTE)
                .select_related("dentista__user").prefetch_related(Prefetch("items", queryset=propuestos)))
