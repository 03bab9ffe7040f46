"""The arancel's services: every kind of bad input gets a Spanish message and changes nothing;
only the administration keeps it; a prestación is deactivated, never deleted."""

import pytest
from django.core.exceptions import ValidationError

from ficha.models import EstadoDental
from personal.models import Rol
from prestaciones.models import HALLAZGOS_TRATABLES, Prestacion, PrestacionDentista
from prestaciones.services import asignar_dentistas, cambiar_estado_prestacion, crear_prestacion, editar_prestacion
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

BIEN = {"codigo": "OBT-01", "nombre": "Obturación resina", "especialidad": "Operatoria", "duracion_minutos": 45,
        "precio": 45000, "reservable_en_linea": False, "trata_hallazgo": "caries"}


@pytest.fixture
def admin(crear_personal):
    return crear_personal(rol=Rol.ADMINISTRADOR, username="admin.arancel").user


def test_hallazgos_tratables_son_los_estados_del_odontograma():
    assert HALLAZGOS_TRATABLES == {e.value: e.label for e in EstadoDental}


def test_crear_editar_y_dentistas(admin, dentista):
    p = crear_prestacion(actor=admin, dentista_ids=[dentista.pk], **{**BIEN, "codigo": " obt-01 "})
    assert (p.codigo, p.precio, p.activa) == ("OBT-01", 45000, True)
    assert list(p.dentistas.all()) == [dentista]
    editar_prestacion(actor=admin, prestacion_id=p.pk, dentista_ids=[], **{**BIEN, "precio": 50000})
    p.refresh_from_db()
    assert p.precio == 50000 and not p.dentistas.exists()
    asignar_dentistas(actor=admin, prestacion_id=p.pk, dentista_ids=[dentista.pk])
    assert PrestacionDentista.objects.filter(prestacion=p).count() == 1


@pytest.mark.parametrize("cambio, campo, codigo", [
    ({"codigo": ""}, "codigo", "codigo_invalido"),
    ({"codigo": "obt 01"}, "codigo", "codigo_invalido"),
    ({"codigo": "X" * 21}, "codigo", "codigo_invalido"),
    ({"nombre": "  "}, "nombre", "nombre_requerido"),
    ({"nombre": "a" * 121}, "nombre", "texto_largo"),
    ({"nombre": "a\x00b"}, "nombre", "caracter_invalido"),
    ({"duracion_minutos": 4}, "duracion_minutos", "duracion_invalida"),
    ({"duracion_minutos": 481}, "duracion_minutos", "duracion_invalida"),
    ({"duracion_minutos": "treinta"}, "duracion_minutos", "duracion_invalida"),
    ({"precio": -1}, "precio", "precio_invalido"),
    ({"precio": 100_000_001}, "precio", "precio_invalido"),
    ({"precio": 12.5}, "precio", "precio_invalido"),
    ({"precio": "12500"}, "precio", "precio_invalido"),
    ({"trata_hallazgo": "gingivitis"}, "trata_hallazgo", "hallazgo_invalido"),
])
def test_datos_malos_mensaje_y_nada_cambia(admin, cambio, campo, codigo):
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        crear_prestacion(actor=admin, **{**BIEN, **cambio})
    assert [e.code for e in error.value.error_dict[campo]] == [codigo]
    assert huella_bd() == antes


def test_codigo_duplicado(admin):
    crear_prestacion(actor=admin, **BIEN)
    otra = crear_prestacion(actor=admin, **{**BIEN, "codigo": "OBT-02"})
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        crear_prestacion(actor=admin, **BIEN)
    assert error.value.message_dict["codigo"] == ["Ya existe una prestación con ese código."]
    with pytest.raises(ValidationError):
        editar_prestacion(actor=admin, prestacion_id=otra.pk, **BIEN)
    assert huella_bd() == antes


def test_dentista_invalido_y_no_administrador(admin, dentista, recepcionista):
    antes = huella_bd()
    for ids in ([recepcionista.pk], [10**12], ["x"]):
        with pytest.raises(ValidationError) as error:
            crear_prestacion(actor=admin, dentista_ids=ids, **BIEN)
        assert error.value.error_dict["dentistas"][0].code == "dentista_invalido"
    for actor in (dentista.user, recepcionista.user, None):
        with pytest.raises(ValidationError) as error:
            crear_prestacion(actor=actor, **BIEN)
        assert error.value.code == "sin_permiso"
    assert huella_bd() == antes


def test_desactivar_apaga_la_reserva_en_linea_y_no_borra(admin):
    p = crear_prestacion(actor=admin, **{**BIEN, "reservable_en_linea": True})
    cambiar_estado_prestacion(actor=admin, prestacion_id=p.pk, activa=False)
    p.refresh_from_db()
    assert (p.activa, p.reservable_en_linea) == (False, False)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        editar_prestacion(actor=admin, prestacion_id=p.pk, **{**BIEN, "reservable_en_linea": True})
    assert error.value.error_dict["reservable_en_linea"][0].code == "inactiva_en_linea"
    assert huella_bd() == antes
    cambiar_estado_prestacion(actor=admin, prestacion_id=p.pk, activa=True)
    assert Prestacion.objects.get(pk=p.pk).activa
    with pytest.raises(Prestacion.DoesNotExist):
        cambiar_estado_prestacion(actor=admin, prestacion_id=10**12, activa=True)
