"""In a real browser: the receptionist double-clicks "Registrar paciente", or clicks again after
the first answer was lost. One patient (and one invitation) is stored either way."""

import pytest
from playwright.sync_api import expect

from notificaciones.models import Notificacion
from pacientes.models import Cliente

pytestmark = pytest.mark.django_db(transaction=True)


def entrar_al_formulario(page, live_server, entrar_a_gestion, recepcionista):
    page.set_viewport_size({"width": 1280, "height": 800})
    entrar_a_gestion(recepcionista)
    page.goto(f"{live_server.url}/gestion/pacientes/nuevo/")
    # No RUT, e-mail or phone: nothing but the form's key can tell the two submits apart.
    page.get_by_label("Nombre completo").fill("Rosa Pérez Lagos")
    page.get_by_label("Alergias").fill("Látex")


def test_doble_clic_en_registrar_crea_un_paciente(page, live_server, captura, errores_de_consola, entrar_a_gestion,
                                                 recepcionista):
    errores, envios = errores_de_consola, []
    entrar_al_formulario(page, live_server, entrar_a_gestion, recepcionista)
    page.on("request", lambda r: envios.append(r) if r.method == "POST" and "/pacientes/nuevo/" in r.url else None)
    page.get_by_role("button", name="Registrar paciente").dblclick()
    expect(page.get_by_role("heading", name="Rosa Pérez Lagos")).to_be_visible()
    captura("paciente-nuevo-doble-clic")
    assert len(envios) in (1, 2)  # Chromium may drop the second click itself; the server copes if not
    assert Cliente.objects.filter(nombre_completo="Rosa Pérez Lagos").count() == 1
    assert not errores, f"errores en la consola: {errores}"


def test_respuesta_perdida_y_segundo_clic_lleva_a_la_ficha_ya_creada(
    page, live_server, captura, errores_de_consola, entrar_a_gestion, recepcionista
):
    """The first POST reaches the server but its answer is lost (slow network, the receptionist
    pressed Esc); the form is still on screen and she clicks again."""
    errores, envios = errores_de_consola, []
    entrar_al_formulario(page, live_server, entrar_a_gestion, recepcionista)
    page.get_by_label("Correo electrónico").fill("rosa@correo.example")
    page.get_by_label("Enviar invitación al portal").check()

    def perder_la_primera_respuesta(route):
        envios.append(route.request.post_data)
        if route.request.method == "POST" and len(envios) == 1:
            route.fetch()  # the server does its work...
            route.abort("aborted")  # ...and the answer never arrives: the form stays on screen
        else:
            route.continue_()

    page.route("**/gestion/pacientes/nuevo/", perder_la_primera_respuesta)
    page.get_by_role("button", name="Registrar paciente").click()
    expect(page.get_by_label("Nombre completo")).to_have_value("Rosa Pérez Lagos")
    assert Cliente.objects.count() == 1
    page.get_by_role("button", name="Registrar paciente").click()
    expect(page.get_by_text("Este paciente ya quedó registrado; no se creó de nuevo.")).to_be_visible()
    cliente = Cliente.objects.get()
    assert page.url.endswith(f"/gestion/pacientes/{cliente.pk}/")
    assert len(envios) == 2 and envios[0] == envios[1]
    captura("paciente-nuevo-reenvio")
    assert Notificacion.objects.filter(plantilla="invitacion").count() == 1
    assert not [e for e in errores if "ERR_ABORTED" not in e], f"errores en la consola: {errores}"
