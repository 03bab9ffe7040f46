"""The staff's screens of informed consents: the dentist issues, presents on the tablet, records
a drawn signature or a signed scan, revokes, annuls and prints; every page writes its read-log
row; bad input gets a Spanish message and changes nothing; reception and administration see no
consent; administration keeps the templates."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ficha.consentimientos import crear_plantilla, emitir_consentimiento
from ficha.models import Consentimiento, EstadoConsentimiento, LecturaFicha, PlantillaConsentimiento, Seccion
from ficha.tests.conftest import ajeno, dar_cita, paciente_ficha, tratante  # noqa: F401  (pytest fixtures)
from ficha.tests.escenas_resguardo import PDF, media  # noqa: F401
from gestion_clinica.tests.conftest import cliente_de
from pacientes.models import Cliente
from personal.models import Rol
from pruebas.pdf import leer_pdf
from pruebas.soporte import huella_bd

FIRMA = json.dumps([[[100, 300], [200, 100], [300, 300]], [[500, 200], [900, 180]]])
SECRETO = "lesión del nervio dentario SECRETO-CONS"


@pytest.fixture
def admin(crear_personal):
    return crear_personal(rol=Rol.ADMINISTRADOR, username="admin.cons", nombre="Rosa", apellido="Vega")


@pytest.fixture
def plantilla(admin):
    return crear_plantilla(actor=admin.user, nombre="Exodoncia", procedimiento="Extracción de 38",
                           texto=f"Riesgos: sangrado, {SECRETO}.")


@pytest.fixture
def emitido(tratante, paciente_ficha, plantilla):
    return emitir_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, plantilla_id=plantilla.pk)


def url(nombre, c):
    return reverse(f"gestion:{nombre}", args=[c.cliente_id, c.pk])


def firmante(**cambios):
    return {"leido": "on", "firmante_relacion": "paciente", "firmante_nombre": "Ana Pérez Soto",
            "firmante_rut": "12.345.678-5", **cambios}


def test_el_dentista_emite_firma_en_tableta_revoca_e_imprime(tratante, paciente_ficha, plantilla):
    cliente = cliente_de(tratante.user)
    lista = reverse("gestion:ficha_consentimientos", args=[paciente_ficha.pk])
    assert "no tiene consentimientos" in cliente.get(lista).content.decode()
    respuesta = cliente.post(reverse("gestion:ficha_consentimiento_nuevo", args=[paciente_ficha.pk]),
                             {"plantilla": plantilla.pk})
    consentimiento = Consentimiento.objects.get(cliente=paciente_ficha)
    assert respuesta.status_code == 302 and respuesta.url == url("ficha_consentimiento", consentimiento)
    pagina = cliente.get(respuesta.url).content.decode()
    assert SECRETO in pagina and "Presentar en la tableta" in pagina and "Emitido (por aceptar)" in pagina

    tableta = cliente.get(url("ficha_consentimiento_tableta", consentimiento)).content.decode()
    assert SECRETO in tableta and 'name="firma"' in tableta and "firma.js" in tableta
    assert "style=" not in tableta and "<script>" not in tableta
    respuesta = cliente.post(url("ficha_consentimiento_tableta", consentimiento), {**firmante(), "firma": FIRMA})
    assert respuesta.status_code == 302
    consentimiento.refresh_from_db()
    assert consentimiento.estado == EstadoConsentimiento.ACEPTADO and consentimiento.forma == "firma"
    pagina = cliente.get(url("ficha_consentimiento", consentimiento)).content.decode()
    assert '<polyline points="100,300 200,100 300,300"' in pagina and "ante Camila Soto" in pagina
    assert "Registrar revocación" in pagina and "Presentar en la tableta" not in pagina

    pdf = cliente.get(url("ficha_consentimiento_pdf", consentimiento))
    assert pdf["Content-Type"] == "application/pdf" and leer_pdf(pdf.content).contiene("Aceptado ante Camila Soto")

    respuesta = cliente.post(url("ficha_consentimiento_revocar", consentimiento), {"motivo": "Prefiere otro plan"})
    assert respuesta.status_code == 302
    consentimiento.refresh_from_db()
    assert consentimiento.estado == EstadoConsentimiento.REVOCADO
    lista = cliente.get(lista).content.decode()
    assert "Revocado" in lista and "Exodoncia" in lista


def test_escaneo_firmado(tratante, emitido, media):
    cliente = cliente_de(tratante.user)
    archivo = SimpleUploadedFile("firmado.pdf", PDF, content_type="application/pdf")
    respuesta = cliente.post(url("ficha_consentimiento_escaneo", emitido),
                             {**firmante(firmante_relacion="padre_madre", firmante_nombre="Luis Pérez",
                                         firmante_rut="11.111.111-1"), "archivo": archivo})
    assert respuesta.status_code == 302
    emitido.refresh_from_db()
    assert emitido.forma == "escaneo" and emitido.documento.titulo == "Consentimiento firmado: Exodoncia"
    pagina = cliente.get(url("ficha_consentimiento", emitido)).content.decode()
    assert "Documento firmado" in pagina and "Luis Pérez" in pagina


@pytest.mark.parametrize("datos,mensaje", [
    (firmante(firmante_rut="12.345.678-9", firma=FIRMA), "El dígito verificador del RUT no es correcto."),
    (firmante(firmante_rut="11.111.111-1", firma=FIRMA), "Ese no es el RUT del paciente."),
    (firmante(leido="", firma=FIRMA), "Marque que el paciente leyó el consentimiento"),
    (firmante(), "Firme en el recuadro o adjunte el documento firmado"),
    (firmante(firma="[]"), "Firme en el recuadro antes de aceptar."),
    (firmante(firma="{basura"), "La firma no se pudo leer"),
    (firmante(firma="[" * 10_000), "La firma no se pudo leer"),
    (firmante(firma=json.dumps([[[1, 1], [2, 2]]] * 500)), "La firma es demasiado extensa"),
    (firmante(firma="x" * 200_000), "La firma es demasiado extensa"),
    (firmante(firmante_nombre="", firma=FIRMA), "Escriba el nombre de quien firma."),
])
def test_datos_malos_en_la_tableta_dicen_por_que_y_no_cambian_nada(tratante, emitido, datos, mensaje):
    cliente = cliente_de(tratante.user)
    antes = huella_bd()
    respuesta = cliente.post(url("ficha_consentimiento_tableta", emitido), datos)
    assert respuesta.status_code == 200
    assert mensaje in respuesta.content.decode()
    assert huella_bd() == antes


def test_aceptar_dos_veces_revocar_sin_aceptar_y_anular(tratante, emitido):
    cliente = cliente_de(tratante.user)
    # Revoking one not accepted: the page says it cannot, nothing changes.
    antes = huella_bd()
    respuesta = cliente.post(url("ficha_consentimiento_revocar", emitido), {"motivo": "Lo pidió"}, follow=True)
    assert "no se puede revocar" in respuesta.content.decode() and huella_bd() == antes
    assert cliente.post(url("ficha_consentimiento_tableta", emitido), {**firmante(), "firma": FIRMA}).status_code == 302
    antes = huella_bd()
    respuesta = cliente.post(url("ficha_consentimiento_tableta", emitido), {**firmante(), "firma": FIRMA}, follow=True)
    assert "ya no se puede aceptar" in respuesta.content.decode() and huella_bd() == antes
    respuesta = cliente.post(url("ficha_consentimiento_anular", emitido), {"motivo": "Por error"}, follow=True)
    assert "no se puede anular" in respuesta.content.decode() and huella_bd() == antes
    # A short reason is refused in Spanish.
    respuesta = cliente.post(url("ficha_consentimiento_revocar", emitido), {"motivo": "no"})
    assert "Escriba por qué el paciente revoca" in respuesta.content.decode() and huella_bd() == antes


def test_anular_un_emitido(tratante, emitido):
    cliente = cliente_de(tratante.user)
    assert cliente.post(url("ficha_consentimiento_anular", emitido), {"motivo": "Plantilla equivocada"}).status_code == 302
    emitido.refresh_from_db()
    assert emitido.estado == EstadoConsentimiento.ANULADO
    assert "Plantilla equivocada" in cliente.get(url("ficha_consentimiento", emitido)).content.decode()


def test_id_de_otro_paciente_es_404_y_no_registra(tratante, emitido, dar_cita):
    from pacientes.models import Cliente

    otro = Cliente.objects.create(nombre_completo="Otra Persona", rut="11111111-1")
    dar_cita(tratante, otro, dias=-2)
    cliente = cliente_de(tratante.user)
    antes = huella_bd(), LecturaFicha.objects.count()
    for nombre in ("ficha_consentimiento", "ficha_consentimiento_tableta", "ficha_consentimiento_pdf"):
        respuesta = cliente.get(reverse(f"gestion:{nombre}", args=[otro.pk, emitido.pk]))
        assert respuesta.status_code == 404
        assert SECRETO not in respuesta.content.decode(errors="replace")
    assert cliente.post(reverse("gestion:ficha_consentimiento_tableta", args=[otro.pk, emitido.pk]),
                        {**firmante(), "firma": FIRMA}).status_code == 404
    assert (huella_bd(), LecturaFicha.objects.count()) == antes


def test_cada_pagina_registra_su_lectura(tratante, emitido):
    cliente = cliente_de(tratante.user)
    for nombre in ("ficha_consentimiento", "ficha_consentimiento_tableta", "ficha_consentimiento_escaneo",
                   "ficha_consentimiento_anular", "ficha_consentimiento_revocar", "ficha_consentimiento_pdf"):
        antes = LecturaFicha.objects.count()
        assert cliente.get(url(nombre, emitido)).status_code == 200, nombre
        fila = LecturaFicha.objects.order_by("-id").first()
        assert LecturaFicha.objects.count() == antes + 1
        assert (fila.seccion, fila.objeto_id) == (Seccion.CONSENTIMIENTO, emitido.pk), nombre


@pytest.mark.parametrize("rol", [Rol.RECEPCION, Rol.ADMINISTRADOR])
def test_recepcion_y_administracion_no_ven_ni_registran_consentimientos(rol, crear_personal, emitido):
    """Decision: reception does not record an acceptance at the desk (it cannot read the
    consent's clinical content); the dentist does, on the tablet or with the scan."""
    cliente = cliente_de(crear_personal(rol=rol, username=f"{rol}.cons").user)
    antes = huella_bd()
    for nombre in ("ficha_consentimiento", "ficha_consentimiento_tableta", "ficha_consentimiento_escaneo"):
        respuesta = cliente.get(url(nombre, emitido))
        assert respuesta.status_code == 403 and SECRETO not in respuesta.content.decode()
    assert cliente.post(url("ficha_consentimiento_tableta", emitido), {**firmante(), "firma": FIRMA}).status_code == 403
    assert huella_bd() == antes


def test_la_administracion_mantiene_las_plantillas(admin, tratante, paciente_ficha):
    cliente = cliente_de(admin.user)
    respuesta = cliente.post(reverse("gestion:plantilla_consentimiento_nueva"),
                             {"nombre": "Endodoncia", "procedimiento": "Tratamiento de conducto", "texto": "Riesgos: x."})
    assert respuesta.status_code == 302
    plantilla = PlantillaConsentimiento.objects.get(nombre="Endodoncia")
    consentimiento = emitir_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, plantilla_id=plantilla.pk)
    respuesta = cliente.post(reverse("gestion:plantilla_consentimiento", args=[plantilla.pk]),
                             {"nombre": "Endodoncia", "procedimiento": "Tratamiento de conducto", "texto": "Nuevo."})
    assert respuesta.status_code == 302
    consentimiento.refresh_from_db()
    assert consentimiento.texto == "Riesgos: x."  # an issued consent keeps its text
    respuesta = cliente.post(reverse("gestion:plantilla_consentimiento_nueva"),
                             {"nombre": "endodoncia", "procedimiento": "x", "texto": "y"})
    assert "Ya hay una plantilla activa con ese nombre." in respuesta.content.decode()
    assert cliente.post(reverse("gestion:plantilla_consentimiento_estado", args=[plantilla.pk]),
                        {"activa": "0"}).status_code == 302
    assert not PlantillaConsentimiento.objects.get(pk=plantilla.pk).activa
    pagina = cliente.get(reverse("gestion:plantillas_consentimiento")).content.decode()
    assert "desactivada" in pagina and "Activar" in pagina
    # A dentist issues only from active templates.
    dentista = cliente_de(tratante.user)
    respuesta = dentista.post(reverse("gestion:ficha_consentimiento_nuevo", args=[paciente_ficha.pk]),
                              {"plantilla": plantilla.pk})
    assert respuesta.status_code == 200 and "Elija una plantilla de la lista." in respuesta.content.decode()
    assert dentista.get(reverse("gestion:plantillas_consentimiento")).status_code == 403


