"""Delivery state on the staff pages (issue 5): the patient's record and the appointment's
page list each notification with channel, destination, state, attempts, last error and sent
time, and let administración/recepción resend it."""

import datetime

import pytest
from playwright.sync_api import expect
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible
from notificaciones.models import Canal
from gestion_clinica.tests.conftest import cliente_de
from notificaciones.models import EstadoNotificacion, Notificacion
from pruebas.soporte import ejecutar_worker, huella_bd, trabajos, vaciar_cola
from cuentas.presencial import crear_cliente_presencial
from personal.models import Rol

EMAIL = "marta@correo.example"
TELEFONO = "+56961234567"


@pytest.fixture(autouse=True)
def _cola_vacia(cola_vacia):
    """These tests count delivery jobs."""


@pytest.fixture
def paciente(recepcionista):
    return crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Marta Díaz Rojas", email=EMAIL, telefono=TELEFONO,
    )


@pytest.fixture
def cita(recepcionista, dentista, paciente):
    """A booking in three days at 10:00 Santiago, which recorded one e-mail (cita_asignada)."""
    dia = timezone.localdate() + datetime.timedelta(days=3)
    inicio = datetime.datetime.combine(dia, datetime.time(10), tzinfo=timezone.get_current_timezone())
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
    return asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=paciente.pk, motivo="Control anual")


def aviso_de(cita):
    return Notificacion.objects.get(cita=cita, canal=Canal.EMAIL)


def marcar(aviso, **cambios):
    Notificacion.objects.filter(pk=aviso.pk).update(**cambios)
    aviso.refresh_from_db()
    return aviso


def fallida(aviso, error="SMTPRecipientsRefused: 550 5.1.1 <correo>: buzón inexistente"):
    vaciar_cola()  # its job failed and is no longer live
    return marcar(aviso, estado=EstadoNotificacion.FALLIDA, intentos=10, ultimo_error=error)


def enviada(aviso):
    vaciar_cola()
    return marcar(aviso, estado=EstadoNotificacion.ENVIADA, intentos=1,
                  enviada_en=datetime.datetime(2026, 3, 2, 13, 5, tzinfo=datetime.UTC))


def extra(cita, paciente, n, **campos):
    """More rows for the same patient and appointment (a WhatsApp one by default)."""
    datos = {"canal": Canal.WHATSAPP, "plantilla": "recordatorio", "destinatario": TELEFONO, "cuerpo": "hola",
             "clave_idempotencia": f"recordatorio:{cita.pk}:{n}", "cliente": paciente, "cita": cita, **campos}
    return Notificacion.objects.create(**datos)


def url_paciente(paciente):
    return reverse("gestion:paciente", args=[paciente.pk])


def url_cita(cita):
    return reverse("gestion:agenda_cita", args=[cita.pk])


def reenviar_paciente(paciente, aviso):
    return reverse("gestion:paciente_aviso_reenviar", args=[paciente.pk, aviso.pk])


def reenviar_cita(cita, aviso):
    return reverse("gestion:agenda_cita_aviso_reenviar", args=[cita.pk, aviso.pk])


# The patient's record ----------------------------------------------------------------------------


def test_ficha_muestra_estado_error_intentos_y_boton(clientes, cita, paciente):
    aviso = fallida(aviso_de(cita), error="SMTPRecipientsRefused: 550 <script>alert(1)</script> rechazado")
    respuesta = clientes["recepcion"].get(url_paciente(paciente))
    texto = respuesta.text
    assert f'id="aviso-{aviso.pk}"' in texto
    assert 'class="badge text-bg-danger">Fallida tras reintentos</span>' in texto
    assert "Correo electrónico</span> a" in texto and EMAIL in texto
    assert "10 intentos" in texto and "sin enviar" in texto
    assert "Último error: SMTPRecipientsRefused: 550 &lt;script&gt;alert(1)&lt;/script&gt; rechazado" in texto
    assert "<script>alert(1)" not in texto
    assert f'action="{reenviar_paciente(paciente, aviso)}"' in texto and ">Reenviar</button>" in texto


