"""One-time set-password links (invitations), built on Django's own token generator.

The token is bound to the password hash and last login, so it stops working once used. Where
the link points is the sites' business (``nucleo.enlaces``).
"""

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def credenciales_de_activacion(user) -> dict:
    """``{"uidb64": …, "token": …}`` for ``user``'s set-password page."""
    return {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}
