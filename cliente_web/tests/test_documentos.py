"""Mis documentos on the portal: only the owner lists and downloads, another patient's id is a
404, files come as attachments that the browser neither sniffs nor caches."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cliente_web.tests.conftest import cliente_de
from pacientes.documentos import subir_documento
from pacientes.models import ClienteDocumento
from pacientes.services import desactivar_cliente

PDF = b"%PDF-1.7\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
LISTA = reverse("portal:mis_documentos")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def adjuntar(recepcionista):
    def adjuntar(user, titulo="Radiografía panorámica", nombre="radiografia.pdf", contenido=PDF):
        return subir_documento(actor=recepcionista.user, cliente_id=user.cliente.pk, titulo=titulo,
                               archivo=SimpleUploadedFile(nombre, contenido, content_type="application/pdf"))

    return adjuntar


def url(documento):
    return reverse("portal:documento", args=[getattr(documento, "pk", documento)])


def test_lista_vacia(portal):
    respuesta = portal.get(LISTA)
    assert respuesta.status_code == 200
    assert "La clínica aún no ha adjuntado documentos" in respuesta.text


def test_lista_del_dueno_lo_mas_nuevo_primero(portal, paciente, otro_paciente, adjuntar):
    viejo = adjuntar(paciente, titulo="Presupuesto")
    nuevo = adjuntar(paciente, titulo="Radiografía panorámica")
    ajeno = adjuntar(otro_paciente, titulo="Documento de otra persona")
    texto = portal.get(LISTA).text
    assert texto.index("Radiografía panorámica") < texto.index("Presupuesto")
    assert f'href="{url(nuevo)}"' in texto and f'href="{url(viejo)}"' in texto
    assert "Documento de otra persona" not in texto and url(ajeno) not in texto
    assert "La clínica aún no ha adjuntado documentos" not in texto


def test_inicio_enlaza_a_mis_documentos(portal):
    assert f'href="{LISTA}"' in portal.get(reverse("portal:inicio")).text


def test_descarga_del_dueno(portal, paciente, adjuntar):
    documento = adjuntar(paciente)
    respuesta = portal.get(url(documento))
    assert respuesta.status_code == 200
    assert b"".join(respuesta.streaming_content) == PDF
    assert respuesta["Content-Type"] == "application/pdf"
    assert respuesta["Content-Disposition"] == 'attachment; filename="radiografia.pdf"'
    assert respuesta["X-Content-Type-Options"] == "nosniff"
    assert respuesta["Cache-Control"] == "private, no-store"


def test_tipo_y_extension_son_los_detectados(portal, paciente, adjuntar):
    documento = adjuntar(paciente, nombre="foto.pdf", contenido=PNG)
    respuesta = portal.get(url(documento))
    assert respuesta["Content-Type"] == "image/png"
    assert respuesta["Content-Disposition"] == 'attachment; filename="foto.png"'


@pytest.mark.parametrize("nombre,cabecera", [
    ('informe "final".pdf', r'attachment; filename="informe \"final\".pdf"'),
    ("a\r\nSet-Cookie: x=1.pdf", 'attachment; filename="a Set-Cookie: x=1.pdf"'),
    ("Radiografía señora Muñoz.pdf", "attachment; filename*=utf-8''Radiograf%C3%ADa%20se%C3%B1ora%20Mu%C3%B1oz.pdf"),
    ("🦷 diente.pdf", "attachment; filename*=utf-8''%F0%9F%A6%B7%20diente.pdf"),
    ("back\\slash.pdf", 'attachment; filename="slash.pdf"'),
])
def test_nombres_raros_no_rompen_la_cabecera(portal, paciente, adjuntar, nombre, cabecera):
    documento = adjuntar(paciente, nombre=nombre)
    respuesta = portal.get(url(documento))
    assert respuesta.status_code == 200
    assert respuesta["Content-Disposition"] == cabecera
    assert "Set-Cookie" not in respuesta.headers or "x=1" not in respuesta.headers["Set-Cookie"]


def test_nombre_antiguo_con_saltos_de_linea_tampoco(portal, paciente, adjuntar):
    """Data written around the service (old imports, raw SQL) is cleaned on the way out too."""
    documento = adjuntar(paciente)
    ClienteDocumento.objects.filter(pk=documento.pk).update(nombre_original='x"\r\ny\x1b.pdf')
    respuesta = portal.get(url(documento))
    assert respuesta.status_code == 200
    assert respuesta["Content-Disposition"] == r'attachment; filename="x\" y .pdf"'


def test_documento_de_otro_paciente_es_404(portal, otro_paciente, adjuntar):
    ajeno = adjuntar(otro_paciente)
    respuesta = portal.get(url(ajeno))
    assert respuesta.status_code == 404
    assert PDF not in respuesta.content and "radiografia" not in respuesta.text.lower()


@pytest.mark.parametrize("pk", [0, 987_654, 2**31 - 1, 2**63 - 1])
def test_ids_inexistentes_son_404(portal, pk):
    assert portal.get(url(pk)).status_code == 404


def test_anonimo_va_a_entrar(client, paciente, adjuntar):
    documento = adjuntar(paciente)
    for direccion in (LISTA, url(documento)):
        respuesta = client.get(direccion)
        assert respuesta.status_code == 302
        assert respuesta.url.startswith(reverse("portal:entrar")) and "next=" in respuesta.url


def test_personal_y_fichas_inactivas_no_entran(paciente, recepcionista, adjuntar):
    documento = adjuntar(paciente)
    assert cliente_de(recepcionista.user).get(url(documento)).status_code == 403
    portal = cliente_de(paciente)
    desactivar_cliente(actor=recepcionista.user, cliente_id=paciente.cliente.pk)
    assert portal.get(LISTA).status_code in (302, 403)
    assert portal.get(url(documento)).status_code in (302, 403)


def test_solo_lectura(portal, paciente, adjuntar):
    documento = adjuntar(paciente)
    assert portal.post(LISTA).status_code == 405
    assert portal.post(url(documento)).status_code == 405
    assert ClienteDocumento.objects.filter(pk=documento.pk).exists()


def test_lista_consultas_fijas(portal, paciente, adjuntar, django_assert_num_queries):
    adjuntar(paciente)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as pocas:
        assert portal.get(LISTA).status_code == 200
    for n in range(5):
        adjuntar(paciente, titulo=f"Documento {n}")
    with django_assert_num_queries(len(pocas)):
        assert portal.get(LISTA).status_code == 200
    assert len(pocas) <= 5


# In a real browser: the front desk attaches an x-ray, the patient downloads it on a phone ------


@pytest.mark.django_db(transaction=True)
def test_navegador_recepcion_adjunta_y_paciente_descarga(page, live_server, captura, recepcionista, paciente, tmp_path,
                                                        entrar_a_gestion):
    from playwright.sync_api import expect

    from citas.tests.test_services import PASSWORD

    errores = []
    page.on("console", lambda mensaje: errores.append(mensaje.text) if mensaje.type == "error" else None)
    radiografia = tmp_path / "Radiografía panorámica.png"
    radiografia.write_bytes(PNG)

    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(recepcionista)  # password and the second factor
    page.goto(f"{live_server.url}{reverse('gestion:paciente', args=[paciente.cliente.pk])}")
    # Nothing chosen: the error is in Spanish next to the field, and nothing is stored.
    page.get_by_label("Título").fill("Radiografía panorámica")
    page.get_by_role("button", name="Adjuntar").click()
    expect(page.locator("#id_archivo_error")).to_have_text("Elija el archivo que quiere adjuntar.")
    page.get_by_label("Archivo").set_input_files(str(radiografia))
    page.get_by_role("button", name="Adjuntar").click()
    expect(page.get_by_text("Documento «Radiografía panorámica» adjuntado.")).to_be_visible()
    # Reception attaches without reading: the document is in the clinical record, counted only
    # (issue 15: its title and file are for the care team).
    expect(page.locator("#documentos-contados")).to_contain_text("1 documento en la ficha clínica")
    expect(page.locator("#documentos tr.documento")).to_have_count(0)
    captura("paciente-documentos")
    page.context.clear_cookies()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}{LISTA}")
    page.locator("input[name=username]").fill(paciente.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Mis documentos")).to_be_visible()
    captura("portal-mis-documentos")
    with page.expect_download() as descarga:
        page.get_by_role("link", name=re.compile("Radiografía panorámica")).click()
    assert descarga.value.suggested_filename == "Radiografía panorámica.png"
    assert open(descarga.value.path(), "rb").read() == PNG
    assert errores == []


# The patient's own reads are in the read log, like the exports (Decreto 41 art. 9) ---------------


def test_lista_y_descarga_quedan_en_el_registro_de_lecturas(portal, paciente, otro_paciente, adjuntar):
    from ficha.models import LecturaFicha, Seccion, Via

    documento, ajeno = adjuntar(paciente), adjuntar(otro_paciente)
    assert portal.get(LISTA).status_code == 200
    lista = LecturaFicha.objects.get()
    assert (lista.seccion, lista.objeto_id, lista.via, lista.rol) == (Seccion.DOCUMENTO, None, Via.PACIENTE, "Paciente")
    assert lista.usuario_id == paciente.pk and lista.cliente_id == paciente.cliente.pk
    assert portal.get(url(documento)).status_code == 200
    descarga = LecturaFicha.objects.latest("pk")
    assert (descarga.seccion, descarga.objeto_id, descarga.cliente_id) == (Seccion.DOCUMENTO, documento.pk,
                                                                           paciente.cliente.pk)
    assert portal.get(url(ajeno)).status_code == 404  # not theirs: nothing read, nothing logged
    assert LecturaFicha.objects.count() == 2


def test_el_acceso_del_paciente_es_solo_a_su_propia_ficha(paciente, otro_paciente, recepcionista):
    from django.core.exceptions import PermissionDenied

    from ficha.acceso import acceso_del_paciente
    from ficha.models import Via

    assert acceso_del_paciente(paciente, paciente.cliente.pk).via == Via.PACIENTE
    for usuario in (paciente, recepcionista.user):
        with pytest.raises(PermissionDenied):
            acceso_del_paciente(usuario, otro_paciente.cliente.pk)
