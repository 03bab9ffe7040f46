"""The one place that turns what the domain asks for into the sites' URLs (``CLINICA_ENLACES``;
the contract is ``nucleo.enlaces.Enlaces``).

Each link is reversed against the URLconf of the site that serves it (``clinica.urls_portal`` or
``clinica.urls_gestion``: the same paths as ``clinica.urls``), so a process that serves only the
other site, or a worker, builds it right; the base is that site's public address. A path is
reversed once, with a marker in place of its arguments, and then filled in: reminders build two
links per appointment for every appointment of a day.
"""

import functools

from django.conf import settings
from django.urls import reverse

from nucleo.enlaces import Enlaces

URLCONF_PORTAL = "clinica.urls_portal"
URLCONF_GESTION = "clinica.urls_gestion"


@functools.cache
def _ruta(nombre: str, urlconf: str, argumentos: tuple[str, ...]) -> str:
    """The path of ``nombre`` with ``{argumento}`` fields in place of its arguments."""
    marcas = {a: f"MARCA{i}FIN" for i, a in enumerate(argumentos)}
    ruta = reverse(nombre, kwargs=marcas, urlconf=urlconf)
    for argumento, marca in marcas.items():
        ruta = ruta.replace(marca, "{" + argumento + "}")
    return ruta


@functools.cache
def _ruta_con_id(nombre: str, urlconf: str) -> str:
    """The path of ``nombre`` (one ``<int:pk>``) with a ``{pk}`` field: ``_ruta``'s marker is not
    a number, so an int converter refuses it."""
    marca = "9876543210123"
    return reverse(nombre, kwargs={"pk": int(marca)}, urlconf=urlconf).replace(marca, "{pk}")


# A path converter for UUIDs does not take the text marker: a fixed UUID stands in for it.
_MARCA_UUID = "00000000-0000-4000-8000-00000000fe11"


@functools.cache
def _ruta_con_uuid(nombre: str, urlconf: str, argumento: str) -> str:
    """The path of ``nombre`` with a ``{argumento}`` field in place of its one UUID argument."""
    return reverse(nombre, kwargs={argumento: _MARCA_UUID}, urlconf=urlconf).replace(_MARCA_UUID, "{" + argumento + "}")


def _portal(nombre: str, **valores) -> str:
    return _ruta(nombre, URLCONF_PORTAL, tuple(valores)).format(**valores)


class EnlacesClinica(Enlaces):
    def activacion_paciente(self, *, uidb64, token):
        return settings.CLINICA_URL_PORTAL + _portal("portal:activar", uidb64=uidb64, token=token)

    def activacion_personal(self, *, uidb64, token):
        # Both sites run on one host by default; CLINICA_URL_GESTION names the staff site's own
        # base when it runs elsewhere.
        base = (settings.CLINICA_URL_GESTION or settings.CLINICA_URL_PORTAL).rstrip("/")
        ruta = _ruta("gestion:activar", URLCONF_GESTION, ("uidb64", "token"))
        return base + ruta.format(uidb64=uidb64, token=token)

    def cita(self, cita):
        return settings.CLINICA_URL_PORTAL + _ruta_con_id("portal:cita", URLCONF_PORTAL).format(pk=cita.pk)

    def recordatorio(self, *, token):
        return settings.CLINICA_URL_PORTAL + _portal("portal:recordatorio_enlace", token=token)

    def cambio_de_correo(self, *, token):
        return settings.CLINICA_URL_PORTAL + _portal("portal:cuenta_correo_confirmar", token=token)

    def deshacer_cambio_de_correo(self, *, token):
        return settings.CLINICA_URL_PORTAL + _portal("portal:cuenta_correo_deshacer", token=token)

    def cita_paciente(self, *, reserva_uid):
        ruta = _ruta_con_uuid("portal:cita_reserva", URLCONF_PORTAL, "reserva_uid")
        return settings.CLINICA_URL_PORTAL + ruta.format(reserva_uid=reserva_uid)

    def calendario_cita(self, *, reserva_uid):
        ruta = _ruta_con_uuid("portal:cita_calendario_reserva", URLCONF_PORTAL, "reserva_uid")
        return settings.CLINICA_URL_PORTAL + ruta.format(reserva_uid=reserva_uid)

    def cita_personal(self, *, reserva_uid):
        base = (settings.CLINICA_URL_GESTION or settings.CLINICA_URL_PORTAL).rstrip("/")
        ruta = _ruta_con_uuid("gestion:agenda_reserva", URLCONF_GESTION, "reserva_uid")
        return base + ruta.format(reserva_uid=reserva_uid)

    def verificacion_registro(self, *, token):
        return settings.CLINICA_URL_PORTAL + _portal("portal:registro_verificar", token=token)

    def entrar_portal(self):
        return settings.CLINICA_URL_PORTAL + _portal("portal:entrar")

    def recuperar_clave(self):
        return settings.CLINICA_URL_PORTAL + _portal("portal:recuperar_clave")

    def descarga_documento(self, *, documento_id):
        return reverse("portal:documento", args=[documento_id], urlconf=URLCONF_PORTAL)

    def eliminacion_paciente(self, *, cliente_id):
        return reverse("gestion:paciente_eliminar", args=[cliente_id], urlconf=URLCONF_GESTION)

    def presupuesto_paciente(self, *, presupuesto_id):
        return settings.CLINICA_URL_PORTAL + reverse("portal:presupuesto", args=[presupuesto_id],
                                                     urlconf=URLCONF_PORTAL)
