"""Staff accounts."""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from nucleo.registro import registrar_evento
from nucleo.servicios import operacion
from pacientes.validaciones import normalizar_email, normalizar_nombre, validar_username_disponible
from personal.models import Perfil, Rol

logger = logging.getLogger(__name__)


def crear_personal(
    *, actor, username, nombre, apellido, email, rol, especialidad="", password=None, es_superusuario=False
) -> Perfil:
    """Create a staff member (``User`` with ``is_staff`` + ``Perfil``) in one transaction.

    Without ``password`` the account has none usable until the person sets it through a
    set-password link. ``es_superusuario`` also makes them a Django superuser (full access to
    the admin, the clinic's safety net). Raises ValidationError on bad or duplicate data.
    """
    if rol not in Rol.values:
        raise ValidationError({"rol": ValidationError("Rol desconocido.", code="rol_invalido")})
    username = validar_username_disponible(username)
    email = normalizar_email(email)
    nombre, apellido = normalizar_nombre(nombre), normalizar_nombre(apellido)
    with operacion("crear_personal", actor=actor):
        user = get_user_model().objects.create_user(
            username=username, email=email, first_name=nombre, last_name=apellido, is_staff=True,
            is_superuser=es_superusuario, password=password,
        )
        perfil = Perfil.objects.create(user=user, rol=rol, especialidad=especialidad.strip())
    registrar_evento(logger, "personal_creado", perfil_id=perfil.pk, user_id=user.pk, rol=rol,
                     actor_id=getattr(actor, "pk", None))
    return perfil
