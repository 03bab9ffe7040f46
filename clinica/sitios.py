"""Which site a process serves: both (the default, one process), the staff site alone, or the
portal alone. The two-process mode is the seed's deployment (two services on one database)
without its duplicated code: ``CLINICA_SITIO`` picks the URLconf; everything else is shared.

settings.py: ``ROOT_URLCONF = urlconf_del_sitio(os.environ.get("CLINICA_SITIO", "ambos"))``.
"""

from django.core.exceptions import ImproperlyConfigured

URLCONFS = {
    "ambos": "clinica.urls",
    "gestion": "clinica.urls_gestion",
    "portal": "clinica.urls_portal",
}


def urlconf_del_sitio(nombre: str) -> str:
    """Module path of the URLconf for ``nombre``; ImproperlyConfigured (in Spanish, with the
    valid values) for anything else, so a typo stops the process at start, not at a request."""
    clave = (nombre or "ambos").strip().lower()
    try:
        return URLCONFS[clave]
    except KeyError:
        validos = ", ".join(URLCONFS)
        raise ImproperlyConfigured(
            f"CLINICA_SITIO={nombre!r} no es válido. Use uno de: {validos} "
            "(ambos = personal y portal en un proceso)."
        ) from None