def test_ficha_muestra_enviada_con_fecha_y_telefono_formateado(clientes, cita, paciente, settings):
    settings.NOTIFICACIONES_WHATSAPP = "consola"
    aviso = enviada(aviso_de(cita))
    whatsapp = extra(cita, paciente, 1)
    texto = clientes["administrador"].get(url_paciente(paciente)).text
    assert 'class="badge text-bg-success">Enviada</span>' in texto
    assert "enviado 02-03-2026 10:05" in texto, "hora de Santiago"
    assert "1 intento</span>" in texto
    assert "+56 9 6123 4567" in texto, "teléfono en formato chileno"
    assert 'class="badge text-bg-warning">Pendiente</span>' in texto
    # Both resendable: the e-mail was sent (a copy), the WhatsApp row has no job behind it.
    assert reenviar_paciente(paciente, aviso) in texto and reenviar_paciente(paciente, whatsapp) in texto


def test_ficha_explica_por_que_no_se_puede_reenviar(clientes, cita, paciente, settings):
    settings.NOTIFICACIONES_WHATSAPP = ""
    en_cola = aviso_de(cita)  # pending, its job waiting
    sin_proveedor = extra(cita, paciente, 1)
    texto = clientes["recepcion"].get(url_paciente(paciente)).text
    assert "en cola de envío" in texto and "En cola de envío" in texto
    assert "Sin proveedor de WhatsApp" in texto
    assert reenviar_paciente(paciente, en_cola) not in texto
    assert reenviar_paciente(paciente, sin_proveedor) not in texto


@pytest.mark.parametrize("persona", ["dentista"])
def test_dentista_ve_el_estado_pero_no_reenvia(clientes, cita, paciente, persona):
    aviso = fallida(aviso_de(cita))
    texto = clientes[persona].get(url_paciente(paciente)).text
    assert "Fallida tras reintentos" in texto and "Último error" in texto
    assert reenviar_paciente(paciente, aviso) not in texto and ">Reenviar</button>" not in texto


def test_ficha_enlaza_cada_cita_a_su_pagina(clientes, cita, paciente, crear_personal, recepcionista):
    assert f'href="{url_cita(cita)}"' in clientes["recepcion"].get(url_paciente(paciente)).text
    # Another dentist would get a 404 there: no link for them.
    otro = crear_personal(rol=Rol.DENTISTA, nombre="Bruno", apellido="Vera")
    assert f'href="{url_cita(cita)}"' not in cliente_de(otro.user).get(url_paciente(paciente)).text
    assert f'href="{url_cita(cita)}"' in clientes["dentista"].get(url_paciente(paciente)).text


def test_reenviar_desde_la_ficha(clientes, cita, paciente):
    aviso = fallida(aviso_de(cita))
    respuesta = clientes["recepcion"].post(reenviar_paciente(paciente, aviso))
    assert respuesta.status_code == 302 and respuesta.url == url_paciente(paciente) + "#avisos"
    aviso.refresh_from_db()
    assert (aviso.estado, aviso.intentos, aviso.ultimo_error) == (EstadoNotificacion.PENDIENTE, 0, "")
    assert [t["args"] for t in trabajos()] == [{"notificacion_id": aviso.pk}]
    texto = clientes["recepcion"].get(respuesta.url).text
    assert "Aviso puesto de nuevo en la cola de envío" in texto
    assert "Pendiente" in texto and "en cola de envío" in texto


def test_reenviar_rechazado_muestra_el_motivo_y_no_cambia_nada(clientes, cita, paciente):
    aviso = aviso_de(cita)  # pending with a live job
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(reenviar_paciente(paciente, aviso), follow=True)
    assert respuesta.status_code == 200
    assert "No se reenvió el aviso: Este aviso ya está en la cola de envío" in respuesta.text
    assert huella_bd() == antes


