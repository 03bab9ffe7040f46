"""Pacientes on the staff site: list and search, record, walk-in, edit, deactivate, invite,
delete; every role, every validation error, stale and garbage input."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import asignar_cita, crear_cita_disponible
from notificaciones.models import Notificacion
from pruebas.soporte import huella_bd, rut_valido
from pacientes.models import Cliente
from pacientes.services import actualizar_cliente
from cuentas.presencial import crear_cliente_presencial

User = get_user_model()
LISTA = reverse("gestion:pacientes")
NUEVO = reverse("gestion:paciente_nuevo")
# The ``clientes`` fixture registers one portal patient (the "paciente" user).
SOLO_EL_DEL_PORTAL = 1


def url(nombre, cliente):
    return reverse(f"gestion:{nombre}", args=[getattr(cliente, "pk", cliente)])


def datos_validos(**extra):
    datos = {
        "nombre_completo": "Javiera Fuentes Muñoz",
        "rut": "10.000.013-k",
        "email": "Javiera.Fuentes@Correo.example",
        "telefono": "9 6123 4567",
        "fecha_nacimiento": "1990-05-17",
        "alergias": "Penicilina",
    }
    datos.update(extra)
    return datos


@pytest.fixture
def paciente(recepcionista):
    return crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Marta Díaz Rojas", rut="12.345.678-5",
        email="marta@correo.example", telefono="+56 9 8765 4321", alergias="Látex y penicilina",
    )


@pytest.fixture
def invitado(recepcionista):
    return crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Iván Invitado", email="ivan@correo.example",
        enviar_invitacion=True,
    )


def crear_muchos(n):
    Cliente.objects.bulk_create(
        Cliente(nombre_completo=f"Paciente {i:04d}", email=f"p{i}@correo.example", rut=rut_valido(20_000_000 + i),
                alergias="Polen" if i % 2 else "")
        for i in range(n)
    )


# Permissions -----------------------------------------------------------------------------------

ACCIONES_EDITOR = ["paciente_editar", "paciente_desactivar", "paciente_eliminar"]


@pytest.mark.parametrize("persona", ["administrador", "superusuario", "recepcion", "dentista"])
def test_todo_el_personal_ve_lista_y_ficha(clientes, paciente, persona):
    assert clientes[persona].get(LISTA).status_code == 200
    respuesta = clientes[persona].get(url("paciente", paciente))
    assert respuesta.status_code == 200
    assert "Marta Díaz Rojas" in respuesta.text


def test_dentista_no_ve_botones_de_edicion(clientes, paciente):
    texto = clientes["dentista"].get(url("paciente", paciente)).text
    assert url("paciente_editar", paciente) not in texto
    assert url("paciente_eliminar", paciente) not in texto
    assert NUEVO not in clientes["dentista"].get(LISTA).text


def test_recepcion_ve_botones_de_edicion(clientes, paciente):
    texto = clientes["recepcion"].get(url("paciente", paciente)).text
    for nombre in ACCIONES_EDITOR:
        assert url(nombre, paciente) in texto


@pytest.mark.parametrize("persona", ["dentista", "dentista_inactivo", "paciente"])
def test_sin_permiso_para_escribir_403_y_nada_cambia(clientes, paciente, persona):
    cliente = clientes[persona]
    assert cliente.get(NUEVO).status_code == 403
    assert cliente.post(NUEVO, datos_validos()).status_code == 403
    for nombre in ACCIONES_EDITOR:
        assert cliente.get(url(nombre, paciente)).status_code == 403
        assert cliente.post(url(nombre, paciente), datos_validos(email="otro@correo.example")).status_code == 403
    assert cliente.post(url("paciente_reenviar", paciente)).status_code == 403
    paciente_ahora = Cliente.objects.get(pk=paciente.pk)
    assert (paciente_ahora.activo, paciente_ahora.email) == (True, "marta@correo.example")
    assert Cliente.objects.count() == 1 + 1  # the portal patient of the ``clientes`` fixture


def test_anonimo_va_al_ingreso(clientes, paciente):
    for direccion in [LISTA, NUEVO, url("paciente", paciente), *(url(n, paciente) for n in ACCIONES_EDITOR)]:
        respuesta = clientes["anonimo"].get(direccion)
        assert respuesta.status_code == 302
        assert respuesta.url.startswith(reverse("gestion:entrar"))
    assert clientes["anonimo"].post(url("paciente_eliminar", paciente)).status_code == 302
    assert Cliente.objects.filter(pk=paciente.pk).exists()


@pytest.mark.parametrize("nombre", ["paciente", *ACCIONES_EDITOR])
def test_id_desconocido_404(clientes, nombre):
    for ident in (999_999, 2**31, 10**30):
        assert clientes["recepcion"].get(reverse(f"gestion:{nombre}", args=[ident])).status_code == 404


def test_id_desconocido_404_en_post(clientes):
    for nombre in ("paciente_editar", "paciente_desactivar", "paciente_reenviar"):
        assert clientes["recepcion"].post(reverse(f"gestion:{nombre}", args=[999_999]), datos_validos()).status_code == 404


def test_id_no_numerico_404(clientes):
    assert clientes["recepcion"].get("/gestion/pacientes/abc/").status_code == 404
    assert clientes["recepcion"].get("/gestion/pacientes/-1/").status_code == 404


# List and search ------------------------------------------------------------------------------


@pytest.mark.parametrize("texto", ["marta", "DIAZ", "díaz rojas", "12.345.678-5", "123456785", "12345678-5", "12.345",
                                   "marta@correo", "8765 4321", "+56 9 8765 4321"])
def test_busqueda_por_nombre_rut_correo_telefono(clientes, paciente, texto):
    crear_cliente_presencial(actor=None, nombre_completo="Otro Paciente", email="otro@correo.example")
    texto_html = clientes["recepcion"].get(LISTA, {"q": texto}).text
    assert "Marta Díaz Rojas" in texto_html
    assert "Otro Paciente" not in texto_html


def test_busqueda_sin_resultados(clientes, paciente):
    respuesta = clientes["recepcion"].get(LISTA, {"q": "zzzz"})
    assert "No se encontraron pacientes" in respuesta.text


def test_htmx_recibe_solo_el_fragmento(clientes, paciente):
    respuesta = clientes["recepcion"].get(LISTA, {"q": "marta"}, headers={"HX-Request": "true"})
    assert respuesta.status_code == 200
    assert "Marta Díaz Rojas" in respuesta.text
    assert "<html" not in respuesta.text
    assert 'id="conteo-pacientes"' in respuesta.text


def test_sin_js_la_pagina_entera_trae_el_buscador(clientes, paciente):
    texto = clientes["recepcion"].get(LISTA, {"q": "marta"}).text
    assert "<html" in texto and 'name="q"' in texto and 'hx-get="' in texto and 'value="marta"' in texto


def test_paginacion_de_25(clientes):
    crear_muchos(30)
    primera = clientes["recepcion"].get(LISTA).text
    assert len(re.findall(r'href="/gestion/pacientes/\d+/"', primera)) == 25
    assert "Página 1 de 2" in primera
    segunda = clientes["recepcion"].get(LISTA, {"pagina": 2}).text
    assert "Página 2 de 2" in segunda
    # Garbage page numbers fall back to a real page.
    for pagina in ("abc", "-1", "999", "1" * 50):
        assert clientes["recepcion"].get(LISTA, {"pagina": pagina}).status_code == 200


def test_desactivados_solo_si_se_piden(clientes, paciente, recepcionista):
    clientes["recepcion"].post(url("paciente_desactivar", paciente))
    ficha = f'href="{url("paciente", paciente)}"'
    assert ficha not in clientes["recepcion"].get(LISTA, {"q": "marta"}).text
    assert ficha in clientes["recepcion"].get(LISTA, {"q": "marta", "inactivos": "1"}).text


@pytest.mark.parametrize("texto", ["<script>alert(1)</script>", "' OR 1=1--", "%_\\", "x" * 5000, "\x00\x01", "🦷" * 300])
def test_busqueda_con_basura_no_falla_y_escapa(clientes, paciente, texto):
    respuesta = clientes["recepcion"].get(LISTA, {"q": texto})
    assert respuesta.status_code == 200
    assert "<script>alert(1)" not in respuesta.text


def test_lista_consultas_fijas(clientes, django_assert_num_queries):
    """5 patients or 205: the same queries (session, user, profile, count, page)."""
    crear_muchos(5)
    cliente = clientes["recepcion"]
    with CaptureQueriesContext(connection) as pocas:
        assert cliente.get(LISTA).status_code == 200
    Cliente.objects.bulk_create(Cliente(nombre_completo=f"Otro {i}", email=f"o{i}@correo.example") for i in range(200))
    with django_assert_num_queries(len(pocas)):
        assert cliente.get(LISTA).status_code == 200
    with django_assert_num_queries(len(pocas)):
        assert cliente.get(LISTA, {"q": "otro", "pagina": 3}).status_code == 200
    assert len(pocas) <= 6


# Record --------------------------------------------------------------------------------------


def test_ficha_muestra_todo(clientes, paciente, dentista, recepcionista):
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=timezone.now() + datetime.timedelta(days=3))
    asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=paciente.pk, motivo="Control anual")
    actualizar_cliente(actor=recepcionista.user, cliente_id=paciente.pk, nombre_completo="Marta Díaz Rojas",
                       email="marta.nueva@correo.example", telefono="+56987654321", rut="12345678-5",
                       alergias="Látex y penicilina")
    texto = clientes["dentista"].get(url("paciente", paciente)).text
    assert 'class="alert alert-danger fs-5" role="alert" id="alergias"' in texto
    assert "Látex y penicilina" in texto
    assert "marta.nueva@correo.example" in texto and "12345678-5" in texto
    assert "Control anual" in texto and "Reservada" in texto  # appointment history
    assert Notificacion.objects.filter(cliente=paciente).exists()
    assert "Últimos avisos enviados" in texto and "No se le han enviado avisos" not in texto
    # Change history: who (the receptionist), what (the e-mail before and after).
    assert "Modificación" in texto and "Creación" in texto
    assert "Pedro Rojas" in texto
    assert "<del>marta@correo.example</del> → marta.nueva@correo.example" in texto


def test_ficha_sin_alergias(clientes, recepcionista):
    sin = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Sin Alergias")
    texto = clientes["recepcion"].get(url("paciente", sin)).text
    assert "Sin alergias registradas" in texto and 'role="alert" id="alergias"' not in texto


def test_ficha_consultas_fijas(clientes, paciente, dentista, recepcionista, django_assert_num_queries):
    cliente = clientes["recepcion"]
    with CaptureQueriesContext(connection) as pocas:
        cliente.get(url("paciente", paciente))
    for dias in range(1, 6):
        hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                     inicio=timezone.now() + datetime.timedelta(days=dias))
        asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=paciente.pk)
    with django_assert_num_queries(len(pocas)):
        cliente.get(url("paciente", paciente))


# Walk-in --------------------------------------------------------------------------------------


def test_formulario_nuevo(clientes):
    texto = clientes["recepcion"].get(NUEVO).text
    assert "Enviar invitación al portal" in texto and 'name="rut"' in texto


@pytest.mark.parametrize("persona", ["administrador", "recepcion"])
def test_crear_presencial_sin_invitacion(clientes, persona):
    respuesta = clientes[persona].post(NUEVO, datos_validos())
    cliente = Cliente.objects.get(rut="10000013-K")
    assert respuesta.status_code == 302 and respuesta.url == url("paciente", cliente)
    assert (cliente.email, str(cliente.telefono), cliente.user) == ("javiera.fuentes@correo.example", "+56961234567", None)
    assert cliente.fecha_nacimiento == datetime.date(1990, 5, 17)
    seguida = clientes[persona].get(respuesta.url)
    assert "Paciente Javiera Fuentes Muñoz registrado." in seguida.text


def test_crear_presencial_con_invitacion(clientes):
    respuesta = clientes["recepcion"].post(NUEVO, datos_validos(enviar_invitacion="on"), follow=True)
    cliente = Cliente.objects.get(rut="10000013-K")
    assert cliente.user is not None and not cliente.user.has_usable_password()
    assert Notificacion.objects.filter(cliente=cliente, plantilla="invitacion").exists()
    assert "Se le envió la invitación al portal" in respuesta.text
    assert "Invitado, sin activar" in respuesta.text


@pytest.mark.parametrize("campo,valor,mensaje", [
    ("nombre_completo", "", "Ingrese el nombre completo."),
    ("nombre_completo", "   ", "Ingrese el nombre completo."),
    ("nombre_completo", "A", "El nombre es demasiado corto."),
    ("nombre_completo", "a" * 201, "El nombre no puede superar 200 caracteres."),
    ("nombre_completo", "a" * 100_000, "El texto es demasiado largo."),
    ("rut", "12.345.678-9", "El dígito verificador del RUT no es correcto."),
    ("rut", "hola", "El RUT no es válido. Ejemplo: 12.345.678-5."),
    ("email", "no-es-correo", "El correo electrónico no es válido."),
    # Reception takes landlines and foreign numbers too (issue 13): "22 123 4567" is a Santiago landline now.
    ("telefono", "22 123", "Ingrese un teléfono válido: un celular (+56 9 6123 4567), un fijo (+56 2 2345 6789)"),
    ("telefono", "<script>alert(1)</script>", "Ingrese un teléfono válido"),
    ("fecha_nacimiento", "ayer", "La fecha de nacimiento no es válida."),
    ("fecha_nacimiento", "2999-01-01", "La fecha de nacimiento no puede estar en el futuro."),
    ("fecha_nacimiento", "1850-01-01", "La fecha de nacimiento no es válida."),
    ("alergias", "x" * 2001, "Las alergias no pueden superar 2000 caracteres."),
])
def test_crear_errores_junto_al_campo(clientes, campo, valor, mensaje):
    respuesta = clientes["recepcion"].post(NUEVO, datos_validos(**{campo: valor}))
    assert respuesta.status_code == 200
    html = respuesta.text
    bloque = html.split(f'id="id_{campo}_error"', 1)
    assert len(bloque) == 2, f"sin error junto a {campo}"
    assert mensaje in bloque[1].split("</div></div>", 1)[0] + "</div>"
    assert 'aria-invalid="true"' in html
    assert Cliente.objects.count() == SOLO_EL_DEL_PORTAL


def test_invitacion_exige_correo(clientes):
    respuesta = clientes["recepcion"].post(NUEVO, datos_validos(email="", enviar_invitacion="on"))
    assert 'id="id_email_error"' in respuesta.text and "Ingrese el correo electrónico." in respuesta.text
    assert Cliente.objects.count() == SOLO_EL_DEL_PORTAL


def test_varios_errores_a_la_vez(clientes):
    respuesta = clientes["recepcion"].post(NUEVO, {"nombre_completo": "", "rut": "1", "email": "x", "telefono": "1"})
    for campo in ("nombre_completo", "rut", "email", "telefono"):
        assert f'id="id_{campo}_error"' in respuesta.text


@pytest.mark.parametrize("campo,valor,mensaje", [
    ("rut", "12345678-5", "Ya existe un paciente activo con ese RUT."),
    ("email", "MARTA@correo.example", "Ya existe un paciente activo con ese correo electrónico."),
    ("telefono", "987654321", "Ya existe un paciente activo con ese teléfono."),
])
def test_duplicado_rechazado_con_enlace(clientes, paciente, campo, valor, mensaje):
    respuesta = clientes["recepcion"].post(NUEVO, datos_validos(**{campo: valor}))
    assert respuesta.status_code == 200
    assert mensaje in respuesta.text
    assert f'<a href="{url("paciente", paciente)}">Ver la ficha existente</a>' in respuesta.text
    assert Cliente.objects.count() == SOLO_EL_DEL_PORTAL + 1


def test_invitacion_con_correo_de_otra_cuenta(clientes, recepcionista):
    respuesta = clientes["recepcion"].post(NUEVO, datos_validos(email=recepcionista.user.email, enviar_invitacion="on"))
    assert "Ya existe una cuenta con ese correo" in respuesta.text
    assert Cliente.objects.count() == SOLO_EL_DEL_PORTAL


def test_tipos_equivocados_no_son_500(clientes):
    respuesta = clientes["recepcion"].post(NUEVO, {"nombre_completo": ["a", "b"], "fecha_nacimiento": ["x"],
                                                     "enviar_invitacion": "quizás", "rut": "\x00"})
    assert respuesta.status_code == 200
    assert Cliente.objects.count() == SOLO_EL_DEL_PORTAL
    # Nothing posted at all: the required name is asked for.
    assert "Ingrese el nombre completo." in clientes["recepcion"].post(NUEVO, {}).text


def test_script_se_guarda_como_texto_y_se_escapa(clientes):
    clientes["recepcion"].post(NUEVO, datos_validos(nombre_completo="<script>alert(1)</script>",
                                                    alergias="<img src=x onerror=alert(1)>"))
    cliente = Cliente.objects.get(rut="10000013-K")
    texto = clientes["recepcion"].get(url("paciente", cliente)).text
    assert "<script>alert(1)" not in texto and "<img src=x" not in texto
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in texto


def test_doble_envio_de_alta_no_duplica(clientes):
    clientes["recepcion"].post(NUEVO, datos_validos())
    segunda = clientes["recepcion"].post(NUEVO, datos_validos())
    assert segunda.status_code == 200 and "Ver la ficha existente" in segunda.text
    assert Cliente.objects.count() == SOLO_EL_DEL_PORTAL + 1


# Edit ------------------------------------------------------------------------------------------


def test_editar_muestra_los_datos_actuales(clientes, paciente):
    texto = clientes["recepcion"].get(url("paciente_editar", paciente)).text
    assert 'value="marta@correo.example"' in texto and 'value="+56 9 8765 4321"' in texto  # as people read it
    assert 'value="12.345.678-5"' in texto
    # Allergies are clinical data: the desk's form never shows what is recorded, it only adds.
    assert "Látex y penicilina" not in texto and 'name="agregar_alergias"' in texto
    assert 'name="alergias"' not in texto


@pytest.mark.parametrize("persona", ["recepcion", "administrador"])
def test_editar_suma_alergias_sin_leerlas(clientes, paciente, persona):
    respuesta = clientes[persona].post(url("paciente_editar", paciente), datos_validos(
        nombre_completo="Marta Díaz Rojas", rut="12345678-5", alergias="", agregar_alergias="  Ibuprofeno  "))
    assert respuesta.status_code == 302
    paciente.refresh_from_db()
    # A POSTed "alergias" (an old page, a crafted request) neither shows nor erases the record.
    assert paciente.alergias == "Látex y penicilina\nIbuprofeno"
    respuesta = clientes[persona].post(url("paciente_editar", paciente), datos_validos(
        nombre_completo="Marta Díaz Rojas", rut="12345678-5", agregar_alergias=""))
    paciente.refresh_from_db()
    assert paciente.alergias == "Látex y penicilina\nIbuprofeno"
    assert "Ibuprofeno" not in clientes[persona].get(url("paciente", paciente)).text


def test_editar_guarda(clientes, paciente):
    respuesta = clientes["administrador"].post(url("paciente_editar", paciente),
                                               datos_validos(nombre_completo="Marta Díaz", rut="12345678-5"))
    assert respuesta.status_code == 302 and respuesta.url == url("paciente", paciente)
    paciente.refresh_from_db()
    assert (paciente.nombre_completo, paciente.email) == ("Marta Díaz", "javiera.fuentes@correo.example")


def test_editar_con_errores_no_cambia_nada(clientes, paciente, recepcionista):
    otro = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Otro", email="otro@correo.example")
    respuesta = clientes["recepcion"].post(url("paciente_editar", paciente),
                                           datos_validos(email="otro@correo.example", telefono="1"))
    assert "Ya existe un paciente activo con ese correo electrónico." in respuesta.text
    assert f'href="{url("paciente", otro)}"' in respuesta.text
    assert 'id="id_telefono_error"' in respuesta.text
    paciente.refresh_from_db()
    assert paciente.email == "marta@correo.example"


def test_editar_un_paciente_borrado_meanwhile_404(clientes, paciente):
    # Issue 15: allergies are clinical content, kept under legal hold; without them the
    # patient has no record and the deletion removes the row, as this test needs.
    Cliente.objects.filter(pk=paciente.pk).update(alergias="")
    direccion = url("paciente_editar", paciente)
    clientes["recepcion"].post(url("paciente_eliminar", paciente))
    assert clientes["recepcion"].post(direccion, datos_validos()).status_code == 404


def test_editar_un_paciente_en_resguardo_vuelve_a_su_pagina(clientes, paciente):
    """Issue 15: erased with a clinical record (their allergies), the patient stays only as the
    record's holder: the edit form sends back to their page with the reason; nothing changes."""
    direccion = url("paciente_editar", paciente)
    clientes["recepcion"].post(url("paciente_eliminar", paciente))
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(direccion, datos_validos(), follow=True)
    assert respuesta.redirect_chain[-1][0] == url("paciente", paciente)
    assert "no se puede reactivar ni editar" in respuesta.text
    assert clientes["recepcion"].get(direccion).status_code == 302
    assert huella_bd() == antes


