"""The odontogram (issue 16): charting, its state at any instant from its own history, the
append-only table, bad input, the race of two dentists on one tooth, retention."""

import datetime
import json
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cuentas.eliminacion import eliminar_cliente
from ficha.evoluciones import crear_evolucion, descartar_borrador, firmar_evolucion
from ficha.exportacion import ficha_como_datos, ficha_en_pdf
from ficha.models import MarcaOdontograma, Resguardo
from ficha.odontograma import (
    Cambio, describir, estado_en, fin_del_dia, hallazgos_pendientes, registrar_cambios, validar_fecha_de_consulta,
)
from ficha.odontograma_dibujo import a_reportlab, a_svg, geometria
from ficha.retencion import purgar_ficha, tiene_ficha
from ficha.tests.escenas_resguardo import ficha_antigua, media  # noqa: F401 (fixture)
from personal.models import Rol
from pruebas.pdf import leer_pdf, pdf_a_png
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db


def _codigos(error):
    if hasattr(error, "error_dict"):
        return {e.code for lista in error.error_dict.values() for e in lista}
    return {e.code for e in error.error_list}


def _estado(cliente_id, hasta=None):
    return {(m.diente, m.superficie, m.estado): m.condicion for m in estado_en(cliente_id, hasta)}


def test_registrar_quitar_y_un_cambio_sin_efecto_no_escribe(paciente_ficha, tratante):
    c = paciente_ficha.pk
    nuevas = registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[
        {"diente": "16", "superficie": "O", "estado": "caries"},
        {"diente": 16, "superficie": "m", "estado": "caries"},
        {"diente": 36, "estado": "corona", "condicion": "realizado", "nota": "Corona antigua"},
    ])
    assert [describir(m) for m in nuevas] == [
        "Diente 16, cara oclusal: caries (hallazgo)", "Diente 16, cara mesial: caries (hallazgo)",
        "Diente 36: corona (realizado)"]
    assert all(m.registrado_por_id == tratante.user.pk and m.registrado_en for m in nuevas)
    # The same again: nothing written.
    antes = MarcaOdontograma.objects.count()
    assert registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(16, "O", "caries")]) == []
    assert MarcaOdontograma.objects.count() == antes
    # Done, then removed: two rows; removing again: nothing.
    registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(16, "O", "caries", "realizado")])
    registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(16, "M", "caries", quitar=True)])
    assert registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(16, "M", "caries", quitar=True)]) == []
    assert registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(17, "M", "caries", quitar=True)]) == []
    assert MarcaOdontograma.objects.count() == antes + 2
    assert _estado(c) == {(16, "O", "caries"): "realizado", (36, "", "corona"): "realizado"}
    assert [describir(m) for m in hallazgos_pendientes(c)] == []


@pytest.mark.parametrize("cambio,codigo,frase", [
    ({"diente": 19, "superficie": "O", "estado": "caries"}, "diente_invalido", "no es un diente"),
    ({"diente": "9x", "superficie": "O", "estado": "caries"}, "diente_invalido", "no es un diente"),
    ({"diente": 86, "superficie": "O", "estado": "caries"}, "diente_invalido", "FDI"),
    ({"diente": 16, "superficie": "Z", "estado": "caries"}, "superficie_invalida", "La cara debe ser"),
    ({"diente": 16, "superficie": "O", "estado": "xyz"}, "estado_invalido", "Elija un estado"),
    ({"diente": 16, "superficie": "", "estado": "caries"}, "estado_invalido", "va en una cara"),
    ({"diente": 16, "superficie": "O", "estado": "corona"}, "estado_invalido", "diente completo"),
    ({"diente": 16, "superficie": "O", "estado": "caries", "condicion": "quizas"}, "condicion_invalida", "hallazgo"),
    ({"diente": 16, "superficie": "O", "estado": "caries", "nota": "x" * 201}, "texto_largo", "demasiado larga"),
    ({"diente": 16, "superficie": "O", "estado": "caries", "nota": "a\x00b"}, "caracter_invalido", "no permitido"),
])
def test_datos_malos_dicen_por_que_y_no_escriben(paciente_ficha, tratante, cambio, codigo, frase):
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        registrar_cambios(actor=tratante.user, cliente_id=paciente_ficha.pk,
                          cambios=[{"diente": 11, "estado": "ausente"}, cambio])
    assert codigo in _codigos(error.value)
    assert frase in " ".join(error.value.messages)
    assert huella_bd() == antes


