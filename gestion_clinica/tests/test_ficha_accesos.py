"""Who may read a record, on the staff site (issue 15): urgent access from the 403 page (with
its banner), the administrators' review of urgent accesses, the read log's search, each
patient's care team, and the audit trail without clinical content."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from citas.models import Cita, EstadoCita
from cuentas.presencial import crear_cliente_presencial
from ficha.acceso import Acceso
from ficha.lecturas import registrar_lectura
from ficha.models import AccesoFicha, AccesoUrgencia, LecturaFicha, Seccion, Via
from gestion_clinica.tests.conftest import cliente_de
from pacientes.documentos import subir_documento
from pacientes.services import actualizar_cliente
from personal.models import Rol
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

ALERGIA = "Penicilina y látex"
MOTIVO = "Dolor agudo en la pieza 36, su dentista no está hoy"
PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ajeno(crear_personal):
    return crear_personal(rol=Rol.DENTISTA, nombre="Jorge", apellido="Mora")


@pytest.fixture
def marta(recepcionista):
    return crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Marta Díaz Rojas", rut="12345678-5",
                                    alergias=ALERGIA)


@pytest.fixture
def radiografia(marta, recepcionista):
    return subir_documento(actor=recepcionista.user, cliente_id=marta.pk, titulo="Radiografía panorámica",
                           archivo=SimpleUploadedFile("rx.pdf", PDF, content_type="application/pdf"))


def _bajar(documento):
    return reverse("gestion:paciente_documento", args=[documento.cliente_id, documento.pk])


def _urgencia(cliente):
    return reverse("gestion:ficha_urgencia", args=[cliente.pk])


# Urgent access ---------------------------------------------------------------------------------


def test_urgencia_de_punta_a_punta(ajeno, marta, radiografia):
    dentista = cliente_de(ajeno.user)
    # Knocking: a 403 with the form, the attempt logged.
    negado = dentista.get(_bajar(radiografia))
    assert negado.status_code == 403 and 'id="form-urgencia"' in negado.text
    assert f'name="next" value="{_bajar(radiografia)}"' in negado.text
    assert LecturaFicha.objects.get().via == Via.DENEGADO
    # A reason too short: the Spanish message next to the form, nothing opened.
    corto = dentista.post(_urgencia(marta), {"motivo": "urgente", "next": _bajar(radiografia)})
    assert corto.status_code == 400
    assert "Escriba el motivo de la urgencia (al menos 10 caracteres)." in corto.text
    assert "urgente" in corto.text and not AccesoUrgencia.objects.exists()
    # A real reason: opened, back to the page knocked at.
    abierto = dentista.post(_urgencia(marta), {"motivo": MOTIVO, "next": _bajar(radiografia)})
    assert abierto.status_code == 302 and abierto.url == _bajar(radiografia)
    urgencia = AccesoUrgencia.objects.get()
    assert (urgencia.usuario_id, urgencia.cliente_id, urgencia.motivo) == (ajeno.user.pk, marta.pk, MOTIVO)
    descarga = dentista.get(_bajar(radiografia))
    assert descarga.status_code == 200 and b"".join(descarga.streaming_content) == PDF
    lectura = LecturaFicha.objects.latest("pk")
    assert (lectura.via, lectura.motivo_urgencia, lectura.objeto_id) == (Via.URGENCIA, MOTIVO, radiografia.pk)
    # The patient's page: the allergies and the banner, with until when.
    pagina = dentista.get(reverse("gestion:paciente", args=[marta.pk])).text
    vence = timezone.localtime(urgencia.vence_en).strftime("%H:%M")
    assert ALERGIA in pagina and "Radiografía panorámica" in pagina
    assert f"<strong>Acceso de urgencia, vence a las {vence}.</strong> Motivo: «{MOTIVO}»" in pagina
    assert LecturaFicha.objects.filter(via=Via.URGENCIA, seccion=Seccion.ANTECEDENTES).exists()


def test_urgencia_vuelve_solo_a_este_sitio(ajeno, marta):
    dentista = cliente_de(ajeno.user)
    respuesta = dentista.post(_urgencia(marta), {"motivo": MOTIVO, "next": "https://otro.example/robar"})
    assert respuesta.url == reverse("gestion:paciente", args=[marta.pk])
    # Already open: straight back, no second row.
    otra = dentista.post(_urgencia(marta), {"motivo": MOTIVO, "next": "//otro.example/"})
    assert otra.status_code == 302 and otra.url == reverse("gestion:paciente", args=[marta.pk])
    assert AccesoUrgencia.objects.count() == 1


@pytest.mark.parametrize("persona", ["recepcion", "administrador", "superusuario"])
def test_solo_un_dentista_abre_urgencia(clientes, marta, persona):
    antes = huella_bd()
    respuesta = clientes[persona].post(_urgencia(marta), {"motivo": MOTIVO})
    assert respuesta.status_code == 403 and 'id="form-urgencia"' not in respuesta.text
    assert huella_bd() == antes


def test_urgencia_de_paciente_inexistente_es_404(ajeno):
    assert cliente_de(ajeno.user).post(reverse("gestion:ficha_urgencia", args=[987_654]),
                                       {"motivo": MOTIVO}).status_code == 404


def test_la_pagina_del_paciente_ofrece_la_urgencia_al_dentista_ajeno(ajeno, marta):
    texto = cliente_de(ajeno.user).get(reverse("gestion:paciente", args=[marta.pk])).text
    assert ALERGIA not in texto and "Alerta clínica" in texto and 'id="form-urgencia"' in texto
    # An administrative page: no clinical content shown, so no row (refused attempts are
    # logged on the record's own gated URLs).
    assert not LecturaFicha.objects.exists()


# Review ----------------------------------------------------------------------------------------


def test_revision_de_urgencias(clientes, ajeno, marta, administrador):
    cliente_de(ajeno.user).post(_urgencia(marta), {"motivo": MOTIVO})
    urgencia = AccesoUrgencia.objects.get()
    cuenta = clientes["administrador"].get(reverse("gestion:ficha_urgencias_cuenta"))
    assert '<span class="badge rounded-pill text-bg-warning" id="cuenta-urgencias">1<' in cuenta.text
    lista = clientes["administrador"].get(reverse("gestion:ficha_urgencias")).text
    assert "Jorge Mora abrió la ficha de" in lista and "Marta Díaz Rojas" in lista and MOTIVO in lista
    revisar = reverse("gestion:ficha_urgencia_revisar", args=[urgencia.pk])
    hecho = clientes["administrador"].post(revisar, {"nota": "Llamé al paciente: justificada."}, follow=True)
    assert "Acceso de urgencia marcado como revisado." in hecho.text
    assert "No hay accesos de urgencia por revisar." in hecho.text
    urgencia.refresh_from_db()
    assert urgencia.revisado_por_id == administrador.user.pk and urgencia.revision_nota.startswith("Llamé")
    otra_vez = clientes["superusuario"].post(revisar, {"nota": "otra"}, follow=True)
    assert "Ese acceso de urgencia ya fue revisado." in otra_vez.text
    assert clientes["administrador"].get(reverse("gestion:ficha_urgencias_cuenta")).text.strip() == ""
    largo = clientes["administrador"].post(revisar, {"nota": "x" * 2001}, follow=True)
    assert "La nota no puede pasar de 2000 caracteres." in largo.text


def test_el_menu_de_la_administracion_enlaza_las_urgencias(clientes):
    texto = clientes["administrador"].get(reverse("gestion:inicio")).text
    assert f'hx-get="{reverse("gestion:ficha_urgencias_cuenta")}"' in texto
    assert reverse("gestion:ficha_lecturas") in texto
    assert reverse("gestion:ficha_lecturas") not in clientes["recepcion"].get(reverse("gestion:inicio")).text


# The read log's search -------------------------------------------------------------------------


@pytest.fixture
def registro(ajeno, dentista, marta, recepcionista, radiografia, dar_cita_a):
    """Marta's record read by her dentist (team), refused to Jorge, then read by him urgently;
    another patient's read by her dentist."""
    dar_cita_a(dentista, marta)
    otra = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Otro Paciente", alergias="Yodo")
    dar_cita_a(dentista, otra)
    cliente_de(dentista.user).get(reverse("gestion:paciente", args=[marta.pk]), REMOTE_ADDR="10.1.2.3")
    cliente_de(dentista.user).get(reverse("gestion:paciente", args=[otra.pk]))
    jorge = cliente_de(ajeno.user)
    jorge.get(_bajar(radiografia))
    jorge.post(_urgencia(marta), {"motivo": MOTIVO})
    jorge.get(_bajar(radiografia))
    return otra


