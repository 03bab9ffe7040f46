from django.contrib import admin
from django.urls import path

admin.site.site_header = "Clínica: administración de respaldo"

urlpatterns = [
    path("admin/", admin.site.urls),
]
