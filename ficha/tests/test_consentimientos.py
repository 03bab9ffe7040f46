"""Informed consents: templates, issue (text copied), acceptance by drawn signature or scan,
revocation, annulment; the database trigger that keeps a consent fixed (ORM and raw SQL); the
compare-and-set under two people at once; bad input in Spanish changing nothing; the PDF; the
export; retention (erasure keeps consents, the purge takes them)."""

import datetime
import json
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cuentas.eliminacion import eliminar_cliente
from ficha.consentimientos import (
    MAX_PUNTOS, MAX_TRAZOS, aceptar_consentimiento, anular_consentimiento, cambiar_estado_plantilla,
    crear_plantilla, editar_plantilla, emitir_consentimiento, interpretar_firma, puntos_svg, revocar_consentimiento,
)
from ficha.consentimientos_pdf import consentimiento_en_pdf
from ficha.exportacion import ficha_como_datos, ficha_en_pdf
from ficha.models import Consentimiento, EstadoConsentimiento, FormaAceptacion, PlantillaConsentimiento
from ficha.retencion import purgar_ficha, tiene_ficha
from ficha.tests.conftest import ajeno, dar_cita, paciente_ficha, superusuario_ficha, tratante  # noqa: F401
from ficha.tests.escenas_resguardo import PDF, archivos_en, eventos_que_contienen, ficha_antigua, media  # noqa: F401
from pacientes.models import Cliente, ClienteDocumento
from personal.models import Rol
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png
from pruebas.soporte import huella_bd

CAPTURAS = "/tmp/capturas-con"
FIRMA = [[[100, 300], [200, 100], [300, 300], [400, 120]], [[500, 200], [700, 220], [900, 180]]]
TEXTO = ("La exodoncia consiste en extraer la pieza dental.\nRiesgos: dolor, inflamación, sangrado, alveolitis, "
         "lesión del nervio dentario inferior.\nAlternativas: endodoncia cuando sea posible, o no tratar.")


def codigos(error: ValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {e.code for lista in error.error_dict.values() for e in lista}
    return {e.code for e in error.error_list}


@pytest.fixture
def administrador(crear_personal):
    return crear_personal(rol=Rol.ADMINISTRADOR, username="admin.clinica", nombre="Rosa", apellido="Vega")


@pytest.fixture
def plantilla(administrador):
    return crear_plantilla(actor=administrador.user, nombre="Exodoncia simple", procedimiento="Extracción de 38",
                           texto=TEXTO)


@pytest.fixture
def emitido(tratante, paciente_ficha, plantilla):
    return emitir_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, plantilla_id=plantilla.pk)


def aceptar(consentimiento, actor, **cambios):
    datos = {"firmante_nombre": "Ana Pérez Soto", "firmante_rut": "12.345.678-5", "firmante_relacion": "paciente",
             "leido": True, "firma": json.dumps(FIRMA)}
    datos.update(cambios)
    return aceptar_consentimiento(actor=actor, cliente_id=consentimiento.cliente_id,
                                  consentimiento_id=consentimiento.pk, **datos)


# Templates ------------------------------------------------------------------------------------


def test_solo_la_administracion_mantiene_plantillas(tratante, administrador, plantilla):
    with pytest.raises(ValidationError) as error:
        crear_plantilla(actor=tratante.user, nombre="Otra", procedimiento="x", texto="y")
    assert error.value.code == "sin_permiso"
    with pytest.raises(ValidationError) as error:
        crear_plantilla(actor=administrador.user, nombre="exodoncia SIMPLE", procedimiento="x", texto="y")
    assert error.value.code == "plantilla_duplicada"
    with pytest.raises(ValidationError) as error:
        crear_plantilla(actor=administrador.user, nombre=" ", procedimiento="", texto="x" * 20_001)
    assert codigos(error.value) == {"campo_obligatorio", "texto_largo"}
    cambiar_estado_plantilla(actor=administrador.user, plantilla_id=plantilla.pk, activa=False)
    assert not PlantillaConsentimiento.objects.get(pk=plantilla.pk).activa
    assert plantilla.events.count() == 2  # history by pghistory


