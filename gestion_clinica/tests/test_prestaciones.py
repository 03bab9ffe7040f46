"""The arancel's screens (issue 17): the administrator lists, creates (price typed "$12.500"),
edits with the dentists as checkboxes, deactivates and reactivates; bad input gets a Spanish
message next to its field and changes nothing."""

import pytest
from django.urls import reverse

from gestion_clinica.tests.conftest import cliente_de
from prestaciones.models import Prestacion
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

BIEN = {"codigo": "OBT-01", "nombre": "Obturación resina", "especialidad": "Operatoria", "duracion_minutos": "45",
        "precio": "$12.500", "trata_hallazgo": "caries"}


def _texto(respuesta):
    return respuesta.content.decode()


def test_crear_listar_editar_y_desactivar(administrador, dentista):
    cliente = cliente_de(administrador.user)
    formulario = _texto(cliente.get(reverse("gestion:prestacion_nueva")))
    assert dentista.nombre in formulario and 'type="checkbox"' in formulario
    respuesta = cliente.post(reverse("gestion:prestacion_nueva"), {**BIEN, "dentistas": [dentista.pk],
                                                                   "reservable_en_linea": "on"})
    assert respuesta.status_code == 302
    p = Prestacion.objects.get(codigo="OBT-01")
    assert (p.precio, p.reservable_en_linea, list(p.dentistas.all())) == (12500, True, [dentista])
    lista = _texto(cliente.get(reverse("gestion:prestaciones")))
    for texto in ("OBT-01", "Obturación resina", "Operatoria", "45 min", "$12.500", dentista.nombre, "activa"):
        assert texto in lista
    edicion = _texto(cliente.get(reverse("gestion:prestacion", args=[p.pk])))
    assert 'value="$12.500"' in edicion and "checked" in edicion
    cliente.post(reverse("gestion:prestacion", args=[p.pk]), {**BIEN, "precio": "15.000"})
    p.refresh_from_db()
    assert (p.precio, p.reservable_en_linea, p.dentistas.count()) == (15000, False, 0)
    cliente.post(reverse("gestion:prestacion_estado", args=[p.pk]), {"activa": "0"})
    assert not Prestacion.objects.get(pk=p.pk).activa
    assert "Reactivar" in _texto(cliente.get(reverse("gestion:prestaciones")))
    cliente.post(reverse("gestion:prestacion_estado", args=[p.pk]), {"activa": "1"})
    assert Prestacion.objects.get(pk=p.pk).activa


@pytest.mark.parametrize("cambio, mensaje", [
    ({"precio": "12,50"}, "Escriba el monto en pesos, sin decimales (por ejemplo 12.500)."),
    ({"precio": "-5"}, "El monto no puede ser negativo."),
    ({"precio": "100.000.001"}, "El monto no puede superar $100.000.000."),
    ({"precio": ""}, "Complete este campo."),
    ({"duracion_minutos": "3"}, "La duración debe estar entre 5 y 480 minutos."),
    ({"duracion_minutos": "481"}, "La duración debe estar entre 5 y 480 minutos."),
    ({"codigo": "obt 01"}, "El código son letras mayúsculas"),
    ({"nombre": ""}, "Complete este campo."),
    ({"trata_hallazgo": "gingivitis"}, "Elija un hallazgo del odontograma de la lista."),
    ({"dentistas": ["999999"]}, "Elija dentistas de la lista."),
])
def test_datos_malos_mensaje_junto_al_campo_y_nada_cambia(administrador, cambio, mensaje):
    cliente = cliente_de(administrador.user)
    antes = huella_bd()
    respuesta = cliente.post(reverse("gestion:prestacion_nueva"), {**BIEN, **cambio})
    assert respuesta.status_code == 200 and mensaje in _texto(respuesta)
    assert huella_bd() == antes


def test_codigo_duplicado(administrador):
    cliente = cliente_de(administrador.user)
    cliente.post(reverse("gestion:prestacion_nueva"), BIEN)
    antes = huella_bd()
    respuesta = cliente.post(reverse("gestion:prestacion_nueva"), {**BIEN, "nombre": "Otra"})
    assert "Ya existe una prestación con ese código." in _texto(respuesta)
    assert huella_bd() == antes
