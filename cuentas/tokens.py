"""One-time set-password links (invitations), built on Django's own token generator.

The token is bound to the password hash and last login, so it stops working once used.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

# The portal's set-password page; the patient portal serves this path.
RUTA_ACTIVACION = "/portal/activar/{uidb64}/{token}/"


def enlace_activacion(user) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.CLINICA_URL_PORTAL + RUTA_ACTIVACION.format(uidb64=uidb64, token=token)
