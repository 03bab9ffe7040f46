"""Password re-entry inside a session (deleting the account, changing the password) counts as
a login attempt for django-axes.

Without this, someone holding an open session (a borrowed phone) could guess the password on
those pages without limit and then take the account. A wrong password there is reported to
axes like a failed login under the account's username, which is also what a login by RUT or
e-mail is counted as (``cuentas.axes``): one counter per account and client address, so the limit
and the lockout page are the login's own, and the lockout also holds at the login page.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed


def _credenciales(request):
    return {"username": request.user.get_username()}


def clave_bloqueada(request) -> bool:
    """Whether this account is locked out from this address (too many wrong passwords)."""
    return AxesProxyHandler.is_locked(request, credentials=_credenciales(request))


def registrar_clave_incorrecta(request) -> None:
    """Count a wrong password; at the limit axes' middleware answers with its lockout page."""
    user_login_failed.send(sender=__name__, credentials=_credenciales(request), request=request)
