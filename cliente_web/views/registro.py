"""Portal sign-up (seed flow B, issue 14) and the privacy notice it asks the patient to accept.

A well-formed sign-up always gets the same answer, "revise su correo": whether the person is new,
already has an account or is a patient of the clinic goes only by e-mail, to the address on file
(``cuentas.registro``). The account is created when the link in that e-mail is opened, which also
logs the patient in and brings them back to the slot they were booking."""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cliente_web.forms.registro import FormularioRegistro
from cliente_web.limites import limitar
from cliente_web.permisos import paciente_de
from cuentas.registro import (
    confirmar_registro_web,
    revisar_formato_registro_web,
    revisar_registro_pendiente,
    solicitar_registro_web,
)

# The address the "revise su correo" page names, kept in the visitor's session.
SESION_CORREO_ENVIADO = "registro_correo"


def _seguro(request, destino) -> str:
    """``destino`` if it is a page of this site, "" otherwise."""
    seguro = url_has_allowed_host_and_scheme(destino, allowed_hosts={request.get_host()},
                                             require_https=request.is_secure())
    return destino if destino and seguro else ""


def _siguiente(request) -> str:
    """Where to go after signing up: the portal page that sent the visitor here (a free slot
    chosen before having an account), only if it is on this site; "" otherwise."""
    return _seguro(request, request.POST.get("next") or request.GET.get("next") or "")


@require_http_methods(["GET", "POST"])
@limitar("portal.registro", ip="CLINICA_LIMITE_REGISTRO_IP")
def registro(request):
    siguiente = _siguiente(request)
    if paciente_de(request.user) is not None:
        return redirect(siguiente or "portal:inicio")
    form = FormularioRegistro(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            email = solicitar_registro_web(**form.datos(), siguiente=siguiente)
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            # The same answer for everyone: what follows is in the e-mail.
            request.session[SESION_CORREO_ENVIADO] = email
            return redirect("portal:registro_enviado")
    elif request.method == "POST":
        # Also the service's format findings, so that every problem is listed after one try.
        try:
            revisar_formato_registro_web(**form.datos())
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
    return render(request, "cliente_web/registro/registro.html", {"form": form, "next": siguiente})


def registro_enviado(request):
    return render(request, "cliente_web/registro/enviado.html",
                  {"correo": request.session.get(SESION_CORREO_ENVIADO, "")})


# Invalid, tampered or used: 400; expired: 410 Gone; data taken meanwhile: 409.
ESTADO_HTTP = {"enlace_invalido": 400, "enlace_vencido": 410, "datos_tomados": 409}


@never_cache
@require_http_methods(["GET", "POST"])
def registro_verificar(request, token):
    """The link of the sign-up e-mail. GET shows a button (mail scanners open links and must not
    use it up); the POST creates the account, logs the patient in and goes back to the slot."""
    try:
        if request.method == "POST":
            user, siguiente = confirmar_registro_web(token=token)
        else:
            pendiente = revisar_registro_pendiente(token=token)
    except ValidationError as error:
        codigo = getattr(error, "code", None)
        if codigo == "enlace_invalido" and paciente_de(request.user) is not None:
            # Opened again from the e-mail after it did its work, in the same browser.
            messages.info(request, "Ese enlace ya se usó: usted ya está dentro de su cuenta.")
            return redirect("portal:inicio")
        respuesta = render(request, "cliente_web/registro/verificar_error.html",
                           {"codigo": codigo, "mensaje": error.messages[0]}, status=ESTADO_HTTP.get(codigo, 400))
    else:
        if request.method == "POST":
            login(request, user, backend="cuentas.autenticacion.RutOCorreoBackend")
            siguiente = _seguro(request, siguiente)
            if siguiente:
                messages.success(request, "¡Bienvenido/a! Su correo quedó confirmado y su cuenta creada. "
                                          "Confirme ahora la hora que eligió.")
                return redirect(siguiente)
            messages.success(request, "¡Bienvenido/a! Su correo quedó confirmado y su cuenta creada. "
                                      "Desde aquí puede reservar y ver sus horas.")
            return redirect("portal:inicio")
        respuesta = render(request, "cliente_web/registro/verificar.html",
                           {"nombre": pendiente.nombre_completo.split()[0], "correo": pendiente.email,
                            "reservando": bool(pendiente.siguiente)})
    # The URL is a key: keep it out of search engines.
    respuesta["X-Robots-Tag"] = "noindex, nofollow"
    return respuesta


def privacidad(request):
    return render(request, "cliente_web/privacidad.html")


urlpatterns = [
    path("registro/", registro, name="registro"),
    path("registro/enviado/", registro_enviado, name="registro_enviado"),
    path("registro/verificar/<str:token>/", registro_verificar, name="registro_verificar"),
    path("privacidad/", privacidad, name="privacidad"),
]
