"""One-time set-password links (invitations), built on Django's own token generator.

The token is bound to the password hash and last login, so it stops working once used.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

# The portal's set-password page; the patient portal serves this path.
RUTA_ACTIVACION = "/portal/activar/{uidb64}/{token}/"
# The staff site's set-password page (invitations to staff members).
RUTA_ACTIVACION_PERSONAL = "/gestion/activar/{uidb64}/{token}/"


def _enlace(base: str, ruta: str, user) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base + ruta.format(uidb64=uidb64, token=token)


def enlace_activacion(user) -> str:
    """The patient's one-time link to set their portal password."""
    return _enlace(settings.CLINICA_URL_PORTAL, RUTA_ACTIVACION, user)


def enlace_activacion_personal(user) -> str:
    """A staff member's one-time link to set their password on the staff site.

    Both sites run on one host by default; ``CLINICA_URL_GESTION`` (optional) names the staff
    site's own base when it runs elsewhere.
    """
    base = getattr(settings, "CLINICA_URL_GESTION", "") or settings.CLINICA_URL_PORTAL
    return _enlace(base.rstrip("/"), RUTA_ACTIVACION_PERSONAL, user)
