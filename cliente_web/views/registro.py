"""Portal sign-up (seed flow B) and the privacy notice it asks the patient to accept."""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from cliente_web.forms.registro import FormularioRegistro
from cliente_web.limites import limitar
from cliente_web.permisos import paciente_de
from cuentas.services import registrar_cliente_web, validar_registro_cliente_web

# The service's answers that need a next step beyond fixing a field.
CODIGOS_CON_SALIDA = ("paciente_existente_contactar_clinica", "rut_con_cuenta", "cuenta_duplicada")


def _siguiente(request) -> str:
    """Where to go after signing up: the portal page that sent the visitor here (a free slot
    chosen before having an account), only if it is on this site; "" otherwise."""
    destino = request.POST.get("next") or request.GET.get("next") or ""
    seguro = url_has_allowed_host_and_scheme(destino, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return destino if seguro else ""


@require_http_methods(["GET", "POST"])
@limitar("portal.registro", ip="CLINICA_LIMITE_REGISTRO_IP")
def registro(request):
    siguiente = _siguiente(request)
    if paciente_de(request.user) is not None:
        return redirect(siguiente or "portal:inicio")
    form = FormularioRegistro(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = registrar_cliente_web(**form.datos())
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            login(request, user, backend="cuentas.autenticacion.RutOCorreoBackend")
            if siguiente:
                messages.success(request, "¡Bienvenido/a! Su cuenta quedó creada. Confirme ahora la hora que eligió.")
                return redirect(siguiente)
            messages.success(request, "¡Bienvenido/a! Su cuenta quedó creada. Desde aquí puede reservar y ver sus horas.")
            return redirect("portal:inicio")
    elif request.method == "POST":
        # Also the service's findings, so that every problem is listed after one try, not one by one.
        try:
            validar_registro_cliente_web(**form.datos())
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
    # The first of these the service answered decides the box with the next step.
    salida = next((c for c in CODIGOS_CON_SALIDA if c in form.codigos), None)
    return render(request, "cliente_web/registro/registro.html", {"form": form, "salida": salida, "next": siguiente})


def privacidad(request):
    return render(request, "cliente_web/privacidad.html")


urlpatterns = [
    path("registro/", registro, name="registro"),
    path("privacidad/", privacidad, name="privacidad"),
]
