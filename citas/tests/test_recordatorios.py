"""Reminders (citas.recordatorios): who gets one, when (24/72 h windows in UTC, DST,
catch-up after downtime), by which channel, exactly once, with links that work."""

import datetime
import re
import threading
import zoneinfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import (
    asignar_cita,
    cancelar_cita,
    confirmar_cita,
    crear_cita_disponible,
    reprogramar_cita,
    reservar_cita,
)
from citas.tests.test_services import registrar_paciente
from pacientes.models import ConsentimientoCanal, MedioConsentimiento
from notificaciones.models import Canal
from citas import recordatorios
from notificaciones.models import EstadoNotificacion, Notificacion
from citas.recordatorios import crear_recordatorios, tipos_de_recordatorio
from pruebas.soporte import ejecutar_worker
from pacientes.services import desactivar_cliente

SANTIAGO = zoneinfo.ZoneInfo("America/Santiago")
URL_ENLACE = re.compile(r"https?://[^\s]+/portal/r/[^/\s]+/")


@pytest.fixture
def ahora():
    """The run's clock, on a whole minute so windows are easy to read."""
    return timezone.now().replace(second=0, microsecond=0)


def reservada_hace_una_semana(cita, ahora):
    """Test setup: the booking was made a week before ``ahora``, before any reminder window
    opened (a booking made inside a window gets no reminder of that kind: see below)."""
    Cita.objects.filter(pk=cita.pk).update(reservada_en=ahora - datetime.timedelta(days=7))
    return cita


@pytest.fixture
def agenda(dentista, recepcionista, ahora, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 100  # many bookings of one patient; the cap has its own tests
    """``agenda(horas, paciente=None, motivo="", reciente=False)``: a slot ``horas`` after
    ``ahora`` booked by ``paciente`` (a portal User) a week ago (``reciente``: right now), or
    left free when None."""
    desfase = {"min": 0}

    def crear(horas, paciente=None, motivo="Control", reciente=False):
        # A few minutes apart so one dentist's slots never overlap.
        desfase["min"] += 1
        inicio = ahora + datetime.timedelta(hours=horas, minutes=desfase["min"] % 20)
        cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio,
                                     duracion_minutos=5)
        if paciente is None:
            return cita
        cita = reservar_cita(user=paciente, cita_id=cita.pk, motivo=motivo)
        return cita if reciente else reservada_hace_una_semana(cita, ahora)

    return crear


def _recordatorios(**filtro):
    return Notificacion.objects.filter(plantilla="recordatorio", **filtro)


def _enlaces(texto):
    return URL_ENLACE.findall(texto)


# Who gets one --------------------------------------------------------------------------------


def test_citas_vivas_con_contacto_reciben_una(agenda, recepcionista, ahora):
    reservada = agenda(3, registrar_paciente(1))
    confirmada = agenda(4, registrar_paciente(2))
    confirmar_cita(actor=recepcionista.user, cita_id=confirmada.pk)
    agenda(5)  # free
    cancelada = agenda(6, registrar_paciente(3))
    cancelar_cita(actor=recepcionista.user, cita_id=cancelada.pk, por_clinica=True, motivo="la clínica no puede atender")
    en_espera = agenda(7, registrar_paciente(4))
    # Straight into the state: marcar_llegada only works on the appointment's day, and in 7 hours
    # it may be tomorrow.
    Cita.objects.filter(pk=en_espera.pk).update(estado=EstadoCita.EN_ESPERA)
    inactivo = registrar_paciente(5)
    agenda(8, inactivo)
    desactivar_cliente(actor=recepcionista.user, cliente_id=inactivo.cliente.pk)
    sin_ficha = reservada_hace_una_semana(asignar_cita(
        actor=recepcionista.user, cita_id=agenda(9).pk, paciente_nombre="Rosa Díaz Vera",
        paciente_email="rosa@correo.example"), ahora)
    reservada_hace_una_semana(
        asignar_cita(actor=recepcionista.user, cita_id=agenda(10).pk, paciente_nombre="Sin Contacto"), ahora)
    pasada = agenda(2, registrar_paciente(6))
    # Started an hour before the run: not a reminder any more.
    Cita.objects.filter(pk=pasada.pk).update(inicio=ahora - datetime.timedelta(hours=1),
                                             fin=ahora - datetime.timedelta(minutes=55))

    assert crear_recordatorios(ahora=ahora) == 3
    assert sorted(_recordatorios().values_list("cita_id", flat=True)) == sorted(
        [reservada.pk, confirmada.pk, sin_ficha.pk]
    )
    assert all(n.canal == Canal.EMAIL for n in _recordatorios())
    # Someone without a record gets the reminder without links (nothing to bind them to).
    sin_enlaces = _recordatorios().get(cita_id=sin_ficha.pk)
    assert _enlaces(sin_enlaces.cuerpo) == [] and "Hola Rosa:" in sin_enlaces.cuerpo
    # A confirmed appointment is not asked to confirm again.
    texto = _recordatorios().get(cita_id=confirmada.pk).cuerpo
    assert "ya está confirmada" in texto and len(_enlaces(texto)) == 1


