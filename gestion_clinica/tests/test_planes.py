"""Treatment plans' staff screens (issue 17): the dentist's plan page (logged, care team only),
items from findings with one click, an item's edit with typed amounts, "Realizado en esta
atención" on the draft note, reception's billing view (no clinical notes), and the plan page's
queries do not grow with its items."""

import re

import pytest
from django.core.cache import caches
from django.urls import reverse

from ficha.evoluciones import crear_evolucion
from ficha.models import LecturaFicha, Seccion, Via
from ficha.odontograma import Cambio, registrar_cambios
from ficha.tests.conftest import ajeno, dar_cita, paciente_ficha, tratante  # noqa: F401  (pytest fixtures)
from gestion_clinica.tests.conftest import cliente_de
from personal.models import Rol
from prestaciones.models import Prestacion
from pruebas.soporte import huella_bd
from tratamientos.models import EstadoItem, ItemPlan, PlanTratamiento
from tratamientos.planes import agregar_item, crear_plan

pytestmark = pytest.mark.django_db

# Session and user, second factor, the access rule, the read-log row, the header (patient and
# history), the plan, the active prestaciones (the add form), the previous plans, the totals
# (and the items' digest), the findings' key (odontogram and suggestions). When their HTML is
# not in the "ficha" cache: the items (1), and the suggestions, the findings already in the
# plan and the odontogram's state (3).
CONSULTAS_PLAN = 11
SIN_CACHE = 4


@pytest.fixture
def arancel():
    return {
        "resina": Prestacion.objects.create(codigo="OBT-01", nombre="Obturación resina", precio=45000,
                                            duracion_minutos=45, trata_hallazgo="caries"),
        "exodoncia": Prestacion.objects.create(codigo="CIR-01", nombre="Exodoncia simple", precio=55000,
                                               duracion_minutos=45, trata_hallazgo="extraccion"),
        "limpieza": Prestacion.objects.create(codigo="PER-01", nombre="Destartraje", precio=35000,
                                              duracion_minutos=60),
    }


def _texto(respuesta):
    return respuesta.content.decode()


def _url(cliente_id, nombre="gestion:ficha_plan", *args):
    return reverse(nombre, args=[cliente_id, *args])


def test_el_dentista_arma_el_plan_desde_los_hallazgos(paciente_ficha, tratante, arancel):
    c = paciente_ficha.pk
    registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(16, "O", "caries"),
                                                                   Cambio(38, "", "extraccion"),
                                                                   Cambio(11, "", "implante")])
    cliente = cliente_de(tratante.user)
    pagina = _texto(cliente.get(_url(c)))
    assert 'id="crear-plan"' in pagina
    cliente.post(_url(c), {"titulo": "Plan inicial", "observaciones": "Higiene deficiente"})
    plan = PlanTratamiento.objects.get(cliente_id=c)
    antes = LecturaFicha.objects.count()
    pagina = _texto(cliente.get(_url(c)))
    assert LecturaFicha.objects.count() == antes + 1
    lectura = LecturaFicha.objects.order_by("-pk").first()
    assert (lectura.seccion, lectura.via) == (Seccion.PLAN, Via.EQUIPO)
    assert "Higiene deficiente" in pagina and "→ Obturación resina ($45.000)" in pagina
    assert "Sin prestación sugerida" in pagina  # the implant: nothing in this arancel treats it
    assert not re.search(r"<[^>]+\sstyle=", pagina), "CSP: sin atributos style"
    hallazgo = re.search(r'name="hallazgo" value="(\d+)"', pagina).group(1)
    accion = _url(c, "gestion:ficha_plan_accion", plan.pk)
    cliente.post(accion, {"accion": "hallazgo", "hallazgo": hallazgo})
    cliente.post(accion, {"accion": "hallazgo", "hallazgo": hallazgo})  # twice: once
    assert ItemPlan.objects.filter(plan=plan).count() == 1
    cliente.post(accion, {"accion": "todos"})
    assert sorted(ItemPlan.objects.filter(plan=plan).values_list("diente", flat=True)) == [16, 38]
    cliente.post(accion, {"accion": "agregar", "prestacion": arancel["limpieza"].pk, "diente": "", "fase": "2",
                          "descuento": "$5.000"})
    pagina = _texto(cliente.get(_url(c)))
    assert 'id="total-plan">$130.000<' in pagina and "Fase 2" in pagina
    assert 'id="agregar-todos"' not in pagina


