"""Treatment plans' services: who writes, bad input changes nothing, the item state rules, the
trigger ``item_plan_fijo`` (ORM and raw SQL), items from odontogram findings, and marking done
twice at once."""

import threading

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from ficha.evoluciones import crear_evolucion
from ficha.models import AccesoFicha, Condicion
from ficha.odontograma import estado_en, registrar_cambios
from pacientes.models import Cliente
from personal.models import Rol
from prestaciones.models import Prestacion
from pruebas.soporte import huella_bd
from tratamientos.models import EstadoItem, EstadoPlan, ItemPlan
from tratamientos.planes import (
    agregar_desde_hallazgos, agregar_item, cancelar_item, cerrar_plan, crear_plan, editar_item, hallazgos_para_el_plan,
    marcar_realizado, quitar_item, totales_del_plan,
)


def _escena(crear_personal):
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.planes", nombre="Camila", apellido="Soto")
    otro = crear_personal(rol=Rol.DENTISTA, username="dr.fuera", nombre="Luis", apellido="Muñoz")
    cliente = Cliente.objects.create(nombre_completo="Ana Pérez", email="ana.planes@correo.example")
    AccesoFicha.objects.create(cliente=cliente, dentista=dentista, motivo="Tratamiento")
    resina = Prestacion.objects.create(codigo="OBT-01", nombre="Obturación resina", precio=45000,
                                       duracion_minutos=45, trata_hallazgo="caries")
    exodoncia = Prestacion.objects.create(codigo="EXO-01", nombre="Exodoncia simple", precio=60000,
                                          duracion_minutos=45, trata_hallazgo="extraccion")
    limpieza = Prestacion.objects.create(codigo="PER-01", nombre="Destartraje", precio=35000, duracion_minutos=60)
    return dentista, otro, cliente, {"resina": resina, "exodoncia": exodoncia, "limpieza": limpieza}


@pytest.fixture
def escena(crear_personal):
    return _escena(crear_personal)


@pytest.mark.django_db
def test_plan_desde_hallazgos_y_totales_en_la_base(escena):
    dentista, _, cliente, p = escena
    marcas = registrar_cambios(actor=dentista.user, cliente_id=cliente.pk, cambios=[
        {"diente": 16, "superficie": "O", "estado": "caries"}, {"diente": 38, "estado": "extraccion"}])
    plan = crear_plan(actor=dentista.user, cliente_id=cliente.pk)
    [uno] = agregar_desde_hallazgos(actor=dentista.user, plan_id=plan.pk, hallazgo_ids=[marcas[0].pk])
    assert (uno.prestacion, uno.diente, uno.superficie, uno.hallazgo_id, uno.precio) == (
        p["resina"], 16, "O", marcas[0].pk, 45000)
    # A second click on the same finding adds nothing; "agregar todos" adds only the rest.
    assert agregar_desde_hallazgos(actor=dentista.user, plan_id=plan.pk, hallazgo_ids=[marcas[0].pk]) == []
    todos = [m.pk for m, s, ya in hallazgos_para_el_plan(cliente.pk, plan.pk) if s and not ya]
    [dos] = agregar_desde_hallazgos(actor=dentista.user, plan_id=plan.pk, hallazgo_ids=todos)
    tres = agregar_item(actor=dentista.user, plan_id=plan.pk, prestacion_id=p["limpieza"].pk, fase=2, descuento=5000)
    editar_item(actor=dentista.user, item_id=uno.pk, precio=40000, descuento=2500, fase=1, orden=7)
    t = totales_del_plan(plan.pk)
    assert (t.propuesto, t.plan, t.items) == (37500 + 60000 + 30000, 127500, 3)
    assert (t.por_fase[1].propuesto, t.por_fase[2].propuesto) == (97500, 30000)
    assert dos.diente == 38 and tres.diente is None


