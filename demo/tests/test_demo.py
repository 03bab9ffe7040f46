"""The demo clinic of ``bin/run``: complete, valid, inside clinic hours, and idempotent."""

import datetime
import io

import holidays
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from stdnum.cl import rut as stdnum_rut

from citas.models import Cita, EstadoCita
from demo.datos import PASSWORD_DEMO, dias_habiles
from ficha.models import Antecedentes, Evolucion, PlantillaConsentimiento
from notificaciones.models import Notificacion
from pacientes.models import Cliente
from pacientes.validaciones import normalizar_telefono
from personal.models import Perfil, Rol


def _cargar():
    salida = io.StringIO()
    call_command("cargar_demo", "--forzar", stdout=salida)
    return salida.getvalue()


def _conteos():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs")
        trabajos = cursor.fetchone()[0]
    return {
        "usuarios": get_user_model().objects.count(),
        "personal": Perfil.objects.count(),
        "pacientes": Cliente.objects.count(),
        "citas": Cita.objects.count(),
        "reservadas": Cita.objects.exclude(estado=EstadoCita.DISPONIBLE).count(),
        "notificaciones": Notificacion.objects.count(),
        "trabajos": trabajos,
    }


@pytest.mark.django_db
def test_carga_la_clinica_y_la_segunda_vez_no_agrega_nada():
    primera = _cargar()
    conteos = _conteos()

    assert Perfil.objects.filter(rol=Rol.DENTISTA, activo=True).count() == 3
    for rol in Rol.values:
        assert Perfil.objects.filter(rol=rol).exists()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(PASSWORD_DEMO)

    assert conteos["pacientes"] == 20
    for cliente in Cliente.objects.all():
        assert stdnum_rut.is_valid(cliente.rut)
        assert normalizar_telefono(str(cliente.telefono)) == str(cliente.telefono)
    assert Cliente.objects.filter(user__isnull=False).count() > 0  # some have portal accounts

    assert conteos["citas"] > 0
    reservadas = Cita.objects.exclude(estado=EstadoCita.DISPONIBLE)
    assert reservadas.count() == 7
    assert reservadas.filter(cliente__user__isnull=False).exists()  # booked on the portal
    assert reservadas.filter(cliente__isnull=True, paciente_nombre="Jorge Tapia Fuentes").count() == 1
    assert conteos["notificaciones"] > 0 and conteos["trabajos"] > 0

    feriados = holidays.Chile(years=range(timezone.localdate().year, timezone.localdate().year + 2))
    manana = timezone.localdate() + datetime.timedelta(days=1)
    for inicio, fin in Cita.objects.values_list("inicio", "fin"):
        local = timezone.localtime(inicio)
        assert local.date() >= manana
        assert local.weekday() < 5 and local.date() not in feriados
        assert datetime.time(9) <= local.time() < datetime.time(18, 30)
        assert timezone.localtime(fin).time() <= datetime.time(18, 30)
        assert not datetime.time(13) <= local.time() < datetime.time(14, 30)  # lunch
        assert fin - inicio == datetime.timedelta(minutes=30)

    # A real ficha for two of dra. Soto's patients (history, signed notes, an addendum).
    notas = Evolucion.objects.filter(dentista__user__username="dra.soto")
    assert notas.filter(firmada_en__isnull=False, corrige__isnull=True).count() == 3
    assert notas.filter(corrige__isnull=False).count() == 1 and not notas.filter(firmada_en__isnull=True).exists()
    assert Antecedentes.objects.filter(anticoagulantes=True, alergias="Penicilina").count() == 1
    assert "Fichas clínicas: 3 evoluciones firmadas" in primera
    conteos["evoluciones"] = Evolucion.objects.count()

    segunda = _cargar()
    assert _conteos() | {"evoluciones": Evolucion.objects.count()} == conteos
    assert "Pacientes: 20 creados" in primera
    assert "Pacientes: 0 creados, 20 ya existían" in segunda
    assert "Horas de atención: 0 creadas" in segunda
    assert "Citas reservadas: 0 nuevas, 7 ya existían" in segunda


