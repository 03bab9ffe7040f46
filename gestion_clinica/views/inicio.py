from django.shortcuts import render

from citas.selectors import proximo_dia_con_horas, resumen_del_dia
from gestion_clinica.permisos import DENTISTA, TODOS, perfil_de, requiere_rol


@requiere_rol(*TODOS)
def inicio(request):
    """Today's appointments per dentist and the day's counts; a dentist sees only theirs. On a
    day without slots (a weekend, a holiday, a closed day) a link to the next day that has
    some (one more query, only then)."""
    dentista_id = perfil_de(request.user).pk if request.rol_personal == DENTISTA else None
    resumen = resumen_del_dia(dentista_id=dentista_id)
    sin_horas = not any(columna.citas for columna in resumen.columnas)
    proximo = proximo_dia_con_horas(despues_de=resumen.fecha, dentista_id=dentista_id) if sin_horas else None
    return render(request, "gestion_clinica/inicio.html", {"resumen": resumen, "proximo": proximo})
