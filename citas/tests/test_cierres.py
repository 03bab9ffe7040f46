"""Closures, absences and blocked slots (citas.cierres): invariant 7, "no booking lands in a
closed day, an absence or a blocked slot", attacked through every door that takes a slot."""

import datetime
import threading
import time

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from citas import enlaces
from citas.cierres import (
    bloquear_hora,
    cerrar_rango,
    citas_afectadas,
    desbloquear_hora,
    proximos_cierres,
    reabrir_cierre,
)
from citas.horarios import Bloque, definir_horario, generar_horas
from citas.recordatorios import crear_recordatorios
from citas.models import Cierre, Cita, EstadoCita
from citas.selectors import filas_de_horas_libres, horas_libres, opciones_de_dentista
from citas.services import (
    asignar_cita,
    cancelar_cita,
    confirmar_cita,
    confirmar_por_enlace,
    crear_cita_disponible,
    reprogramar_cita,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from nucleo.integridad import registro
from pruebas.soporte import huella_bd

T = datetime.time
UN_DIA = datetime.timedelta(days=1)


@pytest.fixture
def dia(en_tres_dias_10):
    """The day of ``en_tres_dias_10`` (three days ahead, Santiago)."""
    return timezone.localdate(en_tres_dias_10)


@pytest.fixture
def horas(recepcionista):
    """``horas(dentista, fecha, n)``: n free 30-minute slots from 09:00 that day."""

    def crear(dentista, fecha, n=4, desde=T(9)):
        inicio = timezone.make_aware(datetime.datetime.combine(fecha, desde))
        return [
            crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                  inicio=inicio + datetime.timedelta(minutes=30 * i))
            for i in range(n)
        ]

    return crear


@pytest.fixture
def otro_dentista(crear_personal):
    return crear_personal(nombre="Luis", apellido="Muñoz")


def estados_de(citas):
    return [Cita.objects.get(pk=c.pk).estado for c in citas]


# Closing a range -----------------------------------------------------------------------------


def test_cerrar_bloquea_las_libres_del_dentista_y_deja_las_reservas(dentista, otro_dentista, recepcionista, horas,
                                                                     dia):
    libres = horas(dentista, dia)
    siguiente = horas(dentista, dia + UN_DIA, 1)
    ajenas = horas(otro_dentista, dia, 2)
    paciente = registrar_paciente(1)
    reservada = reservar_cita(user=paciente, cita_id=libres[0].pk)
    resultado = cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk,
                             tipo="vacaciones", motivo="Vacaciones de invierno")
    cierre = resultado.cierre
    assert (resultado.bloqueadas, resultado.afectadas) == (3, 1)
    assert cierre.creado_por == recepcionista.user and cierre.tipo == "vacaciones"
    assert estados_de(libres) == [EstadoCita.RESERVADA] + [EstadoCita.BLOQUEADA] * 3
    assert {c.cierre_id for c in Cita.objects.filter(estado=EstadoCita.BLOQUEADA)} == {cierre.pk}
    assert set(Cita.objects.filter(estado=EstadoCita.BLOQUEADA).values_list("bloqueo_motivo", flat=True)) == {
        "Vacaciones de invierno"}
    assert estados_de(siguiente + ajenas) == [EstadoCita.DISPONIBLE] * 3
    assert [c.pk for c in citas_afectadas(cierre)] == [reservada.pk]
    assert [(c.pk, c.afectadas) for c in proximos_cierres(desde=timezone.localdate())] == [(cierre.pk, 1)]


def test_cierre_de_la_clinica_bloquea_a_todos_los_dentistas(dentista, otro_dentista, recepcionista, horas, dia):
    citas = horas(dentista, dia, 2) + horas(otro_dentista, dia, 2)
    resultado = cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia + UN_DIA, motivo="Fumigación")
    assert resultado.bloqueadas == 4 and resultado.cierre.dentista_id is None
    assert estados_de(citas) == [EstadoCita.BLOQUEADA] * 4


