"""Writes of the ledger and the cash box: open and close a box, register a payment, use the
patient's credit, refund it, annul a payment. Each is one service in one transaction
(``operacion``, audited with who and which service); a refusal is a Spanish ``ValidationError``
and nothing is kept.

Concurrency, in one place (pretix's rule: lock late and once, then check, then write):

- every service that moves a patient's money first locks the patient's row (``FOR NO KEY
  UPDATE``: it does not block the foreign keys that point at the patient), then the quote's row
  (``FOR UPDATE``), always in that order, so two receptionists paying the same quote at once
  serialize and never both count the same balance, and never deadlock;
- balances are read in a NEW statement after the lock (READ COMMITTED gives each statement a
  fresh snapshot: a sum in the locking statement itself would miss what the transaction we
  waited for just committed);
- a payment locks its box ``FOR SHARE`` (here and in the trigger ``pago_en_caja_abierta``) and a
  closing locks it ``FOR UPDATE`` before counting: a payment is in the closing's count or
  refused, never after it.

References: a transfer needs its operation number (the only way to match it with the bank
statement; without it nobody can check the money arrived); a debit or credit card's voucher
number is optional (the terminal's own slip and its daily report are the card's record, and a
terminal that prints no number must not block the desk); cash has none.

What can be annulled: a payment (``tipo = pago``), once (the one-to-one ``anula``). Not an
annulment (undoing an undo makes the ledger hard to read: register the payment again, with a
new receipt), nor a refund or a use of credit: the model's sign rule says an annulment is
negative (it takes back money that came in), and those entries brought no money in. A refund
given by mistake is money the patient gives back: a new payment. A use of credit on the wrong
quote is left as it is in the ledger and explained in docs/pagos.md (a reverse move needs a
type the model does not have yet).
"""

import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from ficha.recetas import siguiente_folio
from nucleo.formato import pesos
from nucleo.registro import registrar_evento
from nucleo.servicios import es_id_valido, operacion
from pacientes.models import Cliente
from pagos.models import MONTO_MAXIMO, SQL_EFECTIVO_ESPERADO, AplicacionPago, Caja, MedioPago, Pago, TipoPago
from personal.permisos import es_administrador, es_de_mostrador
from tratamientos.models import EstadoPresupuesto

logger = logging.getLogger(__name__)

SERIE_COMPROBANTE = "comprobante"
LARGO_REFERENCIA = 60
LARGO_MOTIVO = 300
# Money that comes in or goes back at the desk (``saldo`` is a move of credit, not a method).
MEDIOS_DE_CAJA = (MedioPago.EFECTIVO, MedioPago.DEBITO, MedioPago.CREDITO, MedioPago.TRANSFERENCIA)

SIN_CAJA = "Abra su caja antes de registrar pagos."


def _error(mensaje, codigo, campo=None):
    if campo:
        return ValidationError({campo: ValidationError(mensaje, code=codigo)})
    return ValidationError(mensaje, code=codigo)


def _exigir_de_caja(actor):
    if not es_de_mostrador(actor):
        raise _error("Solo recepción o administración registran pagos y manejan la caja.", "sin_permiso")


def _monto(valor, *, campo="monto", minimo=1, etiqueta="El monto"):
    """An integer amount in [minimo, MONTO_MAXIMO]: never a bool, a float, a string."""
    if not isinstance(valor, int) or isinstance(valor, bool):
        raise _error(f"{etiqueta} debe ser un número entero de pesos.", "monto_invalido", campo)
    if valor < minimo:
        raise _error(f"{etiqueta} debe ser de al menos {pesos(minimo)}." if minimo > 0
                     else f"{etiqueta} no puede ser negativo.", "monto_invalido", campo)
    if valor > MONTO_MAXIMO:
        raise _error(f"{etiqueta} no puede superar {pesos(MONTO_MAXIMO)}.", "monto_invalido", campo)
    return valor


def _texto(valor, *, campo, largo, etiqueta, requerido=False):
    texto = " ".join(str(valor or "").split())
    if "\x00" in texto:
        raise _error(f"{etiqueta}: hay un carácter no permitido.", "texto_invalido", campo)
    if len(texto) > largo:
        raise _error(f"{etiqueta}: máximo {largo} caracteres.", "texto_largo", campo)
    if requerido and not texto:
        raise _error(f"Indique {etiqueta.lower()}.", f"{campo}_requerido", campo)
    return texto


def _medio(medio, referencia):
    if medio not in MEDIOS_DE_CAJA:
        raise _error("Elija el medio de pago: efectivo, débito, crédito o transferencia.", "medio_invalido", "medio")
    referencia = _texto(referencia, campo="referencia", largo=LARGO_REFERENCIA, etiqueta="La referencia")
    if medio == MedioPago.TRANSFERENCIA and not referencia:
        raise _error("Indique el N° de operación de la transferencia.", "referencia_requerida", "referencia")
    if medio == MedioPago.EFECTIVO:
        referencia = ""
    return referencia


