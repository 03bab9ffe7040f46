"""Portal passwords: "I forgot it" (also for invited accounts that never set one) and the
one-time link's page, which logs the patient in."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import default_token_generator
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.views.decorators.http import require_http_methods

from cliente_web.forms.registro import FormularioNuevaClave, FormularioRecuperarClave
from cliente_web.limites import limitar
from cliente_web.permisos import paciente_de
from cuentas.tasks import pedir_restablecimiento


@require_http_methods(["GET", "POST"])
@limitar("portal.recuperar", ip="CLINICA_LIMITE_RECUPERAR_IP")
def recuperar_clave(request):
    form = FormularioRecuperarClave(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # Only queues the job, which does the lookup: same answer and same time whether or not
        # there is such an account.
        pedir_restablecimiento(identificador=form.cleaned_data["identificador"])
        return redirect("portal:recuperar_clave_enviado")
    return render(request, "cliente_web/registro/recuperar.html", {"form": form})


def recuperar_clave_enviado(request):
    return render(request, "cliente_web/registro/recuperar_enviado.html")


class ActivarView(auth_views.PasswordResetConfirmView):
    """The link of the invitation and of "forgot my password" (``cuentas.tokens.enlace_activacion``):
    choose a password, then straight into the portal. Only accounts of active patients."""

    form_class = FormularioNuevaClave
    template_name = "cliente_web/registro/activar.html"
    reset_url_token = "definir-clave"
    success_url = reverse_lazy("portal:inicio")
    token_generator = default_token_generator
    post_reset_login = True
    post_reset_login_backend = "cuentas.autenticacion.RutOCorreoBackend"  # loads the record with the user
    title = "Elegir su contraseña"

    def get_user(self, uidb64):
        # Staff get links from the same generator: those are served by the staff site only.
        user = super().get_user(uidb64)
        return user if user is not None and paciente_de(user) is not None else None

    def form_valid(self, form):
        respuesta = super().form_valid(form)
        messages.success(self.request, "Su contraseña quedó guardada. Ya está dentro del portal.")
        return respuesta


urlpatterns = [
    path("recuperar/", recuperar_clave, name="recuperar_clave"),
    path("recuperar/enviado/", recuperar_clave_enviado, name="recuperar_clave_enviado"),
    path("activar/<uidb64>/<token>/", ActivarView.as_view(), name="activar"),
]
