"""The events the outbox may be asked to send. Each app declares its own when it loads
(``declarar`` in its ``AppConfig.ready``), and keeps their texts beside it, in
``<app>/templates/notificaciones/<evento>/`` (``asunto.txt``, ``email.txt``, ``corto.txt`` and,
for WhatsApp templates, ``variables.txt``): what a message says belongs to the layer that asks
for it; the outbox only renders, records and delivers."""

_declarados: set[str] = set()


def declarar(*eventos: str) -> None:
    _declarados.update(eventos)


def declarados() -> frozenset[str]:
    return frozenset(_declarados)


_fuera_de_cupo: set[str] = set()


def declarar_fuera_de_cupo(*eventos: str) -> None:
    """Events not counted in the per-destination send budget (``NOTIFICACIONES_MAXIMO_POR_HORA``):
    reminders (one per appointment, scheduled by the clinic) and messages with their own limit
    (the phone code). They are declared with ``declarar`` too."""
    declarar(*eventos)
    _fuera_de_cupo.update(eventos)


def fuera_de_cupo() -> frozenset[str]:
    return frozenset(_fuera_de_cupo)
