from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Clínica: administración de respaldo"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("gestion/", include("gestion_clinica.urls")),
]
