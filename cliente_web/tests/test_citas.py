"""Portal "Mis citas": the lists, the detail with what may be done now and why not, confirm,
cancel and reschedule within the policy, the .ics file; bad input never changes anything."""

import datetime

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from citas.models import Cancelacion, Cita, EstadoCita
from citas.services import cancelar_cita, reservar_cita
from cliente_web.tests.test_reservas import H, horas, otro_dentista  # noqa: F401 (fixtures)
from notificaciones.models import Notificacion
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

MIS_CITAS = "/portal/citas/"


@pytest.fixture
def reservar(paciente, horas, settings):  # noqa: F811
    """``reservar(delta)``: a booking of ``paciente`` starting ``delta`` from now."""
    settings.CLINICA_MAX_RESERVAS_PORTAL = 100  # many bookings of one patient; the cap has its own tests

    def crear(delta, user=None, motivo=""):
        hora = horas(delta)
        return reservar_cita(user=user or paciente, cita_id=hora.pk, motivo=motivo)

    return crear


def test_mis_citas_proximas_y_anteriores(portal, paciente, reservar, recepcionista, otro_paciente):
    lejana, cercana = reservar(50 * H), reservar(5 * H)
    cancelada = reservar(60 * H)
    cancelar_cita(actor=recepcionista.user, cita_id=cancelada.pk, por_clinica=True, motivo="la clínica no puede atender")
    ajena = reservar(70 * H, user=otro_paciente)
    contenido = portal.get(MIS_CITAS).content.decode()
    proximas, anteriores = contenido.split('id="anteriores-titulo"')
    for cita in (lejana, cercana):
        assert reverse("portal:cita", args=[cita.pk]) in proximas
    assert reverse("portal:cita_cancelar", args=[lejana.pk]) in proximas
    assert reverse("portal:cita_cancelar", args=[cercana.pk]) not in proximas  # inside 24 h
    assert "Faltan menos de 24 horas" in proximas and "+56 2 2345 6789" in proximas
    assert reverse("portal:cita", args=[cancelada.pk]) in anteriores and "Cancelada por la clínica" in anteriores
    assert reverse("portal:cita", args=[ajena.pk]) not in contenido
    assert otro_paciente.cliente.nombre_completo not in contenido


def test_mis_citas_hace_un_numero_fijo_de_consultas(portal, paciente, reservar, recepcionista,
                                                  django_assert_num_queries):
    # 5: session, user with their record, upcoming, past, cancelled (issue 14: the cancelled list).
    reservar(30 * H)
    with django_assert_num_queries(5):
        portal.get(MIS_CITAS)
    # 20 appointments of every kind: upcoming, cancelled by the patient and by the clinic, past.
    citas = [reservar((40 + n) * H) for n in range(19)]
    for cita in citas[:5]:
        cancelar_cita(actor=paciente, cita_id=cita.pk)
    for cita in citas[5:10]:
        cancelar_cita(actor=recepcionista.user, cita_id=cita.pk, por_clinica=True, motivo="sillón en reparación")
    Cita.objects.filter(pk__in=[c.pk for c in citas[10:14]]).update(
        inicio=F("inicio") - datetime.timedelta(days=30), fin=F("fin") - datetime.timedelta(days=30),
        estado=EstadoCita.ATENDIDA)
    with django_assert_num_queries(5):
        html = portal.get(MIS_CITAS).content.decode()
    assert html.count('class="list-group-item cita-cancelada"') == 10
    assert html.count("Cancelada por usted") == 5 and html.count("Cancelada por la clínica") == 5


def test_mis_citas_guarda_las_canceladas_con_quien_cuando_y_la_hora_original(portal, paciente, reservar,
                                                                             recepcionista, otro_paciente):
    por_usted, en_la_clinica, por_la_clinica, vigente = (reservar(n * H) for n in (50, 60, 70, 80))
    cancelar_cita(actor=paciente, cita_id=por_usted.pk)
    cancelar_cita(actor=recepcionista.user, cita_id=en_la_clinica.pk, motivo="llamó: nota interna de la recepción")
    cancelar_cita(actor=recepcionista.user, cita_id=por_la_clinica.pk, por_clinica=True,
                  motivo="la dentista está enferma")
    ajena = reservar(90 * H, user=otro_paciente)
    cancelar_cita(actor=otro_paciente, cita_id=ajena.pk)
    html = portal.get(MIS_CITAS).content.decode()
    proximas, historia = html.split('id="anteriores-titulo"')
    assert reverse("portal:cita", args=[vigente.pk]) in proximas and "cita-cancelada" not in proximas
    _, canceladas = historia.split('id="canceladas-titulo"')
    filas = canceladas.split('class="list-group-item cita-cancelada"')[1:]
    assert len(filas) == 3  # the most recently cancelled first; not the other patient's
    clinica, desk, portal_ = filas
    assert "Cancelada por la clínica" in clinica and "Motivo de la clínica: la dentista está enferma" in clinica
    assert reverse("portal:cita", args=[por_la_clinica.pk]) in clinica  # still theirs: its page says more
    assert "Cancelada por usted" in desk and "(avisando a la clínica)" in desk
    assert "Cancelada por usted" in portal_ and "(en el portal)" in portal_
    # The slot a patient freed is not theirs any more: no link to it.
    assert reverse("portal:cita", args=[por_usted.pk]) not in html
    # Never the desk's note, nor who on the staff did it.
    assert "nota interna" not in html and recepcionista.user.username not in html
    assert recepcionista.user.get_full_name() not in html
    for cita, fila in ((por_la_clinica, clinica), (en_la_clinica, desk), (por_usted, portal_)):
        inicio = timezone.localtime(cita.inicio)
        assert f"{inicio:%H:%M}" in fila and cita.dentista.nombre in fila
        assert "Cancelada el " in fila


