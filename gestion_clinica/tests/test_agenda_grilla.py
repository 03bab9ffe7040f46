"""The day grid's cells (the partials of ``agenda/_cita.html``, rendered once per look and
filled per appointment): the buttons each state and moment offers, "Llegó" only on the
appointment's own Santiago day, escaped names, the same HTML as the partial rendered straight,
no inline script or style, fixed queries."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from citas.models import Cancelacion, Cita, EstadoCita
from citas.selectors import agenda_del_dia
from gestion_clinica.views.agenda import _Celdas

pytestmark = pytest.mark.django_db

AGENDA = reverse("gestion:agenda")
LLEGADA = "marcar_llegada"
TODAS = ["Confirmar", "Llegó", "Cambiar hora", "Cancelar…"]


def zona():
    return timezone.get_current_timezone()


def url_accion(cita, accion):
    return reverse("gestion:agenda_accion", args=[cita.pk, accion])


def dia_de(cita):
    return {"fecha": timezone.localdate(cita.inicio).isoformat()}


def botones(html, cita):
    """The labels of one appointment's buttons and links, in page order: its cell in the grid,
    or the "Acciones" of the appointment's own page."""
    inicio = html.find(f'id="cita-{cita.pk}"')
    if inicio == -1:
        inicio = html.find("Acciones</h3>")
        if inicio == -1:
            return []
    fin = html.find('<div class="cita ', inicio + 1)
    for corte in ("</td>", "</section>"):
        posicion = html.find(corte, inicio)
        if posicion != -1 and (fin == -1 or posicion < fin):
            fin = posicion
    return re.findall(r'<(?:button type="submit"|a class="btn)[^>]*>([^<]+)<', html[inicio:fin])


def _cancelacion(cita, *, nombre, motivo, por="paciente", via="personal"):
    """A history row for ``cita``'s slot, as ``_cancelar`` writes it (test setup; the clinic
    cancels from the staff site with a reason)."""
    if por == "clinica":
        via, motivo = "personal", motivo or "sin motivo"
    return Cancelacion.objects.create(cita=cita, inicio=cita.inicio, dentista_id=cita.dentista_id, por=por, via=via,
                                      paciente_nombre=nombre, motivo=motivo, creada=timezone.now())


@pytest.fixture
def a_mediodia(monkeypatch):
    """Freeze "now" at today 12:00 in Santiago, so past and future hours of today are fixed."""
    ahora = datetime.datetime.combine(timezone.localdate(), datetime.time(12), tzinfo=zona())
    monkeypatch.setattr(timezone, "now", lambda: ahora.astimezone(datetime.UTC))
    return ahora


@pytest.mark.parametrize("persona", ["recepcion", "dentista"])
@pytest.mark.parametrize("dias", [-1, 1, 7])
def test_llego_solo_el_dia_de_la_cita(clientes, dentista, cita_hoy, persona, dias):
    de_hoy = cita_hoy(dentista, datetime.time(10), nombre="Paciente De Hoy")
    otra = cita_hoy(dentista, datetime.time(10), nombre="Paciente Otro Día",
                    fecha=timezone.localdate() + datetime.timedelta(days=dias))
    cliente = clientes[persona]
    assert url_accion(de_hoy, LLEGADA) in cliente.get(AGENDA).text
    assert url_accion(de_hoy, LLEGADA) in cliente.get(reverse("gestion:agenda_cita", args=[de_hoy.pk])).text

    grilla = cliente.get(AGENDA, dia_de(otra)).text
    detalle = cliente.get(reverse("gestion:agenda_cita", args=[otra.pk])).text
    for html in (grilla, detalle):
        assert url_accion(otra, LLEGADA) not in html and "Llegó" not in botones(html, otra)
    # The other actions of that day stay.
    siguiente = "marcar_no_asistio" if dias < 0 else ("confirmar" if persona == "recepcion" else None)
    if siguiente:
        assert url_accion(otra, siguiente) in grilla and url_accion(otra, siguiente) in detalle


