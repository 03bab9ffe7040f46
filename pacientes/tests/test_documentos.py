"""Patients' documents: type by magic bytes, limits, the row and the file kept together on
upload, delete and the patient's erasure (Ley 21.719)."""

import datetime
import logging
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from citas.tests.test_services import registrar_paciente
from notificaciones.models import Notificacion
from pruebas.soporte import FallaInyectada, ejecutar_worker, falla_tras_escritura, trabajos
from pacientes.documentos import eliminar_documento, nombre_original_seguro, subir_documento
from pacientes.models import Cliente, ClienteDocumento
from cuentas.presencial import crear_cliente_presencial
from pacientes.services import desactivar_cliente
from cuentas.eliminacion import eliminar_cliente, resumen_eliminacion

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads go to a temporary folder, never into the project."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def archivos_en(media):
    """Every stored file, as storage names (``documentos/<id>/<hex>.<ext>``)."""
    if not media.exists():
        return set()
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}


def subido(nombre="informe.pdf", contenido=PDF, tipo="application/pdf"):
    return SimpleUploadedFile(nombre, contenido, content_type=tipo)


@pytest.fixture
def cliente(recepcionista):
    return crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Rosa Vera Díaz")


def subir(actor, cliente, **extra):
    datos = {"archivo": subido(), "titulo": "Radiografía panorámica"}
    datos.update(extra)
    return subir_documento(actor=actor, cliente_id=cliente.pk, **datos)


def codigo(excinfo, campo):
    return [e.code for e in excinfo.value.error_dict[campo]]


# Upload ------------------------------------------------------------------------------------------


def test_pdf_queda_guardado_con_nombre_aleatorio(dentista, cliente, media):
    documento = subir(dentista.user, cliente, archivo=subido("../../etc/Informe final.pdf"),
                      titulo="  Radiografía   panorámica ")

    documento.refresh_from_db()
    assert re.fullmatch(rf"documentos/{cliente.pk}/[0-9a-f]{{32}}\.pdf", documento.archivo.name)
    assert archivos_en(media) == {documento.archivo.name}
    assert (media / documento.archivo.name).read_bytes() == PDF
    assert (documento.titulo, documento.nombre_original, documento.tipo_contenido, documento.tamano) == (
        "Radiografía panorámica", "Informe final.pdf", "application/pdf", len(PDF),
    )
    assert documento.subido_por == dentista.user
    assert documento.events.get().pgh_context.metadata["servicio"] == "subir_documento"


@pytest.mark.parametrize("contenido,tipo,extension", [(PDF, "application/pdf", ".pdf"), (PNG, "image/png", ".png"),
                                                      (JPEG, "image/jpeg", ".jpg")])
def test_tipos_aceptados_por_sus_bytes(recepcionista, cliente, contenido, tipo, extension):
    # The browser's type and the name say nothing: the bytes decide.
    documento = subir(recepcionista.user, cliente, archivo=subido("archivo.bin", contenido, "text/plain"))
    assert documento.tipo_contenido == tipo and documento.archivo.name.endswith(extension)


def test_png_renombrado_pdf_es_png(recepcionista, cliente):
    documento = subir(recepcionista.user, cliente, archivo=subido("radiografia.pdf", PNG, "application/pdf"))
    assert documento.tipo_contenido == "image/png"
    assert documento.archivo.name.endswith(".png")
    assert documento.nombre_original == "radiografia.pdf"
    assert documento.nombre_descarga == "radiografia.png"


@pytest.mark.parametrize("contenido", [
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",  # a Windows .exe
    b"<!doctype html><script>alert(1)</script>",
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b"GIF89a\x01\x00\x01\x00",
    b"PK\x03\x04 a .docx is a zip",
    b" %PDF-1.7 (not at the start)",
    b"%PD",
])
def test_otros_tipos_con_nombre_pdf_rechazados(recepcionista, cliente, media, contenido):
    with pytest.raises(ValidationError) as exc:
        subir(recepcionista.user, cliente, archivo=subido("informe.pdf", contenido, "application/pdf"))
    assert codigo(exc, "archivo") == ["tipo_no_permitido"]
    assert "PDF, JPG o PNG" in exc.value.error_dict["archivo"][0].message
    assert not ClienteDocumento.objects.exists() and archivos_en(media) == set()


