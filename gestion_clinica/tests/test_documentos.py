"""Patients' documents on the staff site: who uploads, downloads and deletes; errors in
Spanish with nothing stored; download headers; the record's Documentos card.

The documents are part of the clinical record (issue 15): everyone on the staff uploads
(reception scans the x-ray a patient brings), only the care team lists, downloads and deletes
them, and every one of those reads is logged, refused attempts too."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ficha.models import AccesoFicha, LecturaFicha, Seccion, Via
from pacientes.documentos import subir_documento
from pacientes.models import ClienteDocumento
from cuentas.presencial import crear_cliente_presencial
from pacientes.services import desactivar_cliente

PDF = b"%PDF-1.7\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def paciente(recepcionista):
    return crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz Rojas")


@pytest.fixture
def documento(paciente, recepcionista):
    return subir_documento(actor=recepcionista.user, cliente_id=paciente.pk, titulo="Radiografía panorámica",
                           archivo=SimpleUploadedFile("Radiografía 2026.pdf", PDF))


@pytest.fixture
def del_equipo(dentista, paciente):
    """The ``dentista`` client's user, assigned to ``paciente``'s treatment (care team)."""
    AccesoFicha.objects.create(cliente=paciente, dentista=dentista, motivo="Tratante")
    return dentista


def subir_url(cliente):
    return reverse("gestion:paciente_documento_subir", args=[cliente.pk])


def bajar_url(documento, cliente=None):
    return reverse("gestion:paciente_documento", args=[(cliente or documento.cliente).pk, documento.pk])


def eliminar_url(documento, cliente=None):
    return reverse("gestion:paciente_documento_eliminar", args=[(cliente or documento.cliente).pk, documento.pk])


def archivo(nombre="rx.pdf", contenido=PDF, tipo="application/pdf"):
    return SimpleUploadedFile(nombre, contenido, content_type=tipo)


def archivos_en(media):
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


# Who may do what -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["administrador", "superusuario", "recepcion", "dentista"])
def test_personal_sube(clientes, paciente, persona, media):
    respuesta = clientes[persona].post(subir_url(paciente), {"titulo": "Radiografía", "archivo": archivo()})
    assert respuesta.status_code == 302
    assert respuesta.url == reverse("gestion:paciente", args=[paciente.pk]) + "#documentos"
    documento = ClienteDocumento.objects.get(cliente=paciente)
    assert documento.titulo == "Radiografía" and len(archivos_en(media)) == 1
    pagina = clientes[persona].get(respuesta.url).text
    assert "Documento «Radiografía» adjuntado." in pagina


@pytest.mark.parametrize("persona,esperado", [("anonimo", 302), ("paciente", 403), ("dentista_inactivo", 403)])
def test_fuera_del_personal_no_sube(clientes, paciente, persona, esperado, media):
    respuesta = clientes[persona].post(subir_url(paciente), {"titulo": "Radiografía", "archivo": archivo()})
    assert respuesta.status_code == esperado
    assert not ClienteDocumento.objects.exists() and archivos_en(media) == []


def test_subir_solo_por_post(clientes, paciente):
    assert clientes["recepcion"].get(subir_url(paciente)).status_code == 405


@pytest.fixture
def subido_por_el_dentista(paciente, del_equipo):
    """A document the care team's dentist just uploaded (the only kind anyone may delete: a
    misfiled upload, by its uploader, within 24 hours)."""
    return subir_documento(actor=del_equipo.user, cliente_id=paciente.pk, titulo="Radiografía panorámica",
                           archivo=SimpleUploadedFile("Radiografía 2026.pdf", PDF))


def test_quien_lo_subio_lo_elimina_dentro_de_24_horas(clientes, subido_por_el_dentista, media):
    documento = subido_por_el_dentista
    confirmacion = clientes["dentista"].get(eliminar_url(documento))
    assert confirmacion.status_code == 200
    assert "¿Eliminar el documento «Radiografía panorámica»?" in confirmacion.text
    assert ClienteDocumento.objects.filter(pk=documento.pk).exists(), "el GET solo pregunta"

    respuesta = clientes["dentista"].post(eliminar_url(documento))
    assert respuesta.status_code == 302
    assert not ClienteDocumento.objects.filter(pk=documento.pk).exists()
    # Test transactions never commit, so the file's removal (on commit) is proven in pacientes' tests.
    otra_vez = clientes["dentista"].post(eliminar_url(documento), follow=True)
    assert otra_vez.status_code == 200
    assert "Ese documento ya había sido eliminado; no se hizo nada." in otra_vez.text
    assert clientes["dentista"].get(eliminar_url(documento)).status_code == 404
    assert set(LecturaFicha.objects.filter(seccion=Seccion.DOCUMENTO, objeto_id=documento.pk)
               .values_list("via", flat=True)) == {Via.ASIGNADO}


def test_la_ficha_conserva_los_documentos_de_otros_y_los_antiguos(clientes, documento, subido_por_el_dentista):
    """Uploaded by reception, or by the dentist more than 24 hours ago: part of the record, kept.
    The page offers no "Eliminar" and explains; a POST anyway is refused with that message."""
    antiguo = subido_por_el_dentista
    ClienteDocumento.objects.filter(pk=antiguo.pk).update(creado=antiguo.creado - datetime.timedelta(hours=25))
    for doc in (documento, antiguo):
        pagina = clientes["dentista"].get(eliminar_url(doc)).text
        assert "Los documentos de la ficha clínica se conservan" in pagina
        assert "Sí, eliminar el documento" not in pagina
        respuesta = clientes["dentista"].post(eliminar_url(doc), follow=True)
        assert "Los documentos de la ficha clínica se conservan" in respuesta.text
        assert ClienteDocumento.objects.filter(pk=doc.pk).exists()
    ficha = clientes["dentista"].get(reverse("gestion:paciente", args=[documento.cliente_id])).text
    assert eliminar_url(documento) not in ficha and eliminar_url(antiguo) not in ficha
    assert bajar_url(documento) in ficha and bajar_url(antiguo) in ficha


@pytest.mark.parametrize("persona", ["administrador", "superusuario", "recepcion", "dentista"])
def test_fuera_del_equipo_no_elimina(clientes, documento, persona):
    assert clientes[persona].get(eliminar_url(documento)).status_code == 403
    assert clientes[persona].post(eliminar_url(documento)).status_code == 403
    assert ClienteDocumento.objects.filter(pk=documento.pk).exists()
    assert list(LecturaFicha.objects.values_list("via", "objeto_id")) == [(Via.DENEGADO, documento.pk)] * 2


def test_el_equipo_descarga_con_cabeceras_seguras(clientes, documento, del_equipo):
    respuesta = clientes["dentista"].get(bajar_url(documento))
    assert respuesta.status_code == 200
    assert b"".join(respuesta.streaming_content) == PDF
    assert respuesta["Content-Type"] == "application/pdf"
    assert respuesta["Content-Disposition"] == "attachment; filename*=utf-8''Radiograf%C3%ADa%202026.pdf"
    assert respuesta["X-Content-Type-Options"] == "nosniff"
    assert respuesta["Cache-Control"] == "private, no-store"
    assert respuesta["Content-Length"] == str(len(PDF))
    lectura = LecturaFicha.objects.get()
    assert (lectura.usuario_id, lectura.cliente_id, lectura.seccion, lectura.objeto_id, lectura.via) == (
        del_equipo.user.pk, documento.cliente_id, Seccion.DOCUMENTO, documento.pk, Via.ASIGNADO)


@pytest.mark.parametrize("persona", ["administrador", "superusuario", "recepcion", "dentista"])
def test_descarga_fuera_del_equipo_es_403_y_queda_registrada(clientes, documento, persona):
    respuesta = clientes[persona].get(bajar_url(documento))
    assert respuesta.status_code == 403
    assert PDF.decode() not in respuesta.text and "es solo para su equipo de cuidado" in respuesta.text
    # Only a dentist outside the team is offered urgent access.
    assert ('id="form-urgencia"' in respuesta.text) == (persona == "dentista")
    lectura = LecturaFicha.objects.get()
    assert (lectura.via, lectura.seccion, lectura.objeto_id) == (Via.DENEGADO, Seccion.DOCUMENTO, documento.pk)


@pytest.mark.parametrize("persona,esperado", [("anonimo", 302), ("paciente", 403)])
def test_descarga_fuera_del_personal(clientes, documento, persona, esperado):
    assert clientes[persona].get(bajar_url(documento)).status_code == esperado


def test_documento_por_la_ficha_de_otro_paciente_es_404(clientes, documento, recepcionista, del_equipo):
    otro = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Otra Persona")
    AccesoFicha.objects.create(cliente=otro, dentista=del_equipo, motivo="Tratante")
    assert clientes["dentista"].get(bajar_url(documento, otro)).status_code == 404
    assert clientes["dentista"].get(eliminar_url(documento, otro)).status_code == 404
    clientes["dentista"].post(eliminar_url(documento, otro))
    assert ClienteDocumento.objects.filter(pk=documento.pk).exists()
    # And through a patient whose record they may not read: refused before anything is looked up.
    tercero = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Tercera Persona")
    assert clientes["dentista"].get(bajar_url(documento, tercero)).status_code == 403


def test_ids_inexistentes(clientes, paciente, documento, del_equipo):
    assert clientes["recepcion"].post(reverse("gestion:paciente_documento_subir", args=[987_654]),
                                      {"titulo": "x", "archivo": archivo()}).status_code == 404
    assert clientes["dentista"].get(reverse("gestion:paciente_documento", args=[paciente.pk, 987_654])).status_code == 404
    assert clientes["dentista"].get(reverse("gestion:paciente_documento", args=[987_654, 1])).status_code == 404
    assert not ClienteDocumento.objects.exclude(pk=documento.pk).exists()


def test_archivo_perdido_en_el_disco_es_404(clientes, documento, media, del_equipo):
    (media / documento.archivo.name).unlink()
    respuesta = clientes["dentista"].get(bajar_url(documento))
    assert respuesta.status_code == 404


# Bad input: a Spanish message next to the field, nothing stored, never a 500 --------------------


@pytest.mark.parametrize("datos,campo,mensaje", [
    ({"titulo": ""}, "titulo", "Ingrese un título para el documento"),
    ({"titulo": "x" * 121}, "titulo", "El título no puede superar 120 caracteres."),
    ({"titulo": "x" * 5000}, "titulo", "El texto es demasiado largo."),
    ({"archivo": None}, "archivo", "Elija el archivo que quiere adjuntar."),
    ({"archivo": "no-es-un-archivo"}, "archivo", "Elija el archivo que quiere adjuntar."),
    ({"archivo": ("vacio.pdf", b"")}, "archivo", "El archivo está vacío. Elija otro archivo."),
    ({"archivo": ("virus.pdf", b"MZ\x90\x00\x03")}, "archivo", "Solo se aceptan documentos PDF, JPG o PNG."),
    ({"archivo": ("pagina.pdf", b"<html><script>alert(1)</script>")}, "archivo", "Solo se aceptan documentos PDF, JPG o PNG."),
    ({"archivo": ("dibujo.pdf", b"<svg onload=alert(1)>")}, "archivo", "Solo se aceptan documentos PDF, JPG o PNG."),
    ({"archivo": ("grande.pdf", PDF.ljust(MB + 1, b" "))}, "archivo", "el máximo es 1 MB"),
])
def test_errores_en_castellano_y_nada_guardado(clientes, paciente, settings, media, datos, campo, mensaje):
    settings.CLINICA_DOCUMENTO_MAX_MB = 1
    enviado = {"titulo": "Radiografía", "archivo": archivo()}
    enviado.update(datos)
    if isinstance(enviado["archivo"], tuple):
        enviado["archivo"] = archivo(*enviado["archivo"])
    if enviado["archivo"] is None:
        del enviado["archivo"]
    respuesta = clientes["recepcion"].post(subir_url(paciente), enviado)
    assert respuesta.status_code == 200
    assert mensaje in respuesta.text
    assert f'id="id_{campo}_error"' in respuesta.text
    assert 'enctype="multipart/form-data"' in respuesta.text
    assert not ClienteDocumento.objects.exists() and archivos_en(media) == []


def test_formulario_sin_multipart_no_es_un_500(clientes, paciente):
    respuesta = clientes["recepcion"].post(subir_url(paciente), "titulo=x", content_type="application/x-www-form-urlencoded")
    assert respuesta.status_code == 200 and "Elija el archivo que quiere adjuntar." in respuesta.text


def test_paciente_desactivado_no_recibe_documentos(clientes, paciente, recepcionista, media):
    desactivar_cliente(actor=recepcionista.user, cliente_id=paciente.pk)
    ficha = clientes["recepcion"].get(reverse("gestion:paciente", args=[paciente.pk])).text
    assert "no se le pueden adjuntar documentos" in ficha and subir_url(paciente) not in ficha
    respuesta = clientes["recepcion"].post(subir_url(paciente), {"titulo": "Radiografía", "archivo": archivo()})
    assert respuesta.status_code == 200
    assert "Este paciente está desactivado: no se le pueden adjuntar documentos." in respuesta.text
    assert not ClienteDocumento.objects.exists() and archivos_en(media) == []


def test_titulo_con_etiquetas_se_muestra_como_texto(clientes, paciente):
    clientes["recepcion"].post(subir_url(paciente), {"titulo": "<script>alert(1)</script>",
                                                    "archivo": archivo('<img src=x onerror=alert(1)>.pdf')})
    texto = clientes["recepcion"].get(reverse("gestion:paciente", args=[paciente.pk])).text
    assert "<script>alert(1)" not in texto and "<img src=x" not in texto
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in texto


# The record's Documentos card --------------------------------------------------------------------


def test_tarjeta_de_documentos(clientes, documento, paciente, recepcionista, del_equipo):
    subir_documento(actor=recepcionista.user, cliente_id=paciente.pk, titulo="Foto intraoral",
                    archivo=archivo("foto.png", PNG, "image/png"))
    texto = clientes["dentista"].get(reverse("gestion:paciente", args=[paciente.pk])).text
    assert 'id="documentos"' in texto
    assert "Radiografía panorámica" in texto and "Radiografía 2026.pdf" in texto and "Foto intraoral" in texto
    assert "Pedro Rojas" in texto  # who uploaded
    assert texto.index("Foto intraoral") < texto.index("Radiografía panorámica"), "lo más nuevo primero"
    # Reception uploaded both: the dentist downloads them but cannot delete them (the record's).
    assert f'href="{bajar_url(documento)}"' in texto and f'href="{eliminar_url(documento)}"' not in texto
    assert f'action="{subir_url(paciente)}" enctype="multipart/form-data"' in texto
    # The list is a read of the record: logged with the allergies' (the page's two parts).
    assert sorted(LecturaFicha.objects.values_list("seccion", "via")) == [
        (Seccion.ANTECEDENTES, Via.ASIGNADO), (Seccion.DOCUMENTO, Via.ASIGNADO)]

    # The desk: how many, never which; and it still attaches (the x-ray the patient brought).
    for persona in ("recepcion", "administrador"):
        del_meson = clientes[persona].get(reverse("gestion:paciente", args=[paciente.pk])).text
        assert "2 documentos en la ficha clínica." in del_meson
        assert "Radiografía 2026.pdf" not in del_meson and "Foto intraoral" not in del_meson
        assert bajar_url(documento) not in del_meson and eliminar_url(documento) not in del_meson
        assert f'action="{subir_url(paciente)}" enctype="multipart/form-data"' in del_meson
    assert LecturaFicha.objects.count() == 2


def test_ficha_sin_documentos(clientes, paciente):
    assert "Sin documentos adjuntos." in clientes["recepcion"].get(reverse("gestion:paciente", args=[paciente.pk])).text


@pytest.mark.parametrize("persona", ["recepcion", "dentista"])
def test_ficha_consultas_fijas_con_documentos(clientes, paciente, documento, recepcionista, del_equipo, persona,
                                              django_assert_num_queries):
    cliente = clientes[persona]
    url = reverse("gestion:paciente", args=[paciente.pk])
    with CaptureQueriesContext(connection) as pocas:
        cliente.get(url)
    for n in range(5):
        subir_documento(actor=recepcionista.user, cliente_id=paciente.pk, titulo=f"Doc {n}", archivo=archivo())
    with django_assert_num_queries(len(pocas)):
        cliente.get(url)


def test_confirmacion_de_eliminar_paciente_cuenta_documentos(clientes, documento, paciente):
    # Issue 15: documents are part of the clinical record, kept under legal hold with it.
    texto = clientes["recepcion"].get(reverse("gestion:paciente_eliminar", args=[paciente.pk])).text
    assert "1 documento adjunto (radiografías, consentimientos, etc.)." in texto
    respuesta = clientes["recepcion"].post(reverse("gestion:paciente_eliminar", args=[paciente.pk]), follow=True)
    assert "queda en resguardo legal" in respuesta.text and "documento(s) eliminado(s)" not in respuesta.text
    assert ClienteDocumento.objects.filter(cliente=paciente).count() == 1


def test_ids_fuera_de_rango_y_de_otro_paciente_no_dejan_registro(clientes, documento, recepcionista, del_equipo):
    """An id out of bigint range is a 404 (not a 500 on the log's column); a document of
    another patient or one that does not exist is a 404 before the log names it."""
    otro = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Otra Persona")
    AccesoFicha.objects.create(cliente=otro, dentista=del_equipo, motivo="Tratante")
    c = documento.cliente_id
    urls = [reverse("gestion:paciente_documento", args=[c, 99999999999999999999]),
            reverse("gestion:paciente_documento", args=[2**63, documento.pk]),
            reverse("gestion:paciente_documento_eliminar", args=[c, 2**63]),
            reverse("gestion:paciente_documento", args=[c, 987_654]),
            reverse("gestion:paciente_documento_eliminar", args=[c, 987_654]),
            bajar_url(documento, otro), eliminar_url(documento, otro)]
    for url in urls:
        assert clientes["dentista"].get(url).status_code == 404, url
    assert clientes["dentista"].post(bajar_url(documento)).status_code == 405
    assert not LecturaFicha.objects.exists()
    assert ClienteDocumento.objects.filter(pk=documento.pk).exists()
