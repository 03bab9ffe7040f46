"""Erasing a patient with quotes or payments: the accounting records stay (the ledger PROTECTs
the patient; the SII asks to keep them), so the patient's row stays with name and RUT only,
inactive, without account or contact; from the staff site and from the portal, never a 500."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from citas.tests.test_services import PASSWORD, registrar_paciente
from cuentas.eliminacion import eliminar_cliente, resumen_eliminacion
from cuentas.services import eliminar_mi_cuenta
from pacientes.models import Cliente
from pagos.models import AplicacionPago, Pago
from pagos.services import abrir_caja, registrar_pago
from pagos.tests.escena import presupuesto
from personal.models import Rol
from pruebas.soporte import iniciar_sesion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def con_pago(crear_personal):
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.borrar")
    rosa = crear_personal(rol=Rol.RECEPCION, username="rosa.borrar").user
    user = registrar_paciente(611)
    Cliente.objects.filter(pk=user.cliente.pk).update(rut="12345678-5")
    quote = presupuesto(user.cliente, dentista, rosa, precios=(40000,))
    abrir_caja(actor=rosa, monto_apertura=0)
    pago = registrar_pago(actor=rosa, cliente_id=user.cliente.pk, monto=50000, medio="efectivo",
                          presupuesto_id=quote.pk)
    return rosa, user, pago


def _conservado(cliente_id, pago, user_id):
    cliente = Cliente.objects.get(pk=cliente_id)
    assert (cliente.activo, cliente.email, str(cliente.telefono or ""), cliente.user_id) == (False, "", "", None)
    assert cliente.nombre_completo and cliente.rut == "12345678-5"
    assert Pago.objects.get(pk=pago.pk).monto == 50000
    assert sum(AplicacionPago.objects.filter(pago=pago).values_list("monto", flat=True)) == 50000
    assert not get_user_model().objects.filter(pk=user_id).exists()


def test_eliminar_desde_el_personal_conserva_los_registros_contables(con_pago):
    rosa, user, pago = con_pago
    cliente_id = user.cliente.pk
    assert resumen_eliminacion(cliente_id=cliente_id).registros_contables
    resumen = eliminar_cliente(actor=rosa, cliente_id=cliente_id)
    assert resumen.registros_contables and not resumen.ficha_en_resguardo
    _conservado(cliente_id, pago, user.pk)


def test_eliminar_desde_la_pagina_del_personal_no_es_500(con_pago):
    rosa, user, pago = con_pago
    cliente_id = user.cliente.pk
    web = iniciar_sesion(Client(), rosa)
    assert "registros contables" in web.get(f"/gestion/pacientes/{cliente_id}/eliminar/").content.decode()
    r = web.post(f"/gestion/pacientes/{cliente_id}/eliminar/", follow=True)
    assert r.status_code == 200 and "Sus presupuestos y pagos se conservan" in r.content.decode()
    _conservado(cliente_id, pago, user.pk)


def test_el_paciente_se_elimina_desde_el_portal(con_pago):
    _, user, pago = con_pago
    cliente_id = user.cliente.pk
    eliminar_mi_cuenta(user=user, password=PASSWORD)
    _conservado(cliente_id, pago, user.pk)
