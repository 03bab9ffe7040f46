"""The test support itself: ``probar_fallas`` (conftest.py) must fail the services it exists to
catch, or every fault-injection test that uses it proves nothing."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from pruebas.soporte import FallaInyectada


def atomico():
    with transaction.atomic():
        Group.objects.create(name="uno")
        Group.objects.create(name="dos")


def test_un_servicio_atomico_pasa_y_queda_escrito(db, probar_fallas):
    assert probar_fallas(atomico) == 2
    assert sorted(Group.objects.values_list("name", flat=True)) == ["dos", "uno"]


# Writes outside a transaction need autocommit: inside the test's own transaction Django would
# mark it broken at the crash instead of keeping the first row.
@pytest.mark.django_db(transaction=True)
def test_un_servicio_que_deja_una_escritura_a_medias_falla(probar_fallas):
    def a_medias():  # no transaction: the first row stays when the second write crashes
        Group.objects.create(name="uno")
        Group.objects.create(name="dos")

    with pytest.raises(AssertionError, match="falla tras la escritura 1 dejó filas.*auth_group"):
        probar_fallas(a_medias)


def rechazado():
    raise ValidationError("Datos inválidos.", code="invalido")


def rechazado_y_atrapado():
    try:
        rechazado()
    except ValidationError:
        pass


@pytest.mark.parametrize("servicio", [lambda: None, rechazado_y_atrapado], ids=["vuelve_al_tiro", "rechazado"])
def test_un_servicio_que_no_escribe_falla(db, probar_fallas, servicio):
    with pytest.raises(AssertionError, match="el servicio no escribió nada"):
        probar_fallas(servicio)


def test_un_rechazo_antes_de_escribir_llega_a_la_prueba(db, probar_fallas):
    with pytest.raises(ValidationError):
        probar_fallas(rechazado)


@pytest.mark.django_db(transaction=True)
def test_una_escritura_que_no_cambia_nada_falla(probar_fallas):
    def actualiza_nada():  # an UPDATE whose WHERE matches no row: a write that changes nothing
        Group.objects.filter(name="nadie").update(name="otro")

    with pytest.raises(AssertionError, match="no cambió la base"):
        probar_fallas(actualiza_nada)


def test_un_servicio_que_se_traga_la_falla_falla(db, probar_fallas):
    def se_la_traga():
        try:
            atomico()
        except FallaInyectada:
            pass

    with pytest.raises(AssertionError, match="se la tragó"):
        probar_fallas(se_la_traga)


def test_un_servicio_que_no_es_repetible_falla(db, probar_fallas):
    corridas = []

    def cada_vez_menos():
        corridas.append(1)
        with transaction.atomic():
            Group.objects.create(name="uno")
            if len(corridas) <= 2:  # two rows while it crashes, one once it may finish
                Group.objects.create(name="dos")

    with pytest.raises(AssertionError, match="no es repetible"):
        probar_fallas(cada_vez_menos)
