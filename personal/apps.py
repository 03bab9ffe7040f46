from django.apps import AppConfig

from notificaciones.eventos import declarar


class PersonalConfig(AppConfig):
    name = "personal"
    verbose_name = "Personal"

    def ready(self):
        # Their text is in personal/templates/notificaciones/.
        declarar("invitacion_personal")
