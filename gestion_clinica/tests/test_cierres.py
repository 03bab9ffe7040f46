"""Staff screens of closures, absences and blocked slots: the closures page (with its
confirmation when bookings are affected), a closure's page with the bookings to resolve,
reopening, blocking one slot, and how the day and week views show all of it."""

import datetime
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from citas.cierres import bloquear_hora, cerrar_rango
from citas.models import Cierre, Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from gestion_clinica.tests.conftest import cliente_de
from pruebas.soporte import huella_bd

CIERRES = reverse("gestion:agenda_dias_cerrados")
AGENDA = reverse("gestion:agenda")


@pytest.fixture
def dia():
    return timezone.localdate() + datetime.timedelta(days=10)


@pytest.fixture
def hora(recepcionista, dia):
    """``hora(dentista, time, nombre="")``: a slot on ``dia``, free or given to a patient with a record."""

    def crear(dentista, cuando=datetime.time(10), *, paciente=None):
        inicio = timezone.make_aware(datetime.datetime.combine(dia, cuando))
        cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
        if paciente is not None:
            cita = asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=paciente.cliente.pk)
        return cita

    return crear


def test_cerrar_con_citas_pide_confirmacion_y_lista_las_afectadas(clientes, dentista, hora, dia):
    paciente = registrar_paciente(1)
    reservada = hora(dentista, datetime.time(10), paciente=paciente)
    libre = hora(dentista, datetime.time(11))
    datos = {"dentista": str(dentista.pk), "tipo": "vacaciones", "desde": dia.isoformat(),
             "hasta": (dia + datetime.timedelta(days=4)).isoformat(), "motivo": "Vacaciones & descanso"}
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(CIERRES, datos)
    assert respuesta.status_code == 200 and "Este cierre afecta a 1 cita reservada." in respuesta.text
    assert huella_bd() == antes  # asked, not closed
    respuesta = clientes["recepcion"].post(CIERRES, {**datos, "confirmado": "on"})
    cierre = Cierre.objects.get()
    assert respuesta.status_code == 302 and respuesta.url == reverse("gestion:agenda_cierre", args=[cierre.pk])
    assert Cita.objects.get(pk=libre.pk).estado == EstadoCita.BLOQUEADA
    pagina = clientes["recepcion"].get(respuesta.url).text
    assert paciente.cliente.nombre_completo in pagina and f'href="tel:{paciente.cliente.telefono}"' in pagina
    assert f'href="{reverse("gestion:agenda_reprogramar", args=[reservada.pk])}"' in pagina
    consulta = urlencode({"por_clinica": "1", "motivo": "Vacaciones & descanso"}).replace("&", "&amp;")
    assert f'href="{reverse("gestion:agenda_cancelar", args=[reservada.pk])}?{consulta}"' in pagina
    # Reachable later from the list too.
    lista = clientes["recepcion"].get(CIERRES).text
    assert "1 cita por resolver" in lista and "Vacaciones &amp; descanso" in lista


def test_sin_citas_afectadas_cierra_sin_preguntar(clientes, hora, dentista, dia):
    hora(dentista)
    respuesta = clientes["administrador"].post(CIERRES, {"tipo": "clinica", "desde": dia.isoformat(),
                                                         "hasta": dia.isoformat(), "motivo": "Fumigación"})
    assert respuesta.status_code == 302 and Cierre.objects.get().dentista_id is None
    assert "No quedan citas reservadas" in clientes["administrador"].get(respuesta.url).text


def test_reabrir_enlaza_a_generar_los_dias_sin_horas(clientes, recepcionista, dentista, hora, dia):
    hora(dentista)
    cierre = cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia + datetime.timedelta(days=1),
                          dentista_id=dentista.pk, tipo="capacitacion", motivo="Curso").cierre
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_reabrir", args=[cierre.pk]), follow=True)
    assert "Cierre reabierto: 1 horas vuelven a estar libres." in respuesta.text
    siguiente = dia + datetime.timedelta(days=1)
    enlace = f'{reverse("gestion:agenda_generar")}?{urlencode({"desde": siguiente, "hasta": siguiente})}'
    assert f'href="{enlace.replace("&", "&amp;")}"' in respuesta.text
    assert clientes["recepcion"].get(enlace).context["formulario"].initial == {"desde": siguiente, "hasta": siguiente}


