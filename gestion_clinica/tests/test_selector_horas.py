"""The staff's time picker ("Cambiar hora" and the patient's "Dar hora"): one dentist, a week
strip, the day's free times as buttons; bad parameters, a slot taken meanwhile, fixed queries;
and the home page's link to the next working day."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as formato_fecha

from citas import services
from citas.models import Cita, EstadoCita
from citas.selectors import proximo_dia_con_horas, selector_de_horas
from citas.services import asignar_cita, crear_cita_disponible
from cuentas.presencial import crear_cliente_presencial
from pacientes.services import desactivar_cliente
from personal.models import Rol

pytestmark = pytest.mark.django_db

ZONA = timezone.get_current_timezone
INICIO = reverse("gestion:inicio")
NO_DISPONIBLE = "Esa hora ya no está disponible. Elija otra, por favor."


def mensajes(respuesta):
    return [str(m) for m in respuesta.wsgi_request._messages._queued_messages]


def _lunes_siguiente():
    """Next week's Monday: a week wholly in the future whatever today is."""
    hoy = timezone.localdate()
    return hoy + datetime.timedelta(days=7 - hoy.weekday())


@pytest.fixture
def otro_dentista(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Bruno", apellido="Vera")


@pytest.fixture
def hora(recepcionista):
    """``hora(dentista, fecha, time, nombre="")``: a slot on that Santiago day, free or booked."""

    def crear(dentista, fecha, a_las, *, nombre=""):
        inicio = datetime.datetime.combine(fecha, a_las, tzinfo=ZONA())
        cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
        if nombre:
            cita = asignar_cita(actor=recepcionista.user, cita_id=cita.pk, paciente_nombre=nombre)
        return cita

    return crear


@pytest.fixture
def marta(recepcionista):
    return crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz Rojas",
                                    telefono="+56 9 6123 4567")


def _dias(texto, fecha):
    return f'name="fecha" value="{fecha.isoformat()}"' in texto


# The selector --------------------------------------------------------------------------------


def test_selector_semana_con_conteos_y_horas_del_dia(dentista, otro_dentista, hora, django_assert_num_queries):
    lunes = _lunes_siguiente()
    martes, jueves = lunes + datetime.timedelta(days=1), lunes + datetime.timedelta(days=3)
    libres = [hora(dentista, martes, datetime.time(h)) for h in (9, 10, 11)]
    hora(dentista, martes, datetime.time(12), nombre="Tomada")
    hora(dentista, jueves, datetime.time(9))
    hora(otro_dentista, martes, datetime.time(9))
    with django_assert_num_queries(1):
        selector = selector_de_horas(dentista_id=dentista.pk, fecha=martes)
    assert [(d.fecha, d.libres) for d in selector.dias] == [
        (lunes + datetime.timedelta(days=n), {1: 3, 3: 1}.get(n, 0)) for n in range(7)]
    assert [h.pk for h in selector.horas] == [c.pk for c in libres]
    assert [h.hora_local for h in selector.horas] == ["09:00", "10:00", "11:00"]
    assert selector.proxima is None and selector.lunes == lunes
    # No day asked: the dentist's next free day (one more query).
    with django_assert_num_queries(2):
        assert selector_de_horas(dentista_id=dentista.pk).fecha == martes
    # The first day of the week that has free times.
    assert selector_de_horas(dentista_id=dentista.pk, fecha=lunes, primer_dia_libre=True).fecha == martes
    # An empty week points to the next free day.
    vacia = selector_de_horas(dentista_id=dentista.pk, fecha=lunes - datetime.timedelta(days=7))
    assert vacia.horas == [] and vacia.proxima == martes


def test_proximo_dia_con_horas(dentista, otro_dentista, hora, django_assert_num_queries):
    lunes = _lunes_siguiente()
    hora(otro_dentista, lunes + datetime.timedelta(days=2), datetime.time(9))
    hora(dentista, lunes + datetime.timedelta(days=3), datetime.time(9), nombre="Luis Paz")
    hoy = timezone.localdate()
    with django_assert_num_queries(1):
        assert proximo_dia_con_horas(despues_de=hoy) == lunes + datetime.timedelta(days=2)
    assert proximo_dia_con_horas(despues_de=hoy, dentista_id=dentista.pk) == lunes + datetime.timedelta(days=3)
    assert proximo_dia_con_horas(despues_de=lunes + datetime.timedelta(days=3)) is None


