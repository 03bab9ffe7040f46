import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from citas.cierres import cerrar_rango, reabrir_cierre
from citas.horarios import Bloque, definir_horario, generar_horas, horas_del_dia
from citas.models import Cierre, Cita, HorarioAtencion

SANTIAGO = ZoneInfo("America/Santiago")
T = datetime.time
MANANA_Y_TARDE = [
    Bloque(dia, T(9, 0), T(13, 0)) for dia in range(5)
] + [Bloque(dia, T(14, 30), T(18, 30)) for dia in range(5)]


def locales(horas):
    return [(i.astimezone(SANTIAGO).strftime("%H:%M"), int((f - i).total_seconds() // 60)) for i, f in horas]


# Pure slot arithmetic on the DST change days of 2026 and 2027 ------------------------------


@pytest.mark.parametrize("dia", [datetime.date(2026, 9, 6), datetime.date(2027, 9, 5)])
def test_en_septiembre_la_hora_que_no_existe_se_omite(dia):
    """Clocks jump from 00:00 to 01:00: 00:00 and 00:30 do not exist that night."""
    horas = horas_del_dia(dia, Bloque(dia.weekday(), T(0, 0), T(2, 0)))
    assert locales(horas) == [("01:00", 30), ("01:30", 30)]
    assert horas[0][0].astimezone(SANTIAGO).utcoffset() == datetime.timedelta(hours=-3)


@pytest.mark.parametrize("dia", [datetime.date(2026, 4, 4), datetime.date(2027, 4, 3)])
def test_en_abril_la_hora_repetida_se_toma_una_vez(dia):
    """At 24:00 clocks go back to 23:00: 23:00–23:59 happens twice; each slot is made once and
    none overlaps another."""
    horas = horas_del_dia(dia, Bloque(dia.weekday(), T(22, 0), T(23, 59)))
    assert locales(horas) == [("22:00", 30), ("22:30", 30), ("23:00", 30)]
    for (_, fin), (inicio, _) in zip(horas, horas[1:]):
        assert fin <= inicio


@pytest.mark.parametrize(
    "dia", [datetime.date(2026, 9, 6), datetime.date(2026, 4, 4), datetime.date(2027, 9, 5), datetime.date(2027, 4, 3)]
)
def test_horario_de_clinica_en_dias_de_cambio_de_hora(dia):
    """A normal 09:00–13:00 block is unaffected: 8 slots at 09:00 local, 30 real minutes each."""
    horas = horas_del_dia(dia, Bloque(dia.weekday(), T(9, 0), T(13, 0)))
    assert locales(horas)[0] == ("09:00", 30)
    assert len(horas) == 8 and all(m == 30 for _, m in locales(horas))


def test_un_bloque_que_no_cabe_entero_no_se_crea():
    horas = horas_del_dia(datetime.date(2027, 1, 4), Bloque(0, T(9, 0), T(10, 40), 45))
    assert locales(horas) == [("09:00", 45), ("09:45", 45)]


# definir_horario ----------------------------------------------------------------------------


def test_definir_horario_reemplaza_los_bloques(dentista, recepcionista):
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=MANANA_Y_TARDE)
    assert HorarioAtencion.objects.filter(dentista=dentista).count() == 10
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=[Bloque(5, T(9, 0), T(12, 0))])
    assert list(HorarioAtencion.objects.values_list("dia_semana", flat=True)) == [5]


@pytest.mark.parametrize(
    ("bloques", "codigo"),
    [
        ([Bloque(0, T(13, 0), T(9, 0))], "horario_invalido"),
        ([Bloque(7, T(9, 0), T(13, 0))], "dia_invalido"),
        ([Bloque(0, T(9, 0), T(13, 0), 2)], "duracion_invalida"),
        ([Bloque(0, T(9, 0), T(13, 0)), Bloque(0, T(12, 0), T(15, 0))], "horario_traslapado"),
    ],
)
def test_definir_horario_rechaza_bloques_malos(dentista, recepcionista, bloques, codigo):
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=MANANA_Y_TARDE)
    with pytest.raises(ValidationError) as error:
        definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=bloques)
    assert codigo in [e.code for e in error.value.error_list]
    assert HorarioAtencion.objects.count() == 10, "nada cambió"


def test_la_base_impide_bloques_que_se_cruzan(dentista):
    HorarioAtencion.objects.create(dentista=dentista, dia_semana=0, hora_inicio=T(9, 0), hora_fin=T(13, 0))
    with pytest.raises(IntegrityError), transaction.atomic():
        HorarioAtencion.objects.create(dentista=dentista, dia_semana=0, hora_inicio=T(12, 30), hora_fin=T(14, 0))
    # Touching blocks are fine.
    HorarioAtencion.objects.create(dentista=dentista, dia_semana=0, hora_inicio=T(13, 0), hora_fin=T(14, 0))


def test_horario_solo_para_dentistas_activos(recepcionista):
    with pytest.raises(ValidationError):
        definir_horario(actor=recepcionista.user, dentista_id=recepcionista.pk, bloques=MANANA_Y_TARDE)


