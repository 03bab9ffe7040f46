"""Template context shared by both sites: who the clinic is and how to reach it."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.functional import lazy


def _url_del_sitio(nombre_url, ruta, base):
    """A path when this process serves that site; else the other service's absolute address
    (``CLINICA_SITIO`` splits the sites, and reversing the absent namespace would fail)."""
    try:
        return reverse(nombre_url)
    except NoReverseMatch:
        return f"{base}{ruta}"


# Made lazy once: ``lazy()`` builds a proxy class on every call, which cost every page ~0.1 ms.
_url_del_sitio_perezosa = lazy(_url_del_sitio, str)


def clinica(request):
    return {
        "clinica_nombre": settings.CLINICA_NOMBRE,
        "clinica_telefono": settings.CLINICA_TELEFONO,
        "clinica_correo": settings.CLINICA_CORREO,
        # Lazy: computed only by the templates that link to the other site.
        "url_gestion": _url_del_sitio_perezosa("gestion:inicio", "/gestion/", settings.CLINICA_URL_GESTION),
        "url_portal": _url_del_sitio_perezosa("portal:inicio", "/portal/", settings.CLINICA_URL_PORTAL),
    }
