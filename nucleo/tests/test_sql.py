"""nucleo.sql.cursor_preparado: the hot hand-written queries are prepared by PostgreSQL, also
inside an audit context (a booking POST), and Django's query capture still sees them."""

import datetime
import os
import subprocess
import sys

import pghistory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citas.selectors import hora_para_reservar, horas_cercanas, opciones_de_dentista
from citas.services import crear_cita_disponible

pytestmark = pytest.mark.django_db


def _preparadas():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [fila[0] for fila in cursor.fetchall()]


def test_las_consultas_calientes_quedan_preparadas_tambien_con_contexto_de_auditoria(dentista, recepcionista):
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=timezone.now() + datetime.timedelta(days=2))
    with pghistory.context(servicio="prueba"), CaptureQueriesContext(connection) as consultas:
        for _ in range(7):
            assert hora_para_reservar(cita_id=hora.pk).pk == hora.pk
            assert [h.pk for h in horas_cercanas(cita_id=None)] == [hora.pk]
            assert [d.pk for d in opciones_de_dentista()] == [dentista.pk]
    assert len(consultas) == 21
    preparadas = "\n".join(_preparadas())
    for trozo in ("WHERE c.id = $1 AND c.estado = $2", "ORDER BY (c.dentista_id IS DISTINCT FROM",
                  "FROM personal_perfil p JOIN auth_user u"):
        assert trozo in preparadas


@pytest.mark.parametrize(("valor", "umbral"), [("0", "None"), ("1", "5"), (None, "5")])
def test_django_db_preparar(valor, umbral):
    """DJANGO_DB_PREPARAR=0 turns preparing off (poolers without prepared statements)."""
    entorno = {k: v for k, v in os.environ.items() if k != "DJANGO_DB_PREPARAR"}
    if valor is not None:
        entorno["DJANGO_DB_PREPARAR"] = valor
    salida = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.DATABASES['default']['OPTIONS']['prepare_threshold'])"],
        env={**entorno, "DJANGO_SETTINGS_MODULE": "clinica.settings"}, capture_output=True, text=True, check=True,
    )
    assert salida.stdout.strip() == umbral
