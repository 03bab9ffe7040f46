"""What the audit trail shows instead of raw ids: a registry each app fills in its own
``<app>/auditoria.py`` module (found by ``autodiscover_modules``, like Django's ``admin.py``),
so this base layer names no domain model.

- ``@etiquetas("citas.Cita")``: ``(ids) -> {str(id): label}`` for one model, resolved in one
  query for a whole page ("Cita 10:30 del 08-12-2026 con Camila Soto", a patient's name). The
  audit page uses it for the changed record and for every foreign key in its changes.
- ``@resumen("generar_horas", modelo="citas.Cita", titulo="Generación de horas")``:
  ``(context_ids) -> {context_id: text}``. The rows that one run of that service inserted into
  that model are shown as one summary row ("192 horas creadas, 01-12 a 31-12").

An ``etiquetas`` or ``resumen`` function reads in one query whatever it is given, and leaves
out what no longer exists (the page then shows "Cita n.º 12").
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import autodiscover_modules

_ETIQUETAS: dict[str, Callable] = {}
_RESUMENES: dict[str, "Resumen"] = {}
_descubierto = False


@dataclass(frozen=True)
class Resumen:
    servicio: str
    modelo: str
    titulo: str
    funcion: Callable


def etiquetas(modelo: str):
    def registrar(funcion):
        _ETIQUETAS[modelo] = funcion
        return funcion

    return registrar


def resumen(servicio: str, *, modelo: str, titulo: str):
    def registrar(funcion):
        _RESUMENES[servicio] = Resumen(servicio, modelo, titulo, funcion)
        return funcion

    return registrar


def _descubrir():
    global _descubierto
    if not _descubierto:
        autodiscover_modules("auditoria")
        _descubierto = True


def etiquetador(modelo: str) -> Callable | None:
    _descubrir()
    return _ETIQUETAS.get(modelo)


def resumenes() -> list[Resumen]:
    _descubrir()
    return list(_RESUMENES.values())
