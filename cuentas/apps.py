from django.apps import AppConfig

from notificaciones.eventos import declarar, declarar_fuera_de_cupo


class CuentasConfig(AppConfig):
    name = "cuentas"
    verbose_name = "Cuentas del portal"

    def ready(self):
        # The portal account's messages; their texts are in cuentas/templates/notificaciones/.
        declarar("invitacion", "bienvenida", "restablecer_clave", "cambio_correo_confirmar", "cambio_correo_aviso",
                 "cambio_correo_deshecho")
        # The phone code has its own limits (cuentas.codigos): outside the per-destination budget.
        declarar_fuera_de_cupo("codigo_telefono")
