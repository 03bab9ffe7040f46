"""What the outbox asks of the layers above it, by name in the settings: it imports none of them
(DESIGN.md, "Layers": a lower layer exposes a hook, never an import upward).

- ``NOTIFICACIONES_PUEDE_REENVIAR``: ``(actor) -> bool``, whether a staff member may resend a
  notice (``reenviar_notificacion``); the staff roles live in ``personal``.
- ``NOTIFICACIONES_REGISTRAR_BAJA``: ``(*, telefono, canal, proveedor) -> int``, an inbound
  STOP/BAJA: clear that channel's consent of the patient with that number; the consent lives on
  the portal account (``cuentas``). Returns how many accounts changed.
"""

from django.conf import settings
from django.utils.module_loading import import_string


def puede_reenviar(actor) -> bool:
    return import_string(settings.NOTIFICACIONES_PUEDE_REENVIAR)(actor)


def registrar_baja(*, telefono, canal, proveedor) -> int:
    return import_string(settings.NOTIFICACIONES_REGISTRAR_BAJA)(telefono=telefono, canal=canal, proveedor=proveedor)
