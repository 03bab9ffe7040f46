"""Prescriptions: issued by the care team with the dentist's professional data, a folio per
clinic, immutable by trigger (header and lines; the ORM and raw SQL alike) but for one
annulment, kept under legal hold and deleted only by the purge."""

import datetime
import threading

import pgtrigger
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cuentas.eliminacion import eliminar_cliente
from ficha.evoluciones import crear_evolucion, descartar_borrador
from ficha.exportacion import ficha_como_datos, ficha_en_pdf
from ficha.models import Receta, RecetaMedicamento, Resguardo
from ficha.recetas import Linea, anular_receta, emitir_receta, recetas_vigentes, siguiente_folio, texto_de_linea
from ficha.retencion import purgar_ficha, ultima_entrada
from ficha.tests.escenas_resguardo import eventos_que_contienen, ficha_antigua, media  # noqa: F401
from pacientes.models import Cliente
from personal.models import Perfil
from pruebas.pdf import leer_pdf, pdf_a_png
from pruebas.soporte import huella_bd

User = get_user_model()
AMOXICILINA = Linea(medicamento="Amoxicilina", presentacion="Cápsulas 500 mg", dosis="1 cápsula",
                    frecuencia="cada 8 horas", duracion_dias=7, indicaciones="Con las comidas.")
IBUPROFENO = {"medicamento": "Ibuprofeno", "presentacion": "Comprimidos 400 mg", "dosis": "1 comprimido",
              "frecuencia": "cada 8 horas si hay dolor", "duracion_dias": "3"}


def con_datos(perfil, rut="13456789-9", registro="104532"):
    Perfil.objects.filter(pk=perfil.pk).update(rut=rut, registro_superintendencia=registro,
                                               especialidad="Odontología general")
    perfil.refresh_from_db()
    return perfil


@pytest.fixture
def dentista_receta(tratante):
    return con_datos(tratante)


def emitir(dentista, cliente, **kwargs):
    datos = {"lineas": [AMOXICILINA, IBUPROFENO], "indicaciones": "Control en una semana."} | kwargs
    return emitir_receta(actor=dentista.user, cliente_id=cliente.pk, **datos)


def test_emitir_guarda_la_receta_con_folio_fecha_y_datos_del_dentista(dentista_receta, paciente_ficha):
    nota = crear_evolucion(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, texto="Absceso 36")
    antes = timezone.now()
    receta = emitir(dentista_receta, paciente_ficha, evolucion_id=str(nota.pk))
    segunda = emitir(dentista_receta, paciente_ficha, lineas=[IBUPROFENO])
    assert (receta.folio, segunda.folio) == (1, 2)
    receta.refresh_from_db()
    assert receta.emitida_en >= antes - datetime.timedelta(seconds=5) and receta.evolucion_id == nota.pk
    assert (receta.dentista_nombre, receta.dentista_rut, receta.dentista_registro,
            receta.dentista_especialidad) == ("Camila Soto", "13456789-9", "104532", "Odontología general")
    lineas = list(receta.medicamentos.order_by("orden"))
    assert [(l.orden, l.medicamento, l.duracion_dias) for l in lineas] == [(1, "Amoxicilina", 7), (2, "Ibuprofeno", 3)]
    assert texto_de_linea(lineas[0]) == "1 cápsula cada 8 horas durante 7 días. Con las comidas."
    # A later change of the dentist's profile does not rewrite the issued prescription.
    con_datos(dentista_receta, rut="14567234-1", registro="999")
    receta.refresh_from_db()
    assert receta.dentista_rut == "13456789-9"
    assert ultima_entrada(paciente_ficha.pk) == timezone.localdate()


@pytest.mark.parametrize("cambios, codigo", [
    ({"lineas": []}, "sin_medicamentos"),
    ({"lineas": [{"medicamento": "  "}, {}]}, "sin_medicamentos"),
    ({"lineas": [{"medicamento": "x" * 5000}]}, "texto_largo"),
    ({"lineas": [{"medicamento": "Ibuprofeno", "duracion_dias": "-3"}]}, "duracion_invalida"),
    ({"lineas": [{"medicamento": "Ibuprofeno", "duracion_dias": 10_000}]}, "duracion_invalida"),
    ({"lineas": [{"medicamento": "Ibuprofeno", "duracion_dias": "mucho"}]}, "duracion_invalida"),
    ({"lineas": [{"medicamento": "Ibuprofeno", "duracion_dias": 0}]}, "duracion_invalida"),
    ({"lineas": [{"dosis": "1 comprimido"}]}, "medicamento_requerido"),
    ({"lineas": [{"medicamento": "a\x00b"}]}, "caracter_invalido"),
    ({"lineas": [{"medicamento": f"M{i}"} for i in range(21)]}, "demasiados_medicamentos"),
    ({"indicaciones": "x" * 3001}, "texto_largo"),
    ({"evolucion_id": "abc"}, "evolucion_invalida"),
    ({"evolucion_id": 2**70}, "evolucion_invalida"),
])
def test_datos_malos_dan_un_mensaje_y_no_escriben_nada(dentista_receta, paciente_ficha, cambios, codigo):
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        emitir(dentista_receta, paciente_ficha, **cambios)
    assert error.value.code == codigo and error.value.messages[0]
    assert huella_bd() == antes


