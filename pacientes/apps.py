from django.apps import AppConfig

from notificaciones.eventos import declarar


class PacientesConfig(AppConfig):
    name = "pacientes"
    verbose_name = "Pacientes"

    def ready(self):
        from pacientes import integridad  # noqa: F401  (registers its checks in nucleo.integridad)

        declarar("telefono_liberado")