def test_llego_a_medianoche_cuenta_el_dia_de_santiago(clientes, dentista, cita_hoy, monkeypatch):
    # 23:50 in Santiago is already the next day in UTC: the page must use the local day.
    hoy = timezone.localdate()
    tarde = cita_hoy(dentista, datetime.time(23, 30), nombre="Paciente Tarde")
    madrugada = cita_hoy(dentista, datetime.time(0, 15), nombre="Paciente Madrugada",
                         fecha=hoy + datetime.timedelta(days=1))
    ahora = datetime.datetime.combine(hoy, datetime.time(23, 50), tzinfo=zona())
    monkeypatch.setattr(timezone, "now", lambda: ahora.astimezone(datetime.UTC))
    assert url_accion(tarde, LLEGADA) in clientes["recepcion"].get(AGENDA, dia_de(tarde)).text
    siguiente = clientes["recepcion"].get(AGENDA, dia_de(madrugada)).text
    assert botones(siguiente, madrugada) == ["Confirmar", "Cambiar hora", "Cancelar…"]


def test_llegada_de_otro_dia_rechazada_sin_cambios(clientes, dentista, cita_hoy):
    """A stale or forged "Llegó" for tomorrow: a Spanish message, the appointment unchanged."""
    cita = cita_hoy(dentista, datetime.time(10), nombre="Paciente Mañana",
                    fecha=timezone.localdate() + datetime.timedelta(days=1))
    respuesta = clientes["recepcion"].post(url_accion(cita, LLEGADA))
    assert respuesta.status_code == 302
    mensajes = [str(m) for m in respuesta.wsgi_request._messages._queued_messages]
    assert len(mensajes) == 1 and "llegada" in mensajes[0]
    cita.refresh_from_db()
    assert cita.estado == EstadoCita.RESERVADA


# (hour today, state, buttons for recepción, buttons for the dentist[, the state a mark
# replaced]), "now" = 12:00. A mark recorded today can be undone, by both (their own).
CASOS = [caso if len(caso) == 5 else (*caso, "") for caso in [
    (14, EstadoCita.DISPONIBLE, ["Asignar", "Bloquear"], []),
    (9, EstadoCita.DISPONIBLE, [], []),
    (14, EstadoCita.BLOQUEADA, ["Desbloquear"], []),
    (9, EstadoCita.BLOQUEADA, [], []),
    (14, EstadoCita.RESERVADA, TODAS, ["Llegó"]),
    (14, EstadoCita.CONFIRMADA, TODAS[1:], ["Llegó"]),
    (9, EstadoCita.RESERVADA, ["Llegó", "Atendida", "No asistió"], ["Llegó", "Atendida", "No asistió"]),
    (9, EstadoCita.CONFIRMADA, ["Llegó", "Atendida", "No asistió"], ["Llegó", "Atendida", "No asistió"]),
    (9, EstadoCita.EN_ESPERA, ["Atendida"], ["Atendida"]),
    (14, EstadoCita.EN_ESPERA, [], []),
    (9, EstadoCita.ATENDIDA, [], []),
    (9, EstadoCita.NO_ASISTIO, [], []),
    (15, EstadoCita.CANCELADA, [], []),
    (10, EstadoCita.EN_ESPERA, ["Atendida", "Deshacer «Llegó»"], ["Atendida", "Deshacer «Llegó»"],
     EstadoCita.CONFIRMADA),
    (13, EstadoCita.EN_ESPERA, ["Deshacer «Llegó»"], ["Deshacer «Llegó»"], EstadoCita.RESERVADA),
    (10, EstadoCita.ATENDIDA, ["Deshacer «Atendida»"], ["Deshacer «Atendida»"], EstadoCita.EN_ESPERA),
    (10, EstadoCita.NO_ASISTIO, ["Deshacer «No asistió»"], ["Deshacer «No asistió»"], EstadoCita.CONFIRMADA),
]]


def test_botones_por_estado_y_momento(clientes, dentista, cita_hoy, a_mediodia):
    citas = []
    for n, (hora, estado, _, _, anterior) in enumerate(CASOS):
        nombre = "" if estado in (EstadoCita.DISPONIBLE, EstadoCita.BLOQUEADA) else f"Paciente {estado}"
        # Five minutes each, at their own minute: one row per case, no overlap.
        citas.append(cita_hoy(dentista, datetime.time(hora, (5 * n) % 60), nombre=nombre, estado=estado, minutos=5,
                              anterior=anterior))
    for persona, columna in (("recepcion", 2), ("dentista", 3)):
        grilla = clientes[persona].get(AGENDA).text
        for cita, caso in zip(citas, CASOS, strict=True):
            esperado = caso[columna]
            assert botones(grilla, cita) == esperado, (persona, caso)
            detalle = clientes[persona].get(reverse("gestion:agenda_cita", args=[cita.pk])).text
            assert botones(detalle, cita) == esperado, (persona, caso)
            assert ("Acciones</h3>" in detalle) == bool(esperado)
            formularios = detalle.count('<form method="post" action="/gestion/agenda/cita/')
            # POST buttons on the appointment's page come back to it.
            assert detalle.count('<input type="hidden" name="volver" value="cita">') == formularios