@pytest.mark.parametrize("datos, mensaje", [
    ({"descuento": "-1"}, "El monto no puede ser negativo."),
    ({"descuento": "12,5"}, "Escriba el monto en pesos, sin decimales (por ejemplo 12.500)."),
    ({"descuento": "50.000"}, "El descuento no puede ser mayor que el precio."),
    ({"diente": "19"}, "numeración FDI"),
    ({"fase": "10"}, "La fase va de 1 a 9."),
    ({"prestacion": "999999"}, "Elija una prestación del arancel."),
])
def test_agregar_con_datos_malos_dice_por_que_y_no_cambia_nada(paciente_ficha, tratante, arancel, datos, mensaje):
    plan = crear_plan(actor=tratante.user, cliente_id=paciente_ficha.pk)
    cliente = cliente_de(tratante.user)
    antes = huella_bd()
    respuesta = cliente.post(_url(paciente_ficha.pk, "gestion:ficha_plan_accion", plan.pk), {
        "accion": "agregar", "prestacion": arancel["resina"].pk, "diente": "16", "superficie": "O", "fase": "1",
        "descuento": "0", **datos})
    assert respuesta.status_code == 200 and mensaje in _texto(respuesta)
    assert huella_bd() == antes


def test_editar_descuento_y_el_item_aceptado_no_cambia(paciente_ficha, tratante, arancel):
    plan = crear_plan(actor=tratante.user, cliente_id=paciente_ficha.pk)
    item = agregar_item(actor=tratante.user, plan_id=plan.pk, prestacion_id=arancel["resina"].pk, diente=16,
                        superficie="O")
    cliente = cliente_de(tratante.user)
    url = _url(paciente_ficha.pk, "gestion:ficha_plan_item", item.pk)
    assert 'value="$45.000"' in _texto(cliente.get(url))
    respuesta = cliente.post(url, {"accion": "guardar", "precio": "$45.000", "descuento": "$ 5.000", "fase": "2",
                                   "orden": "3"})
    assert respuesta.status_code == 302
    item.refresh_from_db()
    assert (item.descuento, item.total, item.fase, item.orden) == (5000, 40000, 2, 3)
    ItemPlan.objects.filter(pk=item.pk).update(estado=EstadoItem.ACEPTADO, aceptado_en=item.creado)
    antes = huella_bd()
    respuesta = cliente.post(url, {"accion": "guardar", "precio": "1", "descuento": "0", "fase": "1", "orden": "1"})
    assert "ya fue aceptado" in _texto(respuesta)
    assert huella_bd() == antes


def test_realizado_en_esta_atencion_desde_la_nota(paciente_ficha, tratante, arancel):
    c = paciente_ficha.pk
    plan = crear_plan(actor=tratante.user, cliente_id=c)
    item = agregar_item(actor=tratante.user, plan_id=plan.pk, prestacion_id=arancel["limpieza"].pk)
    nota = crear_evolucion(actor=tratante.user, cliente_id=c, texto="Destartraje")
    cliente = cliente_de(tratante.user)
    pagina = _texto(cliente.get(reverse("gestion:ficha_evolucion", args=[c, nota.pk])))
    assert 'id="plan-en-nota"' in pagina and "Destartraje" in pagina
    url = _url(c, "gestion:ficha_plan_item_realizado", item.pk)
    respuesta = cliente.post(url, {"evolucion": nota.pk})
    assert respuesta.url.endswith(f"/evoluciones/{nota.pk}/#plan-en-nota")
    item.refresh_from_db()
    assert (item.estado, item.evolucion_id) == (EstadoItem.REALIZADO, nota.pk)
    antes = huella_bd()
    cliente.post(url, {"evolucion": nota.pk})  # the second click changes nothing
    assert huella_bd() == antes
    pagina = _texto(cliente.get(reverse("gestion:ficha_evolucion", args=[c, nota.pk])))
    assert "Sin ítems pendientes en el plan." in pagina


