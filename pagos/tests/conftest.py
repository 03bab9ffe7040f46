"""The hand-computed money scene of the statement's and the reports' tests (see ``cuenta``)."""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from pacientes.models import Cliente
from pagos.models import MedioPago, TipoPago
from pagos.tests.escena import anular, asentar, hecho, pendiente, plan_de, presupuesto_aceptado
from personal.models import Rol
from prestaciones.models import Prestacion


@pytest.fixture
def cuenta(armar_cuenta):
    return armar_cuenta(Cliente.objects.create(nombre_completo="Ana Pérez", email="ana.cuenta@correo.example",
                                               rut="12345678-5"))


@pytest.fixture
def armar_cuenta(crear_personal):
    """``armar_cuenta(cliente)``: the scene on ``cliente``'s account (``cuenta``: Ana's).

    Ana's account, numbers worked out by hand:

    Charged (done items): 40.000 (45.000 − 5.000 discount) + 45.000 by Dra. Soto, 30.000 by
    Dr. Mora without a quote = **115.000**. Not charged: one item pending in each quote, one
    proposed, one cancelled.

    Quote 1 (Soto's plan): 40.000 + 45.000 + 45.000 pending = 130.000. Quote 2 (Mora's plan):
    20.000 pending.

    Ledger: P1 50.000 efectivo → Q1; P2 100.000 débito (Rosa) → 80.000 Q1 + 20.000 credit
    (overpayment); P3 10.000 transferencia → credit, then annulled (−10.000); a refund of
    −5.000 efectivo from the credit; a traspaso of 8.000 credit → Q2.
    Paid = 50.000 + 100.000 + 10.000 − 10.000 − 5.000 = **145.000**; balance 115.000 − 145.000 =
    **−30.000** (saldo a favor); credit = 20.000 + 10.000 − 10.000 − 5.000 − 8.000 = **7.000**.
    Q1 applied 130.000 (owes 0, 2 done, 1 pending); Q2 applied 8.000 (owes 12.000, 0 done, 1
    pending). Check: 138.000 on quotes + 7.000 credit = 145.000 paid."""
    def armar(ana):
        return _armar(crear_personal, ana)

    return armar


def _armar(crear_personal, ana):
    soto = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    mora = crear_personal(rol=Rol.DENTISTA, username="dr.mora", nombre="Jorge", apellido="Mora")
    pedro = crear_personal(rol=Rol.RECEPCION, username="pedro", nombre="Pedro", apellido="Rojas")
    rosa = crear_personal(rol=Rol.RECEPCION, username="rosa", nombre="Rosa", apellido="Díaz")
    obt = Prestacion.objects.create(codigo="OBT-01", nombre="Obturación resina", precio=45000, duracion_minutos=45)
    lim = Prestacion.objects.create(codigo="LIM-01", nombre="Limpieza", precio=30000, duracion_minutos=60)
    plan1 = plan_de(ana, soto)
    plan2 = plan_de(ana, mora, "Plan de Mora")
    ayer = timezone.now() - datetime.timedelta(days=1)
    i1 = hecho(plan1, obt, 45000, soto, descuento=5000, diente=16, superficie="O", cuando=ayer)
    i2 = hecho(plan1, obt, 45000, soto, diente=26, superficie="O")
    i4 = pendiente(plan1, obt, 45000)
    hecho(plan2, lim, 30000, mora)  # an emergency: done without a quote
    i7 = pendiente(plan2, lim, 20000)
    from tratamientos.models import EstadoItem, ItemPlan
    ItemPlan.objects.create(plan=plan1, prestacion=obt, precio=45000)  # proposed
    ItemPlan.objects.create(plan=plan1, prestacion=obt, precio=45000, estado=EstadoItem.CANCELADO,
                            aceptado_en=ayer)
    q1 = presupuesto_aceptado(plan1, [i1, i2, i4], pedro.user)
    q2 = presupuesto_aceptado(plan2, [i7], pedro.user)
    p1 = asentar(ana, pedro.user, [(q1, 50000)], medio=MedioPago.EFECTIVO)
    p2 = asentar(ana, rosa.user, [(q1, 80000), (None, 20000)], medio=MedioPago.DEBITO, referencia="op 123")
    p3 = asentar(ana, pedro.user, [(None, 10000)], medio=MedioPago.TRANSFERENCIA)
    a3 = anular(p3, pedro.user)
    r1 = asentar(ana, pedro.user, [(None, -5000)], tipo=TipoPago.DEVOLUCION, motivo="Devuelve parte del saldo")
    t1 = asentar(ana, pedro.user, [(None, -8000), (q2, 8000)], tipo=TipoPago.TRASPASO, medio=MedioPago.SALDO,
                 motivo="Usa su saldo a favor")
    return SimpleNamespace(soto=soto, mora=mora, pedro=pedro, rosa=rosa, ana=ana, obt=obt, lim=lim, plan1=plan1,
                           plan2=plan2, q1=q1, q2=q2, pagos=[p1, p2, p3, a3, r1, t1])
