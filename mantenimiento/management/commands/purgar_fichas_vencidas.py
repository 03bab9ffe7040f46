"""Purge the clinical records whose legal hold expired (Decreto 41 art. 11: at least 15 years
after the last entry), with the interface of ``limpiar_registros_huerfanos``:

    manage.py purgar_fichas_vencidas --dry-run   # only list
    manage.py purgar_fichas_vencidas             # list, ask, purge
    manage.py purgar_fichas_vencidas --force     # purge without asking

Each record is purged in its own transaction (``ficha.retencion.purgar_ficha``), which checks the
expiry again under a row lock: a record that failed or was written to meanwhile is reported and
the others go on.
"""

import logging
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from ficha.retencion import fichas_vencidas, purgar_ficha
from mantenimiento.management.commands._comun import (
    confirmar, mas, opciones_de_borrado, validar_opciones_de_borrado,
)
from nucleo.registro import registrar_evento

logger = logging.getLogger("mantenimiento.purgar_fichas_vencidas")


class Command(BaseCommand):
    help = (
        "Lista las fichas clínicas en resguardo legal cuyo plazo de conservación terminó y, tras confirmar, "
        "las purga (evoluciones, antecedentes, documentos y el paciente), cada una en su propia transacción. "
        "El registro de lecturas se conserva."
    )

    def add_arguments(self, parser):
        opciones_de_borrado(parser, que="fichas", verbo="purgar")

    def handle(self, *args, dry_run=False, force=False, limite=100, **opciones):
        validar_opciones_de_borrado(dry_run=dry_run, force=force, limite=limite, verbo="purgar")
        inicio = time.monotonic()
        hoy = timezone.localdate()
        try:
            total, lista = fichas_vencidas(hoy, limite=limite or None)
            todas = lista if (not limite or total <= limite) else fichas_vencidas(hoy)[1]
        except DatabaseError as error:
            registrar_evento(logger, "purga_fichas_fallida", logging.ERROR, error=type(error).__name__)
            raise CommandError(f"No se pudo leer los resguardos y no se purgó nada ({error}).") from error
        self._mostrar(lista, total, hoy)
        if not total or dry_run:
            self.stdout.write("No hay fichas vencidas. No se purgó nada." if not total
                              else "Modo --dry-run: no se purgó nada.")
            self._registrar("vacio" if not total else "dry_run", total, 0, 0, inicio)
            return
        if not force and not self._confirmar(total):
            self.stdout.write("Cancelado: no se purgó nada.")
            self._registrar("cancelado", total, 0, 0, inicio)
            return
        purgadas, extendidas, fallidas = 0, 0, 0
        for ficha in todas:
            try:
                resultado = purgar_ficha(actor=None, cliente_id=ficha.cliente_id)
            except ValidationError as error:
                fallidas += 1
                self.stdout.write(f"  paciente {ficha.cliente_id}: no se purgó ({' '.join(error.messages)})")
                continue
            except DatabaseError as error:
                fallidas += 1
                registrar_evento(logger, "purga_ficha_fallida", logging.ERROR, cliente_id=ficha.cliente_id,
                                 error=type(error).__name__)
                self.stdout.write(f"  paciente {ficha.cliente_id}: no se purgó por un error de la base ({error}).")
                continue
            if resultado.purgada:
                purgadas += 1
            else:
                extendidas += 1
                self.stdout.write(
                    f"  paciente {ficha.cliente_id}: tiene una entrada posterior; se conserva hasta el "
                    f"{resultado.conservar_hasta:%d-%m-%Y}."
                )
        self.stdout.write(self.style.SUCCESS(f"Fichas purgadas: {purgadas}."))
        if extendidas:
            self.stdout.write(f"Resguardos alargados por entradas posteriores: {extendidas}.")
        self.stdout.write("Se conservan el registro de lecturas y la auditoría (quién hizo qué y cuándo, "
                          "servicio purgar_ficha), sin el contenido clínico.")
        self._registrar("force" if force else "confirmado", total, purgadas, extendidas, inicio, fallidas=fallidas)
        if fallidas:
            raise CommandError(f"{fallidas} ficha(s) no se pudieron purgar; las demás sí. Revise el registro.")

    def _mostrar(self, lista, total, hoy):
        self.stdout.write(f"Fichas en resguardo con el plazo vencido al {hoy:%d-%m-%Y}: {total}")
        for f in lista:
            documento = f" {f.documento}" if f.documento else ""
            self.stdout.write(
                f"  paciente {f.cliente_id}  {f.nombre}{documento}  última entrada {f.ultima_entrada:%d-%m-%Y}  "
                f"conservar hasta {f.conservar_hasta:%d-%m-%Y}  ({f.evoluciones} evoluciones, {f.documentos} documentos)"
            )
        if linea := mas(total, len(lista)):
            self.stdout.write(linea)

    def _confirmar(self, total):
        return confirmar(self.stdout, f"¿Purgar {total} ficha(s) clínica(s)?")

    def _registrar(self, modo, total, purgadas, extendidas, inicio, **campos):
        registrar_evento(
            logger, "purga_fichas", modo=modo, vencidas=total, purgadas=purgadas, extendidas=extendidas,
            duracion_s=f"{time.monotonic() - inicio:.3f}", **campos,
        )