@pytest.fixture
def dar_cita_a():
    dadas = []

    def dar(dentista, cliente):
        dadas.append(cliente)
        inicio = timezone.now() - datetime.timedelta(days=7 + len(dadas))
        return Cita.objects.create(dentista=dentista, cliente=cliente, inicio=inicio,
                                   fin=inicio + datetime.timedelta(minutes=30), estado=EstadoCita.ATENDIDA,
                                   paciente_nombre=cliente.nombre_completo)

    return dar


def _filas(cliente, **filtros):
    texto = cliente.get(reverse("gestion:ficha_lecturas"), filtros).text
    return texto, texto.count('<td class="text-nowrap font-monospace small">')  # one per row of the log


def test_busqueda_en_el_registro_de_lecturas(clientes, registro, ajeno, dentista):
    admin = clientes["administrador"]
    texto, todas = _filas(admin)
    # Marta: her page (allergies and documents: 2 rows), Jorge's refused and urgent downloads
    # (2); the other patient's page (allergies only, no documents: 1).
    assert todas == LecturaFicha.objects.count() == 5
    assert "10.1.2.3" in texto and "Marta Díaz Rojas" in texto and "12345678-5" in texto
    assert _filas(admin, paciente="marta diaz")[1] == 4
    assert _filas(admin, paciente="12.345.678-5")[1] == 4
    assert _filas(admin, usuario=ajeno.user.pk)[1] == 2
    assert _filas(admin, via=Via.DENEGADO)[1] == 1
    texto, urgentes = _filas(admin, solo_urgencia="on")
    assert urgentes == 1 and MOTIVO in texto
    hoy = timezone.localdate()
    assert _filas(admin, desde=hoy.isoformat(), hasta=hoy.isoformat())[1] == 5
    assert _filas(admin, desde=(hoy + datetime.timedelta(days=1)).isoformat())[1] == 0
    assert "No hay lecturas que coincidan con la búsqueda." in _filas(admin, hasta="2000-01-01")[0]


