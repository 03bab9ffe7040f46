from django.apps import AppConfig
from django.core import checks


class DemoConfig(AppConfig):
    """The demo clinic of ``bin/run`` (``manage.py cargar_demo``). Sits on top of every domain
    app and writes only through their services; nothing in production imports it (but its
    system check, ``demo.checks``, refuses the demo's public second-factor secret without DEBUG)."""

    name = "demo"
    verbose_name = "Demostración"

    def ready(self):
        from demo.checks import revisar_secreto_demo

        # A database check: ``check --database default`` (bin/produccion, after migrating) and
        # ``manage.py migrate``; not every command.
        checks.register(revisar_secreto_demo, checks.Tags.database, checks.Tags.security)
