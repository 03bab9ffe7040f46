"""Weekly hours in one step (``FormularioSemanaTipo`` on ``gestion:agenda_horario``)."""

import datetime

import pytest
from django.urls import reverse

from citas.models import HorarioAtencion
from pruebas.soporte import huella_bd


def url(dentista):
    return reverse("gestion:agenda_horario", args=[dentista.pk])


def semana(**cambios):
    datos = {"accion": "semana", "semana-dias": ["0", "1", "2", "3", "4"], "semana-manana_desde": "09:00",
             "semana-manana_hasta": "13:00", "semana-tarde_desde": "14:00", "semana-tarde_hasta": "18:00",
             "semana-duracion_minutos": "30"}
    datos.update(cambios)
    return {k: v for k, v in datos.items() if v is not None}


def filas(dentista):
    return [(h.dia_semana, h.hora_inicio.strftime("%H:%M"), h.hora_fin.strftime("%H:%M"), h.duracion_minutos)
            for h in HorarioAtencion.objects.filter(dentista=dentista).order_by("dia_semana", "hora_inicio")]


def mensajes(respuesta):
    return [str(m) for m in respuesta.wsgi_request._messages]


def test_lunes_a_viernes_con_colacion_en_un_paso(clientes, dentista):
    HorarioAtencion.objects.create(dentista=dentista, dia_semana=5, hora_inicio=datetime.time(10),
                                   hora_fin=datetime.time(12), duracion_minutos=60)
    HorarioAtencion.objects.create(dentista=dentista, dia_semana=0, hora_inicio=datetime.time(7),
                                   hora_fin=datetime.time(8), duracion_minutos=15)
    respuesta = clientes["recepcion"].post(url(dentista), semana())
    assert respuesta.status_code == 302
    assert mensajes(respuesta) == ["Horario de Camila Soto guardado (11 bloques)."]
    esperado = [(d, *t, 30) for d in range(5) for t in (("09:00", "13:00"), ("14:00", "18:00"))]
    assert filas(dentista) == esperado + [(5, "10:00", "12:00", 60)]  # Saturday kept; Monday replaced


def test_solo_manana(clientes, dentista):
    respuesta = clientes["recepcion"].post(url(dentista), semana(**{
        "semana-dias": ["5"], "semana-tarde_desde": "", "semana-tarde_hasta": "", "semana-duracion_minutos": "45"}))
    assert respuesta.status_code == 302
    assert filas(dentista) == [(5, "09:00", "13:00", 45)]


@pytest.mark.parametrize("cambios, texto", [
    ({"semana-dias": None}, "Marque al menos un día."),
    ({"semana-dias": ["9"]}, "Día de la semana desconocido."),
    ({"semana-manana_hasta": "08:00"}, "Debe ser posterior a la hora de inicio de la mañana."),
    ({"semana-tarde_desde": "12:00"}, "La tarde debe empezar cuando termina la mañana o después."),
    ({"semana-tarde_hasta": ""}, "Complete las dos horas de la tarde, o deje ambas vacías."),
    ({"semana-tarde_hasta": "13:30"}, "Debe ser posterior a la hora de inicio de la tarde."),
    ({"semana-manana_desde": "25:00"}, "Introduzca una hora válida."),
    ({"semana-duracion_minutos": "2"}, "mayor o igual a 5"),
    ({"semana-duracion_minutos": "treinta"}, "Introduzca un número entero."),
    ({"semana-duracion_minutos": ""}, "Indique la duración de cada hora."),
])
def test_datos_malos_mensaje_y_nada_cambia(clientes, dentista, cambios, texto):
    HorarioAtencion.objects.create(dentista=dentista, dia_semana=0, hora_inicio=datetime.time(7),
                                   hora_fin=datetime.time(8), duracion_minutos=15)
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(url(dentista), semana(**cambios))
    assert respuesta.status_code == 200
    assert texto in respuesta.text
    assert "Revise la semana tipo: no se guardó nada." in respuesta.text
    assert huella_bd() == antes


def test_la_pagina_explica_la_duracion(clientes, dentista):
    texto = clientes["recepcion"].get(url(dentista)).text
    assert "Duración de cada hora (minutos)" in texto
    assert "cada hora libre que se genere dura esto; p. ej. 30 = 09:00, 09:30" in texto.lower()
    assert "Minutos por hora" not in texto
    assert 'value="09:00"' in texto and 'value="14:00"' in texto  # the usual week, prefilled
