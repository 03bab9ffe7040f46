"""The patient's own statement on the portal: the same numbers as the staff's, clear wording
for what they owe or have in their favour, and nobody else's account."""

import pytest
from django.urls import reverse

from cliente_web.tests.conftest import cliente_de
from pagos.tests.conftest import armar_cuenta  # noqa: F401 (the scene)
from pagos.tests.escena import hecho, plan_de

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/portal/cuenta/estado/"


def test_el_paciente_ve_su_saldo_a_favor(paciente, armar_cuenta):  # noqa: F811
    escena = armar_cuenta(paciente.cliente)
    html = cliente_de(paciente).get(URL).content.decode()
    assert "Saldo a favor" in html and "$30.000" in html and "Saldo pendiente" not in html
    assert "$115.000" in html and "$145.000" in html
    assert f"Presupuesto N° {escena.q2.numero}" in html and "le falta pagar $12.000" in html
    assert "Obturación resina · diente 16" in html
    assert "0 de 1 prestación realizada<" in html and "2 de 3 prestaciones realizadas<" in html
    assert "comprobante N° %d" % escena.pagos[0].numero in html
    # Each payment links its receipt's PDF.
    assert reverse("portal:mi_comprobante", kwargs={"pago_id": escena.pagos[0].pk}) in html


def test_el_paciente_ve_su_saldo_pendiente(paciente, armar_cuenta):  # noqa: F811
    escena = armar_cuenta(paciente.cliente)
    hecho(plan_de(paciente.cliente, escena.mora), escena.lim, 75000, escena.mora)
    html = cliente_de(paciente).get(URL).content.decode()
    assert "Saldo pendiente" in html and "$45.000" in html


def test_otro_paciente_no_ve_esta_cuenta(paciente, otro_paciente, armar_cuenta):  # noqa: F811
    escena = armar_cuenta(paciente.cliente)
    html = cliente_de(otro_paciente).get(URL).content.decode()
    assert "Al día" in html and "Aún no tiene pagos registrados." in html
    assert "$145.000" not in html and "Obturación" not in html and f"N° {escena.q1.numero}" not in html


def test_sin_movimientos_y_enlaces(paciente):
    c = cliente_de(paciente)
    html = c.get(URL).content.decode()
    assert "Al día" in html and "Aún no hay atenciones realizadas." in html
    assert URL in c.get(reverse("portal:inicio")).content.decode()
    assert URL in c.get(reverse("portal:mi_cuenta")).content.decode()


