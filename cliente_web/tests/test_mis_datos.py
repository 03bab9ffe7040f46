"""The patient's copy of their data (Ley 21.719), issue 14: the JSON and its readable page carry
the cancelled appointments, nothing internal (no keys, ids, hashes, staff notes, other people),
only for the logged-in patient, writing and logging nothing."""

import datetime
import json
import logging
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from citas.models import Cancelacion
from citas.services import cancelar_cita, crear_cita_disponible, reservar_cita
from cliente_web.templatetags.mis_datos import EVENTOS, EVENTOS_DEL_PERSONAL
from cliente_web.tests.conftest import cliente_de
from cuentas.selectors import CAMPOS_DE_LA_FICHA, CAMPOS_INTERNOS_DE_LA_FICHA, exportar_datos_paciente
from ficha.consentimientos import aceptar_consentimiento, emitir_consentimiento
from ficha.models import MarcaOdontograma, PlantillaConsentimiento
from ficha.tests.test_recetas import receta_de
from notificaciones.eventos import declarados
from notificaciones.models import Notificacion
from pacientes.documentos import subir_documento
from pacientes.models import Cliente
from pacientes.tests.test_documentos import PNG
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

DATOS = "/portal/cuenta/datos/"
LEGIBLES = "/portal/cuenta/datos/legibles/"
NOTA_INTERNA = "llamó muy molesto, nota interna de recepción"
MOTIVO_CLINICA = "la dentista tiene un congreso"

# Keys a patient's copy never carries: database keys and ids (theirs mean nothing outside the
# database; anyone else's are other people), the staff form's key, the outbox's idempotency key,
# the provider's message id and error text, message bodies, password hashes.
PROHIBIDAS = {
    "id", "pk", "user", "user_id", "cliente", "cliente_id", "cita", "cita_id", "dentista_id", "usuario_id",
    "clave_envio", "clave_idempotencia", "proveedor_id", "ultimo_error", "cuerpo", "variables", "password",
    "registrado_por", "subido_por", "creado_por", "pgh_context", "intentos",
}
PARTES_PROHIBIDAS = ("_id", "clave", "password", "hash", "token", "idempotencia", "proveedor", "pgh")


def claves_de(valor, ruta="$"):
    """Every (path, key) of a JSON value, at any depth."""
    if isinstance(valor, dict):
        for clave, hijo in valor.items():
            yield f"{ruta}.{clave}", clave
            yield from claves_de(hijo, f"{ruta}.{clave}")
    elif isinstance(valor, list):
        for n, hijo in enumerate(valor):
            yield from claves_de(hijo, f"{ruta}[{n}]")


def textos_de(valor):
    if isinstance(valor, dict):
        for hijo in valor.values():
            yield from textos_de(hijo)
    elif isinstance(valor, list):
        for hijo in valor:
            yield from textos_de(hijo)
    elif valor is not None:
        yield str(valor)


@pytest.fixture
def historia(paciente, otro_paciente, dentista, recepcionista, manana_10, settings, tmp_path):
    """The patient with every kind of history: a booking, cancellations by them on the portal,
    by the desk on their behalf (with the desk's internal note) and by the clinic (with the
    reason the patient was told), a document uploaded by staff, notifications with provider ids,
    a staff form key on the record; and another patient with theirs."""
    settings.MEDIA_ROOT = tmp_path
    settings.CLINICA_MAX_RESERVAS_PORTAL = 100
    horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=manana_10 + datetime.timedelta(days=2, hours=n)) for n in range(6)]
    for hora in horas[:4]:
        reservar_cita(user=paciente, cita_id=hora.pk, motivo="control anual")
    cancelar_cita(actor=paciente, cita_id=horas[1].pk)
    cancelar_cita(actor=recepcionista.user, cita_id=horas[2].pk, motivo=NOTA_INTERNA)
    cancelar_cita(actor=recepcionista.user, cita_id=horas[3].pk, por_clinica=True, motivo=MOTIVO_CLINICA)
    reservar_cita(user=otro_paciente, cita_id=horas[4].pk)
    cancelar_cita(actor=otro_paciente, cita_id=horas[4].pk)
    subir_documento(actor=recepcionista.user, cliente_id=paciente.cliente.pk, titulo="Radiografía",
                    archivo=SimpleUploadedFile("rx.png", PNG, content_type="image/png"))
    Cliente.objects.filter(pk=paciente.cliente.pk).update(clave_envio=uuid.uuid4())
    Notificacion.objects.filter(cliente=paciente.cliente).update(proveedor_id="SM-proveedor-123")
    return horas


