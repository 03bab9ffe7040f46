"""The money tables' own guards, written through the ORM and raw SQL (the services come on top):
a quote that does not add up is never committed, an issued quote and the ledger never change,
a closed box takes nothing."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from pacientes.models import Cliente
from pagos.models import AplicacionPago, Caja, MedioPago, Pago
from personal.models import Rol
from prestaciones.models import Prestacion
from tratamientos.models import EstadoItem, ItemPlan, ItemPresupuesto, PlanTratamiento, Presupuesto

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def escena(crear_personal):
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.plan", nombre="Camila", apellido="Soto")
    recepcion = crear_personal(rol=Rol.RECEPCION, username="recepcion.plan", nombre="Rosa", apellido="Díaz")
    cliente = Cliente.objects.create(nombre_completo="Ana Pérez", email="ana.plan@correo.example")
    obturacion = Prestacion.objects.create(codigo="OBT-01", nombre="Obturación resina", precio=45000,
                                           duracion_minutos=45)
    plan = PlanTratamiento.objects.create(cliente=cliente, dentista=dentista)
    items = [ItemPlan.objects.create(plan=plan, prestacion=obturacion, diente=d, superficie="O", precio=45000,
                                     descuento=5000 if d == 16 else 0) for d in (16, 26)]
    return dentista, recepcion, cliente, plan, items


def _emitir(plan, items, usuario, *, subtotal=None, descuento=None):
    with transaction.atomic():
        p = Presupuesto.objects.create(
            plan=plan, cliente=plan.cliente, numero=1, emitido_por=usuario, valido_hasta=datetime.date(2099, 1, 1),
            subtotal=sum(i.precio for i in items) if subtotal is None else subtotal,
            descuento=sum(i.descuento for i in items) if descuento is None else descuento)
        for i in items:
            ItemPresupuesto.objects.create(presupuesto=p, item_plan=i, prestacion=i.prestacion_id and i.prestacion,
                                           descripcion="x", precio=i.precio, descuento=i.descuento)
    return p


def test_total_generado_y_presupuesto_que_cuadra(escena):
    dentista, _, _, plan, items = escena
    items[0].refresh_from_db()
    assert items[0].total == 40000
    p = _emitir(plan, items, dentista.user)
    p.refresh_from_db()
    assert (p.subtotal, p.descuento, p.total) == (90000, 5000, 85000)


def test_presupuesto_que_no_cuadra_no_se_guarda(escena):
    dentista, _, _, plan, items = escena
    with pytest.raises(IntegrityError, match="no cuadra"):
        _emitir(plan, items, dentista.user, subtotal=100000)
    assert not Presupuesto.objects.exists()


def test_presupuesto_emitido_no_cambia(escena):
    dentista, _, _, plan, items = escena
    p = _emitir(plan, items, dentista.user)
    with pytest.raises(IntegrityError, match="ya fue emitido"):
        Presupuesto.objects.filter(pk=p.pk).update(subtotal=1)
    with pytest.raises(IntegrityError, match="ya fue emitido"):
        with connection.cursor() as c:
            c.execute("DELETE FROM tratamientos_itempresupuesto")
    Presupuesto.objects.filter(pk=p.pk).update(estado="aceptado", via="portal")
    p.refresh_from_db()
    assert p.respondido_en is not None


def test_item_aceptado_no_cambia_de_precio(escena):
    *_, items = escena
    ItemPlan.objects.filter(pk=items[0].pk).update(estado=EstadoItem.ACEPTADO,
                                                   aceptado_en=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    with pytest.raises(IntegrityError, match="no cambian"):
        ItemPlan.objects.filter(pk=items[0].pk).update(precio=1)


def test_pago_en_caja_abierta_y_libro_inmutable(escena):
    dentista, recepcion, cliente, plan, items = escena
    p = _emitir(plan, items, dentista.user)
    caja = Caja.objects.create(cajero=recepcion.user, fecha=datetime.date(2026, 1, 1), monto_apertura=10000)
    with transaction.atomic():
        pago = Pago.objects.create(numero=1, cliente=cliente, medio=MedioPago.EFECTIVO, monto=50000, caja=caja,
                                   registrado_por=recepcion.user)
        AplicacionPago.objects.create(pago=pago, cliente=cliente, presupuesto=p, monto=50000)
    with pytest.raises(IntegrityError, match="no se modifican"):
        Pago.objects.filter(pk=pago.pk).update(monto=1)
    with pytest.raises(IntegrityError, match="no cuadra"):
        with transaction.atomic():
            pago2 = Pago.objects.create(numero=2, cliente=cliente, medio=MedioPago.DEBITO, monto=50000, caja=caja,
                                        registrado_por=recepcion.user)
            AplicacionPago.objects.create(pago=pago2, cliente=cliente, presupuesto=p, monto=40000)
    otro = Cliente.objects.create(nombre_completo="Otro", email="otro.plan@correo.example")
    with pytest.raises(IntegrityError, match="otro paciente"):
        with transaction.atomic():
            pago3 = Pago.objects.create(numero=3, cliente=otro, medio=MedioPago.DEBITO, monto=1, caja=caja,
                                        registrado_por=recepcion.user)
            AplicacionPago.objects.create(pago=pago3, cliente=otro, presupuesto=p, monto=1)
    with pytest.raises(IntegrityError, match="del mismo paciente"):
        AplicacionPago.objects.create(pago=pago, cliente=cliente, presupuesto=None, monto=5)
    Caja.objects.filter(pk=caja.pk).update(cerrada_en=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
                                           cerrada_por=recepcion.user, esperado_efectivo=60000, contado_efectivo=59000)
    caja.refresh_from_db()
    assert caja.diferencia == -1000
    with pytest.raises(IntegrityError, match="no está abierta"):
        Pago.objects.create(numero=4, cliente=cliente, medio=MedioPago.EFECTIVO, monto=1, caja=caja,
                            registrado_por=recepcion.user)
    with pytest.raises(IntegrityError, match="ya está cerrada"):
        Caja.objects.filter(pk=caja.pk).update(contado_efectivo=60000)


def test_verificar_integridad_encuentra_un_presupuesto_que_no_cuadra(escena):
    """With the triggers off (a restore, a hand edit), the integrity report still finds drift."""
    from mantenimiento.selectors import verificar_integridad

    dentista, recepcion, cliente, plan, items = escena
    p = _emitir(plan, items, dentista.user)
    assert verificar_integridad(etiquetas=["tratamientos", "pagos"]).ok
    with connection.cursor() as c:
        c.execute("ALTER TABLE tratamientos_presupuesto DISABLE TRIGGER USER")
        c.execute("UPDATE tratamientos_presupuesto SET subtotal = subtotal + 1 WHERE id = %s", [p.pk])
        c.execute("ALTER TABLE tratamientos_presupuesto ENABLE TRIGGER USER")
    caja = Caja.objects.create(cajero=recepcion.user, fecha=datetime.date(2026, 1, 2))
    with transaction.atomic():
        pago = Pago.objects.create(numero=9, cliente=cliente, medio=MedioPago.EFECTIVO, monto=90000, caja=caja,
                                   registrado_por=recepcion.user)
        AplicacionPago.objects.create(pago=pago, cliente=cliente, presupuesto=p, monto=90000)
    informe = verificar_integridad(etiquetas=["tratamientos", "pagos"])
    malos = {h.codigo: h.cantidad for h in informe.problemas}
    assert malos == {"presupuesto_no_cuadra": 1, "presupuesto_sobrepagado": 1}
