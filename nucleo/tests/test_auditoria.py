"""The audit trail (django-pghistory): database triggers record every change with its actor."""

import pghistory.models
from django.db import connection

from citas.models import Cita
from citas.services import crear_cita_disponible, reservar_cita
from citas.tests.test_services import registrar_paciente


def eventos(modelo, pk):
    return pghistory.models.Events.objects.filter(pgh_obj_model=modelo, pgh_obj_id=str(pk)).order_by("pgh_created_at")


def test_cada_servicio_deja_quien_que_y_cual(dentista, recepcionista, manana_10):
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    user = registrar_paciente(1)
    reservar_cita(user=user, cita_id=hora.pk)

    creada, reservada = eventos("citas.Cita", hora.pk)
    assert creada.pgh_label == "insert"
    assert creada.pgh_context["user"] == recepcionista.user.pk
    assert creada.pgh_context["servicio"] == "crear_cita_disponible"
    assert reservada.pgh_label == "update"
    assert reservada.pgh_context["user"] == user.pk
    assert reservada.pgh_context["servicio"] == "reservar_cita"
    assert reservada.pgh_diff["estado"] == ["disponible", "reservada"]


def test_los_cambios_por_fuera_de_los_servicios_tambien_quedan(dentista, recepcionista, manana_10):
    """Triggers, not signals: bulk update() and raw SQL are audited too (with no actor)."""
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    Cita.objects.filter(pk=hora.pk).update(motivo="por update()")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE citas_cita SET motivo = 'por SQL' WHERE id = %s", [hora.pk])
    motivos = [e.pgh_data["motivo"] for e in eventos("citas.Cita", hora.pk)]
    assert motivos == ["", "por update()", "por SQL"]


def test_la_clave_de_acceso_nunca_queda_en_la_auditoria(db):
    user = registrar_paciente(1)
    [alta] = eventos("cuentas.UsuarioAuditado", user.pk)
    assert alta.pgh_data["email"] == user.email
    assert "password" not in alta.pgh_data
