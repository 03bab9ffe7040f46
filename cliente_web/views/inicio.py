"""The portal's home: the next appointment first, then what the patient can do."""

from django.shortcuts import render
from django.urls import path

from citas.selectors import proxima_cita
from cliente_web.permisos import requiere_paciente


@requiere_paciente
def inicio(request):
    return render(request, "cliente_web/inicio.html", {"proxima": proxima_cita(cliente_id=request.paciente.pk)})


urlpatterns = [
    path("", inicio, name="inicio"),
]
