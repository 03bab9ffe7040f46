"""Allergies are clinical data (Ley 20.584 art. 13): only the patient's care team reads them
(the one rule, ``ficha.acceso.acceso_a_ficha``), on the appointment's page and on the
patient's record, each read logged; the day grid shows everyone only "Alerta clínica";
recepción and administración see only the alert everywhere."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citas.models import EstadoCita
from citas.selectors import agenda_del_dia
from citas.services import asignar_cita, cancelar_cita, crear_cita_disponible
from cuentas.presencial import crear_cliente_presencial
from ficha.models import LecturaFicha, Seccion, Via
from gestion_clinica.tests.conftest import cliente_de
from gestion_clinica.views.agenda import _Celdas
from pacientes.models import Cliente
from pacientes.services import actualizar_cliente
from personal.models import Rol

pytestmark = pytest.mark.django_db

ALERGIA = "Penicilina y látex"
AGENDA = reverse("gestion:agenda")


@pytest.fixture
def otro_dentista(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Bruno", apellido="Vera")


@pytest.fixture
def con_alergia(recepcionista):
    return crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz Rojas", alergias=ALERGIA)


@pytest.fixture
def cita_de(recepcionista):
    """``cita_de(dentista, cliente, hora)``: today's appointment of that patient (moved to today
    after booking it through the service, as ``conftest.cita_hoy`` does)."""

    def crear(dentista, cliente, a_las=datetime.time(10)):
        futuro = datetime.datetime.combine(timezone.localdate() + datetime.timedelta(days=30), a_las,
                                           tzinfo=timezone.get_current_timezone())
        cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=futuro)
        cita = asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=cliente.pk)
        inicio = datetime.datetime.combine(timezone.localdate(), a_las, tzinfo=timezone.get_current_timezone())
        type(cita).objects.filter(pk=cita.pk).update(inicio=inicio, fin=inicio + datetime.timedelta(minutes=30))
        return cita

    return crear


# The appointment's page ------------------------------------------------------------------------


def test_pagina_de_la_cita(clientes, dentista, otro_dentista, con_alergia, cita_de):
    cita = cita_de(dentista, con_alergia)
    url = reverse("gestion:agenda_cita", args=[cita.pk])
    texto = clientes["dentista"].get(url).text
    assert ALERGIA in texto and "⚠ ALERGIAS:" in texto and "Alerta clínica" not in texto
    lectura = LecturaFicha.objects.get()  # the read of the allergies, logged
    assert (lectura.usuario_id, lectura.cliente_id, lectura.seccion, lectura.via) == (
        dentista.user.pk, con_alergia.pk, Seccion.ANTECEDENTES, Via.EQUIPO)
    assert cliente_de(otro_dentista.user).get(url).status_code == 404  # another dentist's: as before
    for persona in ("recepcion", "administrador", "superusuario"):
        texto = clientes[persona].get(url).text
        assert "Alerta clínica" in texto
        assert ALERGIA not in texto and "látex" not in texto
    assert LecturaFicha.objects.count() == 1  # the desk saw no clinical text: nothing to log


def test_pagina_de_la_cita_cancelada_del_dentista_fuera_del_equipo_no_deja_registro(clientes, dentista, con_alergia,
                                                                                   cita_de, recepcionista):
    """The clinic cancelled the dentist's only appointment with the patient: they still open
    that appointment's page (their own), see only the alert and no link to the ficha, and no
    refused attempt is written to the patient's log (the page showed nothing clinical)."""
    cita = cita_de(dentista, con_alergia)
    type(cita).objects.filter(pk=cita.pk).update(estado=EstadoCita.CANCELADA)
    respuesta = clientes["dentista"].get(reverse("gestion:agenda_cita", args=[cita.pk]))
    assert respuesta.status_code == 200
    assert "Alerta clínica" in respuesta.text and ALERGIA not in respuesta.text
    assert reverse("gestion:ficha", args=[con_alergia.pk]) not in respuesta.text
    assert not LecturaFicha.objects.exists()


def test_pagina_de_la_cita_sin_alergias_ni_alerta(clientes, dentista, recepcionista, cita_de):
    sin = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Sin Alergias")
    cita = cita_de(dentista, sin)
    for persona in ("dentista", "recepcion"):
        texto = clientes[persona].get(reverse("gestion:agenda_cita", args=[cita.pk])).text
        assert "Alerta clínica" not in texto and "ALERGIAS" not in texto
    assert not LecturaFicha.objects.exists()


# The day grid ----------------------------------------------------------------------------------


def test_grilla_solo_la_alerta_para_todos(clientes, dentista, con_alergia, cita_de, recepcionista):
    """The grid never shows allergy text (not even to the dentist: no per-cell read log), only a
    non-clinical marker; the text is on the appointment's page."""
    cita_de(dentista, con_alergia)
    otra = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Otra Persona",
                                    alergias="<script>alert(1)</script> & O'Higgins")
    cita_de(dentista, otra, datetime.time(11))
    for persona in ("dentista", "recepcion", "administrador"):
        texto = clientes[persona].get(AGENDA).text
        assert texto.count('<span class="badge text-bg-danger alerta-clinica">Alerta clínica</span>') == 2
        assert ALERGIA not in texto and "O&#x27;Higgins" not in texto and "Alergias:" not in texto
        assert "<script>alert(1)" not in texto
    assert not LecturaFicha.objects.exists()


