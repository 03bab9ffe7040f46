"""Staff sessions: log in, log out, set the password from an invitation."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import default_token_generator
from django.shortcuts import redirect
from django.urls import reverse_lazy

from gestion_clinica.forms.sesion import FormularioActivacion, FormularioEntrada
from gestion_clinica.permisos import rol_de


class EntrarView(auth_views.LoginView):
    """Staff login (django-axes counts the failures and locks out, see ``bloqueo``)."""

    form_class = FormularioEntrada
    template_name = "gestion_clinica/entrar.html"
    next_page = reverse_lazy("gestion:inicio")

    def dispatch(self, request, *args, **kwargs):
        # Only staff skip the form: a patient logged in on the portal may still sign in here
        # with a staff account (their session is replaced).
        if rol_de(request.user) is not None:
            return redirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)


class SalirView(auth_views.LogoutView):
    """POST only (Django's LogoutView): a link cannot log anyone out."""

    next_page = reverse_lazy("gestion:entrar")

    def post(self, request, *args, **kwargs):
        respuesta = super().post(request, *args, **kwargs)
        messages.info(request, "Cerró su sesión.")
        return respuesta


class ActivarCuentaView(auth_views.PasswordResetConfirmView):
    """A new staff member sets their password from the invitation link
    (``personal.tokens.enlace_activacion_personal``: same ``default_token_generator``)."""

    form_class = FormularioActivacion
    template_name = "gestion_clinica/activar.html"
    reset_url_token = "definir-clave"
    success_url = reverse_lazy("gestion:entrar")
    token_generator = default_token_generator
    title = "Crear su contraseña"

    def get_user(self, uidb64):
        # Patients get links made by the same generator; only staff accounts are served here.
        user = super().get_user(uidb64)
        return user if user is not None and rol_de(user) is not None else None

    def form_valid(self, form):
        respuesta = super().form_valid(form)
        messages.success(self.request, "Su contraseña quedó guardada. Ya puede entrar.")
        return respuesta
