"""The account statement against the hand-computed scene (``conftest.cuenta``): charges are done
items only, paid is net of refunds and annulments, a traspaso moves credit without money, and
a quote's payments are advances, not charges. Its query count does not grow with rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pacientes.models import Cliente
from pagos.estado_cuenta import estado_de_cuenta
from pagos.reportes import csv_estado_de_cuenta
from pagos.tests.escena import asentar, hecho, plan_de

pytestmark = pytest.mark.django_db(transaction=True)


def test_totales_del_estado_de_cuenta(cuenta):
    e = estado_de_cuenta(cuenta.ana.pk)
    assert (e.cargado, e.pagado, e.saldo, e.credito) == (115000, 145000, -30000, 7000)
    assert e.total_cargos == 3 and e.total_movimientos == 6
    assert e.ultimo_pago == max(p.registrado_en for p in cuenta.pagos if p.tipo == "pago")


def test_cargos_son_solo_los_items_realizados(cuenta):
    e = estado_de_cuenta(cuenta.ana.pk)
    assert sorted(c.total for c in e.cargos) == [30000, 40000, 45000]
    cargo = next(c for c in e.cargos if c.total == 40000)
    assert (cargo.codigo, cargo.diente, cargo.superficie, cargo.dentista, cargo.precio, cargo.descuento) == (
        "OBT-01", 16, "O", "Camila Soto", 45000, 5000)
    assert e.cargos[-1].total == 40000, "los más recientes primero (el de ayer al final)"


def test_movimientos_con_su_aplicacion(cuenta):
    e = estado_de_cuenta(cuenta.ana.pk)
    por_numero = {m.numero: m for m in e.movimientos}
    p1, p2, p3, a3, r1, t1 = cuenta.pagos
    assert [m.numero for m in e.movimientos] == [t1.numero, r1.numero, a3.numero, p3.numero, p2.numero, p1.numero]
    m2 = por_numero[p2.numero]
    assert (m2.monto, m2.medio_legible, m2.registrado_por, m2.referencia) == (100000, "Tarjeta de débito", "Rosa Díaz",
                                                                             "op 123")
    assert m2.aplicado_a == f"Presupuesto N° {cuenta.q1.numero}: $80.000 · Saldo a favor: $20.000"
    assert por_numero[p3.numero].anulado_por_numero == a3.numero
    assert por_numero[a3.numero].anula_numero == p3.numero and por_numero[a3.numero].monto == -10000
    assert por_numero[r1.numero].tipo_legible == "Devolución" and por_numero[r1.numero].monto == -5000
    assert por_numero[t1.numero].monto == 0
    assert por_numero[t1.numero].aplicado_a == f"Saldo a favor: -$8.000 · Presupuesto N° {cuenta.q2.numero}: $8.000"


def test_presupuestos_aceptados_lo_que_deben(cuenta):
    e = estado_de_cuenta(cuenta.ana.pk)
    q = {p.presupuesto_id: p for p in e.presupuestos}
    q1, q2 = q[cuenta.q1.pk], q[cuenta.q2.pk]
    assert (q1.total, q1.aplicado, q1.debe, q1.realizados, q1.pendientes, q1.lineas) == (130000, 130000, 0, 2, 1, 3)
    assert (q2.total, q2.aplicado, q2.debe, q2.realizados, q2.pendientes, q2.lineas) == (20000, 8000, 12000, 0, 1, 1)


def test_pago_a_un_presupuesto_no_es_cargo(cuenta):
    """An advance on a quote lowers the balance; the charge comes when the work is done."""
    antes = estado_de_cuenta(cuenta.ana.pk)
    asentar(cuenta.ana, cuenta.pedro.user, [(cuenta.q2, 12000)])
    despues = estado_de_cuenta(cuenta.ana.pk)
    assert despues.cargado == antes.cargado
    assert despues.saldo == antes.saldo - 12000
    assert next(p for p in despues.presupuestos if p.presupuesto_id == cuenta.q2.pk).debe == 0


def test_paciente_sin_movimientos_y_otro_paciente(cuenta):
    nadie = Cliente.objects.create(nombre_completo="Sin Movimientos", email="sin.mov@correo.example")
    e = estado_de_cuenta(nadie.pk)
    assert (e.cargado, e.pagado, e.saldo, e.credito, e.cargos, e.movimientos, e.presupuestos) == (0, 0, 0, 0, [], [], [])
    assert e.ultimo_pago is None


def test_consultas_no_crecen_con_las_filas(cuenta):
    with CaptureQueriesContext(connection) as pocas:
        estado_de_cuenta(cuenta.ana.pk)
    plan = plan_de(cuenta.ana, cuenta.soto)
    for n in range(30):
        hecho(plan, cuenta.obt, 1000 + n, cuenta.soto)
        asentar(cuenta.ana, cuenta.pedro.user, [(None, 1000 + n)])
    with CaptureQueriesContext(connection) as muchas:
        e = estado_de_cuenta(cuenta.ana.pk)
    assert len(pocas) == len(muchas) == 4
    assert len(e.cargos) == 33 and len(e.movimientos) == 36


def test_ventanas_de_las_listas(cuenta):
    e = estado_de_cuenta(cuenta.ana.pk, cargos=(1, 1), movimientos=(4, 10))
    assert [c.total for c in e.cargos] == [45000]  # newest first: 30.000 (Mora), 45.000, 40.000 (yesterday)
    assert len(e.movimientos) == 2 and e.total_movimientos == 6
    assert e.cargado == 115000, "los totales cubren todo, no solo la ventana"


def test_csv_del_estado_de_cuenta(cuenta):
    contenido = csv_estado_de_cuenta(estado_de_cuenta(cuenta.ana.pk))
    assert contenido.startswith("\ufeff".encode())
    texto = contenido.decode("utf-8-sig")
    lineas = texto.split("\r\n")
    assert lineas[0] == "Tipo;Fecha;Detalle;Diente / medio;Dentista / aplicado a;Monto (CLP)"
    assert "Resumen;Cargado;;;;115000" in lineas
    assert "Resumen;Saldo (cargado − pagado);;;;-30000" in lineas
    assert any(linea.startswith("Cargo;") and "OBT-01 Obturación resina;diente 16O;Camila Soto;40000" in linea
               for linea in lineas)
