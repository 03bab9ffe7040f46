"""The clinical record's copy from the staff site (issue 15): a dentist of the care team
downloads the PDF and the JSON for the patient who asks at the desk; everyone else gets the
403 page; every attempt, allowed or refused, is one row of the read log."""

import datetime
import json

import pytest
from django.utils import timezone

from ficha.models import AccesoUrgencia, Antecedentes, LecturaFicha, Seccion, Via
from ficha.tests.conftest import ajeno, dar_cita, paciente_ficha, tratante  # noqa: F401 (fixtures)
from ficha.tests.test_exportacion import nota
from gestion_clinica.tests.conftest import cliente_de
from pacientes.models import Cliente
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png

pytestmark = pytest.mark.django_db

CAPTURAS = "/tmp/capturas-fexp"


def url_pdf(cliente_id):
    return f"/gestion/pacientes/{cliente_id}/ficha/pdf/"


def url_datos(cliente_id):
    return f"/gestion/pacientes/{cliente_id}/ficha/datos.json"


@pytest.fixture
def ficha(paciente_ficha, tratante, dar_cita):
    """Ana's record with a note and its addendum; Bruno's, never in Ana's copy."""
    Antecedentes.objects.create(cliente=paciente_ficha, alergias="Penicilina", actualizado_por=tratante.user)
    primera = nota(paciente_ficha, tratante, texto="Endodoncia en la 36, ¿dolor? ninguno.")
    nota(paciente_ficha, tratante, texto="Se agrega control radiográfico.", corrige=primera)
    bruno = Cliente.objects.create(nombre_completo="Bruno Ajeno", rut="11111111-1")
    dar_cita(tratante, bruno, dias=-3)
    nota(bruno, tratante, texto="Nota de Bruno")
    return paciente_ficha


def _lecturas():
    return list(LecturaFicha.objects.order_by("pk").values_list("usuario_id", "cliente_id", "seccion", "via"))


def test_el_dentista_tratante_descarga_el_pdf(ficha, tratante):
    respuesta = cliente_de(tratante.user).get(url_pdf(ficha.pk))
    assert respuesta.status_code == 200 and respuesta["Content-Type"] == "application/pdf"
    assert respuesta["Content-Disposition"] == (
        f'attachment; filename="ficha-clinica-{ficha.pk}-{timezone.localdate().isoformat()}.pdf"')
    assert "no-store" in respuesta["Cache-Control"]
    pdf_a_png(respuesta.content, CAPTURAS, "gestion-ficha")
    leido = leer_pdf(respuesta.content)
    for frase in ("Ana Pérez Soto", "RUT 12.345.678-5", "Penicilina", "Endodoncia en la 36, ¿dolor? ninguno.",
                  "Adenda del", "Se agrega control radiográfico.", f"Página 1 de {leido.paginas}",
                  "para Camila Soto (Dentista)"):
        assert leido.contiene(frase), frase
    assert not leido.contiene("Bruno") and caracteres_fuera(respuesta.content) == 0
    assert _lecturas() == [(tratante.user.pk, ficha.pk, Seccion.PDF, Via.EQUIPO)]


def test_el_dentista_tratante_descarga_los_datos(ficha, tratante):
    respuesta = cliente_de(tratante.user).get(url_datos(ficha.pk))
    assert respuesta.status_code == 200 and respuesta["Content-Type"] == "application/json; charset=utf-8"
    assert respuesta["Content-Disposition"].endswith('.json"')
    datos = json.loads(respuesta.content)
    assert datos["paciente"]["nombre_completo"] == "Ana Pérez Soto" and datos["generado_por"] == "Camila Soto (Dentista)"
    [evolucion] = datos["evoluciones"]
    assert evolucion["adendas"][0]["texto"] == "Se agrega control radiográfico."
    assert "Bruno" not in respuesta.content.decode()
    assert _lecturas() == [(tratante.user.pk, ficha.pk, Seccion.EXPORTACION, Via.EQUIPO)]


@pytest.mark.parametrize("url", [url_pdf, url_datos])
@pytest.mark.parametrize("rol", ["recepcionista", "administrador", "ajeno"])
def test_fuera_del_equipo_403_y_queda_registrado(ficha, url, rol, request):
    perfil = request.getfixturevalue(rol)
    respuesta = cliente_de(perfil.user).get(url(ficha.pk))
    assert respuesta.status_code == 403 and respuesta["Content-Type"].startswith("text/html")
    html = respuesta.content.decode()
    assert "Penicilina" not in html and "Endodoncia" not in html
    if rol == "ajeno":
        assert "urgencia" in html.lower()  # a dentist may open urgent access with a reason
    assert _lecturas() == [(perfil.user.pk, ficha.pk, Seccion.PDF if url is url_pdf else Seccion.EXPORTACION,
                            Via.DENEGADO)]


def test_con_acceso_de_urgencia_se_descarga_y_se_registra_el_motivo(ficha, ajeno):
    ahora = timezone.now()
    AccesoUrgencia.objects.create(cliente=ficha, usuario=ajeno.user, motivo="Dolor agudo, su dentista no está",
                                  abierto_en=ahora, vence_en=ahora + datetime.timedelta(hours=2))
    assert cliente_de(ajeno.user).get(url_pdf(ficha.pk)).status_code == 200
    lectura = LecturaFicha.objects.get()
    assert lectura.via == Via.URGENCIA and lectura.motivo_urgencia == "Dolor agudo, su dentista no está"


def test_cada_descarga_es_una_lectura_y_un_post_no_lee(ficha, tratante):
    cliente = cliente_de(tratante.user)
    for url in (url_pdf, url_datos, url_pdf):
        assert cliente.get(url(ficha.pk)).status_code == 200
    assert [fila[2] for fila in _lecturas()] == [Seccion.PDF, Seccion.EXPORTACION, Seccion.PDF]
    assert cliente.post(url_pdf(ficha.pk)).status_code == 405
    assert len(_lecturas()) == 3


def test_un_paciente_que_no_existe_es_404_sin_registro(tratante):
    for url in (url_pdf, url_datos):
        assert cliente_de(tratante.user).get(url(987_654_321)).status_code == 404
    assert _lecturas() == []


def test_sin_sesion_va_al_ingreso(ficha):
    from django.test import Client

    respuesta = Client().get(url_pdf(ficha.pk))
    assert respuesta.status_code == 302 and respuesta.url.startswith("/gestion/entrar/")
    assert _lecturas() == []