@pytest.mark.django_db
def test_sin_debug_no_carga_sin_forzar():
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("cargar_demo", stdout=io.StringIO())
    assert not Cliente.objects.exists()


@pytest.mark.parametrize(
    "desde, feriado",
    [
        (datetime.date(2026, 12, 7), datetime.date(2026, 12, 8)),  # La Inmaculada Concepción, a Tuesday
        (datetime.date(2026, 9, 14), datetime.date(2026, 9, 18)),  # Fiestas Patrias
        (datetime.date(2027, 1, 1), datetime.date(2027, 1, 1)),  # Año Nuevo: starts on the 4th
    ],
)
@pytest.mark.django_db
def test_dias_habiles_omiten_feriados_y_fines_de_semana(desde, feriado):
    dias, omitidos = dias_habiles(desde)
    assert feriado not in dias
    assert all(dia.weekday() < 5 for dia in dias)
    assert dias[0] >= desde and dias[-1] < dias[0] + datetime.timedelta(days=14)
    if feriado.weekday() < 5 and feriado >= dias[0]:
        assert feriado in [dia for dia, _ in omitidos]


@pytest.mark.django_db
def test_el_personal_de_la_demo_entra_con_el_codigo_de_demo_codigo():
    """Demo staff are enrolled with the known secret: ``demo_codigo`` prints the code that the
    second-factor step accepts."""
    import re

    from django.test import Client
    from django.urls import reverse
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from demo.datos import PERSONAL, SECRETO_DEMO

    salida = _cargar()
    assert "demo_codigo" in salida
    for username, *_ in PERSONAL:
        assert TOTPDevice.objects.get(user__username=username, confirmed=True).key == SECRETO_DEMO
    codigo = io.StringIO()
    call_command("demo_codigo", stdout=codigo)
    numero = re.search(r"Código: (\d{6}) ", codigo.getvalue()).group(1)
    cliente = Client()
    cliente.post(reverse("gestion:entrar"), {"username": "dra.soto", "password": PASSWORD_DEMO})
    respuesta = cliente.post(reverse("gestion:segundo_factor"), {"codigo": numero})
    assert respuesta.status_code == 302 and respuesta.url == reverse("gestion:inicio")
    assert cliente.get(reverse("gestion:agenda")).status_code == 200