# Rescheduling with the picker ---------------------------------------------------------------


def test_reprogramar_muestra_el_mismo_dentista_dia_a_dia(clientes, dentista, otro_dentista, hora):
    lunes = _lunes_siguiente()
    martes = lunes + datetime.timedelta(days=1)
    cita = hora(dentista, lunes, datetime.time(8), nombre="Luis Paz")
    libres = [hora(dentista, martes, datetime.time(h, 30)) for h in (9, 10)]
    siguiente = hora(dentista, martes + datetime.timedelta(days=7), datetime.time(15))
    ajena = hora(otro_dentista, martes, datetime.time(9, 30))
    url = reverse("gestion:agenda_reprogramar", args=[cita.pk])
    texto = clientes["recepcion"].get(url).text
    dia = formato_fecha(martes, "l j")
    for libre in libres:
        assert f'name="nueva" value="{libre.pk}"' in texto
    assert f'Cambiar a las <strong>10:30</strong> <span class="d-block small">del {dia}</span>' in texto
    assert f'value="{ajena.pk}"' not in texto and f'value="{siguiente.pk}"' not in texto
    assert "2 libres" in texto and "Camila Soto (el mismo)" in texto
    # Week navigation: next week opens on its first day with free times.
    proxima = f"?dentista={dentista.pk}&amp;semana={(lunes + datetime.timedelta(days=7)).isoformat()}"
    assert proxima in texto
    texto = clientes["recepcion"].get(url, {"dentista": dentista.pk,
                                            "semana": (lunes + datetime.timedelta(days=7)).isoformat()}).text
    assert f'name="nueva" value="{siguiente.pk}"' in texto and f'value="{libres[0].pk}"' not in texto
    # Another dentist, one choice away, same day.
    texto = clientes["recepcion"].get(url, {"dentista": otro_dentista.pk, "fecha": martes.isoformat()}).text
    assert f'name="nueva" value="{ajena.pk}"' in texto and f'value="{libres[0].pk}"' not in texto


def test_reprogramar_con_el_selector_usa_el_servicio(clientes, dentista, hora, monkeypatch):
    lunes = _lunes_siguiente()
    cita = hora(dentista, lunes, datetime.time(8), nombre="Luis Paz")
    libre = hora(dentista, lunes + datetime.timedelta(days=1), datetime.time(10, 30))
    llamadas = []
    original = services.reprogramar_cita
    monkeypatch.setattr(services, "reprogramar_cita", lambda **kw: llamadas.append(kw) or original(**kw))
    url = reverse("gestion:agenda_reprogramar", args=[cita.pk])
    respuesta = clientes["recepcion"].post(url, {"nueva": libre.pk, "dentista": dentista.pk,
                                                 "fecha": (lunes + datetime.timedelta(days=1)).isoformat()})
    assert respuesta.status_code == 302
    assert respuesta.url == f"{reverse('gestion:agenda')}?fecha={(lunes + datetime.timedelta(days=1)).isoformat()}"
    assert [(k["cita_id"], k["nueva_cita_id"]) for k in llamadas] == [(cita.pk, libre.pk)]
    dia = formato_fecha(lunes + datetime.timedelta(days=1), "l j \\d\\e F")
    assert mensajes(respuesta) == [f"Hora cambiada al {dia} a las 10:30 con Camila Soto; se avisó al paciente."]
    libre.refresh_from_db()
    assert libre.paciente_nombre == "Luis Paz" and libre.estado == EstadoCita.RESERVADA


