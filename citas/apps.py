from django.apps import AppConfig

from notificaciones.eventos import declarar


class CitasConfig(AppConfig):
    name = "citas"
    verbose_name = "Citas"

    def ready(self):
        # The appointments' messages; their texts are in citas/templates/notificaciones/.
        declarar("reserva_confirmada", "cita_asignada", "cita_cancelada_paciente", "cita_cancelada_clinica",
                 "cita_reprogramada", "recordatorio")
        from citas import integridad  # noqa: F401  (registers its checks in nucleo.integridad)
