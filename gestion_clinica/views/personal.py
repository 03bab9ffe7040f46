"""Personal (staff site). URLs of this area are in ``urlpatterns``, joined by ``gestion_clinica.urls``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from gestion_clinica.forms.personal import FormularioEditarPersonal, FormularioPersonal
from gestion_clinica.permisos import ADMINISTRADOR, requiere_rol
from personal.models import Perfil
from personal.segundo_factor import restablecer_segundo_factor, tiene_segundo_factor
from personal.services import (
    crear_personal, desactivar_personal, editar_personal, invitar_personal, reactivar_personal,
)


@requiere_rol(ADMINISTRADOR)
def personal(request):
    """Every staff member, with their state (active, invitation pending)."""
    miembros = Perfil.objects.select_related("user").order_by("-activo", "user__first_name", "user__last_name", "pk")
    return render(request, "gestion_clinica/personal/lista.html", {"miembros": miembros})


@requiere_rol(ADMINISTRADOR)
def personal_nuevo(request):
    """Create a staff member (``crear_personal``), optionally inviting them by e-mail."""
    formulario = FormularioPersonal(request.POST or None)
    if request.method == "POST" and formulario.is_valid():
        datos = formulario.cleaned_data
        try:
            perfil = crear_personal(actor=request.user, **datos)
        except ValidationError as error:
            formulario.agregar_errores_del_servicio(error)
        else:
            aviso = f"Se creó la cuenta de {perfil.nombre}."
            if datos["enviar_invitacion"]:
                aviso += f" Se envió la invitación a {perfil.user.email}."
            messages.success(request, aviso)
            return redirect("gestion:personal")
    return render(request, "gestion_clinica/personal/nuevo.html", {"formulario": formulario})


@requiere_rol(ADMINISTRADOR)
def personal_editar(request, perfil_id):
    """Edit a member's name, role, specialty, and a dentist's RUT and registry number for their
    prescriptions (``editar_personal``: audited; it refuses to
    leave the clinic without an administrator or a dentist's booked patients without one)."""
    perfil = get_object_or_404(Perfil.objects.select_related("user"), pk=perfil_id)
    inicial = {"nombre": perfil.user.first_name, "apellido": perfil.user.last_name, "rol": perfil.rol,
               "especialidad": perfil.especialidad, "rut": perfil.rut,
               "registro_superintendencia": perfil.registro_superintendencia}
    formulario = FormularioEditarPersonal(request.POST or None, initial=inicial)
    if request.method == "POST" and formulario.is_valid():
        try:
            perfil = editar_personal(actor=request.user, perfil_id=perfil.pk, **formulario.cleaned_data)
        except ValidationError as error:
            if getattr(error, "code", None) == "personal_no_encontrado":
                raise Http404(error.message) from error
            formulario.agregar_errores_del_servicio(error)
        else:
            messages.success(request, f"Se guardaron los datos de {perfil.nombre}.")
            return redirect("gestion:personal")
    return render(request, "gestion_clinica/personal/editar.html", {
        "formulario": formulario, "miembro": perfil, "con_segundo_factor": tiene_segundo_factor(perfil.user),
    })


@requiere_rol(ADMINISTRADOR)
@require_POST
def personal_segundo_factor_restablecer(request, perfil_id):
    """Remove a member's second factor (a lost phone): one POST with the confirmation box
    ticked; the service audits it. Their next login enrols again."""
    destino = redirect("gestion:personal_editar", perfil_id=perfil_id)
    if request.POST.get("confirmar") != "si":
        messages.error(request, "Marque la casilla de confirmación para restablecer el segundo factor.")
        return destino
    try:
        perfil = restablecer_segundo_factor(actor=request.user, perfil_id=perfil_id)
    except ValidationError as error:
        if getattr(error, "code", None) == "personal_no_encontrado":
            raise Http404(error.message) from error
        for mensaje in error.messages:
            messages.error(request, mensaje)
    else:
        if perfil.invitacion_enviada:
            siguiente = (f"se cerraron sus sesiones y se envió a {perfil.user.email} un enlace para elegir una "
                         "contraseña nueva; al entrar configurará su aplicación otra vez.")
        else:
            siguiente = ("se cerraron sus sesiones y su contraseña ya no sirve; no tiene correo registrado o está "
                         "desactivado: agregue su correo (o reactívelo) y envíele la invitación.")
        messages.success(request, f"Se restableció el segundo factor de {perfil.nombre}: {siguiente}")
    return destino


def _accion(servicio, exito):
    """A POST action on one member: the service decides; its Spanish error becomes a message."""

    @requiere_rol(ADMINISTRADOR)
    @require_POST
    def vista(request, perfil_id):
        try:
            perfil = servicio(actor=request.user, perfil_id=perfil_id)
        except ValidationError as error:
            if getattr(error, "code", None) == "personal_no_encontrado":
                raise Http404(error.message) from error
            for mensaje in error.messages:
                messages.error(request, mensaje)
        else:
            messages.success(request, exito.format(nombre=perfil.nombre, email=perfil.user.email))
        return redirect("gestion:personal")

    return vista


urlpatterns = [
    path("personal/", personal, name="personal"),
    path("personal/nuevo/", personal_nuevo, name="personal_nuevo"),
    path("personal/<int:perfil_id>/editar/", personal_editar, name="personal_editar"),
    path("personal/<int:perfil_id>/desactivar/", _accion(desactivar_personal, "Se desactivó a {nombre}."),
         name="personal_desactivar"),
    path("personal/<int:perfil_id>/reactivar/", _accion(reactivar_personal, "Se reactivó a {nombre}."),
         name="personal_reactivar"),
    path("personal/<int:perfil_id>/invitar/", _accion(invitar_personal, "Se envió la invitación a {email}."),
         name="personal_invitar"),
    path("personal/<int:perfil_id>/segundo-factor/restablecer/", personal_segundo_factor_restablecer,
         name="personal_segundo_factor_restablecer"),
]
