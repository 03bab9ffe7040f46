"""Every read of a clinical record is logged, and clinical content reaches only the care team
(Decreto 41 art. 9, Ley 20.584 art. 13) — tried on EVERY URL of the staff site, not on a list.

The patient of the security scene (``registros``) gets a record whose every part carries a
marker: allergies, medical history, a signed note, an addendum, a document. Then each staff URL
is opened (GET; what a page shows) by each staff person. A response "shows clinical content"
when its body holds a marker, or it is a file (a document, a PDF, a JSON copy). Such a response
must have written its row in the read log during that same request, and must reach only the
care team. A new page that shows clinical content without going through
``gestion_clinica.views.acceso_ficha.con_acceso_a_ficha`` fails here, whatever its URL.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from clinica.tests.conftest import _plan_de
from clinica.tests.seguridad import argumentos_de, patrones
from ficha.models import (Antecedentes, Consentimiento, Evolucion, LecturaFicha, MarcaOdontograma,
                          PlantillaConsentimiento, Via)
from ficha.tests.test_recetas import receta_de
from pacientes.models import Cliente
from personal.models import Perfil
from tratamientos.models import PlanTratamiento

pytestmark = [pytest.mark.django_db, pytest.mark.lento]

MARCADORES = ("ALERGIA-7731", "ENFERMEDAD-7731", "EVOLUCION-7731", "ADENDA-7731", "RECETA-7731",
              "ODONTOGRAMA-7731", "CONSENTIMIENTO-7731",  # issue 16: a prescription line, a mark's note, a consent
              "PLAN-7731")  # issue 17: a treatment plan's clinical observations
TIPOS_DE_ARCHIVO = ("application/pdf", "image/", "application/json", "application/octet-stream")


@pytest.fixture
def ficha_marcada(registros):
    """The scene's patient with every part of a record marked; the scene's dentist (who has
    an appointment with them) is their care team."""
    cliente_id = registros["cliente_id"]
    dentista = Perfil.objects.get(pk=registros["dentista_id"])
    Cliente.objects.filter(pk=cliente_id).update(alergias="Penicilina ALERGIA-7731")
    Antecedentes.objects.filter(cliente_id=cliente_id).update(enfermedades="Diabetes ENFERMEDAD-7731")
    hoy = timezone.localdate()
    nota = Evolucion.objects.create(cliente_id=cliente_id, dentista=dentista, atendido_el=hoy,
                                    procedimiento="Control", dientes=[16], texto="Sin novedad EVOLUCION-7731")
    Evolucion.objects.filter(pk=nota.pk).update(firmada_en=timezone.now())
    adenda = Evolucion.objects.create(cliente_id=cliente_id, dentista=dentista, atendido_el=hoy, corrige=nota,
                                      texto="Corrige el diente ADENDA-7731")
    Evolucion.objects.filter(pk=adenda.pk).update(firmada_en=timezone.now())
    MarcaOdontograma.objects.create(cliente_id=cliente_id, registrado_por=dentista.user, diente=16, superficie="O",
                                    estado="caries", condicion="hallazgo", nota="Mancha ODONTOGRAMA-7731")
    receta = receta_de(Cliente.objects.get(pk=cliente_id), dentista, "Amoxicilina RECETA-7731")
    # Issue 16: an informed consent whose issued text carries the marker.
    plantilla = PlantillaConsentimiento.objects.create(nombre="Endodoncia", procedimiento="Endodoncia de 36",
                                                       texto="Riesgos: fractura de lima.")
    consentimiento = Consentimiento.objects.create(
        cliente_id=cliente_id, plantilla=plantilla, dentista=dentista, titulo=plantilla.nombre,
        procedimiento=plantilla.procedimiento, texto="Riesgos: fractura de lima CONSENTIMIENTO-7731",
        emitido_por=dentista.user)
    # Issue 17: a treatment plan whose clinical observations carry the marker (the dentist's plan
    # page shows them; reception's billing view of the same plan must not).
    plan = _plan_de(Cliente.objects.get(pk=cliente_id), dentista)
    PlanTratamiento.objects.filter(pk=plan.pk).update(observaciones="Control de placa PLAN-7731")
    return {**registros, "evolucion_id": nota.pk, "receta_id": receta.pk, "consentimiento_id": consentimiento.pk,
            "plantilla_id": plantilla.pk, "plan_id": plan.pk, "item_id": plan.items.first().pk,
            "prestacion_id": plan.items.first().prestacion_id,
            # Issue 17: the receptionist's box, a payment and a quote of the patient (billing, not the record).
            "caja_id": registros["caja_id"], "pago_id": registros["pago_id"],
            "presupuesto_id": registros["presupuesto_id"]}


def _urls_del_personal(registros):
    """Every staff URL, filled with the scene's ids (the patient's own, never another's)."""
    urls = []
    for clave, patron in patrones():
        if not clave.startswith("gestion:") or clave in ("gestion:entrar", "gestion:salir", "gestion:activar"):
            continue
        try:
            urls.append((clave, reverse(clave, kwargs=argumentos_de(clave, patron, registros))))
        except KeyError as falta:  # a new kind of id: the scene must learn it, not skip it
            pytest.fail(f"{clave}: la escena no tiene {falta}; agréguelo a ficha_marcada o a registros")
    return urls


