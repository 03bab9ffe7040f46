"""Django's admin is the superuser's safety net: every model is there and its pages open."""

import pytest
from django.contrib import admin
from django.urls import reverse

from citas.services import asignar_cita, crear_cita_disponible
from cuentas.presencial import crear_cliente_presencial

MODELOS = [
    "pacientes.Cliente", "cuentas.PerfilCliente", "personal.Perfil", "citas.Cita", "citas.HorarioAtencion",
    "citas.Cierre", "notificaciones.Notificacion", "pacientes.ConsentimientoCanal",
]


@pytest.mark.parametrize("etiqueta", MODELOS)
def test_cada_modelo_esta_en_el_admin(etiqueta):
    from django.apps import apps

    assert apps.get_model(etiqueta) in admin.site._registry


def test_paginas_del_admin_abren(admin_client, dentista, recepcionista, manana_10):
    cliente = crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Ana Rivas", email="ana@correo.example", enviar_invitacion=True
    )
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=cliente.pk)
    for etiqueta in MODELOS:
        app, modelo = etiqueta.lower().split(".")
        assert admin_client.get(reverse(f"admin:{app}_{modelo}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:pacientes_cliente_change", args=[cliente.pk])).status_code == 200
    assert admin_client.get(reverse("admin:citas_cita_change", args=[cita.pk])).status_code == 200
    assert admin_client.get(reverse("admin:pacientes_cliente_change", args=[999_999])).status_code == 302


def test_un_nombre_de_usuario_enorme_no_rompe_el_login_del_admin(client, db):
    respuesta = client.post(reverse("admin:login"), {"username": "x" * 5000, "password": "y"})
    assert respuesta.status_code == 200


@pytest.mark.parametrize("url", ["/no-existe/", "/gestion/pacientes/999999999/"])
def test_las_paginas_de_error_estan_en_espanol(admin_client, settings, url):
    settings.DEBUG = False
    respuesta = admin_client.get(url)
    assert respuesta.status_code == 404
    assert "No encontramos esa página" in respuesta.content.decode()


@pytest.fixture
def paciente_con_cuenta_y_hora(recepcionista, dentista, manana_10):
    cliente = crear_cliente_presencial(
        actor=recepcionista.user, nombre_completo="Ana Rivas", email="ana@correo.example", enviar_invitacion=True
    )
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=cliente.pk)
    return cliente


def test_el_admin_no_elimina_un_paciente_uno_a_uno(admin_client, paciente_con_cuenta_y_hora):
    """Deleting the row alone would leave the account and the booking behind (the seed's
    orphans): the admin refuses and links to the staff site, whose deletion runs the service."""
    from pacientes.models import Cliente

    cliente = paciente_con_cuenta_y_hora
    url = reverse("admin:pacientes_cliente_delete", args=[cliente.pk])
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Cliente.objects.filter(pk=cliente.pk).exists()
    ficha = admin_client.get(reverse("admin:pacientes_cliente_change", args=[cliente.pk])).text
    assert reverse("gestion:paciente_eliminar", args=[cliente.pk]) in ficha
    assert url not in ficha


def test_el_admin_no_elimina_pacientes_en_grupo(admin_client, paciente_con_cuenta_y_hora):
    from pacientes.models import Cliente

    cliente = paciente_con_cuenta_y_hora
    lista = reverse("admin:pacientes_cliente_changelist")
    assert "delete_selected" not in admin_client.get(lista).text
    respuesta = admin_client.post(lista, {"action": "delete_selected", "_selected_action": [cliente.pk], "post": "yes"})
    assert respuesta.status_code in (200, 302)
    assert Cliente.objects.filter(pk=cliente.pk).exists()
    assert cliente.user.__class__.objects.filter(pk=cliente.user_id).exists()


def test_el_admin_no_muestra_contenido_clinico(admin_client, paciente_con_cuenta_y_hora, settings, tmp_path):
    """The superuser's safety net is not the care team: no allergy, no document title, no
    progress note or history version (pghistory's events admin is not installed) in the admin."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ficha.models import Antecedentes
    from pacientes.documentos import subir_documento
    from pacientes.models import Cliente
    from pacientes.tests.test_documentos import PNG

    settings.MEDIA_ROOT = tmp_path
    cliente = Cliente.objects.exclude(user=None).first()
    Cliente.objects.filter(pk=cliente.pk).update(alergias="Penicilina MARCA-CLINICA")
    Antecedentes.objects.filter(cliente=cliente).update(enfermedades="Diabetes MARCA-CLINICA")
    documento = subir_documento(actor=None, cliente_id=cliente.pk, titulo="Biopsia MARCA-CLINICA",
                                archivo=SimpleUploadedFile("biopsia-MARCA-CLINICA.png", PNG, content_type="image/png"))
    paginas = ["/admin/", f"/admin/pacientes/cliente/{cliente.pk}/change/", "/admin/pacientes/clientedocumento/",
               "/admin/pacientes/clientedocumento/?q=MARCA"]
    for url in paginas:
        respuesta = admin_client.get(url)
        assert respuesta.status_code == 200, url
        assert "MARCA-CLINICA" not in respuesta.content.decode(), url
    assert admin_client.get(f"/admin/pacientes/clientedocumento/{documento.pk}/change/").status_code in (302, 403)
    assert admin_client.get("/admin/pghistory/events/").status_code == 404
