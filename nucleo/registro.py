"""Structured log lines: an event name and key=value fields, ids only (never e-mails or RUTs)."""

import logging


def registrar_evento(logger: logging.Logger, evento: str, nivel: int = logging.INFO, **campos) -> None:
    pares = " ".join(f"{clave}={valor}" for clave, valor in campos.items())
    logger.log(nivel, "%s %s", evento, pares)
