"""The record's copy: as data (every part, nothing of another patient, constant queries) and as a
PDF that opens, reads right in Spanish, numbers its pages and survives hostile text."""

import datetime
import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from citas.models import Cita
from ficha.exportacion import ficha_como_datos, ficha_en_pdf
from ficha.models import Antecedentes, Evolucion
from nucleo.servicios import operacion
from pacientes.models import Cliente, ClienteDocumento
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png

CAPTURAS = "/tmp/capturas-fexp"
CASTELLANO = "¿Dolió? Ñandú, pingüino, «acción» — señal"


def nota(cliente, dentista, *, dias=-7, texto="Resina oclusal.", procedimiento="Obturación", dientes=(16,),
         corrige=None, cita=None, firmar=True):
    """A progress note ``dias`` from today, signed unless ``firmar=False``."""
    hecha = Evolucion.objects.create(
        cliente=cliente, dentista=dentista, atendido_el=timezone.localdate() + datetime.timedelta(days=dias),
        procedimiento=procedimiento, dientes=list(dientes), texto=texto, corrige=corrige, cita=cita,
    )
    if firmar:
        Evolucion.objects.filter(pk=hecha.pk).update(firmada_en=timezone.now())
        hecha.refresh_from_db()
    return hecha


@pytest.fixture
def ficha_completa(paciente_ficha, tratante, crear_personal):
    """Ana's record: two versions of her history, a note linked to her appointment with an
    addendum, a second note, a draft, a document."""
    autor = tratante.user
    # As the service writes it: inside an audit context naming the author (who the copy credits).
    with operacion("actualizar_antecedentes", actor=autor):
        antecedentes = Antecedentes.objects.create(cliente=paciente_ficha, enfermedades="Hipertensión",
                                                   alergias="Penicilina", actualizado_por=autor)
    with operacion("actualizar_antecedentes", actor=autor):
        antecedentes.medicamentos = "Losartán 50 mg"
        antecedentes.tabaquismo = "ex"
        antecedentes.version = 2
        antecedentes.save()
    cita = Cita.objects.filter(cliente=paciente_ficha, dentista=tratante).first()
    primera = nota(paciente_ficha, tratante, dias=-7, texto=f"Caries en 16. {CASTELLANO}", cita=cita,
                   dientes=(16, 17))
    nota(paciente_ficha, tratante, dias=-7, texto="Corrijo: la pieza era la 17, no la 16.", procedimiento="",
         dientes=(17,), corrige=primera)
    nota(paciente_ficha, tratante, dias=-1, texto="Control sin molestias.", procedimiento="Control", dientes=())
    nota(paciente_ficha, tratante, dias=0, texto="Borrador sin firmar", firmar=False)
    ClienteDocumento.objects.create(cliente=paciente_ficha, titulo="Radiografía panorámica",
                                    archivo="documentos/x.png", nombre_original="pano.png",
                                    tipo_contenido="image/png", tamano=1234)
    return paciente_ficha


@pytest.fixture
def otro_paciente(tratante, dar_cita):
    otro = Cliente.objects.create(nombre_completo="Bruno Otro Díaz", rut="11111111-1")
    dar_cita(tratante, otro, dias=-3)
    Antecedentes.objects.create(cliente=otro, alergias="Látex de Bruno")
    nota(otro, tratante, texto="Nota secreta de Bruno")
    return otro


