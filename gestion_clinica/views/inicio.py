from django.shortcuts import render

from citas.selectors import resumen_del_dia
from gestion_clinica.permisos import DENTISTA, TODOS, perfil_de, requiere_rol


@requiere_rol(*TODOS)
def inicio(request):
    """Today's appointments per dentist and the day's counts; a dentist sees only theirs."""
    dentista_id = perfil_de(request.user).pk if request.rol_personal == DENTISTA else None
    resumen = resumen_del_dia(dentista_id=dentista_id)
    return render(request, "gestion_clinica/inicio.html", {"resumen": resumen})