def test_aviso_de_otro_paciente_es_404(clientes, cita, paciente, recepcionista):
    otro = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Otro Paciente")
    aviso = fallida(aviso_de(cita))
    antes = huella_bd()
    assert clientes["recepcion"].post(reenviar_paciente(otro, aviso)).status_code == 404
    assert clientes["recepcion"].post(
        reverse("gestion:paciente_aviso_reenviar", args=[paciente.pk, 999_999])).status_code == 404
    assert huella_bd() == antes


@pytest.mark.parametrize(("persona", "esperado"), [("dentista", 403), ("paciente", 403), ("anonimo", 302)])
def test_reenviar_solo_administracion_y_recepcion(clientes, cita, paciente, persona, esperado):
    aviso = fallida(aviso_de(cita))
    antes = huella_bd()
    assert clientes[persona].post(reenviar_paciente(paciente, aviso)).status_code == esperado
    assert clientes[persona].post(reenviar_cita(cita, aviso)).status_code == esperado
    assert huella_bd() == antes


def test_reenviar_es_solo_post(clientes, cita, paciente):
    aviso = fallida(aviso_de(cita))
    assert clientes["recepcion"].get(reenviar_paciente(paciente, aviso)).status_code == 405
    assert clientes["recepcion"].get(reenviar_cita(cita, aviso)).status_code == 405


# The appointment's page --------------------------------------------------------------------------


def test_pagina_de_la_cita(clientes, cita, paciente, dentista):
    Cita.objects.filter(pk=cita.pk).update(reprogramaciones=2)
    aviso = fallida(aviso_de(cita))
    respuesta = clientes["recepcion"].get(url_cita(cita))
    assert respuesta.status_code == 200
    texto = respuesta.text
    inicio = timezone.localtime(cita.inicio)
    assert f"{inicio:%d}" in texto and "10:00 a 10:30 (hora de Santiago)" in texto
    assert dentista.nombre in texto
    assert f'<a href="{url_paciente(paciente)}">Marta Díaz Rojas</a>' in texto
    assert "Reservada" in texto and "Control anual" in texto and "2 hechos por el paciente" in texto
    # The grid's actions, coming back here.
    assert reverse("gestion:agenda_accion", args=[cita.pk, "confirmar"]) in texto
    assert reverse("gestion:agenda_reprogramar", args=[cita.pk]) in texto
    assert '<input type="hidden" name="volver" value="cita">' in texto
    # Its notifications, with the same details and the resend button.
    assert "Fallida tras reintentos" in texto and "10 intentos" in texto and "Último error" in texto
    assert f'action="{reenviar_cita(cita, aviso)}"' in texto


def test_pagina_de_cita_sin_ficha_y_sin_avisos(clientes, recepcionista, dentista):
    inicio = timezone.now() + datetime.timedelta(days=2)
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
    asignar_cita(actor=recepcionista.user, cita_id=hora.pk, paciente_nombre="Persona Sin Ficha")
    texto = clientes["recepcion"].get(url_cita(hora)).text
    assert "Persona Sin Ficha" in texto and "(sin ficha)" in texto
    assert "No hay avisos registrados para esta cita." in texto


def test_accion_desde_la_pagina_vuelve_a_la_pagina(clientes, cita):
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_accion", args=[cita.pk, "confirmar"]),
                                           {"volver": "cita"})
    assert respuesta.status_code == 302 and respuesta.url == url_cita(cita)
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.CONFIRMADA
    # From the grid (no volver) it still goes back to the day.
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_accion", args=[cita.pk, "marcar_llegada"]))
    assert respuesta.url.startswith(reverse("gestion:agenda") + "?fecha=")


def test_liberar_desde_la_pagina_vuelve_a_la_pagina(clientes, cita):
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_cancelar", args=[cita.pk]),
                                           {"volver": "cita", "por_clinica": "0", "motivo": "vino a pedirlo"})
    assert respuesta.url == url_cita(cita)
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.DISPONIBLE
    assert clientes["recepcion"].get(url_cita(cita)).status_code == 200