def test_los_datos_traen_toda_la_ficha_y_nada_de_otro_paciente(ficha_completa, otro_paciente, tratante,
                                                              django_assert_num_queries):
    # 6: the history's authors are the audit trail's users (one query for their names, shared
    # with the staff's history page: ficha.antecedentes.autores_de_versiones), not a join.
    # 9: + the prescriptions, the odontogram history and the consents (issue 16; no prescriptions
    # here, so their lines cost nothing; the odontogram state is worked out from its history).
    with django_assert_num_queries(9):
        datos = ficha_como_datos(ficha_completa.pk)
    texto = json.dumps(datos, cls=DjangoJSONEncoder, ensure_ascii=False)  # serialisable as it is
    assert "Bruno" not in texto and "Látex" not in texto and "secreta" not in texto
    assert "Borrador sin firmar" not in texto  # a draft is not part of the record yet

    assert datos["paciente"] == {"nombre_completo": "Ana Pérez Soto", "documento": "RUT 12.345.678-5",
                                 "fecha_nacimiento": "1985-03-14"}
    antecedentes = datos["antecedentes"]
    assert antecedentes["alergias"] == "Penicilina" and antecedentes["medicamentos"] == "Losartán 50 mg"
    assert antecedentes["tabaquismo_texto"] == "Ex fumador(a)"
    assert antecedentes["actualizado_por"] == "Camila Soto" and antecedentes["version"] == 2
    assert [v["version"] for v in antecedentes["historial"]] == [1, 2]
    assert antecedentes["historial"][0]["medicamentos"] == "" and antecedentes["historial"][1]["por"] == "Camila Soto"

    primera, control = datos["evoluciones"]
    assert CASTELLANO in primera["texto"] and primera["dientes"] == [16, 17]
    cita = Cita.objects.get(cliente=ficha_completa, dentista=tratante)
    assert primera["dentista"] == "Camila Soto"
    assert primera["cita_inicio"] == timezone.localtime(cita.inicio).isoformat()
    assert primera["firmada_en"] is not None
    [adenda] = primera["adendas"]
    assert adenda["texto"].startswith("Corrijo") and adenda["adenda_de"]["atendido_el"] == primera["atendido_el"]
    assert control["procedimiento"] == "Control" and control["adendas"] == [] and control["cita_inicio"] is None
    assert datos["documentos"] == [{"titulo": "Radiografía panorámica", "nombre": "pano.png", "tipo": "image/png",
                                    "tamano_bytes": 1234, "adjuntado_en": datos["documentos"][0]["adjuntado_en"]}]
    assert datos["conservacion"]["anos_minimos"] >= 15 and "art. 11" in datos["conservacion"]["norma"]


def test_los_datos_de_una_ficha_vacia(paciente_ficha):
    datos = ficha_como_datos(paciente_ficha.pk)
    assert datos["antecedentes"] is None and datos["evoluciones"] == [] and datos["documentos"] == []


def test_un_paciente_que_no_existe(db):
    with pytest.raises(Cliente.DoesNotExist):
        ficha_como_datos(999_999)


@pytest.mark.django_db
def test_el_pdf_se_lee_con_la_ficha_y_sus_adendas(ficha_completa, otro_paciente, settings):
    settings.CLINICA_NOMBRE = "Clínica Dental Sonrisa"
    contenido = ficha_en_pdf(ficha_completa.pk, generado_para="Ana Pérez Soto (paciente, portal)")
    pdf_a_png(contenido, CAPTURAS, "ficha-completa")
    leido = leer_pdf(contenido)
    assert contenido.startswith(b"%PDF-") and leido.paginas == 2  # the documents and retention on page 2
    for frase in ("Ficha clínica", "Clínica Dental Sonrisa", settings.CLINICA_DIRECCION, "Ana Pérez Soto",
                  "RUT 12.345.678-5", "14-03-1985", "Penicilina", "Losartán 50 mg", "Ex fumador(a)", CASTELLANO,
                  "Control sin molestias.", "Radiografía panorámica", "Página 1 de 2", "Página 2 de 2",
                  "Generado el", "Ana Pérez Soto (paciente, portal)", "Decreto 41"):
        assert leido.contiene(frase), frase
    atendida = (timezone.localdate() - datetime.timedelta(days=7)).strftime("%d-%m-%Y")
    hoy = timezone.localdate().strftime("%d-%m-%Y")
    assert leido.contiene(f"Adenda del {hoy} a la evolución del {atendida}")
    assert leido.contiene("Corrijo: la pieza era la 17")
    # In order: the first note, its addendum, then the next note.
    assert leido.texto.index("Caries en 16") < leido.texto.index("Corrijo") < leido.texto.index("Control sin")
    assert not leido.contiene("Bruno") and not leido.contiene("Borrador")
    assert caracteres_fuera(contenido) == 0


def test_doscientas_evoluciones_numeran_sus_paginas(paciente_ficha, tratante):
    parrafo = f"Limpieza y flúor; se indica cepillado suave. {CASTELLANO}. " * 4
    for i in range(200):
        nota(paciente_ficha, tratante, dias=-400 + i, texto=f"Nota {i:03d}. {parrafo}")
    contenido = ficha_en_pdf(paciente_ficha.pk, generado_para="Camila Soto (Dentista)")
    pdf_a_png(contenido, CAPTURAS, "ficha-200-notas")
    leido = leer_pdf(contenido)
    assert leido.paginas > 20
    for numero, texto in enumerate(leido.textos, start=1):
        assert "".join(f"Página {numero} de {leido.paginas}".split()) in "".join(texto.split())
        assert "Ficha clínica" in texto and "Generado el" in texto
    assert leido.contiene("Nota 000.") and leido.contiene("Nota 199.")
    assert leido.texto.index("Nota 000.") < leido.texto.index("Nota 100.") < leido.texto.index("Nota 199.")
    assert caracteres_fuera(contenido) == 0


