"""Reception assigns by prestación (issue 17): the assign form offers the active prestaciones of
the slot's dentist, the booking holds their whole duration, the day grid shows the prestación
and the end of the longer block; a bad choice gets a Spanish message and changes nothing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import crear_cita_disponible
from personal.models import Rol
from prestaciones.models import Prestacion, PrestacionDentista
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

MIN = datetime.timedelta(minutes=1)


@pytest.fixture
def manana_9(recepcionista, dentista):
    dia = timezone.localdate() + datetime.timedelta(days=2)
    inicio = timezone.make_aware(datetime.datetime.combine(dia, datetime.time(9, 0)))
    return [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio + 30 * i * MIN)
            for i in range(4)]


@pytest.fixture
def catalogo(dentista, crear_personal):
    otro = crear_personal(rol=Rol.DENTISTA, nombre="Bruno", apellido="Vera")
    corona = Prestacion.objects.create(codigo="CORONA", nombre="Corona", duracion_minutos=90, precio=350_000)
    endo = Prestacion.objects.create(codigo="ENDO", nombre="Endodoncia", duracion_minutos=60, precio=180_000)
    vieja = Prestacion.objects.create(codigo="VIEJA", nombre="Vieja", duracion_minutos=30, precio=1, activa=False)
    PrestacionDentista.objects.create(prestacion=corona, dentista=dentista)
    PrestacionDentista.objects.create(prestacion=vieja, dentista=dentista)
    PrestacionDentista.objects.create(prestacion=endo, dentista=otro)
    return corona, endo, vieja


def test_el_formulario_ofrece_las_prestaciones_activas_del_dentista(clientes, manana_9, catalogo):
    contenido = clientes["recepcion"].get(reverse("gestion:agenda_asignar", args=[manana_9[0].pk])).text
    assert "Corona · 90 min · $350.000" in contenido
    assert "Endodoncia" not in contenido and "Vieja" not in contenido
    assert "Sin prestación (solo esta hora)" in contenido


def test_asignar_una_corona_toma_90_minutos_y_la_agenda_lo_muestra(clientes, dentista, manana_9, catalogo):
    corona = catalogo[0]
    url = reverse("gestion:agenda_asignar", args=[manana_9[0].pk])
    respuesta = clientes["recepcion"].post(url, {"paciente_nombre": "Rosa Díaz", "prestacion": corona.pk})
    assert respuesta.status_code == 302
    cita = Cita.objects.get(pk=manana_9[0].pk)
    assert (cita.estado, cita.bloques, cita.fin - cita.inicio, cita.prestacion) == (
        EstadoCita.RESERVADA, 3, 90 * MIN, corona)
    assert not Cita.objects.filter(pk__in=[c.pk for c in manana_9[1:3]]).exists()
    dia = clientes["recepcion"].get(respuesta.url).text
    assert '<div class="small prestacion-en-grilla">Corona · hasta 10:30</div>' in dia


@pytest.mark.parametrize("valor", ["abc", "999999", "-1"])
def test_prestacion_mala_o_de_otro_dentista(clientes, manana_9, catalogo, valor):
    corona, endo, vieja = catalogo
    antes = huella_bd()
    for prestacion in (valor, endo.pk, vieja.pk):
        respuesta = clientes["recepcion"].post(reverse("gestion:agenda_asignar", args=[manana_9[0].pk]),
                                               {"paciente_nombre": "Rosa Díaz", "prestacion": prestacion})
        assert respuesta.status_code == 200
        assert "Esa prestación no está en la lista de este dentista" in respuesta.text
    assert huella_bd() == antes


def test_sin_tiempo_suficiente_vuelve_a_la_agenda_con_el_mensaje(clientes, manana_9, catalogo):
    corona = catalogo[0]
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_asignar", args=[manana_9[2].pk]),
                                           {"paciente_nombre": "Rosa Díaz", "prestacion": corona.pk}, follow=True)
    assert "no tiene tiempo libre suficiente para Corona (90 minutos)" in respuesta.text
    assert huella_bd() == antes


def test_mover_una_corona_ofrece_solo_donde_caben_sus_90_minutos(clientes, dentista, recepcionista, manana_9,
                                                                 catalogo):
    from citas.services import asignar_cita

    corona = catalogo[0]
    cita = asignar_cita(actor=recepcionista.user, cita_id=manana_9[0].pk, paciente_nombre="Rosa Díaz",
                        prestacion_id=corona.pk)  # 9:00-10:30; 10:30 is still free
    otro_dia = manana_9[0].inicio + datetime.timedelta(days=1)
    tarde = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=otro_dia + 30 * i * MIN) for i in range(4)]  # 9:00 … 10:30
    url = reverse("gestion:agenda_reprogramar", args=[cita.pk])
    contenido = clientes["recepcion"].get(url, {"fecha": timezone.localdate(otro_dia).isoformat()}).text
    assert f'value="{tarde[0].pk}"' in contenido and f'value="{tarde[1].pk}"' in contenido
    assert f'value="{tarde[2].pk}"' not in contenido and f'value="{tarde[3].pk}"' not in contenido
    assert "(hasta 10:30)" in contenido and "(hasta 11:00)" in contenido
    respuesta = clientes["recepcion"].post(url, {"nueva": tarde[1].pk})
    assert respuesta.status_code == 302
    movida = Cita.objects.get(pk=tarde[1].pk)
    assert (movida.bloques, movida.fin - movida.inicio, movida.prestacion) == (3, 90 * MIN, corona)
    # The old row split back: 9:00, 9:30, 10:00 and the 10:30 that was free.
    assert Cita.objects.filter(dentista=dentista, estado=EstadoCita.DISPONIBLE,
                               inicio__lt=manana_9[0].inicio + 120 * MIN,
                               inicio__gte=manana_9[0].inicio).count() == 4


def test_la_pagina_de_la_cita_dice_la_prestacion(clientes, manana_9, catalogo):
    from citas.services import asignar_cita

    corona = catalogo[0]
    cita = asignar_cita(actor=None, cita_id=manana_9[0].pk, paciente_nombre="Rosa Díaz", prestacion_id=corona.pk)
    contenido = clientes["recepcion"].get(reverse("gestion:agenda_cita", args=[cita.pk])).text
    assert "Corona (90 min; ocupa 3 horas de la agenda)" in contenido
    assert "09:00 a 10:30" in contenido
