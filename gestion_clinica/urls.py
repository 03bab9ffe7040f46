"""The staff site, mounted at ``/gestion/`` (namespace ``gestion``). Each area's view module
keeps its own ``urlpatterns``; they are joined here."""

from django.urls import path

from gestion_clinica.views import (
    agenda, auditoria, citas, ficha, ficha_accesos, ficha_exportacion, horarios, pacientes, personal, segundo_factor,
)
from gestion_clinica.views import ficha_recetas
from gestion_clinica.views import ficha_odontograma
from gestion_clinica.views import ficha_consentimientos
from gestion_clinica.views import pagos
from gestion_clinica.views import estado_cuenta, reportes
from gestion_clinica.views import presupuestos
from gestion_clinica.views import planes, prestaciones
from gestion_clinica.views.inicio import inicio
from gestion_clinica.views.sesion import ActivarCuentaView, EntrarView, SalirView

app_name = "gestion"

urlpatterns = [
    path("", inicio, name="inicio"),
    path("entrar/", EntrarView.as_view(), name="entrar"),
    path("salir/", SalirView.as_view(), name="salir"),
    path("activar/<uidb64>/<token>/", ActivarCuentaView.as_view(), name="activar"),
    *pacientes.urlpatterns,
    *agenda.urlpatterns,
    *horarios.urlpatterns,
    *citas.urlpatterns,
    *personal.urlpatterns,
    *auditoria.urlpatterns,
    *ficha_exportacion.urlpatterns,
    *ficha_accesos.urlpatterns,
    *ficha.urlpatterns,
    *segundo_factor.urlpatterns,
    *ficha_recetas.urlpatterns,
    *ficha_odontograma.urlpatterns,
    *ficha_consentimientos.urlpatterns,
    *pagos.urlpatterns,
    *estado_cuenta.urlpatterns,
    *reportes.urlpatterns,
    *presupuestos.urlpatterns,
    *prestaciones.urlpatterns,
    *planes.urlpatterns,
]