@pytest.mark.parametrize("cambios, codigo", [
    ({"hasta": -1}, "rango_invalido"),
    ({"hasta": 366}, "rango_demasiado_largo"),
    ({"dentista_id": 987_654_321}, "dentista_invalido"),
    ({"dentista_id": "1; DROP TABLE"}, "dentista_invalido"),
    ({"motivo": "   "}, "motivo_requerido"),
    ({"motivo": "x" * 201}, "motivo_largo"),
    ({"tipo": "feriadote"}, "tipo_invalido"),
    ({"desde": -30, "hasta": -20}, "cierre_pasado"),
    ({"desde": "2030-01-01"}, "fecha_invalida"),
])
def test_cerrar_con_datos_malos_no_cambia_nada(dentista, recepcionista, horas, dia, cambios, codigo):
    horas(dentista, dia, 2)
    argumentos = {"desde": dia, "hasta": dia, "dentista_id": dentista.pk, "tipo": "licencia", "motivo": "Licencia"}
    for campo in ("desde", "hasta"):
        if isinstance(cambios.get(campo), int):
            cambios = {**cambios, campo: dia + datetime.timedelta(days=cambios[campo])}
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        cerrar_rango(actor=recepcionista.user, **{**argumentos, **cambios})
    codigos = [e.code for lista in getattr(error.value, "error_dict", {"": [error.value]}).values() for e in lista]
    assert codigo in codigos
    assert all(isinstance(m, str) and m for m in error.value.messages)
    assert huella_bd() == antes


# Every door that takes a slot refuses a closed one --------------------------------------------


def test_nadie_toma_una_hora_cerrada(dentista, recepcionista, horas, dia, en_tres_dias_10):
    libres = horas(dentista, dia, 3)
    destino_abierto = horas(dentista, dia + UN_DIA, 1)[0]
    paciente = registrar_paciente(1)
    reservada = reservar_cita(user=paciente, cita_id=destino_abierto.pk)
    cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk, tipo="capacitacion",
                 motivo="Congreso")
    otro = registrar_paciente(2)
    antes = huella_bd()
    intentos = [
        lambda: reservar_cita(user=otro, cita_id=libres[1].pk),
        lambda: asignar_cita(actor=recepcionista.user, cita_id=libres[1].pk, paciente_nombre="Rosa Díaz"),
        lambda: reprogramar_cita(actor=recepcionista.user, cita_id=reservada.pk, nueva_cita_id=libres[2].pk),
        lambda: reprogramar_cita(actor=paciente, cita_id=reservada.pk, nueva_cita_id=libres[2].pk),
    ]
    for intento in intentos:
        with pytest.raises(ValidationError) as error:
            intento()
        assert error.value.code == "hora_no_disponible"
        assert "ya no está disponible" in error.value.message
    assert huella_bd() == antes


def test_las_listas_de_horas_libres_no_muestran_las_cerradas_ni_las_bloqueadas(dentista, recepcionista, horas,
                                                                                dia):
    abiertas = horas(dentista, dia + UN_DIA, 2)
    cerradas = horas(dentista, dia, 2)
    bloquear_hora(actor=recepcionista.user, cita_id=abiertas[1].pk, motivo="Reunión de equipo")
    cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk, motivo="Licencia",
                 tipo="licencia")
    ahora = timezone.now()
    personal = horas_libres(desde=ahora, hasta=ahora + datetime.timedelta(days=10))
    portal = filas_de_horas_libres(dentistas=opciones_de_dentista(), ahora=ahora)
    assert [c.pk for c in personal] == [abiertas[0].pk]
    assert [fila[0] for fila in portal] == [abiertas[0].pk]
    assert not {c.pk for c in cerradas} & {c.pk for c in personal}


