"""The deployment of docs/produccion.md "Con PgBouncer", for real (issue 18).

Debian's PgBouncer in transaction mode in front of the test PostgreSQL; three ``bin/produccion``
services started at the same moment on one clean static folder, as on one host: the staff site
and the portal through the pooler (``DATABASE_URL``, ``DJANGO_DB_POOLER=transaccion``), and a job
service with two workers, which use the direct connection (``DATABASE_URL_DIRECTA``). Then
patients race for slots on the portal while reception assigns some of the same slots on the
staff site and patients look at the slot page, all through the pooler; the workers deliver the
notifications to a real SMTP server.

It fails on any 5xx, any "prepared statement" error in any log (the services' and PgBouncer's),
any slot won twice or an answer that disagrees with the database, any notification sent twice
or never, and any hang (every wait has a deadline; the services must stop on Ctrl-C).

The workers poll for jobs only every 300 s here: a notification is delivered in time only if the
worker's LISTEN works, which it does not through a transaction pooler (that was the bug).
"""

import datetime
import os
import http.client
import random
import re
import signal
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.utils import timezone

from citas.models import Cita
from citas.services import crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from clinica.tests.test_pgbouncer import _url_por
from clinica.tests.test_produccion import CLAVE, PRODUCCION, _env, _puerto_libre, _url_de_la_base
from notificaciones.canales.correo import message_id
from notificaciones.models import Canal, EstadoNotificacion, Notificacion
from personal.models import Rol
from personal.services import crear_personal
from pruebas.soporte import apuntar_correo_a, sesion_http, vaciar_cola

DENTISTAS = 3
HORAS_POR_DENTISTA = 12
PACIENTES = 24
POR_HORA = 4  # patients racing for each slot
HORAS_DE_RECEPCION = 8  # slots reception also assigns, at the same time
ESPERA_S = 240  # three services starting at once on two shared cores (collectstatic, gunicorn, workers)


