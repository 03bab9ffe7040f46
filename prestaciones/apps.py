from django.apps import AppConfig


class PrestacionesConfig(AppConfig):
    """The clinic's catalogue of prestaciones (its arancel): what a visit is for, how long it
    takes, what it costs, who performs it. Reference data, like ``personal``: below the
    appointments (a booking holds a prestación's duration) and the money apps above the record."""

    name = "prestaciones"
    verbose_name = "Prestaciones"
