"""The ledger and the cash box through their services, and attempts to break them: bad amounts,
another patient's quote, a quote not accepted, closing twice, annulling twice, refunding more
than the credit (a Spanish message, nothing changed), two receptionists paying one quote at once,
a payment racing the box's closing, and the ledger's immutability through raw SQL."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from pagos.models import MONTO_MAXIMO, AplicacionPago, Caja, Pago, TipoPago
from pagos.selectors_caja import efectivo_esperado, presupuestos_por_pagar, resumen_por_medio, saldo_a_favor
from pagos.services import abrir_caja, anular_pago, cerrar_caja, devolver, registrar_pago, usar_saldo
from pagos.tests.escena import paciente, presupuesto
from personal.models import Rol
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def escena(crear_personal):
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.pagos")
    rosa = crear_personal(rol=Rol.RECEPCION, username="rosa.caja", nombre="Rosa", apellido="Díaz")
    ana = paciente()
    quote = presupuesto(ana, dentista, rosa.user, precios=(20000, 30000))
    return dentista, rosa.user, ana, quote


def aplicado(presupuesto_id):
    return sum(AplicacionPago.objects.filter(presupuesto_id=presupuesto_id).values_list("monto", flat=True))


def test_abrir_pagar_en_partes_y_cerrar_con_diferencia(escena):
    _, rosa, ana, quote = escena
    caja = abrir_caja(actor=rosa, monto_apertura=10000)
    with pytest.raises(ValidationError, match="Ya abrió su caja de hoy"):
        abrir_caja(actor=rosa, monto_apertura=0)
    p1 = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=20000, medio="efectivo", presupuesto_id=quote.pk)
    p2 = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=35000, medio="debito", referencia="4521",
                        presupuesto_id=quote.pk)
    assert p2.numero == p1.numero + 1
    # The quote owed 50.000: 20.000 + 30.000 to it, 5.000 of the second payment became credit.
    assert aplicado(quote.pk) == 50000 and saldo_a_favor(ana.pk) == 5000
    assert [q.debe for q in presupuestos_por_pagar(ana.pk)] == [0]
    devolver(actor=rosa, cliente_id=ana.pk, monto=2000, medio="efectivo", motivo="Sobró del abono")
    assert saldo_a_favor(ana.pk) == 3000
    assert efectivo_esperado(caja.pk) == 10000 + 20000 - 2000
    cerrada = cerrar_caja(actor=rosa, caja_id=caja.pk, contado_efectivo=27500, observacion="Faltan $500")
    assert (cerrada.esperado_efectivo, cerrada.contado_efectivo, cerrada.diferencia) == (28000, 27500, -500)
    resumen = {t.medio: t.total for t in resumen_por_medio(caja.pk)}
    assert resumen == {"efectivo": 18000, "debito": 35000, "credito": 0, "transferencia": 0, "saldo": 0}
    antes = huella_bd()
    with pytest.raises(ValidationError, match="ya está cerrada"):
        cerrar_caja(actor=rosa, caja_id=caja.pk, contado_efectivo=28000)
    with pytest.raises(ValidationError, match="Abra su caja"):
        registrar_pago(actor=rosa, cliente_id=ana.pk, monto=1000, medio="efectivo")
    assert huella_bd() == antes


def test_usar_saldo_y_anular_hacia_la_caja_de_hoy(escena, crear_personal):
    dentista, rosa, ana, quote = escena
    abrir_caja(actor=rosa, monto_apertura=0)
    registrar_pago(actor=rosa, cliente_id=ana.pk, monto=15000, medio="transferencia", referencia="OP-77")
    assert saldo_a_favor(ana.pk) == 15000
    traspaso = usar_saldo(actor=rosa, cliente_id=ana.pk, presupuesto_id=quote.pk, monto=12000)
    assert traspaso.tipo == TipoPago.TRASPASO and traspaso.monto == 0
    assert saldo_a_favor(ana.pk) == 3000 and aplicado(quote.pk) == 12000
    pago = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=40000, medio="credito", presupuesto_id=quote.pk)
    assert aplicado(quote.pk) == 50000 and saldo_a_favor(ana.pk) == 5000
    anulacion = anular_pago(actor=rosa, pago_id=pago.pk, motivo="Se cobró dos veces")
    assert anulacion.monto == -40000 and anulacion.anula_id == pago.pk and anulacion.medio == "credito"
    assert aplicado(quote.pk) == 12000 and saldo_a_favor(ana.pk) == 3000
    antes = huella_bd()
    for intento, mensaje in [
        (lambda: anular_pago(actor=rosa, pago_id=pago.pk, motivo="otra vez"), "ya está anulado"),
        (lambda: anular_pago(actor=rosa, pago_id=anulacion.pk, motivo="x"), "Solo se anula un pago"),
        (lambda: anular_pago(actor=rosa, pago_id=traspaso.pk, motivo="x"), "Solo se anula un pago"),
        (lambda: anular_pago(actor=rosa, pago_id=pago.pk, motivo="   "), "Indique el motivo"),
        (lambda: usar_saldo(actor=rosa, cliente_id=ana.pk, presupuesto_id=quote.pk, monto=3001), "no alcanza"),
        (lambda: devolver(actor=rosa, cliente_id=ana.pk, monto=3001, medio="efectivo", motivo="x"),
         "Solo se devuelve el saldo a favor"),
    ]:
        with pytest.raises(ValidationError, match=mensaje):
            intento()
    assert huella_bd() == antes


def test_anular_un_pago_cuyo_saldo_ya_se_uso_no_se_puede(escena):
    _, rosa, ana, quote = escena
    abrir_caja(actor=rosa, monto_apertura=0)
    pago = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=10000, medio="efectivo")
    devolver(actor=rosa, cliente_id=ana.pk, monto=6000, medio="efectivo", motivo="Devuelto")
    antes = huella_bd()
    with pytest.raises(ValidationError, match="ya se usaron o devolvieron"):
        anular_pago(actor=rosa, pago_id=pago.pk, motivo="error")
    assert huella_bd() == antes and saldo_a_favor(ana.pk) == 4000


def test_un_pago_de_una_caja_cerrada_se_anula_en_la_de_hoy(escena):
    _, rosa, ana, quote = escena
    vieja = abrir_caja(actor=rosa, monto_apertura=0)
    pago = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=5000, medio="efectivo", presupuesto_id=quote.pk)
    cerrar_caja(actor=rosa, caja_id=vieja.pk, contado_efectivo=5000)
    # Yesterday's box (the same one moved back a day by the test: the trigger forbids changes,
    # so the scene sets it aside) and a new box for today.
    with connection.cursor() as c:
        c.execute("ALTER TABLE pagos_caja DISABLE TRIGGER USER")
        c.execute("UPDATE pagos_caja SET fecha = fecha - 1 WHERE id = %s", [vieja.pk])
        c.execute("ALTER TABLE pagos_caja ENABLE TRIGGER USER")
    vieja.refresh_from_db()
    hoy = abrir_caja(actor=rosa, monto_apertura=1000)
    anulacion = anular_pago(actor=rosa, pago_id=pago.pk, motivo="Pago duplicado")
    assert anulacion.caja_id == hoy.pk
    fila_vieja = Caja.objects.get(pk=vieja.pk)
    assert (fila_vieja.esperado_efectivo, fila_vieja.diferencia) == (5000, 0)
    assert efectivo_esperado(hoy.pk) == 1000 - 5000


@pytest.mark.parametrize("monto, mensaje", [
    (0, "al menos"), (-5000, "al menos"), (MONTO_MAXIMO + 1, "no puede superar"), (10**30, "no puede superar"),
    ("12500", "número entero"), (12.5, "número entero"), (True, "número entero"), (None, "número entero"),
])
def test_montos_malos_no_cambian_nada(escena, monto, mensaje):
    _, rosa, ana, quote = escena
    abrir_caja(actor=rosa, monto_apertura=0)
    antes = huella_bd()
    with pytest.raises(ValidationError, match=mensaje):
        registrar_pago(actor=rosa, cliente_id=ana.pk, monto=monto, medio="efectivo", presupuesto_id=quote.pk)
    assert huella_bd() == antes


def test_presupuesto_ajeno_no_aceptado_medio_y_referencia(escena, crear_personal):
    dentista, rosa, ana, quote = escena
    otro = paciente(nombre="Otro Paciente", email="otro.pagos@correo.example")
    ajeno = presupuesto(otro, dentista, rosa, precios=(10000,))
    emitido = presupuesto(ana, dentista, rosa, precios=(10000,), aceptado=False)
    dentista_user = dentista.user
    antes = huella_bd()
    with pytest.raises(ValidationError, match="Abra su caja"):
        registrar_pago(actor=rosa, cliente_id=ana.pk, monto=1000, medio="efectivo")
    assert huella_bd() == antes
    abrir_caja(actor=rosa, monto_apertura=0)
    antes = huella_bd()
    for kwargs, mensaje in [
        ({"presupuesto_id": ajeno.pk}, "no es de este paciente"),
        ({"presupuesto_id": 987654321}, "no es de este paciente"),
        ({"presupuesto_id": "x"}, "no existe"),
        ({"presupuesto_id": emitido.pk}, "presupuesto aceptado"),
        ({"medio": "saldo"}, "Elija el medio"),
        ({"medio": "bitcoin"}, "Elija el medio"),
        ({"medio": "transferencia"}, "N° de operación"),
        ({"referencia": "x" * 61, "medio": "debito"}, "máximo 60"),
        ({"cliente_id": 987654321}, "no existe"),
    ]:
        datos = {"actor": rosa, "cliente_id": ana.pk, "monto": 1000, "medio": "efectivo", **kwargs}
        with pytest.raises(ValidationError, match=mensaje):
            registrar_pago(**datos)
    with pytest.raises(ValidationError, match="Solo recepción o administración"):
        registrar_pago(actor=dentista_user, cliente_id=ana.pk, monto=1000, medio="efectivo")
    with pytest.raises(ValidationError, match="Solo recepción o administración"):
        abrir_caja(actor=dentista_user, monto_apertura=0)
    assert huella_bd() == antes


def test_otra_recepcionista_no_cierra_mi_caja_pero_el_administrador_si(escena, crear_personal):
    _, rosa, ana, _ = escena
    pedro = crear_personal(rol=Rol.RECEPCION, username="pedro.caja").user
    admin = crear_personal(rol=Rol.ADMINISTRADOR, username="admin.caja").user
    caja = abrir_caja(actor=rosa, monto_apertura=500)
    antes = huella_bd()
    with pytest.raises(ValidationError, match="Solo quien abrió la caja"):
        cerrar_caja(actor=pedro, caja_id=caja.pk, contado_efectivo=500)
    for contado in (-1, MONTO_MAXIMO + 1, "500"):
        with pytest.raises(ValidationError):
            cerrar_caja(actor=rosa, caja_id=caja.pk, contado_efectivo=contado)
    assert huella_bd() == antes
    cerrada = cerrar_caja(actor=admin, caja_id=caja.pk, contado_efectivo=500, observacion="Cerró administración")
    assert cerrada.cerrada_por_id == admin.pk and cerrada.diferencia == 0


def test_el_libro_no_cambia_ni_por_sql(escena):
    _, rosa, ana, quote = escena
    caja = abrir_caja(actor=rosa, monto_apertura=0)
    pago = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=7000, medio="efectivo", presupuesto_id=quote.pk)
    cerrar_caja(actor=rosa, caja_id=caja.pk, contado_efectivo=7000)
    for sentencia in (
        f"UPDATE pagos_pago SET monto = 1 WHERE id = {pago.pk}",
        f"DELETE FROM pagos_pago WHERE id = {pago.pk}",
        f"UPDATE pagos_aplicacionpago SET monto = 1 WHERE pago_id = {pago.pk}",
        f"DELETE FROM pagos_aplicacionpago WHERE pago_id = {pago.pk}",
        f"UPDATE pagos_caja SET contado_efectivo = 1 WHERE id = {caja.pk}",
        f"DELETE FROM pagos_caja WHERE id = {caja.pk}",
        f"INSERT INTO pagos_aplicacionpago (pago_id, cliente_id, monto) VALUES ({pago.pk}, {ana.pk}, 5)",
    ):
        with pytest.raises(IntegrityError):
            with transaction.atomic(), connection.cursor() as c:
                c.execute(sentencia)
    pago.refresh_from_db()
    assert pago.monto == 7000 and aplicado(quote.pk) == 7000


def _en_paralelo(n, funcion):
    barrera = threading.Barrier(n)
    resultados, errores = [], []

    def correr(i):
        try:
            barrera.wait()
            resultados.append(funcion(i))
        except ValidationError as error:
            errores.append(error)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errores.append(error)
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr, args=(i,)) for i in range(n)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    return resultados, errores


def test_dos_recepcionistas_pagan_el_mismo_presupuesto_a_la_vez(escena, crear_personal):
    """Four receptionists, each with her box, pay 20.000 against a quote of 50.000 at the same
    instant, several rounds: the quote never gets more than it owes, the excess becomes credit,
    every payment is there once with its own receipt number."""
    dentista, rosa, ana, _ = escena
    cajeras = [rosa] + [crear_personal(rol=Rol.RECEPCION, username=f"caja{i}").user for i in range(3)]
    for cajera in cajeras:
        abrir_caja(actor=cajera, monto_apertura=0)
    for ronda in range(4):
        quote = presupuesto(ana, dentista, rosa, precios=(50000,))
        credito_antes = saldo_a_favor(ana.pk)
        pagos, errores = _en_paralelo(4, lambda i: registrar_pago(
            actor=cajeras[i], cliente_id=ana.pk, monto=20000, medio="efectivo", presupuesto_id=quote.pk))
        assert not errores, errores
        assert len(pagos) == 4
        assert aplicado(quote.pk) == 50000, f"ronda {ronda}"
        assert saldo_a_favor(ana.pk) - credito_antes == 4 * 20000 - 50000
        assert Pago.objects.filter(pk__in=[p.pk for p in pagos]).count() == 4
    numeros = list(Pago.objects.values_list("numero", flat=True))
    assert len(numeros) == len(set(numeros)) == 16


def test_un_pago_que_compite_con_el_cierre_queda_dentro_o_se_rechaza(escena):
    """A payment and the closing of the same box at the same instant, several rounds: the
    payment is either counted in the closing's expected cash, or refused; never after it."""
    _, rosa, ana, _ = escena
    for ronda in range(5):
        with connection.cursor() as c:  # each round needs a fresh box of today
            c.execute("ALTER TABLE pagos_caja DISABLE TRIGGER USER")
            c.execute("UPDATE pagos_caja SET fecha = fecha - 1 - %s WHERE cajero_id = %s", [ronda, rosa.pk])
            c.execute("ALTER TABLE pagos_caja ENABLE TRIGGER USER")
        caja = abrir_caja(actor=rosa, monto_apertura=1000)

        def una(i):
            if i == 0:
                return registrar_pago(actor=rosa, cliente_id=ana.pk, monto=3000, medio="efectivo")
            return cerrar_caja(actor=rosa, caja_id=caja.pk, contado_efectivo=1000)

        resultados, errores = _en_paralelo(2, una)
        caja.refresh_from_db()
        assert caja.cerrada_en is not None
        pagos = list(Pago.objects.filter(caja=caja))
        if pagos:
            assert caja.esperado_efectivo == 4000, f"ronda {ronda}: un pago quedó fuera del conteo"
            assert not errores
        else:
            assert caja.esperado_efectivo == 1000
            assert len(errores) == 1 and "Abra su caja" in str(errores[0])