def test_el_contacto_sale_de_la_ficha_actual(agenda, ahora):
    from pacientes.models import Cliente

    user = registrar_paciente(1)
    cita = agenda(3, user)
    Cliente.objects.filter(pk=user.cliente.pk).update(email="nuevo@correo.example")
    crear_recordatorios(ahora=ahora)
    assert _recordatorios().get(cita_id=cita.pk).destinatario == "nuevo@correo.example"


# When ----------------------------------------------------------------------------------------


def test_ventana_de_24_horas_por_defecto(agenda, ahora):
    paciente = registrar_paciente(1)
    dentro = agenda(23.5, paciente)
    agenda(24.5, paciente)
    assert tipos_de_recordatorio() == [24]
    assert crear_recordatorios(ahora=ahora) == 1
    assert _recordatorios().get().cita_id == dentro.pk
    assert ":24h:" in _recordatorios().get().clave_idempotencia


def test_ventanas_de_72_y_24_horas_solo_la_mas_cercana(agenda, ahora, settings):
    settings.NOTIFICACIONES_RECORDATORIOS_H = "72,24"
    paciente = registrar_paciente(1)
    a_10 = agenda(10, paciente)
    a_30 = agenda(30, paciente)
    agenda(80, paciente)
    assert crear_recordatorios(ahora=ahora) == 2
    claves = dict(_recordatorios().values_list("cita_id", "clave_idempotencia"))
    assert ":24h:" in claves[a_10.pk] and ":72h:" in claves[a_30.pk]
    # 7 hours later the 30-hour one enters the 24 h window: its second reminder.
    assert crear_recordatorios(ahora=ahora + datetime.timedelta(hours=7)) == 1
    assert _recordatorios(cita_id=a_30.pk).count() == 2
    texto = _recordatorios(cita_id=a_30.pk).get(clave_idempotencia__contains=":72h:").cuerpo
    assert "Le recordamos su hora" in texto


def test_tras_una_caida_se_crean_las_perdidas_sin_repetir(agenda, ahora):
    paciente = registrar_paciente(1)
    citas = {h: agenda(h, paciente) for h in (23, 25, 26.5, 28)}
    assert crear_recordatorios(ahora=ahora) == 1
    # Down for 3 hours: 25 and 26.5 became due meanwhile; 28 is still outside 24 h.
    tras_la_caida = ahora + datetime.timedelta(hours=3)
    assert crear_recordatorios(ahora=tras_la_caida) == 2
    assert crear_recordatorios(ahora=tras_la_caida) == 0
    assert [_recordatorios(cita_id=citas[h].pk).count() for h in (23, 25, 26.5, 28)] == [1, 1, 1, 0]


