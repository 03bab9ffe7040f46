"""The printed documents' base: safe text and the page layout any document reuses."""

import pytest

from nucleo.pdf import AVISO_REEMPLAZOS, DatosClinica, DocumentoPDF, texto_plano_seguro, texto_seguro
from pruebas.pdf import caracteres_fuera, leer_pdf


@pytest.mark.parametrize(("entrada", "salida", "reemplazados"), [
    ("¿Año? Ñandú «pingüino» — señal", "¿Año? Ñandú «pingüino» — señal", 0),
    ("e\u0301", "é", 0),  # an accent typed as a combining mark: one letter
    ("a\x00b\x1bc\x07d", "abcd", 0),  # control characters dropped
    ("uno\r\ndos\ttres", "uno\ndos tres", 0),
    ("王小明", "???", 3),
    ("😀👍🏽", "??", 2),  # beyond U+FFFF: "?"; the skin-tone modifier is dropped
    ("👍\u200d\ufe0f", "?\u200d\ufe0f", 1),  # joiners and selectors the font has are kept
    (None, "", 0),
    (12, "12", 0),
])
def test_texto_plano_seguro(entrada, salida, reemplazados):
    assert texto_plano_seguro(entrada) == (salida, reemplazados)


def test_texto_seguro_escapa_el_marcado():
    assert texto_seguro("<b>x</b> & y\nz") == ("&lt;b&gt;x&lt;/b&gt; &amp; y<br/>z", 0)


def test_un_documento_cualquiera_lleva_la_clinica_y_las_paginas():
    doc = DocumentoPDF(titulo="Receta", generado_para="Camila Soto (Dentista)", subtitulo="Registro 1234",
                       clinica=DatosClinica(nombre="Clínica Ñuñoa", direccion="Irarrázaval 100", telefono="+56 2 1"))
    doc.seccion("Indicaciones")
    doc.parrafo("Ibuprofeno 400 mg cada 8 horas por 3 días. " * 200, negrita="Rp.:")
    doc.datos([("Paciente", "Ana Pérez Soto")])
    contenido = doc.pdf()
    leido = leer_pdf(contenido)
    assert leido.paginas == 3
    for numero in (1, 2, 3):
        texto = leido.textos[numero - 1]
        assert "Clínica Ñuñoa" in texto and "Irarrázaval 100 · +56 2 1" in texto and "Receta" in texto
        assert f"Página {numero} de 3" in texto and "Generado el" in texto and "Camila Soto (Dentista)" in texto
    assert leido.contiene("Registro 1234") and leido.contiene("Rp.: Ibuprofeno")
    assert not leido.contiene(AVISO_REEMPLAZOS[:40]) and caracteres_fuera(contenido) == 0


def test_un_encabezado_muy_largo_se_recorta_y_no_se_sale():
    doc = DocumentoPDF(titulo="Ficha clínica", generado_para="x" * 400,
                       clinica=DatosClinica(nombre="Clínica " * 40, direccion="Calle " * 60, telefono="+56 2 1"))
    doc.parrafo("Hola")
    contenido = doc.pdf()
    assert caracteres_fuera(contenido) == 0 and leer_pdf(contenido).contiene("Página 1 de 1")
