from django.db import models


class ConFechas(models.Model):
    """Creation and last-change timestamps, on every table of the clinic."""

    creado = models.DateTimeField("creado", auto_now_add=True)
    actualizado = models.DateTimeField("actualizado", auto_now=True)

    class Meta:
        abstract = True


class ContadorLimite(models.Model):
    """One counter of the attempt limits (``nucleo.cache_pg``, the ``limites`` cache): how many
    attempts a key (a rule, an account or an address, a time window) made, until ``expira``.

    Written only by the cache backend's single-statement SQL, never through the ORM. The table
    is UNLOGGED (migration ``0001``): no write-ahead log for a counter that is rewritten on every
    attempt; after a crash PostgreSQL empties it, which only forgets the current windows."""

    clave = models.CharField("clave", max_length=255, primary_key=True)
    valor = models.BigIntegerField("valor")
    expira = models.DateTimeField("expira")

    class Meta:
        verbose_name = "contador de intentos"
        verbose_name_plural = "contadores de intentos"

    def __str__(self):
        return f"{self.clave} = {self.valor}"