def test_crear_una_hora_en_un_dia_cerrado_se_rechaza(dentista, otro_dentista, recepcionista, dia, en_tres_dias_10):
    cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk, tipo="vacaciones",
                 motivo="Viaje")
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=en_tres_dias_10)
    assert error.value.code == "dia_cerrado" and "Vacaciones: Viaje" in error.value.message
    assert huella_bd() == antes
    # Another dentist that day is fine.
    assert crear_cita_disponible(actor=recepcionista.user, dentista_id=otro_dentista.pk,
                                 inicio=en_tres_dias_10).estado == EstadoCita.DISPONIBLE


def test_generar_omite_cierres_de_la_clinica_y_ausencias(dentista, otro_dentista, recepcionista):
    lunes = datetime.date(2030, 3, 4)  # a week without public holidays
    for d in (dentista, otro_dentista):
        definir_horario(actor=recepcionista.user, dentista_id=d.pk, bloques=[Bloque(n, T(9), T(10)) for n in range(5)])
    cerrar_rango(actor=recepcionista.user, desde=lunes, hasta=lunes, motivo="Aniversario")
    cerrar_rango(actor=recepcionista.user, desde=lunes + UN_DIA, hasta=lunes + 2 * UN_DIA, dentista_id=dentista.pk,
                 tipo="vacaciones", motivo="Viaje")
    resumen = generar_horas(actor=recepcionista.user, desde=lunes, hasta=lunes + 4 * UN_DIA)
    # Monday nobody; Tuesday and Wednesday only the other dentist; Thursday and Friday both.
    assert resumen.creadas == 2 * (1 * 2 + 2 * 2)
    omitidos = dict(resumen.dias_omitidos)
    assert omitidos[lunes] == "Clínica cerrada: Aniversario"
    assert omitidos[lunes + UN_DIA] == "Camila Soto: Vacaciones: Viaje"
    assert not Cita.objects.filter(estado=EstadoCita.BLOQUEADA).exists()
    assert not Cita.objects.filter(dentista=dentista, inicio__date__range=(lunes, lunes + 2 * UN_DIA)).exists()


# Freeing a slot inside a closure keeps it closed (the trigger) --------------------------------


def test_una_hora_que_queda_libre_en_un_cierre_queda_bloqueada(dentista, recepcionista, horas, dia):
    citas = horas(dentista, dia, 3)
    destino = horas(dentista, dia + UN_DIA, 1)[0]
    paciente = registrar_paciente(1)
    for cita in citas[:2]:
        asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=paciente.cliente.pk)
    cierre = cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk,
                          motivo="Licencia", tipo="licencia").cierre
    cancelar_cita(actor=recepcionista.user, cita_id=citas[0].pk, motivo="llamó por teléfono")  # freed… in a closed day
    reprogramar_cita(actor=recepcionista.user, cita_id=citas[1].pk, nueva_cita_id=destino.pk)
    for cita in citas[:2]:
        cita.refresh_from_db()
        assert (cita.estado, cita.cierre_id, cita.bloqueo_motivo) == (EstadoCita.BLOQUEADA, cierre.pk, "Licencia")
    assert citas_afectadas(cierre) == []


# Reopening --------------------------------------------------------------------------------------


def test_reabrir_devuelve_exactamente_lo_que_bloqueo(dentista, recepcionista, horas, dia):
    citas = horas(dentista, dia, 4) + horas(dentista, dia + UN_DIA, 2)
    bloquear_hora(actor=recepcionista.user, cita_id=citas[0].pk, motivo="Sillón en reparación")
    paciente = registrar_paciente(1)
    reservar_cita(user=paciente, cita_id=citas[1].pk)
    cierre = cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia + UN_DIA, dentista_id=dentista.pk,
                          tipo="vacaciones", motivo="Vacaciones").cierre
    # A clinic closure on the second day, made while the absence holds it.
    otro = cerrar_rango(actor=recepcionista.user, desde=dia + UN_DIA, hasta=dia + UN_DIA, motivo="Feriado local").cierre
    resultado = reabrir_cierre(actor=recepcionista.user, cierre_id=cierre.pk)
    assert not Cierre.objects.filter(pk=cierre.pk).exists()
    assert resultado.liberadas == 2
    assert estados_de(citas) == [EstadoCita.BLOQUEADA, EstadoCita.RESERVADA, EstadoCita.DISPONIBLE,
                                 EstadoCita.DISPONIBLE, EstadoCita.BLOQUEADA, EstadoCita.BLOQUEADA]
    assert Cita.objects.get(pk=citas[0].pk).bloqueo_motivo == "Sillón en reparación"
    assert {Cita.objects.get(pk=c.pk).cierre_id for c in citas[4:]} == {otro.pk}
    assert resultado.dias_sin_horas == []
    with pytest.raises(ValidationError) as error:
        reabrir_cierre(actor=recepcionista.user, cierre_id=cierre.pk)
    assert error.value.code == "cierre_no_encontrado"


