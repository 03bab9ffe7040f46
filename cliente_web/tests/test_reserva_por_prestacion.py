"""The portal books by what the visit is for (issue 17): first the prestación (only those offered
online, with duration and price), then only the dentists who perform it and only the start
times where its whole duration fits, each with its end; the confirm step and the booking say
the prestación; the slot page stays at two queries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from citas.cadenas import cadena_de
from citas.models import Cita, EstadoCita
from citas.selectors import filas_de_horas_libres, opciones_de_dentista
from citas.services import asignar_cita, crear_cita_disponible, reservar_cita
from prestaciones.models import Prestacion, PrestacionDentista
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

MIN = datetime.timedelta(minutes=1)
RESERVAR = "/portal/reservar/"


@pytest.fixture
def otro_dentista(crear_personal):
    return crear_personal(nombre="Tomás", apellido="Vidal")


@pytest.fixture
def limpieza(dentista):
    p = Prestacion.objects.create(codigo="LIMP", nombre="Limpieza", duracion_minutos=60, precio=25_000,
                                  reservable_en_linea=True)
    PrestacionDentista.objects.create(prestacion=p, dentista=dentista)
    return p


@pytest.fixture
def corona(dentista, otro_dentista):
    """Not offered online."""
    p = Prestacion.objects.create(codigo="CORONA", nombre="Corona", duracion_minutos=90, precio=350_000)
    PrestacionDentista.objects.create(prestacion=p, dentista=dentista)
    return p


@pytest.fixture
def dia():
    """Three days from today at 10:00 in Santiago: past the minimum notice and the cut-off."""
    fecha = timezone.localdate() + datetime.timedelta(days=3)
    return timezone.make_aware(datetime.datetime.combine(fecha, datetime.time(10, 0)))


@pytest.fixture
def grilla(recepcionista):
    def crear(dentista, inicio, n):
        return [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio + 30 * i * MIN)
                for i in range(n)]

    return crear


def _enlace(cita, prestacion):
    return f'{reverse("portal:reservar_confirmar", args=[cita.pk])}?prestacion={prestacion.pk}'


def test_primero_pregunta_para_que_es_la_visita(portal, client, limpieza, corona, dentista, grilla, dia):
    grilla(dentista, dia, 2)
    for quien in (portal, client):
        contenido = quien.get(RESERVAR).content.decode()
        assert "¿Para qué es su visita?" in contenido
        assert "Limpieza" in contenido and "60 minutos" in contenido and "$25.000" in contenido
        assert "Corona" not in contenido  # not offered online
        assert f'href="?prestacion={limpieza.pk}"' in contenido
        assert "hora-libre" not in contenido


@pytest.mark.parametrize("valor", ["abc", "-1", "99999999999999999999", "<script>", "0", "777"])
def test_prestacion_mala_vuelve_a_preguntar(portal, limpieza, corona, valor):
    respuesta = portal.get(RESERVAR, {"prestacion": valor})
    assert respuesta.status_code == 200
    contenido = respuesta.content.decode()
    assert "Esa prestación no está en la lista" in contenido and "¿Para qué es su visita?" in contenido


def test_no_ofrecida_en_linea_se_pregunta_de_nuevo(portal, limpieza, corona):
    assert "Esa prestación no está en la lista" in portal.get(RESERVAR, {"prestacion": corona.pk}).content.decode()


def test_solo_dentistas_que_la_hacen_y_solo_horas_donde_cabe(portal, limpieza, dentista, otro_dentista, grilla,
                                                          recepcionista, dia):
    horas = grilla(dentista, dia, 4)  # 10:00 10:30 11:00 11:30
    asignar_cita(actor=recepcionista.user, cita_id=horas[2].pk, paciente_nombre="Otra Persona")  # 11:00 taken
    del_otro = grilla(otro_dentista, dia, 4)
    contenido = portal.get(RESERVAR, {"prestacion": limpieza.pk}).content.decode()
    assert "Camila Soto" in contenido and "Tomás Vidal" not in contenido
    assert "Limpieza" in contenido and "$25.000" in contenido
    # 10:00 fits (10:00-11:00); 10:30 does not (its next slot is taken); 11:30 is alone.
    assert _enlace(horas[0], limpieza) in contenido
    assert _enlace(horas[1], limpieza) not in contenido
    assert _enlace(horas[3], limpieza) not in contenido
    assert not any(_enlace(c, limpieza) in contenido for c in del_otro)
    assert "10:00</span><span class=\"hora-hasta d-block small\">a 11:00</span>" in contenido


def test_la_semana_y_el_dentista_conservan_la_prestacion(portal, limpieza, dentista, grilla, dia):
    grilla(dentista, dia, 2)
    contenido = portal.get(RESERVAR, {"prestacion": limpieza.pk, "dentista": dentista.pk}).content.decode()
    assert f'name="prestacion" value="{limpieza.pk}"' in contenido
    assert f"semana=1&amp;prestacion={limpieza.pk}" in contenido


def test_la_pagina_con_prestacion_hace_dos_consultas(portal, client, limpieza, dentista, otro_dentista, grilla, dia,
                                                    django_assert_num_queries):
    PrestacionDentista.objects.create(prestacion=limpieza, dentista=otro_dentista)
    for d in (dentista, otro_dentista):
        grilla(d, dia, 12)
    for quien in (portal, client):
        for parametros in ({"prestacion": limpieza.pk}, {"prestacion": limpieza.pk, "dentista": dentista.pk}):
            with django_assert_num_queries(2):  # the prestación with its dentists, the fitting slots
                respuesta = quien.get(RESERVAR, parametros)
            assert respuesta.status_code == 200


def test_las_horas_que_caben_son_las_de_la_cadena(limpieza, dentista, otro_dentista, recepcionista, dia):
    """``_HORAS_QUE_CABEN_SQL`` (window functions) offers exactly the slots from which
    ``cadena_de`` (the booking's own chain) finds the duration, with the same end: with gaps,
    taken slots, uneven slots and two dentists."""
    PrestacionDentista.objects.create(prestacion=limpieza, dentista=otro_dentista)
    for d, desfase in ((dentista, 0), (otro_dentista, 15)):
        inicio = dia + desfase * MIN
        # (A chain takes slots of one length only: 45 + 15 is not an hour. Four 30s at the end: 120 fits.)
        for i, minutos in enumerate([30, 30, 30, 45, 15, 30, 20, 30, 30, 30, 30, 30, 30, 30]):
            if i in (5,):  # a gap of 10 minutes
                inicio += 10 * MIN
            cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=d.pk, inicio=inicio,
                                         duracion_minutos=minutos)
            if i == 9:
                asignar_cita(actor=recepcionista.user, cita_id=cita.pk, paciente_nombre="Ocupada")
            inicio += minutos * MIN
    dentistas = opciones_de_dentista(prestacion_id=limpieza.pk)
    for minutos in (30, 45, 60, 75, 90, 120):
        filas = filas_de_horas_libres(dentistas=dentistas, duracion_minutos=minutos)
        esperadas = []
        for cita in Cita.objects.filter(estado=EstadoCita.DISPONIBLE).order_by("inicio", "pk"):
            cadena = cadena_de(cita_id=cita.pk, duracion=minutos * MIN)
            if cadena:
                esperadas.append((cita.pk, cadena[-1][2]))
        epoca = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
        assert [(pk, epoca + datetime.timedelta(microseconds=fin)) for pk, _, _, fin in filas] == esperadas, minutos
        assert esperadas  # the case is not empty


def test_confirmar_dice_la_prestacion_y_reserva_la_duracion(portal, paciente, limpieza, dentista, grilla, dia):
    horas = grilla(dentista, dia, 2)
    pagina = portal.get(_enlace(horas[0], limpieza)).content.decode()
    assert "Limpieza · 60 minutos" in pagina and "10:00 a 11:00" in pagina
    assert f'name="prestacion" value="{limpieza.pk}"' in pagina
    respuesta = portal.post(_enlace(horas[0], limpieza), {"motivo": "", "prestacion": limpieza.pk})
    assert respuesta.status_code == 302
    cita = Cita.objects.get(pk=horas[0].pk)
    assert (cita.estado, cita.bloques, cita.fin, cita.prestacion) == (EstadoCita.RESERVADA, 2, dia + 60 * MIN, limpieza)
    detalle = portal.get(respuesta.url).content.decode()
    assert "Limpieza · 60 minutos" in detalle and "para Limpieza" in detalle
    mis = portal.get(reverse("portal:mis_citas")).content.decode()
    assert "Limpieza" in mis and "10:00 a 11:00" in mis


def test_confirmar_sin_prestacion_pide_elegirla(portal, limpieza, dentista, grilla, dia):
    horas = grilla(dentista, dia, 2)
    antes = huella_bd()
    for respuesta in (portal.get(reverse("portal:reservar_confirmar", args=[horas[0].pk])),
                      portal.post(reverse("portal:reservar_confirmar", args=[horas[0].pk]), {"motivo": ""})):
        assert respuesta.status_code == 302 and respuesta.url == RESERVAR
    assert huella_bd() == antes


def test_confirmar_donde_ya_no_cabe_dice_no_disponible(portal, limpieza, dentista, grilla, recepcionista, dia):
    horas = grilla(dentista, dia, 2)
    asignar_cita(actor=recepcionista.user, cita_id=horas[1].pk, paciente_nombre="Otra Persona")
    antes = huella_bd()
    respuesta = portal.post(_enlace(horas[0], limpieza), {"motivo": "", "prestacion": limpieza.pk})
    assert respuesta.status_code == 409
    contenido = respuesta.content.decode()
    assert "Esa hora ya no está disponible" in contenido and "Ver horas para Limpieza" in contenido
    assert huella_bd() == antes


def test_un_dentista_que_no_la_hace_no_se_reserva(portal, limpieza, otro_dentista, grilla, dia):
    horas = grilla(otro_dentista, dia, 2)
    antes = huella_bd()
    assert portal.post(_enlace(horas[0], limpieza), {"motivo": "", "prestacion": limpieza.pk}).status_code == 409
    assert huella_bd() == antes


def test_cambiar_la_hora_de_una_limpieza_ofrece_solo_donde_cabe(portal, paciente, limpieza, dentista, grilla,
                                                              recepcionista, dia):
    horas = grilla(dentista, dia, 2)
    cita = reservar_cita(user=paciente, cita_id=horas[0].pk, prestacion_id=limpieza.pk)
    tarde = grilla(dentista, dia + 4 * 60 * MIN, 3)  # 14:00 14:30 15:00
    asignar_cita(actor=recepcionista.user, cita_id=tarde[2].pk, paciente_nombre="Otra Persona")
    url = reverse("portal:cita_reprogramar", args=[cita.pk])
    contenido = portal.get(url).content.decode()
    assert f"{url}?nueva={tarde[0].pk}&" in contenido
    assert f"{url}?nueva={tarde[1].pk}&" not in contenido
    assert "14:00</span><span class=\"hora-hasta d-block small\">a 15:00</span>" in contenido
    portal.post(url, {"nueva_cita_id": tarde[0].pk})
    movida = Cita.objects.get(pk=tarde[0].pk)
    assert (movida.estado, movida.bloques, movida.prestacion) == (EstadoCita.RESERVADA, 2, limpieza)
    assert Cita.objects.filter(dentista=dentista, estado=EstadoCita.DISPONIBLE, inicio__lt=dia + 60 * MIN).count() == 2


def test_sin_prestaciones_en_linea_la_pagina_es_la_de_siempre(portal, corona, dentista, grilla, dia):
    horas = grilla(dentista, dia, 2)
    contenido = portal.get(RESERVAR).content.decode()
    assert "¿Para qué es su visita?" not in contenido
    assert reverse("portal:reservar_confirmar", args=[horas[1].pk]) in contenido
    assert portal.get(RESERVAR, {"prestacion": corona.pk}).status_code == 302