# Deactivate --------------------------------------------------------------------------------------


def test_desactivar_pide_confirmacion_y_desactiva(clientes, invitado):
    confirmacion = clientes["recepcion"].get(url("paciente_desactivar", invitado))
    assert "¿Desactivar a Iván Invitado?" in confirmacion.text
    assert Cliente.objects.get(pk=invitado.pk).activo
    respuesta = clientes["recepcion"].post(url("paciente_desactivar", invitado), follow=True)
    invitado.refresh_from_db()
    assert not invitado.activo and not User.objects.get(pk=invitado.user_id).is_active
    assert "Paciente Iván Invitado desactivado." in respuesta.text
    otra_vez = clientes["recepcion"].post(url("paciente_desactivar", invitado), follow=True)
    assert otra_vez.status_code == 200 and "ya estaba desactivado" in otra_vez.text


def test_reactivar_pide_confirmacion_y_devuelve_la_ficha_y_el_portal(clientes, invitado):
    clientes["recepcion"].post(url("paciente_desactivar", invitado))
    ficha = clientes["recepcion"].get(url("paciente", invitado)).text
    assert url("paciente_reactivar", invitado) in ficha and url("paciente_desactivar", invitado) not in ficha
    confirmacion = clientes["recepcion"].get(url("paciente_reactivar", invitado))
    assert "¿Reactivar a Iván Invitado?" in confirmacion.text
    assert not Cliente.objects.get(pk=invitado.pk).activo
    respuesta = clientes["recepcion"].post(url("paciente_reactivar", invitado), follow=True)
    invitado.refresh_from_db()
    assert invitado.activo and User.objects.get(pk=invitado.user_id).is_active
    assert "Paciente Iván Invitado reactivado." in respuesta.text
    otra_vez = clientes["recepcion"].post(url("paciente_reactivar", invitado), follow=True)
    assert otra_vez.status_code == 200 and "ya estaba activo" in otra_vez.text


