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
