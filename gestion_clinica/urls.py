"""The staff site, mounted at ``/gestion/`` (namespace ``gestion``)."""

from django.urls import path

from gestion_clinica import views

app_name = "gestion"

urlpatterns = [
    path("", views.inicio, name="inicio"),
    path("entrar/", views.EntrarView.as_view(), name="entrar"),
    path("salir/", views.SalirView.as_view(), name="salir"),
    path("activar/<uidb64>/<token>/", views.ActivarCuentaView.as_view(), name="activar"),
    # Placeholders until their issues land; the names stay.
    path("pacientes/", views.pacientes, name="pacientes"),
    path("agenda/", views.agenda, name="agenda"),
    path("personal/", views.personal, name="personal"),
    path("auditoria/", views.auditoria, name="auditoria"),
]
