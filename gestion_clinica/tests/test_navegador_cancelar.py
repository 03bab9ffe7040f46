"""In a real browser, as a receptionist (issue 13): cancel a confirmed appointment from the
grid through its confirmation page (who and why; an empty form changes nothing), cancel
another one for the clinic from its own page, see both in the day's history, and undo a
wrong "Llegó". The e-mails the patients get are written out beside the screenshots."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, confirmar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from pruebas.soporte import ejecutar_worker

pytestmark = pytest.mark.django_db(transaction=True)

CARPETA = settings.BASE_DIR / "var" / "capturas"


def _reservada(recepcionista, dentista, inicio, numero, nombre):
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
    paciente = registrar_paciente(numero, nombre_completo=nombre).cliente
    asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=paciente.pk, motivo="dolor de muela")
    return confirmar_cita(actor=recepcionista.user, cita_id=cita.pk), paciente


def test_recepcion_cancela_con_confirmacion_y_deshace_una_llegada(
    page, live_server, captura, errores_de_consola, entrar_a_gestion, recepcionista, dentista, cita_hoy,
    servidor_smtp,
):
    zona = timezone.get_current_timezone()
    manana = timezone.localdate() + datetime.timedelta(days=1)
    a_las = lambda hora: datetime.datetime.combine(manana, datetime.time(hora), tzinfo=zona)  # noqa: E731
    ana_cita, ana = _reservada(recepcionista, dentista, a_las(10), 41, "Ana Pérez")
    luis_cita, luis = _reservada(recepcionista, dentista, a_las(11), 42, "Luis Paz")
    hoy = cita_hoy(dentista, datetime.time(9), nombre="Marta Díaz", estado=EstadoCita.CONFIRMADA)
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(recepcionista)

    # From the grid: a link to the confirmation page, never a one-click cancel.
    page.goto(f"{live_server.url}/gestion/agenda/?fecha={manana.isoformat()}")
    page.get_by_role("link", name="Cancelar la cita de las 10:00 de Ana Pérez").click()
    expect(page.get_by_role("heading", name="Cancelar la cita de Ana Pérez")).to_be_visible()
    captura("cancelar-pagina")
    page.get_by_role("button", name="Confirmar la cancelación").click()  # nothing chosen
    expect(page.get_by_text("Indique quién cancela")).to_be_visible()
    captura("cancelar-sin-elegir")
    assert Cita.objects.get(pk=ana_cita.pk).estado == EstadoCita.CONFIRMADA
    page.get_by_label("El paciente lo pidió").check()
    page.get_by_label("Motivo").fill("llamó por teléfono")
    page.get_by_role("button", name="Confirmar la cancelación").click()
    expect(page.get_by_role("status").filter(has_text="Cita cancelada; la hora quedó libre.")).to_be_visible()
    expect(page.get_by_text("Ana Pérez · pidió el paciente: llamó por teléfono")).to_be_visible()
    assert Cita.objects.get(pk=ana_cita.pk).estado == EstadoCita.DISPONIBLE

    # From the appointment's page, for the clinic: back to that page, with its history.
    page.get_by_role("table").get_by_role("link", name="Luis Paz", exact=True).click()
    page.get_by_role("link", name="Cancelar la cita de las 11:00 de Luis Paz").click()
    page.get_by_label("La clínica cancela").check()
    page.get_by_label("Motivo").fill("la dentista está con licencia médica")
    captura("cancelar-por-la-clinica")
    page.get_by_role("button", name="Confirmar la cancelación").click()
    expect(page.get_by_role("status").filter(has_text="Cita cancelada por la clínica")).to_be_visible()
    expect(page.get_by_role("heading", name="Cancelaciones de esta hora")).to_be_visible()
    expect(page.get_by_text("Motivo: la dentista está con licencia médica")).to_be_visible()
    captura("cita-cancelada-por-la-clinica")
    page.get_by_role("link", name="← Agenda del").click()
    expect(page.get_by_text("Luis Paz · canceló la clínica: la dentista está con licencia médica")).to_be_visible()
    captura("agenda-con-historial")

    # Today: a wrong "Llegó", undone after a confirmation.
    page.goto(f"{live_server.url}/gestion/agenda/")
    page.get_by_role("button", name="Llegó").click()
    expect(page.get_by_role("status").filter(has_text="Llegada registrada.")).to_be_visible()
    captura("llego-con-deshacer")
    page.get_by_role("link", name="Deshacer «Llegó»").click()
    expect(page.get_by_text("vuelve a «Confirmada»")).to_be_visible()
    captura("deshacer-llegada")
    page.get_by_role("button", name="Sí, deshacer «Llegó»").click()
    expect(page.get_by_role("status").filter(has_text="Se deshizo «Llegó».")).to_be_visible()
    expect(page.get_by_role("button", name="Llegó")).to_be_visible()
    captura("deshacer-hecho")
    assert Cita.objects.get(pk=hoy.pk).estado == EstadoCita.CONFIRMADA
    assert not errores_de_consola, f"errores en la consola (¿CSP?): {errores_de_consola}"

    # What the two patients read.
    ejecutar_worker()
    textos = []
    for paciente in (ana, luis):
        [mensaje] = [m for m in servidor_smtp.para(paciente.email) if "cancel" in m.asunto]
        textos.append(f"Para: {paciente.email}\nAsunto: {mensaje.asunto}\n\n{mensaje.cuerpo}\n")
    (CARPETA / "correos-cancelacion.txt").write_text("\n-----\n".join(textos), encoding="utf-8")
    assert "como lo pidió" in textos[0] and "licencia médica" in textos[1] and "dolor" not in "".join(textos)
