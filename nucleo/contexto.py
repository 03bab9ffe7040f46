"""Template context shared by both sites: who the clinic is and how to reach it."""

from django.conf import settings


def clinica(request):
    return {
        "clinica_nombre": settings.CLINICA_NOMBRE,
        "clinica_telefono": settings.CLINICA_TELEFONO,
        "clinica_correo": settings.CLINICA_CORREO,
    }
