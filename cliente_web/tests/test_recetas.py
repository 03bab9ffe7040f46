"""Mis recetas in the portal: the patient's own prescriptions (annulled ones marked), each as a
PDF; the list and every download in the read log as the patient's own reads; another
patient's prescription is a 404."""

import pytest
from django.utils import timezone

from ficha.models import LecturaFicha, Receta, Seccion, Via
from ficha.tests.test_recetas import receta_de
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png

pytestmark = pytest.mark.django_db

LISTA = "/portal/cuenta/recetas/"
CAPTURAS = "/tmp/capturas-rec"


@pytest.fixture
def recetas(paciente, otro_paciente, dentista):
    propia = receta_de(paciente.cliente, dentista, "Amoxicilina 500 mg", "Ibuprofeno 400 mg",
                       indicaciones="Control en 7 días.")
    anulada = receta_de(paciente.cliente, dentista, "Ketoprofeno")
    Receta.objects.filter(pk=anulada.pk).update(anulada_en=timezone.now(), anulada_por=dentista.user,
                                                motivo_anulacion="Dosis equivocada")
    ajena = receta_de(otro_paciente.cliente, dentista, "Medicamento ajeno secreto")
    return {"propia": propia, "anulada": anulada, "ajena": ajena}


def _lecturas():
    return list(LecturaFicha.objects.order_by("pk").values_list("cliente_id", "seccion", "objeto_id", "via"))


def test_la_lista_muestra_solo_las_propias_y_queda_registrada(portal, paciente, recetas):
    html = portal.get(LISTA).content.decode()
    assert "Amoxicilina 500 mg, Ibuprofeno 400 mg" in html and "Ketoprofeno" in html and "Anulada" in html
    assert "ajeno" not in html
    assert _lecturas() == [(paciente.cliente.pk, Seccion.RECETA, None, Via.PACIENTE)]
    assert 'href="/portal/cuenta/recetas/"' in portal.get("/portal/cuenta/").content.decode()


def test_descarga_el_pdf_de_su_receta_y_queda_registrada(portal, paciente, recetas):
    receta = recetas["propia"]
    respuesta = portal.get(f"{LISTA}{receta.pk}.pdf")
    assert respuesta.status_code == 200 and respuesta["Content-Type"] == "application/pdf"
    assert respuesta["Content-Disposition"] == f'attachment; filename="receta-{receta.folio:06d}.pdf"'
    pdf_a_png(respuesta.content, CAPTURAS, "receta-portal")
    leido = leer_pdf(respuesta.content)
    for frase in ("Amoxicilina 500 mg", "Rp.", "Cirujano dentista", "Control en 7 días.", "(paciente, desde el portal)"):
        assert leido.contiene(frase), frase
    assert caracteres_fuera(respuesta.content) == 0
    assert _lecturas() == [(paciente.cliente.pk, Seccion.RECETA, receta.pk, Via.PACIENTE)]
    anulada = leer_pdf(portal.get(f"{LISTA}{recetas['anulada'].pk}.pdf").content)
    assert anulada.contiene("RECETA ANULADA")


def test_la_receta_de_otro_paciente_no_existe(portal, recetas):
    assert portal.get(f"{LISTA}{recetas['ajena'].pk}.pdf").status_code == 404
    assert portal.get(f"{LISTA}987654321.pdf").status_code == 404
    assert LecturaFicha.objects.count() == 0


def test_sin_recetas(portal):
    assert "Aún no tiene recetas" in portal.get(LISTA).content.decode()