def test_la_copia_json_no_tiene_ninguna_clave_interna(portal, paciente, otro_paciente, recepcionista, historia):
    datos = json.loads(portal.get(DATOS).content)
    malas = [ruta for ruta, clave in claves_de(datos)
             if clave in PROHIBIDAS or any(parte in clave for parte in PARTES_PROHIBIDAS)]
    assert not malas, f"claves internas en la copia: {malas}"
    # Nor their values under another name.
    cliente = Cliente.objects.select_related("user").get(pk=paciente.cliente.pk)
    secretos = {cliente.user.password, str(cliente.clave_envio), "SM-proveedor-123", NOTA_INTERNA,
                recepcionista.user.username, recepcionista.user.get_full_name(), otro_paciente.cliente.nombre_completo,
                otro_paciente.cliente.email, otro_paciente.cliente.rut, str(otro_paciente.cliente.telefono)}
    secretos |= set(Notificacion.objects.filter(cliente=cliente).values_list("clave_idempotencia", flat=True))
    textos = list(textos_de(datos))
    for secreto in secretos:
        assert not any(secreto in texto for texto in textos), secreto
    # What is there: the booking, and the three cancellations with who, when and the original time.
    assert [c["estado"] for c in datos["citas"]] == ["reservada"]
    canceladas = datos["citas_canceladas"]
    assert [(c["cancelada_por"], c["como"], c["motivo"]) for c in canceladas] == [
        ("la clínica", "", MOTIVO_CLINICA), ("usted", "avisando a la clínica", ""), ("usted", "en el portal", "")]
    for fila, hora in zip(canceladas, reversed(historia[1:4])):
        assert datetime.datetime.fromisoformat(fila["inicio"]) == hora.inicio
        assert fila["dentista"] == "Camila Soto" and fila["cancelada_en"]


def test_cada_columna_de_la_ficha_esta_decidida():
    """A new column of ``Cliente`` must be put in one list or the other: exported or internal."""
    columnas = {campo.attname for campo in Cliente._meta.concrete_fields}
    assert set(CAMPOS_DE_LA_FICHA) | set(CAMPOS_INTERNOS_DE_LA_FICHA) == columnas
    assert not set(CAMPOS_DE_LA_FICHA) & set(CAMPOS_INTERNOS_DE_LA_FICHA)


def test_la_version_legible_tiene_lo_mismo_en_castellano_y_fechas_chilenas(portal, paciente, historia,
                                                                          django_assert_num_queries):
    # session, user with their record + the export's eleven (the clinical record's three without a
    # medical history, issue 15; the prescriptions, the odontogram history and the consents, issue 16)
    # + the read log's row
    with django_assert_num_queries(15):
        respuesta = portal.get(LEGIBLES)
    assert respuesta.status_code == 200 and respuesta["Content-Type"].startswith("text/html")
    assert "no-store" in respuesta["Cache-Control"]
    html = respuesta.content.decode()
    cliente = paciente.cliente
    assert "Mis datos en" in html and cliente.nombre_completo in html and "Imprimir o guardar en PDF" in html
    assert "11.000.501-" in html and "+56 9 6000 0501" in html  # RUT and phone as Chileans write them
    for titulo in ("Ficha", "Cuenta del portal", "Avisos y consentimientos", "Citas canceladas",
                   "Avisos que le enviamos", "Documentos"):
        assert f">{titulo}</h2>" in html
    reservada, _, _, clinica = historia[:4]
    assert f"{timezone.localtime(reservada.inicio):%d-%m-%Y %H:%M}" in html  # dd-mm-aaaa
    assert f"{timezone.localtime(clinica.inicio):%d-%m-%Y %H:%M}" in html
    canceladas = html.split('id="t-canceladas"')[1].split("</section>")[0]
    assert canceladas.count("cancelada\"><strong>") == 3
    assert "Cancelada por la clínica el " in canceladas and MOTIVO_CLINICA in canceladas
    assert "Cancelada por usted (en el portal) el " in canceladas
    assert "Cancelada por usted (avisando a la clínica) el " in canceladas
    assert NOTA_INTERNA not in html and "Pedro" not in html
    assert not re.search(r"\d{4}-\d\d-\d\d", html), "una fecha ISO quedó sin pasar al formato chileno"
    assert "Radiografía" in html and "Reserva confirmada" in html
    avisos = html.split('id="t-notificaciones"')[1].split("</section>")[0]
    assert "Cita cancelada por la clínica" in avisos and "Cita cancelada por usted" in avisos
    assert 'href="/portal/cuenta/datos/"' in html  # the JSON, from the same page


def test_mi_cuenta_enlaza_las_dos_versiones(portal):
    html = portal.get("/portal/cuenta/").content.decode()
    assert f'href="{DATOS}" download' in html and f'href="{LEGIBLES}"' in html


@pytest.mark.parametrize("url", [DATOS, LEGIBLES])
def test_solo_para_el_paciente_conectado(db, recepcionista, url):
    anonimo = Client().get(url)
    assert anonimo.status_code == 302 and anonimo["Location"].startswith("/portal/entrar/")
    assert cliente_de(recepcionista.user).get(url).status_code == 403


