from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo clinic of ``bin/run`` (``manage.py cargar_demo``). Sits on top of every domain
    app and writes only through their services; nothing in production imports it."""

    name = "demo"
    verbose_name = "Demostración"
