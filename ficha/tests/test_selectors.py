"""The ficha page's read: what it holds and a constant number of queries however long the
record is (2 notes or 200 with addenda, 30 documents)."""

import datetime

import pytest
from django.utils import timezone

from ficha.models import Antecedentes, Evolucion
from ficha.selectors import ficha_del_paciente
from pacientes.models import ClienteDocumento


def notas(paciente, dentista, n, *, con_adendas=True):
    """``n`` signed notes on consecutive days back from today, every third with two addenda."""
    hoy = timezone.localdate()
    creadas = Evolucion.objects.bulk_create([
        Evolucion(cliente=paciente, dentista=dentista, atendido_el=hoy - datetime.timedelta(days=i),
                  procedimiento=f"Control {i}", texto="Sin novedad", dientes=[11])
        for i in range(n)
    ])
    adendas = [Evolucion(cliente=paciente, dentista=dentista, atendido_el=hoy, texto=f"Adenda {k} de {nota.pk}",
                         corrige=nota)
               for nota in creadas[::3] if con_adendas for k in range(2)]
    Evolucion.objects.bulk_create(adendas)
    Evolucion.objects.filter(cliente=paciente, firmada_en__isnull=True).update(firmada_en=timezone.now())
    return creadas


def documentos(paciente, n):
    ClienteDocumento.objects.bulk_create([
        ClienteDocumento(cliente=paciente, titulo=f"Radiografía {i}", archivo=f"documentos/x{i}.png",
                         nombre_original="rx.png", tipo_contenido="image/png", tamano=1000 + i)
        for i in range(n)
    ])


def test_la_ficha_trae_todo_en_orden(paciente_ficha, tratante):
    Antecedentes.objects.create(cliente=paciente_ficha, alergias="Penicilina", anticoagulantes=True,
                                anticoagulantes_detalle="Warfarina", embarazo="si")
    creadas = notas(paciente_ficha, tratante, 4)
    borrador = Evolucion.objects.create(cliente=paciente_ficha, dentista=tratante, atendido_el=timezone.localdate(),
                                        texto="Mío")
    documentos(paciente_ficha, 2)
    ficha = ficha_del_paciente(paciente_ficha.pk, dentista_id=tratante.pk)
    assert ficha.alertas == ["Alergias: Penicilina", "Toma anticoagulantes (Warfarina)", "Embarazada"]
    assert ficha.edad == timezone.localdate().year - 1985 - (
        (timezone.localdate().month, timezone.localdate().day) < (3, 14))
    # Newest first; the draft is there for its author; addenda under their note, not in the list.
    assert [n.pk for n in ficha.notas] == [borrador.pk] + [c.pk for c in creadas]
    assert [a.texto for a in ficha.notas[1].adendas_firmadas] == [f"Adenda 0 de {creadas[0].pk}",
                                                                  f"Adenda 1 de {creadas[0].pk}"]
    assert [d.titulo for d in ficha.documentos] == ["Radiografía 1", "Radiografía 0"]
    # Another dentist does not see the draft.
    assert borrador.pk not in [n.pk for n in ficha_del_paciente(paciente_ficha.pk, dentista_id=None).notas]


def test_la_ficha_sin_antecedentes_tiene_version_cero(paciente_ficha):
    ficha = ficha_del_paciente(paciente_ficha.pk)
    assert (ficha.antecedentes.pk, ficha.antecedentes.version, ficha.alertas, ficha.notas) == (None, 0, [], [])


@pytest.mark.parametrize("cuantas", [2, 200])
def test_consultas_constantes(paciente_ficha, tratante, django_assert_num_queries, cuantas):
    """Patient + history, notes with their addenda, documents: 3 queries for 2 notes and for 200
    (4 before the addenda came with the notes)."""
    Antecedentes.objects.create(cliente=paciente_ficha, alergias="Penicilina")
    notas(paciente_ficha, tratante, cuantas)
    documentos(paciente_ficha, 30)
    with django_assert_num_queries(3):
        ficha = ficha_del_paciente(paciente_ficha.pk, dentista_id=tratante.pk, limite=None, limite_documentos=None)
        for nota in ficha.notas:
            (nota.dentista.nombre, nota.cita, [a.dentista.nombre for a in nota.adendas_firmadas])
    assert len(ficha.notas) == cuantas and len(ficha.documentos) == 30


