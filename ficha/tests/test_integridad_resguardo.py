"""``verificar_integridad`` over the legal hold: a held record's patient keeps no contact data,
account or live consent; every hold names a patient."""

import pytest
from django.core.management.base import CommandError

from cuentas.eliminacion import eliminar_cliente
from ficha.tests.escenas_resguardo import con_ficha_completa, media  # noqa: F401
from mantenimiento.selectors import verificar_integridad
from mantenimiento.tests.ayudas import comando, ejecutar, quitar_restriccion


def _hallazgo(codigo):
    return next(h for h in verificar_integridad(etiquetas=["ficha"], limite_ejemplos=10).hallazgos
                if h.codigo == codigo)


@pytest.fixture
def eliminado(recepcionista, dentista, manana_10, media):
    e = con_ficha_completa(5, recepcionista=recepcionista, dentista=dentista, manana_10=manana_10, media=media)
    eliminar_cliente(actor=recepcionista.user, cliente_id=e["cliente"].pk)
    return e


def test_un_eliminado_bien_hecho_no_tiene_hallazgos(eliminado):
    assert verificar_integridad(etiquetas=["ficha"]).ok


@pytest.mark.parametrize("sql, queda", [
    ("UPDATE pacientes_cliente SET email = 'vuelve@correo.example' WHERE id = %s", ["correo"]),
    ("UPDATE pacientes_cliente SET telefono = '+56961112233' WHERE id = %s", ["telefono"]),
    ("UPDATE pacientes_cliente SET activo = true WHERE id = %s", ["activo"]),
    ("UPDATE pacientes_consentimientocanal SET revocado_en = NULL, revocado_medio = '' WHERE cliente_id = %s",
     ["consentimiento"]),
])
def test_resguardo_con_contacto(eliminado, sql, queda):
    cliente_id = eliminado["cliente"].pk
    ejecutar(sql, [cliente_id])
    hallazgo = _hallazgo("resguardo_con_contacto")
    assert hallazgo.cantidad == 1
    assert [(e["cliente_id"], e["queda"]) for e in hallazgo.ejemplos] == [(cliente_id, queda)]
    with pytest.raises(CommandError):
        comando("verificar_integridad")


def test_resguardo_con_cuenta(eliminado, django_user_model):
    user = django_user_model.objects.create_user(username="vuelve@correo.example")
    ejecutar("UPDATE pacientes_cliente SET user_id = %s WHERE id = %s", [user.pk, eliminado["cliente"].pk])
    assert [e["queda"] for e in _hallazgo("resguardo_con_contacto").ejemplos] == [["cuenta"]]


def test_resguardo_sin_paciente(eliminado):
    quitar_restriccion("ficha_resguardo", _fk_de_resguardo())
    ejecutar("UPDATE ficha_resguardo SET cliente_id = 987654 WHERE cliente_id = %s", [eliminado["cliente"].pk])
    hallazgo = _hallazgo("resguardo_sin_paciente")
    assert hallazgo.cantidad == 1 and hallazgo.ejemplos[0]["cliente_id"] == 987654


def _fk_de_resguardo():
    return ejecutar("""SELECT conname FROM pg_constraint WHERE conrelid = 'ficha_resguardo'::regclass
                        AND contype = 'f'""")[0][0]