def test_reabrir_informa_los_dias_sin_horas(dentista, recepcionista, horas, dia):
    horas(dentista, dia, 1)
    cierre = cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia + 2 * UN_DIA, dentista_id=dentista.pk,
                          motivo="Capacitación", tipo="capacitacion").cierre
    resultado = reabrir_cierre(actor=recepcionista.user, cierre_id=cierre.pk)
    assert resultado.dias_sin_horas == [dia + UN_DIA, dia + 2 * UN_DIA]


# A single blocked slot ----------------------------------------------------------------------------


def test_bloquear_y_desbloquear_una_hora(dentista, recepcionista, horas, dia):
    [cita] = horas(dentista, dia, 1)
    with pytest.raises(ValidationError) as error:
        bloquear_hora(actor=recepcionista.user, cita_id=cita.pk, motivo="  ")
    assert error.value.error_dict["motivo"][0].code == "motivo_requerido"
    bloqueada = bloquear_hora(actor=recepcionista.user, cita_id=cita.pk, motivo="Reunión")
    assert (bloqueada.estado, bloqueada.bloqueo_motivo, bloqueada.cierre_id) == (EstadoCita.BLOQUEADA, "Reunión", None)
    paciente = registrar_paciente(1)
    with pytest.raises(ValidationError):
        reservar_cita(user=paciente, cita_id=cita.pk)
    with pytest.raises(ValidationError) as error:
        bloquear_hora(actor=recepcionista.user, cita_id=cita.pk, motivo="Otra vez")
    assert error.value.code == "hora_no_disponible"
    with pytest.raises(ValidationError) as error:
        bloquear_hora(actor=paciente, cita_id=cita.pk, motivo="Yo")
    assert error.value.code == "no_autorizado"
    libre = desbloquear_hora(actor=recepcionista.user, cita_id=cita.pk)
    assert (libre.estado, libre.bloqueo_motivo) == (EstadoCita.DISPONIBLE, "")
    assert reservar_cita(user=paciente, cita_id=cita.pk).estado == EstadoCita.RESERVADA


def test_una_hora_de_un_cierre_no_se_desbloquea_sola(dentista, recepcionista, horas, dia):
    citas = horas(dentista, dia, 2)
    bloquear_hora(actor=recepcionista.user, cita_id=citas[0].pk, motivo="Reunión")
    cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, motivo="Corte de luz programado")
    antes = huella_bd()
    for cita in citas:  # the closure's own, and one blocked before on its own (still a closed day)
        with pytest.raises(ValidationError) as error:
            desbloquear_hora(actor=recepcionista.user, cita_id=cita.pk)
        assert error.value.code == "cierre_bloqueado" and "Corte de luz" in error.value.message
    assert huella_bd() == antes


# The one-tap link of a reminder sent before the closure ------------------------------------------


