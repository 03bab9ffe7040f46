"""Mi cuenta: the patient's record, contact data, notification preferences, password, a copy
of all their data and deleting the account (rights of access and erasure, Ley 21.719).

Everything is about ``request.paciente`` (set by ``requiere_paciente``): no view takes an id. The
one exception to the login is the new e-mail's confirmation link: its signed token is the key."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cliente_web.forms.cuenta import FormularioAvisos, FormularioCambioClave, FormularioContacto, FormularioEliminarCuenta
from cliente_web.permisos import registrar_lectura_propia, requiere_paciente
from cliente_web.reintentos import clave_bloqueada, registrar_clave_incorrecta
from cuentas.codigos import codigo_vigente, confirmar_codigo_telefono, enviar_codigo_telefono
from cuentas.eliminacion import resumen_eliminacion
from cuentas.models import PerfilCliente
from cuentas.selectors import exportar_datos_paciente
from ficha.exportacion import ficha_en_pdf
from ficha.models import Seccion
from cuentas.services import (
    actualizar_contacto_del_paciente,
    actualizar_preferencias,
    confirmar_cambio_de_correo,
    deshacer_cambio_de_correo,
    eliminar_mi_cuenta,
    revisar_cambio_de_correo,
    revisar_deshacer_cambio_de_correo,
)
from notificaciones.models import Canal
from nucleo.bloqueo import respuesta_bloqueo
from nucleo.pdf import respuesta_pdf
from nucleo.sesiones import renovar_login


def _perfil(request):
    return PerfilCliente.objects.filter(user_id=request.user.pk).first()


def _consentimientos(request):
    """What ``_consentimientos.html`` shows: the account's privacy notice and the patient's
    channel and consents (they are the patient record's, ``pacientes.ConsentimientoCanal``)."""
    preferencias = request.paciente.preferencias()
    return {"perfil": _perfil(request), "preferencias": preferencias,
            "canal_texto": Canal(preferencias.canal_preferido).label}


@require_GET
@requiere_paciente
def mi_cuenta(request):
    """The patient's data, their allergies included (part of the medical history): logged."""
    registrar_lectura_propia(request, Seccion.ANTECEDENTES)
    return render(request, "cliente_web/cuenta/mi_cuenta.html", _consentimientos(request))


@require_http_methods(["GET", "POST"])
@requiere_paciente
def contacto(request):
    if request.method == "POST" and clave_bloqueada(request):
        return respuesta_bloqueo(request)
    form = FormularioContacto.de(request.paciente, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            # A new e-mail (the login) waits for the link sent to it; the rest is saved now. A new
            # e-mail or phone needs the current password, counted like a login attempt.
            pendiente = actualizar_contacto_del_paciente(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
            if any(e.code == "clave_incorrecta" for e in getattr(error, "error_dict", {}).get("password", [])):
                registrar_clave_incorrecta(request)
        else:
            messages.success(request, "Sus datos de contacto quedaron guardados.")
            if pendiente:
                messages.info(request, f"Le enviamos un enlace a {pendiente}; su correo cambiará cuando lo abra.")
            return redirect("portal:mi_cuenta")
    return render(request, "cliente_web/cuenta/contacto.html", {"form": form})


@require_http_methods(["GET", "POST"])
@requiere_paciente
def avisos(request):
    contexto = _consentimientos(request)
    form = FormularioAvisos.de(contexto["preferencias"], request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            actualizar_preferencias(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, "Sus preferencias de aviso quedaron guardadas.")
            return redirect("portal:mi_cuenta")
    return render(request, "cliente_web/cuenta/avisos.html", {"form": form, **contexto})


@require_http_methods(["GET", "POST"])
@requiere_paciente
def telefono(request):
    """Confirm the number on the record with a code sent to it by SMS (``cuentas.codigos``):
    ``accion=enviar`` sends one, ``accion=confirmar`` checks the one typed in ``codigo``."""
    error = ""
    if request.method == "POST":
        accion = request.POST.get("accion", "")
        try:
            if accion == "enviar":
                enviar_codigo_telefono(user=request.user)
                messages.success(request, "Le enviamos un código por SMS. Escríbalo abajo: vence en 10 minutos.")
                return redirect("portal:cuenta_telefono")
            if accion == "confirmar":
                confirmar_codigo_telefono(user=request.user, codigo=request.POST.get("codigo", "")[:40])
                messages.success(request, "Su celular quedó confirmado: desde ahora puede recibir avisos por SMS "
                                          "o WhatsApp, según lo que elija en «Avisos de sus horas».")
                return redirect("portal:mi_cuenta")
            error = "El formulario llegó incompleto. Recargue la página e intente de nuevo."
        except ValidationError as exc:
            error = " ".join(exc.messages)
        request.paciente.refresh_from_db()
    return render(request, "cliente_web/cuenta/telefono.html",
                  {"error": error, "codigo_vigente": codigo_vigente(request.paciente)}, status=400 if error else 200)


class CambiarClaveView(auth_views.PasswordChangeView):
    """Django's password change; the session survives it (``update_session_auth_hash``)."""

    form_class = FormularioCambioClave
    template_name = "cliente_web/cuenta/clave.html"
    success_url = reverse_lazy("portal:mi_cuenta")

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and clave_bloqueada(request):
            return respuesta_bloqueo(request)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        respuesta = super().form_valid(form)
        messages.success(self.request, "Su contraseña quedó cambiada.")
        return respuesta

    def form_invalid(self, form):
        if form.has_error("old_password", "password_incorrect"):
            registrar_clave_incorrecta(self.request)
        return super().form_invalid(form)


def _registrar_copia(request, seccion: str) -> None:
    """The copy carries the record: logged as the patient's own read."""
    registrar_lectura_propia(request, seccion)


@require_GET
@never_cache
@requiere_paciente
def datos(request):
    """All the patient's data as a JSON download, the clinical record included (logged)."""
    _registrar_copia(request, Seccion.EXPORTACION)
    contenido = json.dumps(exportar_datos_paciente(cliente_id=request.paciente.pk), cls=DjangoJSONEncoder,
                           ensure_ascii=False, indent=2)
    respuesta = HttpResponse(contenido, content_type="application/json; charset=utf-8")
    nombre = f"mis-datos-{timezone.localdate().isoformat()}.json"
    respuesta["Content-Disposition"] = f'attachment; filename="{nombre}"'
    return respuesta


@require_GET
@never_cache
@requiere_paciente
def datos_legibles(request):
    """The same copy as ``datos``, as a page the patient reads, prints or saves as PDF: Spanish
    labels, dates as in Chile. It shows allergies and what the clinical record holds: logged."""
    _registrar_copia(request, Seccion.EXPORTACION)
    return render(request, "cliente_web/cuenta/mis_datos.html", {
        "datos": exportar_datos_paciente(cliente_id=request.paciente.pk),
    })


@require_GET
@never_cache
@requiere_paciente
def ficha_pdf(request):
    """The patient's clinical record as a readable PDF (their right to a copy, Ley 20.584
    art. 14); the read is logged."""
    _registrar_copia(request, Seccion.PDF)
    contenido = ficha_en_pdf(request.paciente.pk,
                             generado_para=f"{request.paciente.nombre_completo} (paciente, desde el portal)")
    return respuesta_pdf(contenido, f"ficha-clinica-{timezone.localdate().isoformat()}.pdf")


@require_http_methods(["GET", "POST"])
@requiere_paciente
def eliminar(request):
    if request.method == "POST" and clave_bloqueada(request):
        return respuesta_bloqueo(request)
    form = FormularioEliminarCuenta(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            eliminar_mi_cuenta(user=request.user, password=form.cleaned_data["password"])
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
            if any(e.code == "clave_incorrecta" for e in error.error_dict.get("password", [])):
                registrar_clave_incorrecta(request)
        else:
            logout(request)
            return redirect("portal:cuenta_eliminada")
    # What stays and until when (a clinical record is kept under legal hold, issue 15).
    return render(request, "cliente_web/cuenta/eliminar.html", {
        "form": form, "resumen": resumen_eliminacion(cliente_id=request.paciente.pk),
    })


# Invalid or tampered: 400; expired or replaced: 410 Gone; taken meanwhile: 409; done already: 200.
ESTADO_HTTP_CORREO = {"enlace_invalido": 400, "enlace_vencido": 410, "enlace_reemplazado": 410,
                      "email_duplicado": 409, "cuenta_duplicada": 409}


@never_cache
@require_http_methods(["GET", "POST"])
def confirmar_correo(request, token):
    """The new address's link, without logging in (the signed token is the key). GET only shows
    a button, since mail scanners open links; the POST (CSRF-protected) applies the change."""
    try:
        if request.method == "POST":
            cambio = confirmar_cambio_de_correo(token=token)
            plantilla = "cliente_web/cuenta/correo_confirmado.html"
            # The account's other sessions end (their login changed); this one, if it is the
            # same account's, stays.
            if request.user.is_authenticated and request.user.pk == cambio.user_id:
                request.user.username = cambio.nuevo
                renovar_login(request, request.user)
        else:
            cambio = revisar_cambio_de_correo(token=token)
            plantilla = "cliente_web/cuenta/correo_confirmar.html"
        contexto, estado = {"cambio": cambio}, 200
    except ValidationError as error:
        codigo = getattr(error, "code", None)
        plantilla = "cliente_web/cuenta/correo_error.html"
        contexto, estado = {"codigo": codigo, "mensaje": error.messages[0]}, ESTADO_HTTP_CORREO.get(codigo, 200)
    respuesta = render(request, plantilla, contexto, status=estado)
    # The URL is a key: keep it out of search engines.
    respuesta["X-Robots-Tag"] = "noindex, nofollow"
    return respuesta


@never_cache
@require_http_methods(["GET", "POST"])
def deshacer_correo(request, token):
    """The old address's "it was not me" link, without logging in (the signed token is the key).
    GET shows a button (mail scanners open links); the POST undoes the change and locks the
    account (an inactive login: every session of it ends, this one included)."""
    try:
        if request.method == "POST":
            deshecho = deshacer_cambio_de_correo(token=token)
            plantilla = "cliente_web/cuenta/correo_deshecho.html"
        else:
            deshecho = revisar_deshacer_cambio_de_correo(token=token)
            plantilla = "cliente_web/cuenta/correo_deshacer.html"
        contexto, estado = {"deshecho": deshecho}, 200
    except ValidationError as error:
        codigo = getattr(error, "code", None)
        plantilla = "cliente_web/cuenta/correo_error.html"
        contexto, estado = {"codigo": codigo, "mensaje": error.messages[0]}, ESTADO_HTTP_CORREO.get(codigo, 200)
    respuesta = render(request, plantilla, contexto, status=estado)
    respuesta["X-Robots-Tag"] = "noindex, nofollow"
    return respuesta


def eliminada(request):
    return render(request, "cliente_web/cuenta/eliminada.html")


urlpatterns = [
    path("cuenta/", mi_cuenta, name="mi_cuenta"),
    path("cuenta/contacto/", contacto, name="cuenta_contacto"),
    path("cuenta/avisos/", avisos, name="cuenta_avisos"),
    path("cuenta/celular/", telefono, name="cuenta_telefono"),
    path("cuenta/clave/", requiere_paciente(CambiarClaveView.as_view()), name="cuenta_clave"),
    path("cuenta/datos/", datos, name="cuenta_datos"),
    path("cuenta/datos/legibles/", datos_legibles, name="cuenta_datos_legibles"),
    path("cuenta/datos/ficha.pdf", ficha_pdf, name="cuenta_ficha_pdf"),
    path("cuenta/eliminar/", eliminar, name="cuenta_eliminar"),
    path("cuenta/eliminada/", eliminada, name="cuenta_eliminada"),
    path("cuenta/correo/<str:token>/", confirmar_correo, name="cuenta_correo_confirmar"),
    path("cuenta/correo-deshacer/<str:token>/", deshacer_correo, name="cuenta_correo_deshacer"),
]