def _id(valor, mensaje, codigo):
    if isinstance(valor, str) and valor.isascii() and valor.isdigit():
        valor = int(valor)
    if not es_id_valido(valor):
        raise _error(mensaje, codigo)
    return valor


def _caja_abierta_de_hoy(actor) -> Caja:
    """The actor's open box of today (Santiago), locked ``FOR SHARE`` until the transaction ends:
    a closing waits for this payment, and a payment that waited for a closing sees it closed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM pagos_caja WHERE cajero_id = %s AND fecha = %s AND cerrada_en IS NULL FOR SHARE",
            [actor.pk, timezone.localdate()],
        )
        fila = cursor.fetchone()
    if fila is None:
        raise _error(SIN_CAJA, "sin_caja")
    return Caja.objects.get(pk=fila[0])


def _bloquear_paciente(cliente_id) -> Cliente:
    cliente_id = _id(cliente_id, "Ese paciente no existe.", "paciente_inexistente")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM pacientes_cliente WHERE id = %s FOR NO KEY UPDATE", [cliente_id])
        if cursor.fetchone() is None:
            raise _error("Ese paciente no existe.", "paciente_inexistente")
    return Cliente.objects.get(pk=cliente_id)


def saldo_a_favor_sql(cliente_id) -> int:
    """The patient's credit: the sum of their applications to the account, in SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(monto), 0) FROM pagos_aplicacionpago WHERE cliente_id = %s AND presupuesto_id IS NULL",
            [cliente_id],
        )
        return int(cursor.fetchone()[0])


def _bloquear_presupuesto(presupuesto_id, cliente_id):
    """Lock the quote's row (``FOR UPDATE``), check it is this patient's and accepted; then, in
    a new statement (a fresh snapshot that sees what a payment we waited for committed), what it
    still owes: total − what is applied to it. Returns (presupuesto row dict, balance)."""
    presupuesto_id = _id(presupuesto_id, "Ese presupuesto no existe.", "presupuesto_inexistente")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, cliente_id, estado, numero, version, total FROM tratamientos_presupuesto WHERE id = %s FOR UPDATE",
            [presupuesto_id],
        )
        fila = cursor.fetchone()
        if fila is None or fila[1] != cliente_id:
            # Another patient's quote is, for this patient, a quote that does not exist.
            raise _error("Ese presupuesto no es de este paciente.", "presupuesto_ajeno", "presupuesto")
        if fila[2] != EstadoPresupuesto.ACEPTADO:
            raise _error("Solo se abona a un presupuesto aceptado: regístrelo como aceptado primero, o pague a la cuenta.",
                         "presupuesto_no_aceptado", "presupuesto")
        cursor.execute(
            "SELECT %s - coalesce(sum(monto), 0) FROM pagos_aplicacionpago WHERE presupuesto_id = %s",
            [fila[5], presupuesto_id],
        )
        saldo = int(cursor.fetchone()[0])
    return {"id": fila[0], "numero": fila[3], "version": fila[4], "total": fila[5]}, saldo


def _folio_presupuesto(p) -> str:
    return f"N° {p['numero']}" + (f"-{p['version']}" if p["version"] > 1 else "")


def _asentar(*, actor, caja, cliente, tipo, medio, monto, aplicaciones, referencia="", motivo="", anula=None,
             clave=None) -> Pago:
    """Insert one ledger entry with its applications (list of (presupuesto_id | None, monto),
    zero amounts skipped): the deferred trigger checks at commit that they add up."""
    pago = Pago.objects.create(
        numero=siguiente_folio(serie=SERIE_COMPROBANTE), cliente=cliente, tipo=tipo, medio=medio, monto=monto,
        referencia=referencia, motivo=motivo, anula=anula, caja=caja, registrado_por=actor, clave=clave,
    )
    AplicacionPago.objects.bulk_create([
        AplicacionPago(pago=pago, cliente=cliente, presupuesto_id=presupuesto_id, monto=parte)
        for presupuesto_id, parte in aplicaciones if parte
    ])
    return pago


# --- The box ----------------------------------------------------------------------------------

def abrir_caja(*, actor, monto_apertura) -> Caja:
    """Open the actor's box for today (Santiago date) with the cash in the drawer."""
    _exigir_de_caja(actor)
    monto_apertura = _monto(monto_apertura, campo="monto_apertura", minimo=0, etiqueta="El efectivo al abrir")
    hoy = timezone.localdate()
    with operacion("abrir_caja", actor=actor):
        if Caja.objects.filter(cajero_id=actor.pk, fecha=hoy).exists():
            raise _error("Ya abrió su caja de hoy.", "caja_duplicada")
        caja = Caja.objects.create(cajero=actor, fecha=hoy, monto_apertura=monto_apertura)
    registrar_evento(logger, "caja_abierta", caja_id=caja.pk, actor_id=actor.pk)
    return caja


