import pytest
from django.core.exceptions import ValidationError

from personal.models import Perfil, Rol
from personal.services import crear_personal


def nuevo(actor=None, **extra):
    datos = {
        "actor": actor, "username": "dr.perez", "nombre": "Tomás", "apellido": "Pérez",
        "email": "Tomas.Perez@Clinica.example", "rol": Rol.DENTISTA, "especialidad": "Endodoncia",
    }
    datos.update(extra)
    return crear_personal(**datos)


def test_crear_personal_sin_clave_queda_para_invitacion(db):
    perfil = nuevo()
    assert perfil.user.is_staff and not perfil.user.has_usable_password()
    assert perfil.user.email == "tomas.perez@clinica.example"
    assert str(perfil) == "Tomás Pérez"


def test_crear_personal_rechaza_rol_y_usuario_repetido(db):
    with pytest.raises(ValidationError) as error:
        nuevo(rol="cirujano")
    assert error.value.error_dict["rol"][0].code == "rol_invalido"
    nuevo()
    with pytest.raises(ValidationError) as error:
        nuevo(email="otro@clinica.example")
    assert error.value.code == "cuenta_duplicada"
    assert Perfil.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_fallas_en_crear_personal(probar_fallas):
    assert probar_fallas(lambda: nuevo(password="Clave-Segura-2026")) >= 2