@pytest.mark.parametrize("persona", ["recepcion", "dentista"])
def test_celdas_con_alergias_iguales_a_la_plantilla_directa(dentista, otro_dentista, recepcionista, cita_de, persona):
    """The cached looks with the allergies put in per appointment are exactly the partial
    rendered straight: with and without allergies, markup and a placeholder's text in them."""
    textos = [ALERGIA, "<b>Polen</b> & \"ácaros\"", "alergias0 nombre0 pk0", ""]
    for n, texto in enumerate(textos * 2):
        cliente = crear_cliente_presencial(actor=recepcionista.user, nombre_completo=f"Paciente {n} <i>",
                                           alergias=texto)
        cita_de(dentista if n % 2 else otro_dentista, cliente, datetime.time(8 + n))
    propio = dentista if persona == "dentista" else None
    celdas = _Celdas(dentista_propio=propio, ahora=timezone.now(), csrf_token="token-de-prueba")
    agenda = agenda_del_dia(fecha=timezone.localdate(), dentista_id=propio.pk if propio else None)
    vistas = 0
    for fila in agenda.filas:
        for citas in fila.celdas:
            hecha = celdas(citas)
            assert hecha == celdas.render([celdas.en_celda(cita) for cita in citas])
            assert "\x00" not in hecha
            vistas += len(citas)
    assert vistas == (4 if propio else 8)


def test_grilla_sigue_en_seis_consultas_con_alergias(clientes, dentista, con_alergia, cita_de,
                                                     django_assert_num_queries):
    # Allergies come in the day's own query; the sixth is the day's cancellations (one query).
    for h in range(8, 14):
        cita_de(dentista, con_alergia if h == 8 else Cliente.objects.create(nombre_completo=f"P{h}", alergias="x"),
                datetime.time(h))
    for persona in ("recepcion", "dentista"):
        clientes[persona].get(AGENDA)
        # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
        with django_assert_num_queries(6):  # + the second factor's device (OTPMiddleware)
            assert clientes[persona].get(AGENDA).status_code == 200


# The patient's record --------------------------------------------------------------------------


def test_ficha_solo_el_dentista_que_atiende_ve_el_contenido(clientes, dentista, otro_dentista, con_alergia, cita_de,
                                                           recepcionista, django_assert_num_queries):
    ficha = reverse("gestion:paciente", args=[con_alergia.pk])
    # Before any appointment: no dentist sees it, and nothing is logged (this administrative
    # page showed no clinical content; refused attempts are logged on the record's own URLs).
    texto = clientes["dentista"].get(ficha).text
    assert ALERGIA not in texto and "Alerta clínica" in texto and 'id="form-urgencia"' in texto
    assert not LecturaFicha.objects.exists()
    cita_de(dentista, con_alergia)
    actualizar_cliente(actor=recepcionista.user, cliente_id=con_alergia.pk, nombre_completo="Marta Díaz Rojas",
                       alergias="Penicilina, látex y yodo")
    texto = clientes["dentista"].get(ficha).text
    assert "Penicilina, látex y yodo" in texto and "⚠ ALERGIAS:" in texto
    assert f"<del>{ALERGIA}</del>" in texto  # the history too, for the dentist who sees the patient
    for cliente in (cliente_de(otro_dentista.user), clientes["recepcion"], clientes["administrador"]):
        texto = cliente.get(ficha).text
        assert "Alerta clínica" in texto
        assert "Penicilina" not in texto and "yodo" not in texto  # neither in the box nor in the history
        assert "(dato clínico)" in texto
    # Logged: the team dentist's read only; the other dentist and the desk saw no clinical
    # content, so no row of theirs (the patient's "quién vio mi ficha" lists who read it).
    lecturas = LecturaFicha.objects.order_by("pk")
    assert [(le.usuario_id, le.via) for le in lecturas] == [(dentista.user.pk, Via.EQUIPO)]
    # The dentist's record: two more queries (the access rule, the read log's row), only for a dentist.
    de_recepcion = len(_consultas(clientes["recepcion"], ficha))
    clientes["dentista"].get(ficha)
    with django_assert_num_queries(de_recepcion + 2):
        clientes["dentista"].get(ficha)


def _consultas(cliente, url):
    cliente.get(url)
    with CaptureQueriesContext(connection) as capturadas:
        cliente.get(url)
    return capturadas.captured_queries


def test_cita_cancelada_no_hace_al_dentista_parte_del_equipo(clientes, dentista, con_alergia, recepcionista):
    inicio = timezone.now() + datetime.timedelta(days=3)
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
    asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=con_alergia.pk)
    ficha = reverse("gestion:paciente", args=[con_alergia.pk])
    assert ALERGIA in clientes["dentista"].get(ficha).text
    cancelar_cita(actor=recepcionista.user, cita_id=cita.pk, motivo="llamó por teléfono")
    assert ALERGIA not in clientes["dentista"].get(ficha).text


def test_lista_de_pacientes_solo_la_alerta(clientes, con_alergia):
    for persona in ("recepcion", "dentista"):
        texto = clientes[persona].get(reverse("gestion:pacientes")).text
        assert "Alerta clínica" in texto and ALERGIA not in texto
