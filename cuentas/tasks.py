"""The portal accounts' background jobs (the worker discovers ``tasks`` modules).

- ``restablecer_clave``: "forgot my password" does its lookup here, not in the request, so the
  answer takes the same time for a known and an unknown account (issue 14). The request only
  queues it (``pedir_restablecimiento``).
- ``purgar_registros``: every hour, sign-ups whose verification link expired unused are deleted
  (``cuentas.registro.purgar_registros_vencidos``), so an address typed by someone else is not
  kept.
"""

from procrastinate.contrib.django import app

from cuentas.registro import purgar_registros_vencidos
from cuentas.services import solicitar_restablecimiento
from nucleo.servicios import operacion

# The reset job records a message: it runs with the messages' delivery.
COLA_RESTABLECIMIENTO = "notificaciones"
TAREA_RESTABLECIMIENTO = "cuentas.restablecer_clave"


@app.task(name=TAREA_RESTABLECIMIENTO, queue=COLA_RESTABLECIMIENTO)
def restablecer_clave(*, identificador: str) -> None:
    solicitar_restablecimiento(identificador=identificador)


def pedir_restablecimiento(*, identificador) -> None:
    """Queue the "forgot my password" job for ``identificador`` (a RUT or e-mail, already well
    formed): one and the same write for a known and an unknown account. The job runs
    ``cuentas.services.solicitar_restablecimiento`` (lookup, 15-minute window, the e-mail)."""
    with operacion("pedir_restablecimiento"):
        restablecer_clave.defer(identificador=str(identificador).strip()[:254])


@app.periodic(cron="23 * * * *", periodic_id="purgar_registros")
@app.task(name="cuentas.purgar_registros", queue="mantenimiento", queueing_lock="purgar_registros")
def purgar_registros(timestamp: int) -> None:
    purgar_registros_vencidos()
