"""The agenda area of the staff site: day grid, week, slot actions, hours, generation,
closed days; roles, bad input, DST days."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from citas.models import Cancelacion, Cierre, Cita, EstadoCita, HorarioAtencion
from citas.selectors import agenda_del_dia, agenda_semanal
from citas.services import asignar_cita, cancelar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from cuentas.presencial import crear_cliente_presencial
from gestion_clinica.tests.conftest import cliente_de
from personal.models import Rol
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

AGENDA = reverse("gestion:agenda")
ZONA = timezone.get_current_timezone


def mensajes(respuesta):
    """The messages this request added (earlier unread ones stay in the storage)."""
    return [str(m) for m in respuesta.wsgi_request._messages._queued_messages]


@pytest.fixture
def otro_dentista(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Bruno", apellido="Vera")


@pytest.fixture
def futura(recepcionista):
    """``futura(dentista, hora, dias=30, nombre="")``: a slot in the future, free or booked."""

    def crear(dentista, hora=datetime.time(10), *, dias=30, nombre=""):
        fecha = timezone.localdate() + datetime.timedelta(days=dias)
        inicio = datetime.datetime.combine(fecha, hora, tzinfo=ZONA())
        cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
        if nombre:
            cita = asignar_cita(actor=recepcionista.user, cita_id=cita.pk, paciente_nombre=nombre)
        return cita

    return crear


def dia_de(cita):
    return f"{AGENDA}?fecha={timezone.localdate(cita.inicio).isoformat()}"


# Day view -----------------------------------------------------------------------------------


def test_dia_muestra_dentistas_como_columnas_y_estado_y_paciente(clientes, dentista, otro_dentista, cita_hoy):
    cita_hoy(dentista, datetime.time(9), nombre="Marta Díaz")
    cita_hoy(otro_dentista, datetime.time(11))
    respuesta = clientes["recepcion"].get(AGENDA)
    assert respuesta.status_code == 200
    texto = respuesta.text
    assert "Camila Soto" in texto and "Bruno Vera" in texto
    assert "Marta Díaz" in texto and "09:00" in texto and "11:00" in texto
    assert "Reservada" in texto and "Disponible" in texto
    hoy = timezone.localdate()
    for fecha in (hoy - datetime.timedelta(days=1), hoy, hoy + datetime.timedelta(days=1)):
        assert f"?fecha={fecha.isoformat()}" in texto


def test_dia_con_fecha_elegida(clientes, dentista, futura):
    cita = futura(dentista, nombre="Luis Paz")
    respuesta = clientes["administrador"].get(dia_de(cita))
    assert "Luis Paz" in respuesta.text
    assert reverse("gestion:agenda_asignar", args=[cita.pk]) not in respuesta.text  # booked: no "Asignar"
    assert reverse("gestion:agenda_reprogramar", args=[cita.pk]) in respuesta.text


def test_los_campos_de_fecha_llevan_la_fecha_en_formato_iso(clientes, dentista, futura):
    """A browser's date picker shows an empty field for Chile's 07/12/2026 (seen on the demo: the
    "close this day" form came up blank): every date input of the day page has AAAA-MM-DD."""
    cita = futura(dentista, nombre="Luis Paz")
    texto = clientes["administrador"].get(dia_de(cita)).text
    valores = re.findall(r'<input[^>]*type="date"[^>]*value="([^"]*)"', texto)
    assert len(valores) >= 2
    assert valores == [timezone.localdate(cita.inicio).isoformat()] * len(valores)


@pytest.mark.parametrize("fecha", ["ayer", "2027-02-30", "99999-01-01", "1800-01-01", "%00", "2027-13-01" * 50])
def test_fecha_invalida_muestra_hoy_con_mensaje(clientes, fecha):
    respuesta = clientes["recepcion"].get(AGENDA, {"fecha": fecha})
    assert respuesta.status_code == 200
    assert respuesta.context["agenda"].fecha == timezone.localdate()
    assert "La fecha indicada no es válida" in respuesta.text


@pytest.mark.parametrize("fecha, horas", [
    (datetime.date(2027, 4, 3), [datetime.time(9), datetime.time(23), datetime.time(23, 30)]),
    (datetime.date(2027, 9, 5), [datetime.time(1, 0), datetime.time(9), datetime.time(23, 30)]),
])
def test_dia_de_cambio_de_hora_se_muestra(clientes, dentista, recepcionista, fecha, horas):
    zona = ZONA()
    for hora in horas:
        inicio = datetime.datetime.combine(fecha, hora, tzinfo=zona)
        Cita.objects.create(dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30))
    respuesta = clientes["recepcion"].get(AGENDA, {"fecha": fecha.isoformat()})
    assert respuesta.status_code == 200
    agenda = respuesta.context["agenda"]
    assert sum(len(c) for f in agenda.filas for c in f.celdas) == len(horas)
    assert "09:00" in respuesta.text


def test_dia_abril_dos_citas_a_las_23_locales_en_la_misma_fila(dentista):
    # 2027-04-03 24:00 → 23:00: 23:15 happens twice; both show in the 23:15 row.
    zona = ZONA()
    primera = datetime.datetime(2027, 4, 3, 23, 15, tzinfo=zona)
    segunda = primera.astimezone(datetime.UTC) + datetime.timedelta(hours=1)
    for inicio in (primera, segunda):
        Cita.objects.create(dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=15))
    agenda = agenda_del_dia(fecha=datetime.date(2027, 4, 3))
    fila = [f for f in agenda.filas if f.hora == "23:15"]
    assert len(fila) == 1 and len(fila[0].celdas[0]) == 2


def _crear_muchas(dentistas, n, fecha):
    zona = ZONA()
    citas = []
    for d in dentistas:
        for i in range(n):
            inicio = datetime.datetime.combine(fecha, datetime.time(8), tzinfo=zona) + datetime.timedelta(minutes=15 * i)
            citas.append(Cita(dentista=d, inicio=inicio, fin=inicio + datetime.timedelta(minutes=15),
                              estado=EstadoCita.RESERVADA if i % 2 else EstadoCita.DISPONIBLE,
                              paciente_nombre="Alguien" if i % 2 else ""))
    Cita.objects.bulk_create(citas)


@pytest.mark.parametrize("cantidad", [1, 40])
def test_agenda_del_dia_consultas_fijas(django_assert_num_queries, crear_personal, cantidad):
    fecha = timezone.localdate() + datetime.timedelta(days=3)
    dentistas = [crear_personal(rol=Rol.DENTISTA, nombre=f"D{n}") for n in range(1 if cantidad == 1 else 5)]
    _crear_muchas(dentistas, cantidad, fecha)
    with django_assert_num_queries(3):  # dentists, appointments, the day's cancellations
        agenda = agenda_del_dia(fecha=fecha)
        [c.dentista.nombre for f in agenda.filas for celda in f.celdas for c in celda]
    # The week: its appointments, and the closures and absences of its days (the header marks).
    with django_assert_num_queries(2):
        semana = agenda_semanal(dentista=dentistas[0], lunes=fecha - datetime.timedelta(days=fecha.weekday()))
        [c.dentista.nombre for f in semana.filas for celda in f.celdas for c in celda]


@pytest.mark.parametrize("cantidad", [1, 40])
def test_vista_dia_consultas_fijas(django_assert_num_queries, recepcionista, crear_personal, cantidad):
    fecha = timezone.localdate() + datetime.timedelta(days=3)
    dentistas = [crear_personal(rol=Rol.DENTISTA, nombre=f"D{n}") for n in range(1 if cantidad == 1 else 5)]
    _crear_muchas(dentistas, cantidad, fecha)
    cliente = cliente_de(recepcionista.user)
    cliente.get(AGENDA)  # warm-up (session)
    # session, user, perfil, then the agenda's 3 queries (dentists, appointments, and since
    # issue 13 the day's cancellations, for the history lines: one query for the whole day), and
    # (issue 15) the device the session was verified with (django-otp's OTPMiddleware)
    # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
    with django_assert_num_queries(6):
        respuesta = cliente.get(AGENDA, {"fecha": fecha.isoformat()})
    assert respuesta.status_code == 200


def test_dentista_ve_solo_su_columna_y_sin_botones_de_gestion(clientes, dentista, otro_dentista, cita_hoy):
    propia = cita_hoy(dentista, datetime.time(9), nombre="Marta Díaz")
    ajena = cita_hoy(otro_dentista, datetime.time(10), nombre="Otro Paciente")
    respuesta = clientes["dentista"].get(AGENDA)
    assert "Marta Díaz" in respuesta.text and "Otro Paciente" not in respuesta.text
    assert "Asignar" not in respuesta.text
    assert reverse("gestion:agenda_cancelar", args=[propia.pk]) not in respuesta.text
    assert reverse("gestion:agenda_accion", args=[propia.pk, "marcar_llegada"]) in respuesta.text
    assert str(ajena.pk) not in [str(c.pk) for f in respuesta.context["agenda"].filas for cel in f.celdas for c in cel]


@pytest.mark.parametrize("persona, esperado", [("anonimo", 302), ("paciente", 403), ("dentista_inactivo", 403)])
def test_dia_prohibido(clientes, persona, esperado):
    assert clientes[persona].get(AGENDA).status_code == esperado


# Week view ----------------------------------------------------------------------------------


def test_semana_de_un_dentista(clientes, dentista, futura):
    cita = futura(dentista, nombre="Luis Paz")
    url = reverse("gestion:agenda_semana", args=[dentista.pk])
    respuesta = clientes["recepcion"].get(url, {"semana": timezone.localdate(cita.inicio).isoformat()})
    assert respuesta.status_code == 200
    assert "Luis Paz" in respuesta.text
    assert respuesta.context["agenda"].dias[0].weekday() == 0


def test_semana_fecha_invalida_y_desconocido(clientes, dentista):
    url = reverse("gestion:agenda_semana", args=[dentista.pk])
    respuesta = clientes["recepcion"].get(url, {"semana": "no"})
    assert respuesta.status_code == 200 and "no es válida" in respuesta.text
    assert clientes["recepcion"].get(reverse("gestion:agenda_semana", args=[999999])).status_code == 404
    assert clientes["recepcion"].get("/gestion/agenda/dentista/99999999999999999999/").status_code == 404


def test_dentista_solo_su_semana(clientes, dentista, otro_dentista):
    assert clientes["dentista"].get(reverse("gestion:agenda_semana", args=[dentista.pk])).status_code == 200
    assert clientes["dentista"].get(reverse("gestion:agenda_semana", args=[otro_dentista.pk])).status_code == 404


# Actions ------------------------------------------------------------------------------------


def test_asignar_a_paciente_con_ficha(clientes, dentista, futura):
    cita = futura(dentista)
    paciente = registrar_paciente(7).cliente
    url = reverse("gestion:agenda_asignar", args=[cita.pk])
    assert clientes["recepcion"].get(url).status_code == 200
    respuesta = clientes["recepcion"].post(url, {"cliente": paciente.pk, "motivo": "control"})
    assert respuesta.status_code == 302 and respuesta.url == dia_de(cita)
    assert mensajes(respuesta) == ["Hora asignada."]
    cita.refresh_from_db()
    assert cita.estado == EstadoCita.RESERVADA and cita.cliente_id == paciente.pk


def test_asignar_a_persona_sin_ficha(clientes, dentista, futura):
    cita = futura(dentista)
    url = reverse("gestion:agenda_asignar", args=[cita.pk])
    respuesta = clientes["administrador"].post(url, {"paciente_nombre": "Rosa Díaz", "paciente_telefono": "+56 9 6123 4567"})
    assert respuesta.status_code == 302
    cita.refresh_from_db()
    assert cita.paciente_nombre == "Rosa Díaz" and cita.cliente_id is None


@pytest.mark.parametrize("datos, texto", [
    ({}, "Elija un paciente de la búsqueda"),
    ({"cliente": "abc"}, "Elija un paciente de la búsqueda"),
    ({"cliente": "999999"}, "Paciente no encontrado"),
    ({"paciente_nombre": "Rosa", "paciente_email": "no-es-correo"}, "orreo"),
    ({"paciente_nombre": "Rosa", "motivo": "x" * 300}, "200"),
])
def test_asignar_errores_en_espanol(clientes, dentista, futura, datos, texto):
    cita = futura(dentista)
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_asignar", args=[cita.pk]), datos)
    assert respuesta.status_code == 200
    assert texto in respuesta.text
    cita.refresh_from_db()
    assert cita.estado == EstadoCita.DISPONIBLE


def test_asignar_hora_tomada_entretanto(clientes, dentista, futura, recepcionista):
    cita = futura(dentista)
    asignar_cita(actor=recepcionista.user, cita_id=cita.pk, paciente_nombre="Llegó Antes")
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_asignar", args=[cita.pk]), {"paciente_nombre": "Rosa"})
    assert respuesta.status_code == 302
    assert mensajes(respuesta) == ["Esa hora ya no está disponible. Elija otra, por favor."]


def test_asignar_roles_y_desconocida(clientes, dentista, futura):
    cita = futura(dentista)
    url = reverse("gestion:agenda_asignar", args=[cita.pk])
    assert clientes["dentista"].get(url).status_code == 403
    assert clientes["dentista"].post(url, {"paciente_nombre": "X"}).status_code == 403
    assert clientes["paciente"].get(url).status_code == 403
    assert clientes["recepcion"].get(reverse("gestion:agenda_asignar", args=[999999])).status_code == 404
    assert clientes["recepcion"].get("/gestion/agenda/cita/99999999999999999999/asignar/").status_code == 404


def test_buscar_pacientes_htmx(clientes):
    registrar_paciente(11, nombre_completo="Ana María Núñez")
    url = reverse("gestion:agenda_buscar_pacientes")
    respuesta = clientes["recepcion"].get(url, {"q": "nunez"}, headers={"HX-Request": "true"})
    assert respuesta.status_code == 200
    assert "Ana María Núñez" in respuesta.text and 'name="cliente"' in respuesta.text
    assert "<html" not in respuesta.text
    assert "Ningún paciente coincide" in clientes["recepcion"].get(url, {"q": "zzzz"}).text
    assert clientes["recepcion"].get(url, {"q": "x" * 10000}).status_code == 200
    assert clientes["recepcion"].get(url).text.strip() == ""
    assert clientes["dentista"].get(url, {"q": "ana"}).status_code == 403


def test_asignar_sin_js_busca_con_q(clientes, dentista, futura):
    registrar_paciente(12, nombre_completo="Pedro Paredes")
    cita = futura(dentista)
    respuesta = clientes["recepcion"].get(reverse("gestion:agenda_asignar", args=[cita.pk]), {"q": "paredes"})
    assert "Pedro Paredes" in respuesta.text


@pytest.mark.parametrize("por_clinica, estado, texto", [
    ("0", EstadoCita.DISPONIBLE, "Cita cancelada; la hora quedó libre."),
    ("1", EstadoCita.CANCELADA, "Cita cancelada por la clínica; se avisó al paciente."),
])
def test_cancelar(clientes, dentista, futura, por_clinica, estado, texto):
    cita = futura(dentista, nombre="Luis Paz")
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_cancelar", args=[cita.pk]),
                                           {"por_clinica": por_clinica, "motivo": "llamó por teléfono"})
    assert respuesta.status_code == 302 and respuesta.url == dia_de(cita)
    assert mensajes(respuesta) == [texto]
    cita.refresh_from_db()
    assert cita.estado == estado
    [historia] = Cancelacion.objects.filter(cita=cita)
    assert (historia.por, historia.via, historia.motivo, historia.paciente_nombre) == (
        "clinica" if por_clinica == "1" else "paciente", "personal", "llamó por teléfono", "Luis Paz")


def test_get_nunca_cancela(clientes, dentista, futura):
    """The page (even with every field in the query string) only asks: nothing changes."""
    cita = futura(dentista, nombre="Luis Paz")
    url = reverse("gestion:agenda_cancelar", args=[cita.pk])
    antes = huella_bd()
    respuesta = clientes["recepcion"].get(url, {"por_clinica": "1", "motivo": "x", "volver": "cita"})
    assert respuesta.status_code == 200 and "Confirmar la cancelación" in respuesta.text
    assert huella_bd() == antes


def test_la_pagina_de_cancelar_dice_los_canales_que_usara_el_aviso_sin_cuenta_del_portal(
        clientes, dentista, recepcionista, futura):
    """A desk patient (no portal account) with a confirmed phone and SMS consent gets the
    cancellation by e-mail and SMS: the page says so, as the outbox will do."""
    ficha = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Rosa Díaz",
                                     email="rosa@correo.example", telefono="+56961110000",
                                     canal_preferido="sms", acepta_sms=True, medio_consentimiento="verbal")
    hora = futura(dentista)
    cita = asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=ficha.pk)
    respuesta = clientes["recepcion"].get(reverse("gestion:agenda_cancelar", args=[cita.pk]))
    assert "El paciente recibirá un aviso por: Correo electrónico, SMS." in respuesta.text


@pytest.mark.parametrize("datos, error", [
    ({}, "Indique quién cancela"),
    ({"motivo": "llamó"}, "Indique quién cancela"),
    ({"por_clinica": "2", "motivo": "llamó"}, "Indique quién cancela"),
    ({"por_clinica": "0"}, "Escriba cómo lo pidió el paciente"),
    ({"por_clinica": "0", "motivo": "   "}, "Escriba cómo lo pidió el paciente"),
    ({"por_clinica": "1"}, "Escriba el motivo de la cancelación"),
    ({"por_clinica": "1", "motivo": "x" * 500}, "200 caracteres"),
])
def test_cancelar_sin_quien_o_sin_motivo_no_cambia_nada(clientes, dentista, futura, datos, error):
    cita = futura(dentista, nombre="Luis Paz")
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_cancelar", args=[cita.pk]), datos)
    assert respuesta.status_code == 200  # the page again, with the error next to the field
    assert error in respuesta.text
    assert huella_bd() == antes


def test_cancelar_errores(clientes, dentista, futura):
    libre = futura(dentista)
    url = reverse("gestion:agenda_cancelar", args=[libre.pk])
    assert "ya no se puede cancelar" in clientes["recepcion"].get(url).text  # no form for a free slot
    respuesta = clientes["recepcion"].post(url, {"por_clinica": "0", "motivo": "llamó"})
    assert mensajes(respuesta) == ["Esta cita ya no se puede cancelar."]
    reservada = futura(dentista, datetime.time(11), nombre="Luis Paz")
    url = reverse("gestion:agenda_cancelar", args=[reservada.pk])
    assert clientes["dentista"].get(url).status_code == 403
    assert clientes["dentista"].post(url, {"por_clinica": "0", "motivo": "llamó"}).status_code == 403
    assert clientes["recepcion"].post(reverse("gestion:agenda_cancelar", args=[999999])).status_code == 404
    reservada.refresh_from_db()
    assert reservada.estado == EstadoCita.RESERVADA


def test_pagina_cancelar_por_la_clinica(clientes, dentista, futura):
    """``?por_clinica=1&motivo=…`` (the closure screen's link) fill the form in; the page says
    what each choice does; the POST cancels and comes back to the appointment when asked."""
    cita = futura(dentista, nombre="Luis Paz")
    url = reverse("gestion:agenda_cancelar", args=[cita.pk])
    respuesta = clientes["recepcion"].get(url, {"por_clinica": "1", "motivo": "Cierre: <corte de luz>",
                                                "volver": "cita"})
    assert respuesta.status_code == 200
    html = respuesta.text
    assert "Luis Paz" in html and "El paciente lo pidió" in html and "La clínica cancela" in html
    assert re.search(r'<input type="radio" name="por_clinica" value="1"[^>]*checked', html)
    assert not re.search(r'<input type="radio" name="por_clinica" value="0"[^>]*checked', html)
    assert 'value="Cierre: &lt;corte de luz&gt;"' in html
    assert "libre para otro paciente" in html and "con el motivo" in html
    assert '<input type="hidden" name="volver" value="cita">' in html
    sin_eleccion = clientes["recepcion"].get(url).text
    assert "checked" not in sin_eleccion  # staff choose: no default
    respuesta = clientes["recepcion"].post(url, {"por_clinica": "1", "motivo": "La dentista está enferma",
                                                 "volver": "cita"})
    assert mensajes(respuesta) == ["Cita cancelada por la clínica; se avisó al paciente."]
    assert respuesta.url == reverse("gestion:agenda_cita", args=[cita.pk])
    cita.refresh_from_db()
    assert cita.estado == EstadoCita.CANCELADA and cita.paciente_nombre == "Luis Paz"
    assert clientes["recepcion"].get(reverse("gestion:agenda_cancelar", args=[999999])).status_code == 404


def test_historial_en_el_dia_y_en_la_cita(clientes, dentista, cita_hoy, recepcionista):
    """A cancelled booking stays visible in its day, with who and why: the freed slot (now
    free, or booked by someone else) and the clinic's cancellation, each in its cell and on
    the appointment's page."""
    manana = timezone.localdate() + datetime.timedelta(days=1)
    liberada = cita_hoy(dentista, datetime.time(10), nombre="Ana <b>Pérez</b>", fecha=manana)
    por_clinica = cita_hoy(dentista, datetime.time(11), nombre="Luis Paz", fecha=manana)
    cancelar_cita(actor=recepcionista.user, cita_id=liberada.pk, motivo="llamó por teléfono")
    cancelar_cita(actor=recepcionista.user, cita_id=por_clinica.pk, por_clinica=True, motivo="dentista con licencia")
    asignar_cita(actor=recepcionista.user, cita_id=liberada.pk, paciente_nombre="Rosa Vera")
    html = clientes["recepcion"].get(AGENDA, {"fecha": manana.isoformat()}).text
    hora = timezone.localtime().strftime("%d-%m")
    assert f"Cancelada {hora}" in html
    assert "Ana &lt;b&gt;Pérez&lt;/b&gt; · pidió el paciente: llamó por teléfono" in html
    assert "Luis Paz · canceló la clínica: dentista con licencia" in html
    assert "Rosa Vera" in html  # the slot went to someone else; the history stays under it
    detalle = clientes["recepcion"].get(reverse("gestion:agenda_cita", args=[liberada.pk])).text
    assert "Cancelaciones de esta hora" in detalle and "Ana &lt;b&gt;Pérez&lt;/b&gt;" in detalle
    assert "Motivo: llamó por teléfono" in detalle and "Pidió el paciente" in detalle and "registró Pedro Rojas" in detalle


@pytest.mark.parametrize("persona", ["recepcion", "administrador", "dentista"])
def test_deshacer_una_llegada_con_confirmacion(clientes, dentista, cita_hoy, persona):
    """The grid's "Deshacer «Llegó»" opens a page (GET changes nothing); its POST undoes it.
    A dentist undoes marks on their own appointments too."""
    cita = cita_hoy(dentista, datetime.time(9), nombre="Marta Díaz", estado=EstadoCita.CONFIRMADA)
    cliente = clientes[persona]
    cliente.post(reverse("gestion:agenda_accion", args=[cita.pk, "marcar_llegada"]))
    url = reverse("gestion:agenda_deshacer", args=[cita.pk])
    assert f'href="{url}"' in cliente.get(AGENDA).text
    antes = huella_bd()
    pagina = cliente.get(url)
    assert pagina.status_code == 200 and "vuelve a <strong>«Confirmada»</strong>" in pagina.text
    assert huella_bd() == antes
    respuesta = cliente.post(url, {"desde": "en_espera"})
    assert respuesta.status_code == 302 and mensajes(respuesta) == ["Se deshizo «Llegó»."]
    cita.refresh_from_db()
    assert (cita.estado, cita.estado_anterior) == (EstadoCita.CONFIRMADA, "")
    # Again (a second tab): a Spanish message, nothing changes.
    antes = huella_bd()
    respuesta = cliente.post(url, {"desde": "en_espera"})
    assert "No se puede deshacer la marca" in mensajes(respuesta)[0]
    assert huella_bd() == antes
    assert "No hay una marca que se pueda deshacer" in cliente.get(url).text


def test_deshacer_desde_la_pagina_de_la_cita_vuelve_a_ella(clientes, dentista, cita_hoy):
    cita = cita_hoy(dentista, datetime.time(9), nombre="Marta Díaz", estado=EstadoCita.ATENDIDA,
                    anterior=EstadoCita.EN_ESPERA)
    detalle = reverse("gestion:agenda_cita", args=[cita.pk])
    url = reverse("gestion:agenda_deshacer", args=[cita.pk])
    assert f'href="{url}?volver=cita"' in clientes["recepcion"].get(detalle).text
    assert '<input type="hidden" name="volver" value="cita">' in clientes["recepcion"].get(url, {"volver": "cita"}).text
    respuesta = clientes["recepcion"].post(url, {"desde": "atendida", "volver": "cita"})
    assert respuesta.url == detalle and mensajes(respuesta) == ["Se deshizo «Atendida»."]
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.EN_ESPERA


def test_deshacer_aparece_en_la_auditoria(clientes, dentista, cita_hoy, recepcionista):
    cita = cita_hoy(dentista, datetime.time(9), nombre="Marta Díaz", estado=EstadoCita.EN_ESPERA,
                    anterior=EstadoCita.CONFIRMADA)
    clientes["recepcion"].post(reverse("gestion:agenda_deshacer", args=[cita.pk]), {"desde": "en_espera"})
    html = clientes["administrador"].get(reverse("gestion:auditoria"), {"registro_id": cita.pk}).text
    [fila] = [f for f in re.findall(r"<tr>(.*?)</tr>", html, re.S) if ">deshacer</td>" in f]
    assert f"<td>{recepcionista.user.get_full_name()}</td>" in fila
    assert re.search(r"estado:</span> Llegó \(en sala de espera\) → Confirmada", fila)


@pytest.mark.parametrize("datos", [{}, {"desde": "confirmada"}, {"desde": "x" * 500}, {"desde": "atendida"}])
def test_deshacer_rechaza_lo_que_no_se_vio(clientes, dentista, cita_hoy, datos):
    cita = cita_hoy(dentista, datetime.time(9), nombre="Marta Díaz", estado=EstadoCita.EN_ESPERA,
                    anterior=EstadoCita.CONFIRMADA)
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_deshacer", args=[cita.pk]), datos)
    assert respuesta.status_code == 302 and mensajes(respuesta)
    assert huella_bd() == antes


def test_deshacer_de_otro_dentista_es_404(clientes, otro_dentista, cita_hoy):
    cita = cita_hoy(otro_dentista, datetime.time(9), nombre="Marta Díaz", estado=EstadoCita.EN_ESPERA,
                    anterior=EstadoCita.CONFIRMADA)
    url = reverse("gestion:agenda_deshacer", args=[cita.pk])
    assert clientes["dentista"].get(url).status_code == 404
    assert clientes["dentista"].post(url, {"desde": "en_espera"}).status_code == 404
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.EN_ESPERA


def test_confirmar(clientes, dentista, futura):
    cita = futura(dentista, nombre="Luis Paz")
    url = reverse("gestion:agenda_accion", args=[cita.pk, "confirmar"])
    respuesta = clientes["recepcion"].post(url)
    assert respuesta.status_code == 302 and mensajes(respuesta) == ["Cita confirmada."]
    cita.refresh_from_db()
    assert cita.estado == EstadoCita.CONFIRMADA
    # Twice: a stale button gives a Spanish message, not a 500.
    assert "No se puede confirmar la cita" in mensajes(clientes["recepcion"].post(url))[0]


@pytest.mark.parametrize("accion, estado", [
    ("marcar_llegada", EstadoCita.EN_ESPERA),
    ("marcar_atendida", EstadoCita.ATENDIDA),
    ("marcar_no_asistio", EstadoCita.NO_ASISTIO),
])
@pytest.mark.parametrize("persona", ["recepcion", "dentista"])
def test_marcar(clientes, dentista, cita_hoy, accion, estado, persona):
    # Arrival only on the appointment's day; attended and no-show on a past one too.
    ayer = timezone.localdate() - datetime.timedelta(days=1)
    cita = cita_hoy(dentista, datetime.time(10), nombre="Marta Díaz", fecha=None if accion == "marcar_llegada" else ayer)
    respuesta = clientes[persona].post(reverse("gestion:agenda_accion", args=[cita.pk, accion]))
    assert respuesta.status_code == 302 and respuesta.url == dia_de(cita)
    cita.refresh_from_db()
    assert cita.estado == estado


def test_marcar_no_asistio_antes_de_comenzar_da_mensaje(clientes, dentista, futura):
    cita = futura(dentista, nombre="Luis Paz")
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_accion", args=[cita.pk, "marcar_no_asistio"]))
    assert mensajes(respuesta) == ["No se puede marcar que el paciente no asistió: la cita aún no comienza."]


def test_dentista_no_actua_sobre_cita_ajena_ni_confirma(clientes, dentista, otro_dentista, cita_hoy):
    ayer = timezone.localdate() - datetime.timedelta(days=1)
    ajena = cita_hoy(otro_dentista, datetime.time(10), nombre="Otro", fecha=ayer)
    propia = cita_hoy(dentista, datetime.time(11), nombre="Mía", fecha=ayer)
    assert clientes["dentista"].post(reverse("gestion:agenda_accion", args=[ajena.pk, "marcar_llegada"])).status_code == 404
    assert clientes["dentista"].post(reverse("gestion:agenda_accion", args=[propia.pk, "confirmar"])).status_code == 404
    assert clientes["dentista"].get(reverse("gestion:agenda_reprogramar", args=[propia.pk])).status_code == 403
    ajena.refresh_from_db()
    assert ajena.estado == EstadoCita.RESERVADA


def test_accion_desconocida_o_cita_desconocida(clientes, dentista, futura):
    cita = futura(dentista, nombre="Luis Paz")
    assert clientes["recepcion"].post(reverse("gestion:agenda_accion", args=[cita.pk, "borrar"])).status_code == 404
    assert clientes["recepcion"].post(reverse("gestion:agenda_accion", args=[999999, "confirmar"])).status_code == 404
    assert clientes["recepcion"].get(reverse("gestion:agenda_accion", args=[cita.pk, "confirmar"])).status_code == 405


def test_reprogramar(clientes, dentista, otro_dentista, futura):
    cita = futura(dentista, nombre="Luis Paz", dias=2)
    libre = futura(otro_dentista, datetime.time(12), dias=3)
    url = reverse("gestion:agenda_reprogramar", args=[cita.pk])
    respuesta = clientes["recepcion"].get(url, {"dentista": otro_dentista.pk,
                                                "fecha": timezone.localdate(libre.inicio).isoformat()})
    assert respuesta.status_code == 200
    assert f'name="nueva" value="{libre.pk}"' in respuesta.text and "Bruno Vera" in respuesta.text
    respuesta = clientes["recepcion"].post(url, {"nueva": libre.pk})
    assert respuesta.status_code == 302 and respuesta.url == dia_de(libre)
    libre.refresh_from_db()
    cita.refresh_from_db()
    assert libre.paciente_nombre == "Luis Paz" and cita.estado == EstadoCita.DISPONIBLE


def test_reprogramar_filtra_por_dentista(clientes, dentista, otro_dentista, futura):
    """The picker shows one dentist: the appointment's own by default (its next free day), or
    the one chosen; an unknown one gets a Spanish message and the default."""
    cita = futura(dentista, nombre="Luis Paz", dias=2)
    mismo = futura(dentista, datetime.time(12), dias=3)
    otro = futura(otro_dentista, datetime.time(12), dias=3)
    url = reverse("gestion:agenda_reprogramar", args=[cita.pk])
    texto = clientes["recepcion"].get(url).text
    assert f'value="{mismo.pk}"' in texto and f'value="{otro.pk}"' not in texto
    texto = clientes["recepcion"].get(url, {"dentista": otro_dentista.pk}).text
    assert f'value="{mismo.pk}"' not in texto and f'value="{otro.pk}"' in texto
    respuesta = clientes["recepcion"].get(url, {"dentista": "basura"})
    assert respuesta.status_code == 200
    assert f'value="{mismo.pk}"' in respuesta.text and f'value="{otro.pk}"' not in respuesta.text
    assert "Ese dentista no existe o no tiene horas para dar: se muestran las de otro." in respuesta.text


def test_reprogramar_errores(clientes, dentista, futura, recepcionista):
    cita = futura(dentista, nombre="Luis Paz", dias=2)
    tomada = futura(dentista, datetime.time(12), dias=3)
    asignar_cita(actor=recepcionista.user, cita_id=tomada.pk, paciente_nombre="Otra")
    url = reverse("gestion:agenda_reprogramar", args=[cita.pk])
    respuesta = clientes["recepcion"].post(url, {"nueva": tomada.pk})
    assert respuesta.status_code == 302 and respuesta.url == url
    assert mensajes(respuesta) == ["Esa hora ya no está disponible. Elija otra, por favor."]
    respuesta = clientes["recepcion"].post(url, {"nueva": "basura"})
    assert respuesta.status_code == 200 and "Elija la nueva hora." in respuesta.text
    assert clientes["recepcion"].post(url, {"nueva": "99999999999999999999"}).status_code == 200
    libre = futura(dentista, datetime.time(8))
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_reprogramar", args=[libre.pk]), {"nueva": cita.pk})
    assert mensajes(respuesta) == ["Esta cita ya no se puede cambiar de hora."]
    assert clientes["recepcion"].get(reverse("gestion:agenda_reprogramar", args=[999999])).status_code == 404


# Hours, generation, closed days ------------------------------------------------------------


def _filas(*filas, extra=0):
    datos = {"form-TOTAL_FORMS": str(len(filas) + extra), "form-INITIAL_FORMS": "0"}
    for n, (dia, desde, hasta, minutos) in enumerate(filas):
        datos.update({f"form-{n}-dia_semana": dia, f"form-{n}-hora_inicio": desde, f"form-{n}-hora_fin": hasta,
                      f"form-{n}-duracion_minutos": minutos})
    return datos


def test_horario_con_pausa(clientes, dentista):
    url = reverse("gestion:agenda_horario", args=[dentista.pk])
    assert clientes["recepcion"].get(url).status_code == 200
    respuesta = clientes["recepcion"].post(url, _filas(("0", "09:00", "13:00", "30"), ("0", "14:00", "18:00", "30"), extra=2))
    assert respuesta.status_code == 302
    assert mensajes(respuesta) == ["Horario de Camila Soto guardado (2 bloques)."]
    assert HorarioAtencion.objects.filter(dentista=dentista).count() == 2
    assert 'value="14:00' in clientes["recepcion"].get(url).text


@pytest.mark.parametrize("filas, texto", [
    ([("0", "13:00", "09:00", "30")], "la hora de término debe ser posterior"),
    ([("0", "09:00", "13:00", "30"), ("0", "12:00", "15:00", "30")], "se cruzan"),
    ([("0", "09:00", "", "30")], "Complete día, desde y hasta"),
    ([("9", "09:00", "10:00", "30")], "Escoja una opción válida"),
    ([("0", "25:00", "10:00", "30")], "Introduzca una hora válida"),
    ([("0", "09:00", "10:00", "1")], "mayor o igual a 5"),
])
def test_horario_errores(clientes, dentista, filas, texto):
    url = reverse("gestion:agenda_horario", args=[dentista.pk])
    respuesta = clientes["administrador"].post(url, _filas(*filas))
    assert respuesta.status_code == 200
    assert texto in respuesta.text
    assert not HorarioAtencion.objects.filter(dentista=dentista).exists()


def test_horario_formset_basura_y_roles(clientes, dentista, recepcionista):
    url = reverse("gestion:agenda_horario", args=[dentista.pk])
    assert clientes["recepcion"].post(url, {"form-TOTAL_FORMS": "x"}).status_code == 200
    assert clientes["dentista"].get(url).status_code == 403
    assert clientes["recepcion"].get(reverse("gestion:agenda_horario", args=[999999])).status_code == 404
    assert clientes["recepcion"].get(reverse("gestion:agenda_horario", args=[recepcionista.pk])).status_code == 404


def test_generar_horas(clientes, dentista):
    HorarioAtencion.objects.create(dentista=dentista, dia_semana=0, hora_inicio=datetime.time(9),
                                   hora_fin=datetime.time(10), duracion_minutos=30)
    Cierre.objects.create(desde=datetime.date(2030, 9, 9), hasta=datetime.date(2030, 9, 9), motivo="Aniversario")
    url = reverse("gestion:agenda_generar")
    assert clientes["recepcion"].get(url).status_code == 200
    datos = {"desde": "2030-09-01", "hasta": "2030-09-30", "dentista": str(dentista.pk)}
    respuesta = clientes["recepcion"].post(url, datos)
    assert respuesta.status_code == 200
    resumen = respuesta.context["resumen"]
    # Mondays of Sept 2030: 2, 9 (closed), 16, 23, 30 → 4 days × 2 slots.
    assert resumen.creadas == 8 and resumen.existentes == 0
    assert "Aniversario" in respuesta.text and "Independencia" in respuesta.text
    again = clientes["recepcion"].post(url, datos).context["resumen"]
    assert again.creadas == 0 and again.existentes == 8


@pytest.mark.parametrize("datos, texto", [
    ({"desde": "2030-09-30", "hasta": "2030-09-01"}, "La fecha final es anterior a la inicial."),
    ({"desde": "2030-01-01", "hasta": "2032-01-01"}, "como máximo un año"),
    ({"desde": "nada", "hasta": ""}, "Introduzca una fecha válida"),
    ({"desde": "2030-01-01", "hasta": "2030-01-02", "dentista": "999999"}, "Escoja una opción válida"),
])
def test_generar_errores(clientes, dentista, datos, texto):
    respuesta = clientes["administrador"].post(reverse("gestion:agenda_generar"), datos)
    assert respuesta.status_code == 200 and texto in respuesta.text


def test_generar_y_dias_cerrados_prohibidos_al_dentista(clientes):
    assert clientes["dentista"].get(reverse("gestion:agenda_generar")).status_code == 403
    assert clientes["dentista"].get(reverse("gestion:agenda_dias_cerrados")).status_code == 403
    assert clientes["dentista"].post(reverse("gestion:agenda_reabrir", args=[1])).status_code == 403


def test_cerrar_y_reabrir_dia(clientes):
    """A one-day closure of the whole clinic (what «Cerrar este día» was), then reopened by its id."""
    url = reverse("gestion:agenda_dias_cerrados")
    assert clientes["recepcion"].get(url).status_code == 200
    respuesta = clientes["recepcion"].post(url, {"desde": "2030-12-24", "hasta": "2030-12-24", "tipo": "clinica",
                                                  "motivo": "Nochebuena"})
    cierre = Cierre.objects.get(desde=datetime.date(2030, 12, 24), hasta=datetime.date(2030, 12, 24))
    assert respuesta.status_code == 302 and respuesta.url == reverse("gestion:agenda_cierre", args=[cierre.pk])
    assert cierre.motivo == "Nochebuena" and cierre.dentista_id is None
    assert "Nochebuena" in clientes["recepcion"].get(url).text
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_reabrir", args=[cierre.pk]))
    assert respuesta.status_code == 302 and not Cierre.objects.exists()
    # Reopening it again (a second tab): a Spanish message, nothing else.
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_reabrir", args=[cierre.pk]), follow=True)
    assert "Ese cierre ya no existe." in respuesta.text


@pytest.mark.parametrize("datos, texto", [
    ({"desde": "31-31-2030", "hasta": "2030-01-01", "motivo": "x"}, "Introduzca una fecha válida"),
    ({"desde": "2030-01-01", "hasta": "2030-01-01", "motivo": "x" * 300}, "200"),
    ({"desde": "2030-01-01", "hasta": "2030-01-01", "motivo": ""}, "Indique el motivo."),
    ({"desde": "2030-01-01", "hasta": "2030-01-01", "motivo": "   "}, "Indique el motivo."),
    ({"desde": "2030-01-09", "hasta": "2030-01-01", "motivo": "x"}, "La fecha final es anterior a la inicial."),
    ({"desde": "2030-01-01", "hasta": "2031-06-01", "motivo": "x"}, "como máximo un año"),
    ({"desde": "2020-01-01", "hasta": "2020-01-02", "motivo": "x"}, "Ese período ya pasó."),
    ({"desde": "2030-01-01", "hasta": "2030-01-02", "motivo": "x", "dentista": "999999"}, "Escoja una opción válida"),
    ({"desde": "2030-01-01", "hasta": "2030-01-02", "motivo": "x", "tipo": "feriadote"}, "Escoja una opción válida"),
])
def test_cerrar_dia_errores(clientes, datos, texto):
    datos = {"tipo": "clinica", **datos}
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_dias_cerrados"), datos)
    assert respuesta.status_code == 200 and texto in respuesta.text
    assert not Cierre.objects.exists() and huella_bd() == antes


# Single slot, buttons by state --------------------------------------------------------------


def test_crear_una_hora(clientes, dentista):
    url = reverse("gestion:agenda_crear_hora")
    datos = {"dentista": dentista.pk, "fecha": "2030-03-04", "hora": "15:30", "duracion_minutos": "45"}
    respuesta = clientes["recepcion"].post(url, datos)
    assert respuesta.status_code == 302 and respuesta.url == f"{AGENDA}?fecha=2030-03-04"
    assert mensajes(respuesta) == ["Hora libre creada: 04-03-2030 15:30."]
    cita = Cita.objects.get()
    assert timezone.localtime(cita.inicio).time() == datetime.time(15, 30)
    assert cita.fin - cita.inicio == datetime.timedelta(minutes=45)
    # The same time again overlaps: a Spanish message, no 500.
    respuesta = clientes["recepcion"].post(url, datos)
    assert respuesta.status_code == 302 and mensajes(respuesta)[0].startswith("No se creó la hora:")
    assert Cita.objects.count() == 1


@pytest.mark.parametrize("cambios, texto", [
    ({"dentista": "999999"}, "Escoja una opción válida"),
    ({"hora": "99:99"}, "Introduzca una hora válida"),
    ({"fecha": "2027-09-05", "hora": "00:30"}, "Esa hora no existe ese día"),
    ({"duracion_minutos": "1"}, "La duración debe estar entre"),
])
def test_crear_una_hora_errores(clientes, dentista, cambios, texto):
    datos = {"dentista": dentista.pk, "fecha": "2030-03-04", "hora": "15:30", "duracion_minutos": "30", **cambios}
    respuesta = clientes["administrador"].post(reverse("gestion:agenda_crear_hora"), datos)
    assert respuesta.status_code == 302
    assert texto in mensajes(respuesta)[0]
    assert not Cita.objects.exists()


def test_crear_una_hora_prohibida_al_dentista(clientes, dentista):
    datos = {"dentista": dentista.pk, "fecha": "2030-03-04", "hora": "15:30", "duracion_minutos": "30"}
    assert clientes["dentista"].post(reverse("gestion:agenda_crear_hora"), datos).status_code == 403
    assert clientes["recepcion"].get(reverse("gestion:agenda_crear_hora")).status_code == 405
    assert not Cita.objects.exists()


def test_botones_segun_transiciones_posibles(clientes, dentista, cita_hoy):
    ayer = timezone.localdate() - datetime.timedelta(days=1)
    atendida = cita_hoy(dentista, datetime.time(9), nombre="Ya Atendida", fecha=ayer, estado=EstadoCita.ATENDIDA)
    reservada = cita_hoy(dentista, datetime.time(10), nombre="Pasada", fecha=ayer)
    texto = clientes["recepcion"].get(AGENDA, {"fecha": ayer.isoformat()}).text
    assert not re.search(rf"/gestion/agenda/cita/{atendida.pk}/[a-z]", texto)  # no actions (its page link is fine)
    assert reverse("gestion:agenda_accion", args=[reservada.pk, "marcar_no_asistio"]) in texto
    assert reverse("gestion:agenda_accion", args=[reservada.pk, "confirmar"]) not in texto  # already started
    assert reverse("gestion:agenda_cancelar", args=[reservada.pk]) not in texto
    assert reverse("gestion:agenda_reprogramar", args=[reservada.pk]) not in texto


def test_crear_hora_en_la_noche_repetida_de_abril_dura_lo_que_dice(clientes, dentista):
    datos = {"dentista": dentista.pk, "fecha": "2027-04-03", "hora": "23:45", "duracion_minutos": "30"}
    clientes["recepcion"].post(reverse("gestion:agenda_crear_hora"), datos)
    cita = Cita.objects.get()
    assert cita.fin - cita.inicio == datetime.timedelta(minutes=30)
    assert timezone.localtime(cita.inicio).strftime("%H:%M") == "23:45"


@pytest.mark.parametrize("semana", ["2027-09-05", "2027-04-03"])
def test_semana_con_cambio_de_hora(clientes, dentista, semana):
    fecha = datetime.date.fromisoformat(semana)
    inicio = datetime.datetime.combine(fecha, datetime.time(1, 30), tzinfo=ZONA()).astimezone(datetime.UTC)
    Cita.objects.create(dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30))
    respuesta = clientes["recepcion"].get(reverse("gestion:agenda_semana", args=[dentista.pk]), {"semana": semana})
    assert respuesta.status_code == 200
    agenda = respuesta.context["agenda"]
    columna = agenda.dias.index(fecha)
    assert [len(f.celdas[columna]) for f in agenda.filas] == [1]


@pytest.mark.parametrize("q", ["\x00", "ana\x00", "%", "'; drop table", "1" * 300])
def test_buscar_con_basura_no_falla(clientes, dentista, futura, q):
    cita = futura(dentista)
    assert clientes["recepcion"].get(reverse("gestion:agenda_buscar_pacientes"), {"q": q}).status_code == 200
    assert clientes["recepcion"].get(reverse("gestion:agenda_asignar", args=[cita.pk]), {"q": q}).status_code == 200


def test_nul_en_formularios_no_falla(clientes, dentista, futura):
    cita = futura(dentista)
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_asignar", args=[cita.pk]), {"paciente_nombre": "a\x00b"})
    assert respuesta.status_code == 200 and "caracteres nulos no están permitidos" in respuesta.text
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_dias_cerrados"),
                                           {"desde": "2030-01-01", "hasta": "2030-01-01", "motivo": "\x00"})
    assert respuesta.status_code == 200