def test_la_evolucion_de_otro_paciente_no_sirve(dentista_receta, paciente_ficha, dar_cita):
    otro = Cliente.objects.create(nombre_completo="Bruno Otro Díaz", rut="11111111-1")
    dar_cita(dentista_receta, otro, dias=-2)
    ajena = crear_evolucion(actor=dentista_receta.user, cliente_id=otro.pk, texto="Otra boca")
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        emitir(dentista_receta, paciente_ficha, evolucion_id=ajena.pk)
    assert error.value.code == "evolucion_invalida" and huella_bd() == antes


def test_solo_un_dentista_del_equipo_con_sus_datos_emite(dentista_receta, paciente_ficha, ajeno, recepcionista,
                                                         tratante):
    for actor in (con_datos(ajeno, rut="15678345-5", registro="1"), recepcionista):
        with pytest.raises(ValidationError) as error:
            emitir(actor, paciente_ficha)
        assert error.value.code == "sin_acceso"
    Perfil.objects.filter(pk=tratante.pk).update(registro_superintendencia="")
    tratante.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        emitir(tratante, paciente_ficha)
    assert error.value.code == "dentista_sin_datos"
    assert not Receta.objects.exists()


def _sql(sentencia, parametros):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sentencia, parametros)


def test_la_receta_emitida_no_se_cambia_ni_se_borra_ni_por_orm_ni_por_sql(dentista_receta, paciente_ficha):
    receta = emitir(dentista_receta, paciente_ficha)
    linea = receta.medicamentos.first()
    intentos = [
        lambda: Receta.objects.filter(pk=receta.pk).update(indicaciones="Otra cosa"),
        lambda: Receta.objects.filter(pk=receta.pk).delete(),
        lambda: RecetaMedicamento.objects.filter(pk=linea.pk).update(dosis="10 comprimidos"),
        lambda: RecetaMedicamento.objects.filter(pk=linea.pk).delete(),
        lambda: _sql("UPDATE ficha_receta SET folio = 99 WHERE id = %s", [receta.pk]),
        lambda: _sql("UPDATE ficha_receta SET emitida_en = now() - interval '20 years' WHERE id = %s", [receta.pk]),
        lambda: _sql("DELETE FROM ficha_receta WHERE id = %s", [receta.pk]),
        lambda: _sql("UPDATE ficha_recetamedicamento SET medicamento = 'Otro' WHERE id = %s", [linea.pk]),
        lambda: _sql("DELETE FROM ficha_recetamedicamento WHERE id = %s", [linea.pk]),
        # An annulment that changes something else too, or without a reason, is refused.
        lambda: _sql("UPDATE ficha_receta SET anulada_en = now(), anulada_por_id = %s, motivo_anulacion = 'x', "
                     "indicaciones = '' WHERE id = %s", [dentista_receta.user.pk, receta.pk]),
        lambda: _sql("UPDATE ficha_receta SET anulada_en = now(), anulada_por_id = %s WHERE id = %s",
                     [dentista_receta.user.pk, receta.pk]),
    ]
    antes = huella_bd()
    for intento in intentos:
        with pytest.raises(IntegrityError, match="emitida"):
            with transaction.atomic():
                intento()
    assert huella_bd() == antes


