from django.apps import AppConfig


class GestionClinicaConfig(AppConfig):
    name = "gestion_clinica"
    verbose_name = "Gestión de la clínica (sitio del personal)"