@pytest.mark.parametrize("fecha,frase", [
    ("1800-01-01", "Use una fecha desde"), ("2999-01-01", "no puede ser futura"), ("ayer", "no es válida"),
    ("2024-02-30", "no es válida"), (datetime.date(1800, 5, 1), "Use una fecha desde"),
])
def test_fechas_de_consulta_malas(fecha, frase):
    with pytest.raises(ValidationError) as error:
        validar_fecha_de_consulta(fecha)
    assert frase in error.value.messages[0]


def test_la_base_de_datos_refuerza_las_reglas(paciente_ficha, tratante):
    base = {"cliente": paciente_ficha, "registrado_por": tratante.user, "condicion": "hallazgo"}
    for malo in ({"diente": 19, "superficie": "O", "estado": "caries"}, {"diente": 16, "superficie": "Z", "estado": "caries"},
                 {"diente": 16, "superficie": "O", "estado": "xyz"}, {"diente": 16, "superficie": "", "estado": "caries"},
                 {"diente": 16, "superficie": "O", "estado": "corona"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            MarcaOdontograma.objects.create(**base, **malo)


def test_solo_el_equipo_de_cuidado_registra(paciente_ficha, ajeno, crear_personal):
    for actor in (ajeno.user, crear_personal(rol=Rol.RECEPCION).user, crear_personal(rol=Rol.ADMINISTRADOR).user):
        antes = huella_bd()
        with pytest.raises(ValidationError) as error:
            registrar_cambios(actor=actor, cliente_id=paciente_ficha.pk, cambios=[Cambio(16, "O", "caries")])
        assert "sin_acceso" in _codigos(error.value) and huella_bd() == antes


def test_se_vincula_al_borrador_de_hoy_y_no_a_uno_ajeno(paciente_ficha, tratante, crear_personal, dar_cita):
    c = paciente_ficha.pk
    sin_nota = registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(11, "V", "fractura")])
    assert sin_nota[0].evolucion_id is None
    nota = crear_evolucion(actor=tratante.user, cliente_id=c, procedimiento="Control")
    [marca] = registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(11, "V", "fractura", "realizado")])
    assert marca.evolucion_id == nota.pk
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios")
    dar_cita(colega, paciente_ficha, dias=-1)
    antes = huella_bd()
    for evolucion_id in (nota.pk, -1, 987654321):  # another's draft, garbage, nonexistent
        with pytest.raises(ValidationError) as error:
            registrar_cambios(actor=colega.user, cliente_id=c, cambios=[Cambio(12, "V", "caries")],
                              evolucion_id=evolucion_id)
        assert "evolucion_invalida" in _codigos(error.value)
    assert huella_bd() == antes
    # A signed note takes no more marks.
    firmar_evolucion(actor=tratante.user, evolucion_id=nota.pk)
    with pytest.raises(ValidationError):
        registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(12, "V", "caries")], evolucion_id=nota.pk)


def _sql(sentencia, *parametros):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sentencia, parametros)