@pytest.mark.parametrize("rol", [Rol.RECEPCION, Rol.ADMINISTRADOR])
def test_la_vista_de_cobro_sin_notas_clinicas_y_el_plan_clinico_no(paciente_ficha, tratante, arancel,
                                                                    crear_personal, rol):
    c = paciente_ficha.pk
    plan = crear_plan(actor=tratante.user, cliente_id=c, observaciones="Bruxismo severo")
    agregar_item(actor=tratante.user, plan_id=plan.pk, prestacion_id=arancel["resina"].pk, diente=16, superficie="O",
                 descuento=5000)
    cliente = cliente_de(crear_personal(rol=rol).user)
    antes = LecturaFicha.objects.count()
    pagina = _texto(cliente.get(reverse("gestion:paciente_plan", args=[c])))
    assert "Obturación resina" in pagina and "16 O" in pagina and "$40.000" in pagina
    assert "Bruxismo" not in pagina
    assert LecturaFicha.objects.count() == antes  # billing data: not a read of the record
    # From here the desk issues the quote and takes the payment.
    html = cliente.get(reverse("gestion:paciente_plan", args=[c])).content.decode()
    assert reverse("gestion:paciente_presupuesto_emitir", args=[c]) + f"?plan={plan.pk}" in html
    assert reverse("gestion:pago_nuevo", args=[c]) in html
    respuesta = cliente.get(_url(c))
    assert respuesta.status_code == 403 and "Obturación" not in _texto(respuesta)


def test_el_dentista_ve_la_vista_de_cobro_sin_emitir_ni_cobrar(paciente_ficha, tratante, arancel):
    c = paciente_ficha.pk
    plan = crear_plan(actor=tratante.user, cliente_id=c)
    agregar_item(actor=tratante.user, plan_id=plan.pk, prestacion_id=arancel["resina"].pk, diente=16)
    html = cliente_de(tratante.user).get(reverse("gestion:paciente_plan", args=[c])).content.decode()
    assert "$45.000" in html or "Obturación resina" in html
    assert reverse("gestion:paciente_presupuesto_emitir", args=[c]) not in html
    assert reverse("gestion:pago_nuevo", args=[c]) not in html


def test_un_dentista_ajeno_no_ve_ni_escribe_el_plan(paciente_ficha, tratante, ajeno, arancel):
    plan = crear_plan(actor=tratante.user, cliente_id=paciente_ficha.pk)
    cliente = cliente_de(ajeno.user)
    antes = huella_bd()
    assert cliente.get(_url(paciente_ficha.pk)).status_code == 403
    respuesta = cliente.post(_url(paciente_ficha.pk, "gestion:ficha_plan_accion", plan.pk),
                             {"accion": "agregar", "prestacion": arancel["resina"].pk, "fase": "1"})
    assert respuesta.status_code == 403
    assert huella_bd() == antes


@pytest.mark.parametrize("cantidad", [2, 300])
def test_consultas_fijas_del_plan_con_2_o_300_items(paciente_ficha, tratante, arancel, cantidad,
                                                     django_assert_num_queries):
    c = paciente_ficha.pk
    registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(16, "O", "caries"), Cambio(26, "M", "caries")])
    plan = crear_plan(actor=tratante.user, cliente_id=c)
    ItemPlan.objects.bulk_create([
        ItemPlan(plan=plan, prestacion=arancel["resina"], diente=11 + i % 8, superficie="O", fase=1 + i % 3,
                 orden=i, precio=45000, descuento=i % 2 * 1000) for i in range(cantidad)])
    cliente = cliente_de(tratante.user)
    caches["ficha"].clear()
    with django_assert_num_queries(CONSULTAS_PLAN + SIN_CACHE):
        respuesta = cliente.get(_url(c))
    assert _texto(respuesta).count('class="item-plan') == cantidad
    with django_assert_num_queries(CONSULTAS_PLAN):
        respuesta = cliente.get(_url(c))
    assert _texto(respuesta).count('class="item-plan') == cantidad


