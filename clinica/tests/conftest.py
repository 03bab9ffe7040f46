"""Fixtures of the security suite: one logged-in client per kind of person and one record of
each kind whose ids fill every URL of both sites (helpers in ``seguridad.py``).

The people come from the sites' own fixtures (imported, not copied), so "administrador" or
"paciente" means here exactly what it means in each site's tests.
"""

import datetime

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from citas import enlaces
from citas.cierres import cerrar_rango
from citas.services import crear_cita_disponible, reservar_cita
from cliente_web.tests.conftest import otro_paciente, paciente  # noqa: F401  (pytest fixtures)
from clinica.tests.seguridad import cliente_logueado
from cuentas.registro import SAL_REGISTRO
from cuentas.services import SAL_DESHACER_CORREO, token_cambio_de_correo
from ficha.consentimientos import emitir_consentimiento
from ficha.evoluciones import crear_evolucion
from ficha.models import AccesoFicha, AccesoUrgencia, PlantillaConsentimiento
from ficha.odontograma import registrar_cambios
from ficha.tests.test_recetas import receta_de
from gestion_clinica.tests.conftest import administrador, superusuario  # noqa: F401  (pytest fixtures)
from notificaciones.models import EstadoNotificacion, Notificacion
from notificaciones.services import notificar
from nucleo.servicios import operacion
from pacientes.documentos import subir_documento
from pacientes.tests.test_documentos import PNG
from pagos.services import abrir_caja
from pagos.tests.escena import pago_en_escena
from personal.models import Rol
from prestaciones.models import Prestacion
from tratamientos.models import PlanTratamiento
from tratamientos.planes import agregar_item, crear_plan


def pytest_configure(config):
    config.addinivalue_line("markers", "lento: pruebas largas (fuzz, subprocesos); corren igual en bin/test")


@pytest.fixture
def personas(paciente, dentista, recepcionista, administrador, superusuario):  # noqa: F811
    """One test client per kind of person (``anonimo`` is not logged in)."""
    return {
        "anonimo": Client(),
        "paciente": cliente_logueado(paciente),
        "dentista": cliente_logueado(dentista.user),
        "recepcion": cliente_logueado(recepcionista.user),
        "administrador": cliente_logueado(administrador.user),
        "superusuario": cliente_logueado(superusuario),
    }


def _aviso(cliente, cita, referencia):
    """A failed notification of that patient and appointment: a permitted resend really writes."""
    with operacion("prueba_seguridad"):
        [aviso] = notificar(evento="cita_asignada", referencia=referencia, email=cliente.email, cliente=cliente,
                            cita=cita, contexto={"nombre": "Ana", "fecha": "lunes", "hora": "10:00"})
    Notificacion.objects.filter(pk=aviso.pk).update(estado=EstadoNotificacion.FALLIDA, ultimo_error="Timeout")
    return aviso


class _AlPedirlos(dict):
    """The scene's ids, plus some made only when first asked for (``perezosos``: name → how)."""

    def __init__(self, perezosos, valores):
        super().__init__(valores)
        self._perezosos = perezosos

    def __missing__(self, nombre):
        if nombre not in self._perezosos:
            raise KeyError(nombre)
        self[nombre] = self._perezosos[nombre]()
        return self[nombre]