def test_el_enlace_de_confirmar_de_un_dia_cerrado_no_confirma(dentista, recepcionista, horas, dia, settings):
    [cita] = horas(dentista, dia, 1)
    paciente = registrar_paciente(1)
    cita = reservar_cita(user=paciente, cita_id=cita.pk)
    token = enlaces.token_de(cita, "confirmar")  # the reminder went out
    cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk, tipo="licencia",
                 motivo="Licencia médica por cirugía")
    situacion = enlaces.situacion_del_enlace(token=token)
    assert situacion.estado == enlaces.NO_PERMITIDO and situacion.codigo == "dia_cerrado"
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        confirmar_por_enlace(token=token)
    assert error.value.code == "dia_cerrado"
    assert "no atenderá ese día" in error.value.message and settings.CLINICA_TELEFONO in error.value.message
    assert "cirugía" not in error.value.message  # the closure's reason stays with the clinic
    assert huella_bd() == antes
    assert Cita.objects.get(pk=cita.pk).estado == EstadoCita.RESERVADA


def test_confirmar_en_el_portal_una_cita_de_un_dia_cerrado_no_confirma(dentista, recepcionista, horas, dia):
    propia, ajena = horas(dentista, dia, 2)
    paciente, otro = registrar_paciente(1), registrar_paciente(2)
    propia = reservar_cita(user=paciente, cita_id=propia.pk)
    ajena = reservar_cita(user=otro, cita_id=ajena.pk)
    cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk, tipo="licencia",
                 motivo="Licencia médica")
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        confirmar_cita(actor=paciente, cita_id=propia.pk)
    assert error.value.code == "dia_cerrado" and "no atenderá ese día" in error.value.message
    # Someone else's booking still looks like a missing one, closed day or not.
    with pytest.raises(ValidationError) as error:
        confirmar_cita(actor=paciente, cita_id=ajena.pk)
    assert error.value.code == "cita_no_encontrada"
    assert huella_bd() == antes
    # Staff may still confirm (they are the ones moving it, and know why).
    assert confirmar_cita(actor=recepcionista.user, cita_id=propia.pk).estado == EstadoCita.CONFIRMADA


# Integrity check ------------------------------------------------------------------------------


def test_verificar_integridad_encuentra_una_hora_libre_en_un_cierre(dentista, recepcionista, horas, dia):
    [cita] = horas(dentista, dia, 1)
    cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, motivo="Fumigación")
    def hallazgo():
        [uno] = [h for h in registro.ejecutar(limite=10, etiquetas=["citas"]).hallazgos
                 if h.codigo == "hora_libre_en_cierre"]
        return uno

    assert hallazgo().cantidad == 0
    with connection.cursor() as cursor:  # what only a bypass of the trigger could do
        cursor.execute("SET session_replication_role = replica")  # no triggers fire
        cursor.execute("UPDATE citas_cita SET estado = 'disponible', bloqueo_motivo = '', cierre_id = NULL "
                       "WHERE id = %s", [cita.pk])
        cursor.execute("SET session_replication_role = DEFAULT")
    assert hallazgo().cantidad == 1 and hallazgo().invariante == 7


# Under real concurrency ---------------------------------------------------------------------------


def _en_hilos(funciones):
    """Run each function in its own thread and connection, all released at once."""
    barrera = threading.Barrier(len(funciones))
    resultados = [None] * len(funciones)

    def correr(i, funcion):
        try:
            barrera.wait()
            resultados[i] = ("ok", funcion())
        except ValidationError as error:
            resultados[i] = (error.code, None)
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr, args=(i, f)) for i, f in enumerate(funciones)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    return resultados


