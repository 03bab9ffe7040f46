"""Quotes on the staff site: reception issues one from the plan (items, validity), records the
patient's answer at the desk or a new version; a dentist only looks; bad input is a Spanish
message that changes nothing; ids of another patient are 404."""

import datetime
import uuid

import pytest
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.tests.test_services import registrar_paciente
from cliente_web.tests.conftest import cliente_de
from pruebas.soporte import huella_bd
from tratamientos.models import EstadoItem, ItemPlan, Presupuesto
from tratamientos.presupuestos import emitir_presupuesto
from tratamientos.tests.fabricas import plan_con_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def escena(dentista, recepcionista):
    paciente = registrar_paciente(651)
    plan, items = plan_con_items(paciente.cliente, dentista)
    return paciente.cliente, plan, items, cliente_de(recepcionista.user)


def _base(cliente):
    return f"/gestion/pacientes/{cliente.pk}/presupuestos/"


def test_recepcion_emite_con_items_y_fecha(escena):
    cliente, plan, items, web = escena
    pagina = web.get(f"{_base(cliente)}emitir/")
    assert pagina.status_code == 200 and "Obturación resina" in pagina.text and "$40.000" in pagina.text
    valido = timezone.localdate() + datetime.timedelta(days=10)
    r = web.post(f"{_base(cliente)}emitir/", {"plan": plan.pk, "items": [items[0].pk, items[2].pk],
                                               "valido_hasta": valido.isoformat(), "observaciones": "Dos cuotas"})
    p = Presupuesto.objects.get()
    assert r.status_code == 302 and r.url == f"{_base(cliente)}{p.pk}/"
    assert (p.total, p.valido_hasta, p.observaciones) == (70000, valido, "Dos cuotas")
    detalle = web.get(r.url)
    assert "$70.000" in detalle.text and "Registrar aceptación en recepción" in detalle.text
    assert web.get(f"{_base(cliente)}{p.pk}/pdf/")["Content-Type"] == "application/pdf"
    lista = web.get(_base(cliente))
    assert p.folio in lista.text and "Emitido · por responder" in lista.text


@pytest.mark.parametrize("datos, mensaje", [
    ({"items": []}, "Elija al menos un ítem del plan."),
    ({"items": ["999999999"]}, "Uno de los ítems elegidos no es de este plan."),
    ({"valido_hasta": "2000-01-01"}, "La fecha de validez no puede estar en el pasado."),
    ({"valido_hasta": "2999-01-01"}, "Use una fecha entre los años"),
    ({"valido_hasta": "hola"}, "Escriba la fecha como día-mes-año."),
    ({"valido_hasta": "2100-01-01"}, "Un presupuesto vale como máximo un año desde hoy."),
    ({"plan": "abc"}, "Obturación resina"),  # an unknown plan: the patient's first, nothing issued
])
def test_entrada_mala_se_explica_y_no_cambia_nada(escena, datos, mensaje):
    cliente, plan, items, web = escena
    base = {"plan": plan.pk, "items": [i.pk for i in items],
            "valido_hasta": (timezone.localdate() + datetime.timedelta(days=5)).isoformat()}
    antes = huella_bd()
    r = web.post(f"{_base(cliente)}emitir/", {**base, **datos})
    if datos.get("plan") == "abc":
        assert r.status_code == 200 and not Presupuesto.objects.exists()
        antes = huella_bd()
    assert r.status_code == 200 and mensaje in r.text
    assert huella_bd() == antes


