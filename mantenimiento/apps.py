from django.apps import AppConfig


class MantenimientoConfig(AppConfig):
    name = "mantenimiento"
    verbose_name = "Mantenimiento e integridad"
