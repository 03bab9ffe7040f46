"""Quotes' services: issuing (numbers, lines, totals by PostgreSQL, the notice), new versions,
the patient's answer on the portal or at the desk, and every way to break them: bad input,
someone else's quote, an expired one, a plan that changed, concurrent answers, raw SQL."""

import datetime
import threading

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from citas.tests.test_services import registrar_paciente
from notificaciones.models import Notificacion
from personal.models import Rol
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png
from pruebas.soporte import huella_bd
from tratamientos.models import EstadoItem, EstadoPlan, ItemPlan, PlanTratamiento, Presupuesto
from tratamientos.presupuestos import (
    PLAN_CAMBIO, aceptar_presupuesto, emitir_presupuesto, nueva_version, presupuesto_del_paciente,
    rechazar_presupuesto,
)
from tratamientos.presupuestos_pdf import presupuesto_en_pdf
from tratamientos.tests.fabricas import plan_con_items

CAPTURAS = "/tmp/capturas-presupuestos"


@pytest.fixture
def escena(db, dentista, recepcionista):
    paciente = registrar_paciente(601)
    plan, items = plan_con_items(paciente.cliente, dentista)
    return paciente, plan, items


def _emitir(recepcionista, plan, **kw):
    return emitir_presupuesto(actor=recepcionista.user, plan_id=plan.pk, **kw)


def _codigo(excinfo):
    return excinfo.value.code


def test_emitir_copia_lineas_y_totales_de_la_base(escena, recepcionista):
    paciente, plan, items = escena
    p = _emitir(recepcionista, plan)
    assert (p.numero, p.version, p.estado) == (1, 1, "emitido")
    assert (p.subtotal, p.descuento, p.total) == (120000, 5000, 115000)
    assert p.valido_hasta == timezone.localdate() + datetime.timedelta(days=30)
    lineas = list(p.lineas.order_by("fase", "pk").values_list("descripcion", "fase", "precio", "descuento", "total"))
    assert lineas == [("Obturación resina · diente 16 O", 1, 45000, 5000, 40000),
                      ("Obturación resina · diente 26 O", 1, 45000, 0, 45000),
                      ("Limpieza dental", 2, 30000, 0, 30000)]
    # The patient is told, with the portal's link to this quote.
    aviso = Notificacion.objects.get(plantilla="presupuesto_emitido", canal="email")
    assert aviso.destinatario == paciente.cliente.email
    assert "Tiene un presupuesto nuevo" in aviso.cuerpo and f"/portal/cuenta/presupuestos/{p.pk}/" in aviso.cuerpo
    assert "$115.000" in aviso.cuerpo
    # Items stay proposed until the patient answers.
    assert set(ItemPlan.objects.values_list("estado", flat=True)) == {EstadoItem.PROPUESTO}


def test_emitir_con_items_elegidos_y_numeros_consecutivos(escena, recepcionista):
    _, plan, items = escena
    en_200 = timezone.localdate() + datetime.timedelta(days=200)
    p1 = _emitir(recepcionista, plan, item_ids=[str(items[0].pk)], valido_hasta=en_200.isoformat())
    assert p1.valido_hasta == en_200
    assert p1.numero == 1 and p1.total == 40000
    hoy = timezone.localdate()
    p2 = _emitir(recepcionista, plan, item_ids=[items[1].pk, items[2].pk], valido_hasta=hoy)
    assert p2.numero == 2 and p2.total == 75000 and p2.valido_hasta == hoy


@pytest.mark.parametrize("cambios, codigo", [
    ({"item_ids": []}, "sin_items"),
    ({"item_ids": ["abc"]}, "item_ajeno"),
    ({"item_ids": [2**70]}, "item_ajeno"),
    ({"item_ids": [987654321]}, "item_ajeno"),
    ({"valido_hasta": "31/02/2026"}, "fecha_invalida"),
    ({"valido_hasta": "mañana"}, "fecha_invalida"),
    ({"valido_hasta": datetime.date(2000, 1, 1)}, "validez_pasada"),
    ({"valido_hasta": "2999-01-01"}, "validez_larga"),
    ({"observaciones": "x" * 501}, "texto_largo"),
])
def test_entrada_mala_no_cambia_nada(escena, recepcionista, cambios, codigo):
    _, plan, _ = escena
    antes = huella_bd()
    with pytest.raises(ValidationError) as excinfo:
        _emitir(recepcionista, plan, **cambios)
    assert _codigo(excinfo) == codigo and excinfo.value.messages[0][0].isupper()
    assert huella_bd() == antes


