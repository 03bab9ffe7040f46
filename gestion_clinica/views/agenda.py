"""Agenda (staff site). URLs of this area are in ``urlpatterns``, joined by ``gestion_clinica.urls``."""

from django.urls import path

from gestion_clinica.permisos import TODOS
from gestion_clinica.views.comun import proximamente

urlpatterns = [
    path("agenda/", proximamente("Agenda", *TODOS), name="agenda"),
]
