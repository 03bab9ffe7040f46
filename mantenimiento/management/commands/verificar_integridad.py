"""Check every invariant of DESIGN.md; exit 0 when clean, 1 when anything is found, 2 on error.

    manage.py verificar_integridad                  # report in Spanish
    manage.py verificar_integridad --format json    # for monitoring
"""

import json
import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from mantenimiento.management.commands._comun import pares
from mantenimiento.selectors import verificar_integridad
from nucleo.registro import registrar_evento

logger = logging.getLogger("mantenimiento.verificar_integridad")

SALIDA_PROBLEMAS = 1
SALIDA_ERROR = 2
SIN_RESTO = {"rut_duplicado", "email_duplicado", "telefono_duplicado", "vinculo_ambiguo"}


class Command(BaseCommand):
    help = (
        "Revisa las invariantes de la base (duplicados, huérfanos, cuentas desincronizadas, citas sin paciente "
        "o traslapadas, avisos estancados, trabajos fallidos). Sale con 0 si todo está bien y 1 si encontró algo."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["texto", "json"], default="texto",
                            help="texto (por defecto) o json para monitoreo")
        parser.add_argument("--limite", type=int, default=10,
                            help="ejemplos a mostrar por verificación (0: todos); por defecto 10")

    def handle(self, *args, format="texto", limite=10, **opciones):
        if limite < 0:
            raise CommandError("--limite debe ser 0 (todos) o un número positivo.", returncode=SALIDA_ERROR)
        inicio = time.monotonic()
        try:
            informe = verificar_integridad(limite_ejemplos=limite)
        except DatabaseError as error:
            registrar_evento(logger, "verificacion_fallida", logging.ERROR, error=type(error).__name__)
            raise CommandError(
                f"No se pudo verificar la base ({error}). Revise la conexión e intente de nuevo.",
                returncode=SALIDA_ERROR,
            ) from error
        duracion = time.monotonic() - inicio
        if format == "json":
            self.stdout.write(json.dumps({**informe.como_dict(), "duracion_s": round(duracion, 3)},
                                         ensure_ascii=False, indent=2))
        else:
            self._texto(informe)
        problemas = informe.problemas
        registrar_evento(
            logger, "integridad_verificada", logging.INFO if informe.ok else logging.WARNING,
            ok=informe.ok, problemas=informe.total_problemas,
            verificaciones_fallidas=",".join(h.codigo for h in problemas) or "-", duracion_s=f"{duracion:.3f}",
        )
        if not informe.ok:
            raise CommandError(
                f"Se encontraron {informe.total_problemas} problemas de integridad en {len(problemas)} verificaciones.",
                returncode=SALIDA_PROBLEMAS,
            )

    def _texto(self, informe):
        cuando = timezone.localtime(informe.generado)
        self.stdout.write(f"Verificación de integridad, {cuando:%d-%m-%Y %H:%M} (hora de Santiago)")
        for h in informe.hallazgos:
            etiqueta = "[info ]" if h.informativo else ("[ ok  ]" if h.ok else "[FALLA]")
            linea = f"{etiqueta} invariante {h.invariante} · {h.descripcion}: {h.cantidad}"
            if not h.ok and h.accion:
                linea += f". {h.accion}"
            estilo = self.style.ERROR if not h.ok else (lambda x: x)
            self.stdout.write(estilo(linea))
            if h.cantidad and h.ejemplos:
                for ejemplo in h.ejemplos:
                    self.stdout.write(f"          {pares(ejemplo)}")
                # Duplicates and ambiguous links count rows or cases, not the listed groups or pairs.
                if h.cantidad > len(h.ejemplos) and h.codigo not in SIN_RESTO:
                    self.stdout.write(f"          ... y {h.cantidad - len(h.ejemplos)} más (use --limite 0)")
        if informe.ok:
            self.stdout.write(self.style.SUCCESS("Resultado: sin problemas."))
        else:
            self.stdout.write(self.style.ERROR(
                f"Resultado: {informe.total_problemas} problemas en {len(informe.problemas)} de "
                f"{sum(1 for h in informe.hallazgos if not h.informativo)} verificaciones."
            ))