def test_hora_tomada_entre_la_vista_y_el_envio(clientes, dentista, hora, recepcionista, marta):
    """Another patient takes the slot while the receptionist is on the phone: a Spanish message,
    back on the same day of the picker, nothing moved."""
    lunes = _lunes_siguiente()
    martes = lunes + datetime.timedelta(days=1)
    cita = hora(dentista, lunes, datetime.time(8), nombre="Luis Paz")
    libre = hora(dentista, martes, datetime.time(10, 30))
    otra = hora(dentista, martes, datetime.time(11))
    url = reverse("gestion:agenda_reprogramar", args=[cita.pk])
    assert f'value="{libre.pk}"' in clientes["recepcion"].get(url).text
    asignar_cita(actor=recepcionista.user, cita_id=libre.pk, cliente_id=marta.pk)
    respuesta = clientes["recepcion"].post(url, {"nueva": libre.pk, "dentista": dentista.pk, "fecha": martes.isoformat()})
    assert respuesta.status_code == 302
    assert respuesta.url == f"{url}?dentista={dentista.pk}&fecha={martes.isoformat()}"
    assert mensajes(respuesta) == [NO_DISPONIBLE]
    texto = clientes["recepcion"].get(respuesta.url).text
    assert f'value="{libre.pk}"' not in texto and f'value="{otra.pk}"' in texto
    cita.refresh_from_db()
    libre.refresh_from_db()
    assert cita.estado == EstadoCita.RESERVADA and cita.paciente_nombre == "Luis Paz"
    assert libre.cliente_id == marta.pk


@pytest.mark.parametrize(("parametros", "mensaje"), [
    ({"fecha": "basura"}, "La fecha indicada no es válida (use AAAA-MM-DD). Se muestra la próxima hora libre."),
    ({"fecha": "9999-12-31"}, "La fecha indicada no es válida (use AAAA-MM-DD). Se muestra la próxima hora libre."),
    ({"fecha": "2001-01-01"}, "Esa fecha ya pasó: se muestra desde hoy."),
    ({"fecha": "2099-01-01"}, "Esa fecha está demasiado lejos: se muestra la próxima hora libre."),
    ({"semana": "2026-13-01"}, "La fecha indicada no es válida (use AAAA-MM-DD). Se muestra la próxima hora libre."),
    ({"dentista": "99999999999999999999999"}, "Ese dentista no existe o no tiene horas para dar: se muestran las de otro."),
    ({"dentista": "-1"}, "Ese dentista no existe o no tiene horas para dar: se muestran las de otro."),
])
@pytest.mark.parametrize("pagina", ["reprogramar", "dar_hora"])
def test_parametros_malos_dan_mensaje(clientes, dentista, hora, marta, parametros, mensaje, pagina):
    lunes = _lunes_siguiente()
    cita = hora(dentista, lunes, datetime.time(8), nombre="Luis Paz")
    libre = hora(dentista, lunes, datetime.time(10))
    url = (reverse("gestion:agenda_reprogramar", args=[cita.pk]) if pagina == "reprogramar"
           else reverse("gestion:paciente_dar_hora", args=[marta.pk]))
    respuesta = clientes["recepcion"].get(url, parametros)
    assert respuesta.status_code == 200
    assert mensaje in respuesta.text  # shown on this very page
    if "dentista" in parametros or parametros.get("fecha") in ("basura", "9999-12-31", "2099-01-01"):
        assert f'value="{libre.pk}"' in respuesta.text  # the next free time, as without the parameter


def test_dentista_inactivo_o_ninguno(clientes, dentista, hora, dentista_inactivo):
    lunes = _lunes_siguiente()
    cita = hora(dentista, lunes, datetime.time(8), nombre="Luis Paz")
    url = reverse("gestion:agenda_reprogramar", args=[cita.pk])
    respuesta = clientes["recepcion"].get(url, {"dentista": dentista_inactivo.pk})
    assert "Ese dentista no existe o no tiene horas para dar: se muestran las de otro." in respuesta.text
    assert "Camila Soto no tiene horas libres este día." in respuesta.text
    dentista.activo = False
    dentista.save()
    respuesta = clientes["recepcion"].get(url)
    assert respuesta.status_code == 200 and "No hay dentistas activos a quienes dar horas." in respuesta.text