def test_tras_una_caida_larga_solo_el_tipo_mas_cercano(agenda, ahora, settings):
    settings.NOTIFICACIONES_RECORDATORIOS_H = (72, 24)
    paciente = registrar_paciente(1)
    a_60 = agenda(60, paciente)
    a_73 = agenda(73, paciente)
    assert crear_recordatorios(ahora=ahora) == 1  # a_60's 72 h one; a_73 is not due yet
    # Down for two days: both are inside 24 h now. a_73 never got its 72 h reminder, and does
    # not get it now either: one reminder, the 24 h one.
    assert crear_recordatorios(ahora=ahora + datetime.timedelta(hours=50)) == 2
    assert [c.split(":")[2] for c in _recordatorios(cita_id=a_73.pk).values_list("clave_idempotencia", flat=True)] == ["24h"]
    assert sorted(c.split(":")[2] for c in _recordatorios(cita_id=a_60.pk).values_list("clave_idempotencia", flat=True)) == ["24h", "72h"]


def test_segunda_corrida_no_crea_nada(agenda, ahora):
    for n in range(3):
        agenda(3 + n, registrar_paciente(n + 1))
    assert crear_recordatorios(ahora=ahora) == 3
    assert crear_recordatorios(ahora=ahora) == 0
    assert crear_recordatorios(ahora=ahora + datetime.timedelta(minutes=10)) == 0
    assert _recordatorios().count() == 3


def test_cita_movida_recibe_otro_recordatorio(agenda, recepcionista, ahora):
    """Moved days ago (before the new time's window opened): the new time gets its reminder."""
    cita = agenda(5, registrar_paciente(1))
    crear_recordatorios(ahora=ahora)
    nueva = reprogramar_cita(actor=recepcionista.user, cita_id=cita.pk, nueva_cita_id=agenda(6).pk)
    reservada_hace_una_semana(nueva, ahora)
    assert crear_recordatorios(ahora=ahora) == 1
    assert _recordatorios(cita_id=nueva.pk).count() == 1


def test_en_lotes_con_empates_de_hora(monkeypatch, crear_personal, recepcionista, ahora):
    """Many dentists at the same time: the keyset (inicio, id) neither skips nor repeats."""
    monkeypatch.setattr(recordatorios, "LOTE", 2)
    inicio = ahora + datetime.timedelta(hours=5)
    citas = []
    for n in range(5):
        dentista = crear_personal(username=f"dentista_lote_{n}")
        libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
        citas.append(reservada_hace_una_semana(reservar_cita(user=registrar_paciente(n + 1), cita_id=libre.pk), ahora))
    assert crear_recordatorios(ahora=ahora) == 5
    assert sorted(_recordatorios().values_list("cita_id", flat=True)) == sorted(c.pk for c in citas)


def test_en_lotes_por_tramos_de_tiempo(monkeypatch, agenda, ahora):
    monkeypatch.setattr(recordatorios, "LOTE", 2)
    citas = [agenda(3 + n * 2, registrar_paciente(n + 1)) for n in range(7)]
    assert len(recordatorios._tramos(ahora, ahora + datetime.timedelta(hours=24))) == 4
    assert crear_recordatorios(ahora=ahora) == 7
    assert sorted(_recordatorios().values_list("cita_id", flat=True)) == sorted(c.pk for c in citas)
    assert crear_recordatorios(ahora=ahora) == 0