def test_las_marcas_no_se_modifican_ni_borran_y_descartar_el_borrador_solo_quita_el_vinculo(paciente_ficha, tratante):
    c = paciente_ficha.pk
    nota = crear_evolucion(actor=tratante.user, cliente_id=c, procedimiento="Control")
    [marca] = registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(26, "O", "caries")])
    assert marca.evolucion_id == nota.pk
    for sentencia in ("UPDATE ficha_marcaodontograma SET condicion = 'realizado' WHERE id = %s",
                      "UPDATE ficha_marcaodontograma SET evolucion_id = NULL, vigente = false WHERE id = %s",
                      "DELETE FROM ficha_marcaodontograma WHERE id = %s"):
        with pytest.raises(IntegrityError, match="no se modifican ni se eliminan"):
            _sql(sentencia, marca.pk)
    descartar_borrador(actor=tratante.user, evolucion_id=nota.pk)
    marca.refresh_from_db()
    assert (marca.evolucion_id, marca.estado, marca.condicion, marca.vigente) == (None, "caries", "hallazgo", True)
    # Unlinked, it may not be linked again to anything.
    otra = crear_evolucion(actor=tratante.user, cliente_id=c, procedimiento="Otra")
    with pytest.raises(IntegrityError):
        _sql("UPDATE ficha_marcaodontograma SET evolucion_id = %s WHERE id = %s", otra.pk, marca.pk)


# The state as of a past date, against a history worked out by hand -------------------------------

def _en(texto):
    return timezone.make_aware(datetime.datetime.fromisoformat(texto))


def test_el_odontograma_a_una_fecha_pasada_es_el_calculado_a_mano(paciente_ficha, tratante):
    c = paciente_ficha.pk
    u = tratante.user

    def marca(cuando, diente, superficie, estado, condicion, vigente=True):
        MarcaOdontograma.objects.create(cliente_id=c, registrado_por=u, registrado_en=_en(cuando), diente=diente,
                                        superficie=superficie, estado=estado, condicion=condicion, vigente=vigente)

    marca("2019-03-10 10:00", 16, "O", "caries", "hallazgo")
    marca("2019-03-10 10:00", 36, "", "ausente", "realizado")
    marca("2019-03-10 10:02", 46, "M", "caries", "hallazgo")
    marca("2020-06-01 11:00", 16, "O", "obturacion", "realizado")
    marca("2020-06-01 11:00", 16, "O", "caries", "hallazgo", vigente=False)  # treated: removed
    marca("2020-06-01 11:01", 21, "", "corona", "realizado")
    marca("2021-01-15 09:00", 46, "", "endodoncia", "hallazgo")
    marca("2022-08-20 16:00", 21, "", "corona", "realizado", vigente=False)
    marca("2022-08-20 16:00", 21, "", "implante", "realizado")
    marca("2022-08-20 16:30", 55, "D", "caries", "hallazgo")
    # Two changes of one key at the same instant: the later row wins.
    marca("2023-05-05 12:00", 46, "", "endodoncia", "hallazgo", vigente=False)
    marca("2023-05-05 12:00", 46, "", "endodoncia", "realizado")
    marca("2023-09-01 08:00", 55, "D", "caries", "hallazgo", vigente=False)
    marca("2023-09-01 08:05", 55, "D", "caries", "hallazgo")  # found again

    esperado = {
        datetime.date(2018, 12, 31): {},
        datetime.date(2019, 12, 31): {
            (16, "O", "caries"): "hallazgo", (36, "", "ausente"): "realizado", (46, "M", "caries"): "hallazgo"},
        datetime.date(2020, 5, 31): {
            (16, "O", "caries"): "hallazgo", (36, "", "ausente"): "realizado", (46, "M", "caries"): "hallazgo"},
        datetime.date(2021, 6, 30): {
            (16, "O", "obturacion"): "realizado", (21, "", "corona"): "realizado", (36, "", "ausente"): "realizado",
            (46, "M", "caries"): "hallazgo", (46, "", "endodoncia"): "hallazgo"},
        datetime.date(2023, 12, 31): {
            (16, "O", "obturacion"): "realizado", (21, "", "implante"): "realizado", (36, "", "ausente"): "realizado",
            (46, "M", "caries"): "hallazgo", (46, "", "endodoncia"): "realizado", (55, "D", "caries"): "hallazgo"},
    }
    for fecha, estado in esperado.items():
        assert _estado(c, fin_del_dia(fecha)) == estado, fecha
    assert _estado(c) == esperado[datetime.date(2023, 12, 31)]


