from django.db import models


class ConFechas(models.Model):
    """Creation and last-change timestamps, on every table of the clinic."""

    creado = models.DateTimeField("creado", auto_now_add=True)
    actualizado = models.DateTimeField("actualizado", auto_now=True)

    class Meta:
        abstract = True