@pytest.mark.parametrize("dia", [datetime.date(2026, 9, 7), datetime.date(2027, 4, 4)])
def test_cambio_de_horario_24_horas_reales(dia, dentista):
    """Around Chile's DST changes (2026-09-06 and 2027-04-04) the reminder is due exactly 24
    real hours before, not at the same wall-clock time the day before."""
    user = registrar_paciente(1)
    inicio = datetime.datetime.combine(dia, datetime.time(10, 0), tzinfo=SANTIAGO)
    # Created as stored rows: the 2026 date is already past for the booking services.
    cita = Cita.objects.create(
        dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30), estado=EstadoCita.RESERVADA,
        cliente=user.cliente, paciente_nombre=user.cliente.nombre_completo, paciente_email=user.cliente.email,
    )
    debido = inicio.astimezone(datetime.UTC) - datetime.timedelta(hours=24)
    mismo_reloj = datetime.datetime.combine(dia - datetime.timedelta(days=1), datetime.time(10, 0), tzinfo=SANTIAGO)
    if dia.month == 4:  # the clock went back that night: the day before at 10:00 is 25 hours before
        # (Subtracting in UTC: Python subtracts two Santiago datetimes on the wall clock.)
        assert inicio.astimezone(datetime.UTC) - mismo_reloj.astimezone(datetime.UTC) == datetime.timedelta(hours=25)
        assert crear_recordatorios(ahora=mismo_reloj) == 0
    assert crear_recordatorios(ahora=debido - datetime.timedelta(minutes=1)) == 0
    assert crear_recordatorios(ahora=debido + datetime.timedelta(minutes=1)) == 1
    recordatorio = _recordatorios().get(cita_id=cita.pk)
    # The text names the Santiago time.
    assert "a las 10:00" in recordatorio.asunto


# Booked inside the window: the confirmation is enough ------------------------------------------


def test_reservada_30_horas_antes_recibe_el_de_24(agenda, ahora):
    """Booked now for 30 hours ahead (through the service: ``reservada_en`` is now). Seven
    hours later the appointment is 23 hours away: the 24 h reminder goes out."""
    cita = agenda(30, registrar_paciente(1), reciente=True)
    assert Cita.objects.get(pk=cita.pk).reservada_en is not None
    assert crear_recordatorios(ahora=ahora) == 0  # not due yet
    assert crear_recordatorios(ahora=ahora + datetime.timedelta(hours=7)) == 1
    assert ":24h:" in _recordatorios().get(cita_id=cita.pk).clave_idempotencia


@pytest.mark.parametrize("horas", [20, 3, 23.9])
def test_reservada_dentro_de_la_ventana_no_recibe_recordatorio(agenda, ahora, horas):
    """Booked now for 20 hours ahead: the window had opened 4 hours before the booking, and the
    booking's confirmation just went out. No reminder now, nor at any later run."""
    cita = agenda(horas, registrar_paciente(1), reciente=True)
    assert Notificacion.objects.filter(cita_id=cita.pk, plantilla="reserva_confirmada").exists()
    for despues in (0, 10, 60 * (horas - 1)):
        assert crear_recordatorios(ahora=ahora + datetime.timedelta(minutes=despues)) == 0
    assert not _recordatorios(cita_id=cita.pk).exists()


def test_asignada_por_recepcion_dentro_de_la_ventana(agenda, recepcionista, ahora):
    asignar_cita(actor=recepcionista.user, cita_id=agenda(5).pk, paciente_nombre="Rosa Díaz Vera",
                 paciente_email="rosa@correo.example")
    assert crear_recordatorios(ahora=ahora) == 0


def test_movida_dentro_de_la_ventana_no_recibe_recordatorio(agenda, recepcionista, ahora):
    """Booked days ago for 40 hours ahead; moved now to 10 hours ahead: the move's notice is
    the reminder. Moved now to 35 hours ahead instead: the new time gets its 24 h one later."""
    paciente, otro = registrar_paciente(1), registrar_paciente(2)
    cita = agenda(40, paciente)
    nueva = reprogramar_cita(actor=recepcionista.user, cita_id=cita.pk, nueva_cita_id=agenda(10).pk)
    assert Notificacion.objects.filter(cita_id=nueva.pk, plantilla="cita_reprogramada").exists()
    lejos = reprogramar_cita(actor=recepcionista.user, cita_id=agenda(41, otro).pk, nueva_cita_id=agenda(35).pk)
    assert crear_recordatorios(ahora=ahora) == 0
    assert crear_recordatorios(ahora=ahora + datetime.timedelta(hours=9)) == 0
    assert crear_recordatorios(ahora=ahora + datetime.timedelta(hours=12)) == 1
    assert _recordatorios().get().cita_id == lejos.pk