def test_el_mismo_formulario_dos_veces_registra_un_solo_pago(escena):
    """A double click or a resent POST carries the form's key again: the payment is there once,
    and the second answer is the first entry (``repetido``)."""
    import uuid

    _, rosa, ana, quote = escena
    abrir_caja(actor=rosa, monto_apertura=0)
    clave = uuid.uuid4()
    primero = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=20000, medio="efectivo",
                             presupuesto_id=quote.pk, clave=clave)
    otra = paciente(nombre="Otra Persona", email="otra.pagos@correo.example")
    antes = huella_bd()
    segundo = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=20000, medio="efectivo",
                             presupuesto_id=quote.pk, clave=str(clave))
    assert segundo.pk == primero.pk and segundo.repetido and not getattr(primero, "repetido", False)
    assert huella_bd() == antes
    with pytest.raises(ValidationError) as error:
        registrar_pago(actor=rosa, cliente_id=otra.pk, monto=1000, medio="efectivo", clave=clave)
    assert error.value.code == "clave_invalida" and huella_bd() == antes
    with pytest.raises(ValidationError):
        registrar_pago(actor=rosa, cliente_id=ana.pk, monto=1000, medio="efectivo", clave="no-es-una-clave")
    assert huella_bd() == antes


def test_dos_envios_a_la_vez_del_mismo_formulario_son_un_pago(escena):
    """The same key at the same instant, several rounds: the patient's row lock serialises them,
    and the second finds the first's entry."""
    import uuid

    _, rosa, ana, quote = escena
    abrir_caja(actor=rosa, monto_apertura=0)
    for ronda in range(4):
        clave = uuid.uuid4()
        pagos, errores = _en_paralelo(3, lambda i: registrar_pago(
            actor=rosa, cliente_id=ana.pk, monto=5000, medio="efectivo", presupuesto_id=quote.pk, clave=clave))
        assert not errores, errores
        assert len({p.pk for p in pagos}) == 1, f"ronda {ronda}"
        assert Pago.objects.filter(clave=clave).count() == 1
    assert aplicado(quote.pk) == 4 * 5000