def test_detalle_con_acciones_y_politica(portal, reservar):
    cita = reservar(50 * H, motivo="control")
    contenido = portal.get(reverse("portal:cita", args=[cita.pk])).content.decode()
    for url in ("portal:cita_confirmar", "portal:cita_cancelar", "portal:cita_reprogramar", "portal:cita_calendario"):
        assert reverse(url, args=[cita.pk]) in contenido
    assert "cambios usados: 0 de 2" in contenido and "24 horas antes" in contenido


def test_detalle_dentro_del_plazo_dice_por_que_y_a_quien_llamar(portal, reservar):
    cita = reservar(5 * H)
    contenido = portal.get(reverse("portal:cita", args=[cita.pk])).content.decode()
    assert "Faltan menos de 24 horas para su cita" in contenido
    assert "llame a la clínica al +56 2 2345 6789" in contenido
    assert reverse("portal:cita_cancelar", args=[cita.pk]) not in contenido
    assert reverse("portal:cita_confirmar", args=[cita.pk]) in contenido  # confirming is still fine


def test_confirmar(portal, reservar):
    cita = reservar(5 * H)
    url = reverse("portal:cita_confirmar", args=[cita.pk])
    assert portal.get(url).status_code == 405
    respuesta = portal.post(url)
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:cita", args=[cita.pk])
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.CONFIRMADA
    # Twice: a Spanish message, no change.
    siguiente = portal.post(url, follow=True).content.decode()
    assert "No se puede confirmar la cita" in siguiente


def test_cancelar_muestra_la_politica_y_libera_la_hora(portal, reservar):
    cita = reservar(50 * H)
    url = reverse("portal:cita_cancelar", args=[cita.pk])
    antes = huella_bd()
    pagina = portal.get(url).content.decode()  # the confirm step: asking changes nothing
    assert huella_bd() == antes
    assert "la hora queda libre para otra persona" in pagina and "24 horas antes" in pagina
    respuesta = portal.post(url)
    assert respuesta.status_code == 302 and respuesta["Location"] == MIS_CITAS
    cita.refresh_from_db()
    assert (cita.estado, cita.cliente_id) == (EstadoCita.DISPONIBLE, None)
    # The clinic's history of the day keeps it; the patient gets the patient's notice.
    [fila] = Cancelacion.objects.filter(cita_id=cita.pk)
    assert (fila.por, fila.via) == ("paciente", "portal")
    assert Notificacion.objects.filter(cita_id=cita.pk).latest("pk").plantilla == "cita_cancelada_paciente"
    assert "Canceló su hora" in portal.get(MIS_CITAS).content.decode()
    # The slot is free now: its old address says the booking was cancelled (issue 14: never a
    # bare 404 to its owner), with no action on it.
    detalle = portal.get(reverse("portal:cita", args=[cita.pk])).content.decode()
    assert "Esta cita fue cancelada" in detalle and reverse("portal:cita_cancelar", args=[cita.pk]) not in detalle


def test_cancelar_dentro_del_plazo_no_cambia_nada(portal, reservar):
    cita = reservar(5 * H)
    url = reverse("portal:cita_cancelar", args=[cita.pk])
    assert "Faltan menos de 24 horas" in portal.get(url).content.decode()
    antes = huella_bd()
    siguiente = portal.post(url, follow=True).content.decode()
    assert "Faltan menos de 24 horas" in siguiente and "llame a la clínica" in siguiente
    assert huella_bd() == antes


def test_reprogramar_elige_confirma_y_mueve(portal, reservar, horas):  # noqa: F811
    cita, libre = reservar(50 * H), horas(60 * H)
    url = reverse("portal:cita_reprogramar", args=[cita.pk])
    lista = portal.get(url).content.decode()
    assert f"{url}?nueva={libre.pk}" in lista
    assert f"?nueva={cita.pk}&" not in lista  # the current slot is not offered
    eleccion = portal.get(url, {"nueva": libre.pk}).content.decode()
    assert "Confirmar el cambio" in eleccion and "Será su cambio 1 de 2" in eleccion
    respuesta = portal.post(url, {"nueva_cita_id": libre.pk})
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:cita", args=[libre.pk])
    libre.refresh_from_db()
    assert (libre.estado, libre.reprogramaciones) == (EstadoCita.RESERVADA, 1)
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.DISPONIBLE