def test_pagina_de_notas(paciente_ficha, tratante):
    notas(paciente_ficha, tratante, 52, con_adendas=False)
    ficha = ficha_del_paciente(paciente_ficha.pk, dentista_id=tratante.pk, limite=50)
    assert (len(ficha.notas), ficha.hay_mas) == (50, True)
    ficha = ficha_del_paciente(paciente_ficha.pk, dentista_id=tratante.pk, limite=60)
    assert (len(ficha.notas), ficha.hay_mas) == (52, False)


def test_pagina_de_documentos(paciente_ficha, tratante):
    """The page lists the newest documents; the rest are one click away (``?todas=1``)."""
    documentos(paciente_ficha, 12)
    ficha = ficha_del_paciente(paciente_ficha.pk, dentista_id=tratante.pk, limite_documentos=10)
    assert (len(ficha.documentos), ficha.hay_mas_documentos) == (10, True)
    assert [d.titulo for d in ficha.documentos][0] == "Radiografía 11"
    ficha = ficha_del_paciente(paciente_ficha.pk, dentista_id=tratante.pk, limite_documentos=None)
    assert (len(ficha.documentos), ficha.hay_mas_documentos) == (12, False)


def _como_tuplas(notas, *, adendas=True):
    return [(n.pk, n.cliente_id, n.atendido_el, n.procedimiento, list(n.dientes), n.texto, n.firmada_en, n.cita_id,
             n.dentista_id, n.corrige_id, n.dentista.nombre, n.cita.inicio if n.cita_id else None, n.firmada,
             _como_tuplas(n.adendas_firmadas, adendas=False) if adendas else None) for n in notas]


def test_las_notas_en_sql_son_las_del_orm(paciente_ficha, tratante, ajeno, dar_cita, crear_personal):
    """``notas_de_la_ficha`` (one prepared statement) returns what the ORM rule returns
    (``notas_con_adendas(notas_visibles(...))``): signed notes and the reader's own drafts,
    newest first, with author, appointment and signed addenda, for every page size."""
    from ficha.evoluciones import agregar_adenda, crear_evolucion, firmar_evolucion
    from ficha.selectors import notas_con_adendas, notas_de_la_ficha, notas_visibles
    from pacientes.models import Cliente

    colega = crear_personal(rol="dentista", username="dr.rios", nombre="", apellido="")
    dar_cita(colega, paciente_ficha, dias=-2)
    cita = dar_cita(tratante, paciente_ficha, dias=-4)
    creadas = notas(paciente_ficha, tratante, 7)
    con_cita = crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, texto="Con cita", cita_id=cita.pk,
                               dientes="36 37")
    firmar_evolucion(actor=tratante.user, evolucion_id=con_cita.pk)
    agregar_adenda(actor=colega.user, evolucion_id=con_cita.pk, texto="Adenda del colega")
    crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, texto="Borrador de la tratante")
    crear_evolucion(actor=colega.user, cliente_id=paciente_ficha.pk, texto="Borrador del colega")
    otro = Cliente.objects.create(nombre_completo="Luis Díaz")
    notas(otro, tratante, 2)
    casos = 0
    for dentista_id in (tratante.pk, colega.pk, ajeno.pk, None):
        for limite in (1, 3, 11, None):
            originales = notas_visibles(paciente_ficha.pk, dentista_id=dentista_id)
            orm = notas_con_adendas(originales if limite is None else originales[:limite])
            sql = notas_de_la_ficha(paciente_ficha.pk, dentista_id=dentista_id, limite=limite)
            assert _como_tuplas(sql) == _como_tuplas(orm), (dentista_id, limite)
            casos += bool(orm)
    assert casos == 16
    todas = notas_de_la_ficha(paciente_ficha.pk, dentista_id=tratante.pk)
    assert len(todas) == 7 + 2 and sum(len(n.adendas_firmadas) for n in todas) == 2 * 3 + 1
    assert {n.pk for n in todas} == {c.pk for c in creadas} | {con_cita.pk} | {
        n.pk for n in todas if n.texto == "Borrador de la tratante"}
    assert [a.dentista.nombre for n in todas for a in n.adendas_firmadas if a.texto == "Adenda del colega"] == ["dr.rios"]