@pytest.mark.parametrize("con_fecha", [False, True])
def test_selector_consultas_fijas(clientes, dentista, crear_personal, hora, django_assert_num_queries, con_fecha):
    """session, user, profile, the second factor's device, the appointment, the dentists, (the
    next free day,) the week: whatever the number of dentists and slots."""
    for n in range(5):
        crear_personal(rol=Rol.DENTISTA, nombre=f"Otro{n}")
    lunes = _lunes_siguiente()
    cita = hora(dentista, lunes, datetime.time(7), nombre="Luis Paz")
    for d in range(7):
        for h in range(8, 18):
            hora(dentista, lunes + datetime.timedelta(days=d), datetime.time(h))
    url = reverse("gestion:agenda_reprogramar", args=[cita.pk])
    parametros = {"fecha": lunes.isoformat()} if con_fecha else {}
    clientes["recepcion"].get(url)
    # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
    with django_assert_num_queries(6 if con_fecha else 7):
        respuesta = clientes["recepcion"].get(url, parametros)
    assert respuesta.text.count('name="nueva"') == 10


# "Dar hora" from the patient's page --------------------------------------------------------


def test_dar_hora_de_punta_a_punta(clientes, dentista, hora, marta):
    lunes = _lunes_siguiente()
    libre = hora(dentista, lunes + datetime.timedelta(days=2), datetime.time(10, 30))
    ficha = reverse("gestion:paciente", args=[marta.pk])
    url = reverse("gestion:paciente_dar_hora", args=[marta.pk])
    assert f'href="{url}"' in clientes["recepcion"].get(ficha).text
    assert f'href="{url}"' not in clientes["dentista"].get(ficha).text
    texto = clientes["recepcion"].get(url).text
    assert f'name="hora" value="{libre.pk}"' in texto and "Motivo (opcional)" in texto
    dia = formato_fecha(libre.inicio.astimezone(ZONA()), "l j")
    assert f'Dar hora a las <strong>10:30</strong> <span class="d-block small">del {dia}</span>' in texto
    respuesta = clientes["recepcion"].post(url, {"hora": libre.pk, "motivo": "Control anual",
                                                 "dentista": dentista.pk})
    assert respuesta.status_code == 302 and respuesta.url == ficha + "#titulo-citas"
    dia = formato_fecha(libre.inicio.astimezone(ZONA()), "l j \\d\\e F")
    assert mensajes(respuesta) == [f"Hora dada a Marta Díaz Rojas: {dia} a las 10:30 con Camila Soto."]
    libre.refresh_from_db()
    assert (libre.cliente_id, libre.estado, libre.motivo) == (marta.pk, EstadoCita.RESERVADA, "Control anual")
    texto = clientes["recepcion"].get(ficha).text
    assert "Control anual" in texto and "Reservada" in texto
    # The same slot again (a double click): taken, a Spanish message, back on the picker.
    respuesta = clientes["recepcion"].post(url, {"hora": libre.pk, "dentista": dentista.pk})
    assert mensajes(respuesta) == [NO_DISPONIBLE] and respuesta.url == f"{url}?dentista={dentista.pk}"


def test_dar_hora_prefiere_el_dentista_de_la_ultima_cita(clientes, dentista, otro_dentista, hora, marta, recepcionista):
    lunes = _lunes_siguiente()
    anterior = hora(otro_dentista, lunes, datetime.time(8))
    asignar_cita(actor=recepcionista.user, cita_id=anterior.pk, cliente_id=marta.pk)
    suya = hora(otro_dentista, lunes + datetime.timedelta(days=1), datetime.time(9))
    primera = hora(dentista, lunes + datetime.timedelta(days=1), datetime.time(9))
    texto = clientes["recepcion"].get(reverse("gestion:paciente_dar_hora", args=[marta.pk])).text
    assert f'value="{suya.pk}"' in texto and f'value="{primera.pk}"' not in texto


