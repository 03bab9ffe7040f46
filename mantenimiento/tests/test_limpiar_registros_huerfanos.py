import builtins

import pytest
from django.core.management.base import CommandError

from citas.tests.test_services import registrar_paciente
from mantenimiento.selectors import huerfanos
from mantenimiento.tests.ayudas import (
    comando, cuenta_suelta, ejecutar, eventos, existe, ficha, perfil_a_mano, valor,
)
from pruebas.soporte import huella_bd
from personal.models import Rol


@pytest.fixture
def escenario(db, crear_personal):
    """Orphans of every kind next to everything that must survive."""
    e = {}
    e["sano"] = registrar_paciente(1)
    desactivado = registrar_paciente(2)
    ejecutar("UPDATE pacientes_cliente SET activo = false WHERE user_id = %s", [desactivado.pk])
    e["desactivado"], e["ficha_desactivada"] = desactivado, desactivado.cliente.pk
    borrado = registrar_paciente(3)
    ejecutar("UPDATE notificaciones_notificacion SET cliente_id = NULL WHERE cliente_id = %s", [borrado.cliente.pk])
    ejecutar("DELETE FROM pacientes_cliente WHERE user_id = %s", [borrado.pk])
    e["borrado"] = borrado
    e["sin_ficha"] = cuenta_suelta("suelta@correo.example")
    recepcion = crear_personal(rol=Rol.RECEPCION, username="recepcion")
    e["recepcion"] = recepcion.user_id
    e["perfil_de_recepcion"] = perfil_a_mano(recepcion.user_id)
    personal_sin_staff = crear_personal(rol=Rol.DENTISTA, username="dr.sinstaff")
    ejecutar("UPDATE auth_user SET is_staff = false WHERE id = %s", [personal_sin_staff.user_id])
    e["personal_sin_staff"] = personal_sin_staff.user_id
    e["superusuario"] = cuenta_suelta("admin", "admin@clinica.example", superuser=True)
    e["staff"] = cuenta_suelta("soporte", "soporte@clinica.example", staff=True)
    # Old data: the patient was never linked to their login; sincronizar_clientes links them.
    ficha("Paciente Antiguo", email="antiguo@correo.example")
    e["vinculable"] = cuenta_suelta("antiguo@correo.example", "ANTIGUO@correo.example ")
    e["usuarios_huerfanos"] = sorted([desactivado.pk, borrado.pk, e["sin_ficha"]])
    e["perfiles_huerfanos"] = sorted([
        desactivado.perfil_cliente.pk, borrado.perfil_cliente.pk, e["perfil_de_recepcion"],
    ])
    e["sobreviven"] = [e["sano"].pk, e["recepcion"], e["personal_sin_staff"], e["superusuario"], e["staff"],
                       e["vinculable"]]
    return e


def test_el_selector_encuentra_exactamente_los_huerfanos(escenario):
    lista = huerfanos(limite=0)
    assert [u.id for u in lista.usuarios] == escenario["usuarios_huerfanos"]
    assert lista.total_usuarios == 3
    assert {u.id: u.ficha_inactiva for u in lista.usuarios}[escenario["desactivado"].pk] is True
    assert [p.id for p in lista.perfiles] == escenario["perfiles_huerfanos"]
    assert [p.de_personal for p in lista.perfiles if p.id == escenario["perfil_de_recepcion"]] == [True]
    assert lista.por_vincular == 1


def test_dry_run_solo_lista(escenario):
    antes = huella_bd()
    salida = comando("limpiar_registros_huerfanos", "--dry-run")
    assert huella_bd() == antes
    assert "Cuentas de paciente sin ficha activa: 3" in salida
    assert "Perfiles del portal sin ficha activa: 3" in salida
    assert "suelta@correo.example" in salida and "su ficha está desactivada" in salida
    assert "cuenta del personal: solo se elimina el perfil" in salida
    assert "vincúlelas con sincronizar_clientes" in salida
    assert "Modo --dry-run: no se eliminó nada." in salida


