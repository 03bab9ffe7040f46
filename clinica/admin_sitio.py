"""Django's admin as the superuser's safety net only (``/admin/``).

Staff accounts are ``is_staff`` (Django's own flag for the admin), but the clinic's staff work
in ``/gestion/``: the admin would show them an empty index. ``SitioAdminClinica`` is installed
as the default admin site (``clinica.apps.AdminClinicaConfig.default_site``), so every admin
page, ``admin.site.register`` included, goes through its ``has_permission``: anyone who is not
an active superuser is sent to the admin's login, like an anonymous visitor.

A superuser also needs a session verified with the second factor (``personal.segundo_factor``):
the admin's login sends one who gave the password only to the staff site's second-factor step
(which enrols on the first time), and back here afterwards.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from personal.segundo_factor import esta_verificado


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
        """Only an active superuser (Django's default lets in any ``is_staff``), in a session
        verified with the second factor."""
        usuario = request.user
        return usuario.is_active and usuario.is_superuser and esta_verificado(usuario)

    def login(self, request, extra_context=None):
        usuario = request.user
        if usuario.is_authenticated and usuario.is_active and usuario.is_superuser and not esta_verificado(usuario):
            siguiente = request.GET.get("next") or reverse("admin:index", current_app=self.name)
            return redirect(f"{reverse('gestion:segundo_factor')}?{urlencode({'next': siguiente})}")
        return super().login(request, extra_context)
