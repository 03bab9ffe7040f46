"""The audit log as people read it: Santiago's clock, names instead of ids, one row for a slot
generation, Chilean numbers."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse

from citas.horarios import generar_horas
from citas.models import Cita, HorarioAtencion
from citas.services import asignar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from gestion_clinica.tests.conftest import cliente_de
from nucleo.selectors import pagina_de_cambios

URL = reverse("gestion:auditoria")
UTC = datetime.UTC


@pytest.fixture
def admin_cliente(administrador):
    return cliente_de(administrador.user)


def filas(respuesta):
    return list(respuesta.context["pagina"].object_list)


def test_hora_de_santiago_de_un_instante_utc_conocido(admin_cliente, recepcionista, dentista):
    """13:30 UTC on 8 December is 10:30 in Santiago (UTC-3, summer time): both the moment of
    the change and the appointment's start inside it."""
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=datetime.datetime(2030, 12, 9, 13, 30, tzinfo=UTC))
    tabla = Cita.pgh_event_models["insert"]._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{tabla}" SET pgh_created_at = %s WHERE pgh_obj_id = %s',
                       ["2026-12-08 13:30:00+00", str(cita.pk)])
    respuesta = admin_cliente.get(URL, {"modelo": "citas.Cita", "registro_id": cita.pk})
    [fila] = filas(respuesta)
    assert "08-12-2026 10:30:00" in respuesta.text
    assert "13:30" not in respuesta.text
    assert ("inicio", "09-12-2030 10:30") in {(c.campo, c.despues) for c in fila.cambios}
    assert "+00:00" not in respuesta.text and "2030-12-09T" not in respuesta.text


def test_nombres_en_vez_de_ids(admin_cliente, recepcionista, dentista):
    user = registrar_paciente(7)
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=datetime.datetime(2030, 12, 9, 13, 30, tzinfo=UTC))
    asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=user.cliente.pk)
    respuesta = admin_cliente.get(URL, {"modelo": "citas.Cita", "registro_id": cita.pk})
    cambio = next(f for f in filas(respuesta) if f.servicio == "asignar_cita")
    assert cambio.usuario_nombre == "Pedro Rojas"
    assert cambio.registro_nombre == "Cita 10:30 del 09-12-2030 con Camila Soto"
    assert ("paciente", None, "Paciente Número 7") in {(c.campo, c.antes, c.despues) for c in cambio.cambios}
    creacion = next(f for f in filas(respuesta) if f.servicio == "crear_cita_disponible")
    assert ("dentista", "Camila Soto") in {(c.campo, c.despues) for c in creacion.cambios}
    assert "Cita 10:30 del 09-12-2030 con Camila Soto" in respuesta.text
    # A patient's row names the patient and links to their page.
    respuesta = admin_cliente.get(URL, {"modelo": "pacientes.Cliente", "registro_id": user.cliente.pk})
    assert f'href="/gestion/pacientes/{user.cliente.pk}/">Paciente Número 7</a>' in respuesta.text


def test_un_registro_eliminado_conserva_su_numero(admin_cliente, recepcionista, dentista):
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=datetime.datetime(2030, 12, 9, 13, 30, tzinfo=UTC))
    pk = cita.pk
    Cita.objects.filter(pk=pk).delete()
    respuesta = admin_cliente.get(URL, {"modelo": "citas.Cita", "registro_id": pk})
    assert filas(respuesta) and all(f.registro_nombre == "" for f in filas(respuesta))
    assert f"Cita n.º {pk}" in respuesta.text


def _generar(recepcionista, dentista, desde, hasta, *, minutos=30, hasta_hora=13):
    HorarioAtencion.objects.get_or_create(dentista=dentista, dia_semana=0, hora_inicio=datetime.time(9),
                                          defaults={"hora_fin": datetime.time(hasta_hora),
                                                    "duracion_minutos": minutos})
    return generar_horas(actor=recepcionista.user, desde=desde, hasta=hasta, dentista_id=dentista.pk)