def test_items_de_otro_plan_no_aceptados_o_sin_permiso(escena, recepcionista, dentista):
    paciente, plan, items = escena
    otro = registrar_paciente(602)
    otro_plan, otros_items = plan_con_items(otro.cliente, dentista)
    antes = huella_bd()
    with pytest.raises(ValidationError, match="no es de este plan"):
        _emitir(recepcionista, plan, item_ids=[items[0].pk, otros_items[0].pk])
    # A dentist writes plans; the quote is reception's (or administration's).
    with pytest.raises(ValidationError) as excinfo:
        emitir_presupuesto(actor=dentista.user, plan_id=plan.pk)
    assert _codigo(excinfo) == "sin_permiso"
    with pytest.raises(ValidationError) as excinfo:
        emitir_presupuesto(actor=paciente, plan_id=plan.pk)
    assert _codigo(excinfo) == "sin_permiso"
    with pytest.raises(type(plan).DoesNotExist):
        _emitir(recepcionista, type(plan)(pk=987654321))
    assert huella_bd() == antes
    ItemPlan.objects.filter(pk=items[0].pk).update(estado=EstadoItem.CANCELADO)
    antes = huella_bd()
    with pytest.raises(ValidationError) as excinfo:
        _emitir(recepcionista, plan, item_ids=[items[0].pk])
    assert _codigo(excinfo) == "item_no_propuesto"
    assert huella_bd() == antes


def test_total_que_no_cabe_se_rechaza_con_mensaje(escena, recepcionista, dentista):
    paciente, _, _ = escena
    plan, _ = plan_con_items(paciente.cliente, dentista, dientes=list(range(11, 18)) + list(range(21, 28)) +
                             list(range(31, 38)) + list(range(41, 48)), precio=100_000_000, descuento_16=0)
    antes = huella_bd()
    with pytest.raises(ValidationError) as excinfo:
        _emitir(recepcionista, plan)
    assert _codigo(excinfo) == "total_excesivo"
    assert huella_bd() == antes


def test_aceptar_en_el_portal_fija_precios_y_deja_items_por_realizar(escena, recepcionista):
    paciente, plan, items = escena
    p = _emitir(recepcionista, plan)
    # The dentist changes a proposed item's price after the quote: the quote's price wins.
    ItemPlan.objects.filter(pk=items[1].pk).update(precio=99000)
    p = aceptar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="portal")
    assert (p.estado, p.via, p.respondido_por_id) == ("aceptado", "portal", paciente.pk)
    assert p.respondido_en is not None
    filas = {i.pk: i for i in ItemPlan.objects.all()}
    assert all(i.estado == EstadoItem.ACEPTADO and i.aceptado_en for i in filas.values())
    assert filas[items[1].pk].precio == 45000 and filas[items[0].pk].descuento == 5000


def test_solo_el_paciente_dueno_acepta_en_el_portal(escena, recepcionista, dentista):
    paciente, plan, _ = escena
    p = _emitir(recepcionista, plan)
    otro = registrar_paciente(603)
    antes = huella_bd()
    with pytest.raises(Presupuesto.DoesNotExist):
        aceptar_presupuesto(actor=otro, presupuesto_id=p.pk, via="portal")
    with pytest.raises(Presupuesto.DoesNotExist):
        aceptar_presupuesto(actor=paciente, presupuesto_id="1; DROP", via="portal")
    with pytest.raises(ValidationError) as excinfo:  # a dentist does not record answers at the desk
        aceptar_presupuesto(actor=dentista.user, presupuesto_id=p.pk, via="recepcion")
    assert _codigo(excinfo) == "sin_permiso"
    with pytest.raises(ValidationError) as excinfo:
        aceptar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="telefono")
    assert _codigo(excinfo) == "via_invalida"
    assert huella_bd() == antes


def test_vencido_no_se_acepta(escena, recepcionista):
    paciente, plan, _ = escena
    p = _emitir(recepcionista, plan, valido_hasta=timezone.localdate())
    # The quote's dates never change: the clock moves on instead (the deadline is in Santiago).
    with pgtrigger.ignore("tratamientos.Presupuesto:presupuesto_emitido_inmutable"):
        Presupuesto.objects.filter(pk=p.pk).update(valido_hasta=p.valido_hasta - datetime.timedelta(days=1))
    antes = huella_bd()
    with pytest.raises(ValidationError, match="venció") as excinfo:
        aceptar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="portal")
    assert _codigo(excinfo) == "vencido"
    assert huella_bd() == antes


