"""Money scenes for the payments', statement's and reports' tests (and the benchmark), written
straight with the ORM: a patient with an accepted quote (its lines in one transaction, as
``tratamientos/tests/test_modelo_dinero.py`` does), plan items done or pending, open boxes and
ledger entries (a ``Pago`` and its applications in one transaction); ``pago_en_escena`` goes
through the payment service. The statement's and reports' tests read the ledger, whoever wrote it."""

import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from pacientes.models import Cliente
from pagos.models import AplicacionPago, Caja, MedioPago, Pago, TipoPago
from prestaciones.models import Prestacion
from tratamientos.models import EstadoItem, ItemPlan, ItemPresupuesto, PlanTratamiento, Presupuesto


def prestacion(codigo="OBT-01", nombre="Obturación resina", precio=45000):
    return Prestacion.objects.get_or_create(codigo=codigo, defaults={"nombre": nombre, "precio": precio,
                                                                     "duracion_minutos": 45})[0]


def presupuesto(cliente, dentista, emisor, precios=(30000,), *, aceptado=True) -> Presupuesto:
    """A quote of ``cliente`` with one line per price (each its own plan item), issued by
    ``emisor`` and, by default, accepted at the desk."""
    obturacion = prestacion()
    with transaction.atomic():
        plan = PlanTratamiento.objects.create(cliente=cliente, dentista=dentista)
        items = [ItemPlan.objects.create(plan=plan, prestacion=obturacion, diente=11 + i, precio=p)
                 for i, p in enumerate(precios)]
        numero = (Presupuesto.objects.aggregate(m=Max("numero"))["m"] or 0) + 1
        p = Presupuesto.objects.create(plan=plan, cliente=cliente, numero=numero, emitido_por=emisor,
                                       valido_hasta=datetime.date(2099, 1, 1), subtotal=sum(precios), descuento=0)
        for item in items:
            ItemPresupuesto.objects.create(presupuesto=p, item_plan=item, prestacion=obturacion,
                                           descripcion=f"Obturación resina · diente {item.diente}",
                                           precio=item.precio)
    if aceptado:
        Presupuesto.objects.filter(pk=p.pk).update(estado="aceptado", via="recepcion", respondido_por=emisor)
    p.refresh_from_db()
    return p


def paciente(nombre="Ana Pérez", email="ana.pagos@correo.example", rut="") -> Cliente:
    return Cliente.objects.create(nombre_completo=nombre, email=email, rut=rut)


def pago_en_escena(cajero, cliente, monto=5000, presupuesto_id=None):
    """A cash payment registered by ``cajero`` through the service (their box of today opened if
    needed), for the scenes of the cross-cutting tests."""
    from pagos.services import abrir_caja, registrar_pago

    if not Caja.objects.filter(cajero_id=cajero.pk, fecha=timezone.localdate()).exists():
        abrir_caja(actor=cajero, monto_apertura=0)
    return registrar_pago(actor=cajero, cliente_id=cliente.pk, monto=monto, medio="efectivo",
                          presupuesto_id=presupuesto_id)


def plan_de(cliente, dentista, titulo="Plan de tratamiento"):
    return PlanTratamiento.objects.create(cliente=cliente, dentista=dentista, titulo=titulo)


def hecho(plan, prestacion, precio, por, *, descuento=0, cuando=None, diente=None, superficie=""):
    """A done item (charged), accepted a day before it was done."""
    cuando = cuando or timezone.now()
    return ItemPlan.objects.create(
        plan=plan, prestacion=prestacion, precio=precio, descuento=descuento, diente=diente, superficie=superficie,
        estado=EstadoItem.REALIZADO, aceptado_en=cuando - datetime.timedelta(days=1), realizado_en=cuando,
        realizado_por=por)


def pendiente(plan, prestacion, precio, *, descuento=0):
    """An accepted item still to do (not charged)."""
    return ItemPlan.objects.create(plan=plan, prestacion=prestacion, precio=precio, descuento=descuento,
                                   estado=EstadoItem.ACEPTADO, aceptado_en=timezone.now())