def test_emitir_copia_el_texto_y_editar_la_plantilla_no_lo_cambia(emitido, plantilla, administrador, tratante):
    assert (emitido.estado, emitido.texto, emitido.titulo) == ("emitido", TEXTO, "Exodoncia simple")
    assert emitido.dentista_id == tratante.pk and emitido.emitido_en is not None
    editar_plantilla(actor=administrador.user, plantilla_id=plantilla.pk, nombre="Exodoncia",
                     procedimiento="Otra", texto="Texto nuevo")
    emitido.refresh_from_db()
    assert (emitido.texto, emitido.titulo, emitido.procedimiento) == (TEXTO, "Exodoncia simple", "Extracción de 38")


def test_emitir_exige_equipo_y_plantilla_activa(ajeno, paciente_ficha, plantilla, tratante, administrador):
    with pytest.raises(ValidationError) as error:
        emitir_consentimiento(actor=ajeno.user, cliente_id=paciente_ficha.pk, plantilla_id=plantilla.pk)
    assert error.value.code == "sin_acceso"
    with pytest.raises(ValidationError) as error:
        emitir_consentimiento(actor=administrador.user, cliente_id=paciente_ficha.pk, plantilla_id=plantilla.pk)
    assert error.value.code == "sin_acceso"
    cambiar_estado_plantilla(actor=administrador.user, plantilla_id=plantilla.pk, activa=False)
    for plantilla_id, codigo in ((plantilla.pk, "plantilla_inactiva"), (10**12, "plantilla_invalida"),
                                 ("x", "plantilla_invalida"), (2**70, "plantilla_invalida")):
        with pytest.raises(ValidationError) as error:
            emitir_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, plantilla_id=plantilla_id)
        assert codigos(error.value) == {codigo}
    assert not Consentimiento.objects.exists()


# Acceptance -----------------------------------------------------------------------------------


def test_aceptar_con_firma_dibujada(emitido, tratante):
    aceptado = aceptar(emitido, tratante.user)
    assert aceptado.estado == EstadoConsentimiento.ACEPTADO
    assert aceptado.forma == FormaAceptacion.FIRMA and aceptado.firma_trazos == FIRMA
    assert (aceptado.firmante_nombre, aceptado.firmante_rut, aceptado.firmante_relacion) == (
        "Ana Pérez Soto", "12345678-5", "paciente")
    assert aceptado.aceptado_ante_id == tratante.user.pk and aceptado.aceptado_ante_nombre == "Camila Soto"
    assert aceptado.aceptado_en is not None and aceptado.documento_id is None
    assert puntos_svg(aceptado.firma_trazos)[1] == "500,200 700,220 900,180"


def test_aceptar_con_escaneo_guarda_el_documento(emitido, tratante, media):
    archivo = SimpleUploadedFile("firmado.pdf", PDF, content_type="application/pdf")
    aceptado = aceptar(emitido, tratante.user, firma=None, archivo=archivo, firmante_relacion="padre_madre",
                       firmante_nombre="Luis Pérez", firmante_rut="11.111.111-1")
    documento = ClienteDocumento.objects.get(pk=aceptado.documento_id)
    assert aceptado.forma == FormaAceptacion.ESCANEO and aceptado.firma_trazos is None
    assert documento.cliente_id == emitido.cliente_id and documento.titulo == "Consentimiento firmado: Exodoncia simple"
    assert documento.archivo.name in archivos_en(media)


