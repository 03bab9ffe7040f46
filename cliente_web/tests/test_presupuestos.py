"""Mis presupuestos in the portal: only the patient's own quotes, the answer (accept after the
confirmation page, reject with an optional reason), an expired or answered quote offers no
buttons and a late POST gets a Spanish message that changes nothing."""

import datetime

import pgtrigger
import pytest
from django.utils import timezone

from pruebas.soporte import huella_bd
from tratamientos.models import EstadoItem, ItemPlan, Presupuesto
from tratamientos.presupuestos import emitir_presupuesto
from tratamientos.tests.fabricas import plan_con_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def presupuesto(paciente, dentista, recepcionista):
    plan, _ = plan_con_items(paciente.cliente, dentista)
    return emitir_presupuesto(actor=recepcionista.user, plan_id=plan.pk)


def test_lista_detalle_y_pdf_propios(portal, presupuesto):
    lista = portal.get("/portal/cuenta/presupuestos/")
    assert presupuesto.folio in lista.text and "$115.000" in lista.text and "Por responder" in lista.text
    detalle = portal.get(f"/portal/cuenta/presupuestos/{presupuesto.pk}/")
    assert "Obturación resina · diente 16 O" in detalle.text and "Aceptar" in detalle.text
    assert portal.get(f"/portal/cuenta/presupuestos/{presupuesto.pk}.pdf")["Content-Type"] == "application/pdf"
    assert "Mis presupuestos" in portal.get("/portal/").text


def test_el_de_otro_paciente_no_existe(otro_paciente, presupuesto):
    from cliente_web.tests.conftest import cliente_de

    otro = cliente_de(otro_paciente)
    antes = huella_bd()
    for url in ("/", ".pdf", "/aceptar/", "/rechazar/"):
        ruta = f"/portal/cuenta/presupuestos/{presupuesto.pk}{url}"
        assert otro.get(ruta).status_code == 404, ruta
    assert otro.post(f"/portal/cuenta/presupuestos/{presupuesto.pk}/aceptar/").status_code == 404
    assert huella_bd() == antes
    assert presupuesto.folio not in otro.get("/portal/cuenta/presupuestos/").text


def test_aceptar_tras_confirmar(portal, presupuesto, paciente):
    confirmar = portal.get(f"/portal/cuenta/presupuestos/{presupuesto.pk}/aceptar/")
    assert "pendientes de realizar" in confirmar.text and "precios quedan fijos" in confirmar.text
    assert Presupuesto.objects.get().estado == "emitido"  # the GET changed nothing
    r = portal.post(f"/portal/cuenta/presupuestos/{presupuesto.pk}/aceptar/", follow=True)
    assert "ACEPTADO el" in r.text and "en el portal" in r.text
    assert set(ItemPlan.objects.values_list("estado", flat=True)) == {EstadoItem.ACEPTADO}
    antes = huella_bd()
    r = portal.post(f"/portal/cuenta/presupuestos/{presupuesto.pk}/rechazar/", {"motivo": "no"}, follow=True)
    assert "Este presupuesto ya fue aceptado." in r.text
    assert huella_bd() == antes


def test_rechazar_con_motivo_opcional(portal, presupuesto):
    antes = huella_bd()
    r = portal.post(f"/portal/cuenta/presupuestos/{presupuesto.pk}/rechazar/", {"motivo": "x" * 301})
    assert r.status_code == 200 and "300" in r.text
    assert huella_bd() == antes
    r = portal.post(f"/portal/cuenta/presupuestos/{presupuesto.pk}/rechazar/", {"motivo": "Lo haré más adelante"},
                    follow=True)
    assert "RECHAZADO el" in r.text and "Lo haré más adelante" in r.text
    assert set(ItemPlan.objects.values_list("estado", flat=True)) == {EstadoItem.PROPUESTO}


def test_vencido_sin_botones_y_post_tardio_explicado(portal, presupuesto):
    with pgtrigger.ignore("tratamientos.Presupuesto:presupuesto_emitido_inmutable"):
        Presupuesto.objects.filter(pk=presupuesto.pk).update(
            valido_hasta=timezone.localdate() - datetime.timedelta(days=1))
    detalle = portal.get(f"/portal/cuenta/presupuestos/{presupuesto.pk}/")
    assert "venció" in detalle.text and 'id="aceptar"' not in detalle.text
    antes = huella_bd()
    r = portal.post(f"/portal/cuenta/presupuestos/{presupuesto.pk}/aceptar/", follow=True)
    assert "Este presupuesto venció el" in r.text
    assert huella_bd() == antes
