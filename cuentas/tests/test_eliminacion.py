"""Deleting a patient whose login is not linked (old data): the seed's fallback finds their
account by e-mail or by username, each case on its own, and never anybody else's; it says so
in a warning line (ids only)."""

import logging

import pytest
from django.contrib.auth import get_user_model

from cuentas.eliminacion import eliminar_cliente, resumen_eliminacion
from cuentas.models import PerfilCliente
from cuentas.presencial import crear_cliente_presencial
from pacientes.models import Cliente
from personal.models import Perfil, Rol

User = get_user_model()
CORREO = "javiera.fuentes@correo.example"


@pytest.fixture
def ficha_sin_cuenta(recepcionista):
    """A walk-in record with e-mail and no linked login (``user_id`` NULL)."""
    return crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Javiera Fuentes Muñoz", email=CORREO)


def _cuenta(username, email, **extra):
    user = User.objects.create_user(username=username, email=email, **extra)
    PerfilCliente.objects.create(user=user)
    return user


def _lineas_de_respaldo(caplog):
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and r.getMessage().startswith("cuenta_encontrada_por_respaldo")]


@pytest.mark.parametrize(("username", "email"), [
    (CORREO, "otro.correo@correo.example"),            # by username only
    ("javiera_2019", CORREO),                           # by e-mail only
    ("JAVIERA.FUENTES@Correo.Example", ""),             # username, other case
    ("javiera_2019", "Javiera.Fuentes@CORREO.example"),  # e-mail, other case
], ids=["usuario", "correo", "usuario_mayusculas", "correo_mayusculas"])
def test_el_respaldo_encuentra_la_cuenta_antigua(ficha_sin_cuenta, recepcionista, caplog, username, email):
    antigua = _cuenta(username, email)
    assert resumen_eliminacion(cliente_id=ficha_sin_cuenta.pk).cuenta_eliminada
    with caplog.at_level(logging.INFO):
        resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=ficha_sin_cuenta.pk)
    assert resumen.cuenta_eliminada
    assert not User.objects.filter(pk=antigua.pk).exists()
    assert not PerfilCliente.objects.filter(user_id=antigua.pk).exists()
    assert _lineas_de_respaldo(caplog) == [
        f"cuenta_encontrada_por_respaldo cliente_id={ficha_sin_cuenta.pk} user_ids={antigua.pk}"
    ]
    assert CORREO not in caplog.text.lower()


def _personal(username, email):
    user = User.objects.create_user(username=username, email=email)
    Perfil.objects.create(user=user, rol=Rol.DENTISTA)
    return user


@pytest.mark.parametrize("ajena", [
    lambda: User.objects.create_user(username="staff", email=CORREO, is_staff=True),
    lambda: User.objects.create_superuser(username=CORREO, email="raiz@clinica.example", password="x"),
    lambda: _personal("dra.fuentes", CORREO),
    lambda: Cliente.objects.create(nombre_completo="Otra Javiera", email="otra@correo.example",
                                   user=_cuenta("otra.cuenta", CORREO)).user,
], ids=["is_staff", "superusuario", "perfil_de_personal", "cuenta_de_otro_paciente"])
def test_el_respaldo_nunca_toca_cuentas_ajenas(ficha_sin_cuenta, recepcionista, caplog, ajena):
    cuenta = ajena()
    assert not resumen_eliminacion(cliente_id=ficha_sin_cuenta.pk).cuenta_eliminada
    with caplog.at_level(logging.INFO):
        resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=ficha_sin_cuenta.pk)
    assert not resumen.cuenta_eliminada
    assert User.objects.filter(pk=cuenta.pk).exists()
    assert _lineas_de_respaldo(caplog) == []


def test_sin_correo_no_hay_respaldo(recepcionista, caplog):
    ficha = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Pedro Sin Correo",
                                     telefono="+56961234567")
    vacia = _cuenta("pedro", "")
    with caplog.at_level(logging.INFO):
        assert not eliminar_cliente(actor=recepcionista.user, cliente_id=ficha.pk).cuenta_eliminada
    assert User.objects.filter(pk=vacia.pk).exists()
    assert _lineas_de_respaldo(caplog) == []


def test_la_cuenta_vinculada_no_deja_linea_de_respaldo(recepcionista, caplog):
    ficha = crear_cliente_presencial(actor=recepcionista.user, nombre_completo="Ana Rivas",
                                     email="ana@correo.example", enviar_invitacion=True)
    with caplog.at_level(logging.INFO):
        assert eliminar_cliente(actor=recepcionista.user, cliente_id=ficha.pk).cuenta_eliminada
    assert _lineas_de_respaldo(caplog) == []
    assert any(r.getMessage().startswith("cliente_eliminado ") for r in caplog.records)
