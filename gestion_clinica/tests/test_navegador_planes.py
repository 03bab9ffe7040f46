"""In a real browser at 1280 px: a dentist opens a patient with odontogram findings, builds the
treatment plan from them with one click each, edits a discount, and on a draft note marks an
item done; reception sees the billing view. Screenshots go to /tmp/capturas-planes/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from ficha.evoluciones import crear_evolucion
from ficha.odontograma import Cambio, registrar_cambios
from ficha.tests.conftest import dar_cita, paciente_ficha  # noqa: F401  (pytest fixtures)
from personal.models import Perfil, Rol
from prestaciones.models import Prestacion
from tratamientos.models import EstadoItem, ItemPlan

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.navegador]

CAPTURAS = Path("/tmp/capturas-planes")


def test_dentista_arma_el_plan_desde_el_odontograma(page, live_server, errores_de_consola, entrar_a_gestion,
                                                   crear_personal, paciente_ficha, dar_cita):
    CAPTURAS.mkdir(parents=True, exist_ok=True)

    def captura(nombre):
        page.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 800})
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    dar_cita(dentista, paciente_ficha, dias=-30)
    Prestacion.objects.create(codigo="OPE-01", nombre="Obturación de resina compuesta", precio=45000,
                              duracion_minutos=45, trata_hallazgo="caries")
    Prestacion.objects.create(codigo="CIR-01", nombre="Exodoncia simple", precio=55000, duracion_minutos=45,
                              trata_hallazgo="extraccion")
    Prestacion.objects.create(codigo="PER-01", nombre="Limpieza: destartraje y profilaxis", precio=35000,
                              duracion_minutos=60)
    registrar_cambios(actor=dentista.user, cliente_id=paciente_ficha.pk, cambios=[
        Cambio(16, "O", "caries"), Cambio(26, "M", "caries"), Cambio(38, "", "extraccion")])

    entrar_a_gestion(dentista)
    page.goto(f"{live_server.url}/gestion/pacientes/{paciente_ficha.pk}/ficha/")
    page.get_by_role("link", name="Plan de tratamiento").click()
    page.get_by_label("Observaciones clínicas (opcional)").fill("Alto riesgo de caries: reforzar higiene.")
    page.get_by_role("button", name="Crear plan").click()
    expect(page.get_by_role("status").filter(has_text="Plan creado.")).to_be_visible()
    captura("1-plan-vacio-con-hallazgos")

    # One click per finding, then "agregar todos" for the rest.
    page.get_by_role("button", name="Agregar al plan: Diente 16, cara oclusal: caries (hallazgo)").click()
    expect(page.get_by_role("status").filter(has_text="Hallazgo agregado al plan.")).to_be_visible()
    page.get_by_role("button", name="Agregar todos al plan").click()
    expect(page.get_by_role("status").filter(has_text="2 hallazgos agregados al plan.")).to_be_visible()
    expect(page.locator("tr.item-plan")).to_have_count(3)
    expect(page.locator("#total-plan")).to_have_text("$145.000")

    # A cleaning by hand, in phase 2, with a typed discount.
    agregar = page.locator("#form-agregar")
    agregar.get_by_label("Prestación").select_option(label="PER-01 · Limpieza: destartraje y profilaxis ($35.000)")
    agregar.get_by_label("Fase", exact=True).select_option("2")
    agregar.get_by_label("Descuento").fill("$5.000")
    agregar.get_by_role("button", name="Agregar al plan").click()
    expect(page.locator("#total-plan")).to_have_text("$175.000")
    captura("2-plan-con-items")

    # Edit the discount of the first filling; a wrong amount says why first.
    page.get_by_role("link", name="Editar ítem 1 de la fase 1").click()
    page.get_by_label("Descuento").fill("50.000")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("El descuento no puede ser mayor que el precio.")).to_be_visible()
    captura("3-descuento-mayor-que-el-precio")
    page.get_by_label("Descuento").fill("$ 10.000")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status").filter(has_text="Ítem guardado.")).to_be_visible()
    expect(page.locator("#total-plan")).to_have_text("$165.000")
    captura("4-plan-con-descuento")

    # On today's draft note, mark the filling of 16 done: the plan and the odontogram follow.
    nota = crear_evolucion(actor=dentista.user, cliente_id=paciente_ficha.pk, procedimiento="Resina 16 O")
    page.goto(f"{live_server.url}/gestion/pacientes/{paciente_ficha.pk}/ficha/evoluciones/{nota.pk}/")
    boton = page.get_by_role("button", name="Realizado en esta atención: Obturación de resina compuesta, diente 16")
    boton.scroll_into_view_if_needed()
    captura("5-nota-con-el-plan")
    boton.click()
    expect(page.get_by_role("status").filter(has_text="Realizado en esta atención: Obturación")).to_be_visible()
    expect(page.locator("#marcas-de-la-nota")).to_contain_text("Diente 16, cara oclusal: caries (realizado)")
    captura("6-nota-item-realizado")
    item = ItemPlan.objects.get(diente=16)
    assert (item.estado, item.evolucion_id) == (EstadoItem.REALIZADO, nota.pk)
    page.goto(f"{live_server.url}/gestion/pacientes/{paciente_ficha.pk}/ficha/plan/")
    expect(page.locator("#total-realizado")).to_have_text("$35.000")
    expect(page.locator("#item-%d" % item.pk)).to_contain_text("Realizado")
    captura("7-plan-con-realizado")

    # Reception: the billing view, without the clinical observations.
    recepcion = crear_personal(rol=Rol.RECEPCION, username="recepcion", nombre="Pedro", apellido="Rojas")
    page.context.clear_cookies()
    entrar_a_gestion(recepcion)
    page.goto(f"{live_server.url}/gestion/pacientes/{paciente_ficha.pk}/")
    page.get_by_role("link", name="Plan y cobro").click()
    expect(page.locator("#total-plan")).to_have_text("$165.000")
    expect(page.get_by_text("Alto riesgo de caries")).to_have_count(0)
    captura("8-recepcion-vista-de-cobro")


def test_administracion_mantiene_el_arancel(page, live_server, errores_de_consola, entrar_a_gestion, crear_personal):
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    admin = crear_personal(rol=Rol.ADMINISTRADOR, username="admin.arancel", nombre="Carolina", apellido="Fuentealba")
    soto = crear_personal(rol=Rol.DENTISTA, username="dra.soto", nombre="Camila", apellido="Soto")
    munoz = crear_personal(rol=Rol.DENTISTA, username="dr.munoz", nombre="Matías", apellido="Muñoz")
    Perfil.objects.filter(pk=munoz.pk).update(especialidad="Endodoncia")
    Prestacion.objects.create(codigo="EVA-01", nombre="Evaluación y diagnóstico", precio=20000, duracion_minutos=30,
                              reservable_en_linea=True)
    entrar_a_gestion(admin)
    page.get_by_role("link", name="Arancel").click()
    page.get_by_role("link", name="Nueva prestación").click()
    page.get_by_label("Código").fill("end-01")
    page.get_by_label("Nombre").fill("Endodoncia unirradicular")
    page.get_by_label("Especialidad").fill("Endodoncia")
    page.get_by_label("Duración (minutos)").fill("90")
    page.get_by_label("Precio").fill("180.000,5")
    page.get_by_label("Trata el hallazgo del odontograma").select_option("endodoncia")
    page.get_by_label("Matías Muñoz · Endodoncia").check()
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("Escriba el monto en pesos, sin decimales (por ejemplo 12.500).")).to_be_visible()
    page.screenshot(path=str(CAPTURAS / "9-arancel-precio-con-decimales.png"), full_page=True)
    page.get_by_label("Precio").fill("$180.000")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status").filter(has_text="Prestación END-01 creada.")).to_be_visible()
    fila = page.locator("#lista-prestaciones tr", has_text="END-01")
    expect(fila).to_contain_text("$180.000")
    expect(fila).to_contain_text("Matías Muñoz")
    page.locator("#lista-prestaciones tr", has_text="EVA-01").get_by_role("button", name="Desactivar").click()
    expect(page.get_by_role("status").filter(has_text="EVA-01 desactivada")).to_be_visible()
    page.screenshot(path=str(CAPTURAS / "10-arancel-lista.png"), full_page=True)
    assert not Prestacion.objects.get(codigo="EVA-01").reservable_en_linea
    assert list(Prestacion.objects.get(codigo="END-01").dentistas.values_list("pk", flat=True)) == [munoz.pk]
    assert soto.pk not in Prestacion.objects.get(codigo="END-01").dentistas.values_list("pk", flat=True)