def test_limite_de_tamano(settings, recepcionista, cliente, media):
    settings.CLINICA_DOCUMENTO_MAX_MB = 1
    justo = subir(recepcionista.user, cliente, archivo=subido(contenido=PDF.ljust(MB, b" ")))
    assert justo.tamano == MB
    with pytest.raises(ValidationError) as exc:
        subir(recepcionista.user, cliente, archivo=subido(contenido=PDF.ljust(MB + 1, b" ")))
    assert codigo(exc, "archivo") == ["archivo_muy_grande"]
    assert "el máximo es 1 MB" in exc.value.error_dict["archivo"][0].message
    assert ClienteDocumento.objects.count() == 1 and len(archivos_en(media)) == 1


def test_sin_ajuste_el_limite_es_10_mb(settings, recepcionista, cliente):
    del settings.CLINICA_DOCUMENTO_MAX_MB
    with pytest.raises(ValidationError) as exc:
        subir(recepcionista.user, cliente, archivo=subido(contenido=PDF.ljust(10 * MB + 1, b" ")))
    assert codigo(exc, "archivo") == ["archivo_muy_grande"]


def test_vacio_o_sin_archivo(recepcionista, cliente, media):
    with pytest.raises(ValidationError) as exc:
        subir(recepcionista.user, cliente, archivo=subido(contenido=b""))
    assert codigo(exc, "archivo") == ["archivo_vacio"]
    with pytest.raises(ValidationError) as exc:
        subir(recepcionista.user, cliente, archivo=None)
    assert codigo(exc, "archivo") == ["archivo_obligatorio"]
    assert archivos_en(media) == set()


@pytest.mark.parametrize("titulo,esperado", [
    ("", "titulo_obligatorio"), ("   ", "titulo_obligatorio"), ("\u200b\n\t", "titulo_obligatorio"),
    (None, "titulo_obligatorio"), ("x" * 121, "titulo_muy_largo"),
])
def test_titulo(recepcionista, cliente, titulo, esperado):
    with pytest.raises(ValidationError) as exc:
        subir(recepcionista.user, cliente, titulo=titulo)
    assert codigo(exc, "titulo") == [esperado]
    assert not ClienteDocumento.objects.exists()


def test_titulo_de_120_y_con_etiquetas_se_guarda_como_texto(recepcionista, cliente):
    assert subir(recepcionista.user, cliente, titulo="x" * 120).titulo == "x" * 120
    assert subir(recepcionista.user, cliente, titulo="<script>alert(1)</script>").titulo == "<script>alert(1)</script>"


def test_titulo_y_archivo_se_informan_juntos(recepcionista, cliente):
    with pytest.raises(ValidationError) as exc:
        subir(recepcionista.user, cliente, titulo="", archivo=subido(contenido=b"MZ"))
    assert codigo(exc, "titulo") == ["titulo_obligatorio"]
    assert codigo(exc, "archivo") == ["tipo_no_permitido"]


def test_paciente_inactivo_o_inexistente(recepcionista, cliente, media):
    desactivar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)
    with pytest.raises(ValidationError) as exc:
        subir(recepcionista.user, cliente)
    assert exc.value.code == "cliente_inactivo"
    with pytest.raises(Cliente.DoesNotExist):
        subir_documento(actor=recepcionista.user, cliente_id=987_654, archivo=subido(), titulo="Informe")
    assert not ClienteDocumento.objects.exists() and archivos_en(media) == set()


@pytest.mark.parametrize("nombre,esperado", [
    ("C:\\Users\\ana\\Mis documentos\\rx.png", "rx.png"),
    ("../../etc/passwd", "passwd"),
    ('comillas "dobles".pdf', 'comillas "dobles".pdf'),
    ("línea\r\nnueva.pdf", "línea nueva.pdf"),
    ("\u202egpj.exe", "gpj.exe"),  # right-to-left override dropped
    ("", "documento"),
    ("...", "documento"),
    ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
])
def test_nombre_original_seguro(nombre, esperado):
    assert nombre_original_seguro(nombre) == esperado