def test_estado_en_es_una_consulta(paciente_ficha, tratante, django_assert_num_queries):
    registrar_cambios(actor=tratante.user, cliente_id=paciente_ficha.pk,
                      cambios=[Cambio(d, "O", "caries") for d in (16, 26, 36, 46)])
    with django_assert_num_queries(1):
        assert len(estado_en(paciente_ficha.pk)) == 4


# Two dentists on one tooth at the same moment ---------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_dos_dentistas_en_el_mismo_diente_a_la_vez(paciente_ficha, tratante, crear_personal, dar_cita):
    """Each on its own connection, released together by a barrier. Different changes of the same
    tooth surface: both are written, in the order they took the tooth's lock (their times
    follow the ids), and the later one is the state. The same change twice: written once."""
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios", nombre="Pablo", apellido="Ríos")
    dar_cita(colega, paciente_ficha, dias=-2)
    c = paciente_ficha.pk

    def a_la_vez(cambio_a, cambio_b):
        barrera = threading.Barrier(2)
        resultados = {}

        def registrar(quien, actor, cambio):
            try:
                barrera.wait(timeout=10)
                resultados[quien] = len(registrar_cambios(actor=actor, cliente_id=c, cambios=[cambio]))
            except Exception as error:  # noqa: BLE001 (reported by the assertion below)
                resultados[quien] = repr(error)
            finally:
                connection.close()

        hilos = [threading.Thread(target=registrar, args=("a", tratante.user, cambio_a)),
                 threading.Thread(target=registrar, args=("b", colega.user, cambio_b))]
        for hilo in hilos:
            hilo.start()
        for hilo in hilos:
            hilo.join(timeout=30)
        return resultados

    assert a_la_vez(Cambio(16, "O", "caries", "hallazgo"), Cambio(16, "O", "caries", "realizado")) == {"a": 1, "b": 1}
    filas = list(MarcaOdontograma.objects.filter(cliente_id=c).order_by("id"))
    assert len(filas) == 2 and {f.registrado_por_id for f in filas} == {tratante.user.pk, colega.user.pk}
    assert filas[0].registrado_en <= filas[1].registrado_en
    assert _estado(c) == {(16, "O", "caries"): filas[1].condicion}

    for diente in (16, 17, 26, 27):  # a few rounds: without the lock, some write twice
        resultados = a_la_vez(Cambio(diente, "", "corona", "realizado"), Cambio(diente, "", "corona", "realizado"))
        assert sorted(resultados.values()) == [0, 1], resultados
        assert MarcaOdontograma.objects.filter(cliente_id=c, diente=diente, estado="corona").count() == 1


# Retention ----------------------------------------------------------------------------------------

def test_el_odontograma_es_ficha_y_se_conserva_al_eliminar(paciente_ficha, crear_personal, dar_cita, recepcionista):
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.vega")
    dar_cita(dentista, paciente_ficha, dias=3, estado="reservada")  # a future booking: no record by itself
    assert not tiene_ficha(paciente_ficha.pk)
    registrar_cambios(actor=dentista.user, cliente_id=paciente_ficha.pk, cambios=[Cambio(16, "O", "caries")])
    assert tiene_ficha(paciente_ficha.pk)
    eliminar_cliente(actor=recepcionista.user, cliente_id=paciente_ficha.pk)
    assert Resguardo.objects.filter(cliente_id=paciente_ficha.pk).exists()
    assert MarcaOdontograma.objects.filter(cliente_id=paciente_ficha.pk).count() == 1
    with pytest.raises(ValidationError):
        purgar_ficha(actor=None, cliente_id=paciente_ficha.pk)
    assert MarcaOdontograma.objects.filter(cliente_id=paciente_ficha.pk).count() == 1