def test_la_ficha_enlaza_a_los_consentimientos(tratante, paciente_ficha):
    pagina = cliente_de(tratante.user).get(reverse("gestion:ficha", args=[paciente_ficha.pk])).content.decode()
    assert reverse("gestion:ficha_consentimientos", args=[paciente_ficha.pk]) in pagina


def test_el_escaneo_de_un_consentimiento_no_se_elimina(tratante, emitido, media):
    """The signed scan is the consent's proof: deleting it (its uploader, within the correction
    window) is refused with a message, never a 500, and nothing changes."""
    cliente = cliente_de(tratante.user)
    archivo = SimpleUploadedFile("firmado.pdf", PDF, content_type="application/pdf")
    cliente.post(url("ficha_consentimiento_escaneo", emitido), {**firmante(), "archivo": archivo})
    emitido.refresh_from_db()
    antes = huella_bd()
    respuesta = cliente.post(reverse("gestion:paciente_documento_eliminar",
                                     args=[emitido.cliente_id, emitido.documento_id]), follow=True)
    assert respuesta.status_code == 200
    assert "respalda otro registro de la ficha" in respuesta.content.decode()
    assert huella_bd() == antes


def test_la_lista_hace_las_mismas_consultas_con_1_o_con_12(tratante, paciente_ficha, plantilla):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cliente = cliente_de(tratante.user)
    lista = reverse("gestion:ficha_consentimientos", args=[paciente_ficha.pk])
    emitir_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, plantilla_id=plantilla.pk)
    cliente.get(lista)
    with CaptureQueriesContext(connection) as una:
        cliente.get(lista)
    for _ in range(11):
        emitir_consentimiento(actor=tratante.user, cliente_id=paciente_ficha.pk, plantilla_id=plantilla.pk)
    with CaptureQueriesContext(connection) as doce:
        respuesta = cliente.get(lista)
    assert respuesta.content.decode().count("Emitido (por aceptar)") == 12
    assert len(doce) == len(una), [q["sql"] for q in doce.captured_queries]