# The row and the file stay together ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fallas_al_subir_no_dejan_archivo(probar_fallas, recepcionista, cliente, media):
    fallas = []

    def subir_y_revisar():
        try:
            subir(recepcionista.user, cliente)
        except FallaInyectada:
            fallas.append(1)
            assert archivos_en(media) == set(), "un documento que no quedó en la base no deja archivo"
            raise

    assert probar_fallas(subir_y_revisar) >= 1
    assert fallas
    documento = ClienteDocumento.objects.get()
    assert archivos_en(media) == {documento.archivo.name}


@pytest.mark.django_db(transaction=True)
def test_falla_al_confirmar_borra_el_archivo(recepcionista, cliente, media):
    """The commit itself fails (PostgreSQL checks foreign keys at commit, and here the row is
    pointed at a patient that does not exist): no row, no file, a Spanish message."""

    def apuntar_a_nadie(execute, sql, params, many, context):
        resultado = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith('INSERT INTO "PACIENTES_CLIENTEDOCUMENTO"'):
            with connection.cursor() as otro:
                otro.execute('UPDATE "pacientes_clientedocumento" SET "cliente_id" = 987654')
        return resultado

    with connection.execute_wrapper(apuntar_a_nadie), pytest.raises(ValidationError) as exc:
        subir(recepcionista.user, cliente)
    assert exc.value.code == "integridad"
    assert not ClienteDocumento.objects.exists()
    assert archivos_en(media) == set()


def test_eliminar_documento_borra_el_archivo_solo_tras_el_commit(
    recepcionista, cliente, media, django_capture_on_commit_callbacks
):
    documento = subir(recepcionista.user, cliente)
    ruta = media / documento.archivo.name
    with django_capture_on_commit_callbacks(execute=False) as al_confirmar:
        eliminar_documento(actor=recepcionista.user, documento_id=documento.pk)
    assert not ClienteDocumento.objects.exists()
    assert ruta.exists(), "antes del commit el archivo sigue ahí"
    for callback in al_confirmar:
        callback()
    assert not ruta.exists()
    with pytest.raises(ClienteDocumento.DoesNotExist):
        eliminar_documento(actor=recepcionista.user, documento_id=documento.pk)


def test_eliminar_documento_de_otro_paciente_no_encuentra_nada(recepcionista, cliente, media):
    documento = subir(recepcionista.user, cliente)
    otro = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Otra Persona")
    with pytest.raises(ClienteDocumento.DoesNotExist):
        eliminar_documento(actor=recepcionista.user, documento_id=documento.pk, cliente_id=otro.pk)
    assert ClienteDocumento.objects.filter(pk=documento.pk).exists()
    assert archivos_en(media) == {documento.archivo.name}


def test_solo_quien_lo_subio_lo_elimina_y_dentro_de_24_horas(recepcionista, dentista, cliente, media):
    """Documents are part of the record kept 15 years: deleting one only corrects a misfiled upload."""
    documento = subir(recepcionista.user, cliente)
    with pytest.raises(ValidationError) as error:
        eliminar_documento(actor=dentista.user, documento_id=documento.pk)
    assert error.value.code == "documento_conservado"
    assert error.value.messages[0].startswith("Los documentos de la ficha clínica se conservan")
    ClienteDocumento.objects.filter(pk=documento.pk).update(creado=documento.creado - datetime.timedelta(hours=25))
    with pytest.raises(ValidationError) as error:
        eliminar_documento(actor=recepcionista.user, documento_id=documento.pk)
    assert error.value.code == "documento_conservado"
    assert archivos_en(media) == {documento.archivo.name}
    ClienteDocumento.objects.filter(pk=documento.pk).update(creado=documento.creado - datetime.timedelta(hours=23))
    eliminar_documento(actor=recepcionista.user, documento_id=documento.pk)
    assert not ClienteDocumento.objects.filter(pk=documento.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_eliminar_documento_que_falla_conserva_el_archivo(recepcionista, cliente, media):
    documento = subir(recepcionista.user, cliente)
    with falla_tras_escritura(1), pytest.raises(FallaInyectada):
        eliminar_documento(actor=recepcionista.user, documento_id=documento.pk)
    assert ClienteDocumento.objects.filter(pk=documento.pk).exists()
    assert archivos_en(media) == {documento.archivo.name}
    eliminar_documento(actor=recepcionista.user, documento_id=documento.pk)
    assert archivos_en(media) == set()


def test_archivo_que_no_se_puede_borrar_queda_registrado(recepcionista, cliente, media, caplog,
                                                         django_capture_on_commit_callbacks):
    documento = subir(recepcionista.user, cliente)
    carpeta = (media / documento.archivo.name).parent
    carpeta.chmod(0o500)  # root ignores this: the check below only holds when it applies
    try:
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            eliminar_documento(actor=recepcionista.user, documento_id=documento.pk)
    finally:
        carpeta.chmod(0o700)
    assert not ClienteDocumento.objects.exists()
    if (media / documento.archivo.name).exists():
        assert "documento_archivo_no_borrado" in caplog.text


# eliminar_cliente: erasure of documents and notifications --------------------------------------


@pytest.fixture
def con_documentos(recepcionista):
    """A portal patient invited by the clinic (a pending invitation e-mail) with two documents,
    and another patient with their own document and notification."""
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Rosa Vera Díaz",
                                       email="rosa@correo.example", enviar_invitacion=True)
    subir(recepcionista.user, cliente)
    subir(recepcionista.user, cliente, archivo=subido("rx.png", PNG, "image/png"))
    otro = registrar_paciente(44).cliente
    ajeno = subir(recepcionista.user, otro, titulo="Presupuesto")
    return cliente, otro, ajeno