def test_la_hora_liberada_olvida_cuando_se_reservo(agenda, recepcionista, ahora):
    """A cancelled (freed) slot clears ``reservada_en``; whoever books it next is judged by
    their own booking. A move clears the old slot too."""
    paciente = registrar_paciente(1)
    cita = agenda(30, paciente)
    cancelar_cita(actor=paciente, cita_id=cita.pk)
    assert Cita.objects.get(pk=cita.pk).reservada_en is None
    movida = agenda(31, registrar_paciente(2))
    reprogramar_cita(actor=recepcionista.user, cita_id=movida.pk, nueva_cita_id=agenda(32).pk)
    assert Cita.objects.get(pk=movida.pk).reservada_en is None
    por_la_clinica = agenda(33, registrar_paciente(3))
    cancelar_cita(actor=recepcionista.user, cita_id=por_la_clinica.pk, por_clinica=True, motivo="la clínica no puede atender")
    assert Cita.objects.get(pk=por_la_clinica.pk).reservada_en is not None  # still the patient's


def test_limite_exacto_de_la_ventana(agenda, ahora):
    """Booked exactly H hours before: the window opens with the booking, the reminder is sent;
    one second later it is not. Each kind on its own: booked 50 h before, the 72 h kind is
    skipped and the 24 h one sent."""
    paciente = registrar_paciente(1)
    justo = agenda(10, paciente)
    tarde = agenda(11, paciente)
    Cita.objects.filter(pk=justo.pk).update(reservada_en=justo.inicio - datetime.timedelta(hours=24))
    Cita.objects.filter(pk=tarde.pk).update(reservada_en=tarde.inicio - datetime.timedelta(hours=24, seconds=-1))
    assert crear_recordatorios(ahora=ahora) == 1
    assert _recordatorios().get().cita_id == justo.pk


def test_con_dos_tipos_solo_se_omite_el_ya_abierto(agenda, ahora, settings):
    settings.NOTIFICACIONES_RECORDATORIOS_H = (72, 24)
    cita = agenda(50, registrar_paciente(1), reciente=True)
    assert crear_recordatorios(ahora=ahora) == 0  # the 72 h window had opened 22 hours before
    assert crear_recordatorios(ahora=ahora + datetime.timedelta(hours=27)) == 1
    assert ":24h:" in _recordatorios().get(cita_id=cita.pk).clave_idempotencia


@pytest.mark.parametrize(
    ("inicio", "reservada", "enviado"),
    [
        # 2026-09-06 10:00 (UTC-3): the day before at 10:00 was UTC-4, only 23 real hours before.
        ((2026, 9, 6, 10, 0), (2026, 9, 5, 10, 0), False),
        ((2026, 9, 6, 10, 0), (2026, 9, 5, 9, 0), True),  # exactly 24 real hours
        # 2027-04-04 10:00 (UTC-4): the day before at 10:30 was UTC-3, 24.5 real hours before
        # though the wall clock says 23.5.
        ((2027, 4, 4, 10, 0), (2027, 4, 3, 10, 30), True),
        ((2027, 4, 4, 10, 0), (2027, 4, 3, 11, 30), False),  # 23.5 real hours
    ],
)
def test_reservada_en_el_cambio_de_horario(dentista, inicio, reservada, enviado):
    """The window opens 24 real hours before the start (UTC arithmetic), not at the same
    wall-clock time the day before."""
    user = registrar_paciente(1)
    inicio = datetime.datetime(*inicio, tzinfo=SANTIAGO)
    reservada = datetime.datetime(*reservada, tzinfo=SANTIAGO)
    # Stored rows: those dates are past for the booking services.
    cita = Cita.objects.create(
        dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=30), estado=EstadoCita.RESERVADA,
        cliente=user.cliente, paciente_nombre=user.cliente.nombre_completo, paciente_email=user.cliente.email,
        reservada_en=reservada,
    )
    reales = inicio.astimezone(datetime.UTC) - reservada.astimezone(datetime.UTC)
    assert (reales >= datetime.timedelta(hours=24)) is enviado
    assert crear_recordatorios(ahora=inicio - datetime.timedelta(hours=2)) == (1 if enviado else 0)
    assert _recordatorios(cita_id=cita.pk).exists() is enviado


