from django.apps import AppConfig


class TratamientosConfig(AppConfig):
    """Treatment plans (what the dentist proposes, from the odontogram's findings) and the quotes
    (presupuestos) a patient accepts. Above the clinical record: a plan item comes from a
    finding and is done in a progress note."""

    name = "tratamientos"
    verbose_name = "Planes de tratamiento y presupuestos"

    def ready(self):
        from notificaciones.eventos import declarar
        from tratamientos import integridad  # noqa: F401  (registers its checks in nucleo.integridad)

        declarar("presupuesto_emitido")
