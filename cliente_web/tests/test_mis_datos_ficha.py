"""The clinical record in the patient's copy of their data (issue 15): in the JSON, as a PDF
from the portal, explained on the readable page; each copy in the read log; only their own."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from cliente_web.tests.conftest import cliente_de
from ficha.models import Antecedentes, Evolucion, LecturaFicha, Seccion, Via
from ficha.tests.test_exportacion import nota
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png

pytestmark = pytest.mark.django_db

DATOS = "/portal/cuenta/datos/"
LEGIBLES = "/portal/cuenta/datos/legibles/"
PDF = "/portal/cuenta/datos/ficha.pdf"
CAPTURAS = "/tmp/capturas-fexp"


@pytest.fixture
def fichas(paciente, otro_paciente, dentista):
    """Both patients with a record: a history, a signed note with an addendum for ours; a
    note of the other's that must never show."""
    Antecedentes.objects.create(cliente=paciente.cliente, alergias="Penicilina", medicamentos="Losartán",
                                actualizado_por=dentista.user)
    primera = nota(paciente.cliente, dentista, texto="Obturación de la 16, ¿sensibilidad? Ñ.")
    nota(paciente.cliente, dentista, texto="Adenda: era la 17.", corrige=primera)
    Antecedentes.objects.create(cliente=otro_paciente.cliente, alergias="Látex ajeno")
    nota(otro_paciente.cliente, dentista, texto="Nota ajena secreta")
    return primera


def _lecturas():
    return list(LecturaFicha.objects.values_list("usuario_id", "cliente_id", "seccion", "via", "rol"))


def test_el_json_trae_la_ficha_y_registra_una_lectura(portal, paciente, fichas):
    respuesta = portal.get(DATOS)
    assert respuesta.status_code == 200
    ficha = json.loads(respuesta.content)["ficha_clinica"]
    assert ficha["antecedentes"]["alergias"] == "Penicilina"
    [evolucion] = ficha["evoluciones"]
    assert evolucion["texto"].startswith("Obturación de la 16") and evolucion["dentista"] == "Camila Soto"
    assert evolucion["adendas"][0]["texto"] == "Adenda: era la 17."
    assert "ajen" not in respuesta.content.decode()
    assert _lecturas() == [(paciente.pk, paciente.cliente.pk, Seccion.EXPORTACION, Via.PACIENTE, "Paciente")]


def test_la_pagina_legible_explica_la_ficha_y_enlaza_el_pdf(portal, paciente, fichas):
    html = portal.get(LEGIBLES).content.decode()
    seccion = html.split('id="t-ficha-clinica"')[1].split("</section>")[0]
    assert ">Su ficha clínica</h2>" in seccion
    assert f'href="{PDF}" download' in seccion and "Descargar mi ficha clínica (PDF)" in seccion
    assert "1 evolución firmada." in seccion and "0 documentos." in seccion
    assert "antecedentes médicos" in seccion.lower() and "adendas" in seccion
    assert "al menos 15 años" in seccion and "art. 11" in seccion and "elimina su cuenta" in seccion
    assert _lecturas() == [(paciente.pk, paciente.cliente.pk, Seccion.EXPORTACION, Via.PACIENTE, "Paciente")]


def test_el_pdf_de_la_ficha_se_descarga_y_se_lee(portal, paciente, fichas):
    respuesta = portal.get(PDF)
    assert respuesta.status_code == 200 and respuesta["Content-Type"] == "application/pdf"
    assert respuesta["Content-Disposition"] == (
        f'attachment; filename="ficha-clinica-{timezone.localdate().isoformat()}.pdf"')
    assert "no-store" in respuesta["Cache-Control"]
    pdf_a_png(respuesta.content, CAPTURAS, "portal-ficha")
    leido = leer_pdf(respuesta.content)
    # The odontogram, prescriptions and consents (issue 16) took it to a second page.
    assert leido.paginas == 2
    for frase in (paciente.cliente.nombre_completo, "Penicilina", "Obturación de la 16, ¿sensibilidad? Ñ.",
                  "Adenda del", "Adenda: era la 17.", "Página 1 de 2", "Página 2 de 2",
                  f"para {paciente.cliente.nombre_completo} (paciente, desde el portal)"):
        assert leido.contiene(frase), frase
    assert not leido.contiene("ajen") and caracteres_fuera(respuesta.content) == 0
    assert _lecturas() == [(paciente.pk, paciente.cliente.pk, Seccion.PDF, Via.PACIENTE, "Paciente")]


def test_otra_cuenta_solo_obtiene_su_propia_ficha(paciente, otro_paciente, fichas):
    """No URL names a patient: another account asking with our ids gets their own record."""
    ajeno = cliente_de(otro_paciente)
    for url in (PDF, DATOS):
        respuesta = ajeno.get(url, {"cliente_id": paciente.cliente.pk, "id": paciente.cliente.pk})
        texto = leer_pdf(respuesta.content).compacto if url == PDF else "".join(respuesta.content.decode().split())
        assert "Notaajenasecreta" in texto and "Látexajeno" in texto
        assert "Penicilina" not in texto and "Obturacióndela16" not in texto and "erala17" not in texto
    assert {fila[1] for fila in _lecturas()} == {otro_paciente.cliente.pk}
    assert len(_lecturas()) == 2


@pytest.mark.parametrize("url", [PDF])
def test_el_pdf_solo_para_el_paciente_conectado(recepcionista, paciente, fichas, url):
    anonimo = Client().get(url)
    assert anonimo.status_code == 302 and anonimo["Location"].startswith("/portal/entrar/")
    assert cliente_de(recepcionista.user).get(url).status_code == 403
    assert cliente_de(paciente).post(url).status_code == 405
    assert _lecturas() == []


def test_cada_descarga_es_una_lectura(portal, paciente, fichas):
    for _ in range(3):
        assert portal.get(PDF).status_code == 200
    assert [fila[2] for fila in _lecturas()] == [Seccion.PDF] * 3
    assert not Evolucion.objects.filter(cliente=paciente.cliente, firmada_en__isnull=True).exists()