def test_enlaces_de_la_celda(clientes, dentista, cita_hoy, a_mediodia):
    libre = cita_hoy(dentista, datetime.time(14))
    reservada = cita_hoy(dentista, datetime.time(15), nombre="Paciente Reservado")
    html = clientes["recepcion"].get(AGENDA).text
    assert f'href="{reverse("gestion:agenda_asignar", args=[libre.pk])}"' in html
    assert f'href="{reverse("gestion:agenda_cita", args=[reservada.pk])}">Paciente Reservado</a>' in html
    assert f'href="{reverse("gestion:agenda_reprogramar", args=[reservada.pk])}"' in html
    cancelar = reverse("gestion:agenda_cancelar", args=[reservada.pk])
    # Cancelling is a link to the confirmation page, never a POST from the grid.
    assert f'href="{cancelar}"' in html and f'action="{cancelar}"' not in html
    assert 'aria-label="Cancelar la cita de las 15:00 de Paciente Reservado"' in html
    # One per POST form (Confirmar, Llegó), plus the "crear hora" form.
    assert html.count('name="csrfmiddlewaretoken"') >= 4


def test_nombres_escapados(clientes, dentista, cita_hoy):
    cita = cita_hoy(dentista, datetime.time(9), nombre="Provisorio")
    Cita.objects.filter(pk=cita.pk).update(paciente_nombre="<script>alert(\"x\")</script> & O'Higgins")
    html = clientes["recepcion"].get(AGENDA).text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; O&#x27;Higgins" in html
    assert "<script>alert" not in html


@pytest.mark.parametrize("persona", ["recepcion", "dentista"])
def test_celdas_iguales_a_la_plantilla_directa(dentista, crear_personal, cita_hoy, a_mediodia, persona):
    """Each cell, copied from its look with the appointment's id, time and name put in, is
    exactly the ``celda`` partial rendered for that appointment: every state and moment, both
    roles, names with markup (and with a placeholder's text), looks shared across dentists,
    two appointments in one cell (the April DST day), and 0, 1 or 2 cancellation history lines
    per slot with markup and placeholder-like text in their names and reasons."""
    otro = crear_personal(nombre="Bruno")
    nombres = ["<b>Ana</b> & \"Luz\"", "pk0 hora0 nombre0", "O'Higgins <script>x</script>"]
    motivos = ["llamó <i>por</i> teléfono & \"ya\"", "historial0.0 nombre1", ""]
    for n, (hora, estado, _, _, anterior) in enumerate(CASOS):
        for m, d in enumerate((dentista, otro)):
            nombre = "" if estado in (EstadoCita.DISPONIBLE, EstadoCita.BLOQUEADA) else nombres[(n + m) % len(nombres)]
            cita = cita_hoy(d, datetime.time(hora, (5 * n) % 60), nombre=nombre, estado=estado, minutos=5,
                            anterior=anterior)
            for k in range(n % 3):  # the same count for both dentists: their looks are shared
                _cancelacion(cita, nombre=nombres[(n + k) % 3], motivo=motivos[(n + m + k) % 3],
                             por="clinica" if k else "paciente", via="personal" if (n + k) % 2 else "portal")
    dia_doble = datetime.date(2027, 4, 3)  # 24:00 → 23:00: 23:15 happens twice
    primera = datetime.datetime(2027, 4, 3, 23, 15, tzinfo=zona())
    segunda = primera.astimezone(datetime.UTC) + datetime.timedelta(hours=1)
    for inicio, nombre in ((primera, "Primera <i>"), (segunda, "")):
        cita = Cita.objects.create(dentista=dentista, inicio=inicio, fin=inicio + datetime.timedelta(minutes=15),
                                   estado=EstadoCita.RESERVADA if nombre else EstadoCita.DISPONIBLE,
                                   paciente_nombre=nombre)
    _cancelacion(cita, nombre="Segunda <u>", motivo="pidió otra hora")
    propio = dentista if persona == "dentista" else None
    celdas = _Celdas(dentista_propio=propio, ahora=timezone.now(), csrf_token="token-de-prueba")
    vistas, dobles, historial, todo = 0, 0, 0, ""
    for fecha in (timezone.localdate(), dia_doble):
        agenda = agenda_del_dia(fecha=fecha, dentista_id=propio.pk if propio else None)
        for fila in agenda.filas:
            for citas in fila.celdas:
                hecha = celdas(citas)
                assert hecha == celdas.render([celdas.en_celda(cita) for cita in citas])
                assert "\x00" not in hecha
                historial += hecha.count("historial-cancelacion")
                todo += hecha
                vistas += len(citas)
                dobles += len(citas) == 2
    assert vistas == len(CASOS) * (1 if propio else 2) + 2 and dobles == 1
    assert len(celdas._por_aspecto) < vistas  # looks are shared
    assert historial > 10 and "&lt;i&gt;por&lt;/i&gt;" in todo and "<i>por" not in todo


