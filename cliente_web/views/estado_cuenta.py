"""Portal area: Estado de cuenta. The patient's own statement (``pagos.estado_cuenta``, the
same numbers as the staff page): what they owe or have in their favour, their accepted quotes
and what each still owes, their payments (each with its receipt's PDF) and the
prestaciones done. Always ``request.paciente``'s: there is no id in the URL to change."""

from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cliente_web.permisos import requiere_paciente
from pagos.estado_cuenta import estado_de_cuenta


@require_safe
@never_cache
@requiere_paciente
def estado_cuenta(request):
    estado = estado_de_cuenta(request.paciente.pk)
    return render(request, "cliente_web/cuenta/estado_cuenta.html", {"estado": estado})


urlpatterns = [
    path("cuenta/estado/", estado_cuenta, name="cuenta_estado"),
]
