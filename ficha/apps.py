from django.apps import AppConfig


class FichaConfig(AppConfig):
    """The clinical record (ficha clínica): medical history, progress notes, who may read them,
    the log of every read, and how long it is kept. Above patients and appointments."""

    name = "ficha"
    verbose_name = "Ficha clínica"

    def ready(self):
        from ficha import integridad  # noqa: F401  (registers its checks in nucleo.integridad)