class Servicio:
    """One ``bin/produccion`` with its own log."""

    def __init__(self, nombre, argumentos, entorno, carpeta):
        self.nombre = nombre
        self.registro = carpeta / f"{nombre}.log"
        self.argumentos, self.entorno = argumentos, entorno
        self.proceso = None

    def iniciar(self):
        with self.registro.open("w") as salida:
            self.proceso = subprocess.Popen([PRODUCCION, *self.argumentos], env=self.entorno, stdout=salida,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def texto(self):
        return self.registro.read_text(errors="replace")

    def vivo(self):
        return self.proceso.poll() is None

    def matar(self):
        if self.proceso is not None and self.proceso.poll() is None:
            os.killpg(self.proceso.pid, signal.SIGKILL)
            self.proceso.wait()


def _pedir(puerto, metodo, ruta, *, sesion=None, datos=None):
    conexion = http.client.HTTPConnection("127.0.0.1", puerto, timeout=60)
    cabeceras = {"Connection": "close"}
    cuerpo = None
    if sesion is not None:
        cabeceras["Cookie"] = sesion["cookie"]
    if datos is not None:
        cuerpo = urlencode({"csrfmiddlewaretoken": sesion["csrf_token"], **datos})
        cabeceras["Content-Type"] = "application/x-www-form-urlencoded"
        cabeceras["Origin"] = f"http://127.0.0.1:{puerto}"
    try:
        conexion.request(metodo, ruta, body=cuerpo, headers=cabeceras)
        respuesta = conexion.getresponse()
        return respuesta.status, respuesta.read()
    finally:
        conexion.close()


def _esperar(condicion, que, servicios, *, limite_s=ESPERA_S):
    limite = time.monotonic() + limite_s
    while not condicion():
        for s in servicios:
            assert s.vivo(), f"{s.nombre} terminó mientras esperaba {que}:\n{s.texto()[-4000:]}"
        assert time.monotonic() < limite, f"sin {que} en {limite_s} s:\n" + "\n".join(
            f"--- {s.nombre}\n{s.texto()[-3000:]}" for s in servicios)
        time.sleep(0.2)


def _responde(puerto, ruta):
    try:
        return _pedir(puerto, "GET", ruta)[0] in (200, 302)
    except OSError:
        return False


@pytest.fixture
def escena(transactional_db, settings, servidor_smtp):
    """Dentists with tomorrow's slots, portal patients, a receptionist: committed, for the services."""
    settings.SECRET_KEY = CLAVE  # the sessions made here are read by the services
    apuntar_correo_a(settings, servidor_smtp)
    dentistas = [
        crear_personal(actor=None, username=f"dentista_pool_{d}", nombre="Dentista", apellido=f"Pool {d}",
                       email=f"dentista{d}@clinica.example", rol=Rol.DENTISTA)
        for d in range(DENTISTAS)
    ]
    recepcion = crear_personal(actor=None, username="recepcion_pool", nombre="Recepción", apellido="Pool",
                               email="recepcion@clinica.example", rol=Rol.RECEPCION)
    manana = timezone.localdate() + datetime.timedelta(days=1)
    horas = []
    for i in range(HORAS_POR_DENTISTA):
        inicio = timezone.make_aware(datetime.datetime.combine(manana, datetime.time(9, 0))) + datetime.timedelta(
            minutes=30 * i)
        for dentista in dentistas:
            horas.append(crear_cita_disponible(actor=recepcion.user, dentista_id=dentista.pk, inicio=inicio).pk)
    pacientes = [registrar_paciente(900 + i) for i in range(PACIENTES)]
    return {
        "dentistas": [d.pk for d in dentistas], "horas": horas, "pacientes": pacientes,
        "recepcion": recepcion, "smtp": servidor_smtp,
    }


def test_dos_sitios_y_dos_workers_con_pgbouncer_en_modo_transaccion(escena, pgbouncer, tmp_path):
    estaticos = tmp_path / "static"  # clean: the two web services build it at the same moment
    comun = dict(
        DATABASE_URL=_url_por(pgbouncer), DATABASE_URL_DIRECTA=_url_de_la_base(), DJANGO_DB_POOLER="transaccion",
        DJANGO_STATIC_ROOT=str(estaticos), DJANGO_SSL_REDIRECT="0", DJANGO_LOG_LEVEL="INFO",
        EMAIL_HOST=escena["smtp"].host, EMAIL_PORT=str(escena["smtp"].puerto), EMAIL_USE_TLS="0",
        # The race, not the attempt limits or the 2-bookings cap, decides who gets a slot.
        CLINICA_LIMITE_CITAS_CUENTA="1000/m", CLINICA_LIMITE_CITAS_IP="100000/h", CLINICA_MAX_RESERVAS_PORTAL="1000",
        # Nor the send budget (6 an hour per address): a patient who wins many slots gets every
        # confirmation, so that each notification must be sent, none "suprimida".
        NOTIFICACIONES_MAXIMO_POR_HORA="1000",
        WEB_CONCURRENCY="2",
    )
    puerto_gestion, puerto_portal = _puerto_libre(), _puerto_libre()
    servicios = [
        Servicio("gestion", ["--sin-tareas"], _env(CLINICA_SITIO="gestion", PORT=str(puerto_gestion), **comun),
                 tmp_path),
        Servicio("portal", ["--sin-tareas"], _env(CLINICA_SITIO="portal", PORT=str(puerto_portal), **comun),
                 tmp_path),
        Servicio("tareas", ["--solo-tareas"],
                 _env(WORKERS_TAREAS="2", PROCRASTINATE_WORKER_FETCH_JOB_POLLING_INTERVAL="300", **comun), tmp_path),
    ]
    try:
        for servicio in servicios:  # at the same moment
            servicio.iniciar()
        _esperar(lambda: _responde(puerto_portal, "/portal/entrar/") and _responde(puerto_gestion, "/gestion/"),
                 "los dos sitios respondiendo", servicios)
        tareas = servicios[2]
        _esperar(lambda: tareas.texto().count("Starting worker on all queues") == 2, "dos workers en marcha",
                 servicios)

        # Static files: built once, by one of the two web services; the other found them current.
        registros = {s.nombre: s.texto() for s in servicios}
        reunidos = [n for n in ("gestion", "portal") if "static files copied" in registros[n]]
        al_dia = [n for n in ("gestion", "portal") if "Archivos estáticos al día" in registros[n]]
        assert len(reunidos) == 1 and len(al_dia) == 1, registros
        for puerto in (puerto_gestion, puerto_portal):
            pagina = _pedir(puerto, "GET", "/portal/entrar/" if puerto == puerto_portal else "/gestion/entrar/")
            assert pagina[0] == 200
            css = re.search(rb'href="(/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css)"', pagina[1])
            assert css, pagina[1][:2000]
            assert _pedir(puerto, "GET", css[1].decode())[0] == 200

        resultados = _carrera(escena, puerto_portal, puerto_gestion)
        _verificar_carrera(escena, resultados)
        _verificar_entregas(escena, servicios)

        # Ctrl-C: every service stops by itself, in time.
        for servicio in servicios:
            servicio.proceso.send_signal(signal.SIGINT)
        for servicio in servicios:
            assert servicio.proceso.wait(timeout=60) == 0, servicio.texto()[-3000:]
    finally:
        for servicio in servicios:
            servicio.matar()
        vaciar_cola()

    registros = {s.nombre: s.texto() for s in servicios}
    registros["pgbouncer"] = pgbouncer.registro.read_text(errors="replace")
    for nombre, texto in registros.items():
        assert "prepared statement" not in texto.lower(), f"{nombre}:\n{texto[-4000:]}"
        assert "Traceback" not in texto, f"{nombre}:\n{texto[-4000:]}"
    for nombre in ("gestion", "portal"):
        accesos = re.findall(r'"(?:GET|POST) [^"]*" (\d{3}) ', registros[nombre])
        assert accesos, registros[nombre][-2000:]
        assert not [c for c in accesos if c.startswith("5")], registros[nombre][-4000:]


def _carrera(escena, puerto_portal, puerto_gestion):
    """4 patients per slot on the portal; reception assigns some of the same slots to other
    patients; the slot page is read meanwhile. All at once, through the pooler."""
    rng = random.Random(18)
    sesiones = [sesion_http(p) for p in escena["pacientes"]]
    recepcion = sesion_http(escena["recepcion"].user)
    de_recepcion = set(rng.sample(escena["horas"], HORAS_DE_RECEPCION))
    peticiones = []
    # The slots of one time (one per dentist) go to different patients, and reception's patient
    # for one of them is not racing at that time: only the race decides, never a patient's own
    # overlapping booking (a rule with its own tests).
    for inicio in range(0, len(escena["horas"]), DENTISTAS):
        a_la_vez = escena["horas"][inicio:inicio + DENTISTAS]
        elegidos = iter(rng.sample(range(PACIENTES), 2 * DENTISTAS * POR_HORA))
        for hora in a_la_vez:
            for _ in range(POR_HORA):
                peticiones.append(("portal", hora, next(elegidos)))
            if hora in de_recepcion:
                peticiones.append(("recepcion", hora, next(elegidos)))
    for dentista in escena["dentistas"]:
        for indice in rng.sample(range(PACIENTES), 10):
            peticiones.append(("horas", dentista, indice))
    rng.shuffle(peticiones)

    def una(peticion):
        tipo, objetivo, indice = peticion
        if tipo == "portal":
            return _pedir(puerto_portal, "POST", f"/portal/reservar/{objetivo}/", sesion=sesiones[indice],
                          datos={"motivo": "control"})
        if tipo == "recepcion":
            cliente_id = escena["pacientes"][indice].cliente.pk
            return _pedir(puerto_gestion, "POST", f"/gestion/agenda/cita/{objetivo}/asignar/", sesion=recepcion,
                          datos={"cliente": cliente_id, "motivo": "llamó por teléfono"})
        return _pedir(puerto_portal, "GET", f"/portal/reservar/?{urlencode({'dentista': objetivo, 'semana': 0})}",
                      sesion=sesiones[indice])

    with ThreadPoolExecutor(max_workers=16) as grupo:
        respuestas = list(grupo.map(una, peticiones))
    return list(zip(peticiones, respuestas))


def _verificar_carrera(escena, resultados):
    estados = Counter((tipo, estado) for (tipo, _, _), (estado, _) in resultados)
    assert not [e for (_, e) in estados if e >= 500], estados
    assert {e for (t, e) in estados if t == "portal"} <= {302, 409}, estados
    assert {e for (t, e) in estados if t == "recepcion"} == {302}, estados
    assert {e for (t, e) in estados if t == "horas"} == {200}, estados

    ganadores = {}
    for (tipo, hora, indice), (estado, _) in resultados:
        if tipo == "portal" and estado == 302:
            assert hora not in ganadores, f"la hora {hora} la ganaron dos pacientes en el portal"
            ganadores[hora] = escena["pacientes"][indice].cliente.pk
    de_recepcion = {}
    for (tipo, hora, indice), _ in resultados:
        if tipo == "recepcion":
            de_recepcion[hora] = escena["pacientes"][indice].cliente.pk
    en_bd = dict(Cita.objects.filter(pk__in=escena["horas"]).values_list("pk", "cliente_id"))
    for hora in escena["horas"]:
        if hora in ganadores:
            assert en_bd[hora] == ganadores[hora], f"la hora {hora}: el portal dijo un ganador y la base tiene otro"
        else:
            assert hora in de_recepcion and en_bd[hora] == de_recepcion[hora], (
                f"la hora {hora} no la ganó nadie en el portal: debió quedar con el paciente de recepción")
    assert len(ganadores) > len(escena["horas"]) - HORAS_DE_RECEPCION - 1, "el portal ganó casi todas"
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM citas_cita a JOIN citas_cita b ON a.id < b.id
               AND (a.dentista_id = b.dentista_id OR a.cliente_id = b.cliente_id)
               AND tstzrange(a.inicio, a.fin) && tstzrange(b.inicio, b.fin)
             WHERE a.estado NOT IN ('cancelada', 'disponible') AND b.estado NOT IN ('cancelada', 'disponible')""")
        assert cursor.fetchone()[0] == 0, "citas traslapadas de un dentista o de un paciente"


def _verificar_entregas(escena, servicios):
    """Every notification recorded so far (welcome e-mails, booking confirmations) is sent, and
    the SMTP server got each exactly once."""
    reservas = Cita.objects.filter(pk__in=escena["horas"]).exclude(cliente=None).count()
    assert Notificacion.objects.filter(canal=Canal.EMAIL).count() >= reservas
    _esperar(lambda: not Notificacion.objects.filter(estado=EstadoNotificacion.PENDIENTE).exists(),
             "todas las notificaciones enviadas (con LISTEN/NOTIFY: el sondeo es cada 300 s)", servicios)
    filas = list(Notificacion.objects.all())
    assert {f.estado for f in filas} == {EstadoNotificacion.ENVIADA}, Counter(f.estado for f in filas)
    recibidos = Counter(m.message_id for m in escena["smtp"].mensajes)
    repetidos = {m: n for m, n in recibidos.items() if n > 1}
    assert not repetidos, f"enviados dos veces: {repetidos}"
    assert set(recibidos) == {message_id(f) for f in filas if f.canal == Canal.EMAIL}
