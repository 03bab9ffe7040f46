"""The integrity checks of every app reach ``verificar_integridad`` through the registry of
``nucleo.integridad``: each app contributes its own, registered when the app loads."""

import pytest

from mantenimiento.selectors import verificar_integridad
from nucleo.integridad import registro

# Codes each app's ``integridad`` module reports, in the report's order.
POR_MODULO = {
    "pacientes.integridad": ["rut_duplicado", "email_duplicado", "telefono_duplicado", "dato_no_normalizado"],
    "mantenimiento.integridad": ["cuenta_huerfana", "perfil_huerfano", "cuenta_por_vincular", "vinculo_ambiguo",
                                 "cuenta_desincronizada", "cuenta_sin_perfil"],
    "citas.integridad": ["citas_traslapadas", "cita_reservada_sin_paciente", "cita_disponible_con_paciente",
                         "cita_bloqueada_con_paciente", "cita_cancelada_sin_historial", "cancelacion_no_coincide",
                         "hora_libre_en_cierre"],
    "notificaciones.integridad": ["aviso_estancado", "trabajo_fallido", "aviso_fallido", "aviso_sin_proveedor"],
    "ficha.integridad": ["resguardo_con_contacto", "resguardo_sin_paciente"],
    "tratamientos.integridad": ["presupuesto_no_cuadra", "presupuesto_de_otro_paciente"],
    "pagos.integridad": ["pago_no_cuadra", "presupuesto_sobrepagado", "saldo_a_favor_negativo",
                         "anulacion_no_cuadra"],
}


def test_cada_app_aporta_sus_verificaciones_al_cargar():
    modulos = {f.__module__ for f in registro.verificaciones()}
    assert set(POR_MODULO) <= modulos
    assert {"pacientes", "cuentas", "citas", "notificaciones", "ficha", "tratamientos", "pagos"} <= registro.etiquetas()


def test_volver_a_importar_un_modulo_no_duplica_sus_verificaciones():
    import importlib

    antes = registro.verificaciones()
    importlib.import_module("citas.integridad")  # already imported by CitasConfig.ready: a no-op
    from citas import integridad

    registro.registrar(integridad.citas_traslapadas, "citas")  # registering twice is once
    assert registro.verificaciones() == antes


@pytest.mark.django_db
def test_el_informe_junta_las_de_todas_las_apps_en_el_orden_de_siempre():
    informe = verificar_integridad(limite_ejemplos=0)
    codigos = [h.codigo for h in informe.hallazgos]
    # By invariant, then in registration order: hora_libre_en_cierre (7) goes after the notices' (6),
    # the legal hold's (8) and the annulment's (8) before the money totals (9), last.
    tardios = ["hora_libre_en_cierre", *POR_MODULO["ficha.integridad"], "anulacion_no_cuadra",
               *POR_MODULO["tratamientos.integridad"],
               *[c for c in POR_MODULO["pagos.integridad"] if c != "anulacion_no_cuadra"]]
    assert codigos == [c for lista in POR_MODULO.values() for c in lista if c not in tardios] + tardios
    assert [h.invariante for h in informe.hallazgos] == sorted(h.invariante for h in informe.hallazgos)
    assert informe.ok


@pytest.mark.django_db
@pytest.mark.parametrize("etiqueta, modulo", [("pacientes", "pacientes.integridad"),
                                               ("cuentas", "mantenimiento.integridad"),
                                               ("citas", "citas.integridad"),
                                               ("notificaciones", "notificaciones.integridad"),
                                               ("ficha", "ficha.integridad"),
                                               ("tratamientos", "tratamientos.integridad")])
def test_las_etiquetas_eligen_las_verificaciones(etiqueta, modulo):
    informe = verificar_integridad(etiquetas=[etiqueta])
    assert [h.codigo for h in informe.hallazgos] == POR_MODULO[modulo]