@pytest.mark.parametrize("filtros,mensaje", [
    ({"desde": "2026-12-10", "hasta": "2026-12-01"}, "Se ignoró el filtro «Hasta»: La fecha «hasta» es anterior a «desde»."),
    ({"desde": "ayer"}, "Se ignoró el filtro «Desde»: Escriba una fecha válida."),
    ({"usuario": "987654"}, "Se ignoró el filtro «Quién»: Esa persona no existe."),
    ({"via": "todo"}, "Se ignoró el filtro «Acceso»: Ese tipo de acceso no existe."),
    ({"hasta": "9999-12-31", "desde": "0001-01-01", "pagina": "-3"}, None),
])
def test_filtros_malos_se_ignoran_en_castellano(clientes, registro, filtros, mensaje):
    respuesta = clientes["administrador"].get(reverse("gestion:ficha_lecturas"), filtros)
    assert respuesta.status_code == 200
    if mensaje:
        assert mensaje in respuesta.text


# The care team ---------------------------------------------------------------------------------


def test_equipo_de_cuidado(clientes, ajeno, dentista, marta, dar_cita_a, crear_personal):
    dar_cita_a(dentista, marta)
    url = reverse("gestion:ficha_accesos", args=[marta.pk])
    admin = clientes["administrador"]
    texto = admin.get(url).text
    assert "Camila Soto" in texto and "Nadie asignado." in texto
    # Bad input: Spanish, nothing granted.
    inactivo = crear_personal(rol=Rol.DENTISTA, nombre="Inés", apellido="Inactiva", activo=False)
    for datos, mensaje in [({"dentista": "987654", "motivo": "Ortodoncia"}, "Elija un dentista activo de la clínica."),
                           ({"dentista": str(inactivo.pk), "motivo": "Ortodoncia"}, "Elija un dentista activo de la clínica."),
                           ({"dentista": str(ajeno.pk), "motivo": " "}, "Indique por qué se otorga el acceso."),
                           ({"motivo": "x"}, "Elija un dentista.")]:
        respuesta = admin.post(url, datos)
        assert respuesta.status_code == 400 and mensaje in respuesta.text, datos
    assert not AccesoFicha.objects.exists()
    # Granted: Jorge reads the record now.
    hecho = admin.post(url, {"dentista": str(ajeno.pk), "motivo": "Planifica la ortodoncia"}, follow=True)
    assert "Jorge Mora ya puede ver la ficha clínica de Marta Díaz Rojas" in hecho.text
    assert ALERGIA in cliente_de(ajeno.user).get(reverse("gestion:paciente", args=[marta.pk])).text
    duplicado = admin.post(url, {"dentista": str(ajeno.pk), "motivo": "Otra vez"})
    assert "Ese dentista ya tiene acceso a esta ficha." in duplicado.text
    # Revoked through another patient's URL: 404, nothing changes; through hers: revoked.
    acceso = AccesoFicha.objects.get()
    otra = crear_cliente_presencial(actor=crear_personal(rol=Rol.RECEPCION).user, nombre_completo="Otra Persona")
    assert admin.post(reverse("gestion:ficha_acceso_revocar", args=[otra.pk, acceso.pk])).status_code == 404
    assert AccesoFicha.objects.get().revocado_en is None
    revocado = admin.post(reverse("gestion:ficha_acceso_revocar", args=[marta.pk, acceso.pk]), follow=True)
    assert "Acceso revocado" in revocado.text and "Nadie asignado." in revocado.text
    assert ALERGIA not in cliente_de(ajeno.user).get(reverse("gestion:paciente", args=[marta.pk])).text
    otra_vez = admin.post(reverse("gestion:ficha_acceso_revocar", args=[marta.pk, acceso.pk]), follow=True)
    assert "Ese acceso ya estaba revocado." in otra_vez.text


