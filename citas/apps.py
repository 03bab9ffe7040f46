from django.apps import AppConfig

from notificaciones.eventos import declarar, declarar_fuera_de_cupo


class CitasConfig(AppConfig):
    name = "citas"
    verbose_name = "Citas"

    def ready(self):
        # The appointments' messages; their texts are in citas/templates/notificaciones/.
        declarar("reserva_confirmada", "cita_asignada", "cita_cancelada_paciente", "cita_cancelada_clinica",
                 "cita_reprogramada")
        # One per appointment and hours-before, scheduled by the clinic: outside the send budget.
        declarar_fuera_de_cupo("recordatorio")
        from citas import integridad  # noqa: F401  (registers its checks in nucleo.integridad)