def test_force_elimina_solo_los_huerfanos_y_queda_auditado(escenario):
    salida = comando("limpiar_registros_huerfanos", "--force")
    assert "Eliminadas 3 cuentas de paciente y 3 perfiles del portal." in salida
    for user_id in escenario["usuarios_huerfanos"]:
        assert not existe("auth_user", user_id)
    for perfil_id in escenario["perfiles_huerfanos"]:
        assert not existe("cuentas_perfilcliente", perfil_id)
    for user_id in escenario["sobreviven"]:
        assert existe("auth_user", user_id)
    assert existe("cuentas_perfilcliente", escenario["sano"].perfil_cliente.pk)
    # The deactivated patient's record stays, without the deleted login.
    assert valor("SELECT user_id FROM pacientes_cliente WHERE id = %s", [escenario["ficha_desactivada"]]) is None
    servicio = "limpiar_registros_huerfanos"
    assert eventos("cuentas_userevent", "delete", servicio) == escenario["usuarios_huerfanos"]
    assert eventos("cuentas_perfilclienteevent", "delete", servicio) == escenario["perfiles_huerfanos"]
    assert eventos("pacientes_clienteevent", "update", servicio) == [escenario["ficha_desactivada"]]


def test_dos_veces_no_hace_dano(escenario):
    comando("limpiar_registros_huerfanos", "--force")
    antes = huella_bd()
    salida = comando("limpiar_registros_huerfanos", "--force")
    assert "Eliminadas 0 cuentas de paciente y 0 perfiles del portal." in salida
    assert "No hay registros huérfanos." in comando("limpiar_registros_huerfanos")
    assert huella_bd() == antes


@pytest.mark.parametrize("respuesta", ["s", "si", "sí", " SÍ ", "S"])
def test_confirmar_elimina(escenario, monkeypatch, respuesta):
    monkeypatch.setattr(builtins, "input", lambda *a: respuesta)
    salida = comando("limpiar_registros_huerfanos")
    assert "¿Eliminar 3 cuentas y 3 perfiles?" in salida
    assert "Eliminadas 3 cuentas de paciente y 3 perfiles del portal." in salida
    assert huerfanos().vacio


@pytest.mark.parametrize("respuesta", ["n", "no", "", "yes", "sii"])
def test_no_confirmar_no_cambia_nada(escenario, monkeypatch, respuesta):
    monkeypatch.setattr(builtins, "input", lambda *a: respuesta)
    antes = huella_bd()
    assert "Cancelado: no se eliminó nada." in comando("limpiar_registros_huerfanos")
    assert huella_bd() == antes


def test_fin_de_entrada_es_no(escenario, monkeypatch):
    def sin_entrada(*a):
        raise EOFError

    monkeypatch.setattr(builtins, "input", sin_entrada)
    antes = huella_bd()
    assert "Cancelado" in comando("limpiar_registros_huerfanos")
    assert huella_bd() == antes


def test_sin_huerfanos_no_pregunta(db, monkeypatch):
    registrar_paciente(1)

    def no_preguntar(*a):
        raise AssertionError("no debía preguntar")

    monkeypatch.setattr(builtins, "input", no_preguntar)
    assert "No hay registros huérfanos. No se eliminó nada." in comando("limpiar_registros_huerfanos")


def test_dry_run_y_force_juntos_es_error(db):
    with pytest.raises(CommandError, match="no los dos"):
        comando("limpiar_registros_huerfanos", "--dry-run", "--force")


def test_limite_resume_el_resto(db):
    for n in range(5):
        cuenta_suelta(f"suelta{n}@correo.example")
    salida = comando("limpiar_registros_huerfanos", "--dry-run", "--limite", "2")
    assert "... y 3 más (use --limite 0 para verlos todos)" in salida


def test_las_filas_que_apuntan_a_la_cuenta_se_sueltan_o_se_borran(escenario):
    """Another app's foreign keys to auth_user follow their on_delete, in SQL."""
    grupo = valor("INSERT INTO auth_group (name) VALUES ('pacientes') RETURNING id")
    ejecutar("INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)", [escenario["sin_ficha"], grupo])
    salida = comando("limpiar_registros_huerfanos", "--force")
    assert "auth_user_groups: 1" in salida
    assert valor("SELECT count(*) FROM auth_user_groups") == 0


def test_por_lotes_borra_lo_mismo(escenario, monkeypatch):
    """The writes go in batches of LOTE rows; a batch of one gives the same result."""
    from mantenimiento import services

    monkeypatch.setattr(services, "LOTE", 1)
    resultado = services.limpiar_registros_huerfanos(actor=None)
    assert [u.id for u in resultado.usuarios] == escenario["usuarios_huerfanos"]
    assert [p.id for p in resultado.perfiles] == escenario["perfiles_huerfanos"]
    assert resultado.fichas_desvinculadas == 1
    assert huerfanos().vacio