@pytest.mark.parametrize("ruta", ["dia", "cita"])
def test_sin_scripts_ni_estilos_en_linea(clientes, dentista, cita_hoy, ruta):
    cita = cita_hoy(dentista, datetime.time(9), nombre="Paciente Csp")
    url = AGENDA if ruta == "dia" else reverse("gestion:agenda_cita", args=[cita.pk])
    respuesta = clientes["recepcion"].get(url)
    nonce = re.search(r"'nonce-([^']+)'", respuesta.headers["Content-Security-Policy"]).group(1)
    html = respuesta.text
    assert all(f'nonce="{nonce}"' in s and "src=" in s for s in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r"\son[a-z]+\s*=", html), "manejador en línea"
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html


@pytest.mark.parametrize("persona", ["recepcion", "dentista"])
def test_consultas_fijas_con_todos_los_estados(clientes, dentista, crear_personal, persona, django_assert_num_queries):
    """Every state and moment in the grid, for both roles: session, user, profile, dentists,
    cells, the day's cancellations (one query for all of them, however many)."""
    otros = [crear_personal(nombre=f"Dentista{n}") for n in range(3)]
    fecha = timezone.localdate()
    estados = list(EstadoCita)
    Cita.objects.bulk_create([
        Cita(dentista=d, inicio=(inicio := datetime.datetime.combine(fecha, datetime.time(0), tzinfo=zona())
                                 + datetime.timedelta(minutes=30 * n)),
             fin=inicio + datetime.timedelta(minutes=30), estado=estados[n % len(estados)],
             paciente_nombre="" if estados[n % len(estados)] in (EstadoCita.DISPONIBLE, EstadoCita.BLOQUEADA)
             else f"Paciente {n}",
             bloqueo_motivo=f"Reunión {n}" if estados[n % len(estados)] == EstadoCita.BLOQUEADA else "")
        for d in [dentista, *otros] for n in range(48)
    ])
    for n, cita in enumerate(Cita.objects.exclude(estado=EstadoCita.DISPONIBLE)[:30]):
        _cancelacion(cita, nombre=f"Antes {n}", motivo="llamó")
    cliente = clientes[persona]
    cliente.get(AGENDA)  # warm-up (session)
    # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
    with django_assert_num_queries(6):  # 6 + the second factor's device (OTPMiddleware)
        respuesta = cliente.get(AGENDA)
    assert respuesta.status_code == 200


def test_formulario_crear_hora_sigue_a_los_dentistas_y_la_fecha(clientes, dentista):
    """The form's fields are reused between views (keyed by what they show): a renamed dentist
    or another day shows up at once."""
    manana = timezone.localdate() + datetime.timedelta(days=1)
    html = clientes["recepcion"].get(AGENDA, {"fecha": manana.isoformat()}).text
    assert f'<option value="{dentista.pk}">Camila Soto</option>' in html
    assert f'value="{manana.isoformat()}"' in html
    dentista.user.first_name = "Camila <b>"
    dentista.user.save()
    pasado = manana + datetime.timedelta(days=1)
    html = clientes["recepcion"].get(AGENDA, {"fecha": pasado.isoformat()}).text
    assert f'<option value="{dentista.pk}">Camila &lt;b&gt; Soto</option>' in html
    assert f'value="{pasado.isoformat()}"' in html and f'value="{manana.isoformat()}"' not in html