@pytest.mark.django_db
@pytest.mark.parametrize("llamada, codigo", [
    (lambda a, plan, p, i: agregar_item(actor=a, plan_id=plan.pk, prestacion_id=p["resina"].pk, diente=19), "diente_invalido"),
    (lambda a, plan, p, i: agregar_item(actor=a, plan_id=plan.pk, prestacion_id=p["resina"].pk, superficie="O"),
     "superficie_invalida"),
    (lambda a, plan, p, i: agregar_item(actor=a, plan_id=plan.pk, prestacion_id=p["resina"].pk, fase=10), "fase_invalida"),
    (lambda a, plan, p, i: agregar_item(actor=a, plan_id=plan.pk, prestacion_id=p["resina"].pk, descuento=-1),
     "descuento_invalido"),
    (lambda a, plan, p, i: agregar_item(actor=a, plan_id=plan.pk, prestacion_id=p["resina"].pk, descuento=45001),
     "descuento_invalido"),
    (lambda a, plan, p, i: agregar_item(actor=a, plan_id=plan.pk, prestacion_id=10**12), "prestacion_invalida"),
    (lambda a, plan, p, i: editar_item(actor=a, item_id=i.pk, precio=100_000_001, descuento=0, fase=1, orden=1),
     "precio_invalido"),
    (lambda a, plan, p, i: editar_item(actor=a, item_id=i.pk, precio=1000, descuento=2000, fase=1, orden=1),
     "descuento_invalido"),
    (lambda a, plan, p, i: editar_item(actor=a, item_id=i.pk, precio=1000, descuento=0, fase=1, orden=-3),
     "orden_invalido"),
    (lambda a, plan, p, i: agregar_desde_hallazgos(actor=a, plan_id=plan.pk, hallazgo_ids=["x"]), "hallazgo_invalido"),
    (lambda a, plan, p, i: agregar_desde_hallazgos(actor=a, plan_id=plan.pk, hallazgo_ids=[10**12]),
     "hallazgo_invalido"),
    (lambda a, plan, p, i: cancelar_item(actor=a, item_id=i.pk), "item_no_cancelable"),
    (lambda a, plan, p, i: cerrar_plan(actor=a, plan_id=plan.pk, estado="borrado"), "estado_invalido"),
    (lambda a, plan, p, i: marcar_realizado(actor=a, item_id=i.pk, evolucion_id=10**12), "evolucion_invalida"),
])
def test_entrada_mala_mensaje_en_castellano_y_nada_cambia(escena, llamada, codigo):
    dentista, _, cliente, p = escena
    plan = crear_plan(actor=dentista.user, cliente_id=cliente.pk)
    item = agregar_item(actor=dentista.user, plan_id=plan.pk, prestacion_id=p["resina"].pk, diente=16, superficie="O")
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        llamada(dentista.user, plan, p, item)
    errores = error.value.error_dict.values() if hasattr(error.value, "error_dict") else [error.value.error_list]
    codigos = [e.code for lista in errores for e in lista]
    assert codigos == [codigo]
    assert all(m and m[0].isupper() for m in error.value.messages)
    assert huella_bd() == antes


@pytest.mark.django_db
def test_solo_el_equipo_de_cuidado_escribe_el_plan(escena, recepcionista):
    dentista, otro, cliente, p = escena
    plan = crear_plan(actor=dentista.user, cliente_id=cliente.pk)
    antes = huella_bd()
    for actor in (otro.user, recepcionista.user):
        with pytest.raises(ValidationError) as error:
            agregar_item(actor=actor, plan_id=plan.pk, prestacion_id=p["resina"].pk)
        assert error.value.code == "sin_acceso"
        with pytest.raises(ValidationError):
            crear_plan(actor=actor, cliente_id=cliente.pk)
    assert huella_bd() == antes


@pytest.mark.django_db
def test_reglas_de_estado_del_item(escena):
    dentista, _, cliente, p = escena
    plan = crear_plan(actor=dentista.user, cliente_id=cliente.pk)
    item = agregar_item(actor=dentista.user, plan_id=plan.pk, prestacion_id=p["resina"].pk, diente=16, superficie="O")
    otro = agregar_item(actor=dentista.user, plan_id=plan.pk, prestacion_id=p["limpieza"].pk)
    # Accepted (as a quote would): its price is fixed, it is cancelled, not removed.
    ItemPlan.objects.filter(pk=item.pk).update(estado=EstadoItem.ACEPTADO, aceptado_en=timezone.now())
    antes = huella_bd()
    for llamada in (lambda: editar_item(actor=dentista.user, item_id=item.pk, precio=1, descuento=0, fase=1, orden=1),
                    lambda: quitar_item(actor=dentista.user, item_id=item.pk)):
        with pytest.raises(ValidationError) as error:
            llamada()
        assert error.value.code == "item_fijo"
    assert huella_bd() == antes
    cancelar_item(actor=dentista.user, item_id=item.pk)
    assert ItemPlan.objects.get(pk=item.pk).estado == EstadoItem.CANCELADO
    quitar_item(actor=dentista.user, item_id=otro.pk)
    assert not ItemPlan.objects.filter(pk=otro.pk).exists()
    cerrar_plan(actor=dentista.user, plan_id=plan.pk, estado=EstadoPlan.ANULADO)
    with pytest.raises(ValidationError) as error:
        agregar_item(actor=dentista.user, plan_id=plan.pk, prestacion_id=p["resina"].pk)
    assert error.value.code == "plan_cerrado"


