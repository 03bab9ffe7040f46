"""Django's admin as the superuser's safety net only (``/admin/``).

Staff accounts are ``is_staff`` (Django's own flag for the admin), but the clinic's staff work
in ``/gestion/``: the admin would show them an empty index. ``SitioAdminClinica`` is installed
as the default admin site (``clinica.apps.AdminClinicaConfig.default_site``), so every admin
page, ``admin.site.register`` included, goes through its ``has_permission``: anyone who is not
an active superuser is sent to the admin's login, like an anonymous visitor.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError


class IngresoSoloSuperusuario(AdminAuthenticationForm):
    """The admin's login form: a right password of a non-superuser is refused too, with the
    place where staff do work instead (Django's form would log them in to an empty site)."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise ValidationError(
                "Esta administración es solo para el superusuario. El personal de la clínica "
                "entra por /gestion/.",
                code="no_superusuario",
            )


class SitioAdminClinica(admin.AdminSite):
    site_header = "Clínica: administración de respaldo"
    site_title = "Clínica: administración"
    login_form = IngresoSoloSuperusuario

    def has_permission(self, request):
        """Only an active superuser (Django's default lets in any ``is_staff``)."""
        usuario = request.user
        return usuario.is_active and usuario.is_superuser