def test_el_rut_se_lee_con_puntos_en_la_tableta_la_pagina_y_el_pdf(tratante, emitido):
    """Found walking the demo: the tablet offered "12345678-5" and the page said "RUT 12345678-5"."""
    cliente = cliente_de(tratante.user)
    tableta = cliente.get(url("ficha_consentimiento_tableta", emitido)).content.decode()
    assert 'value="12.345.678-5"' in tableta
    assert cliente.post(url("ficha_consentimiento_tableta", emitido), firmante(firma=FIRMA)).status_code == 302
    assert "RUT 12.345.678-5 (el propio paciente)" in cliente.get(url("ficha_consentimiento", emitido)).content.decode()
    assert leer_pdf(cliente.get(url("ficha_consentimiento_pdf", emitido)).content).contiene("12.345.678-5")


def test_un_paciente_con_pasaporte_firma_con_su_documento(tratante, plantilla, dar_cita):
    """Found in review: a patient without a RUT (a tourist with a passport) could not sign at all:
    the RUT was required. Now they sign with the document their record holds; a representative
    still gives a RUT."""
    turista = Cliente.objects.create(nombre_completo="John Smith", tipo_documento="pasaporte",
                                     numero_documento="AA123456", pais_documento="AR")
    dar_cita(tratante, turista, dias=-9)
    consentimiento = emitir_consentimiento(actor=tratante.user, cliente_id=turista.pk, plantilla_id=plantilla.pk)
    cliente = cliente_de(tratante.user)
    tableta = cliente.get(url("ficha_consentimiento_tableta", consentimiento)).content.decode()
    assert 'name="firmante_rut"' in tableta and "John Smith" in tableta
    antes = huella_bd()
    representante = firmante(firmante_relacion="padre_madre", firmante_nombre="María Smith", firmante_rut="",
                             firma=FIRMA)
    respuesta = cliente.post(url("ficha_consentimiento_tableta", consentimiento), representante)
    assert respuesta.status_code == 200 and "Ingrese el RUT" in respuesta.content.decode()
    assert huella_bd() == antes
    propio = firmante(firmante_nombre="John Smith", firmante_rut="", firma=FIRMA)
    assert cliente.post(url("ficha_consentimiento_tableta", consentimiento), propio).status_code == 302
    consentimiento.refresh_from_db()
    assert (consentimiento.estado, consentimiento.firmante_rut) == ("aceptado", "Pasaporte AA123456 (Argentina)")
    pagina = cliente.get(url("ficha_consentimiento", consentimiento)).content.decode()
    assert "John Smith, Pasaporte AA123456 (Argentina) (el propio paciente)" in pagina
    assert leer_pdf(cliente.get(url("ficha_consentimiento_pdf", consentimiento)).content).contiene("Pasaporte AA123456")
