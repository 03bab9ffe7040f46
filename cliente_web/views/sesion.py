"""Portal sessions: log in with RUT or e-mail, log out."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import path, reverse_lazy

from cliente_web.forms.sesion import FormularioEntrada
from cliente_web.permisos import paciente_de


class EntrarView(auth_views.LoginView):
    """django-axes counts the failures (by normalised RUT/e-mail and IP) and locks out."""

    form_class = FormularioEntrada
    template_name = "cliente_web/entrar.html"
    next_page = reverse_lazy("portal:inicio")

    def dispatch(self, request, *args, **kwargs):
        if paciente_de(request.user) is not None:
            return redirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)


class SalirView(auth_views.LogoutView):
    """POST only: a link cannot log anyone out."""

    next_page = reverse_lazy("portal:entrar")

    def post(self, request, *args, **kwargs):
        respuesta = super().post(request, *args, **kwargs)
        messages.info(request, "Cerró su sesión.")
        return respuesta


urlpatterns = [
    path("entrar/", EntrarView.as_view(), name="entrar"),
    path("salir/", SalirView.as_view(), name="salir"),
]