def test_reprogramar_hasta_el_maximo(portal, reservar, horas):  # noqa: F811
    cita = reservar(50 * H)
    for n in range(2):
        libre = horas((60 + n) * H)
        portal.post(reverse("portal:cita_reprogramar", args=[cita.pk]), {"nueva_cita_id": libre.pk})
        cita = libre
    otra = horas(80 * H)
    url = reverse("portal:cita_reprogramar", args=[cita.pk])
    pagina = portal.get(url).content.decode()
    assert "ya se cambió de hora 2 veces" in pagina and f"?nueva={otra.pk}" not in pagina
    antes = huella_bd()
    siguiente = portal.post(url, {"nueva_cita_id": otra.pk}, follow=True).content.decode()
    assert "ya se cambió de hora 2 veces" in siguiente
    assert huella_bd() == antes


@pytest.mark.parametrize(
    "caso",
    ["vacio", "texto", "negativo", "cero", "enorme", "decimal", "script", "de_otro_paciente", "pasada",
     "muy_pronto", "la_misma", "inexistente"],
)
def test_reprogramar_con_nueva_hora_mala(portal, reservar, horas, otro_paciente, caso):  # noqa: F811
    cita = reservar(50 * H)
    horas(55 * H)
    valor = {
        "vacio": "", "texto": "abc", "negativo": "-1", "cero": "0", "enorme": "99999999999999999999",
        "decimal": "1.5", "script": "<script>alert(1)</script>", "inexistente": "987654",
    }.get(caso)
    if caso == "de_otro_paciente":
        valor = str(reservar(70 * H, user=otro_paciente).pk)
    elif caso == "pasada":
        valor = str(horas(-3 * H).pk)
    elif caso == "muy_pronto":
        valor = str(horas(H).pk)
    elif caso == "la_misma":
        valor = str(cita.pk)
    antes = huella_bd()
    respuesta = portal.post(reverse("portal:cita_reprogramar", args=[cita.pk]), {"nueva_cita_id": valor})
    contenido = respuesta.content.decode()
    assert respuesta.status_code in (200, 409)
    if respuesta.status_code == 409:
        assert "Esa hora ya no está disponible" in contenido
    else:
        assert "Elija la nueva hora." in contenido or "Esa hora no es válida" in contenido
    assert "<script>alert" not in contenido
    assert otro_paciente.cliente.nombre_completo not in contenido
    assert huella_bd() == antes


@pytest.mark.parametrize("nueva", ["abc", "-3", "99999999999999999999", "١٢"])
def test_reprogramar_con_nueva_mala_en_la_direccion(portal, reservar, nueva):
    cita = reservar(50 * H)
    respuesta = portal.get(reverse("portal:cita_reprogramar", args=[cita.pk]), {"nueva": nueva})
    assert respuesta.status_code == 200 and "Esa hora ya no está disponible. Elija otra." in respuesta.content.decode()


def test_calendario_ics(portal, reservar, settings):
    cita = reservar(50 * H, motivo="dolor de muela")
    url = reverse("portal:cita_calendario", args=[cita.pk])
    respuesta = portal.get(url)
    assert respuesta.status_code == 200
    assert respuesta["Content-Type"].startswith("text/calendar")
    assert respuesta["Content-Disposition"] == 'attachment; filename="cita.ics"'
    calendario = Calendar.from_ical(respuesta.content)
    (evento,) = calendario.walk("VEVENT")
    # iCalendar has whole seconds (real slots start on the minute).
    assert evento.decoded("dtstart") == cita.inicio.astimezone(datetime.UTC).replace(microsecond=0)
    assert evento.decoded("dtend") == cita.fin.astimezone(datetime.UTC).replace(microsecond=0)
    # Issue 14: the dentist in the summary, the clinic's name and address as the place, the
    # booking's identity as the UID (stable across reschedules) with its version.
    assert str(evento["summary"]) == f"Hora dental con Camila Soto · {settings.CLINICA_NOMBRE}"
    assert str(evento["location"]) == f"{settings.CLINICA_NOMBRE}, {settings.CLINICA_DIRECCION}"
    assert str(calendario["method"]) == "PUBLISH" and int(evento["sequence"]) == 0
    assert b"muela" not in respuesta.content and b"DTSTART:" in respuesta.content and b"Z\r\n" in respuesta.content
    otra = Calendar.from_ical(portal.get(url).content)
    reserva_uid = Cita.objects.get(pk=cita.pk).reserva_uid
    assert str(otra.walk("VEVENT")[0]["uid"]) == str(evento["uid"]) == f"reserva-{reserva_uid}@127.0.0.1"


def test_horas_de_la_pagina_en_hora_de_santiago(portal, reservar):
    cita = reservar(50 * H)
    local = timezone.localtime(cita.inicio)
    assert f"{local:%H:%M}" in portal.get(reverse("portal:cita", args=[cita.pk])).content.decode()