@pytest.mark.django_db
def test_la_demo_no_pone_su_secreto_a_una_cuenta_que_ya_existia():
    """An existing account with a demo username (a real "admin" of a clinic) keeps its second
    factor as it was: without one, it enrols its own; the public demo secret is never added."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from demo.datos import PERSONAL, SECRETO_DEMO
    from personal.services import crear_personal

    crear_personal(actor=None, username="admin", nombre="Real", apellido="Admin", email="real@clinica.example",
                   rol=Rol.ADMINISTRADOR, password="otra-clave-larga-123", es_superusuario=True)
    _cargar()
    assert not TOTPDevice.objects.filter(user__username="admin").exists()
    for username, *_ in PERSONAL[1:]:  # the ones this load created
        assert TOTPDevice.objects.get(user__username=username, confirmed=True).key == SECRETO_DEMO
    _cargar()  # a second load: the same devices, none added
    assert TOTPDevice.objects.filter(key=SECRETO_DEMO).count() == len(PERSONAL) - 1


@pytest.mark.django_db
def test_sin_debug_el_secreto_de_la_demo_es_un_error_de_configuracion(settings):
    from django.core import checks
    from django.core.management.base import SystemCheckError
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from demo.datos import SECRETO_DEMO
    from pruebas.soporte import dispositivo_de_prueba

    usuario = get_user_model().objects.create_user("cuenta.real", password="x-clave-larga-123")
    dispositivo_de_prueba(usuario)
    settings.DEBUG = False
    assert not [e for e in checks.run_checks(databases=["default"]) if e.id == "demo.E001"]
    TOTPDevice.objects.filter(user=usuario).update(key=SECRETO_DEMO)
    errores = [e for e in checks.run_checks(databases=["default"]) if e.id == "demo.E001"]
    assert len(errores) == 1 and "cuenta.real" in errores[0].msg and errores[0].level == checks.ERROR
    with pytest.raises(SystemCheckError, match="segundo factor de la demostración"):
        call_command("check", "--database", "default", stdout=io.StringIO(), stderr=io.StringIO())
    # bin/produccion runs the database checks after migrating, before starting (clinica/arranque.py).
    arranque = (settings.BASE_DIR / "clinica" / "arranque.py").read_text()
    assert 'call_command("check", databases=["default"], fail_level="ERROR")' in arranque
    settings.DEBUG = True  # the demo itself, in development
    assert not [e for e in checks.run_checks(databases=["default"]) if e.id == "demo.E001"]


@pytest.mark.django_db
def test_la_demo_trae_plantillas_de_consentimiento():
    call_command("cargar_demo", "--forzar", stdout=io.StringIO())
    call_command("cargar_demo", "--forzar", stdout=io.StringIO())  # idempotent
    nombres = sorted(PlantillaConsentimiento.objects.filter(activa=True).values_list("nombre", flat=True))
    assert nombres == ["Endodoncia", "Exodoncia", "Implante dental"]
    assert all("Riesgos:" in t for t in PlantillaConsentimiento.objects.values_list("texto", flat=True))


@pytest.mark.django_db
def test_una_demo_anterior_a_las_recetas_recibe_los_datos_de_sus_dentistas():
    """A demo loaded before prescriptions existed: its dentists had no RUT nor registry, so none
    could issue a prescription. Loading it again fills them, and never overwrites typed ones."""
    call_command("cargar_demo", "--forzar", stdout=io.StringIO())
    Perfil.objects.filter(rol=Rol.DENTISTA).update(rut="", registro_superintendencia="")
    propio = Perfil.objects.filter(rol=Rol.DENTISTA).order_by("pk").first()
    Perfil.objects.filter(pk=propio.pk).update(rut="12345678-5", registro_superintendencia="777")
    call_command("cargar_demo", "--forzar", stdout=io.StringIO())
    dentistas = Perfil.objects.filter(rol=Rol.DENTISTA)
    assert dentistas.count() >= 3
    assert all(p.rut and p.registro_superintendencia for p in dentistas)
    propio.refresh_from_db()
    assert (propio.rut, propio.registro_superintendencia) == ("12345678-5", "777")


@pytest.mark.django_db
def test_la_demo_trae_el_arancel_con_sus_dentistas():
    from prestaciones.models import Prestacion, PrestacionDentista

    call_command("cargar_demo", "--forzar", stdout=io.StringIO())
    antes = PrestacionDentista.objects.count()
    call_command("cargar_demo", "--forzar", stdout=io.StringIO())  # idempotent
    assert PrestacionDentista.objects.count() == antes
    assert Prestacion.objects.count() >= 12
    en_linea = dict(Prestacion.objects.reservables_en_linea().values_list("codigo", "duracion_minutos"))
    assert en_linea == {"EVA-01": 30, "PER-01": 60, "URG-01": 30}
    dentistas = set(Perfil.objects.filter(rol=Rol.DENTISTA).values_list("pk", flat=True))
    for codigo in en_linea:  # every demo dentist does evaluation, cleaning and emergencies
        assert set(Prestacion.objects.get(codigo=codigo).dentistas.values_list("pk", flat=True)) == dentistas
    assert set(Prestacion.objects.get(codigo="END-01").dentistas.values_list("especialidad", flat=True)) == {
        "Endodoncia"}
    assert Prestacion.objects.filter(trata_hallazgo="caries", activa=True).exists()
