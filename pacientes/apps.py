from django.apps import AppConfig


class PacientesConfig(AppConfig):
    name = "pacientes"
    verbose_name = "Pacientes"

    def ready(self):
        from pacientes import integridad  # noqa: F401  (registers its checks in nucleo.integridad)
