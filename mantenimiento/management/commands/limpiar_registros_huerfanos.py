"""The seed's ``limpiar_registros_huerfanos.py``, as a command with the same interface:

    manage.py limpiar_registros_huerfanos --dry-run   # only list
    manage.py limpiar_registros_huerfanos             # list, ask, delete
    manage.py limpiar_registros_huerfanos --force     # delete without asking
"""

import logging
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from mantenimiento.management.commands._comun import (
    confirmar, mas, opciones_de_borrado, validar_opciones_de_borrado,
)
from mantenimiento.selectors import huerfanos
from mantenimiento.services import limpiar_registros_huerfanos
from nucleo.registro import registrar_evento

logger = logging.getLogger("mantenimiento.limpiar_registros_huerfanos")


class Command(BaseCommand):
    help = (
        "Lista las cuentas de paciente y los perfiles del portal sin ficha activa (huérfanos) y, "
        "tras confirmar, los elimina en una sola transacción. Nunca toca al personal ni a los superusuarios."
    )

    def add_arguments(self, parser):
        opciones_de_borrado(parser, que="filas de cada tipo", verbo="eliminar")

    def handle(self, *args, dry_run=False, force=False, limite=100, **opciones):
        validar_opciones_de_borrado(dry_run=dry_run, force=force, limite=limite, verbo="eliminar")
        inicio = time.monotonic()
        try:
            if not force:
                lista = huerfanos(limite=limite)
                self._mostrar(lista.usuarios, lista.total_usuarios, lista.perfiles, lista.total_perfiles,
                              titulo="Registros huérfanos encontrados")
                if lista.por_vincular:
                    self.stdout.write(
                        f"Cuentas sin ficha que coinciden por correo con un paciente sin cuenta: {lista.por_vincular} "
                        "(no se eliminan; vincúlelas con sincronizar_clientes)."
                    )
                if lista.vacio or dry_run:
                    modo = "vacio" if lista.vacio else "dry_run"
                    self.stdout.write(
                        "No hay registros huérfanos. No se eliminó nada." if lista.vacio
                        else "Modo --dry-run: no se eliminó nada."
                    )
                    self._registrar(modo, lista.total_usuarios, lista.total_perfiles, inicio)
                    return
                if not self._confirmar(lista.total_usuarios, lista.total_perfiles):
                    self.stdout.write("Cancelado: no se eliminó nada.")
                    self._registrar("cancelado", 0, 0, inicio)
                    return
            resultado = limpiar_registros_huerfanos(actor=None)
        except (ValidationError, DatabaseError) as error:
            registrar_evento(logger, "limpieza_huerfanos_fallida", logging.ERROR, error=type(error).__name__)
            raise CommandError(
                f"No se pudo completar la limpieza y no se eliminó nada ({error}). Revise el registro e intente de nuevo."
            ) from error
        if force:
            self._mostrar(resultado.usuarios[: limite or None], len(resultado.usuarios),
                          resultado.perfiles[: limite or None], len(resultado.perfiles), titulo="Registros eliminados")
        self.stdout.write(self.style.SUCCESS(
            f"Eliminadas {len(resultado.usuarios)} cuentas de paciente y {len(resultado.perfiles)} perfiles del portal."
        ))
        if resultado.fichas_desvinculadas:
            self.stdout.write(
                f"Fichas desactivadas que quedaron sin cuenta (se conservan): {resultado.fichas_desvinculadas}."
            )
        for tabla, cantidad in sorted(resultado.otros.items()):
            self.stdout.write(f"Filas relacionadas actualizadas o eliminadas en {tabla}: {cantidad}.")
        if resultado.protegidos:
            self.stdout.write(f"Cuentas conservadas porque otros registros las protegen: {resultado.protegidos}.")
        self.stdout.write("Queda registro de cada fila eliminada en la auditoría (servicio limpiar_registros_huerfanos).")
        self._registrar("force" if force else "confirmado", len(resultado.usuarios), len(resultado.perfiles), inicio,
                        fichas_desvinculadas=resultado.fichas_desvinculadas, protegidos=resultado.protegidos)

    def _mostrar(self, usuarios, total_usuarios, perfiles, total_perfiles, *, titulo):
        self.stdout.write(f"{titulo}:")
        self.stdout.write(f"Cuentas de paciente sin ficha activa: {total_usuarios}")
        for u in usuarios:
            motivo = "su ficha está desactivada" if u.ficha_inactiva else "sin ficha"
            self.stdout.write(f"  cuenta {u.id}  {u.username}  <{u.email}>  ({motivo})")
        if linea := mas(total_usuarios, len(usuarios)):
            self.stdout.write(linea)
        self.stdout.write(f"Perfiles del portal sin ficha activa: {total_perfiles}")
        for p in perfiles:
            nota = "  (cuenta del personal: solo se elimina el perfil)" if p.de_personal else ""
            self.stdout.write(f"  perfil {p.id}  de la cuenta {p.user_id} {p.username}{nota}")
        if linea := mas(total_perfiles, len(perfiles)):
            self.stdout.write(linea)

    def _confirmar(self, usuarios, perfiles):
        return confirmar(self.stdout, f"¿Eliminar {usuarios} cuentas y {perfiles} perfiles?")

    def _registrar(self, modo, usuarios, perfiles, inicio, **campos):
        registrar_evento(
            logger, "limpieza_huerfanos", modo=modo, usuarios=usuarios, perfiles=perfiles,
            duracion_s=f"{time.monotonic() - inicio:.3f}", **campos,
        )
