from django.apps import AppConfig


class PersonalConfig(AppConfig):
    name = "personal"
    verbose_name = "Personal"

    def ready(self):
        from notificaciones.eventos import declarar

        # Their text is in personal/templates/notificaciones/.
        declarar("invitacion_personal")
