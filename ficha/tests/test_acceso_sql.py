"""``acceso_a_ficha`` asks one hand-written, prepared query (``_ACCESO_SQL``): it must answer
exactly as the ORM rule (``en_el_equipo`` and the urgent access in force) for every kind of
appointment, assignment and urgent access, and be prepared by PostgreSQL."""

import datetime

from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone

from citas.estados import ESTADOS_CON_PACIENTE
from ficha.acceso import acceso_a_ficha, en_el_equipo
from ficha.models import AccesoFicha, AccesoUrgencia, Via
from ficha.tests.conftest import ajeno, dar_cita, paciente_ficha, tratante  # noqa: F401  (pytest fixtures)
from pacientes.models import Cliente
from personal.models import Rol


def _segun_el_orm(usuario, perfil, cliente_id, ahora):
    """The rule as the ORM writes it: (via, urgent access id) or None without such a patient."""
    equipo, asignado = en_el_equipo(OuterRef("pk"), perfil.pk)
    fila = Cliente.objects.filter(pk=cliente_id).annotate(equipo=equipo, asignado=asignado).values(
        "equipo", "asignado").first()
    if fila is None:
        return None
    urgencia = (AccesoUrgencia.objects.filter(cliente_id=cliente_id, usuario_id=usuario.pk, vence_en__gt=ahora)
                .order_by("-vence_en", "-pk").values_list("pk", flat=True).first())
    if fila["equipo"]:
        return Via.EQUIPO, None
    if fila["asignado"]:
        return Via.ASIGNADO, None
    return (Via.URGENCIA, urgencia) if urgencia is not None else (Via.DENEGADO, None)


def test_la_consulta_escrita_a_mano_responde_como_el_orm(paciente_ficha, crear_personal, dar_cita):
    ahora = timezone.now()
    dentistas = [crear_personal(rol=Rol.DENTISTA, username=f"dent{i}") for i in range(len(ESTADOS_CON_PACIENTE) + 4)]
    pacientes = [paciente_ficha, Cliente.objects.create(nombre_completo="Luis Díaz")]
    # One dentist per state that names the patient, with the first patient (the clinic's cancellation gives none).
    for dia, (dentista, estado) in enumerate(zip(dentistas, ESTADOS_CON_PACIENTE, strict=False)):
        dar_cita(dentista, paciente_ficha, dias=-3 - dia, estado=estado)
    asignado, revocado, urgente, vencido = dentistas[len(ESTADOS_CON_PACIENTE):]
    AccesoFicha.objects.create(cliente=paciente_ficha, dentista=asignado, motivo="Ortodoncia")
    AccesoFicha.objects.create(cliente=paciente_ficha, dentista=revocado, motivo="Ortodoncia", revocado_en=ahora)
    for horas in (2, 5, -1):  # two in force (the later one is shown) and one expired
        AccesoUrgencia.objects.create(cliente=paciente_ficha, usuario=urgente.user, motivo="Dolor agudo, sin su dentista",
                                      abierto_en=ahora - datetime.timedelta(hours=3),
                                      vence_en=ahora + datetime.timedelta(hours=horas))
    AccesoUrgencia.objects.create(cliente=paciente_ficha, usuario=vencido.user, motivo="Dolor agudo, sin su dentista",
                                  abierto_en=ahora - datetime.timedelta(hours=3),
                                  vence_en=ahora - datetime.timedelta(minutes=1))
    vias = set()
    for dentista in dentistas:
        for cliente_id in [p.pk for p in pacientes] + [987654321]:
            acceso = acceso_a_ficha(dentista.user, cliente_id, ahora=ahora)
            esperado = _segun_el_orm(dentista.user, dentista, cliente_id, ahora)
            obtenido = None if acceso is None else (acceso.via, acceso.urgencia_id)
            assert obtenido == esperado, (dentista.user.username, cliente_id)
            vias.add(obtenido and obtenido[0])
    assert vias == {Via.EQUIPO, Via.ASIGNADO, Via.URGENCIA, Via.DENEGADO, None}
    en_vigor = acceso_a_ficha(urgente.user, paciente_ficha.pk, ahora=ahora)
    assert en_vigor.vence_urgencia == ahora + datetime.timedelta(hours=5)
    assert en_vigor.motivo_urgencia == "Dolor agudo, sin su dentista"


def test_la_consulta_queda_preparada(paciente_ficha, tratante):
    for _ in range(6):
        assert acceso_a_ficha(tratante.user, paciente_ficha.pk).via == Via.EQUIPO
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%LEFT JOIN LATERAL%"])
        assert cursor.fetchone()[0] == 1