def test_registrar_aceptacion_rechazo_y_nueva_version_en_recepcion(escena, recepcionista):
    cliente, plan, items, web = escena
    p1 = emitir_presupuesto(actor=recepcionista.user, plan_id=plan.pk, item_ids=[items[0].pk])
    # Rejection needs a reason at the desk.
    antes = huella_bd()
    r = web.post(f"{_base(cliente)}{p1.pk}/rechazar/", {"motivo": "  "})
    assert r.status_code == 200 and "Anote por qué lo rechaza el paciente." in r.text
    assert huella_bd() == antes
    r = web.post(f"{_base(cliente)}{p1.pk}/rechazar/", {"motivo": "Lo pensará"})
    assert r.status_code == 302
    p1.refresh_from_db()
    assert (p1.estado, p1.via, p1.motivo_rechazo) == ("rechazado", "recepcion", "Lo pensará")
    # A new version of the rejected quote, with the plan's current items.
    r = web.post(f"{_base(cliente)}{p1.pk}/nueva-version/", {
        "plan": plan.pk, "items": [i.pk for i in items],
        "valido_hasta": (timezone.localdate() + datetime.timedelta(days=30)).isoformat()})
    p2 = Presupuesto.objects.get(version=2)
    assert r.status_code == 302 and p2.numero == p1.numero and p2.total == 115000
    assert "Registrar aceptación" in web.get(f"{_base(cliente)}{p2.pk}/aceptar/").text
    r = web.post(f"{_base(cliente)}{p2.pk}/aceptar/")
    assert r.status_code == 302
    p2.refresh_from_db()
    assert (p2.estado, p2.via, p2.respondido_por_id) == ("aceptado", "recepcion", recepcionista.user.pk)
    assert set(ItemPlan.objects.values_list("estado", flat=True)) == {EstadoItem.ACEPTADO}
    # Twice: a Spanish message, nothing changes.
    antes = huella_bd()
    r = web.post(f"{_base(cliente)}{p2.pk}/aceptar/", follow=True)
    assert "Este presupuesto ya fue aceptado." in r.text
    assert huella_bd() == antes


def test_dentista_mira_pero_no_emite_ni_registra(escena, dentista, recepcionista):
    cliente, plan, items, _ = escena
    p = emitir_presupuesto(actor=recepcionista.user, plan_id=plan.pk)
    web = cliente_de(dentista.user)
    # Outside the patient's care team a dentist does not see their quotes (the record's rule)…
    assert web.get(f"{_base(cliente)}{p.pk}/").status_code == 403
    # …inside it (an attended visit), they look.
    inicio = timezone.now() - datetime.timedelta(days=7)
    Cita.objects.create(dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30),
                        estado=EstadoCita.ATENDIDA, cliente=cliente, paciente_nombre=cliente.nombre_completo,
                        reserva_uid=uuid.uuid4(), reservada_en=inicio)
    assert web.get(f"{_base(cliente)}{p.pk}/").status_code == 200
    antes = huella_bd()
    assert web.post(f"{_base(cliente)}{p.pk}/aceptar/").status_code == 403
    assert web.post(f"{_base(cliente)}emitir/", {"plan": plan.pk, "items": [items[0].pk]}).status_code == 403
    assert huella_bd() == antes


def test_ids_malos_son_404(escena, recepcionista, dentista):
    cliente, plan, _, web = escena
    otro = registrar_paciente(652)
    otro_plan, _ = plan_con_items(otro.cliente, dentista)
    ajeno = emitir_presupuesto(actor=recepcionista.user, plan_id=otro_plan.pk)
    for url in (f"{_base(cliente)}{ajeno.pk}/", f"{_base(cliente)}{ajeno.pk}/pdf/",
                f"{_base(cliente)}{ajeno.pk}/aceptar/", f"{_base(cliente)}{2**70}/",
                f"/gestion/pacientes/{2**70}/presupuestos/", "/gestion/pacientes/987654321/presupuestos/emitir/"):
        assert web.get(url).status_code == 404, url
    antes = huella_bd()
    assert web.post(f"{_base(cliente)}{ajeno.pk}/aceptar/").status_code == 404
    assert huella_bd() == antes


def test_consultas_fijas_del_detalle_y_la_lista(escena, recepcionista, dentista, django_assert_num_queries):
    """The quote's page and the list read a fixed number of queries, whatever the lines or quotes."""
    cliente, plan, items, web = escena
    p = emitir_presupuesto(actor=recepcionista.user, plan_id=plan.pk)
    web.get(_base(cliente))
    with django_assert_num_queries(5) as detalle:
        assert web.get(f"{_base(cliente)}{p.pk}/").status_code == 200
    with django_assert_num_queries(5) as lista:
        assert web.get(_base(cliente)).status_code == 200
    grande, _ = plan_con_items(cliente, dentista, dientes=list(range(11, 19)) + list(range(21, 29)))
    g = emitir_presupuesto(actor=recepcionista.user, plan_id=grande.pk)
    with django_assert_num_queries(len(detalle.captured_queries)):
        assert web.get(f"{_base(cliente)}{g.pk}/").status_code == 200
    with django_assert_num_queries(len(lista.captured_queries)):
        assert web.get(_base(cliente)).status_code == 200
