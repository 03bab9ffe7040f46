"""The staff's account statement and money reports: who opens them, the numbers of the
hand-computed scene (pagos/tests/conftest.py) on the page and in the CSV, a query count that
does not grow with 300 charges and 200 payments, and bad periods answered in Spanish."""

import datetime
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from citas.models import Cita, EstadoCita
from pagos.tests.conftest import armar_cuenta, cuenta  # noqa: F401 (the scene)
from pagos.tests.escena import cuenta_grande
from personal.models import Rol
from pruebas.soporte import huella_bd, iniciar_sesion

pytestmark = pytest.mark.django_db(transaction=True)


def _entrar(perfil):
    return iniciar_sesion(Client(), perfil.user)


def _atendida(dentista, cliente):
    """An attended appointment: ``dentista`` is in ``cliente``'s care team."""
    inicio = timezone.now() - datetime.timedelta(days=3)
    Cita.objects.create(dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30),
                        estado=EstadoCita.ATENDIDA, cliente=cliente, paciente_nombre=cliente.nombre_completo,
                        reserva_uid=uuid.uuid4(), reservada_en=inicio - datetime.timedelta(days=1))


def test_recepcion_ve_el_estado_de_cuenta(cuenta):  # noqa: F811
    respuesta = _entrar(cuenta.pedro).get(reverse("gestion:paciente_estado_cuenta", args=[cuenta.ana.pk]))
    assert respuesta.status_code == 200
    html = respuesta.content.decode()
    for texto in ("$115.000", "$145.000", "Saldo a favor del paciente", "$30.000", "$7.000",
                  f"N° {cuenta.q1.numero}", "$12.000", "OBT-01 · Obturación resina", "16 O",
                  "Presupuesto N° %d: $80.000 · Saldo a favor: $20.000" % cuenta.q1.numero, "anulado (N°",
                  "Devuelve parte del saldo"):
        assert texto in html, texto
    pagina = _entrar(cuenta.pedro).get(reverse("gestion:paciente", args=[cuenta.ana.pk])).content.decode()
    assert 'id="abrir-estado-cuenta"' in pagina


def test_dentista_solo_de_su_equipo_de_cuidado(cuenta, crear_personal):  # noqa: F811
    url = reverse("gestion:paciente_estado_cuenta", args=[cuenta.ana.pk])
    assert _entrar(cuenta.soto).get(url).status_code == 403
    assert 'id="abrir-estado-cuenta"' not in _entrar(cuenta.soto).get(
        reverse("gestion:paciente", args=[cuenta.ana.pk])).content.decode()
    _atendida(cuenta.soto, cuenta.ana)
    assert _entrar(cuenta.soto).get(url).status_code == 200
    assert _entrar(cuenta.soto).get(reverse("gestion:paciente_estado_cuenta_csv", args=[cuenta.ana.pk])).status_code == 200
    assert _entrar(cuenta.mora).get(url).status_code == 403


def test_paciente_que_no_existe(cuenta):  # noqa: F811
    c = _entrar(cuenta.pedro)
    assert c.get(reverse("gestion:paciente_estado_cuenta", args=[10**9])).status_code == 404
    assert c.get(reverse("gestion:paciente_estado_cuenta", args=[2**70])).status_code == 404


