"""Helpers of the security suite (test_tabla_de_acceso, test_csrf, test_cabeceras,
test_fuzz_formularios): the URLconf walked as one list, and URL kwargs filled from the
records of the ``registros`` fixture (conftest.py)."""

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from pruebas.soporte import iniciar_sesion

# The kinds of person every row of the access table is tried with.
PERSONAS = ("anonimo", "paciente", "dentista", "recepcion", "administrador")


def cliente_logueado(user, **opciones):
    cliente = Client(**opciones)
    if user is not None:
        iniciar_sesion(cliente, user)
    return cliente


def patrones():
    """Every URL pattern of the project as (key, pattern): ``namespace:name`` for named ones,
    ``/admin/`` for the whole admin site, the route itself for unnamed ones."""
    encontrados = []

    def recorrer(lista, prefijo, espacio):
        for p in lista:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    encontrados.append(("/admin/", p))
                    continue
                recorrer(p.url_patterns, prefijo + str(p.pattern), p.namespace or espacio)
            elif isinstance(p, URLPattern):
                clave = f"{espacio}:{p.name}" if espacio and p.name else "/" + prefijo + str(p.pattern)
                encontrados.append((clave, p))

    recorrer(get_resolver().url_patterns, "", None)
    return encontrados


def argumentos_de(clave, patron, registros, **cambios):
    """The URL kwargs of ``patron`` filled from ``registros`` (``cambios`` override by kwarg)."""
    kwargs = {}
    for nombre in patron.pattern.converters:
        if nombre in cambios:
            kwargs[nombre] = cambios[nombre]
        elif nombre == "pk":  # the portal's own ids: an appointment, or a document
            kwargs[nombre] = registros["documento_id" if clave == "portal:documento" else "cita_id"]
        elif nombre == "cita_id" and clave == "portal:reservar_confirmar":
            kwargs[nombre] = registros["libre_id"]
        elif nombre == "token":
            tokens = {"portal:recordatorio_enlace": "token_enlace", "portal:cuenta_correo_confirmar": "token_correo",
                      "portal:cuenta_correo_deshacer": "token_deshacer", "portal:registro_verificar": "token_registro"}
            kwargs[nombre] = registros[tokens.get(clave, "token_activacion")]
        else:
            kwargs[nombre] = registros[nombre]
    return kwargs