def test_reactivar_no_choca_con_una_ficha_activa_que_tomo_sus_datos(clientes, paciente, recepcionista):
    """Deactivating frees the RUT, e-mail and phone; if a new active record took them, the old
    one cannot come back: a clear message, and nothing changes."""
    clientes["recepcion"].post(url("paciente_desactivar", paciente))
    nueva = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz (nueva ficha)",
                                     rut="12.345.678-5")
    antes = huella_bd()
    respuesta = clientes["recepcion"].post(url("paciente_reactivar", paciente))
    assert respuesta.status_code == 409
    assert "No se pudo reactivar" in respuesta.text
    assert huella_bd() == antes
    assert not Cliente.objects.get(pk=paciente.pk).activo and Cliente.objects.get(pk=nueva.pk).activo


# Resend invitation -----------------------------------------------------------------------------


def test_reenviar_invitacion(clientes, invitado):
    antes = Notificacion.objects.filter(cliente=invitado, plantilla="invitacion").count()
    respuesta = clientes["recepcion"].post(url("paciente_reenviar", invitado), follow=True)
    assert "Invitación al portal enviada de nuevo." in respuesta.text
    assert Notificacion.objects.filter(cliente=invitado, plantilla="invitacion").count() == antes + 1


def test_reenviar_sin_cuenta_explica(clientes, paciente):
    respuesta = clientes["recepcion"].post(url("paciente_reenviar", paciente), follow=True)
    assert "Este paciente no tiene cuenta en el portal." in respuesta.text
    assert not Notificacion.objects.filter(plantilla="invitacion").exists()