def test_csv_del_estado_de_cuenta(cuenta):  # noqa: F811
    respuesta = _entrar(cuenta.pedro).get(reverse("gestion:paciente_estado_cuenta_csv", args=[cuenta.ana.pk]))
    assert respuesta["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in respuesta["Content-Disposition"]
    texto = respuesta.content.decode("utf-8-sig")
    assert "Resumen;Cargado;;;;115000" in texto.split("\r\n")


def test_consultas_fijas_con_300_cargos_y_200_pagos(cuenta, django_assert_num_queries):  # noqa: F811
    c = _entrar(cuenta.pedro)
    url = reverse("gestion:paciente_estado_cuenta", args=[cuenta.ana.pk])
    c.get(url)
    # session, user, staff profile, and the statement's four (the patient with its totals)
    with django_assert_num_queries(7):
        assert c.get(url).status_code == 200
    cuenta_grande(cuenta.ana, cuenta.soto, cuenta.pedro.user, cuenta.obt)
    with django_assert_num_queries(7):
        respuesta = c.get(url)
    html = respuesta.content.decode()
    assert "(303)" in html and "(206)" in html
    assert html.count("<tr") == 3 + 3 + 50 + 50  # three heads, three quotes, 50 rows per list
    with django_assert_num_queries(7):
        assert c.get(url + "?cargos=7&pagos=5").status_code == 200
    with django_assert_num_queries(11):  # past the last page: the last page (the statement again)
        assert "Página 7 de 7" in c.get(url + "?cargos=99").content.decode()


def test_reportes_del_administrador(cuenta, crear_personal):  # noqa: F811
    admin = _entrar(crear_personal(rol=Rol.ADMINISTRADOR, nombre="Alba", apellido="Admin"))
    hoy = timezone.localdate().isoformat()
    html = admin.get(reverse("gestion:reporte_produccion"), {"desde": hoy, "hasta": hoy}).content.decode()
    assert "Camila Soto" in html and "$75.000" in html
    html = admin.get(reverse("gestion:reporte_recaudacion"), {"desde": hoy, "hasta": hoy}).content.decode()
    assert "Sin presupuesto" in html and "$145.000" in html and "Rosa Díaz" in html
    csv = admin.get(reverse("gestion:reporte_recaudacion"), {"desde": hoy, "hasta": hoy, "formato": "csv"})
    assert csv["Content-Type"] == "text/csv; charset=utf-8" and csv.content.startswith(b"\xef\xbb\xbf")
    assert "Medio de pago;Total;3;160000;-15000;145000" in csv.content.decode("utf-8-sig").split("\r\n")
    # No dates: this month so far.
    assert admin.get(reverse("gestion:reporte_produccion")).status_code == 200


def test_saldos_pendientes_para_recepcion(cuenta):  # noqa: F811
    from pagos.tests.escena import hecho, plan_de

    hecho(plan_de(cuenta.ana, cuenta.mora), cuenta.lim, 100000, cuenta.mora)  # now Ana owes 70.000
    c = _entrar(cuenta.pedro)
    html = c.get(reverse("gestion:reporte_saldos")).content.decode()
    assert "Ana Pérez" in html and "$70.000" in html and "12.345.678-5" in html
    assert c.get(reverse("gestion:reporte_produccion")).status_code == 403
    texto = c.get(reverse("gestion:reporte_saldos"), {"formato": "csv"}).content.decode("utf-8-sig")
    assert texto.split("\r\n")[1].startswith("Ana Pérez;12.345.678-5;215000;145000;70000;")


@pytest.mark.parametrize("consulta, mensaje", [
    ({"desde": "2026-02-30", "hasta": "2026-03-01"}, "Escriba una fecha válida."),
    ({"desde": "2026-03-01", "hasta": "2026-02-01"}, "La fecha «hasta» es anterior a «desde»."),
    ({"desde": "2020-01-01", "hasta": "2026-01-01"}, "El período no puede superar los dos años."),
    ({"desde": "2026-03-01"}, "Indique la fecha «hasta»."),
    ({"desde": "0001-01-01", "hasta": "9999-12-31", "formato": "csv"}, "El período no puede superar los dos años."),
])
def test_periodos_malos(cuenta, crear_personal, consulta, mensaje):  # noqa: F811
    admin = _entrar(crear_personal(rol=Rol.ADMINISTRADOR, nombre="Alba", apellido="Admin"))
    antes = huella_bd()
    for nombre in ("gestion:reporte_produccion", "gestion:reporte_recaudacion"):
        respuesta = admin.get(reverse(nombre), consulta)
        assert respuesta.status_code == (400 if "formato" in consulta else 200)
        html = respuesta.content.decode()
        assert mensaje in html and "Descargar CSV" not in html and 'id="tabla-' not in html
    assert huella_bd() == antes
