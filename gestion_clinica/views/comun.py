from django.shortcuts import render

from gestion_clinica.permisos import requiere_rol


def proximamente(titulo, *roles):
    """A page that does not exist yet: 200 for its roles, so the role matrix is testable now."""

    @requiere_rol(*roles)
    def vista(request):
        return render(request, "gestion_clinica/proximamente.html", {"titulo": titulo})

    return vista