def test_no_se_acepta_si_el_plan_se_anulo(escena, recepcionista, dentista):
    """A quote left open on a plan the dentist annulled: accepting it would make pending work no
    one can ever mark done, and a payment with nowhere to go."""
    paciente, plan, _ = escena
    p = _emitir(recepcionista, plan)
    PlanTratamiento.objects.filter(pk=plan.pk).update(estado=EstadoPlan.ANULADO)  # as cerrar_plan leaves it
    antes = huella_bd()
    with pytest.raises(ValidationError) as excinfo:
        aceptar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="portal")
    assert _codigo(excinfo) == "plan_cerrado"
    assert huella_bd() == antes


def test_plan_cambiado_no_se_acepta_a_medias(escena, recepcionista, dentista):
    paciente, plan, items = escena
    p = _emitir(recepcionista, plan)
    ItemPlan.objects.filter(pk=items[2].pk).update(estado=EstadoItem.CANCELADO)
    antes = huella_bd()
    with pytest.raises(ValidationError) as excinfo:
        aceptar_presupuesto(actor=recepcionista.user, presupuesto_id=p.pk, via="recepcion")
    assert str(excinfo.value.messages[0]) == PLAN_CAMBIO
    assert huella_bd() == antes


def test_rechazar_y_no_dos_respuestas(escena, recepcionista):
    paciente, plan, _ = escena
    p = _emitir(recepcionista, plan)
    p = rechazar_presupuesto(actor=recepcionista.user, presupuesto_id=p.pk, via="recepcion", motivo="  Muy caro ")
    assert (p.estado, p.motivo_rechazo, p.respondido_por_id) == ("rechazado", "Muy caro", recepcionista.user.pk)
    antes = huella_bd()
    with pytest.raises(ValidationError) as excinfo:
        aceptar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="portal")
    assert _codigo(excinfo) == "ya_rechazado"
    with pytest.raises(ValidationError) as excinfo:
        rechazar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="portal", motivo="x" * 301)
    assert _codigo(excinfo) == "texto_largo"
    assert huella_bd() == antes
    assert set(ItemPlan.objects.values_list("estado", flat=True)) == {EstadoItem.PROPUESTO}


def test_nueva_version_reemplaza_la_anterior(escena, recepcionista):
    paciente, plan, items = escena
    p1 = _emitir(recepcionista, plan, item_ids=[items[0].pk])
    ItemPlan.objects.filter(pk=items[0].pk).update(precio=50000)
    p2 = nueva_version(actor=recepcionista.user, presupuesto_id=p1.pk)
    assert (p2.numero, p2.version, p2.folio) == (p1.numero, 2, f"N° {p1.numero}-2")
    assert p2.subtotal == 50000 + 45000 + 30000  # the plan's current proposed items
    p1.refresh_from_db()
    assert p1.estado == "reemplazado"
    assert presupuesto_del_paciente(cliente_id=paciente.cliente.pk, presupuesto_id=p1.pk).reemplazo.pk == p2.pk
    antes = huella_bd()
    for codigo, accion in [
        ("reemplazado", lambda: aceptar_presupuesto(actor=paciente, presupuesto_id=p1.pk, via="portal")),
        ("reemplazado", lambda: nueva_version(actor=recepcionista.user, presupuesto_id=p1.pk)),
    ]:
        with pytest.raises(ValidationError) as excinfo:
            accion()
        assert _codigo(excinfo) == codigo
    assert huella_bd() == antes
    aceptar_presupuesto(actor=paciente, presupuesto_id=p2.pk, via="portal")
    with pytest.raises(ValidationError) as excinfo:
        nueva_version(actor=recepcionista.user, presupuesto_id=p2.pk)
    assert _codigo(excinfo) == "ya_aceptado"
    assert Notificacion.objects.filter(plantilla="presupuesto_emitido", canal="email").count() == 2


@pytest.mark.django_db(transaction=True)
def test_sql_directo_no_cambia_un_presupuesto_emitido(escena, recepcionista):
    _, plan, items = escena
    p = _emitir(recepcionista, plan)
    linea = p.lineas.first()
    for sql, args in [
        ("UPDATE tratamientos_presupuesto SET subtotal = 1, descuento = 0 WHERE id = %s", [p.pk]),
        ("UPDATE tratamientos_presupuesto SET valido_hasta = '2099-12-31' WHERE id = %s", [p.pk]),
        ("UPDATE tratamientos_presupuesto SET estado = 'aceptado', via = 'portal', subtotal = 1, descuento = 0 "
         "WHERE id = %s", [p.pk]),
        ("DELETE FROM tratamientos_presupuesto WHERE id = %s", [p.pk]),
        ("UPDATE tratamientos_itempresupuesto SET precio = 1 WHERE id = %s", [linea.pk]),
        ("DELETE FROM tratamientos_itempresupuesto WHERE id = %s", [linea.pk]),
        ("INSERT INTO tratamientos_itempresupuesto (presupuesto_id, item_plan_id, prestacion_id, descripcion, fase, "
         "precio, descuento) VALUES (%s, %s, %s, 'x', 1, 0, 0)", [p.pk, items[0].pk, items[0].prestacion_id]),
    ]:
        antes = huella_bd()
        with pytest.raises(IntegrityError, match="ya fue emitido"):
            with transaction.atomic(), connection.cursor() as c:
                c.execute(sql, args)
        assert huella_bd() == antes, sql