def test_se_anula_una_sola_vez_y_la_fila_queda(dentista_receta, paciente_ficha, ajeno):
    receta = emitir(dentista_receta, paciente_ficha)
    with pytest.raises(ValidationError) as error:
        anular_receta(actor=dentista_receta.user, receta_id=receta.pk, motivo="  ")
    assert error.value.code == "motivo_requerido"
    anulada = anular_receta(actor=dentista_receta.user, receta_id=receta.pk, motivo="Dosis equivocada",
                            cliente_id=paciente_ficha.pk)
    assert anulada.anulada and anulada.anulada_por_id == dentista_receta.user.pk
    assert anulada.motivo_anulacion == "Dosis equivocada" and anulada.medicamentos.count() == 2
    with pytest.raises(ValidationError) as error:
        anular_receta(actor=dentista_receta.user, receta_id=receta.pk, motivo="Otra vez")
    assert error.value.code == "receta_anulada"
    with pytest.raises(IntegrityError, match="emitida"):
        _sql("UPDATE ficha_receta SET anulada_en = now(), motivo_anulacion = 'Otro motivo' WHERE id = %s",
             [receta.pk])
    with pytest.raises(IntegrityError, match="emitida"):
        _sql("UPDATE ficha_receta SET anulada_en = NULL, anulada_por_id = NULL, motivo_anulacion = '' "
             "WHERE id = %s", [receta.pk])
    assert recetas_vigentes(paciente_ficha.pk) == []


def test_solo_quien_la_emitio_la_anula(dentista_receta, paciente_ficha, crear_personal, dar_cita):
    receta = emitir(dentista_receta, paciente_ficha)
    colega = crear_personal(rol="dentista", username="dr.colega", nombre="Luis", apellido="Vera")
    dar_cita(colega, paciente_ficha, dias=-1)
    with pytest.raises(ValidationError) as error:
        anular_receta(actor=colega.user, receta_id=receta.pk, motivo="No me gusta")
    assert error.value.code == "no_es_autor"
    with pytest.raises(Receta.DoesNotExist):
        anular_receta(actor=dentista_receta.user, receta_id=receta.pk, motivo="Error de dosis", cliente_id=1 + receta.cliente_id)


@pytest.mark.django_db(transaction=True)
def test_no_se_agregan_medicamentos_despues_de_emitir(dentista_receta, paciente_ficha):
    receta = emitir(dentista_receta, paciente_ficha)
    with pytest.raises(IntegrityError, match="ya fue emitida"):
        RecetaMedicamento.objects.create(receta=receta, orden=3, medicamento="Paracetamol")
    with pytest.raises(IntegrityError, match="ya fue emitida"):
        _sql("INSERT INTO ficha_recetamedicamento (receta_id, orden, medicamento) VALUES (%s, 4, 'X')", [receta.pk])
    # The database's clock, whatever the INSERT says.
    _sql("INSERT INTO ficha_receta (cliente_id, dentista_id, folio, emitida_en, dentista_nombre, dentista_rut, "
         "dentista_registro) VALUES (%s, %s, 50, now() - interval '20 years', 'X', '13456789-9', '1')",
         [paciente_ficha.pk, dentista_receta.pk])
    assert Receta.objects.get(folio=50).emitida_en > timezone.now() - datetime.timedelta(minutes=1)
    assert receta.medicamentos.count() == 2