# Channels ------------------------------------------------------------------------------------


def test_canal_por_preferencia_y_consentimiento(agenda, ahora, settings):
    con_whatsapp = agenda(3, registrar_paciente(1, canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True))
    retiro = registrar_paciente(2, canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True)
    # Prefers WhatsApp but withdrew the consent later (e.g. answered BAJA).
    ConsentimientoCanal.objects.filter(cliente__user=retiro).update(
        revocado_en=timezone.now(), revocado_medio=MedioConsentimiento.RESPUESTA)
    sin_consentimiento = agenda(4, retiro)
    con_sms = agenda(5, registrar_paciente(3, canal_preferido=Canal.SMS, acepta_sms=True))
    assert crear_recordatorios(ahora=ahora) == 5
    canales = lambda c: sorted(_recordatorios(cita_id=c.pk).values_list("canal", flat=True))  # noqa: E731
    assert canales(con_whatsapp) == [Canal.EMAIL, Canal.WHATSAPP]
    assert canales(sin_consentimiento) == [Canal.EMAIL]
    assert canales(con_sms) == [Canal.EMAIL, Canal.SMS]
    whatsapp = _recordatorios(cita_id=con_whatsapp.pk, canal=Canal.WHATSAPP).get()
    assert whatsapp.destinatario == "+56960000001"
    assert len(_enlaces(whatsapp.cuerpo)) == 2
    # The WhatsApp template's values: clinic, date, time, both links, phone, then (issue 14, last so
    # approved templates keep their positions) dentist and address; never the reason.
    assert len(whatsapp.variables) == 8 and whatsapp.variables[3].endswith("/") and "/portal/r/" in whatsapp.variables[4]
    assert whatsapp.variables[6:] == [con_whatsapp.dentista.nombre, settings.CLINICA_DIRECCION]


def test_texto_neutral_con_clinica_fecha_hora_y_politica(agenda, ahora, settings):
    cita = agenda(3, registrar_paciente(1, canal_preferido=Canal.SMS, acepta_sms=True), motivo="Extracción de muela")
    crear_recordatorios(ahora=ahora)
    local = timezone.localtime(cita.inicio)
    for aviso in _recordatorios(cita_id=cita.pk):
        texto = f"{aviso.asunto} {aviso.cuerpo} {' '.join(aviso.variables)}"
        assert "Extracción" not in texto and "muela" not in texto
        assert settings.CLINICA_NOMBRE in texto and f"{local:%H:%M}" in texto
    correo = _recordatorios(cita_id=cita.pk, canal=Canal.EMAIL).get()
    assert correo.asunto.startswith(f"{settings.CLINICA_NOMBRE}: recordatorio de su hora")
    assert "Hola Paciente:" in correo.cuerpo and "Número" not in correo.cuerpo  # first name only
    assert "Camila Soto" in correo.cuerpo
    assert f"hasta {settings.CLINICA_PLAZO_CAMBIOS_H} horas antes" in correo.cuerpo
    assert settings.CLINICA_TELEFONO in correo.cuerpo


