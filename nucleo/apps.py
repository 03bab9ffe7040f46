from django.apps import AppConfig


class NucleoConfig(AppConfig):
    name = "nucleo"
    verbose_name = "Núcleo"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.core import checks

        from nucleo.cache_pg import comprobar_cache_de_limites
        from nucleo.ip_cliente import comprobar_proxies
        from nucleo.sesiones import iniciar

        checks.register(comprobar_proxies, checks.Tags.security, deploy=True)
        checks.register(comprobar_cache_de_limites, checks.Tags.caches)
        # Session lifetimes start at login (nucleo.sesiones).
        user_logged_in.connect(iniciar, dispatch_uid="nucleo.sesiones.iniciar")