def test_reenviar_cuenta_ya_activa_explica(clientes, invitado):
    invitado.user.set_password("una-clave-larga-123")
    invitado.user.save()
    respuesta = clientes["recepcion"].post(url("paciente_reenviar", invitado), follow=True)
    assert "El paciente ya activó su cuenta" in respuesta.text


def test_reenviar_solo_por_post(clientes, invitado):
    assert clientes["recepcion"].get(url("paciente_reenviar", invitado)).status_code == 405


# Delete --------------------------------------------------------------------------------------------


@pytest.fixture
def con_historia(invitado, dentista, recepcionista):
    """The invited patient with two future bookings and one attended visit last month."""
    ahora = timezone.now()
    horas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=ahora + datetime.timedelta(days=d)) for d in (2, 3, 4)]
    for hora in horas:
        asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=invitado.pk)
    Cita.objects.filter(pk=horas[0].pk).update(
        estado=EstadoCita.ATENDIDA, inicio=ahora - datetime.timedelta(days=30),
        fin=ahora - datetime.timedelta(days=30) + datetime.timedelta(minutes=30))
    return invitado


def test_confirmacion_de_eliminar_dice_exactamente_que_pasa(clientes, con_historia):
    texto = clientes["recepcion"].get(url("paciente_eliminar", con_historia)).text
    assert "Se elimina su cuenta del portal de pacientes." in texto
    assert "2 horas futuras reservadas quedan libres" in texto
    # Issue 15: the attended visit is a clinical record, kept under legal hold.
    assert "1 cita pasada se conserva con su ficha clínica" in texto
    # The invitation and the three bookings' confirmations (Ley 21.719 erasure).
    assert "Se eliminan 4 avisos registrados" in texto and "(hoy no tiene)" in texto
    assert "Su ficha clínica se conserva hasta el" in texto and "Decreto 41 de 2012" in texto
    assert Cliente.objects.filter(pk=con_historia.pk).exists()