def test_volver_solo_acepta_la_cita(clientes, cita):
    respuesta = clientes["recepcion"].post(reverse("gestion:agenda_accion", args=[cita.pk, "confirmar"]),
                                           {"volver": "https://malo.example/"})
    assert respuesta.url.startswith(reverse("gestion:agenda") + "?fecha=")


def test_reenviar_enviada_desde_la_cita_crea_una_copia(clientes, cita):
    aviso = enviada(aviso_de(cita))
    respuesta = clientes["administrador"].post(reenviar_cita(cita, aviso))
    assert respuesta.status_code == 302 and respuesta.url == url_cita(cita) + "#avisos"
    copia = Notificacion.objects.filter(cita=cita).exclude(pk=aviso.pk).get()
    assert copia.cita_id == cita.pk and copia.clave_idempotencia.startswith(aviso.clave_idempotencia + ":reenvio:")
    assert [t["args"] for t in trabajos()] == [{"notificacion_id": copia.pk}]
    texto = clientes["administrador"].get(respuesta.url).text
    assert "Se envía una copia nueva del aviso por Correo electrónico." in texto
    assert f'id="aviso-{copia.pk}"' in texto and f'id="aviso-{aviso.pk}"' in texto


def test_aviso_de_otra_cita_es_404(clientes, cita, recepcionista, dentista):
    otra = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=timezone.now() + datetime.timedelta(days=5))
    aviso = fallida(aviso_de(cita))
    antes = huella_bd()
    assert clientes["recepcion"].post(reenviar_cita(otra, aviso)).status_code == 404
    assert huella_bd() == antes


def test_dentista_ve_su_cita_sin_reenviar_y_no_la_ajena(clientes, cita, crear_personal):
    aviso = fallida(aviso_de(cita))
    respuesta = clientes["dentista"].get(url_cita(cita))
    assert respuesta.status_code == 200
    texto = respuesta.text
    assert "Fallida tras reintentos" in texto
    assert reenviar_cita(cita, aviso) not in texto and ">Reenviar</button>" not in texto
    # The grid's dentist actions only.
    assert reverse("gestion:agenda_reprogramar", args=[cita.pk]) not in texto
    assert reverse("gestion:agenda_accion", args=[cita.pk, "confirmar"]) not in texto
    otro = crear_personal(rol=Rol.DENTISTA, nombre="Bruno", apellido="Vera")
    assert cliente_de(otro.user).get(url_cita(cita)).status_code == 404


def test_cita_inexistente_es_404(clientes):
    assert clientes["recepcion"].get(reverse("gestion:agenda_cita", args=[999_999])).status_code == 404


def test_la_ruta_de_acciones_sigue_funcionando(clientes, cita):
    url = reverse("gestion:agenda_accion", args=[cita.pk, "confirmar"])
    assert url == f"/gestion/agenda/cita/{cita.pk}/confirmar/"
    assert clientes["recepcion"].post(url).status_code == 302
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.CONFIRMADA
    assert clientes["recepcion"].post(reverse("gestion:agenda_accion", args=[cita.pk, "avisos"])).status_code == 404


def test_grilla_y_semana_enlazan_cada_cita(clientes, cita, dentista):
    fecha = timezone.localdate(cita.inicio)
    dia = clientes["recepcion"].get(reverse("gestion:agenda"), {"fecha": fecha.isoformat()}).text
    assert f'href="{url_cita(cita)}">Marta Díaz Rojas</a>' in dia
    semana = clientes["dentista"].get(reverse("gestion:agenda_semana", args=[dentista.pk]),
                                      {"semana": fecha.isoformat()}).text
    assert f'href="{url_cita(cita)}">Marta Díaz Rojas</a>' in semana


# Query counts ------------------------------------------------------------------------------------


def _con_avisos(cita, paciente, cantidad):
    """``cantidad`` rows in mixed states for the patient and the appointment."""
    estados = [EstadoNotificacion.PENDIENTE, EstadoNotificacion.FALLIDA, EstadoNotificacion.ENVIADA]
    existentes = Notificacion.objects.filter(cita=cita).count()
    for n in range(existentes, cantidad):
        estado = estados[n % 3]
        extra(cita, paciente, n, canal=Canal.EMAIL, destinatario=EMAIL, estado=estado, intentos=n % 4,
              ultimo_error="Timeout" if estado == EstadoNotificacion.FALLIDA else "",
              enviada_en=timezone.now() if estado == EstadoNotificacion.ENVIADA else None)


