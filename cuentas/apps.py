from django.apps import AppConfig

from notificaciones.eventos import declarar, declarar_fuera_de_cupo


class CuentasConfig(AppConfig):
    name = "cuentas"
    verbose_name = "Cuentas del portal"

    def ready(self):
        # The portal account's messages; their texts are in cuentas/templates/notificaciones/.
        declarar("invitacion", "bienvenida", "restablecer_clave", "cambio_correo_confirmar", "cambio_correo_aviso",
                 "cambio_correo_deshecho", "cuenta_desbloqueada", "cambio_celular_aviso")
        # Sign-up's next step, by e-mail (cuentas.registro).
        declarar("registro_verificar", "registro_cuenta_existente", "registro_contactar_clinica")
        # The phone code has its own limits (cuentas.codigos): outside the per-destination budget.
        declarar_fuera_de_cupo("codigo_telefono")
