"""The links that the domain sends (invitations, reminders' one-tap links, e-mail changes, data
downloads) come from one adapter that the sites own, named by ``CLINICA_ENLACES`` in the settings,
the way django-allauth's ``ACCOUNT_ADAPTER`` builds its confirmation URLs.

The domain asks for a link by what it is for and never names a site URL or path: only the
adapter knows them. Tests or a deployment can swap it through the setting.
"""

import functools

from django.conf import settings
from django.utils.module_loading import import_string


class Enlaces:
    """What the domain may ask for. Absolute URLs unless the method says otherwise."""

    def activacion_paciente(self, *, uidb64: str, token: str) -> str:
        """The patient's one-time page to set their portal password."""
        raise NotImplementedError

    def activacion_personal(self, *, uidb64: str, token: str) -> str:
        """A staff member's one-time page to set their password on the staff site."""
        raise NotImplementedError

    def cita(self, cita) -> str:
        """The appointment's page in the portal (``cita``: anything with its ``pk``), the link
        every notice about it carries."""
        raise NotImplementedError

    def recordatorio(self, *, token: str) -> str:
        """A reminder's one-tap confirm/cancel page."""
        raise NotImplementedError

    def cambio_de_correo(self, *, token: str) -> str:
        """The page that confirms a new e-mail address."""
        raise NotImplementedError

    def deshacer_cambio_de_correo(self, *, token: str) -> str:
        """The page, linked from the old address's notice, that undoes an e-mail change and locks
        the account."""
        raise NotImplementedError

    def cita_paciente(self, *, reserva_uid) -> str:
        """The patient's portal page of one booking, by its identity (``Cita.reserva_uid``):
        it leads to the slot the booking is in now, or says that it was cancelled."""
        raise NotImplementedError

    def calendario_cita(self, *, reserva_uid) -> str:
        """The booking's calendar file (.ics) on the portal, by its identity."""
        raise NotImplementedError

    def cita_personal(self, *, reserva_uid) -> str:
        """The staff site's page of one booking, by its identity (its current slot, or the slot
        it was cancelled from)."""
        raise NotImplementedError

    def verificacion_registro(self, *, token: str) -> str:
        """The page that proves a new sign-up's e-mail and creates the account."""
        raise NotImplementedError

    def entrar_portal(self) -> str:
        """The portal's login page."""
        raise NotImplementedError

    def recuperar_clave(self) -> str:
        """The portal's "forgot my password" page."""
        raise NotImplementedError

    def descarga_documento(self, *, documento_id: int) -> str:
        """Where the patient downloads one of their documents (a path on the portal)."""
        raise NotImplementedError

    def eliminacion_paciente(self, *, cliente_id: int) -> str:
        """The staff site's page that deletes a patient through its service (a path)."""
        raise NotImplementedError

    def presupuesto_paciente(self, *, presupuesto_id: int) -> str:
        """The patient's portal page of one of their quotes (to read, accept or reject it)."""
        raise NotImplementedError


@functools.cache
def _adaptador(ruta: str) -> Enlaces:
    return import_string(ruta)()


def enlaces() -> Enlaces:
    """The configured adapter (one instance per class, built on first use)."""
    return _adaptador(settings.CLINICA_ENLACES)
