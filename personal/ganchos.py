"""What ``personal`` asks of the layers above it, by name in the settings: it imports none of
them (DESIGN.md, "Layers": a lower layer exposes a hook, never an import upward).

- ``PERSONAL_RESERVAS_FUTURAS``: ``(dentista_id) -> int``, how many live bookings from now on a
  dentist has (the appointments live in ``citas``). ``editar_personal`` refuses to take the
  dentist role away while there are any.
"""

from django.conf import settings
from django.utils.module_loading import import_string


def reservas_futuras(dentista_id) -> int:
    return import_string(settings.PERSONAL_RESERVAS_FUTURAS)(dentista_id)