def test_confirmacion_sin_cuenta_ni_citas(clientes, paciente):
    texto = clientes["recepcion"].get(url("paciente_eliminar", paciente)).text
    assert "No tiene cuenta en el portal: no se elimina ninguna cuenta." in texto
    assert "0 horas futuras" in texto and "0 citas pasadas" in texto


def test_eliminar_y_volver_a_eliminar(clientes, con_historia):
    user_id = con_historia.user_id
    respuesta = clientes["administrador"].post(url("paciente_eliminar", con_historia))
    assert respuesta.status_code == 302 and respuesta.url == LISTA
    # Issue 15: the attended visit is a clinical record: the row stays as its holder, inactive.
    assert not Cliente.objects.get(pk=con_historia.pk).activo
    assert not User.objects.filter(pk=user_id).exists()
    assert Cita.objects.filter(estado=EstadoCita.DISPONIBLE, cliente=None).count() == 2
    assert Cita.objects.filter(estado=EstadoCita.ATENDIDA, paciente_nombre="Iván Invitado").count() == 1
    mensaje = clientes["administrador"].get(LISTA).text
    assert ("Paciente eliminado. 2 hora(s) futura(s) liberada(s), 1 cita(s) conservada(s) como historial, "
            "cuenta del portal eliminada, 4 aviso(s) eliminado(s). Su ficha clínica queda en resguardo legal") in mensaje
    # The same form sent again (double click, back button): a clear message, never a 500.
    otra_vez = clientes["administrador"].post(url("paciente_eliminar", con_historia), follow=True)
    assert otra_vez.status_code == 200
    assert "Este paciente ya fue eliminado: solo queda su ficha clínica en resguardo legal" in otra_vez.text
    de_nuevo = clientes["administrador"].get(url("paciente_eliminar", con_historia), follow=True)
    assert de_nuevo.redirect_chain[-1][0] == url("paciente", con_historia)
    assert "Ficha en resguardo legal (paciente eliminado)" in clientes["administrador"].get(
        url("paciente", con_historia)).text