def presupuesto_aceptado(plan, items, usuario, *, numero=None):
    """An issued quote of ``items`` (its lines in the same transaction), accepted at the desk."""
    numero = numero or (Presupuesto.objects.aggregate(m=Max("numero"))["m"] or 0) + 1
    with transaction.atomic():
        p = Presupuesto.objects.create(
            plan=plan, cliente=plan.cliente, numero=numero, emitido_por=usuario,
            valido_hasta=timezone.localdate() + datetime.timedelta(days=30),
            subtotal=sum(i.precio for i in items), descuento=sum(i.descuento for i in items))
        ItemPresupuesto.objects.bulk_create([
            ItemPresupuesto(presupuesto=p, item_plan=i, prestacion_id=i.prestacion_id, descripcion=f"Ítem {i.pk}",
                            precio=i.precio, descuento=i.descuento) for i in items])
    Presupuesto.objects.filter(pk=p.pk).update(estado="aceptado", via="recepcion", respondido_por=usuario)
    p.refresh_from_db()
    return p


def caja_de(usuario):
    """``usuario``'s open box of today (opened now if there is none)."""
    caja, _ = Caja.objects.get_or_create(cajero=usuario, fecha=timezone.localdate())
    return caja


def siguiente_numero():
    return (Pago.objects.aggregate(m=Max("numero"))["m"] or 0) + 1


def asentar(cliente, usuario, aplicaciones, *, medio=MedioPago.EFECTIVO, tipo=TipoPago.PAGO, motivo="",
            anula=None, referencia=""):
    """One ledger entry of ``cliente`` registered by ``usuario`` in their open box, split into
    ``aplicaciones`` [(quote or None for the account, amount)]; its amount is their sum (zero
    for a traspaso)."""
    monto = 0 if tipo == TipoPago.TRASPASO else sum(m for _, m in aplicaciones)
    with transaction.atomic():
        pago = Pago.objects.create(numero=siguiente_numero(), cliente=cliente, tipo=tipo, medio=medio, monto=monto,
                                   motivo=motivo, anula=anula, referencia=referencia, caja=caja_de(usuario),
                                   registrado_por=usuario)
        AplicacionPago.objects.bulk_create([
            AplicacionPago(pago=pago, cliente=cliente, presupuesto=q, monto=m) for q, m in aplicaciones])
    return pago


def anular(pago, usuario, motivo="Error de digitación"):
    """The annulment of ``pago``: the same applications, negative."""
    return asentar(pago.cliente, usuario, [(a.presupuesto, -a.monto) for a in pago.aplicaciones.all()],
                   medio=pago.medio, tipo=TipoPago.ANULACION, motivo=motivo, anula=pago)


def cuenta_grande(cliente, dentista, usuario, prestacion, *, items=300, pagos=200):
    """A long account (the benchmark's and the pinned query count's): ``items`` done items over
    three years in one plan, an accepted quote of the first 50, and ``pagos`` payments, each
    split between that quote and the account. Bulk inserts: a few seconds."""
    ahora = timezone.now()
    plan = plan_de(cliente, dentista, "Plan largo")
    hechos = ItemPlan.objects.bulk_create([
        ItemPlan(plan=plan, prestacion=prestacion, precio=20000 + 100 * (n % 50), descuento=1000 * (n % 3),
                 diente=(11, 16, 26, 36, 46, 21)[n % 6], superficie="O", estado=EstadoItem.REALIZADO,
                 aceptado_en=ahora - datetime.timedelta(days=3 * n + 1), realizado_en=ahora - datetime.timedelta(days=3 * n),
                 realizado_por=dentista, orden=n)
        for n in range(items)])
    presupuesto = presupuesto_aceptado(plan, hechos[:50], usuario)
    caja = caja_de(usuario)
    primero = siguiente_numero()
    with transaction.atomic():
        asientos = Pago.objects.bulk_create([
            Pago(numero=primero + n, cliente=cliente, medio=(MedioPago.EFECTIVO, MedioPago.DEBITO,
                                                             MedioPago.TRANSFERENCIA)[n % 3],
                 monto=15000 + 10 * n, caja=caja, registrado_por=usuario, referencia=f"op {n}" if n % 3 else "")
            for n in range(pagos)])
        AplicacionPago.objects.bulk_create([
            a for p in asientos for a in (AplicacionPago(pago=p, cliente=cliente, presupuesto=presupuesto, monto=10000),
                                          AplicacionPago(pago=p, cliente=cliente, presupuesto=None, monto=p.monto - 10000))])
    return plan, presupuesto
