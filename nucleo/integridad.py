"""The registry of integrity checks: each app contributes the checks of the invariants its
tables hold (DESIGN.md, "Invariants"), and ``verificar_integridad`` runs them all, in the way
Django's system checks (``django.core.checks.registry``) collect ``contrib/auth/checks.py``.

An app registers its checks in its own ``integridad`` module, imported by its
``AppConfig.ready()``::

    from nucleo.integridad import Hallazgo, hallazgo_sql, registrar

    @registrar("citas")
    def citas_sin_paciente(*, limite):
        yield hallazgo_sql("cita_reservada_sin_paciente", 4, "...", "...", "SELECT ...", limite=limite)

A check takes ``limite`` (examples to list per finding; None: all) and returns or yields
``Hallazgo``s, one per code it reports; it reads set-wise in SQL and never writes. The report
lists the findings by invariant (DESIGN.md's numbering) and, within one invariant, in the order
the checks were registered (``INSTALLED_APPS`` order across apps), so it reads the same whatever
the apps' load order. This module imports no domain package.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone


@dataclass
class Hallazgo:
    """One check of the report: how many rows break it (0: fine) and a few examples."""

    codigo: str
    invariante: int
    descripcion: str
    cantidad: int = 0
    ejemplos: list = field(default_factory=list)
    accion: str = ""
    informativo: bool = False  # shown, never counted as a problem

    @property
    def ok(self):
        return self.informativo or self.cantidad == 0


@dataclass
class InformeIntegridad:
    generado: datetime.datetime
    hallazgos: list[Hallazgo]

    @property
    def problemas(self):
        return [h for h in self.hallazgos if not h.ok]

    @property
    def total_problemas(self):
        return sum(h.cantidad for h in self.problemas)

    @property
    def ok(self):
        return not self.problemas

    def como_dict(self):
        return {
            "ok": self.ok,
            "generado": self.generado.isoformat(),
            "total_problemas": self.total_problemas,
            "hallazgos": [
                {
                    "codigo": h.codigo, "invariante": h.invariante, "descripcion": h.descripcion,
                    "cantidad": h.cantidad, "ok": h.ok, "informativo": h.informativo,
                    "accion": h.accion, "ejemplos": h.ejemplos,
                }
                for h in self.hallazgos
            ],
        }


Verificacion = Callable[..., Iterable[Hallazgo]]


class Registro:
    """The registered checks with their tags, in registration order; a check registered twice
    is one (its tags are the last ones given), like Django's ``CheckRegistry``."""

    def __init__(self):
        self._verificaciones: dict[Verificacion, frozenset[str]] = {}

    def registrar(self, verificacion=None, *etiquetas: str):
        """Register ``verificacion`` under ``etiquetas``. As a decorator: ``@registrar``,
        ``@registrar("citas")``; or called: ``registrar(funcion, "citas")``."""

        def agregar(funcion):
            self._verificaciones[funcion] = frozenset(etiquetas)
            return funcion

        if callable(verificacion):
            return agregar(verificacion)
        if verificacion is not None:
            etiquetas = (verificacion, *etiquetas)
        return agregar

    def verificaciones(self, etiquetas: Iterable[str] | None = None) -> list[Verificacion]:
        """The registered checks, only those carrying one of ``etiquetas`` when given."""
        if etiquetas is None:
            return list(self._verificaciones)
        pedidas = set(etiquetas)
        return [f for f, propias in self._verificaciones.items() if propias & pedidas]

    def etiquetas(self) -> set[str]:
        return set().union(*self._verificaciones.values())

    def etiquetas_de(self, verificacion: Verificacion) -> frozenset[str]:
        return self._verificaciones[verificacion]

    def ejecutar(self, *, limite: int | None, etiquetas: Iterable[str] | None = None) -> InformeIntegridad:
        """Run the checks (those of ``etiquetas`` when given) and collect their findings, sorted
        by invariant. A database error propagates: a half report would read as a clean one."""
        hallazgos = [h for verificacion in self.verificaciones(etiquetas) for h in verificacion(limite=limite)]
        hallazgos.sort(key=lambda h: h.invariante)  # stable: registration order within an invariant
        return InformeIntegridad(generado=timezone.now(), hallazgos=hallazgos)


registro = Registro()
registrar = registro.registrar


# Helpers for the checks' SQL -----------------------------------------------------------------


def filas(sql, parametros=None) -> list[dict]:
    """The rows of ``sql`` as dicts keyed by column name."""
    with connection.cursor() as cursor:
        cursor.execute(sql, parametros or [])
        columnas = [c[0] for c in cursor.description]
        return [dict(zip(columnas, fila)) for fila in cursor.fetchall()]


def sin_tope(limite):
    """SQL LIMIT value: None or 0 mean all rows."""
    return None if not limite else int(limite)


def serializable(fila: dict) -> dict:
    """``fila`` with its datetimes as ISO strings (the report goes out as JSON)."""
    return {k: (v.isoformat() if isinstance(v, datetime.datetime) else v) for k, v in fila.items()}


def conteo_y_ejemplos(sql, limite, parametros=None) -> tuple[int, list[dict]]:
    """(total, up to ``limite`` example rows) of ``sql``: a query whose rows carry the total as
    a ``total`` column (``count(*) OVER ()``) and take a ``LIMIT`` appended here."""
    resultado = filas(sql + " LIMIT %(limite)s", {"limite": limite, **(parametros or {})})
    if not resultado:
        return 0, []
    total = resultado[0].pop("total")
    for fila in resultado[1:]:
        fila.pop("total")
    return int(total), [serializable(f) for f in resultado]


def hallazgo_sql(codigo, invariante, descripcion, accion, sql, *, limite, parametros=None,
                 informativo=False) -> Hallazgo:
    """The finding ``codigo`` whose rows are those of ``sql`` (see ``conteo_y_ejemplos``)."""
    cantidad, ejemplos = conteo_y_ejemplos(sql, limite, parametros)
    return Hallazgo(codigo, invariante, descripcion, cantidad, ejemplos, accion, informativo)
