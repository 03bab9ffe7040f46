"""System check: the demo's public authenticator secret must never guard a production account."""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.datos import SECRETO_DEMO


def revisar_secreto_demo(app_configs=None, databases=None, **kwargs):
    """``demo.E001`` when ``DEBUG`` is off and some TOTP device has ``SECRETO_DEMO`` (published in
    the README: anyone can compute its codes). A database check (``check --database
    default``, which ``bin/produccion`` runs after migrating, before starting; also ``migrate``
    from the command line); without a table yet there is nothing to report."""
    if settings.DEBUG or not databases:
        return []
    try:
        usuarios = sorted(TOTPDevice.objects.filter(key__iexact=SECRETO_DEMO)
                          .values_list("user__username", flat=True).distinct())
    except DatabaseError:
        return []
    if not usuarios:
        return []
    return [checks.Error(
        f"Hay cuentas con el segundo factor de la demostración (su secreto es público): {', '.join(usuarios)}.",
        hint="Restablezca su segundo factor (Personal → la persona → «Restablecer segundo factor») o borre los "
             "datos de la demostración; en producción nadie debe usar el secreto de demo.",
        id="demo.E001",
    )]
