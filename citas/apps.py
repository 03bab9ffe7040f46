from django.apps import AppConfig


class CitasConfig(AppConfig):
    name = "citas"
    verbose_name = "Citas"
