"""Personal (staff site). URLs of this area are in ``urlpatterns``, joined by ``gestion_clinica.urls``."""

from django.urls import path

from gestion_clinica.permisos import ADMINISTRADOR
from gestion_clinica.views.comun import proximamente

urlpatterns = [
    path("personal/", proximamente("Personal", ADMINISTRADOR), name="personal"),
]
