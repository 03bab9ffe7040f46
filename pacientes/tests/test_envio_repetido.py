"""A walk-in form sent twice (double click, browser retry, back + resubmit) creates one patient:
the form's one-time key (``clave_envio``) is held unique by the database."""

import threading
import uuid

import pghistory.models
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from notificaciones.models import Notificacion
from pruebas.soporte import rechazado_por
from pacientes.models import Cliente
from cuentas.presencial import crear_cliente_presencial

User = get_user_model()


def presencial(actor, **extra):
    return crear_cliente_presencial(actor=actor, **{"nombre_completo": "Rosa Pérez Lagos", **extra})


def con_invitacion(actor, clave):
    return presencial(actor, email="rosa.perez@correo.example", rut="10.000.013-k", telefono="9 6123 4567",
                      enviar_invitacion=True, clave_envio=clave)


def test_la_misma_clave_dos_veces_crea_un_paciente(recepcionista):
    clave = uuid.uuid4()
    primero = presencial(recepcionista.user, clave_envio=clave)
    with pytest.raises(ValidationError) as error:
        presencial(recepcionista.user, clave_envio=clave)
    assert error.value.code == "envio_repetido"
    assert error.value.params == {"cliente_id": primero.pk}
    assert Cliente.objects.count() == 1
    assert Cliente.objects.get().clave_envio == clave


def test_repetir_con_invitacion_no_manda_otra_ni_choca_con_el_rut(recepcionista):
    clave = uuid.uuid4()
    primero = con_invitacion(recepcionista.user, clave)
    # The same RUT and e-mail would read "duplicate patient"; the key is checked first.
    with pytest.raises(ValidationError) as error:
        con_invitacion(recepcionista.user, str(clave))
    assert (error.value.code, error.value.params) == ("envio_repetido", {"cliente_id": primero.pk})
    assert Cliente.objects.count() == 1 and User.objects.filter(is_staff=False).count() == 1
    assert Notificacion.objects.filter(plantilla="invitacion").count() == 1


def test_claves_distintas_son_dos_pacientes_aunque_tengan_el_mismo_nombre(recepcionista):
    presencial(recepcionista.user, clave_envio=uuid.uuid4())
    presencial(recepcionista.user, clave_envio=uuid.uuid4())
    assert Cliente.objects.filter(nombre_completo="Rosa Pérez Lagos").count() == 2


@pytest.mark.parametrize("clave", [None, ""])
def test_sin_clave_se_comporta_como_antes(recepcionista, clave):
    presencial(recepcionista.user, clave_envio=clave)
    presencial(recepcionista.user)
    assert Cliente.objects.count() == 2
    assert not Cliente.objects.filter(clave_envio__isnull=False).exists()


@pytest.mark.parametrize("clave", ["no-es-uuid", "x" * 10_000, "1" * 10_000, "<script>alert(1)</script>", 123])
def test_clave_alterada_se_rechaza_sin_crear_nada(recepcionista, clave):
    with pytest.raises(ValidationError) as error:
        presencial(recepcionista.user, clave_envio=clave)
    assert error.value.code == "clave_envio_invalida"
    assert "Recargue la página" in error.value.messages[0]
    assert not Cliente.objects.exists()


def test_la_base_de_datos_rechaza_la_clave_repetida(db):
    clave = uuid.uuid4()
    Cliente.objects.create(nombre_completo="Uno", clave_envio=clave)
    with rechazado_por("cliente_clave_envio_unica", "envio_repetido"):
        Cliente.objects.create(nombre_completo="Dos", clave_envio=clave)
    # NULL is never "the same key": patients from other paths stay unlimited.
    Cliente.objects.create(nombre_completo="Tres")
    Cliente.objects.create(nombre_completo="Cuatro")
    assert Cliente.objects.count() == 3


def test_la_clave_queda_en_el_historial_de_auditoria(recepcionista):
    clave = uuid.uuid4()
    cliente = presencial(recepcionista.user, clave_envio=clave)
    evento = pghistory.models.Events.objects.get(pgh_obj_model="pacientes.Cliente", pgh_obj_id=str(cliente.pk))
    assert evento.pgh_data["clave_envio"] == str(clave)


def _en_paralelo(n, funcion):
    """Run ``funcion()`` in n threads released together; returns each result or error code."""
    barrera = threading.Barrier(n)
    resultados = []

    def correr():
        try:
            barrera.wait()
            resultados.append(("ok", funcion().pk))
        except ValidationError as error:
            resultados.append((error.code, (error.params or {}).get("cliente_id")))
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr) for _ in range(n)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    return resultados


@pytest.mark.django_db(transaction=True)
def test_envios_simultaneos_con_la_misma_clave_crean_una_fila(recepcionista):
    clave = uuid.uuid4()
    resultados = _en_paralelo(4, lambda: presencial(recepcionista.user, clave_envio=clave))
    cliente = Cliente.objects.get()
    assert sorted(resultados) == sorted([("ok", cliente.pk)] + [("envio_repetido", cliente.pk)] * 3)


@pytest.mark.django_db(transaction=True)
def test_envios_simultaneos_con_invitacion_mandan_una_sola(recepcionista):
    # With RUT and e-mail the loser may be stopped by their unique index before the key's:
    # the answer is still envio_repetido, pointing to the winner.
    clave = uuid.uuid4()
    resultados = _en_paralelo(4, lambda: con_invitacion(recepcionista.user, clave))
    cliente = Cliente.objects.get()
    assert sorted(resultados) == sorted([("ok", cliente.pk)] + [("envio_repetido", cliente.pk)] * 3)
    assert User.objects.filter(is_staff=False).count() == 1
    assert Notificacion.objects.filter(plantilla="invitacion").count() == 1


@pytest.mark.django_db(transaction=True)
def test_fallas_con_clave_no_dejan_nada(probar_fallas, recepcionista):
    clave = uuid.uuid4()
    assert probar_fallas(lambda: con_invitacion(recepcionista.user, clave)) >= 3
    assert Cliente.objects.get().clave_envio == clave
