"""``manage.py demo_codigo``: the second-factor code of the demo staff right now (their devices
share ``demo.datos.SECRETO_DEMO``), to sign in to the demo without an authenticator app."""

import time

from django.core.management.base import BaseCommand
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.datos import SECRETO_DEMO, SECRETO_DEMO_BASE32
from personal.segundo_factor import codigo_totp


class Command(BaseCommand):
    help = ("Muestra el código de segundo factor del personal de la demostración (vale 30 segundos; "
            "cada código sirve una vez por persona).")

    def handle(self, *args, **options):
        dispositivo = TOTPDevice(key=SECRETO_DEMO)
        ahora = time.time()
        restantes = dispositivo.step - int(ahora) % dispositivo.step
        self.stdout.write(f"Código: {codigo_totp(dispositivo, instante=ahora)} (vale {restantes} s más; "
                          f"el siguiente: {codigo_totp(dispositivo, instante=ahora + dispositivo.step)})")
        self.stdout.write(f"Clave para una aplicación de autenticación: {SECRETO_DEMO_BASE32}")
