"""No patient ever reaches another patient's appointment: every portal URL that carries an
integer id is walked (read from ``cliente_web.urls.urlpatterns``) with the ids of
``otro_paciente``'s appointments (upcoming, confirmed, past, cancelled by the clinic) and of free
slots where a booking is expected; each answers 404 (or, for the booking step, whose id is a
*slot*, the "no disponible" page), never their data, and nothing changes."""

import datetime

import pytest
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from citas.models import Cita, EstadoCita
from citas.services import cancelar_cita, confirmar_cita, crear_cita_disponible, reservar_cita
from cliente_web import urls as urls_portal
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
# The booking step takes a free slot's id: a booked one gets the friendly "no disponible" page
# (GET 404, POST 409), which shows free slots only.
DE_HORA_LIBRE = {"reservar_confirmar"}
# Routes of this issue that must be in the walk (others' routes with ids are walked as well).
PROPIAS = {"reservar_confirmar", "cita", "cita_confirmar", "cita_cancelar", "cita_reprogramar", "cita_calendario"}


def _rutas_con_id(patrones, prefijo=""):
    for patron in patrones:
        if isinstance(patron, URLResolver):
            yield from _rutas_con_id(patron.url_patterns, prefijo)
        elif isinstance(patron, URLPattern):
            convertidores = patron.pattern.converters
            if convertidores and all(type(c).__name__ == "IntConverter" for c in convertidores.values()):
                yield patron.name, list(convertidores)


@pytest.fixture
def citas_ajenas(otro_paciente, dentista, recepcionista, settings):
    settings.CLINICA_MAX_RESERVAS_PORTAL = 100  # many bookings of one patient; the cap has its own tests
    # Dozens of POSTs by one patient: the attempt limits have their own tests (test_limites.py).
    settings.CLINICA_LIMITE_CITAS_CUENTA = settings.CLINICA_LIMITE_CITAS_IP = ()
    ahora = timezone.now()

    def hora(delta):
        return crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=ahora + delta)

    reservada = reservar_cita(user=otro_paciente, cita_id=hora(50 * H).pk, motivo="secreto-del-otro")
    confirmada = reservar_cita(user=otro_paciente, cita_id=hora(60 * H).pk)
    confirmar_cita(actor=otro_paciente, cita_id=confirmada.pk)
    pronto = reservar_cita(user=otro_paciente, cita_id=hora(5 * H).pk)
    cancelada = reservar_cita(user=otro_paciente, cita_id=hora(70 * H).pk)
    cancelar_cita(actor=recepcionista.user, cita_id=cancelada.pk, por_clinica=True, motivo="la clínica no puede atender")
    pasada = hora(-5 * H)
    Cita.objects.filter(pk=pasada.pk).update(estado=EstadoCita.ATENDIDA, cliente=otro_paciente.cliente,
                                             paciente_nombre=otro_paciente.cliente.nombre_completo)
    return [reservada.pk, confirmada.pk, pronto.pk, cancelada.pk, pasada.pk]


def test_todas_las_rutas_con_id_dan_404_con_ids_ajenos(portal, otro_paciente, citas_ajenas, dentista, recepcionista):
    libre = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=timezone.now() + 80 * H)
    rutas = list(_rutas_con_id(urls_portal.urlpatterns))
    assert PROPIAS <= {nombre for nombre, _ in rutas}
    secretos = [otro_paciente.cliente.nombre_completo, otro_paciente.cliente.email, "secreto-del-otro",
                str(otro_paciente.cliente.telefono)]
    antes = huella_bd()
    probadas = 0
    for nombre, argumentos in rutas:
        ids = citas_ajenas + ([] if nombre in DE_HORA_LIBRE else [libre.pk])
        for cita_id in ids:
            url = reverse(f"portal:{nombre}", kwargs=dict.fromkeys(argumentos, cita_id))
            for metodo in ("get", "post"):
                respuesta = getattr(portal, metodo)(url, {"nueva_cita_id": libre.pk, "motivo": "x"})
                probadas += 1
                if nombre in DE_HORA_LIBRE:
                    assert respuesta.status_code in (404, 409), (metodo, url, respuesta.status_code)
                elif respuesta.status_code == 405:
                    # The method is refused before the id is looked at: the same answer for any id.
                    assert metodo.upper() not in respuesta["Allow"], (metodo, url)
                else:
                    assert respuesta.status_code == 404, (metodo, url, respuesta.status_code)
                contenido = respuesta.content.decode(errors="replace")
                for secreto in secretos:
                    assert secreto not in contenido, (metodo, url, secreto)
    assert probadas >= len(PROPIAS) * len(citas_ajenas) * 2
    assert huella_bd() == antes


def test_las_mismas_rutas_funcionan_con_una_cita_propia(portal, paciente, dentista, recepcionista):
    """The walk above is meaningful: with the patient's own id the GET pages answer."""
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=timezone.now() + 50 * H)
    reservar_cita(user=paciente, cita_id=hora.pk)
    for nombre in ("cita", "cita_cancelar", "cita_reprogramar", "cita_calendario"):
        assert portal.get(reverse(f"portal:{nombre}", args=[hora.pk])).status_code == 200, nombre
