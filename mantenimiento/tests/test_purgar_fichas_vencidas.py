"""``purgar_fichas_vencidas``: lists the held records whose period ended, asks, purges each in
its own transaction; nothing before the period; ``--dry-run`` changes nothing."""

import builtins

import pytest
from django.core.management.base import CommandError

from cuentas.eliminacion import eliminar_cliente
from ficha.models import Evolucion, Resguardo
from ficha.tests.escenas_resguardo import archivos_en, con_ficha_completa, ficha_antigua, media  # noqa: F401
from mantenimiento.tests.ayudas import comando, eventos
from pacientes.models import Cliente
from pruebas.soporte import huella_bd


@pytest.fixture
def escenario(recepcionista, dentista, manana_10, media):
    """One record whose hold ended last year, one erased today (held 15 years more) and one
    patient never erased."""
    vencida = ficha_antigua(recepcionista=recepcionista, dentista=dentista, media=media)
    eliminar_cliente(actor=recepcionista.user, cliente_id=vencida["cliente"].pk)
    en_plazo = con_ficha_completa(5, recepcionista=recepcionista, dentista=dentista, manana_10=manana_10, media=media)
    eliminar_cliente(actor=recepcionista.user, cliente_id=en_plazo["cliente"].pk)
    activa = ficha_antigua(recepcionista=recepcionista, dentista=dentista, media=media, nombre="Rosa Activa Vera",
                           rut="11111111-1", anos=17)
    return {"vencida": vencida, "en_plazo": en_plazo, "activa": activa}


def test_dry_run_lista_y_no_cambia_nada(escenario, monkeypatch):
    monkeypatch.setattr(builtins, "input", lambda *a: pytest.fail("no debía preguntar"))
    antes = huella_bd()
    salida = comando("purgar_fichas_vencidas", "--dry-run")
    assert "Fichas en resguardo con el plazo vencido" in salida and ": 1" in salida
    assert f"paciente {escenario['vencida']['cliente'].pk}  Pedro Antiguo Rojas RUT 9.876.543-3" in salida
    assert "(2 evoluciones, 1 documentos)" in salida
    assert "Paciente Número 5" not in salida and "Rosa Activa" not in salida
    assert "Modo --dry-run: no se purgó nada." in salida
    assert huella_bd() == antes


@pytest.mark.parametrize("respuesta", ["n", "", "yes"])
def test_sin_confirmar_no_cambia_nada(escenario, monkeypatch, respuesta):
    monkeypatch.setattr(builtins, "input", lambda *a: respuesta)
    antes = huella_bd()
    salida = comando("purgar_fichas_vencidas")
    assert "¿Purgar 1 ficha(s) clínica(s)?" in salida and "Cancelado: no se purgó nada." in salida
    assert huella_bd() == antes


@pytest.mark.parametrize("opciones", [["--force"], []])
def test_purga_solo_la_vencida(escenario, monkeypatch, media, opciones, django_capture_on_commit_callbacks):
    monkeypatch.setattr(builtins, "input", lambda *a: "s")
    vencida, en_plazo, activa = escenario["vencida"], escenario["en_plazo"], escenario["activa"]
    firmada = vencida["firmada"]
    assert firmada.firmada
    with django_capture_on_commit_callbacks(execute=True):
        salida = comando("purgar_fichas_vencidas", *opciones)
    assert "Fichas purgadas: 1." in salida
    assert ("¿Purgar" in salida) == (not opciones)
    # The held record whose period ended: gone, its signed note included, its file too.
    assert not Cliente.objects.filter(pk=vencida["cliente"].pk).exists()
    assert not Evolucion.objects.filter(pk=firmada.pk).exists()
    assert vencida["documento"].archivo.name not in archivos_en(media)
    assert eventos("ficha_evolucionevent", "delete", "purgar_ficha") == sorted([firmada.pk, vencida["adenda"].pk])
    # The record in its period and the active patient: untouched.
    assert Evolucion.objects.filter(cliente=en_plazo["cliente"]).count() == 2
    assert Resguardo.objects.filter(cliente=en_plazo["cliente"]).exists()
    assert Evolucion.objects.filter(cliente=activa["cliente"]).count() == 2
    assert Cliente.objects.get(pk=activa["cliente"].pk).activo
    # Nothing left to purge.
    assert "No hay fichas vencidas. No se purgó nada." in comando("purgar_fichas_vencidas", "--dry-run")


def test_nada_que_purgar_no_pregunta(db, monkeypatch):
    monkeypatch.setattr(builtins, "input", lambda *a: pytest.fail("no debía preguntar"))
    assert "No hay fichas vencidas. No se purgó nada." in comando("purgar_fichas_vencidas")


def test_dry_run_y_force_juntos_es_error(db):
    with pytest.raises(CommandError, match="no los dos"):
        comando("purgar_fichas_vencidas", "--dry-run", "--force")