@pytest.fixture
def registros(paciente, otro_paciente, dentista, recepcionista, crear_personal, settings, tmp_path):  # noqa: F811
    """The patient's own records (booked with ``dentista``) and someone else's of each kind
    (``otro_*``: another patient, another dentist), as the ids URLs take."""
    settings.MEDIA_ROOT = tmp_path / "media"
    actor = recepcionista.user
    otro_dentista = crear_personal(rol=Rol.DENTISTA, nombre="Luis", apellido="Muñoz")
    ahora = timezone.now()

    def reservada(user, dias, dentista_id):
        hora = crear_cita_disponible(actor=actor, dentista_id=dentista_id, inicio=ahora + datetime.timedelta(days=dias))
        return reservar_cita(user=user, cita_id=hora.pk, motivo="motivo-privado")

    cita = reservada(paciente, 3, dentista.pk)
    otra_cita = reservada(otro_paciente, 3, otro_dentista.pk)
    libre = crear_cita_disponible(actor=actor, dentista_id=dentista.pk, inicio=ahora + datetime.timedelta(days=4))

    def documento(cliente):
        return subir_documento(actor=actor, cliente_id=cliente.pk, titulo="Radiografía",
                               archivo=SimpleUploadedFile("rx.png", PNG, content_type="image/png"))

    return _AlPedirlos({
        # Progress notes (drafts by each patient's dentist, who is in that patient's care team),
        # written only when a URL asks for one: a patient with a clinical record cannot be
        # erased until the legal hold (issue 15, erasure part) lands, and "paciente_eliminar"
        # really erases the scene's patient.
        "evolucion_id": lambda: crear_evolucion(actor=dentista.user, cliente_id=paciente.cliente.pk,
                                                texto="Control").pk,
        "otra_evolucion_id": lambda: crear_evolucion(actor=otro_dentista.user, cliente_id=otro_paciente.cliente.pk,
                                                     texto="Control").pk,
        # Issue 16: a prescription of each patient by their dentist (a record too: asked for only).
        "receta_id": lambda: receta_de(paciente.cliente, dentista, "Amoxicilina").pk,
        "otra_receta_id": lambda: receta_de(otro_paciente.cliente, otro_dentista, "Amoxicilina").pk,
        # Issue 16: an informed consent issued to each patient by their dentist, and a template.
        "plantilla_id": lambda: _plantilla_consentimiento().pk,
        "consentimiento_id": lambda: emitir_consentimiento(
            actor=dentista.user, cliente_id=paciente.cliente.pk, plantilla_id=_plantilla_consentimiento().pk).pk,
        "otro_consentimiento_id": lambda: emitir_consentimiento(
            actor=otro_dentista.user, cliente_id=otro_paciente.cliente.pk,
            plantilla_id=_plantilla_consentimiento().pk).pk,
        # Issue 17, payments: the receptionist's box of today and a payment of each patient in it;
        # another receptionist's box (made only when asked for).
        "caja_id": lambda: _caja_de(recepcionista.user).pk,
        "otra_caja_id": lambda: _caja_de(crear_personal(rol=Rol.RECEPCION, nombre="Otra", apellido="Caja").user).pk,
        "pago_id": lambda: pago_en_escena(recepcionista.user, paciente.cliente).pk,
        "otro_pago_id": lambda: pago_en_escena(recepcionista.user, otro_paciente.cliente).pk,
        # Issue 17: a quote of each patient, issued by reception from a plan of their dentist.
        "presupuesto_id": lambda: _presupuesto(paciente.cliente, dentista, actor),
        "otro_presupuesto_id": lambda: _presupuesto(otro_paciente.cliente, otro_dentista, actor),
        # Issue 17: a treatment plan of each patient by their dentist, an item of each, a
        # prestación of the arancel and a pending finding of the scene's patient.
        "prestacion_id": lambda: _prestacion().pk,
        "plan_id": lambda: _plan_de(paciente.cliente, dentista).pk,
        "item_id": lambda: _plan_de(paciente.cliente, dentista).items.first().pk,
        "otro_plan_id": lambda: _plan_de(otro_paciente.cliente, otro_dentista).pk,
        "otro_item_id": lambda: _plan_de(otro_paciente.cliente, otro_dentista).items.first().pk,
        "hallazgo_id": lambda: _hallazgo(paciente.cliente, dentista).pk,
    }, {
        "cliente_id": paciente.cliente.pk,
        "cita_id": cita.pk,
        "reserva_uid": cita.reserva_uid,
        "libre_id": libre.pk,
        "documento_id": documento(paciente.cliente).pk,
        "notificacion_id": _aviso(paciente.cliente, cita, f"seguridad:{cita.pk}").pk,
        "dentista_id": dentista.pk,
        "perfil_id": dentista.pk,
        "fecha": "2027-02-10",
        # A dentist's absence far ahead (its page, reopening it).
        "cierre_id": cerrar_rango(actor=actor, desde=datetime.date(2030, 2, 10), hasta=datetime.date(2030, 2, 14),
                                  dentista_id=dentista.pk, tipo="vacaciones", motivo="Vacaciones").cierre.pk,
        "accion": "marcar_llegada",  # one a dentist may also do
        "uidb64": "eA",
        "token_activacion": "no-es-valido",
        "token_enlace": enlaces.token_de(cita, "confirmar"),
        # Well signed, but no request recorded: its page answers "replaced", nothing changes.
        "token_correo": token_cambio_de_correo(cliente=paciente.cliente, nuevo="nuevo@correo.example"),
        # Well signed, for a patient that does not exist (a real one would lock that account).
        "token_deshacer": signing.dumps({"c": 2**31 - 1, "a": "nadie@correo.example", "n": "x"},
                                        salt=SAL_DESHACER_CORREO, compress=True),
        # Well signed, for a sign-up that does not exist (a real one would create an account).
        "token_registro": signing.dumps({"p": 2**31 - 1, "n": "x"}, salt=SAL_REGISTRO, compress=True),
        "otro_cliente_id": otro_paciente.cliente.pk,
        "otra_cita_id": otra_cita.pk,
        "otro_documento_id": documento(otro_paciente.cliente).pk,
        "otra_notificacion_id": _aviso(otro_paciente.cliente, otra_cita, f"seguridad:{otra_cita.pk}").pk,
        "otro_dentista_id": otro_dentista.pk,
        # Issue 15: a dentist assigned to the patient's treatment, and an urgent access to review.
        "acceso_id": AccesoFicha.objects.create(cliente=paciente.cliente, dentista=otro_dentista, motivo="Ortodoncia").pk,
        "urgencia_id": AccesoUrgencia.objects.create(
            cliente=paciente.cliente, usuario=otro_dentista.user, motivo="Dolor agudo, su dentista no está",
            abierto_en=ahora, vence_en=ahora + datetime.timedelta(hours=12)).pk,
        "rut_paciente": paciente.cliente.rut,
        "email_paciente": paciente.cliente.email,
    })




