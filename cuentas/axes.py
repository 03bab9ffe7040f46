"""django-axes, fitted to this clinic: who an attempt is for, and when it locks.

**Who.** Django's login forms do not enforce a maximum username length; axes writes the attempted
name into a 255-character column, so a longer one made every login page answer 500. A patient logs
in with their RUT (any format) or their e-mail: both are counted as the account they open (its
username), so switching between them, or writing the RUT another way, buys no more attempts; the
password re-entry inside a session reports the same account (``cliente_web.reintentos``). A name
that opens no patient account is counted in its normal form, or as typed (staff usernames).

**When.** Failures are counted per (account, client address) (``AXES_LOCKOUT_PARAMETERS``), so a
stranger guessing from elsewhere cannot lock the owner out; the address is the real client behind
a trusted proxy (``nucleo.ip_cliente``). One address trying many accounts is stopped by a separate,
higher limit, ``CLINICA_LIMITE_FALLOS_POR_IP``: axes 8 counts several parameter sets against one
``AXES_FAILURE_LIMIT`` only, so the handler adds that second count itself.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.attempts import get_cool_off_threshold
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

from cuentas.autenticacion import identificador_normalizado, usuario_del_paciente

LARGO_MAXIMO = 255


def usuario_del_intento(request, credentials=None):
    if credentials:
        usuario = credentials.get("username")
    else:
        usuario = getattr(request, "data", request.POST).get("username")
    if usuario is None:
        return None
    usuario = str(usuario)[:LARGO_MAXIMO]
    # Axes asks several times per attempt: the account is looked up once per request.
    vistos = getattr(request, "_axes_cuentas", None) if request is not None else None
    if vistos is None:
        vistos = {}
        if request is not None:
            request._axes_cuentas = vistos
    if usuario not in vistos:
        normal = identificador_normalizado(usuario)
        user = usuario_del_paciente(normal) if normal else None
        vistos[usuario] = (user.get_username()[:LARGO_MAXIMO] if user else None) or normal or usuario
    return vistos[usuario]


def fallos_desde_la_ip(request) -> int:
    """Failed logins from this request's client address within the cool-off, any account."""
    intentos = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if settings.AXES_COOLOFF_TIME is not None:
        intentos = intentos.filter(attempt_time__gte=get_cool_off_threshold(request))
    return intentos.aggregate(total=Sum("failures_since_start"))["total"] or 0


class ManejadorBloqueo(AxesDatabaseHandler):
    """Axes' database handler, locked also when the client address reached its own limit."""

    def get_failures(self, request, credentials=None) -> int:
        fallos = super().get_failures(request, credentials)
        if fallos < get_failure_limit(request, credentials) and (
            fallos_desde_la_ip(request) >= settings.CLINICA_LIMITE_FALLOS_POR_IP
        ):
            # Reported as the account's limit: axes compares one number with one limit.
            return get_failure_limit(request, credentials)
        return fallos
