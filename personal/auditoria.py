"""How the audit trail names this app's records (``nucleo.auditoria``)."""

from nucleo.auditoria import etiquetas
from personal.models import Perfil, nombre_de_personal


@etiquetas("personal.Perfil")
def miembros(ids):
    filas = Perfil.objects.filter(pk__in=ids).values_list("pk", "user__first_name", "user__last_name",
                                                          "user__username")
    return {str(pk): nombre_de_personal(nombre, apellido, usuario) for pk, nombre, apellido, usuario in filas}
