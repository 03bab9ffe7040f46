"""Every URL of the portal × every kind of person, built from the URLconf itself so a new page
cannot escape the matrix: who may open it, that another patient's ids find nothing (404), and
that nothing answers 500."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from citas.services import crear_cita_disponible, reservar_cita
from citas.tests.test_services import registrar_paciente
from ficha.tests.test_recetas import receta_de
from cliente_web.tests.conftest import cliente_de
from cliente_web.urls import urlpatterns
from pruebas.soporte import huella_bd
from pacientes.documentos import subir_documento
from pacientes.services import desactivar_cliente
from pacientes.tests.test_documentos import PNG
from pagos.tests.escena import pago_en_escena
from tratamientos.presupuestos import emitir_presupuesto
from tratamientos.tests.fabricas import plan_con_items

pytestmark = pytest.mark.django_db

ENTRAR = "/portal/entrar/"
# Open to anyone (their own rules are tested in test_sesion, test_registro, test_clave, ...).
PUBLICAS = {
    "entrar", "salir", "registro", "privacidad", "recuperar_clave", "recuperar_clave_enviado", "activar",
    "cuenta_eliminada", "recordatorio_enlace", "reservar", "cuenta_correo_confirmar", "cuenta_correo_deshacer",
    "registro_enviado", "registro_verificar",
}
# The booking step takes a free slot's id, not one of the patient's records.
DE_HORA_LIBRE = {"reservar_confirmar"}
PERSONAS = ("anonimo", "paciente", "otro_paciente", "personal", "paciente_inactivo")
NOMBRES = [p.name for p in urlpatterns]


@pytest.fixture
def objetos(paciente, dentista, recepcionista, settings, tmp_path):
    """The patient's own records, whose ids fill the URLs."""
    settings.MEDIA_ROOT = tmp_path
    ahora = timezone.now()
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=ahora + datetime.timedelta(days=3))
    reservada = reservar_cita(user=paciente, cita_id=hora.pk, motivo="motivo-privado-del-paciente")
    libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                  inicio=ahora + datetime.timedelta(days=4))
    documento = subir_documento(
        actor=recepcionista.user, cliente_id=paciente.cliente.pk, titulo="Radiografía privada",
        archivo=SimpleUploadedFile("rx.png", PNG, content_type="image/png"),
    )
    receta = receta_de(paciente.cliente, dentista, "Amoxicilina")  # issue 16: "Mis recetas"
    plan, _ = plan_con_items(paciente.cliente, dentista)  # issue 17: "Mis presupuestos"
    presupuesto = emitir_presupuesto(actor=recepcionista.user, plan_id=plan.pk)
    return {"cita": hora.pk, "libre": libre.pk, "documento": documento.pk, "reserva_uid": reservada.reserva_uid,
            "receta": receta.pk, "presupuesto": presupuesto.pk,
            "pago": pago_en_escena(recepcionista.user, paciente.cliente).pk}  # issue 17: a receipt


def url_de(nombre, objetos):
    patron = next(p for p in urlpatterns if p.name == nombre)
    kwargs = {}
    for clave in patron.pattern.converters:
        if clave in ("uidb64", "token"):
            kwargs[clave] = "no-es-valido"
        elif nombre in DE_HORA_LIBRE:
            kwargs[clave] = objetos["libre"]
        elif clave == "reserva_uid":  # a booking by its identity (issue 14)
            kwargs[clave] = objetos["reserva_uid"]
        elif nombre.startswith("documento"):
            kwargs[clave] = objetos["documento"]
        elif clave == "receta_id":
            kwargs[clave] = objetos["receta"]
        elif clave == "pago_id":  # issue 17
            kwargs[clave] = objetos["pago"]
        elif clave == "presupuesto_id":
            kwargs[clave] = objetos["presupuesto"]
        else:
            kwargs[clave] = objetos["cita"]
    return reverse(f"portal:{nombre}", kwargs=kwargs), bool(kwargs)


@pytest.fixture
def clientes(paciente, otro_paciente, recepcionista, db):
    inactivo = registrar_paciente(777)
    desactivar_cliente(actor=recepcionista.user, cliente_id=inactivo.cliente.pk)
    return {
        "anonimo": Client(),
        "paciente": cliente_de(paciente),
        "otro_paciente": cliente_de(otro_paciente),
        "personal": cliente_de(recepcionista.user),
        "paciente_inactivo": cliente_de(inactivo),
    }


def test_la_matriz_conoce_todas_las_paginas_publicas():
    assert PUBLICAS - {"recordatorio_enlace"} <= set(NOMBRES)


@pytest.mark.parametrize("nombre", NOMBRES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_toda_url_por_toda_persona(clientes, objetos, paciente, nombre, persona):
    url, con_id = url_de(nombre, objetos)
    solo_post = clientes["paciente"].get(url).status_code == 405
    antes = huella_bd() if persona != "paciente" and nombre not in PUBLICAS else None
    respuesta = (clientes[persona].post if solo_post else clientes[persona].get)(url)
    assert respuesta.status_code < 500
    if nombre in PUBLICAS:
        pass
    elif persona in ("anonimo", "paciente_inactivo"):
        # Deactivating a patient deactivates their login too: their open session is over.
        assert respuesta.status_code == 302 and respuesta.url.startswith(ENTRAR)
    elif persona == "personal":
        assert respuesta.status_code == 403
    elif persona == "otro_paciente" and con_id and nombre not in DE_HORA_LIBRE:
        assert respuesta.status_code == 404, "los ids de otro paciente no existen para él"
    elif persona == "paciente":
        assert respuesta.status_code in (200, 302)
    if antes is not None:
        assert huella_bd() == antes, "nadie más que el dueño cambia algo"
    if persona != "paciente":
        contenido = respuesta.content.decode(errors="replace")
        for secreto in ("motivo-privado-del-paciente", "Radiografía privada", paciente.cliente.email):
            assert secreto not in contenido
