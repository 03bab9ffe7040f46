from django.apps import AppConfig


class CitasConfig(AppConfig):
    name = "citas"
    verbose_name = "Citas"

    def ready(self):
        from citas import integridad  # noqa: F401  (registers its checks in nucleo.integridad)
