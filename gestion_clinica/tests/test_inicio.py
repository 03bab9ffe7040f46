"""Inicio: today's appointments per dentist and the counts (``citas.selectors.resumen_del_dia``)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.selectors import limites_del_dia, resumen_del_dia
from citas.services import asignar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from personal.models import Perfil, Rol

INICIO = reverse("gestion:inicio")
T = datetime.time


def conteo(texto, nombre):
    return int(re.search(rf'id="conteo-{nombre}">(\d+)<', texto).group(1))


@pytest.fixture
def dia_tipico(dentista, crear_personal, cita_hoy):
    """Two dentists with a bit of everything today, and a no-show earlier this week."""
    otro = crear_personal(rol=Rol.DENTISTA, username="dr.munoz", nombre="Diego", apellido="Muñoz")
    cita_hoy(dentista, T(9), nombre="Rosa Paz")  # reservada
    cita_hoy(dentista, T(10), nombre="Luis Vera", estado=EstadoCita.CONFIRMADA)
    cita_hoy(dentista, T(23, 30))  # libre, late enough to be still ahead in most runs
    cita_hoy(otro, T(9), nombre="Marta Gil", estado=EstadoCita.CONFIRMADA)
    cita_hoy(otro, T(11), nombre="Sin Ficha", estado=EstadoCita.CANCELADA)
    lunes = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
    cita_hoy(otro, T(8), nombre="Faltó Lunes", estado=EstadoCita.NO_ASISTIO, fecha=lunes)
    cita_hoy(otro, T(8), nombre="Faltó Antes", estado=EstadoCita.NO_ASISTIO, fecha=lunes - datetime.timedelta(days=1))
    return dentista, otro


def test_recepcion_ve_todas_las_columnas_y_los_conteos(clientes, dia_tipico):
    texto = clientes["recepcion"].get(INICIO).text
    for nombre in ("Camila Soto", "Diego Muñoz", "Rosa Paz", "Luis Vera", "Marta Gil", "Sin Ficha"):
        assert nombre in texto
    assert "Faltó" not in texto  # other days are not listed
    assert conteo(texto, "reservadas") == 1
    assert conteo(texto, "confirmadas") == 2
    assert conteo(texto, "no-asistio") == 1  # the previous Sunday belongs to last week
    assert "Cancelada por la clínica" in texto and "Confirmada" in texto


def test_dentista_ve_solo_su_columna(clientes, dia_tipico):
    texto = clientes["dentista"].get(INICIO).text
    assert "Camila Soto" in texto and "Rosa Paz" in texto
    assert "Diego Muñoz" not in texto and "Marta Gil" not in texto
    assert conteo(texto, "confirmadas") == 1
    assert conteo(texto, "no-asistio") == 0


def test_libres_cuenta_solo_las_que_no_comenzaron(dentista, cita_hoy):
    hoy = timezone.localdate()
    ahora = datetime.datetime.combine(hoy, T(12), tzinfo=timezone.get_current_timezone())
    cita_hoy(dentista, T(11))
    cita_hoy(dentista, T(13))
    cita_hoy(dentista, T(14))
    assert resumen_del_dia(fecha=hoy, ahora=ahora).libres == 2


def test_nombre_del_paciente_actual_o_instantanea(dentista, cita_hoy, recepcionista, manana_10):
    usuario = registrar_paciente(77)
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=usuario.cliente.pk)
    cita_hoy(dentista, T(8), nombre="Persona Sin Ficha")
    resumen = resumen_del_dia(fecha=manana_10.date())
    assert [c.nombre_paciente for c in resumen.columnas[0].citas] == ["Paciente Número 77"]
    hoy = resumen_del_dia()
    assert [c.nombre_paciente for c in hoy.columnas[0].citas] == ["Persona Sin Ficha"]


def test_dentista_inactivo_aparece_solo_si_tiene_citas_ese_dia(dentista, dentista_inactivo, cita_hoy):
    assert [c.dentista for c in resumen_del_dia().columnas] == [dentista]
    cita = cita_hoy(dentista, T(9))
    Cita.objects.filter(pk=cita.pk).update(dentista=dentista_inactivo)
    assert {c.dentista.pk for c in resumen_del_dia().columnas} == {dentista.pk, dentista_inactivo.pk}


def test_inicio_sin_dentistas(clientes):
    Perfil.objects.filter(rol=Rol.DENTISTA).update(activo=False)
    respuesta = clientes["recepcion"].get(INICIO)
    assert respuesta.status_code == 200
    assert "No hay dentistas activos" in respuesta.text


@pytest.mark.parametrize(
    "fecha,horas",
    [
        (datetime.date(2026, 9, 6), 23),  # clocks jump 00:00 → 01:00
        (datetime.date(2027, 4, 4), 24),  # Saturday 3 April 24:00 → 23:00; Sunday is plain
        (datetime.date(2027, 4, 3), 25),  # the Saturday with 23:00–23:59 twice
    ],
)
def test_limites_del_dia_en_cambios_de_hora(fecha, horas):
    desde, hasta = limites_del_dia(fecha)
    # In UTC: subtracting two datetimes that share a tzinfo gives wall-clock time.
    assert hasta.astimezone(datetime.UTC) - desde.astimezone(datetime.UTC) == datetime.timedelta(hours=horas)


def test_resumen_en_el_dia_que_se_atrasa_la_hora(dentista, recepcionista):
    """Both 23:30s of the long Saturday (-03 and -04) belong to that day; Sunday 00:00 does not."""
    sabado = datetime.date(2027, 4, 3)
    utc = datetime.UTC
    for instante in (
        datetime.datetime(2027, 4, 4, 2, 30, tzinfo=utc),  # 23:30 -03
        datetime.datetime(2027, 4, 4, 3, 30, tzinfo=utc),  # 23:30 -04
        datetime.datetime(2027, 4, 4, 4, 0, tzinfo=utc),  # Sunday 00:00 -04
    ):
        crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=instante)
    citas = resumen_del_dia(fecha=sabado).columnas[0].citas
    assert [c.inicio.astimezone(utc).hour for c in citas] == [2, 3]


def _llenar_dia(dentistas, n):
    """``n`` appointments today spread over ``dentistas``: half booked by name, some by a patient."""
    hoy = timezone.localdate()
    desde, _ = limites_del_dia(hoy)
    filas = []
    for i in range(n):
        dentista = dentistas[i % len(dentistas)]
        inicio = desde + datetime.timedelta(minutes=5 * (i // len(dentistas)))
        reservada = i % 2 == 0
        filas.append(
            Cita(
                dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=5),
                estado=EstadoCita.RESERVADA if reservada else EstadoCita.DISPONIBLE,
                paciente_nombre=f"Paciente {i}" if reservada else "",
            )
        )
    Cita.objects.bulk_create(filas)


@pytest.mark.parametrize("n", [5, 200])
def test_resumen_hace_tres_consultas(crear_personal, django_assert_num_queries, n):
    dentistas = [crear_personal(rol=Rol.DENTISTA, username=f"dent{i}") for i in range(4)]
    _llenar_dia(dentistas, n)
    with django_assert_num_queries(3):
        resumen = resumen_del_dia()
        total = sum(len(c.citas) for c in resumen.columnas)
        [c.dentista.nombre for c in resumen.columnas]  # the user is already there
    assert total == n
    assert resumen.reservadas == (n + 1) // 2


@pytest.mark.parametrize("n", [5, 200])
@pytest.mark.parametrize("persona", ["recepcion", "dentista"])
def test_inicio_hace_un_numero_fijo_de_consultas(clientes, dentista, crear_personal, django_assert_num_queries, n, persona):
    otros = [crear_personal(rol=Rol.DENTISTA, username=f"dent{i}") for i in range(3)]
    _llenar_dia([dentista, *otros], n)
    # session + user + staff profile (the role) + the second factor's device (OTPMiddleware)
    # + the selector's three reads
    # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
    with django_assert_num_queries(6):
        respuesta = clientes[persona].get(INICIO)
    assert respuesta.status_code == 200
    esperadas = n if persona == "recepcion" else (n + 3) // 4
    assert respuesta.text.count('class="list-group-item d-flex') == esperadas