def test_una_generacion_es_una_fila(admin_cliente, recepcionista, dentista):
    # Mondays of Sept 2030 (2, 9, 16, 23, 30) from 09:00 to 13:00 every 30 minutes: 40 slots.
    resumen = _generar(recepcionista, dentista, datetime.date(2030, 9, 1), datetime.date(2030, 9, 30))
    assert resumen.creadas == 40
    respuesta = admin_cliente.get(URL, {"modelo": "citas.Cita"})
    [fila] = filas(respuesta)
    assert fila.accion == "Generación de horas" and fila.resumen == "40 horas creadas, 02-09-2030 a 30-09-2030"
    assert "Generación de horas: 40 horas creadas, 02-09-2030 a 30-09-2030, por Pedro Rojas." in respuesta.text
    assert respuesta.context["pagina"].paginator.count == 1
    # Its link shows every slot it created.
    enlace = f"?contexto={fila.contexto_id}"
    assert enlace in respuesta.text
    detalle = admin_cliente.get(URL + enlace)
    assert detalle.context["pagina"].paginator.count == 40
    assert {f.accion for f in filas(detalle)} == {"Creación"}
    assert "Cada registro de una sola operación." in detalle.text
    # Two generations: two rows; other changes to those slots are still rows of their own.
    _generar(recepcionista, dentista, datetime.date(2030, 10, 1), datetime.date(2030, 10, 7))
    cita = Cita.objects.filter(dentista=dentista).order_by("inicio").first()
    asignar_cita(actor=recepcionista.user, cita_id=cita.pk, paciente_nombre="Rosa Díaz")
    respuesta = admin_cliente.get(URL, {"modelo": "citas.Cita"})
    assert [f.accion for f in filas(respuesta)] == ["Cambio", "Generación de horas", "Generación de horas"]
    assert filas(respuesta)[1].resumen == "8 horas creadas, 07-10-2030"
    # Looking for one slot shows its own creation, not the summary.
    respuesta = admin_cliente.get(URL, {"modelo": "citas.Cita", "registro_id": cita.pk})
    assert [f.accion for f in filas(respuesta)] == ["Cambio", "Creación"]


def test_contexto_malo_se_ignora_con_aviso(admin_cliente):
    for valor in ("nada", "1\x00", "x" * 500):
        respuesta = admin_cliente.get(URL, {"contexto": valor})
        assert respuesta.status_code == 200
        assert "Se ignoró el filtro «Operación»: no es válido." in [str(m) for m in respuesta.context["messages"]]


def test_miles_con_punto_en_la_generacion(admin_cliente, recepcionista, dentista):
    # 09:00–23:00 every 5 minutes on the 8 Mondays of Sep–Oct 2030: 168 × 9 = 1.512 slots.
    resumen = _generar(recepcionista, dentista, datetime.date(2030, 9, 1), datetime.date(2030, 10, 31),
                       minutos=5, hasta_hora=23)
    assert resumen.creadas == 1512
    respuesta = admin_cliente.get(URL, {"modelo": "citas.Cita"})
    assert "1.512 horas creadas" in respuesta.text
    respuesta = admin_cliente.post(reverse("gestion:agenda_generar"), {
        "desde": "2030-11-01", "hasta": "2030-12-31", "dentista": dentista.pk})
    assert '<strong id="creadas">1.512</strong>' in respuesta.text  # 9 Mondays in Nov–Dec 2030, 168 each


def test_consultas_fijas_con_generaciones(administrador, recepcionista, dentista, django_assert_num_queries):
    for mes in (9, 10, 11):
        _generar(recepcionista, dentista, datetime.date(2030, mes, 1), datetime.date(2030, mes, 28))
    registrar_paciente(3)
    # count + page + one per model named: users (actors and the patient's login), patients,
    # portal accounts, weekly hours and the dentist named in them; + one for the 3 summaries
    with django_assert_num_queries(8):
        pagina = pagina_de_cambios()
    assert [f.accion for f in pagina.object_list].count("Generación de horas") == 3