def test_eliminar_cliente_conserva_documentos_y_borra_avisos(recepcionista, con_documentos, media,
                                                           django_capture_on_commit_callbacks):
    """Issue 15: documents are part of the clinical record, kept under legal hold when the
    patient is erased (``ficha.retencion``); the purge deletes them and their files later
    (``ficha/tests/test_retencion.py``). The notices still go."""
    cliente, otro, ajeno = con_documentos
    avisos_del_otro = Notificacion.objects.filter(cliente=otro).count()
    assert Notificacion.objects.filter(cliente=cliente).count() == 1
    todos = archivos_en(media)
    previsto = resumen_eliminacion(cliente_id=cliente.pk)
    assert (previsto.documentos_eliminados, previsto.documentos_conservados, previsto.notificaciones_eliminadas) == (
        0, 2, 1)

    with django_capture_on_commit_callbacks(execute=True):
        resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)

    assert resumen == previsto and resumen.ficha_en_resguardo
    assert ClienteDocumento.objects.filter(cliente_id=cliente.pk).count() == 2
    assert archivos_en(media) == todos
    assert not Notificacion.objects.filter(destinatario="rosa@correo.example").exists()
    # Someone else's data is untouched.
    assert Notificacion.objects.filter(cliente=otro).count() == avisos_del_otro
    assert ClienteDocumento.objects.filter(pk=ajeno.pk).exists()


def test_eliminar_cliente_sin_documentos_ni_avisos(recepcionista, cliente):
    resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)
    assert (resumen.documentos_eliminados, resumen.notificaciones_eliminadas) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_fallas_en_eliminar_cliente_no_borran_archivos(probar_fallas, recepcionista, con_documentos, media):
    """Issue 15: erasing a patient with documents keeps them (legal hold), files included, at
    every injected fault and at the end. The purge's own fault test, which deletes files after
    commit, is ``ficha/tests/test_retencion.py::test_fallas_en_la_purga_no_borran_archivos``."""
    cliente, _, ajeno = con_documentos
    todos = archivos_en(media)
    assert len(todos) == 3

    def eliminar():
        try:
            eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)
        finally:
            assert archivos_en(media) == todos

    assert probar_fallas(eliminar) >= 6
    assert archivos_en(media) == todos
    assert not Notificacion.objects.filter(destinatario="rosa@correo.example").exists()


@pytest.mark.django_db(transaction=True)
def test_aviso_pendiente_de_paciente_eliminado_nunca_sale(recepcionista, servidor_smtp, cola_vacia, caplog):
    cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Rosa Vera Díaz",
                                       email="rosa@correo.example", enviar_invitacion=True)
    assert len(trabajos(tarea="notificaciones.enviar")) == 1
    eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)

    with caplog.at_level(logging.WARNING):
        ejecutar_worker()

    assert servidor_smtp.mensajes == []
    assert "notificacion_inexistente" in caplog.text
    assert [t["status"] for t in trabajos(tarea="notificaciones.enviar")] == ["succeeded"]
