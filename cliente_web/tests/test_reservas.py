"""Portal booking: the slot list (grouped by day, dentist choice, fixed queries), the confirm
step, and every kind of bad input answered in Spanish with no change (never a 500)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import crear_cita_disponible, reservar_cita
from nucleo.pruebas import huella_bd, rut_valido
from pacientes.models import Cliente

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
RESERVAR = "/portal/reservar/"


@pytest.fixture
def horas(dentista, recepcionista):
    """``horas(delta, dentista=None)``: a free slot starting ``delta`` from now (not aligned:
    only the order matters)."""

    def crear(delta, dentista_id=None):
        return crear_cita_disponible(
            actor=recepcionista.user, dentista_id=dentista_id or dentista.pk, inicio=timezone.now() + delta
        )

    return crear


@pytest.fixture
def otro_dentista(crear_personal):
    return crear_personal(nombre="Tomás", apellido="Vidal")


def _fecha(cita):
    from django.utils import dateformat

    return dateformat.format(timezone.localtime(cita.inicio), r"l j \d\e F")


def _hora(cita):
    return f"{timezone.localtime(cita.inicio):%H:%M}"


# The booking page -----------------------------------------------------------------------------


def test_horas_agrupadas_por_dia_con_el_nombre_del_dentista(portal, horas, otro_dentista):
    primera, segunda = horas(30 * H), horas(31 * H, dentista_id=otro_dentista.pk)
    horas(-2 * H)  # past: never offered
    pronto = horas(H)  # sooner than the minimum notice
    contenido = portal.get(RESERVAR).content.decode()
    assert f">{_fecha(primera)}</h2>" in contenido  # e.g. "lunes 30 de noviembre"
    assert reverse("portal:reservar_confirmar", args=[primera.pk]) in contenido
    assert reverse("portal:reservar_confirmar", args=[segunda.pk]) in contenido
    assert reverse("portal:reservar_confirmar", args=[pronto.pk]) not in contenido
    assert "Camila Soto" in contenido and "Tomás Vidal" in contenido
    assert "Cualquier dentista" in contenido
    assert "24 horas antes" in contenido and "2 veces" in contenido  # the policy, briefly


def test_filtrar_por_dentista(portal, horas, otro_dentista):
    mia, suya = horas(30 * H), horas(31 * H, dentista_id=otro_dentista.pk)
    contenido = portal.get(RESERVAR, {"dentista": otro_dentista.pk}).content.decode()
    assert reverse("portal:reservar_confirmar", args=[suya.pk]) in contenido
    assert reverse("portal:reservar_confirmar", args=[mia.pk]) not in contenido


@pytest.mark.parametrize("valor", ["abc", "-1", "99999999999999999999", "<script>", "0"])
def test_dentista_malo_da_mensaje_y_muestra_todos(portal, horas, valor):
    hora = horas(30 * H)
    respuesta = portal.get(RESERVAR, {"dentista": valor})
    assert respuesta.status_code == 200
    contenido = respuesta.content.decode()
    assert "Ese dentista no está en la lista" in contenido
    assert reverse("portal:reservar_confirmar", args=[hora.pk]) in contenido
    assert "<script>" not in contenido.split("</head>")[1].replace('<script src', '')


@pytest.mark.parametrize("semana", ["abc", "-5", "99999999999999999999", "1", "3"])
def test_semana_mala_o_fuera_de_rango_no_da_error(portal, horas, semana):
    horas(30 * H)
    assert portal.get(RESERVAR, {"semana": semana}).status_code == 200


def test_semanas_siguientes(portal, horas):
    lejos = horas(10 * 24 * H)
    assert reverse("portal:reservar_confirmar", args=[lejos.pk]) not in portal.get(RESERVAR).content.decode()
    encontradas = [
        s for s in range(4)
        if reverse("portal:reservar_confirmar", args=[lejos.pk]) in portal.get(RESERVAR, {"semana": s}).content.decode()
    ]
    assert len(encontradas) == 1 and encontradas[0] >= 1


def _llenar(dentistas, n_horas, n_pacientes, recepcionista, desde=3 * H):
    """``n_horas`` free slots this week spread over the dentists, and ``n_pacientes`` extra
    patients (some with bookings): bulk, no services (setup only)."""
    ahora = timezone.now() + desde
    filas = []
    for i in range(n_horas):
        d = dentistas[i % len(dentistas)]
        inicio = ahora + datetime.timedelta(minutes=30 * (i // len(dentistas)))
        filas.append(Cita(dentista=d, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30)))
    Cita.objects.bulk_create(filas)
    base = Cliente.objects.count()
    Cliente.objects.bulk_create([
        Cliente(nombre_completo=f"Paciente Masivo {i}", rut=rut_valido(20_000_000 + base + i),
                email=f"masivo{base + i}@correo.example", telefono=f"+5697{base + i:07d}")
        for i in range(n_pacientes)
    ])


def test_la_pagina_de_reserva_hace_un_numero_fijo_de_consultas(
    portal, dentista, otro_dentista, recepcionista, django_assert_num_queries
):
    """Session, user, patient, dentists, slots: 5, with 5 or 300 slots and 5 or 200 patients."""
    _llenar([dentista, otro_dentista], 5, 5, recepcionista)
    with django_assert_num_queries(5):
        pocas = portal.get(RESERVAR)
    assert pocas.content.decode().count('class="btn btn-outline-primary hora-libre"') == 5
    _llenar([dentista, otro_dentista], 295, 195, recepcionista, desde=5 * H)
    Cita.objects.filter(pk__in=Cita.objects.order_by("pk").values("pk")[:40]).update(
        estado=EstadoCita.RESERVADA, paciente_nombre="Alguien"
    )
    for parametros in ({}, {"dentista": dentista.pk}):
        with CaptureQueriesContext(connection) as consultas:
            muchas = portal.get(RESERVAR, parametros)
        assert len(consultas) == 5, [c["sql"][:60] for c in consultas.captured_queries]
    assert muchas.status_code == 200
    with django_assert_num_queries(5):
        todas = portal.get(RESERVAR)
    assert todas.content.decode().count('class="btn btn-outline-primary hora-libre"') == 300 - 40


# The confirm step -----------------------------------------------------------------------------


def test_confirmar_muestra_todo_en_una_pantalla_y_reserva(portal, paciente, horas):
    hora = horas(30 * H)
    url = reverse("portal:reservar_confirmar", args=[hora.pk])
    contenido = portal.get(url).content.decode()
    for texto in (_fecha(hora), _hora(hora), "Camila Soto", "24 horas antes", "Confirmar reserva", 'maxlength="200"'):
        assert texto in contenido
    respuesta = portal.post(url, {"motivo": "  control   anual "})
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:cita", args=[hora.pk])
    hora.refresh_from_db()
    assert (hora.estado, hora.cliente_id, hora.motivo) == (EstadoCita.RESERVADA, paciente.cliente.pk, "control anual")
    detalle = portal.get(respuesta["Location"]).content.decode()
    assert "Listo: reservó su hora" in detalle


def test_hora_tomada_mientras_tanto_ofrece_las_mas_cercanas(portal, horas, otro_dentista, otro_paciente):
    hora = horas(30 * H)
    mismo = horas(35 * H)
    otro = horas(30 * H, dentista_id=otro_dentista.pk)
    url = reverse("portal:reservar_confirmar", args=[hora.pk])
    assert portal.get(url).status_code == 200
    reservar_cita(user=otro_paciente, cita_id=hora.pk)  # someone else was quicker
    antes = huella_bd()
    respuesta = portal.post(url, {"motivo": "control"})
    assert respuesta.status_code == 409
    contenido = respuesta.content.decode()
    assert "Esa hora ya no está disponible" in contenido
    enlace_mismo = reverse("portal:reservar_confirmar", args=[mismo.pk])
    enlace_otro = reverse("portal:reservar_confirmar", args=[otro.pk])
    assert contenido.index(enlace_mismo) < contenido.index(enlace_otro)  # same dentist first
    assert otro_paciente.cliente.nombre_completo not in contenido
    assert huella_bd() == antes


def _hora_de_caso(caso, horas, otro_paciente, dentista):
    if caso == "pasada":
        return horas(-3 * H).pk
    if caso == "muy_pronto":
        return horas(H).pk
    if caso == "muy_lejos":
        return horas(5 * 7 * 24 * H).pk
    if caso == "de_otro_paciente":
        tomada = horas(40 * H)
        reservar_cita(user=otro_paciente, cita_id=tomada.pk)
        return tomada.pk
    if caso == "cancelada":
        c = horas(45 * H)
        Cita.objects.filter(pk=c.pk).update(estado=EstadoCita.CANCELADA, paciente_nombre="Alguien")
        return c.pk
    if caso == "inexistente":
        return 987_654
    if caso == "enorme":
        return 99999999999999999999
    raise AssertionError(caso)


@pytest.mark.parametrize(
    "caso", ["pasada", "muy_pronto", "muy_lejos", "de_otro_paciente", "cancelada", "inexistente", "enorme"]
)
def test_horas_que_no_se_pueden_reservar(portal, horas, otro_paciente, dentista, caso):
    cita_id = _hora_de_caso(caso, horas, otro_paciente, dentista)
    horas(30 * H)  # something to offer instead
    url = f"{RESERVAR}{cita_id}/"
    get = portal.get(url)
    assert get.status_code == 404 and "Esa hora ya no está disponible" in get.content.decode()
    antes = huella_bd()
    post = portal.post(url, {"motivo": "control"})
    assert post.status_code == 409
    contenido = post.content.decode()
    assert "Esa hora ya no está disponible" in contenido and "No se reservó nada" in contenido
    assert otro_paciente.cliente.nombre_completo not in contenido
    assert huella_bd() == antes


@pytest.mark.parametrize("ruta", ["abc", "-1", "1.5", "%20", "1e3"])
def test_ids_que_no_son_numeros_dan_404(portal, ruta):
    assert portal.get(f"{RESERVAR}{ruta}/").status_code == 404
    assert portal.post(f"{RESERVAR}{ruta}/", {"motivo": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("motivo", "mensaje"),
    [
        ("x" * 201, "El motivo puede tener hasta 200 caracteres (tiene 201)."),
        ("<script>alert('hola')</script>", "Escriba el motivo sin los signos &lt; ni &gt;."),
        ('dolor"><img src=x onerror=alert(1)>', "Escriba el motivo sin los signos &lt; ni &gt;."),
    ],
    ids=["muy_largo", "script", "atributo"],
)
def test_motivo_malo_da_mensaje_en_espanol_y_no_reserva(portal, horas, motivo, mensaje):
    hora = horas(30 * H)
    antes = huella_bd()
    respuesta = portal.post(reverse("portal:reservar_confirmar", args=[hora.pk]), {"motivo": motivo})
    assert respuesta.status_code == 200
    contenido = respuesta.content.decode()
    assert mensaje in contenido
    assert "<script>alert" not in contenido and "<img src=x" not in contenido  # echoed escaped
    assert huella_bd() == antes
    assert Cita.objects.get(pk=hora.pk).estado == EstadoCita.DISPONIBLE


def test_motivo_vacio_se_acepta(portal, horas):
    hora = horas(30 * H)
    assert portal.post(reverse("portal:reservar_confirmar", args=[hora.pk]), {}).status_code == 302
    assert Cita.objects.get(pk=hora.pk).motivo == ""


def test_el_motivo_con_comillas_y_ampersand_se_guarda_y_se_muestra_escapado(portal, horas):
    hora = horas(30 * H)
    portal.post(reverse("portal:reservar_confirmar", args=[hora.pk]), {"motivo": 'dolor "fuerte" & sensible'})
    contenido = portal.get(reverse("portal:cita", args=[hora.pk])).content.decode()
    assert "dolor &quot;fuerte&quot; &amp; sensible" in contenido


def test_sin_sesion_va_al_login(client, horas):
    hora = horas(30 * H)
    for url in (RESERVAR, reverse("portal:reservar_confirmar", args=[hora.pk])):
        respuesta = client.get(url)
        assert respuesta.status_code == 302 and respuesta["Location"].startswith("/portal/entrar/")
    assert client.post(reverse("portal:reservar_confirmar", args=[hora.pk])).status_code == 302
    assert Cita.objects.get(pk=hora.pk).estado == EstadoCita.DISPONIBLE


def test_el_personal_no_reserva_por_el_portal(recepcionista, horas):
    from cliente_web.tests.conftest import cliente_de

    hora = horas(30 * H)
    personal = cliente_de(recepcionista.user)
    assert personal.get(RESERVAR).status_code == 403
    assert personal.post(reverse("portal:reservar_confirmar", args=[hora.pk])).status_code == 403
    assert Cita.objects.get(pk=hora.pk).estado == EstadoCita.DISPONIBLE