def test_la_agenda_muestra_el_cierre_la_ausencia_y_el_bloqueo(clientes, recepcionista, dentista, crear_personal,
                                                              hora, dia, django_assert_num_queries):
    otro = crear_personal(nombre="Luis", apellido="Muñoz")
    libre = hora(otro, datetime.time(9))
    bloqueada = hora(otro, datetime.time(10))
    bloquear_hora(actor=recepcionista.user, cita_id=bloqueada.pk, motivo="<b>Sillón</b> roto & \"O'Higgins\"")
    hora(dentista, datetime.time(9))
    cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk, tipo="licencia",
                 motivo="Licencia")
    cliente = clientes["recepcion"]
    cliente.get(AGENDA)  # warm-up (session)
    # session, user, perfil, then the agenda's 3 queries (dentists, the day's appointments, the
    # day's cancellations): the closures ride on the dentists' query; + the second factor's
    # device (OTPMiddleware, issue 15).
    # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
    with django_assert_num_queries(6):
        html = cliente.get(AGENDA, {"fecha": dia.isoformat()}).text
    assert "No atiende</span> Licencia médica: Licencia" in html and 'id="aviso-cierre"' not in html
    assert "&lt;b&gt;Sillón&lt;/b&gt; roto &amp; &quot;O&#x27;Higgins&quot;" in html and "<b>Sillón" not in html
    assert f'action="{reverse("gestion:agenda_desbloquear", args=[bloqueada.pk])}"' in html
    assert f'href="{reverse("gestion:agenda_bloquear", args=[libre.pk])}"' in html
    cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, tipo="clinica", motivo="Fiestas Patrias")
    html = cliente.get(AGENDA, {"fecha": dia.isoformat()}).text
    assert 'id="aviso-cierre"' in html and "Feriado o cierre de la clínica: Fiestas Patrias" in html
    # A closure's slots reopen with their closure: no "Desbloquear" on them.
    assert f'action="{reverse("gestion:agenda_desbloquear", args=[libre.pk])}"' not in html
    semana = cliente.get(reverse("gestion:agenda_semana", args=[dentista.pk]), {"semana": dia.isoformat()}).text
    assert "Clínica cerrada. Feriado o cierre de la clínica: Fiestas Patrias" in semana


def test_bloquear_pide_el_motivo_y_desbloquear_la_devuelve(clientes, dentista, hora):
    libre = hora(dentista)
    url = reverse("gestion:agenda_bloquear", args=[libre.pk])
    assert "Bloquear la hora" in clientes["recepcion"].get(url).text
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(url, {"motivo": "   "})
    assert respuesta.status_code == 200 and "Indique el motivo." in respuesta.text and huella_bd() == antes
    respuesta = clientes["recepcion"].post(url, {"motivo": "Reunión de equipo"})
    assert respuesta.status_code == 302
    assert Cita.objects.get(pk=libre.pk).bloqueo_motivo == "Reunión de equipo"
    # Blocking it again (a second tab): the service's Spanish message on the form.
    respuesta = clientes["recepcion"].post(url, {"motivo": "Otra"})
    assert respuesta.status_code == 200 and "ya no está disponible" in respuesta.text
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_desbloquear", args=[libre.pk]), follow=True)
    assert "libre otra vez" in respuesta.text and Cita.objects.get(pk=libre.pk).estado == EstadoCita.DISPONIBLE
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_desbloquear", args=[libre.pk]), follow=True)
    assert "No se puede desbloquear la hora" in respuesta.text


def test_el_dentista_no_bloquea_ni_cierra(clientes, dentista, hora, recepcionista):
    libre = hora(dentista)
    antes = huella_bd()
    assert clientes["dentista"].post(reverse("gestion:agenda_bloquear", args=[libre.pk]),
                                     {"motivo": "x"}).status_code == 403
    assert clientes["dentista"].get(CIERRES).status_code == 403
    assert huella_bd() == antes
    assert "Bloquear" not in cliente_de(dentista.user).get(AGENDA, {"fecha": libre.inicio.date().isoformat()}).text
