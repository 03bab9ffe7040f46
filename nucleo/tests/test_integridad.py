"""nucleo.integridad: the registry that each app's integrity checks join (no database here:
the checks are stand-ins)."""

import pytest

from nucleo.integridad import Hallazgo, Registro


def _verificacion(*hallazgos):
    def verificacion(*, limite):
        return list(hallazgos)

    return verificacion


def test_registrar_como_decorador_con_y_sin_etiquetas_y_llamado():
    registro = Registro()

    @registro.registrar
    def sin_etiquetas(*, limite):
        return []

    @registro.registrar("citas", "agenda")
    def con_etiquetas(*, limite):
        return []

    def llamada(*, limite):
        return []

    assert registro.registrar(llamada, "avisos") is llamada
    assert registro.verificaciones() == [sin_etiquetas, con_etiquetas, llamada]
    assert registro.etiquetas_de(sin_etiquetas) == frozenset()
    assert registro.etiquetas_de(con_etiquetas) == {"citas", "agenda"}
    assert registro.etiquetas() == {"citas", "agenda", "avisos"}


def test_una_verificacion_registrada_dos_veces_es_una():
    registro = Registro()
    primera, segunda = _verificacion(Hallazgo("a", 1, "A")), _verificacion(Hallazgo("b", 1, "B"))
    registro.registrar(primera, "x")
    registro.registrar(segunda)
    registro.registrar(primera, "y")  # keeps its place; the last tags given win, as in Django
    assert registro.verificaciones() == [primera, segunda]
    assert registro.etiquetas_de(primera) == {"y"}
    assert [h.codigo for h in registro.ejecutar(limite=None).hallazgos] == ["a", "b"]


def test_las_etiquetas_filtran():
    registro = Registro()
    citas = registro.registrar(_verificacion(Hallazgo("cita", 3, "C")), "citas")
    avisos = registro.registrar(_verificacion(Hallazgo("aviso", 6, "A")), "avisos", "externos")
    registro.registrar(_verificacion(Hallazgo("libre", 1, "L")))
    assert registro.verificaciones(["citas"]) == [citas]
    assert registro.verificaciones({"externos", "citas"}) == [citas, avisos]
    assert registro.verificaciones([]) == []
    assert [h.codigo for h in registro.ejecutar(limite=None, etiquetas=["avisos"]).hallazgos] == ["aviso"]


def test_el_informe_ordena_por_invariante_y_respeta_el_orden_de_registro_dentro_de_cada_una():
    registro = Registro()
    registro.registrar(_verificacion(Hallazgo("avisos", 6, "A"), Hallazgo("avisos_info", 6, "I", informativo=True)))
    registro.registrar(_verificacion(Hallazgo("rut", 1, "R", cantidad=2), Hallazgo("correo", 1, "C")))
    registro.registrar(_verificacion(Hallazgo("traslape", 3, "T")))
    registro.registrar(_verificacion(Hallazgo("telefono", 1, "F", cantidad=1)))
    informe = registro.ejecutar(limite=10)
    assert [h.codigo for h in informe.hallazgos] == ["rut", "correo", "telefono", "traslape", "avisos", "avisos_info"]
    assert [h.codigo for h in informe.problemas] == ["rut", "telefono"]
    assert informe.total_problemas == 3 and not informe.ok


def test_cada_verificacion_recibe_el_limite():
    registro = Registro()
    vistos = []

    @registro.registrar
    def verificacion(*, limite):
        vistos.append(limite)
        yield Hallazgo("x", 1, "X")

    registro.ejecutar(limite=5)
    registro.ejecutar(limite=None)
    assert vistos == [5, None]


def test_un_error_de_una_verificacion_no_deja_un_informe_a_medias():
    registro = Registro()
    registro.registrar(_verificacion(Hallazgo("a", 1, "A")))

    @registro.registrar
    def rota(*, limite):
        raise RuntimeError("la base se cayó")

    with pytest.raises(RuntimeError):
        registro.ejecutar(limite=None)
