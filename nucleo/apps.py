from django.apps import AppConfig


class NucleoConfig(AppConfig):
    name = "nucleo"
    verbose_name = "Núcleo"

    def ready(self):
        from django.core import checks

        from nucleo.ip_cliente import comprobar_proxies

        checks.register(comprobar_proxies, checks.Tags.security, deploy=True)