@pytest.mark.parametrize("cambios,codigo", [
    ({"firmante_rut": "12.345.678-9"}, "rut_invalido"),
    ({"firmante_rut": "hola"}, "rut_invalido"),
    ({"firmante_rut": ""}, "rut_obligatorio"),
    ({"firmante_rut": "11.111.111-1"}, "rut_no_es_del_paciente"),
    ({"firmante_nombre": "   "}, "campo_obligatorio"),
    ({"firmante_relacion": "vecino"}, "relacion_invalida"),
    ({"leido": False}, "no_leido"),
    ({"firma": None}, "forma_requerida"),
    ({"firma": "[]"}, "firma_vacia"),
    ({"firma": "[[[5, 5]]]"}, "firma_vacia"),
    ({"firma": "no es json"}, "firma_invalida"),
    ({"firma": '{"a": 1}'}, "firma_invalida"),
    ({"firma": "[[[1, 2, 3]]]"}, "firma_invalida"),
    ({"firma": '[[[1e999, 2]]]'}, "firma_invalida"),
    ({"firma": "[[[true, 2], [3, 4]]]"}, "firma_invalida"),
    ({"firma": "[[[5000, 2], [3, 4]]]"}, "firma_invalida"),
    ({"firma": "[[['a', 2]]]"}, "firma_invalida"),
    ({"firma": "[" * 5000 + "]" * 5000}, "firma_invalida"),
    ({"firma": json.dumps([[[1, 1], [2, 2]]] * (MAX_TRAZOS + 1))}, "firma_grande"),
    ({"firma": json.dumps([[[i % 900, 10] for i in range(MAX_PUNTOS + 1)]])}, "firma_grande"),
    ({"firma": "x" * 70_000}, "firma_grande"),
])
def test_aceptar_con_datos_malos_no_cambia_nada(emitido, tratante, cambios, codigo):
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        aceptar(emitido, tratante.user, **cambios)
    assert codigo in codigos(error.value)
    assert all(isinstance(m, str) and m for m in error.value.messages)
    assert huella_bd() == antes


def test_escaneo_invalido_no_deja_archivo(emitido, tratante, media):
    for archivo, codigo in ((SimpleUploadedFile("x.pdf", b"MZ\x90\x00", content_type="application/pdf"),
                             "tipo_no_permitido"),
                            (SimpleUploadedFile("x.pdf", b"", content_type="application/pdf"), "archivo_vacio")):
        with pytest.raises(ValidationError) as error:
            aceptar(emitido, tratante.user, firma=None, archivo=archivo)
        assert codigo in codigos(error.value)
    # A valid scan with a bad RUT: the stored file goes with the rolled-back row.
    with pytest.raises(ValidationError):
        aceptar(emitido, tratante.user, firma=None, firmante_rut="1-1",
                archivo=SimpleUploadedFile("f.pdf", PDF, content_type="application/pdf"))
    assert archivos_en(media) == set() and not ClienteDocumento.objects.exists()


def test_aceptar_dos_veces_revocar_sin_aceptar_y_de_otro_paciente(emitido, tratante, paciente_ficha, dar_cita):
    with pytest.raises(ValidationError) as error:
        revocar_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, consentimiento_id=emitido.pk,
                               motivo="El paciente lo pidió")
    assert error.value.code == "no_aceptado"
    aceptar(emitido, tratante.user)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        aceptar(emitido, tratante.user)
    assert error.value.code == "ya_aceptado" and "ya fue aceptado" in error.value.messages[0]
    with pytest.raises(ValidationError) as error:
        anular_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, consentimiento_id=emitido.pk,
                              motivo="Por error")
    assert error.value.code == "ya_aceptado"
    otro = Cliente.objects.create(nombre_completo="Otra Persona", rut="11111111-1")
    dar_cita(tratante, otro, dias=-3)
    antes = huella_bd()
    with pytest.raises(Consentimiento.DoesNotExist):
        revocar_consentimiento(actor=tratante.user, cliente_id=otro.pk, consentimiento_id=emitido.pk,
                               motivo="No corresponde")
    with pytest.raises(ValidationError) as error:
        revocar_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, consentimiento_id=emitido.pk,
                               motivo=" ")
    assert codigos(error.value) == {"motivo_requerido"}
    assert huella_bd() == antes


def test_revocar_conserva_todo_y_es_definitivo(emitido, tratante, paciente_ficha):
    aceptado = aceptar(emitido, tratante.user)
    revocado = revocar_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk,
                                      consentimiento_id=emitido.pk, motivo="Prefiere pensarlo")
    assert revocado.estado == EstadoConsentimiento.REVOCADO and revocado.revocado_en >= aceptado.aceptado_en
    assert (revocado.firma_trazos, revocado.aceptado_en, revocado.texto) == (FIRMA, aceptado.aceptado_en, TEXTO)
    assert [e.estado for e in Consentimiento.pgh_event_models["insert"].objects.filter(
        pgh_obj_id=emitido.pk).order_by("pgh_id")] == ["emitido", "aceptado", "revocado"]
    with pytest.raises(ValidationError) as error:
        revocar_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, consentimiento_id=emitido.pk,
                               motivo="Otra vez")
    assert error.value.code == "ya_revocado"


