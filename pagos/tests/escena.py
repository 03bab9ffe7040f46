"""Scenes for the payments' tests: a patient with an accepted quote, built directly with the ORM
in one transaction (the quotes' services are another part of issue 17), as
``tratamientos/tests/test_modelo_dinero.py`` does."""

import datetime

from django.db import transaction
from django.db.models import Max

from pacientes.models import Cliente
from prestaciones.models import Prestacion
from tratamientos.models import ItemPlan, ItemPresupuesto, PlanTratamiento, Presupuesto


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
    from django.utils import timezone

    from pagos.models import Caja
    from pagos.services import abrir_caja, registrar_pago

    if not Caja.objects.filter(cajero_id=cajero.pk, fecha=timezone.localdate()).exists():
        abrir_caja(actor=cajero, monto_apertura=0)
    return registrar_pago(actor=cajero, cliente_id=cliente.pk, monto=monto, medio="efectivo",
                          presupuesto_id=presupuesto_id)