@pytest.mark.django_db(transaction=True)
def test_total_diferido_no_deja_confirmar_un_presupuesto_que_no_cuadra(escena, recepcionista):
    """Whatever writes a quote (here raw SQL, bypassing the service), its totals are the sums of
    its lines at commit, or nothing is kept."""
    _, plan, items = escena
    antes = huella_bd()
    with pytest.raises(IntegrityError, match="no cuadra"):
        with transaction.atomic(), connection.cursor() as c:
            c.execute("INSERT INTO tratamientos_presupuesto (plan_id, cliente_id, numero, version, emitido_en, "
                      "emitido_por_id, valido_hasta, subtotal, descuento, estado, via, motivo_rechazo, observaciones) "
                      "VALUES (%s, %s, 77, 1, now(), %s, '2099-01-01', 10, 0, 'emitido', '', '', '') RETURNING id",
                      [plan.pk, plan.cliente_id, recepcionista.user.pk])
            pid = c.fetchone()[0]
            c.execute("INSERT INTO tratamientos_itempresupuesto (presupuesto_id, item_plan_id, prestacion_id, "
                      "descripcion, fase, precio, descuento) VALUES (%s, %s, %s, 'x', 1, 45000, 0)",
                      [pid, items[1].pk, items[1].prestacion_id])
    assert huella_bd() == antes


def _en_hilos(*acciones):
    """Run each action in its own thread, all released together; returns (results, errors)."""
    barrera = threading.Barrier(len(acciones))
    resultados, errores = [], []

    def correr(accion):
        try:
            barrera.wait()
            resultados.append(accion())
        except ValidationError as error:
            errores.append(error)
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr, args=(a,)) for a in acciones]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    return resultados, errores


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("vuelta", range(3))
def test_portal_y_recepcion_aceptan_a_la_vez_gana_uno(escena, recepcionista, vuelta):
    paciente, plan, _ = escena
    p = _emitir(recepcionista, plan)
    resultados, errores = _en_hilos(
        lambda: aceptar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="portal"),
        lambda: aceptar_presupuesto(actor=recepcionista.user, presupuesto_id=p.pk, via="recepcion"),
    )
    assert len(resultados) == 1 and len(errores) == 1
    assert errores[0].code == "ya_aceptado" and "ya fue aceptado" in errores[0].messages[0]
    p.refresh_from_db()
    assert p.estado == "aceptado" and p.via == resultados[0].via
    # Each item accepted once (one history row each for the change to "aceptado").
    assert ItemPlan.objects.filter(estado=EstadoItem.ACEPTADO).count() == 3
    eventos = ItemPlan.pgh_event_model.objects.filter(estado=EstadoItem.ACEPTADO, pgh_label="update")
    assert eventos.count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("vuelta", range(3))
def test_aceptar_y_nueva_version_a_la_vez_estado_consistente(escena, recepcionista, vuelta):
    paciente, plan, _ = escena
    p = _emitir(recepcionista, plan)
    resultados, errores = _en_hilos(
        lambda: aceptar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="portal"),
        lambda: nueva_version(actor=recepcionista.user, presupuesto_id=p.pk),
    )
    assert len(resultados) == 1 and len(errores) == 1
    p.refresh_from_db()
    if p.estado == "aceptado":  # the patient won: no version 2, items accepted
        assert errores[0].code == "ya_aceptado"
        assert not Presupuesto.objects.filter(version=2).exists()
        assert ItemPlan.objects.filter(estado=EstadoItem.ACEPTADO).count() == 3
    else:  # the new version won: the patient is told, nothing accepted
        assert p.estado == "reemplazado" and errores[0].code == "reemplazado"
        assert Presupuesto.objects.get(version=2).estado == "emitido"
        assert not ItemPlan.objects.filter(estado=EstadoItem.ACEPTADO).exists()


