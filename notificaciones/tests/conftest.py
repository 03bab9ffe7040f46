import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from notificaciones.models import Canal
from notificaciones.preferencias import Preferencias
from notificaciones.services import notificar
from nucleo.servicios import operacion

EMAIL = "ana.perez@correo.example"
TELEFONO = "+56961234567"


@pytest.fixture(autouse=True)
def _cola_vacia(cola_vacia):
    """Every test here counts jobs: start and end with an empty queue."""


@pytest.fixture
def crear_perfil(db):
    """Factory for a patient's channel preferences as the outbox reads them (the patient
    record's channel and consents): ``crear_perfil(canal="whatsapp", whatsapp=True)``. The
    patient's confirmed number is ``TELEFONO`` unless ``telefono_verificado`` says otherwise
    ("" = not confirmed: no SMS or WhatsApp, issue 14)."""

    def crear(*, canal=Canal.EMAIL, whatsapp=False, sms=False, telefono_verificado=TELEFONO):
        ahora = timezone.now()
        return Preferencias(canal, whatsapp_aceptado_en=ahora if whatsapp else None,
                            sms_aceptado_en=ahora if sms else None, telefono_verificado=telefono_verificado)

    return crear


def notificar_en_servicio(*, evento="reserva_confirmada", referencia="cita-1", email=EMAIL, telefono="", perfil=None,
                          contexto=None):
    """``notificar`` as a service calls it: inside ``operacion`` (a durable transaction)."""
    contexto = {"nombre": "Ana", "fecha": "lunes 3 de marzo", "hora": "10:00", "dentista": "Dra. Soto",
                "url_cita": "http://127.0.0.1:8000/portal/citas/1/", "direccion": "Av. Providencia 1234, of. 501",
                **(contexto or {})}
    with operacion("prueba_notificar"):
        return notificar(
            evento=evento, referencia=referencia, email=email, telefono=telefono, perfil=perfil, contexto=contexto
        )


# Local providers (Twilio's and Meta's APIs over real HTTP) --------------------------------

from pruebas.proveedores import ServidorProveedores, entorno_meta, entorno_twilio  # noqa: E402

# Short enough that a hung provider fails a test attempt quickly.
TIMEOUT_PRUEBAS_S = 3


@pytest.fixture
def servidor_proveedores():
    """A running local Twilio + Meta server (``pruebas.proveedores.ServidorProveedores``)."""
    servidor = ServidorProveedores()
    servidor.iniciar()
    try:
        yield servidor
    finally:
        servidor.detener()


def configurar(settings, valores: dict) -> None:
    """Apply provider settings through pytest-django's ``settings`` (seen by worker threads)."""
    for nombre, valor in valores.items():
        setattr(settings, nombre, valor)
    settings.NOTIFICACIONES_HTTP_TIMEOUT_S = TIMEOUT_PRUEBAS_S


@pytest.fixture
def twilio(settings, servidor_proveedores):
    """SMS and WhatsApp through Twilio, pointed at the local server (returned)."""
    configurar(settings, entorno_twilio(servidor_proveedores))
    return servidor_proveedores


@pytest.fixture
def meta(settings, servidor_proveedores):
    """WhatsApp through Meta's Cloud API, pointed at the local server (returned)."""
    configurar(settings, entorno_meta(servidor_proveedores))
    return servidor_proveedores
