from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def revisar_ajustes(app_configs, **kwargs):
    """System check: the SMS/WhatsApp provider names are known and their credentials are set,
    so a mistake shows at startup (``manage.py check``, runserver, migrate), not as pending
    messages days later."""
    from notificaciones import ajustes

    errores = []
    proveedores = {}
    for nombre, leer in (("NOTIFICACIONES_SMS", ajustes.proveedor_sms),
                         ("NOTIFICACIONES_WHATSAPP", ajustes.proveedor_whatsapp)):
        try:
            proveedores[nombre] = leer()
        except ImproperlyConfigured as exc:
            errores.append(checks.Error(str(exc), id="notificaciones.E001"))
    faltan = []
    usados = set(proveedores.values())
    if "twilio" in usados:
        faltan += [n for n, v in (("TWILIO_ACCOUNT_SID", ajustes.twilio_account_sid()),
                                  ("TWILIO_AUTH_TOKEN", ajustes.twilio_auth_token())) if not v]
    if proveedores.get("NOTIFICACIONES_SMS") == "twilio" and not (
        ajustes.twilio_sms_from() or ajustes.twilio_messaging_service_sid()
    ):
        faltan.append("TWILIO_SMS_FROM o TWILIO_MESSAGING_SERVICE_SID")
    if proveedores.get("NOTIFICACIONES_WHATSAPP") == "twilio" and not ajustes.twilio_whatsapp_from():
        faltan.append("TWILIO_WHATSAPP_FROM")
    if proveedores.get("NOTIFICACIONES_WHATSAPP") == "meta":
        faltan += [n for n, v in (("META_WA_TOKEN", ajustes.meta_token()),
                                  ("META_WA_PHONE_NUMBER_ID", ajustes.meta_phone_number_id())) if not v]
    errores += [
        checks.Error(f"Falta {nombre} para el proveedor de avisos configurado.", id="notificaciones.E002")
        for nombre in faltan
    ]
    return errores


class NotificacionesConfig(AppConfig):
    name = "notificaciones"
    verbose_name = "Notificaciones"

    def ready(self):
        from notificaciones import integridad  # noqa: F401  (registers its checks in nucleo.integridad)

        checks.register(revisar_ajustes, "notificaciones")
