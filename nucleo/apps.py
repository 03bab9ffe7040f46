from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NucleoConfig(AppConfig):
    name = "nucleo"
    verbose_name = "Núcleo"


class AdminClinicaConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with ``SitioAdminClinica`` as ``admin.site`` (listed in
    INSTALLED_APPS in its place). ``default = False``: ``nucleo`` itself keeps NucleoConfig."""

    default = False
    default_site = "nucleo.admin_sitio.SitioAdminClinica"
