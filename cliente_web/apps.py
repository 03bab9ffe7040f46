from django.apps import AppConfig


class ClienteWebConfig(AppConfig):
    name = "cliente_web"
    verbose_name = "Portal de pacientes"
