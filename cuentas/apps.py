from django.apps import AppConfig


class CuentasConfig(AppConfig):
    name = "cuentas"
    verbose_name = "Cuentas del portal"

    def ready(self):
        from notificaciones.eventos import declarar

        # The portal account's messages; their texts are in cuentas/templates/notificaciones/.
        declarar("invitacion", "bienvenida", "restablecer_clave", "cambio_correo_confirmar", "cambio_correo_aviso")
