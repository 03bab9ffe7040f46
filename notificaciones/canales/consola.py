"""Development channel: logs what would be sent, sends nothing (``bin/run`` uses it)."""

import logging

logger = logging.getLogger("notificaciones.consola")


class CanalConsola:
    nombre = "consola"

    def __init__(self, canal: str):
        self.canal = canal

    def enviar(self, notificacion) -> str:
        # Development only: the text and number are shown, as Django's console mail backend does.
        logger.info(
            "aviso_no_enviado (consola) canal=%s para=%s plantilla=%s variables=%s\n%s",
            self.canal, notificacion.destinatario, notificacion.plantilla, notificacion.variables,
            notificacion.cuerpo,
        )
        return f"consola-{notificacion.pk}"
