"""How the audit trail names this app's records (``nucleo.auditoria``); logins are named by
``nucleo.selectors`` itself, with the actors."""

from cuentas.models import PerfilCliente
from nucleo.auditoria import etiquetas


def _nombre(nombre, apellido, usuario):
    return f"{nombre} {apellido}".strip() or usuario


@etiquetas("cuentas.PerfilCliente")
def cuentas(ids):
    filas = PerfilCliente.objects.filter(pk__in=ids).values_list("pk", "user__first_name", "user__last_name",
                                                                 "user__username")
    return {str(pk): f"Cuenta del portal de {_nombre(n, a, u)}" for pk, n, a, u in filas}