# Issue 17: billing documents are files that are not the record (a quote prints prestaciones,
# teeth and prices, what reception quotes and collects; a receipt, a payment): their text is
# searched for the record's markers instead of counting any file as clinical.
DOCUMENTOS_DE_COBRO = {"gestion:paciente_presupuesto_pdf", "gestion:comprobante_pdf"}


def _muestra_ficha(respuesta, clave=None) -> bool:
    tipo = respuesta.get("Content-Type", "")
    if clave in DOCUMENTOS_DE_COBRO and tipo == "application/pdf":
        from pruebas.pdf import leer_pdf

        texto = leer_pdf(respuesta.content).texto
        return any(marcador in texto for marcador in MARCADORES)
    if respuesta.streaming or any(tipo.startswith(t) for t in TIPOS_DE_ARCHIVO):
        return True
    cuerpo = respuesta.content.decode("utf-8", "replace")
    return any(marcador in cuerpo for marcador in MARCADORES)


def _recorrer(cliente, urls):
    """(clave, url, shows clinical content, log rows written by that request) for each URL."""
    for clave, url in urls:
        antes = LecturaFicha.objects.count()
        respuesta = cliente.get(url)
        assert respuesta.status_code < 500, f"GET {url} → {respuesta.status_code}"
        nuevas = list(LecturaFicha.objects.order_by("id")[antes:])
        if respuesta.streaming:
            b"".join(respuesta.streaming_content)
        yield clave, url, _muestra_ficha(respuesta, clave), nuevas


def test_el_equipo_de_cuidado_deja_registro_en_cada_url_que_muestra_la_ficha(ficha_marcada, personas):
    muestran = []
    for clave, url, muestra, nuevas in _recorrer(personas["dentista"], _urls_del_personal(ficha_marcada)):
        if not muestra:
            continue
        muestran.append(clave)
        assert nuevas, f"{url} mostró contenido clínico sin registrar la lectura"
        assert all(fila.cliente_id == ficha_marcada["cliente_id"] and fila.via == Via.EQUIPO for fila in nuevas), url
    # The walk really met the record: the ficha page and a document at least.
    assert "gestion:ficha" in muestran and "gestion:paciente_documento" in muestran, muestran
    assert {"gestion:ficha_recetas", "gestion:ficha_receta", "gestion:ficha_receta_pdf"} <= set(muestran), muestran
    assert {"gestion:ficha_odontograma", "gestion:ficha_odontograma_historial"} <= set(muestran), muestran
    assert {"gestion:ficha_consentimiento", "gestion:ficha_consentimiento_tableta"} <= set(muestran), muestran
    assert {"gestion:ficha_plan", "gestion:ficha_plan_item"} <= set(muestran), muestran  # issue 17


@pytest.mark.parametrize("persona", ["recepcion", "administrador"])
def test_recepcion_y_administracion_no_ven_contenido_clinico_en_ninguna_url(persona, ficha_marcada, personas):
    for clave, url, muestra, nuevas in _recorrer(personas[persona], _urls_del_personal(ficha_marcada)):
        assert not muestra, f"{persona} vio contenido clínico en {url}"
        assert all(fila.via == Via.DENEGADO for fila in nuevas), url


def test_un_dentista_fuera_del_equipo_no_ve_la_ficha_y_su_intento_queda(ficha_marcada, crear_personal):
    from clinica.tests.seguridad import cliente_logueado

    ajeno = crear_personal(rol="dentista", username="dr.ajeno", nombre="Jorge", apellido="Mora")
    detras_de_la_puerta = {clave for clave, patron in patrones() if hasattr(patron.callback, "seccion_de_ficha")}
    intentos = set()
    for clave, url, muestra, nuevas in _recorrer(cliente_logueado(ajeno.user), _urls_del_personal(ficha_marcada)):
        assert not muestra, f"un dentista fuera del equipo vio contenido clínico en {url}"
        if clave in detras_de_la_puerta:
            assert nuevas and all(fila.via == Via.DENEGADO for fila in nuevas), f"{url}: intento sin registrar"
            intentos.add(clave)
    assert intentos == detras_de_la_puerta and {"gestion:ficha", "gestion:paciente_documento"} <= intentos