@pytest.mark.parametrize("pagina", ["paciente", "cita"])
def test_consultas_fijas_con_2_y_20_avisos(clientes, cita, paciente, django_assert_num_queries, pagina):
    cliente = clientes["recepcion"]
    url = url_paciente(paciente) if pagina == "paciente" else url_cita(cita)
    cliente.get(url)  # warm-up (session)
    _con_avisos(cita, paciente, 2)
    with CaptureQueriesContext(connection) as pocas:
        texto = cliente.get(url).text
    assert texto.count('class="list-group-item px-0 aviso') == 2
    _con_avisos(cita, paciente, 20)
    with django_assert_num_queries(len(pocas)):
        texto = cliente.get(url).text
    assert texto.count('class="list-group-item px-0 aviso') == 20


def test_pagina_de_cita_en_seis_consultas(clientes, cita, django_assert_num_queries):
    cliente = clientes["recepcion"]
    cliente.get(url_cita(cita))
    # session, user, staff profile, the appointment (dentist, patient), its notifications, and
    # (issue 13) the slot's cancellations with who recorded them, (issue 15) the second factor's
    # device (OTPMiddleware)
    # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
    with django_assert_num_queries(6):
        assert cliente.get(url_cita(cita)).status_code == 200


# In a real browser: from the day grid to the appointment, resend, the worker delivers -----------


@pytest.mark.django_db(transaction=True)
def test_navegador_recepcion_reenvia_un_aviso_fallido(page, live_server, captura, errores_de_consola, entrar_a_gestion, cita, recepcionista,
                                                      servidor_smtp):
    aviso = fallida(aviso_de(cita), error="SMTPServerDisconnected: Connection unexpectedly closed")
    errores = errores_de_consola
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(recepcionista)

    page.goto(f"{live_server.url}{reverse('gestion:agenda')}?fecha={timezone.localdate(cita.inicio).isoformat()}")
    page.get_by_role("link", name="Marta Díaz Rojas", exact=True).click()
    expect(page.get_by_role("heading", name="Avisos de esta cita")).to_be_visible()
    fila = page.locator(f"#aviso-{aviso.pk}")
    expect(fila).to_contain_text("Fallida tras reintentos")
    expect(fila).to_contain_text("Último error: SMTPServerDisconnected")
    captura("cita-avisos-fallido")

    fila.get_by_role("button", name="Reenviar").click()
    expect(page.get_by_text("Aviso puesto de nuevo en la cola de envío")).to_be_visible()
    expect(page.locator(f"#aviso-{aviso.pk}")).to_contain_text("en cola de envío")

    ejecutar_worker()
    page.reload()
    expect(page.locator(f"#aviso-{aviso.pk}")).to_contain_text("Enviada")
    assert len(servidor_smtp.para(EMAIL)) == 1

    page.get_by_role("link", name="Marta Díaz Rojas", exact=True).click()
    expect(page.locator(f"#avisos #aviso-{aviso.pk}")).to_contain_text("Enviada")
    captura("paciente-avisos-enviado")
    assert not errores, f"errores en la consola (¿CSP?): {errores}"


def test_ids_enormes_son_404(clientes, cita, paciente):
    enorme = 2**70
    assert clientes["recepcion"].get(f"/gestion/agenda/cita/{enorme}/").status_code == 404
    assert clientes["recepcion"].post(f"/gestion/agenda/cita/{cita.pk}/avisos/{enorme}/reenviar/").status_code == 404
    assert clientes["recepcion"].post(f"/gestion/pacientes/{paciente.pk}/avisos/{enorme}/reenviar/").status_code == 404
    assert clientes["recepcion"].post(f"/gestion/pacientes/{enorme}/avisos/1/reenviar/").status_code == 404
