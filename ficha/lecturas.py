"""The read log of clinical records (Decreto 41 of 2012, art. 9: the dates and the people who
accessed the ficha). Every view that shows any part of a record calls ``registrar_lectura`` in
the same request, allowed or refused; the rows are append-only in the database."""

from ficha.acceso import Acceso
from ficha.models import LecturaFicha
from personal.models import nombre_de_personal


def registrar_lectura(*, usuario, cliente_id: int, seccion: str, acceso: Acceso, ip: str | None = None,
                      objeto_id: int | None = None) -> LecturaFicha:
    """Write one row of the log: who (with their name and role as they are now), which
    patient, what (``Seccion`` and the row's id), when (the database's clock), from where, and
    on what ground (``acceso.via``, with the reason of an urgent access). A refused attempt is
    logged too (``via = denegado``)."""
    autenticado = usuario is not None and getattr(usuario, "is_authenticated", False)
    nombre = (nombre_de_personal(usuario.first_name, usuario.last_name, usuario.get_username())
              if autenticado else "Anónimo")
    return LecturaFicha.objects.create(
        usuario_id=usuario.pk if autenticado else None, usuario_nombre=nombre[:200], rol=acceso.rol[:40],
        cliente_id=cliente_id, seccion=seccion, objeto_id=objeto_id, via=acceso.via,
        motivo_urgencia=acceso.motivo_urgencia, ip=ip,
    )
