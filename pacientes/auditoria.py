"""How the audit trail names this app's records (``nucleo.auditoria``)."""

from nucleo.auditoria import etiquetas
from pacientes.models import Cliente, ClienteDocumento


@etiquetas("pacientes.Cliente")
def pacientes(ids):
    return {str(pk): nombre for pk, nombre in Cliente.objects.filter(pk__in=ids).values_list("pk", "nombre_completo")}


@etiquetas("pacientes.ClienteDocumento")
def documentos(ids):
    filas = ClienteDocumento.objects.filter(pk__in=ids).values_list("pk", "titulo", "cliente__nombre_completo")
    return {str(pk): f"Documento «{titulo}» de {paciente}" for pk, titulo, paciente in filas}