def _plantilla_consentimiento():
    """The scene's consent template (issue 16), made once."""
    plantilla, _ = PlantillaConsentimiento.objects.get_or_create(
        nombre="Exodoncia", defaults={"procedimiento": "Extracción", "texto": "Riesgos: sangrado, alveolitis."})
    return plantilla


def _caja_de(user):
    """``user``'s box of today, opened if needed (issue 17)."""
    from pagos.models import Caja

    return Caja.objects.filter(cajero_id=user.pk, fecha=timezone.localdate()).first() or abrir_caja(
        actor=user, monto_apertura=0)


def _presupuesto(cliente, dentista, actor):
    """A quote (issue 17) of ``cliente`` from a new plan of ``dentista``, issued by ``actor``."""
    from tratamientos.presupuestos import emitir_presupuesto
    from tratamientos.tests.fabricas import plan_con_items

    plan, _ = plan_con_items(cliente, dentista)
    return emitir_presupuesto(actor=actor, plan_id=plan.pk).pk


def _prestacion():
    """An active prestación of the arancel that treats caries (issue 17)."""
    return Prestacion.objects.get_or_create(codigo="OBT-01", defaults={
        "nombre": "Obturación resina", "precio": 45000, "duracion_minutos": 45, "trata_hallazgo": "caries"})[0]


def _plan_de(cliente, dentista):
    """The patient's plan by their dentist, with one proposed item (created once)."""
    plan = PlanTratamiento.objects.filter(cliente=cliente).first()
    if plan is None:
        plan = crear_plan(actor=dentista.user, cliente_id=cliente.pk)
        agregar_item(actor=dentista.user, plan_id=plan.pk, prestacion_id=_prestacion().pk, diente=16, superficie="O")
    return plan


def _hallazgo(cliente, dentista):
    return registrar_cambios(actor=dentista.user, cliente_id=cliente.pk,
                             cambios=[{"diente": 26, "superficie": "M", "estado": "caries"}])[0]
