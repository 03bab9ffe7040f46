from django.apps import AppConfig


class MantenimientoConfig(AppConfig):
    name = "mantenimiento"
    verbose_name = "Mantenimiento e integridad"

    def ready(self):
        from mantenimiento import integridad  # noqa: F401  (registers its checks in nucleo.integridad)