def test_dar_hora_errores(clientes, dentista, hora, marta, recepcionista):
    url = reverse("gestion:paciente_dar_hora", args=[marta.pk])
    for datos in ({}, {"hora": "basura"}, {"hora": "0"}, {"hora": "99999999999999999999999"}):
        respuesta = clientes["recepcion"].post(url, datos)
        assert respuesta.status_code == 200 and "Elija la hora." in respuesta.text
    respuesta = clientes["recepcion"].post(url, {"hora": 987654321})
    assert respuesta.status_code == 302 and mensajes(respuesta) == [NO_DISPONIBLE]
    assert clientes["recepcion"].get(reverse("gestion:paciente_dar_hora", args=[987654321])).status_code == 404
    assert clientes["dentista"].get(url).status_code == 403
    # A deactivated patient has no "Dar hora": neither the button nor the page.
    libre = hora(dentista, _lunes_siguiente(), datetime.time(10))
    desactivar_cliente(actor=recepcionista.user, cliente_id=marta.pk)
    ficha = reverse("gestion:paciente", args=[marta.pk])
    assert url not in clientes["recepcion"].get(ficha).text
    for respuesta in (clientes["recepcion"].get(url), clientes["recepcion"].post(url, {"hora": libre.pk})):
        assert respuesta.status_code == 302 and respuesta.url == ficha
        assert mensajes(respuesta) == ["El paciente está desactivado: no se le puede dar hora. Reactívelo primero."]
    libre.refresh_from_db()
    assert libre.estado == EstadoCita.DISPONIBLE


# The home page on a day without slots --------------------------------------------------------


@pytest.mark.parametrize("persona", ["recepcion", "dentista"])
def test_inicio_sin_horas_enlaza_el_proximo_dia_habil(clientes, dentista, otro_dentista, hora, persona,
                                                       django_assert_num_queries):
    lunes = _lunes_siguiente()
    hora(otro_dentista, lunes, datetime.time(9))
    hora(dentista, lunes + datetime.timedelta(days=1), datetime.time(9), nombre="Luis Paz")
    proximo = lunes if persona == "recepcion" else lunes + datetime.timedelta(days=1)
    clientes[persona].get(INICIO)
    # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
    with django_assert_num_queries(7):  # the home's six, and the next day with slots
        texto = clientes[persona].get(INICIO).text
    enlace = f'{reverse("gestion:agenda")}?fecha={proximo.isoformat()}'
    assert f'href="{enlace}"' in texto
    assert f"Próximo día hábil: {formato_fecha(proximo, 'l j \\d\\e F')}" in texto


def test_inicio_con_horas_hoy_no_enlaza(clientes, dentista, cita_hoy):
    cita_hoy(dentista, datetime.time(10))
    assert "Próximo día hábil" not in clientes["recepcion"].get(INICIO).text
    Cita.objects.all().delete()
    assert "Próximo día hábil" not in clientes["recepcion"].get(INICIO).text  # none ahead either


def test_dar_hora_a_la_misma_hora_que_otra_suya(clientes, dentista, otro_dentista, hora, marta, recepcionista):
    """A patient never holds two appointments at once (``cita_sin_traslape_por_paciente``): the
    second dentist at the same time is refused with a Spanish message, back on the picker."""
    lunes = _lunes_siguiente()
    suya = hora(dentista, lunes, datetime.time(10))
    asignar_cita(actor=recepcionista.user, cita_id=suya.pk, cliente_id=marta.pk)
    otra = hora(otro_dentista, lunes, datetime.time(10, 15))
    url = reverse("gestion:paciente_dar_hora", args=[marta.pk])
    respuesta = clientes["recepcion"].post(url, {"hora": otra.pk, "dentista": otro_dentista.pk})
    assert respuesta.status_code == 302 and respuesta.url == f"{url}?dentista={otro_dentista.pk}"
    assert mensajes(respuesta) == ["Ya tiene otra cita a esa hora."]
    otra.refresh_from_db()
    assert (otra.estado, otra.cliente_id) == (EstadoCita.DISPONIBLE, None)