@pytest.mark.django_db(transaction=True)
def test_cerrar_mientras_los_pacientes_reservan(dentista, recepcionista, en_tres_dias_10):
    dia = timezone.localdate(en_tres_dias_10)
    inicio = timezone.make_aware(datetime.datetime.combine(dia, T(8)))
    citas = [crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                   inicio=inicio + datetime.timedelta(minutes=20 * i), duracion_minutos=20)
             for i in range(24)]
    pacientes = [registrar_paciente(n) for n in range(12)]
    # Each patient tries two slots, one after the other, while the closure lands among them.
    reservas = [lambda p=p, i=i: [reservar_cita(user=p, cita_id=citas[2 * i].pk),
                                  reservar_cita(user=p, cita_id=citas[2 * i + 1].pk)]
                for i, p in enumerate(pacientes)]
    cerrar = lambda: cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk,  # noqa: E731
                                  tipo="licencia", motivo="Licencia")
    resultados = _en_hilos([*reservas[:6], cerrar, *reservas[6:]])
    cierre = Cierre.objects.get()
    estados = dict(Cita.objects.filter(pk__in=[c.pk for c in citas]).values_list("pk", "estado"))
    assert set(estados.values()) <= {EstadoCita.BLOQUEADA, EstadoCita.RESERVADA}
    reservadas = {pk for pk, estado in estados.items() if estado == EstadoCita.RESERVADA}
    assert reservadas == {c.pk for c in citas_afectadas(cierre)}
    assert [r[0] for r in resultados].count("ok") >= 1  # the closure itself
    # No slot was ever booked after the closure blocked it: in each slot's history, "bloqueada"
    # is never followed by anything else.
    CitaEvent = apps.get_model("citas", "CitaEvent")
    for cita in citas:
        historia = list(CitaEvent.objects.filter(pgh_obj_id=cita.pk).order_by("pgh_id").values_list("estado", flat=True))
        if EstadoCita.BLOQUEADA in historia:
            assert set(historia[historia.index(EstadoCita.BLOQUEADA):]) == {EstadoCita.BLOQUEADA}


@pytest.mark.django_db(transaction=True)
def test_cerrar_mientras_se_generan_horas_no_deja_libres_en_el_rango(dentista, recepcionista):
    lunes = datetime.date(2030, 3, 4)
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk,
                    bloques=[Bloque(n, T(8), T(20), duracion_minutos=10) for n in range(7)])
    for _ in range(3):
        resultados = _en_hilos([
            lambda: generar_horas(actor=recepcionista.user, desde=lunes, hasta=lunes + 6 * UN_DIA),
            lambda: cerrar_rango(actor=recepcionista.user, desde=lunes + 2 * UN_DIA, hasta=lunes + 3 * UN_DIA,
                                 dentista_id=dentista.pk, tipo="vacaciones", motivo="Viaje"),
        ])
        assert [r[0] for r in resultados] == ["ok", "ok"]
        libres_en_el_rango = Cita.objects.filter(
            dentista=dentista, estado=EstadoCita.DISPONIBLE,
            inicio__gte=timezone.make_aware(datetime.datetime.combine(lunes + 2 * UN_DIA, T(0))),
            inicio__lt=timezone.make_aware(datetime.datetime.combine(lunes + 4 * UN_DIA, T(0))),
        )
        assert not libres_en_el_rango.exists()
        for cierre in Cierre.objects.all():
            reabrir_cierre(actor=recepcionista.user, cierre_id=cierre.pk)
        Cita.objects.all().delete()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("creacion", ["generar", "crear"])
def test_crear_horas_espera_a_un_cierre_en_curso(dentista, recepcionista, monkeypatch, creacion):
    """The closure holds its transaction open after blocking the free slots (held here, on
    purpose, for half a second); slots created meanwhile must wait for it (the lock on the
    dentist) and then skip the closed days, not land free inside them."""
    lunes = datetime.date(2030, 3, 4)
    definir_horario(actor=recepcionista.user, dentista_id=dentista.pk, bloques=[Bloque(0, T(9), T(10))])
    bloqueo_hecho = threading.Event()
    contar = QuerySet.count

    def contar_y_esperar(self):
        resultado = contar(self)
        if threading.current_thread().name == "cierre":  # its count of bookings, after the UPDATE
            bloqueo_hecho.set()
            time.sleep(0.5)
        return resultado

    monkeypatch.setattr(QuerySet, "count", contar_y_esperar)
    resultados = {}

    def en_hilo(nombre, funcion):
        def correr():
            try:
                resultados[nombre] = funcion()
            except ValidationError as error:
                resultados[nombre] = error.code
            finally:
                connection.close()
        return threading.Thread(target=correr, name=nombre)

    cierre = en_hilo("cierre", lambda: cerrar_rango(actor=recepcionista.user, desde=lunes, hasta=lunes,
                                                     dentista_id=dentista.pk, tipo="vacaciones", motivo="Viaje"))
    if creacion == "generar":
        crear = en_hilo("crear", lambda: generar_horas(actor=recepcionista.user, desde=lunes, hasta=lunes))
    else:
        inicio = timezone.make_aware(datetime.datetime.combine(lunes, T(9)))
        crear = en_hilo("crear", lambda: crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                                               inicio=inicio))
    cierre.start()
    assert bloqueo_hecho.wait(10)
    crear.start()
    cierre.join()
    crear.join()
    assert not Cita.objects.filter(estado=EstadoCita.DISPONIBLE).exists()
    if creacion == "generar":
        assert resultados["crear"].creadas == 0
        assert dict(resultados["crear"].dias_omitidos) == {lunes: "Camila Soto: Vacaciones: Viaje"}
    else:
        assert resultados["crear"] == "dia_cerrado"