def cerrar_caja(*, actor, caja_id, contado_efectivo, observacion="") -> Caja:
    """Close a box once: its owner or an administrator. The box's row is locked ``FOR UPDATE``
    first (a payment in flight holds it ``FOR SHARE``: we wait for it, and it is counted), then
    the expected cash is computed by PostgreSQL in the compare-and-set UPDATE itself (opening +
    the signed cash entries: refunds and annulments are negative); the difference is the
    generated column."""
    _exigir_de_caja(actor)
    caja_id = _id(caja_id, "Esa caja no existe.", "caja_inexistente")
    contado_efectivo = _monto(contado_efectivo, campo="contado_efectivo", minimo=0, etiqueta="El efectivo contado")
    observacion = _texto(observacion, campo="observacion", largo=300, etiqueta="La observación")
    with operacion("cerrar_caja", actor=actor):
        with connection.cursor() as cursor:
            cursor.execute("SELECT cajero_id, cerrada_en FROM pagos_caja WHERE id = %s FOR UPDATE", [caja_id])
            fila = cursor.fetchone()
            if fila is None:
                raise _error("Esa caja no existe.", "caja_inexistente")
            if fila[0] != actor.pk and not es_administrador(actor):
                raise _error("Solo quien abrió la caja, o un administrador, la cierra.", "caja_ajena")
            if fila[1] is not None:
                raise _error("Esta caja ya está cerrada: no cambia.", "caja_cerrada")
            cursor.execute(
                f"""
                UPDATE pagos_caja c SET
                    cerrada_en = clock_timestamp(), cerrada_por_id = %s, contado_efectivo = %s,
                    observacion_cierre = %s, actualizado = clock_timestamp(),
                    esperado_efectivo = {SQL_EFECTIVO_ESPERADO}
                WHERE c.id = %s AND c.cerrada_en IS NULL
                """,
                [actor.pk, contado_efectivo, observacion, caja_id],
            )
            if cursor.rowcount != 1:
                raise _error("Esta caja ya está cerrada: no cambia.", "caja_cerrada")
        caja = Caja.objects.get(pk=caja_id)
    registrar_evento(logger, "caja_cerrada", caja_id=caja.pk, diferencia=caja.diferencia, actor_id=actor.pk)
    return caja


# --- The ledger --------------------------------------------------------------------------------

def _clave(valor):
    if valor in (None, ""):
        return None
    try:
        return valor if isinstance(valor, uuid.UUID) else uuid.UUID(str(valor))
    except ValueError:
        raise _error("El formulario no es válido: vuelva a abrirlo.", "clave_invalida") from None


def registrar_pago(*, actor, cliente_id, monto, medio, referencia="", presupuesto_id=None, clave=None) -> Pago:
    """A payment at the desk into the actor's open box of today, with its receipt number. With
    an accepted quote of the same patient: applied to it up to what it still owes, the rest to
    the patient's account (credit); without one: all to the account.

    ``clave`` (the form's UUID) makes it idempotent: the same key again returns the entry it
    registered, with ``repetido`` True, and writes nothing. Two requests with one key
    serialise on the patient's row lock, so the second sees the first's entry."""
    _exigir_de_caja(actor)
    monto = _monto(monto)
    referencia = _medio(medio, referencia)
    clave = _clave(clave)
    with operacion("registrar_pago", actor=actor):
        caja = _caja_abierta_de_hoy(actor)
        cliente = _bloquear_paciente(cliente_id)
        if clave is not None and (anterior := Pago.objects.filter(clave=clave).first()) is not None:
            if anterior.cliente_id != cliente.pk:
                raise _error("Ese formulario ya se usó para otro paciente: vuelva a abrirlo.", "clave_invalida")
            anterior.repetido = True
            return anterior
        aplicaciones = [(None, monto)]
        if presupuesto_id not in (None, ""):
            presupuesto, debe = _bloquear_presupuesto(presupuesto_id, cliente.pk)
            al_presupuesto = min(monto, max(debe, 0))
            aplicaciones = [(presupuesto["id"], al_presupuesto), (None, monto - al_presupuesto)]
        pago = _asentar(actor=actor, caja=caja, cliente=cliente, tipo=TipoPago.PAGO, medio=medio, monto=monto,
                        referencia=referencia, aplicaciones=aplicaciones, clave=clave)
    registrar_evento(logger, "pago_registrado", pago_id=pago.pk, numero=pago.numero, actor_id=actor.pk)
    return pago


