"""The money reports against the hand-computed scene (``conftest.cuenta``), the days of Santiago
at the edges of a period, and periods that are refused."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pacientes.models import Cliente
from pagos.reportes import (
    SIN_PRESUPUESTO, csv_produccion, csv_recaudacion, csv_saldos, produccion, recaudacion, saldos_pendientes,
    validar_periodo,
)
from pagos.tests.escena import asentar, hecho, plan_de

pytestmark = pytest.mark.django_db(transaction=True)
SANTIAGO = datetime.timezone(datetime.timedelta(hours=-3))  # summer time (UTC−3)


def _filas(lista):
    return [(f.nombre, f.cantidad, f.ingresos, f.egresos, f.monto) for f in lista]


def test_produccion_por_dentista(cuenta):
    hoy = timezone.localdate()
    filas = produccion(desde=hoy - datetime.timedelta(days=7), hasta=hoy)
    assert [(f.nombre, f.cantidad, f.monto, f.es_total) for f in filas] == [
        ("Camila Soto", 2, 85000, False), ("Jorge Mora", 1, 30000, False), ("Total", 3, 115000, True)]
    # Only today: yesterday's 40.000 of Soto is out.
    filas = produccion(desde=hoy, hasta=hoy)
    assert [(f.nombre, f.cantidad, f.monto) for f in filas] == [
        ("Camila Soto", 1, 45000), ("Jorge Mora", 1, 30000), ("Total", 2, 75000)]


def test_produccion_en_dias_de_santiago(cuenta):
    """Done at 23:30 of 28 February in Santiago (02:30 UTC of 1 March): February's."""
    plan = plan_de(cuenta.ana, cuenta.mora)
    hecho(plan, cuenta.lim, 7000, cuenta.mora, cuando=datetime.datetime(2026, 2, 28, 23, 30, tzinfo=SANTIAGO))
    febrero = produccion(desde=datetime.date(2026, 2, 1), hasta=datetime.date(2026, 2, 28))
    marzo = produccion(desde=datetime.date(2026, 3, 1), hasta=datetime.date(2026, 3, 31))
    assert [(f.nombre, f.monto) for f in febrero] == [("Jorge Mora", 7000), ("Total", 7000)]
    assert [(f.nombre, f.cantidad, f.monto) for f in marzo] == [("Total", 0, 0)]


def test_recaudacion_por_medio_recepcionista_y_dentista(cuenta):
    hoy = timezone.localdate()
    r = recaudacion(desde=hoy, hasta=hoy)
    # (name, payments, income, refunds and annulments, net)
    assert _filas(r.por_medio) == [
        ("Tarjeta de débito", 1, 100000, 0, 100000), ("Efectivo", 1, 50000, -5000, 45000),
        ("Transferencia", 1, 10000, -10000, 0), ("Total", 3, 160000, -15000, 145000)]
    assert _filas(r.por_recepcionista) == [
        ("Rosa Díaz", 1, 100000, 0, 100000), ("Pedro Rojas", 2, 60000, -15000, 45000),
        ("Total", 3, 160000, -15000, 145000)]
    # Q1 is Soto's plan (130.000), Q2 Mora's (8.000 moved from the credit); the credit left: 7.000.
    assert _filas(r.por_dentista) == [
        ("Camila Soto", 2, 130000, 0, 130000), ("Jorge Mora", 0, 8000, 0, 8000),
        (SIN_PRESUPUESTO, 2, 30000, -23000, 7000), ("Total", 3, 168000, -23000, 145000)]
    ayer = hoy - datetime.timedelta(days=1)
    vacio = recaudacion(desde=ayer, hasta=ayer)
    assert _filas(vacio.por_medio) == _filas(vacio.por_dentista) == [("Total", 0, 0, 0, 0)]


def test_saldos_pendientes(cuenta):
    debe = Cliente.objects.create(nombre_completo="Bruno Debe", email="bruno@correo.example")
    poco = Cliente.objects.create(nombre_completo="Carla Poco", email="carla@correo.example")
    hecho(plan_de(debe, cuenta.soto), cuenta.obt, 60000, cuenta.soto)
    ultimo = asentar(debe, cuenta.pedro.user, [(None, 10000)])
    hecho(plan_de(poco, cuenta.mora), cuenta.lim, 20000, cuenta.mora)
    s = saldos_pendientes()
    assert (s.pacientes, s.total) == (2, 70000)
    assert [(f.nombre, f.cargado, f.pagado, f.saldo) for f in s.filas] == [
        ("Bruno Debe", 60000, 10000, 50000), ("Carla Poco", 20000, 0, 20000)]  # Ana has credit: not listed
    assert s.filas[0].ultimo_pago == ultimo.registrado_en and s.filas[1].ultimo_pago is None
    segunda = saldos_pendientes(desde=1, limite=1)
    assert [f.nombre for f in segunda.filas] == ["Carla Poco"] and segunda.pacientes == 2
    fuera = saldos_pendientes(desde=50, limite=10)
    assert (fuera.filas, fuera.pacientes, fuera.total) == ([], 2, 70000)
    texto = csv_saldos(s).decode("utf-8-sig")
    assert texto.split("\r\n")[1].startswith("Bruno Debe;;60000;10000;50000;")


@pytest.mark.parametrize("desde, hasta, codigo", [
    (None, datetime.date(2026, 1, 1), "periodo_incompleto"),
    (datetime.date(2026, 2, 1), datetime.date(2026, 1, 1), "periodo_invertido"),
    (datetime.date(2024, 1, 1), datetime.date(2026, 1, 2), "periodo_largo"),
])
def test_periodos_rechazados(desde, hasta, codigo):
    with pytest.raises(ValidationError) as error:
        produccion(desde=desde, hasta=hasta)
    assert error.value.code == codigo
    with pytest.raises(ValidationError):
        recaudacion(desde=desde, hasta=hasta)


def test_dos_anos_justos_se_aceptan():
    validar_periodo(datetime.date(2024, 1, 1), datetime.date(2025, 12, 31))


def test_csv_para_excel(cuenta):
    hoy = timezone.localdate()
    contenido = csv_produccion(produccion(desde=hoy - datetime.timedelta(days=7), hasta=hoy))
    assert contenido[:3] == b"\xef\xbb\xbf"
    assert contenido.decode("utf-8-sig").split("\r\n")[:4] == [
        "Dentista;Prestaciones realizadas;Total (CLP)", "Camila Soto;2;85000", "Jorge Mora;1;30000", "Total;3;115000"]
    lineas = csv_recaudacion(recaudacion(desde=hoy, hasta=hoy)).decode("utf-8-sig").split("\r\n")
    assert "Medio de pago;Efectivo;1;50000;-5000;45000" in lineas
    assert f"Dentista;{SIN_PRESUPUESTO};2;30000;-23000;7000" in lineas


def test_csv_no_deja_formulas():
    from pagos.reportes import csv_para_excel

    texto = csv_para_excel(["a"], [("=HYPERLINK(\"x\")",), (-5,)]).decode("utf-8-sig")
    assert texto.split("\r\n")[1:3] == ['"\'=HYPERLINK(""x"")"', "-5"]