def test_anular_antes_de_aceptar(emitido, tratante, paciente_ficha):
    anulado = anular_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, consentimiento_id=emitido.pk,
                                    motivo="Se emitió la plantilla equivocada")
    assert anulado.estado == EstadoConsentimiento.ANULADO and anulado.anulacion_motivo
    with pytest.raises(ValidationError) as error:
        aceptar(emitido, tratante.user)
    assert error.value.code == "consentimiento_anulado"


# The database has the last word ---------------------------------------------------------------


def _sql(sentencia, parametros):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sentencia, parametros)


def test_el_texto_emitido_no_cambia_ni_antes_de_aceptar(emitido):
    with pytest.raises(IntegrityError, match="texto emitido"):
        _sql("UPDATE ficha_consentimiento SET texto = 'otro' WHERE id = %s", [emitido.pk])
    with pytest.raises(IntegrityError, match="texto emitido"):
        with transaction.atomic():
            Consentimiento.objects.filter(pk=emitido.pk).update(titulo="Otro")
    with pytest.raises(IntegrityError, match="no se puede eliminar"):
        _sql("DELETE FROM ficha_consentimiento WHERE id = %s", [emitido.pk])


@pytest.mark.parametrize("columna,valor", [
    ("firmante_nombre", "Otra Persona"), ("firmante_rut", "11111111-1"), ("firma_trazos", "[[[1,1],[2,2]]]"),
    ("aceptado_en", "2020-01-01T00:00:00Z"), ("aceptado_ante_nombre", "Nadie"), ("estado", "emitido"),
    ("forma", "escaneo"), ("anulacion_motivo", "x"), ("actualizado", "2020-01-01T00:00:00Z"),
])
def test_aceptado_nada_cambia_por_sql(emitido, tratante, columna, valor):
    aceptar(emitido, tratante.user)
    antes = huella_bd()
    with pytest.raises(IntegrityError, match="aceptado: no se puede modificar"):
        _sql(f"UPDATE ficha_consentimiento SET {columna} = %s WHERE id = %s", [valor, emitido.pk])
    assert huella_bd() == antes


def test_aceptado_nada_cambia_por_el_orm_ni_se_borra(emitido, tratante):
    aceptado = aceptar(emitido, tratante.user)
    aceptado.firmante_nombre = "Otra Persona"
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            aceptado.save()
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            Consentimiento.objects.filter(pk=emitido.pk).delete()
    # The revocation is the one change, once; then nothing, not even the revocation's reason.
    _sql("UPDATE ficha_consentimiento SET estado = 'revocado', revocado_en = now(), revocacion_motivo = 'x' "
         "WHERE id = %s", [emitido.pk])
    with pytest.raises(IntegrityError, match="revocado: no se puede modificar"):
        _sql("UPDATE ficha_consentimiento SET revocacion_motivo = 'otro' WHERE id = %s", [emitido.pk])
    with pytest.raises(IntegrityError, match="revocado: no se puede modificar"):
        _sql("UPDATE ficha_consentimiento SET estado = 'aceptado', revocado_en = NULL, revocacion_motivo = '' "
             "WHERE id = %s", [emitido.pk])


def test_anulado_es_definitivo_y_el_estado_es_coherente(emitido, tratante):
    with pytest.raises(IntegrityError, match="consentimiento_estado_coherente"):
        _sql("UPDATE ficha_consentimiento SET estado = 'aceptado' WHERE id = %s", [emitido.pk])
    anular_consentimiento(actor=tratante.user, cliente_id=emitido.cliente_id, consentimiento_id=emitido.pk,
                          motivo="Por error")
    with pytest.raises(IntegrityError, match="anulado: no se puede modificar"):
        _sql("UPDATE ficha_consentimiento SET anulacion_motivo = 'otro' WHERE id = %s", [emitido.pk])


# Two people at once ---------------------------------------------------------------------------


def _a_la_vez(*acciones):
    barrera = threading.Barrier(len(acciones))
    resultados = [None] * len(acciones)

    def correr(i, accion):
        try:
            barrera.wait(timeout=10)
            accion()
            resultados[i] = "ok"
        except ValidationError as error:
            resultados[i] = ",".join(sorted(codigos(error)))
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr, args=(i, a)) for i, a in enumerate(acciones)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(timeout=30)
    return resultados