def usar_saldo(*, actor, cliente_id, presupuesto_id, monto) -> Pago:
    """Move the patient's credit to an accepted quote of theirs (a ``traspaso``: −account,
    +quote), up to the credit available and what the quote still owes."""
    _exigir_de_caja(actor)
    monto = _monto(monto)
    with operacion("usar_saldo", actor=actor):
        caja = _caja_abierta_de_hoy(actor)
        cliente = _bloquear_paciente(cliente_id)
        presupuesto, debe = _bloquear_presupuesto(presupuesto_id, cliente.pk)
        credito = saldo_a_favor_sql(cliente.pk)
        if monto > credito:
            raise _error(f"El saldo a favor disponible es {pesos(credito)}: no alcanza para {pesos(monto)}.",
                         "saldo_insuficiente", "monto")
        if monto > debe:
            raise _error(f"El presupuesto {_folio_presupuesto(presupuesto)} solo debe {pesos(max(debe, 0))}.",
                         "excede_presupuesto", "monto")
        pago = _asentar(actor=actor, caja=caja, cliente=cliente, tipo=TipoPago.TRASPASO, medio=MedioPago.SALDO,
                        monto=0, motivo=f"Uso de saldo a favor en el presupuesto {_folio_presupuesto(presupuesto)}",
                        aplicaciones=[(None, -monto), (presupuesto["id"], monto)])
    registrar_evento(logger, "saldo_usado", pago_id=pago.pk, actor_id=actor.pk)
    return pago


def devolver(*, actor, cliente_id, monto, medio, motivo, referencia="") -> Pago:
    """Give back (part of) the patient's credit: a negative entry, never more than the credit."""
    _exigir_de_caja(actor)
    monto = _monto(monto)
    referencia = _medio(medio, referencia)
    motivo = _texto(motivo, campo="motivo", largo=LARGO_MOTIVO, etiqueta="El motivo", requerido=True)
    with operacion("devolver_saldo", actor=actor):
        caja = _caja_abierta_de_hoy(actor)
        cliente = _bloquear_paciente(cliente_id)
        credito = saldo_a_favor_sql(cliente.pk)
        if monto > credito:
            raise _error(f"Solo se devuelve el saldo a favor: {pesos(credito)} disponible.", "saldo_insuficiente",
                         "monto")
        pago = _asentar(actor=actor, caja=caja, cliente=cliente, tipo=TipoPago.DEVOLUCION, medio=medio, monto=-monto,
                        referencia=referencia, motivo=motivo, aplicaciones=[(None, -monto)])
    registrar_evento(logger, "saldo_devuelto", pago_id=pago.pk, actor_id=actor.pk)
    return pago


def anular_pago(*, actor, pago_id, motivo, cliente_id=None) -> Pago:
    """Reverse a payment with a negative copy of it and of each application, into the actor's
    open box of today (a payment of a closed box is annulled into today's: the closed one never
    changes). Once. The part that went to the account must still be there as credit (not used
    on a quote or refunded since)."""
    _exigir_de_caja(actor)
    pago_id = _id(pago_id, "Ese comprobante no existe.", "pago_inexistente")
    motivo = _texto(motivo, campo="motivo", largo=LARGO_MOTIVO, etiqueta="El motivo", requerido=True)
    with operacion("anular_pago", actor=actor):
        original = Pago.objects.filter(pk=pago_id).first()
        if original is None or (cliente_id is not None and original.cliente_id != cliente_id):
            raise _error("Ese comprobante no existe.", "pago_inexistente")
        caja = _caja_abierta_de_hoy(actor)
        cliente = _bloquear_paciente(original.cliente_id)
        if original.tipo != TipoPago.PAGO:
            raise _error(f"Solo se anula un pago; este comprobante es un(a) {original.get_tipo_display().lower()}.",
                         "no_anulable")
        if Pago.objects.filter(anula_id=original.pk).exists():
            raise _error(f"El comprobante N° {original.numero} ya está anulado.", "pago_anulado")
        partes = list(original.aplicaciones.values_list("presupuesto_id", "monto"))
        a_cuenta = sum(m for p, m in partes if p is None)
        credito = saldo_a_favor_sql(cliente.pk)
        if a_cuenta > credito:
            raise _error(f"{pesos(a_cuenta)} de este pago quedaron como saldo a favor y ya se usaron o devolvieron "
                         f"(queda {pesos(credito)}): no se puede anular.", "saldo_usado")
        anulacion = _asentar(
            actor=actor, caja=caja, cliente=cliente, tipo=TipoPago.ANULACION, medio=original.medio,
            monto=-original.monto, referencia=original.referencia, motivo=motivo, anula=original,
            aplicaciones=[(p, -m) for p, m in partes],
        )
    registrar_evento(logger, "pago_anulado", pago_id=anulacion.pk, anula_id=original.pk, actor_id=actor.pk)
    return anulacion
