"""The cash box and the payments in the staff site: open, pay, receipt and its PDF, annul,
refund, close; typed amounts read as Chile writes them; bad input is a Spanish message on the
form and changes nothing; another receptionist's box is not there; the portal's receipt PDF is
the patient's own only."""

import re

import pytest
from django.test import Client

from pagos.models import Caja, Pago
from pagos.services import abrir_caja, registrar_pago
from pagos.tests.escena import presupuesto
from pruebas.pdf import leer_pdf
from pruebas.soporte import huella_bd, iniciar_sesion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def escena(clientes, recepcionista, dentista, usuario_paciente):
    ana = usuario_paciente.cliente
    quote = presupuesto(ana, dentista, recepcionista.user, precios=(30000, 20000))
    return clientes["recepcion"], recepcionista.user, ana, quote


def test_caja_y_pagos_de_punta_a_punta(escena, clientes):
    web, rosa, ana, quote = escena
    pagina = web.get("/gestion/caja/")
    assert "Abrir caja" in pagina.content.decode()
    assert web.post("/gestion/caja/abrir/", {"monto_apertura": "$10.000"}).status_code == 302
    caja = Caja.objects.get(cajero=rosa)
    assert caja.monto_apertura == 10000
    assert "Registrar pago" in clientes["recepcion"].get(f"/gestion/pacientes/{ana.pk}/").content.decode()
    nuevo = f"/gestion/pacientes/{ana.pk}/pagos/nuevo/"
    html = web.get(nuevo).content.decode()
    assert f"Presupuesto N° {quote.numero} · debe $50.000" in html
    # The quote that still owes comes chosen: an abono goes to it unless reception says otherwise.
    # A preselected quote in the URL that is not an id ("²" passes str.isdigit) is ignored, no 500.
    for raro in ("²", "1" * 5000, "-1", "abc"):
        assert web.get(nuevo, {"presupuesto": raro}).status_code == 200
    assert f'<option value="{quote.pk}" selected>' in html
    clave = re.search(r'name="clave" value="([0-9a-f-]{36})"', html)[1]  # the form's own key
    datos = {"presupuesto": quote.pk, "monto": "30.000", "medio": "efectivo", "clave": clave}
    r = web.post(nuevo, datos)
    assert r.status_code == 302
    # The same form sent again (a double click): one payment, and reception is told.
    otra = web.post(nuevo, datos, follow=True)
    assert "ya estaba registrado" in otra.content.decode()
    pago = Pago.objects.get(cliente=ana)
    assert r.url == f"/gestion/pacientes/{ana.pk}/pagos/{pago.pk}/"
    recibo = web.get(r.url).content.decode()
    assert f"N° {pago.numero:06d}" in recibo and f"Presupuesto N° {quote.numero}: $30.000" in recibo
    pdf = web.get(f"/gestion/pacientes/{ana.pk}/pagos/{pago.pk}/comprobante.pdf")
    assert pdf["Content-Type"] == "application/pdf" and leer_pdf(pdf.content).contiene("$30.000")
    r = web.post(nuevo, {"presupuesto": quote.pk, "monto": "25000", "medio": "transferencia", "referencia": "OP 99"})
    assert r.status_code == 302
    assert "Saldo a favor: $5.000" in web.get(r.url).content.decode()
    # Refund part of the credit, annul the first payment.
    r = web.post(f"/gestion/pacientes/{ana.pk}/pagos/devolver/",
                 {"monto": "2.000", "medio": "efectivo", "motivo": "Pagó de más"})
    assert r.status_code == 302
    r = web.post(f"/gestion/pacientes/{ana.pk}/pagos/{pago.pk}/anular/", {"motivo": "Error de digitación"})
    assert r.status_code == 302
    assert "ANULADO" in web.get(f"/gestion/pacientes/{ana.pk}/pagos/{pago.pk}/").content.decode()
    # The box: entries, totals by method, expected cash; then closed with a difference.
    html = web.get("/gestion/caja/").content.decode()
    assert "Totales por medio" in html and "-$2.000" in html
    r = web.post(f"/gestion/caja/{caja.pk}/cerrar/", {"contado_efectivo": "7.500", "observacion": "Falta sencillo"})
    assert r.status_code == 302
    caja.refresh_from_db()
    # 10.000 + 30.000 − 2.000 − 30.000 (annulled in cash) = 8.000 expected; 7.500 counted.
    assert (caja.esperado_efectivo, caja.diferencia) == (8000, -500)
    html = web.get(f"/gestion/caja/{caja.pk}/").content.decode()
    assert "Diferencia" in html and "-$500" in html and "Cerrar caja" not in html