@pytest.mark.parametrize("url", [DATOS, LEGIBLES])
def test_ids_ajenos_no_cambian_de_quien_es_la_copia(portal, paciente, otro_paciente, url):
    otro = otro_paciente.cliente
    respuesta = portal.get(url, {"cliente_id": otro.pk, "id": otro.pk, "pk": otro.pk})
    texto = respuesta.content.decode()
    assert paciente.cliente.nombre_completo in texto
    assert otro.nombre_completo not in texto and otro.email not in texto


@pytest.mark.parametrize("url", [DATOS, LEGIBLES])
def test_no_escribe_ni_registra_nada(portal, paciente, historia, url, caplog):
    """Nothing but the read of the clinical record it carries (issue 15: one row of the read
    log, ``cliente_web/tests/test_mis_datos_ficha.py``); a refused POST not even that."""
    from ficha.models import LecturaFicha

    # huella_bd leaves the read log out (pruebas/soporte.py): it is counted apart.
    antes, lecturas = huella_bd(), LecturaFicha.objects.count()
    with caplog.at_level(logging.DEBUG):
        assert portal.get(url).status_code == 200
        assert portal.post(url).status_code == 405
    assert LecturaFicha.objects.count() == lecturas + 1
    assert huella_bd() == antes
    propios = [r for r in caplog.records
               if r.name.split(".")[0] in {"cuentas", "cliente_web", "citas", "pacientes", "notificaciones", "nucleo"}]
    assert propios == []


def test_exportar_sin_limite_de_canceladas(paciente, dentista, recepcionista, manana_10, settings):
    """The copy is complete: every cancellation, not the page's latest 50."""
    settings.CLINICA_MAX_RESERVAS_PORTAL = 100
    for n in range(55):
        hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                     inicio=manana_10 + datetime.timedelta(days=2, minutes=30 * n))
        reservar_cita(user=paciente, cita_id=hora.pk)
        cancelar_cita(actor=paciente, cita_id=hora.pk)
    assert Cancelacion.objects.filter(cliente=paciente.cliente).count() == 55
    assert len(exportar_datos_paciente(cliente_id=paciente.cliente.pk)["citas_canceladas"]) == 55


def test_la_copia_legible_nombra_cada_aviso_que_puede_recibir_un_paciente():
    """Every declared event a patient can receive has its Spanish label in the readable copy
    (the fallback would print the key without its accents: "Codigo telefono")."""
    assert set(declarados()) - EVENTOS_DEL_PERSONAL <= set(EVENTOS)


def test_la_copia_trae_los_consentimientos_informados(portal, paciente, dentista, historia):
    """Issue 16: the patient's consents, with the text as issued, their state and how they were
    accepted, in the JSON and counted on the readable page; no internal key."""
    plantilla = PlantillaConsentimiento.objects.create(nombre="Endodoncia", procedimiento="Endodoncia de 36",
                                                       texto="Riesgos: fractura de instrumento.")
    consentimiento = emitir_consentimiento(actor=dentista.user, cliente_id=paciente.cliente.pk,
                                           plantilla_id=plantilla.pk)
    aceptar_consentimiento(actor=dentista.user, cliente_id=paciente.cliente.pk, consentimiento_id=consentimiento.pk,
                           firmante_nombre="Tutor Legal", firmante_rut="11.111.111-1", firmante_relacion="tutor",
                           leido=True, firma="[[[10, 10], [200, 300]]]")
    datos = json.loads(portal.get(DATOS).content)
    [copia] = datos["ficha_clinica"]["consentimientos"]
    assert (copia["estado"], copia["forma"], copia["texto"]) == ("aceptado", "firma",
                                                                 "Riesgos: fractura de instrumento.")
    assert copia["firmante"]["relacion_texto"] == "Tutor o curador legal" and copia["aceptado_ante"] == "Camila Soto"
    assert copia["firma_trazos"] == [[[10, 10], [200, 300]]]
    malas = [ruta for ruta, clave in claves_de(datos)
             if clave in PROHIBIDAS or any(parte in clave for parte in PARTES_PROHIBIDAS)]
    assert not malas, malas
    assert "1 consentimiento informado" in portal.get(LEGIBLES).content.decode()


def test_la_copia_legible_cuenta_recetas_y_odontograma(portal, paciente, dentista, historia):
    """Issue 16: the readable page says what the files hold: the prescriptions (with the way to
    "Mis recetas") and the odontogram's marks and changes."""
    receta_de(paciente.cliente, dentista, "Amoxicilina")
    for vigente in (True, False, True):
        MarcaOdontograma.objects.create(cliente=paciente.cliente, registrado_por=dentista.user, diente=16,
                                        superficie="O", estado="caries", condicion="hallazgo", vigente=vigente)
    pagina = portal.get(LEGIBLES).content.decode()
    assert "1 receta (también en" in pagina and 'href="/portal/cuenta/recetas/"' in pagina
    assert "Odontograma: 1 marca vigente, 3 cambios registrados" in pagina