def test_la_tabla_en_cache_sigue_cada_cambio_por_cualquier_camino(paciente_ficha, tratante, arancel):
    """The items' cached HTML is keyed by PostgreSQL's digest of what it shows: a bulk UPDATE
    that skips the services (and ``actualizado``), or a renamed prestación, is seen at once."""
    c = paciente_ficha.pk
    plan = crear_plan(actor=tratante.user, cliente_id=c)
    item = agregar_item(actor=tratante.user, plan_id=plan.pk, prestacion_id=arancel["resina"].pk, diente=16,
                        superficie="O")
    cliente = cliente_de(tratante.user)
    assert "$45.000" in _texto(cliente.get(_url(c)))
    ItemPlan.objects.filter(pk=item.pk).update(descuento=4000)
    assert 'id="total-plan">$41.000<' in _texto(cliente.get(_url(c)))
    Prestacion.objects.filter(pk=arancel["resina"].pk).update(nombre="Resina compuesta")
    pagina = _texto(cliente.get(_url(c)))
    assert "Resina compuesta" in pagina and "Obturación resina" not in pagina
    ItemPlan.objects.filter(pk=item.pk).update(estado=EstadoItem.ACEPTADO, aceptado_en=item.creado)
    assert "Por realizar" in _texto(cliente.get(reverse("gestion:paciente_plan", args=[c])))
    assert "Por realizar" in _texto(cliente.get(_url(c)))
    # The findings' list: a new mark, a suggestion that changes, an item made from a finding.
    [marca] = registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(38, "", "extraccion")])
    pagina = _texto(cliente.get(_url(c)))
    assert "Diente 38: extracción indicada (hallazgo)" in pagina and "→ Exodoncia simple ($55.000)" in pagina
    Prestacion.objects.filter(pk=arancel["exodoncia"].pk).update(precio=60000)
    assert "→ Exodoncia simple ($60.000)" in _texto(cliente.get(_url(c)))
    ItemPlan.objects.create(plan=plan, prestacion=arancel["exodoncia"], diente=38, hallazgo=marca, precio=60000)
    assert 'name="hallazgo" value="%d"' % marca.pk not in _texto(cliente.get(_url(c)))


def test_un_dentista_ajeno_no_ve_precios_ni_presupuestos_del_paciente(paciente_ficha, tratante, ajeno, arancel,
                                                                      crear_personal):
    """The billing pages of a patient are their care team's for a dentist, like the record:
    plan prices, quotes (list, page, PDF) and the statement."""
    from tratamientos.presupuestos import emitir_presupuesto

    c = paciente_ficha.pk
    plan = crear_plan(actor=tratante.user, cliente_id=c)
    agregar_item(actor=tratante.user, plan_id=plan.pk, prestacion_id=arancel["resina"].pk, diente=36)
    presupuesto = emitir_presupuesto(actor=crear_personal(rol=Rol.RECEPCION).user, plan_id=plan.pk)
    urls = [reverse("gestion:paciente_plan", args=[c]), reverse("gestion:paciente_presupuestos", args=[c]),
            reverse("gestion:paciente_presupuesto", args=[c, presupuesto.pk]),
            reverse("gestion:paciente_presupuesto_pdf", args=[c, presupuesto.pk]),
            reverse("gestion:paciente_estado_cuenta", args=[c])]
    for url in urls:
        respuesta = cliente_de(ajeno.user).get(url)
        assert respuesta.status_code == 403, url
        assert cliente_de(tratante.user).get(url).status_code == 200, url