def test_no_hay_recordatorio_para_una_cita_en_un_dia_cerrado(dentista, recepcionista, horas, dia):
    [cita] = horas(dentista, dia, 1)
    cita = reservar_cita(user=registrar_paciente(1), cita_id=cita.pk)
    cierre = cerrar_rango(actor=recepcionista.user, desde=dia, hasta=dia, dentista_id=dentista.pk,
                          tipo="licencia", motivo="Licencia").cierre
    antes_del_recordatorio = cita.inicio - datetime.timedelta(hours=2)
    assert crear_recordatorios(ahora=antes_del_recordatorio) == 0
    reabrir_cierre(actor=recepcionista.user, cierre_id=cierre.pk)  # reception kept the day after all
    assert crear_recordatorios(ahora=antes_del_recordatorio) >= 1


@pytest.mark.django_db(transaction=True)
def test_la_migracion_pasa_los_dias_cerrados_a_cierres_que_bloquean(dentista, en_tres_dias_10):
    """0008_cierres: each old closed day becomes a clinic closure, and its free slots are blocked."""
    from django.db.migrations.executor import MigrationExecutor

    antes, despues = [("citas", "0007_cancelaciones_y_deshacer")], [("citas", "0008_cierres")]
    ejecutor = MigrationExecutor(connection)
    ejecutor.migrate(antes)
    viejas = ejecutor.loader.project_state(antes).apps
    dia = timezone.localdate(en_tres_dias_10)
    viejas.get_model("citas", "DiaCerrado").objects.create(fecha=dia, motivo="")
    CitaVieja = viejas.get_model("citas", "Cita")
    cerrada = CitaVieja.objects.create(dentista_id=dentista.pk, inicio=en_tres_dias_10,
                                       fin=en_tres_dias_10 + datetime.timedelta(minutes=30))
    abierta = CitaVieja.objects.create(dentista_id=dentista.pk, inicio=en_tres_dias_10 + UN_DIA,
                                       fin=en_tres_dias_10 + UN_DIA + datetime.timedelta(minutes=30))
    ejecutor = MigrationExecutor(connection)
    ejecutor.loader.build_graph()
    ejecutor.migrate(despues)
    try:
        cierre = Cierre.objects.get()
        assert (cierre.desde, cierre.hasta, cierre.dentista_id, cierre.motivo) == (dia, dia, None, "Clínica cerrada")
        # Only the columns of that schema (later migrations add others to citas_cita).
        assert Cita.objects.values_list("estado", "cierre_id").get(pk=cerrada.pk) == (EstadoCita.BLOQUEADA, cierre.pk)
        assert Cita.objects.values_list("estado", flat=True).get(pk=abierta.pk) == EstadoCita.DISPONIBLE
    finally:
        # Back to the latest schema: the tests after this one need the later migrations' constraints.
        ejecutor = MigrationExecutor(connection)
        ejecutor.loader.build_graph()
        ejecutor.migrate(ejecutor.loader.graph.leaf_nodes())