# generar_horas ------------------------------------------------------------------------------

# A week of 2027 with a public holiday: Friday 2027-03-26 is Good Friday (Viernes Santo).
SEMANA_SANTA = (datetime.date(2027, 3, 22), datetime.date(2027, 3, 28))


def test_generar_horas_omite_feriados_y_dias_cerrados(dentista, recepcionista):
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=MANANA_Y_TARDE)
    cerrar_rango(actor=recepcionista.user, desde=datetime.date(2027, 3, 23), hasta=datetime.date(2027, 3, 23),
                 motivo="Capacitación")

    resumen = generar_horas(actor=recepcionista.user, desde=SEMANA_SANTA[0], hasta=SEMANA_SANTA[1])

    assert resumen.creadas == 3 * 16  # Mon, Wed, Thu; Tue closed, Fri holiday, weekend without hours
    assert dict(resumen.dias_omitidos) == {
        datetime.date(2027, 3, 23): "Clínica cerrada: Capacitación",
        datetime.date(2027, 3, 26): "Viernes Santo",
        datetime.date(2027, 3, 27): "Sábado Santo",
    }
    dias = {timezone.localtime(c.inicio).date() for c in Cita.objects.all()}
    assert dias == {datetime.date(2027, 3, 22), datetime.date(2027, 3, 24), datetime.date(2027, 3, 25)}
    horas = sorted({timezone.localtime(c.inicio).strftime("%H:%M") for c in Cita.objects.all()})
    assert horas[0] == "09:00" and horas[-1] == "18:00" and "13:00" not in horas and "14:30" in horas


def test_generar_horas_es_idempotente_y_respeta_lo_que_existe(dentista, recepcionista):
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=MANANA_Y_TARDE)
    lunes = datetime.date(2027, 3, 22)
    # A manual 10:15 slot already there blocks the 10:00 and 10:30 ones it overlaps.
    Cita.objects.create(
        dentista=dentista,
        inicio=datetime.datetime(2027, 3, 22, 10, 15, tzinfo=SANTIAGO),
        fin=datetime.datetime(2027, 3, 22, 10, 45, tzinfo=SANTIAGO),
    )
    primera = generar_horas(actor=recepcionista.user, desde=lunes, hasta=lunes)
    assert (primera.creadas, primera.existentes) == (14, 2)
    segunda = generar_horas(actor=recepcionista.user, desde=lunes, hasta=lunes)
    assert (segunda.creadas, segunda.existentes) == (0, 16)
    assert Cita.objects.count() == 15


def test_generar_horas_en_el_cambio_de_hora_de_septiembre_2027(dentista, recepcionista):
    """Sunday 2027-09-05: the clinic's Sunday hours around midnight lose the missing hour."""
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=[Bloque(6, T(0, 0), T(2, 0))])
    dia = datetime.date(2027, 9, 5)
    resumen = generar_horas(actor=recepcionista.user, desde=dia, hasta=dia)
    assert resumen.creadas == 2
    assert [timezone.localtime(c.inicio).strftime("%H:%M") for c in Cita.objects.order_by("inicio")] == [
        "01:00", "01:30",
    ]


def test_generar_horas_no_crea_horas_pasadas(dentista, recepcionista):
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=MANANA_Y_TARDE)
    hoy = timezone.localdate()
    generar_horas(actor=recepcionista.user, desde=hoy - datetime.timedelta(days=7), hasta=hoy)
    assert not Cita.objects.filter(inicio__lte=timezone.now()).exists()


@pytest.mark.parametrize(
    ("desde", "hasta", "codigo"),
    [
        (datetime.date(2027, 3, 2), datetime.date(2027, 3, 1), "rango_invalido"),
        (datetime.date(2027, 1, 1), datetime.date(2028, 6, 1), "rango_demasiado_largo"),
        ("2027-03-01", datetime.date(2027, 3, 2), "fecha_invalida"),
    ],
)
def test_generar_horas_rechaza_rangos_malos(recepcionista, desde, hasta, codigo):
    with pytest.raises(ValidationError) as error:
        generar_horas(actor=recepcionista.user, desde=desde, hasta=hasta)
    assert error.value.code == codigo


def test_cerrar_y_reabrir_dia(recepcionista):
    dia = datetime.date(2027, 2, 10)
    cierre = cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, motivo="  Fumigación   del edificio ").cierre
    assert Cierre.objects.get().motivo == "Fumigación del edificio" and cierre.dentista_id is None
    reabrir_cierre(actor=recepcionista.user, cierre_id=cierre.pk)
    assert not Cierre.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_fallas_en_definir_horario_y_generar(probar_fallas, dentista, recepcionista):
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=MANANA_Y_TARDE)
    probar_fallas(lambda: definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=MANANA_Y_TARDE[:3]))
    assert probar_fallas(
        lambda: generar_horas(actor=recepcionista.user, desde=SEMANA_SANTA[0], hasta=SEMANA_SANTA[1])
    ) >= 1