def test_textos_iguales_a_los_de_notificar(agenda, recepcionista, ahora, settings):
    """The batch path fills pre-rendered texts; ``notificar`` renders each one: same result."""
    from citas import enlaces
    from citas.mensajes import contexto_cita
    from notificaciones.services import notificar
    from nucleo.servicios import operacion

    settings.NOTIFICACIONES_RECORDATORIOS_H = (72, 24)
    reservada = agenda(3, registrar_paciente(1, canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True))
    confirmada = agenda(30, registrar_paciente(2, canal_preferido=Canal.SMS, acepta_sms=True))
    confirmar_cita(actor=recepcionista.user, cita_id=confirmada.pk)
    sin_ficha = reservada_hace_una_semana(asignar_cita(
        actor=recepcionista.user, cita_id=agenda(5).pk, paciente_nombre="Rosa Díaz",
        paciente_email="rosa@correo.example"), ahora)
    crear_recordatorios(ahora=ahora)
    for cita, horas in ((reservada, 24), (confirmada, 72), (sin_ficha, 24)):
        cita = Cita.objects.select_related("dentista__user", "cliente").get(pk=cita.pk)
        contexto = {
            **contexto_cita(inicio=cita.inicio, dentista=cita.dentista.nombre, nombre=cita.paciente_nombre.split()[0],
                            cita=cita),
            "horas_antes": horas, "confirmada": cita.estado == EstadoCita.CONFIRMADA,
            "plazo_cambios_h": settings.CLINICA_PLAZO_CAMBIOS_H, "telefono_clinica": settings.CLINICA_TELEFONO,
            "enlace_confirmar": enlaces.enlace_recordatorio(cita, "confirmar") if cita.cliente_id else "",
            "enlace_cancelar": enlaces.enlace_recordatorio(cita, "cancelar") if cita.cliente_id else "",
        }
        perfil = cita.cliente.preferencias() if cita.cliente_id else None
        with operacion("prueba"):
            esperadas = notificar(evento="recordatorio", referencia=f"prueba-{cita.pk}", email=cita.paciente_email,
                                  telefono=cita.paciente_telefono, perfil=perfil, cita=cita, contexto=contexto)
        campos = ("canal", "destinatario", "asunto", "cuerpo", "variables")
        hechas = {n.canal: n for n in _recordatorios(cita_id=cita.pk, clave_idempotencia__startswith="recordatorio:")}
        assert len(esperadas) == len(hechas) >= 1
        for esperada in esperadas:
            assert [getattr(hechas[esperada.canal], c) for c in campos] == [getattr(esperada, c) for c in campos]


def test_configuracion_de_tipos(settings):
    settings.NOTIFICACIONES_RECORDATORIOS_H = "72, 24"
    assert tipos_de_recordatorio() == [24, 72]
    for malo in ("72,x", (0,), "-5"):
        settings.NOTIFICACIONES_RECORDATORIOS_H = malo
        with pytest.raises(ImproperlyConfigured):
            tipos_de_recordatorio()


# Links, end to end through the portal -------------------------------------------------------------


def test_los_enlaces_del_recordatorio_funcionan_en_el_portal(agenda, ahora):
    confirmar_la = agenda(20, registrar_paciente(1))
    cancelar_la = agenda(21, registrar_paciente(2, canal_preferido=Canal.WHATSAPP, acepta_whatsapp=True))
    crear_recordatorios(ahora=ahora)

    confirmar, cancelar = _enlaces(_recordatorios(cita_id=confirmar_la.pk).get().cuerpo)
    cliente = Client()
    ruta = confirmar.split("://", 1)[1].split("/", 1)[1]
    assert "Confirmar mi hora" in cliente.get("/" + ruta).content.decode()
    assert Cita.objects.get(pk=confirmar_la.pk).estado == EstadoCita.RESERVADA
    assert "quedó confirmada" in cliente.post("/" + ruta).content.decode()
    assert Cita.objects.get(pk=confirmar_la.pk).estado == EstadoCita.CONFIRMADA

    # The WhatsApp text's cancel link (default cut-off: 12 hours; the appointment is 21 away).
    _, cancelar = _enlaces(_recordatorios(cita_id=cancelar_la.pk, canal=Canal.WHATSAPP).get().cuerpo)
    ruta = "/" + cancelar.split("://", 1)[1].split("/", 1)[1]
    assert "Cancelar mi hora" in cliente.get(ruta).content.decode()
    assert cliente.post(ruta).status_code == 200
    assert Cita.objects.get(pk=cancelar_la.pk).estado == EstadoCita.DISPONIBLE
    assert Notificacion.objects.filter(plantilla="cita_cancelada_paciente", cita_id=cancelar_la.pk).count() == 2


