from django.apps import AppConfig


class PagosConfig(AppConfig):
    """Payments (an append-only ledger), the cash box of each receptionist per day, the
    patient's account statement and the clinic's money reports. Above the plans and quotes the
    payments are applied to."""

    name = "pagos"
    verbose_name = "Pagos y caja"

    def ready(self):
        from pagos import integridad  # noqa: F401  (registers its checks in nucleo.integridad)