def test_la_pagina_del_paciente_enlaza_el_equipo_solo_para_la_administracion(clientes, marta):
    url = reverse("gestion:ficha_accesos", args=[marta.pk])
    assert url in clientes["administrador"].get(reverse("gestion:paciente", args=[marta.pk])).text
    assert url not in clientes["recepcion"].get(reverse("gestion:paciente", args=[marta.pk])).text


# The audit trail -------------------------------------------------------------------------------


def test_auditoria_sin_datos_clinicos(clientes, marta, recepcionista, radiografia):
    actualizar_cliente(actor=recepcionista.user, cliente_id=marta.pk, nombre_completo="Marta Díaz Rojas",
                       alergias="Penicilina, látex y yodo")
    texto = clientes["administrador"].get(reverse("gestion:auditoria")).text
    assert "Penicilina" not in texto and "yodo" not in texto and "Radiografía panorámica" not in texto
    assert "rx.pdf" not in texto
    assert "alergias:</span> (dato clínico) → (dato clínico)" in texto  # which field changed stays
    assert "Documento de Marta Díaz Rojas" in texto
    assert "Marta Díaz Rojas" in texto and "Pedro Rojas" in texto  # who and which record stay


def test_listas_de_la_administracion_en_consultas_fijas(clientes, crear_personal, marta, django_assert_num_queries,
                                                        django_assert_max_num_queries):
    """The read log and the urgencies to review: the same queries for 2 rows or 20 (no query per
    row for the reader, the patient or who opened the access)."""
    administracion = clientes["administrador"]
    paginas = [reverse("gestion:ficha_lecturas"), reverse("gestion:ficha_urgencias")]

    def sembrar(n):
        for i in range(n):
            dentista = crear_personal(rol=Rol.DENTISTA, username=f"lector{LecturaFicha.objects.count()}")
            registrar_lectura(usuario=dentista.user, cliente_id=marta.pk, seccion=Seccion.FICHA, ip="10.0.0.1",
                              acceso=Acceso(permitido=True, via=Via.URGENCIA, rol="Dentista", motivo_urgencia="x" * 12))
            AccesoUrgencia.objects.create(cliente=marta, usuario=dentista.user, motivo=f"Dolor agudo número {i}",
                                          vence_en=timezone.now() + datetime.timedelta(hours=2))

    sembrar(2)
    consultas = {}
    for url in paginas:
        with django_assert_max_num_queries(50) as contadas:
            assert administracion.get(url).status_code == 200
        consultas[url] = len(contadas.captured_queries)
    sembrar(18)
    for url in paginas:
        with django_assert_num_queries(consultas[url]):
            assert administracion.get(url).status_code == 200