@pytest.mark.django_db
def test_realizado_en_la_nota_acepta_y_marca_el_odontograma(escena):
    dentista, _, cliente, p = escena
    [marca] = registrar_cambios(actor=dentista.user, cliente_id=cliente.pk,
                                cambios=[{"diente": 16, "superficie": "O", "estado": "caries"}])
    plan = crear_plan(actor=dentista.user, cliente_id=cliente.pk)
    [item] = agregar_desde_hallazgos(actor=dentista.user, plan_id=plan.pk, hallazgo_ids=[marca.pk])
    nota = crear_evolucion(actor=dentista.user, cliente_id=cliente.pk, texto="Resina 16 O")
    hecho = marcar_realizado(actor=dentista.user, item_id=item.pk, evolucion_id=nota.pk)
    assert (hecho.estado, hecho.evolucion_id, hecho.realizado_por_id) == (EstadoItem.REALIZADO, nota.pk, dentista.pk)
    assert hecho.aceptado_en is not None and hecho.realizado_en is not None
    [ahora] = [m for m in estado_en(cliente.pk) if m.diente == 16]
    assert (ahora.condicion, ahora.evolucion_id) == (Condicion.REALIZADO, nota.pk)
    assert totales_del_plan(plan.pk).realizado == 45000
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        marcar_realizado(actor=dentista.user, item_id=item.pk, evolucion_id=nota.pk)
    assert error.value.code == "ya_realizado"
    with pytest.raises(ValidationError) as error:
        cerrar_plan(actor=dentista.user, plan_id=plan.pk, estado=EstadoPlan.ANULADO)
    assert error.value.code == "plan_con_realizados"
    assert huella_bd() == antes


@pytest.mark.django_db(transaction=True)
def test_item_plan_fijo_en_la_base_orm_y_sql(escena):
    dentista, _, cliente, p = escena
    plan = crear_plan(actor=dentista.user, cliente_id=cliente.pk)
    item = agregar_item(actor=dentista.user, plan_id=plan.pk, prestacion_id=p["resina"].pk, diente=16, superficie="O")
    ItemPlan.objects.filter(pk=item.pk).update(estado=EstadoItem.ACEPTADO, aceptado_en=timezone.now())
    for intento in (lambda: ItemPlan.objects.filter(pk=item.pk).update(precio=1),
                    lambda: ItemPlan.objects.filter(pk=item.pk).delete()):
        with pytest.raises(IntegrityError, match="item_plan_fijo|ya fue aceptado"), transaction.atomic():
            intento()
    for sql in ("UPDATE tratamientos_itemplan SET descuento = 1000 WHERE id = %s",
                "UPDATE tratamientos_itemplan SET prestacion_id = %s WHERE id = %%s" % p["limpieza"].pk,
                "DELETE FROM tratamientos_itemplan WHERE id = %s"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [item.pk])
    ItemPlan.objects.filter(pk=item.pk).update(estado=EstadoItem.CANCELADO)
    with pytest.raises(IntegrityError, match="no cambia de estado"), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE tratamientos_itemplan SET estado = 'aceptado' WHERE id = %s", [item.pk])
    assert ItemPlan.objects.get(pk=item.pk).precio == 45000


@pytest.mark.django_db(transaction=True)
def test_dos_clics_a_la_vez_lo_marcan_una_vez(escena):
    dentista, _, cliente, p = escena
    plan = crear_plan(actor=dentista.user, cliente_id=cliente.pk)
    item = agregar_item(actor=dentista.user, plan_id=plan.pk, prestacion_id=p["limpieza"].pk)
    nota = crear_evolucion(actor=dentista.user, cliente_id=cliente.pk, texto="Destartraje")
    barrera = threading.Barrier(2)
    resultados = []

    def clic():
        try:
            barrera.wait()
            marcar_realizado(actor=dentista.user, item_id=item.pk, evolucion_id=nota.pk)
            resultados.append("ok")
        except ValidationError as error:
            resultados.append(error.code)
        finally:
            connections.close_all()

    hilos = [threading.Thread(target=clic) for _ in range(2)]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join()
    assert sorted(resultados) == ["ok", "ya_realizado"]
    item.refresh_from_db()
    assert item.estado == EstadoItem.REALIZADO
    eventos = apps.get_model("tratamientos", "ItemPlanEvent").objects
    assert eventos.filter(pgh_obj_id=item.pk, estado=EstadoItem.REALIZADO).count() == 1