@pytest.mark.django_db(transaction=True)
def test_dos_emisiones_a_la_vez_tienen_numeros_distintos(escena, recepcionista, crear_personal, dentista):
    paciente, plan, _ = escena
    otro = registrar_paciente(604)
    otro_plan, _ = plan_con_items(otro.cliente, dentista)
    admin = crear_personal(rol=Rol.ADMINISTRADOR)
    resultados, errores = _en_hilos(
        lambda: emitir_presupuesto(actor=recepcionista.user, plan_id=plan.pk),
        lambda: emitir_presupuesto(actor=admin.user, plan_id=otro_plan.pk),
        lambda: emitir_presupuesto(actor=recepcionista.user, plan_id=otro_plan.pk),
    )
    assert not errores
    assert sorted(r.numero for r in resultados) == [1, 2, 3]


def test_pdf_del_presupuesto(escena, recepcionista, settings):
    paciente, plan, items = escena
    p1 = _emitir(recepcionista, plan, observaciones="Incluye control a los 6 meses.")
    p2 = nueva_version(actor=recepcionista.user, presupuesto_id=p1.pk)
    aceptar_presupuesto(actor=paciente, presupuesto_id=p2.pk, via="portal")
    for p, nombre, estado in [(p1, "presupuesto-reemplazado", f"REEMPLAZADO POR N° {p1.numero}-2"),
                              (p2, "presupuesto-aceptado", "ACEPTADO el")]:
        leido_p = presupuesto_del_paciente(cliente_id=paciente.cliente.pk, presupuesto_id=p.pk)
        contenido = presupuesto_en_pdf(leido_p, generado_para="Pedro Rojas (Recepción)")
        leido = leer_pdf(contenido)
        for frase in (f"Presupuesto {leido_p.folio}", paciente.cliente.nombre_completo, "Camila Soto",
                      "Obturación resina · diente 16 O", "$40.000", "$115.000", estado, "Fase 2",
                      "Válido hasta", settings.CLINICA_NOMBRE):
            assert leido.contiene(frase), (nombre, frase)
        assert caracteres_fuera(contenido) == 0
        pdf_a_png(contenido, CAPTURAS, nombre)
    assert leido.contiene("en el portal")


def test_una_falla_tras_cualquier_escritura_no_deja_nada(escena, recepcionista, probar_fallas):
    """Issuing writes the counter, the quote, its lines and the notice: a crash after any of
    them leaves the database as it was."""
    paciente, plan, _ = escena
    assert probar_fallas(lambda: emitir_presupuesto(actor=recepcionista.user, plan_id=plan.pk)) >= 3
    p = Presupuesto.objects.get()
    assert probar_fallas(lambda: aceptar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="portal")) >= 2


def test_consultas_fijas_de_la_pagina_del_portal(escena, recepcionista, django_assert_num_queries):
    """The portal's quote page reads the same number of queries whatever the number of lines."""
    from cliente_web.tests.conftest import cliente_de
    from tratamientos.tests.fabricas import plan_con_items as otro_plan

    paciente, plan, _ = escena
    p = _emitir(recepcionista, plan)
    grande, _ = otro_plan(paciente.cliente, plan.dentista, dientes=list(range(11, 19)) + list(range(21, 29)))
    g = _emitir(recepcionista, grande)
    web = cliente_de(paciente)
    web.get("/portal/")
    with django_assert_num_queries(4) as chico:  # login and patient, the quote, its lines: none per line
        assert web.get(f"/portal/cuenta/presupuestos/{p.pk}/").status_code == 200
    with django_assert_num_queries(len(chico.captured_queries)):
        assert web.get(f"/portal/cuenta/presupuestos/{g.pk}/").status_code == 200


def test_cada_cambio_queda_auditado_con_quien_y_servicio(escena, recepcionista):
    paciente, plan, items = escena
    p = _emitir(recepcionista, plan)
    aceptar_presupuesto(actor=paciente, presupuesto_id=p.pk, via="portal")
    eventos = Presupuesto.pgh_event_model.objects.filter(pgh_obj_id=p.pk).select_related("pgh_context")
    emision = eventos.get(pgh_label="insert")
    assert emision.pgh_context.metadata["servicio"] == "emitir_presupuesto"
    assert emision.pgh_context.metadata["user"] == recepcionista.user.pk
    respuesta = eventos.get(pgh_label="update")
    assert (respuesta.estado, respuesta.pgh_context.metadata["servicio"]) == ("aceptado", "aceptar_presupuesto")
    assert respuesta.pgh_context.metadata["user"] == paciente.pk
    item = ItemPlan.pgh_event_model.objects.filter(pgh_obj_id=items[0].pk, pgh_label="update").select_related(
        "pgh_context").get()
    assert (item.estado, item.pgh_context.metadata["servicio"]) == ("aceptado", "aceptar_presupuesto")