@pytest.mark.django_db(transaction=True)
def test_dos_aceptan_a_la_vez_gana_uno(paciente_ficha, tratante, crear_personal, dar_cita):
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios", nombre="Pablo", apellido="Ríos")
    dar_cita(colega, paciente_ficha, dias=-2)
    admin = crear_personal(rol=Rol.ADMINISTRADOR, username="admin.c", nombre="Rosa", apellido="Vega")
    plantilla = crear_plantilla(actor=admin.user, nombre="Endodoncia", procedimiento="Endodoncia de 36", texto=TEXTO)
    consentimiento = emitir_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk,
                                           plantilla_id=plantilla.pk)
    resultados = _a_la_vez(lambda: aceptar(consentimiento, tratante.user),
                           lambda: aceptar(consentimiento, colega.user, firmante_relacion="tutor",
                                           firmante_nombre="Tutor Legal", firmante_rut="11.111.111-1"))
    assert sorted(resultados) == ["ok", "ya_aceptado"], resultados
    assert Consentimiento.pgh_event_models["insert"].objects.filter(pgh_obj_id=consentimiento.pk).count() == 2
    # Revoke and annul at once on the accepted one: the revocation wins, the annulment is told why.
    resultados = _a_la_vez(
        lambda: revocar_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk,
                                       consentimiento_id=consentimiento.pk, motivo="Lo pidió el paciente"),
        lambda: revocar_consentimiento(actor=colega.user, cliente_id=paciente_ficha.pk,
                                       consentimiento_id=consentimiento.pk, motivo="Lo pidió por teléfono"))
    assert sorted(resultados) == ["ok", "ya_revocado"], resultados
    assert Consentimiento.objects.get(pk=consentimiento.pk).estado == EstadoConsentimiento.REVOCADO


# The PDF, the export, retention ---------------------------------------------------------------


def test_pdf_para_firmar_y_aceptado(emitido, tratante, paciente_ficha):
    por_firmar = consentimiento_en_pdf(emitido, cliente=paciente_ficha, generado_para="Camila Soto (Dentista)")
    leido = leer_pdf(por_firmar)
    assert leido.contiene("Consentimiento informado: Exodoncia simple") and leido.contiene("alveolitis")
    assert leido.contiene("Nombre de quien firma") and leido.contiene("Dentista tratante: Camila Soto")
    assert leido.contiene("Clínica Dental Sonrisa") and not leido.contiene("Aceptado ante")
    assert caracteres_fuera(por_firmar) == 0
    pdf_a_png(por_firmar, CAPTURAS, "pdf-por-firmar")
    aceptado = aceptar(emitido, tratante.user)
    firmado = consentimiento_en_pdf(aceptado, cliente=paciente_ficha, generado_para="Camila Soto (Dentista)")
    leido = leer_pdf(firmado)
    assert leido.contiene("Aceptado ante Camila Soto") and leido.contiene("12.345.678-5")
    assert leido.contiene("Firma en pantalla") and caracteres_fuera(firmado) == 0
    pdf_a_png(firmado, CAPTURAS, "pdf-aceptado")


def test_la_exportacion_incluye_los_consentimientos(emitido, tratante, paciente_ficha, plantilla):
    aceptar(emitido, tratante.user)
    revocar_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, consentimiento_id=emitido.pk,
                           motivo="Prefiere pensarlo")
    segundo = emitir_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, plantilla_id=plantilla.pk)
    anular_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, consentimiento_id=segundo.pk,
                          motivo="Emitido por error")
    datos = ficha_como_datos(paciente_ficha.pk)["consentimientos"]
    assert [(c["estado"], c["forma"]) for c in datos] == [("revocado", "firma"), ("anulado", None)]
    primero = datos[0]
    assert primero["texto"] == TEXTO and primero["firma_trazos"] == FIRMA
    assert primero["firmante"] == {"nombre": "Ana Pérez Soto", "rut": "12345678-5", "documento": "RUT 12.345.678-5",
                                   "relacion": "paciente",
                                   "relacion_texto": "El propio paciente"}
    assert primero["revocacion_motivo"] == "Prefiere pensarlo" and primero["aceptado_ante"] == "Camila Soto"
    assert datos[1]["anulacion_motivo"] == "Emitido por error" and datos[1]["firmante"] is None
    json.dumps(datos)
    copia = ficha_en_pdf(paciente_ficha.pk, generado_para="Ana Pérez Soto (Paciente)")
    pdf_a_png(copia, CAPTURAS, "pdf-copia-de-la-ficha")
    leido = leer_pdf(copia)
    assert leido.contiene("Consentimientos informados (2)") and leido.contiene("Prefiere pensarlo")
    assert leido.contiene("Emitido por error") and leido.contiene("alveolitis")