def test_la_purga_borra_las_marcas_vencidas(recepcionista, dentista, media):  # noqa: F811
    e = ficha_antigua(recepcionista=recepcionista, dentista=dentista, media=media)
    entonces = timezone.now() - datetime.timedelta(days=365 * 16 + 10)
    MarcaOdontograma.objects.create(cliente=e["cliente"], registrado_por=dentista.user, registrado_en=entonces,
                                    diente=38, superficie="", estado="extraccion", condicion="hallazgo",
                                    evolucion=e["firmada"])
    eliminar_cliente(actor=recepcionista.user, cliente_id=e["cliente"].pk)
    assert purgar_ficha(actor=None, cliente_id=e["cliente"].pk).purgada
    assert not MarcaOdontograma.objects.filter(cliente_id=e["cliente"].pk).exists()


# Drawing --------------------------------------------------------------------------------------------

def test_el_dibujo_escapa_y_describe_cada_cara(paciente_ficha, tratante):
    registrar_cambios(actor=tratante.user, cliente_id=paciente_ficha.pk,
                      cambios=[Cambio(16, "O", "caries"), Cambio(11, "", "corona", "realizado")])
    svg = a_svg(geometria(estado_en(paciente_ficha.pk)), enlace=lambda d, s: f'/x?d={d}&s={s}"<')
    assert "<title>Diente 16, cara oclusal: caries (hallazgo)</title>" in svg
    assert "<title>Diente 11: corona (realizado)</title>" in svg
    assert "<title>Diente 11, cara incisal: sin marcas</title>" in svg
    assert "<title>Diente 26, cara palatino: sin marcas</title>" in svg
    assert '&amp;s=O&quot;&lt;' in svg and 'style=' not in svg and "<script" not in svg
    assert svg.count('class="odo-diente') == 52
    dibujo = a_reportlab(geometria(estado_en(paciente_ficha.pk)), ancho_pt=500)
    assert round(dibujo.width) == 500


# The copy (JSON and PDF) -----------------------------------------------------------------------------

def test_la_copia_trae_el_odontograma_vigente_su_historial_y_el_dibujo(paciente_ficha, tratante, tmp_path):


    c = paciente_ficha.pk
    registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[
        Cambio(16, "O", "caries", nota="Profunda"), Cambio(46, "", "corona", "realizado"), Cambio(55, "D", "sellante")])
    registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(55, "D", "sellante", quitar=True)])
    datos = ficha_como_datos(c)["odontograma"]
    json.dumps(datos, cls=DjangoJSONEncoder)
    assert [m["descripcion"] for m in datos["vigente"]] == [
        "Diente 16, cara oclusal: caries (hallazgo)", "Diente 46: corona (realizado)"]
    assert [(h["diente"], h["accion"]) for h in datos["historial"]] == [(16, "marcada"), (46, "marcada"),
                                                                       (55, "marcada"), (55, "quitada")]
    assert datos["historial"][0]["registrado_por"] == "Camila Soto" and datos["vigente"][0]["nota"] == "Profunda"
    assert datos["svg"].startswith("<svg") and "<style>" in datos["svg"] and "Diente 46: corona (realizado)" in datos["svg"]
    contenido = ficha_en_pdf(c, generado_para="Camila Soto (Dentista)")
    leido = leer_pdf(contenido)
    for frase in ("Odontograma", "Diente 16, cara oclusal", "Caries (hallazgo)", "Corona (realizado)",
                  "Rojo: hallazgo", "Cambios registrados: 4"):
        assert leido.contiene(frase), frase
    pdf_a_png(contenido, "/tmp/capturas-odo", "ficha_con_odontograma", paginas=3)


def test_sin_marcas_la_copia_lo_dice_sin_dibujo(paciente_ficha):
    datos = ficha_como_datos(paciente_ficha.pk)["odontograma"]
    assert (datos["vigente"], datos["historial"]) == ([], [])
    leido = leer_pdf(ficha_en_pdf(paciente_ficha.pk, generado_para="Ana Pérez Soto (paciente, portal)"))
    assert leido.contiene("No hay marcas en el odontograma.") and not leido.contiene("Rojo: hallazgo")
    assert leido.paginas == 1
