"""Portal: "Quién vio mi ficha" (issue 15). The patient sees their own rows of the read log
(when, who, role, what, urgent access flagged, refused attempts as such), never IPs or an
urgent access's reason, and never another patient's rows."""

import pytest
from django.urls import reverse

from ficha.acceso import Acceso
from ficha.lecturas import registrar_lectura
from ficha.models import Seccion, Via
from gestion_clinica.tests.conftest import cliente_de

pytestmark = pytest.mark.django_db
URL = reverse("portal:cuenta_lecturas_ficha")


def _leer(usuario, cliente, seccion, via, motivo=""):
    registrar_lectura(usuario=usuario, cliente_id=cliente.pk, seccion=seccion, ip="10.9.8.7",
                      acceso=Acceso(permitido=via != Via.DENEGADO, via=via, rol="Dentista", motivo_urgencia=motivo))


def test_quien_vio_mi_ficha(portal, paciente, otro_paciente, dentista, crear_personal):
    ajeno = crear_personal(rol="dentista", nombre="Jorge", apellido="Mora")
    _leer(dentista.user, paciente.cliente, Seccion.ANTECEDENTES, Via.EQUIPO)
    _leer(ajeno.user, paciente.cliente, Seccion.DOCUMENTO, Via.DENEGADO)
    _leer(ajeno.user, paciente.cliente, Seccion.DOCUMENTO, Via.URGENCIA, "Motivo-secreto de la urgencia")
    _leer(dentista.user, otro_paciente.cliente, Seccion.EVOLUCION, Via.EQUIPO)
    _leer(paciente, paciente.cliente, Seccion.PDF, Via.PACIENTE)  # their own copy: logged, not listed
    texto = portal.get(URL).text
    assert texto.count('class="card shadow-sm mb-2 lectura') == 3
    assert "Camila Soto" in texto and "Jorge Mora" in texto and "Dentista" in texto
    assert "Vio: Antecedentes" in texto and "Vio: Documento" in texto
    assert "Acceso de urgencia" in texto and "Intento sin acceso" in texto
    assert "PDF de la ficha" not in texto
    assert "10.9.8.7" not in texto and "Motivo-secreto" not in texto and "evolución" not in texto.lower().split("vio:")[-1]
    # The other patient sees only their own row.
    del_otro = cliente_de(otro_paciente).get(URL).text
    assert del_otro.count('class="card shadow-sm mb-2 lectura') == 1 and "Jorge Mora" not in del_otro
    assert "Vio: Evolución" in del_otro


def test_sin_lecturas_y_paginas(portal, paciente, dentista):
    assert "Nadie ha abierto su ficha clínica todavía." in portal.get(URL).text
    for _ in range(25):
        _leer(dentista.user, paciente.cliente, Seccion.FICHA, Via.EQUIPO)
    primera = portal.get(URL).text
    assert primera.count('class="card shadow-sm mb-2 lectura') == 20 and "Página 1 de 2" in primera
    segunda = portal.get(URL, {"pagina": "2"}).text
    assert segunda.count('class="card shadow-sm mb-2 lectura') == 5
    for malo in ("x", "-1", "99999999999999999999"):
        assert portal.get(URL, {"pagina": malo}).status_code == 200


def test_mi_cuenta_enlaza_la_pagina(portal):
    assert f'href="{URL}"' in portal.get(reverse("portal:mi_cuenta")).text
