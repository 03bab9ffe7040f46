"""The staff second factor, after the password (``EntrarView``): enrolment on the first login
(authenticator app + recovery codes), then a code at every login. ``requiere_rol`` sends every
unverified session here with ``next``; only after a right code is the session verified
(``django_otp.login``). Rules and writes: ``personal.segundo_factor``."""

import base64
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from gestion_clinica.forms.segundo_factor import FormularioCodigo, FormularioCodigoApp
from gestion_clinica.permisos import TODOS, falta_segundo_factor, requiere_rol
from personal import segundo_factor as sf

# The secret being enrolled, until confirmed (showing the page writes nothing to the database).
EN_SESION = "segundo_factor_secreto"
# The step's own pages: a next= pointing at them would loop.
_PROPIAS = ("segundo_factor", "segundo_factor_inscribir")


def _siguiente(request) -> str:
    """``next`` when it is a safe URL of this host (not the step itself), else the home page."""
    destino = request.POST.get("next") or request.GET.get("next") or ""
    seguro = url_has_allowed_host_and_scheme(destino, allowed_hosts={request.get_host()},
                                             require_https=request.is_secure())
    if not seguro or not destino.startswith("/") or any(destino.startswith(reverse(f"gestion:{n}")) for n in _PROPIAS):
        return reverse("gestion:inicio")
    return destino


def _con_siguiente(nombre, siguiente):
    return f"{reverse(nombre)}?{urlencode({'next': siguiente})}"


def _error(form, error):
    """The service's message under the field, marked invalid like the form's own errors."""
    form.add_error("codigo", error)
    campo = form.fields["codigo"].widget
    campo.attrs["class"] = f"{campo.attrs.get('class', '')} is-invalid".strip()


def _qr_svg(texto) -> str:
    """The otpauth:// URL as a QR code, an SVG drawn on the server (no script; an <img> with a
    data: URL, which the CSP's img-src allows)."""
    imagen = qrcode.make(texto, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(imagen.to_string()).decode()


def _secreto_legible(dispositivo) -> str:
    """The base32 secret in groups of four, to type into an app without a camera."""
    secreto = base64.b32encode(dispositivo.bin_key).decode()
    return " ".join(secreto[i:i + 4] for i in range(0, len(secreto), 4))


@requiere_rol(*TODOS, segundo_factor=False)
@require_http_methods(["GET", "POST"])
def verificar(request):
    """"Ingrese el código de su aplicación": a code of the app or a recovery code."""
    siguiente = _siguiente(request)
    if not falta_segundo_factor(request):
        return redirect(siguiente)
    if not sf.tiene_segundo_factor(request.user):
        return redirect(_con_siguiente("gestion:segundo_factor_inscribir", siguiente))
    form = FormularioCodigo(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dispositivo = sf.verificar_segundo_factor(user=request.user, codigo=form.cleaned_data["codigo"])
        except ValidationError as error:
            _error(form, error)
        else:
            request.session.cycle_key()  # a more trusted session gets a new key
            otp_login(request, dispositivo)
            if dispositivo.model_label() == "otp_static.staticdevice":
                quedan = sf.codigos_restantes(request.user)
                messages.warning(request, f"Usó un código de recuperación; le quedan {quedan}. "
                                          "Si perdió su teléfono, pida al administrador que restablezca su segundo factor.")
            return redirect(siguiente)
    return render(request, "gestion_clinica/segundo_factor/verificar.html", {
        "form": form, "next": siguiente, "con_llave": sf.tiene_llave(request.user),
    })


@never_cache  # the secret and the recovery codes: no browser or proxy keeps a copy
@requiere_rol(*TODOS, segundo_factor=False)
@require_http_methods(["GET", "POST"])
def inscribir(request):
    """"Configure su segundo factor": QR and secret, confirmed with a code; then the recovery
    codes, shown once (the answer to the POST, never stored in the session)."""
    siguiente = _siguiente(request)
    if sf.tiene_segundo_factor(request.user):
        return redirect(_con_siguiente("gestion:segundo_factor", siguiente) if falta_segundo_factor(request)
                        else siguiente)
    secreto = request.session.get(EN_SESION) or sf.nuevo_secreto()
    request.session[EN_SESION] = secreto
    form = FormularioCodigoApp(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dispositivo, codigos = sf.confirmar_inscripcion(user=request.user, secreto=secreto,
                                                            codigo=form.cleaned_data["codigo"])
        except ValidationError as error:
            if error.code == "ya_inscrito":
                return redirect(_con_siguiente("gestion:segundo_factor", siguiente))
            _error(form, error)
        else:
            del request.session[EN_SESION]
            request.session.cycle_key()
            otp_login(request, dispositivo)
            return render(request, "gestion_clinica/segundo_factor/codigos.html",
                          {"codigos": codigos, "next": siguiente})
    dispositivo = sf.dispositivo_por_confirmar(request.user, secreto)
    return render(request, "gestion_clinica/segundo_factor/inscribir.html", {
        "form": form, "next": siguiente, "qr": _qr_svg(dispositivo.config_url),
        "secreto": _secreto_legible(dispositivo),
    })


urlpatterns = [
    path("segundo-factor/", verificar, name="segundo_factor"),
    path("segundo-factor/configurar/", inscribir, name="segundo_factor_inscribir"),
]
