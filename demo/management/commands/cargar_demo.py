"""``manage.py cargar_demo``: the demo clinic of ``bin/run`` (idempotent; see demo.datos)."""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.datos import PASSWORD_DEMO, PERSONAL, SECRETO_DEMO_BASE32, cargar_demo


class Command(BaseCommand):
    help = (
        "Carga la clínica de demostración: personal, 20 pacientes, dos semanas de horas libres y algunas "
        "reservas. Se puede ejecutar varias veces: lo que ya existe no se vuelve a crear."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--desde", type=datetime.date.fromisoformat, default=None,
            help="Primer día de las horas (AAAA-MM-DD, posterior a hoy). Por defecto, el próximo día hábil.",
        )
        parser.add_argument(
            "--forzar", action="store_true",
            help="Cargar aunque DJANGO_DEBUG esté apagado (crea usuarios con contraseña conocida).",
        )

    def handle(self, *args, desde, forzar, verbosity, **options):
        # Known passwords and a superuser have no place in production.
        if not settings.DEBUG and not forzar:
            raise CommandError(
                "La demostración crea usuarios con contraseña conocida: solo se carga con DJANGO_DEBUG=1 "
                "(o con --forzar)."
            )
        if desde is not None and desde <= timezone.localdate():
            raise CommandError("--desde debe ser una fecha posterior a hoy.")
        # One log line per created row is noise here; -v 2 shows them.
        nivel_previo = logging.root.manager.disable
        if verbosity < 2:
            logging.disable(logging.INFO)
        try:
            resumen = cargar_demo(desde=desde)
        except ValidationError as error:
            raise CommandError(f"No se pudo cargar la demostración: {'; '.join(error.messages)}") from error
        finally:
            logging.disable(nivel_previo)

        r = resumen
        escribir = self.stdout.write
        if r.dias:
            escribir(f"Días con horas: {len(r.dias)}, del {r.dias[0]:%d-%m-%Y} al {r.dias[-1]:%d-%m-%Y}.")
        for dia, nombre in r.feriados:
            escribir(f"  Feriado omitido: {dia:%d-%m-%Y} ({nombre}).")
        escribir(f"Personal: {r.personal_creado} creados, {r.personal_existente} ya existían.")
        escribir(f"Pacientes: {r.pacientes_creados} creados, {r.pacientes_existentes} ya existían.")
        escribir(f"Horas de atención: {r.horas_creadas} creadas, {r.horas_existentes} ya existían.")
        linea = f"Citas reservadas: {r.reservas_creadas} nuevas, {r.reservas_existentes} ya existían."
        if r.reservas_omitidas:
            linea += f" {r.reservas_omitidas} sin hora libre."
        escribir(linea)
        if r.evoluciones_creadas:
            escribir(f"Fichas clínicas: {r.evoluciones_creadas} evoluciones firmadas (pacientes de dra.soto).")
        usuarios = ", ".join(p[0] for p in PERSONAL)
        escribir(self.style.SUCCESS(f"Demostración lista. Usuarios: {usuarios}; contraseña: {PASSWORD_DEMO}"))
        escribir(f"Segundo factor del personal: el código del momento con «python manage.py demo_codigo», o agregue "
                 f"la clave {SECRETO_DEMO_BASE32} a una aplicación de autenticación.")