@pytest.mark.django_db(transaction=True)
def test_el_folio_no_se_repite_con_emisiones_simultaneas(dentista_receta, paciente_ficha):
    barrera = threading.Barrier(4)
    folios, errores = [], []

    def emitir_en_hilo():
        try:
            barrera.wait()
            folios.append(emitir(dentista_receta, paciente_ficha, lineas=[IBUPROFENO]).folio)
        except Exception as error:  # noqa: BLE001 - reported below
            errores.append(error)
        finally:
            connection.close()

    hilos = [threading.Thread(target=emitir_en_hilo) for _ in range(4)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    assert not errores and sorted(folios) == [1, 2, 3, 4]


def receta_antigua(cliente, dentista, cuando):
    """A prescription issued at ``cuando`` (the trigger would stamp now(): set aside to build the scene)."""
    with pgtrigger.ignore("ficha.Receta:receta_emitida_inmutable", "ficha.RecetaMedicamento:receta_linea_inmutable"):
        receta = Receta.objects.create(cliente=cliente, dentista=dentista, folio=900 + cliente.pk,
                                       dentista_nombre="Camila Soto", dentista_rut="13456789-9", dentista_registro="1",
                                       indicaciones="RECETA-ANTIGUA")
        Receta.objects.filter(pk=receta.pk).update(emitida_en=cuando)
        RecetaMedicamento.objects.create(receta=receta, orden=1, medicamento="Clindamicina RECETA-ANTIGUA")
    return receta


def test_la_eliminacion_conserva_las_recetas_y_la_purga_vencida_las_borra(
        dentista_receta, paciente_ficha, recepcionista, dentista, media):  # noqa: F811
    # Erased today: the prescriptions stay with the record under the hold, and cannot be deleted.
    receta = emitir(dentista_receta, paciente_ficha)
    eliminar_cliente(actor=recepcionista.user, cliente_id=paciente_ficha.pk)
    assert Resguardo.objects.filter(cliente=paciente_ficha).exists()
    assert Receta.objects.filter(pk=receta.pk).exists() and receta.medicamentos.count() == 2
    with pytest.raises(IntegrityError):
        _sql("DELETE FROM ficha_receta WHERE id = %s", [receta.pk])

    # Seen 16 years ago and erased: the purge takes its prescriptions, lines and their content.
    vieja = ficha_antigua(recepcionista=recepcionista, dentista=dentista, media=media)
    antigua = receta_antigua(vieja["cliente"], dentista, vieja["firmada"].firmada_en)
    eliminar_cliente(actor=recepcionista.user, cliente_id=vieja["cliente"].pk)
    assert purgar_ficha(actor=None, cliente_id=vieja["cliente"].pk).purgada
    assert not Receta.objects.filter(pk=antigua.pk).exists()
    assert not RecetaMedicamento.objects.filter(receta_id=antigua.pk).exists()
    assert eventos_que_contienen("RECETA-ANTIGUA") == []
    assert Receta.objects.filter(pk=receta.pk).exists()


def receta_de(cliente, dentista, *medicamentos, indicaciones=""):
    """A prescription written straight to the tables (another app's scene; in a test's single
    transaction the lines pass the trigger). ``medicamentos``: names."""
    receta = Receta.objects.create(cliente=cliente, dentista=dentista, folio=siguiente_folio(),
                                   indicaciones=indicaciones, dentista_nombre=dentista.nombre,
                                   dentista_rut="13456789-9", dentista_registro="104532")
    for orden, nombre in enumerate(medicamentos, start=1):
        RecetaMedicamento.objects.create(receta=receta, orden=orden, medicamento=nombre, dosis="1 comprimido",
                                         frecuencia="cada 8 horas", duracion_dias=5)
    return receta


def test_la_copia_de_la_ficha_trae_las_recetas_en_json_y_pdf(dentista_receta, paciente_ficha, tratante,
                                                              django_assert_num_queries):
    primera = emitir(dentista_receta, paciente_ficha)
    anular_receta(actor=dentista_receta.user, receta_id=primera.pk, motivo="Dosis equivocada")
    emitir(dentista_receta, paciente_ficha, lineas=[IBUPROFENO], indicaciones="")
    # The patient, the history (none), notes, documents, prescriptions and their lines, the
    # odontogram history, the consents.
    with django_assert_num_queries(8):
        datos = ficha_como_datos(paciente_ficha.pk)
    uno, dos = datos["recetas"]
    assert (uno["folio"], dos["folio"]) == (1, 2) and uno["motivo_anulacion"] == "Dosis equivocada"
    assert [m["medicamento"] for m in uno["medicamentos"]] == ["Amoxicilina", "Ibuprofeno"]
    assert uno["medicamentos"][0]["duracion_dias"] == 7 and dos["anulada_en"] is None
    assert uno["dentista_rut"] == "13456789-9" and uno["dentista_registro_superintendencia"] == "104532"
    pdf = ficha_en_pdf(paciente_ficha.pk, generado_para="Camila Soto (Dentista)")
    pdf_a_png(pdf, "/tmp/capturas-rec", "copia-ficha", paginas=3)
    leido = leer_pdf(pdf)
    for frase in ("Recetas (2)", "Receta N° 000001", "(ANULADA)", "Dosis equivocada", "Amoxicilina — Cápsulas 500 mg",
                  "1 cápsula cada 8 horas durante 7 días.", "Receta N° 000002"):
        assert leido.contiene(frase), frase


def test_el_borrador_de_una_receta_no_se_descarta_y_lo_dice(dentista_receta, paciente_ficha):
    """Found in review: discarding a draft a prescription was issued from hit the PROTECT link
    and answered the generic "No se pudo guardar"."""
    nota = crear_evolucion(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, texto="Absceso 36")
    emitir(dentista_receta, paciente_ficha, evolucion_id=nota.pk)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        descartar_borrador(actor=dentista_receta.user, evolucion_id=nota.pk)
    assert error.value.code == "borrador_con_receta" and "anúlela" in error.value.messages[0]
    assert huella_bd() == antes


def test_nombres_largos_del_personal_caben_en_la_receta(dentista_receta, paciente_ficha):
    """A staff name may be 301 characters (two 150-character fields); the copy keeps 300."""
    User.objects.filter(pk=dentista_receta.user_id).update(first_name="A" * 150, last_name="B" * 150)
    dentista_receta.user.refresh_from_db()
    receta = emitir(dentista_receta, paciente_ficha)
    assert len(receta.dentista_nombre) == 300 and receta.dentista_nombre.startswith("A" * 150)