def test_un_consentimiento_hace_ficha_y_la_eliminacion_lo_conserva(emitido, tratante, paciente_ficha, crear_personal):
    assert tiene_ficha(paciente_ficha.pk)
    aceptar(emitido, tratante.user)
    recepcion = crear_personal(rol=Rol.RECEPCION, username="recepcion.c")
    eliminar_cliente(actor=recepcion.user, cliente_id=paciente_ficha.pk)
    conservado = Consentimiento.objects.get(pk=emitido.pk)
    assert (conservado.estado, conservado.texto, conservado.firma_trazos) == ("aceptado", TEXTO, FIRMA)


def test_la_purga_borra_los_consentimientos_vencidos(crear_personal, media, administrador):
    recepcion = crear_personal(rol=Rol.RECEPCION, username="recepcion.p")
    dentista = crear_personal(rol=Rol.DENTISTA, username="dr.antiguo")
    escena = ficha_antigua(recepcionista=recepcion, dentista=dentista, media=media)
    cliente = escena["cliente"]
    entonces = timezone.now() - datetime.timedelta(days=365 * 16 + 10)
    plantilla = crear_plantilla(actor=administrador.user, nombre="Implante", procedimiento="Implante en 46",
                                texto="Riesgos del implante: periimplantitis.")
    viejo = Consentimiento.objects.create(
        cliente=cliente, plantilla=plantilla, dentista=dentista, titulo="Implante", procedimiento="Implante en 46",
        texto="Riesgos del implante: periimplantitis.", emitido_por=dentista.user, emitido_en=entonces,
    )
    Consentimiento.objects.filter(pk=viejo.pk).update(
        estado="aceptado", aceptado_en=entonces, aceptado_ante=dentista.user, aceptado_ante_nombre="Dr. Antiguo",
        forma="firma", firma_trazos=FIRMA, firmante_nombre="Pedro Antiguo Rojas", firmante_rut="9876543-3",
        firmante_relacion="paciente")
    eliminar_cliente(actor=recepcion.user, cliente_id=cliente.pk)
    assert Consentimiento.objects.filter(pk=viejo.pk).exists()
    resultado = purgar_ficha(actor=None, cliente_id=cliente.pk)
    assert resultado.purgada
    assert not Consentimiento.objects.filter(pk=viejo.pk).exists()
    # The consent's copy of the text and the signer's RUT go from the trail (the template's own
    # history is the clinic's, not the patient's).
    assert [t for t, *_ in eventos_que_contienen("periimplantitis")] == ["ficha_plantillaconsentimientoevent"]
    assert eventos_que_contienen("9876543-3") == []


def test_un_consentimiento_reciente_de_una_ficha_vencida_no_se_borra_a_mano(emitido):
    """The purge's door needs an expired hold AND a consent issued over 15 years ago."""
    with pytest.raises(IntegrityError, match="no se puede eliminar"):
        _sql("DELETE FROM ficha_consentimiento WHERE id = %s", [emitido.pk])


def test_interpretar_firma_redondea_y_acota():
    assert interpretar_firma([[[0.4, 399.6], [1000, 0]]]) == [[[0, 400], [1000, 0]]]
    assert interpretar_firma("[[[1, 1]], [[2, 2], [3, 3]]]") == [[[1, 1]], [[2, 2], [3, 3]]]


def test_un_nombre_largo_del_personal_cabe_en_aceptado_ante(emitido, tratante):
    """A staff name may be 301 characters (two 150-character fields); the column keeps 200."""
    get_user_model().objects.filter(pk=tratante.user_id).update(first_name="A" * 150, last_name="B" * 150)
    tratante.user.refresh_from_db()
    aceptado = aceptar(emitido, tratante.user)
    assert aceptado.estado == "aceptado" and aceptado.aceptado_ante_nombre == ("A" * 150 + " " + "B" * 49)