def test_historial_dice_quien_desactivo_y_que_cambio(clientes, invitado, administrador):
    clientes["administrador"].post(url("paciente_desactivar", invitado))
    texto = clientes["dentista"].get(url("paciente", invitado)).text
    historial = texto.split("Historial de cambios de los datos del paciente", 1)[1]
    assert "Ana Admin" in historial and "Pedro Rojas" in historial
    assert "<strong>Activo:</strong> <del>sí</del> → no" in historial
    assert "<strong>Cuenta del portal:</strong> vinculada" in historial
    assert "True" not in historial


def test_volver_atras_tras_busqueda_en_vivo_trae_la_pagina_entera(clientes, paciente):
    respuesta = clientes["recepcion"].get(LISTA, {"q": "marta"},
                                          headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in respuesta.text
    assert "HX-Request" in respuesta.headers["Vary"]


def test_editar_paciente_con_cuenta_exige_correo(clientes, invitado):
    respuesta = clientes["recepcion"].post(url("paciente_editar", invitado),
                                           {"nombre_completo": "Iván Invitado", "email": ""})
    assert 'id="id_email_error"' in respuesta.text and "Ingrese el correo electrónico." in respuesta.text
    invitado.refresh_from_db()
    assert invitado.email == "ivan@correo.example"


def test_editar_con_tipos_equivocados_y_textos_enormes(clientes, paciente):
    for datos in ({"nombre_completo": "x" * 50_000}, {"nombre_completo": "Marta", "fecha_nacimiento": "99999-99-99"},
                  {"nombre_completo": "Marta", "agregar_alergias": "y" * 10_000}, {"nombre_completo": "\x00\x00"}):
        respuesta = clientes["recepcion"].post(url("paciente_editar", paciente), datos)
        assert respuesta.status_code == 200 and 'aria-invalid="true"' in respuesta.text
    paciente.refresh_from_db()
    assert (paciente.nombre_completo, paciente.alergias) == ("Marta Díaz Rojas", "Látex y penicilina")
