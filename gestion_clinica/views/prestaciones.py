"""The arancel's screens (issue 17), for the administrator: the list of prestaciones (code,
name, specialty, duration, price, online, active, dentists), create, edit (with the dentists who
perform it), deactivate and reactivate. A prestación is never deleted. Views parse, call one
service of ``prestaciones.services``, respond."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST, require_safe

from gestion_clinica.forms.prestaciones import FormularioPrestacion
from gestion_clinica.permisos import ADMINISTRADOR, requiere_rol
from gestion_clinica.views.comun import ids_validos
from personal.models import Perfil, Rol
from prestaciones.models import HALLAZGOS_TRATABLES, Prestacion
from prestaciones.services import cambiar_estado_prestacion, crear_prestacion, editar_prestacion

PLANTILLAS = "gestion_clinica/prestaciones"


def _dentistas_activos():
    return list(Perfil.objects.filter(rol=Rol.DENTISTA, activo=True).select_related("user")
                .order_by("user__first_name", "user__last_name", "pk"))


@require_safe
@requiere_rol(ADMINISTRADOR)
def prestaciones(request):
    """The arancel: active first, by code; each with its dentists (one prefetch)."""
    lista = (Prestacion.objects.order_by("-activa", "codigo")
             .prefetch_related(Prefetch("dentistas", queryset=Perfil.objects.select_related("user").order_by(
                 "user__first_name", "user__last_name", "pk"))))
    return render(request, f"{PLANTILLAS}/lista.html", {"prestaciones": lista, "hallazgos": HALLAZGOS_TRATABLES})


@requiere_rol(ADMINISTRADOR)
def prestacion_nueva(request):
    dentistas = _dentistas_activos()
    form = FormularioPrestacion(request.POST if request.method == "POST" else None, dentistas=dentistas,
                                initial={"duracion_minutos": 30})
    if request.method == "POST" and form.is_valid():
        try:
            prestacion = crear_prestacion(actor=request.user, **form.datos())
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, f"Prestación {prestacion.codigo} creada.")
            return redirect("gestion:prestaciones")
    return render(request, f"{PLANTILLAS}/formulario.html", {"form": form, "prestacion": None})


@requiere_rol(ADMINISTRADOR)
@ids_validos
def prestacion(request, prestacion_id):
    actual = Prestacion.objects.filter(pk=prestacion_id).first()
    if actual is None:
        raise Http404("Esa prestación no existe.")
    dentistas = _dentistas_activos()
    if request.method == "POST":
        form = FormularioPrestacion(request.POST, dentistas=dentistas)
        if form.is_valid():
            try:
                editar_prestacion(actor=request.user, prestacion_id=actual.pk, **form.datos())
            except Prestacion.DoesNotExist:
                raise Http404("Esa prestación no existe.") from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, "Prestación guardada. Los planes y presupuestos ya emitidos conservan "
                                          "sus precios.")
                return redirect("gestion:prestaciones")
    else:
        form = FormularioPrestacion(dentistas=dentistas, initial={
            "codigo": actual.codigo, "nombre": actual.nombre, "especialidad": actual.especialidad,
            "duracion_minutos": actual.duracion_minutos, "precio": actual.precio,
            "reservable_en_linea": actual.reservable_en_linea, "trata_hallazgo": actual.trata_hallazgo,
            "dentistas": list(actual.dentistas.values_list("pk", flat=True))})
    return render(request, f"{PLANTILLAS}/formulario.html", {"form": form, "prestacion": actual})


@require_POST
@requiere_rol(ADMINISTRADOR)
@ids_validos
def prestacion_estado(request, prestacion_id):
    """Deactivate (``activa=0``) or reactivate (``activa=1``)."""
    activa = request.POST.get("activa")
    if activa not in ("0", "1"):
        messages.error(request, "Acción no reconocida.")
        return redirect("gestion:prestaciones")
    try:
        cambiada = cambiar_estado_prestacion(actor=request.user, prestacion_id=prestacion_id, activa=activa == "1")
    except Prestacion.DoesNotExist:
        raise Http404("Esa prestación no existe.") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{cambiada.codigo} reactivada (la reserva en línea queda apagada: actívela al "
                                  "editarla)." if activa == "1" else
                         f"{cambiada.codigo} desactivada: ya no se ofrece ni se agrega a planes nuevos.")
    return redirect("gestion:prestaciones")


urlpatterns = [
    path("prestaciones/", prestaciones, name="prestaciones"),
    path("prestaciones/nueva/", prestacion_nueva, name="prestacion_nueva"),
    path("prestaciones/<int:prestacion_id>/", prestacion, name="prestacion"),
    path("prestaciones/<int:prestacion_id>/estado/", prestacion_estado, name="prestacion_estado"),
]