HOSTILES = {
    "emoji": "Paciente feliz 😀👍🏽 con la 🦷 nueva",
    "chino": "Acompañante: 王小明 (hijo)",
    "html": "<script>alert(1)</script> <b>negrita</b> &amp; <br/> <para> <font size=90>grande</font>",
    "pdf": "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    "control": "antes\x1b[31m\x07después\r\n\tcon tab\u2028y\ufeffBOM",
    "nota_larga": ("La paciente relata dolor intermitente. " * 270)[:10_000],
    "palabra_larga": "x" * 10_000,
}


@pytest.mark.parametrize("caso", list(HOSTILES))
def test_texto_hostil_no_rompe_el_pdf(paciente_ficha, tratante, caso):
    texto = HOSTILES[caso]
    Cliente.objects.filter(pk=paciente_ficha.pk).update(nombre_completo=f"Ana {texto[:150]}")
    Antecedentes.objects.create(cliente=paciente_ficha, enfermedades=texto, observaciones=texto)
    nota(paciente_ficha, tratante, texto=texto, procedimiento=texto[:200])
    contenido = ficha_en_pdf(paciente_ficha.pk, generado_para=f"Ana {texto[:80]}")
    if caso in ("emoji", "chino", "html", "nota_larga"):
        pdf_a_png(contenido, CAPTURAS, f"hostil-{caso}", paginas=1)
    leido = leer_pdf(contenido)
    assert leido.paginas >= 1 and leido.contiene(f"Página 1 de {leido.paginas}")
    assert caracteres_fuera(contenido) == 0
    if caso == "html":
        assert leido.contiene("<script>alert(1)</script>") and leido.contiene("<font size=90>grande</font>")
    if caso == "pdf":
        assert leido.contiene("1 0 obj << /Type /Catalog >> endobj")
    if caso in ("emoji", "chino"):
        assert leido.contiene("Algunos caracteres que este PDF no puede dibujar")
        assert leido.contiene("Acompañante: ??? (hijo)" if caso == "chino" else "Paciente feliz ?? con la ? nueva")
    else:
        assert not leido.contiene("Algunos caracteres que este PDF no puede dibujar")
    if caso == "control":
        assert leido.contiene("antes[31mdespués") and leido.contiene("con tab")
    if caso == "nota_larga":
        assert leido.paginas >= 3 and leido.compacto.count("Lapacienterelatadolorintermitente.") >= 3 * 250
    if caso == "palabra_larga":
        assert leido.compacto.count("x") >= 3 * 10_000


def test_quien_cambio_los_antecedentes_es_quien_lo_hizo(paciente_ficha, tratante, recepcionista):
    """Reception adds an allergy on the patient's data (the trigger copies it into the history)
    after the dentist wrote the history: the copy credits reception for that version, as the
    staff's history page does, never the dentist."""
    from ficha.antecedentes import actualizar_antecedentes, historial_de_antecedentes
    from pacientes.services import actualizar_cliente

    actualizar_antecedentes(actor=tratante.user, cliente_id=paciente_ficha.pk, version=0,
                            enfermedades="Hipertensión", alergias="Penicilina")
    actualizar_cliente(actor=recepcionista.user, cliente_id=paciente_ficha.pk,
                       nombre_completo=paciente_ficha.nombre_completo, email=paciente_ficha.email,
                       rut=paciente_ficha.rut, fecha_nacimiento=paciente_ficha.fecha_nacimiento,
                       alergias=None, agregar_alergias="Látex")
    fila = Antecedentes.objects.get(cliente=paciente_ficha)
    assert fila.alergias == "Penicilina\nLátex" and fila.version == 2
    assert fila.actualizado_por_id is None  # the trigger does not leave it to the dentist

    antecedentes = ficha_como_datos(paciente_ficha.pk)["antecedentes"]
    assert [(v["version"], v["por"]) for v in antecedentes["historial"]] == [(1, "Camila Soto"), (2, "Pedro Rojas")]
    assert antecedentes["actualizado_por"] == "Pedro Rojas"
    assert [v.quien for v in historial_de_antecedentes(paciente_ficha.pk)] == ["Pedro Rojas", "Camila Soto"]

    leido = leer_pdf(ficha_en_pdf(paciente_ficha.pk, generado_para="Ana Pérez Soto (paciente, portal)"))
    assert leido.contiene("por Pedro Rojas.")
    assert leido.contiene("Versión 1:") and leido.contiene(", Camila Soto") and leido.contiene(", Pedro Rojas")
    assert not leido.contiene("por Camila Soto")
