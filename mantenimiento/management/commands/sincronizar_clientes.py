"""Repair drift between active patients and their logins (see mantenimiento.services):

    manage.py sincronizar_clientes --dry-run   # what would change, and the cases left to a person
    manage.py sincronizar_clientes             # repair
"""

import logging
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from mantenimiento.management.commands._comun import mas
from mantenimiento.selectors import desajustes
from mantenimiento.services import sincronizar_clientes
from nucleo.registro import registrar_evento

logger = logging.getLogger("mantenimiento.sincronizar_clientes")

NOMBRES_CAMPOS = {"email": "correo", "usuario": "usuario", "nombre": "nombre"}


class Command(BaseCommand):
    help = (
        "Vincula fichas sin cuenta con su cuenta (mismo correo o usuario, sin ambigüedad), corrige el correo, "
        "usuario y nombre de las cuentas según la ficha y crea los perfiles del portal que faltan."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="solo mostrar lo que se cambiaría")
        parser.add_argument("--limite", type=int, default=100,
                            help="filas a mostrar de cada tipo (0: todas); por defecto 100")

    def handle(self, *args, dry_run=False, limite=100, **opciones):
        if limite < 0:
            raise CommandError("--limite debe ser 0 (todas) o un número positivo.")
        inicio = time.monotonic()
        try:
            if dry_run:
                d = desajustes(limite=limite)
                self._mostrar_reparables(d)
                self._mostrar_pendientes(d)
                self.stdout.write("Modo --dry-run: no se cambió nada.")
                self._registrar("dry_run", inicio, vinculados=d.total_por_vincular,
                                corregidas=d.total_desajustadas - d.total_conflictos,
                                perfiles=d.total_sin_perfil, ambiguos=d.total_ambiguos, conflictos=d.total_conflictos)
                return
            r = sincronizar_clientes(actor=None, limite=limite)
        except (ValidationError, DatabaseError) as error:
            registrar_evento(logger, "sincronizacion_fallida", logging.ERROR, error=type(error).__name__)
            raise CommandError(
                f"No se pudo sincronizar y no se cambió nada ({error}). Revise el registro e intente de nuevo."
            ) from error
        self.stdout.write(self.style.SUCCESS(
            f"Fichas vinculadas con su cuenta: {len(r.vinculados)}. "
            f"Cuentas corregidas (correo, usuario o nombre): {len(r.corregidas)}. "
            f"Perfiles del portal creados: {len(r.perfiles_creados)}."
        ))
        self._mostrar_pendientes(r.pendientes)
        self._registrar("aplicado", inicio, vinculados=len(r.vinculados), corregidas=len(r.corregidas),
                        perfiles=len(r.perfiles_creados), ambiguos=r.pendientes.total_ambiguos,
                        conflictos=r.pendientes.total_conflictos)

    def _mostrar_reparables(self, d):
        self.stdout.write(f"Fichas sin cuenta que se vincularían con su cuenta: {d.total_por_vincular}")
        for v in d.por_vincular:
            self.stdout.write(f"  ficha {v.cliente_id} ← cuenta {v.user_id}")
        if linea := mas(d.total_por_vincular, len(d.por_vincular)):
            self.stdout.write(linea)
        corregibles = [c for c in d.desajustadas if not c.conflicto]
        self.stdout.write(f"Cuentas que se corregirían según su ficha: {d.total_desajustadas - d.total_conflictos}")
        for c in corregibles:
            campos = ", ".join(NOMBRES_CAMPOS[x] for x in c.campos)
            self.stdout.write(f"  cuenta {c.user_id} (ficha {c.cliente_id}): {campos}")
        if linea := mas(d.total_desajustadas - d.total_conflictos, len(corregibles)):
            self.stdout.write(linea)
        self.stdout.write(f"Cuentas sin perfil del portal a las que se les crearía uno: {d.total_sin_perfil}")
        for v in d.sin_perfil:
            self.stdout.write(f"  cuenta {v.user_id} (ficha {v.cliente_id})")
        if linea := mas(d.total_sin_perfil, len(d.sin_perfil)):
            self.stdout.write(linea)

    def _mostrar_pendientes(self, d):
        if not (d.total_ambiguos or d.total_conflictos):
            self.stdout.write("No quedan casos por revisar a mano.")
            return
        self.stdout.write(self.style.WARNING(
            f"Casos que no se tocan y debe revisar una persona: {d.total_ambiguos} vínculos ambiguos "
            f"y {d.total_conflictos} cuentas en conflicto."
        ))
        for v in d.ambiguos:
            self.stdout.write(f"  ambiguo: ficha {v.cliente_id} y cuenta {v.user_id} tienen más de un candidato")
        for c in d.desajustadas:
            if c.conflicto:
                self.stdout.write(
                    f"  conflicto: la ficha {c.cliente_id} no tiene correo o su correo ya lo usa otra cuenta "
                    f"(cuenta {c.user_id})"
                )

    def _registrar(self, modo, inicio, **campos):
        registrar_evento(logger, "sincronizacion_clientes", modo=modo, **campos,
                         duracion_s=f"{time.monotonic() - inicio:.3f}")