def test_una_falla_deja_el_lote_entero_sin_escribir(probar_fallas, agenda, ahora):
    agenda(3, registrar_paciente(1))
    agenda(4, registrar_paciente(2, canal_preferido=Canal.SMS, acepta_sms=True))
    # Two statements per batch, in its transaction: every row, then their delivery jobs
    # (procrastinate's batch_defer). A crash after either leaves nothing: all or nothing.
    assert probar_fallas(lambda: crear_recordatorios(ahora=ahora)) == 2
    assert _recordatorios().count() == 3


# Through the worker ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_el_recordatorio_llega_por_correo(servidor_smtp, agenda):
    user = registrar_paciente(1)
    cita = agenda(20, user)
    # The periodic task, as the worker calls it (its timestamp is the tick's).
    recordatorios.crear_recordatorios_periodicos(timestamp=int(timezone.now().timestamp()))
    ejecutar_worker()
    [mensaje] = [m for m in servidor_smtp.para(user.email) if "recordatorio" in m.asunto]
    assert f"{timezone.localtime(cita.inicio):%H:%M}" in mensaje.asunto
    assert len(_enlaces(mensaje.cuerpo)) == 2
    assert _recordatorios().get().estado == EstadoNotificacion.ENVIADA
    # The next tick finds nothing new.
    recordatorios.crear_recordatorios_periodicos(timestamp=int(timezone.now().timestamp()))
    assert _recordatorios().count() == 1


def test_la_tarea_periodica_esta_registrada():
    from procrastinate.contrib.django import app

    tarea = app.tasks["notificaciones.crear_recordatorios"]
    assert tarea.queue == "mantenimiento"
    periodicas = {p.periodic_id: p for p in app.periodic_registry.periodic_tasks.values()}
    assert periodicas["recordatorios"].cron == "*/10 * * * *"


def test_un_tick_atrasado_no_recuerda_citas_ya_comenzadas(agenda, ahora):
    cita = agenda(3, registrar_paciente(1))
    # A tick from two hours ago, run only now (the worker was down): the window starts now.
    Cita.objects.filter(pk=cita.pk).update(inicio=ahora - datetime.timedelta(minutes=30),
                                           fin=ahora - datetime.timedelta(minutes=25))
    recordatorios.crear_recordatorios_periodicos(timestamp=int((ahora - datetime.timedelta(hours=2)).timestamp()))
    assert _recordatorios().count() == 0


@pytest.mark.django_db(transaction=True)
def test_corridas_simultaneas_no_duplican(agenda, ahora):
    for n in range(6):
        agenda(3 + n, registrar_paciente(n + 1))
    resultados, errores = [], []

    def correr():
        try:
            resultados.append(crear_recordatorios(ahora=ahora))
        except Exception as exc:  # reported below
            errores.append(exc)
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr) for _ in range(4)]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join()
    assert errores == []
    assert sum(resultados) == 6
    assert _recordatorios().count() == 6


@pytest.mark.parametrize("inicio_local", [
    datetime.datetime(2026, 12, 14, 9, 30),   # summer time (UTC-3)
    datetime.datetime(2026, 6, 15, 9, 30),    # winter time (UTC-4)
    datetime.datetime(2026, 4, 4, 23, 59, 59),  # the evening before the April change
    datetime.datetime(2027, 1, 1, 0, 0, 7),   # a new year, seconds kept
])
@pytest.mark.parametrize("horas", [24, 72])
def test_referencia_igual_en_python_y_en_sql(crear_personal, recepcionista, inicio_local, horas):
    """The reminder's key is written in Python (the rows) and in SQL (the candidates' "not
    yet sent" test): both give the same text, or a reminder would be sent twice."""
    from django.db import connection

    dentista = crear_personal()
    inicio = timezone.make_aware(inicio_local, SANTIAGO)
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {recordatorios.REFERENCIA_SQL} FROM citas_cita c WHERE c.id = %(id)s",
                       {"horas": horas, "id": cita.pk})
        en_sql = cursor.fetchone()[0]
    assert en_sql == recordatorios.referencia(cita.pk, horas, cita.inicio)
    assert en_sql.startswith(f"{cita.pk}:{horas}h:")
