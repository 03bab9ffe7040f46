from django.apps import AppConfig


class NotificacionesConfig(AppConfig):
    name = "notificaciones"
    verbose_name = "Notificaciones"
