from django.contrib.admin import apps as admin_apps


class AdminClinicaConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with ``SitioAdminClinica`` as ``admin.site`` (listed in
    INSTALLED_APPS in its place)."""

    default_site = "clinica.admin_sitio.SitioAdminClinica"