@pytest.mark.parametrize("datos, mensaje", [
    ({"monto": "-5.000", "medio": "efectivo"}, "monto mínimo es $1"),
    ({"monto": "999.999.999.999", "medio": "efectivo"}, "no puede superar"),
    ({"monto": "12,5", "medio": "efectivo"}, "sin decimales"),
    ({"monto": "doce mil", "medio": "efectivo"}, "sin decimales"),
    ({"monto": "", "medio": "efectivo"}, "Indique el monto"),
    ({"monto": "0", "medio": "efectivo"}, "monto mínimo"),
    ({"monto": "1000", "medio": "saldo"}, "Elija el medio"),
    ({"monto": "1000", "medio": "transferencia"}, "N° de operación"),
    ({"monto": "1000", "medio": "efectivo", "presupuesto": "987654321"}, "presupuesto aceptado"),
    ({"monto": "1000", "medio": "efectivo", "presupuesto": "abc"}, "presupuesto aceptado"),
])
def test_datos_malos_dan_mensaje_y_no_cambian_nada(escena, datos, mensaje):
    web, rosa, ana, _ = escena
    abrir_caja(actor=rosa, monto_apertura=0)
    antes = huella_bd()
    r = web.post(f"/gestion/pacientes/{ana.pk}/pagos/nuevo/", datos)
    assert r.status_code == 200 and mensaje in r.content.decode()
    assert huella_bd() == antes


def test_sin_caja_abierta_el_pago_se_rechaza_con_mensaje(escena):
    web, _, ana, quote = escena
    antes = huella_bd()
    r = web.post(f"/gestion/pacientes/{ana.pk}/pagos/nuevo/", {"presupuesto": quote.pk, "monto": "1000",
                                                                "medio": "efectivo"})
    assert r.status_code == 200 and "Abra su caja antes de registrar pagos" in r.content.decode()
    assert huella_bd() == antes


def test_cerrar_dos_veces_y_caja_ajena(escena, crear_personal, clientes):
    web, rosa, ana, _ = escena
    caja = abrir_caja(actor=rosa, monto_apertura=0)
    otra = crear_personal(rol="recepcion", username="otra.recepcion")
    ajena = iniciar_sesion(Client(), otra.user)
    assert ajena.get(f"/gestion/caja/{caja.pk}/").status_code == 404
    antes = huella_bd()
    assert ajena.post(f"/gestion/caja/{caja.pk}/cerrar/", {"contado_efectivo": "0"}).status_code == 404
    assert huella_bd() == antes
    assert clientes["administrador"].get(f"/gestion/caja/{caja.pk}/").status_code == 200
    assert web.post(f"/gestion/caja/{caja.pk}/cerrar/", {"contado_efectivo": "0"}).status_code == 302
    antes = huella_bd()
    r = web.post(f"/gestion/caja/{caja.pk}/cerrar/", {"contado_efectivo": "0"}, follow=True)
    assert "ya está cerrada" in r.content.decode()
    assert huella_bd() == antes


def test_comprobante_del_portal_solo_el_propio(escena, crear_personal):
    _, rosa, ana, quote = escena
    from citas.tests.test_services import registrar_paciente

    abrir_caja(actor=rosa, monto_apertura=0)
    propio = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=5000, medio="efectivo", presupuesto_id=quote.pk)
    otro_user = registrar_paciente(977)
    ajeno = registrar_pago(actor=rosa, cliente_id=otro_user.cliente.pk, monto=5000, medio="efectivo")
    portal = iniciar_sesion(Client(), ana.user)
    r = portal.get(f"/portal/cuenta/comprobantes/{propio.pk}/")
    assert r.status_code == 200 and leer_pdf(r.content).contiene(f"Comprobante N° {propio.numero:06d}")
    assert portal.get(f"/portal/cuenta/comprobantes/{ajeno.pk}/").status_code == 404
    assert portal.get("/portal/cuenta/comprobantes/99999999999999999999/").status_code == 404
    # Staff: another patient's receipt under this patient is not there either.
    web = escena[0]
    assert web.get(f"/gestion/pacientes/{ana.pk}/pagos/{ajeno.pk}/").status_code == 404
    assert web.get(f"/gestion/pacientes/{ana.pk}/pagos/{ajeno.pk}/comprobante.pdf").status_code == 404
