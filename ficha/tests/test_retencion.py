"""Retention of the clinical record: what makes a record, its last entry, the legal hold and the
purge after the period (Decreto 41 art. 11, Ley 20.584)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from citas.models import Cita, EstadoCita
from cuentas.eliminacion import eliminar_cliente
from ficha.acceso import Acceso
from ficha.lecturas import registrar_lectura
from ficha.models import Antecedentes, Evolucion, LecturaFicha, Resguardo, Seccion, Via
from ficha.retencion import (
    anos_de_conservacion, fichas_vencidas, poner_en_resguardo, purgar_ficha, sumar_anos, tiene_ficha,
    ultima_entrada,
)
from ficha.tests.escenas_resguardo import (
    archivos_en, con_ficha_completa, eventos_que_contienen, ficha_antigua, media, nota, subir_pdf,  # noqa: F401
)
from pacientes.models import Cliente, ClienteDocumento


def test_sin_contenido_clinico_no_hay_ficha(paciente_ficha, dentista, recepcionista, dar_cita):
    assert not tiene_ficha(paciente_ficha.pk) and ultima_entrada(paciente_ficha.pk) is None
    # Booked, cancelled or missed appointments are not care.
    for dias, estado in ((3, EstadoCita.RESERVADA), (-3, EstadoCita.NO_ASISTIO), (-5, EstadoCita.CANCELADA)):
        dar_cita(dentista, paciente_ficha, dias=dias, estado=estado)
    # A history row with nothing written in it is not content either.
    Antecedentes.objects.create(cliente=paciente_ficha)
    assert not tiene_ficha(paciente_ficha.pk)


@pytest.mark.parametrize("parte", ["cita_atendida", "antecedentes", "borrador", "documento", "alergias"])
def test_cualquier_contenido_clinico_es_ficha(parte, paciente_ficha, dentista, recepcionista, dar_cita, media):
    hoy = timezone.localdate()
    if parte == "cita_atendida":
        dar_cita(dentista, paciente_ficha, dias=-40)
        esperado = hoy - datetime.timedelta(days=40)
    elif parte == "antecedentes":
        Antecedentes.objects.create(cliente=paciente_ficha, tabaquismo="ex")
        esperado = hoy
    elif parte == "borrador":
        nota(paciente_ficha, dentista, atendido_el=hoy - datetime.timedelta(days=2), firmada=False)
        esperado = hoy  # written today, about a visit two days ago
    elif parte == "documento":
        subir_pdf(recepcionista.user, paciente_ficha)
        esperado = hoy
    else:
        # The seed's column: the trigger writes it into the history too.
        Cliente.objects.filter(pk=paciente_ficha.pk).update(alergias="Penicilina")
        esperado = hoy
    assert tiene_ficha(paciente_ficha.pk)
    assert ultima_entrada(paciente_ficha.pk) == esperado


def test_la_ultima_entrada_es_la_mas_reciente(paciente_ficha, dentista, dar_cita):
    dar_cita(dentista, paciente_ficha, dias=-400)
    dar_cita(dentista, paciente_ficha, dias=-20, hora=11)
    assert ultima_entrada(paciente_ficha.pk) == timezone.localdate() - datetime.timedelta(days=20)


def test_poner_en_resguardo_exige_ficha(paciente_ficha, dentista, dar_cita):
    with transaction.atomic(), pytest.raises(ValidationError) as error:
        poner_en_resguardo(cliente=paciente_ficha, solicitado_por="clinica")
    assert error.value.code == "sin_ficha"
    dar_cita(dentista, paciente_ficha, dias=-10)
    Cliente.objects.filter(pk=paciente_ficha.pk).update(activo=False)  # as the erasure does first
    with transaction.atomic():
        resguardo = poner_en_resguardo(cliente=paciente_ficha, solicitado_por="clinica")
    esperado = sumar_anos(timezone.localdate() - datetime.timedelta(days=10), anos_de_conservacion())
    assert resguardo.conservar_hasta == esperado


@pytest.mark.django_db(transaction=True)
def test_poner_en_resguardo_solo_dentro_de_una_transaccion(paciente_ficha, dentista, dar_cita):
    dar_cita(dentista, paciente_ficha, dias=-10)
    with pytest.raises(RuntimeError, match="dentro de la transacción"):
        poner_en_resguardo(cliente=paciente_ficha, solicitado_por="clinica")
    assert not Resguardo.objects.exists()


def test_el_plazo_nunca_baja_de_15_anos(settings):
    settings.CLINICA_FICHA_ANOS_CONSERVACION = 5
    assert anos_de_conservacion() == 15
    settings.CLINICA_FICHA_ANOS_CONSERVACION = 20
    assert anos_de_conservacion() == 20
    assert sumar_anos(datetime.date(2024, 2, 29), 15) == datetime.date(2039, 2, 28)


# The purge -------------------------------------------------------------------------------------


@pytest.fixture
def en_plazo(recepcionista, dentista, manana_10, media):
    """A patient erased today: their record is held for 15 years more."""
    e = con_ficha_completa(5, recepcionista=recepcionista, dentista=dentista, manana_10=manana_10, media=media)
    eliminar_cliente(actor=recepcionista.user, cliente_id=e["cliente"].pk)
    return e


@pytest.fixture
def vencida(recepcionista, dentista, media):
    """A patient last seen 16 years ago, erased: their hold ended last year."""
    e = ficha_antigua(recepcionista=recepcionista, dentista=dentista, media=media)
    eliminar_cliente(actor=recepcionista.user, cliente_id=e["cliente"].pk)
    return e


def _borrar_sql(nota_id):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ficha_evolucion WHERE id = %s", [nota_id])


def test_antes_del_plazo_nada_se_purga_ni_a_mano(en_plazo, recepcionista):
    cliente = en_plazo["cliente"]
    assert fichas_vencidas(timezone.localdate()) == (0, [])
    with pytest.raises(ValidationError) as error:
        purgar_ficha(actor=None, cliente_id=cliente.pk)
    assert error.value.code == "resguardo_vigente"
    # The database refuses too: a signed note of a record in its period never goes.
    with pytest.raises(IntegrityError, match="está firmada"):
        _borrar_sql(en_plazo["adenda"].pk)
    assert Evolucion.objects.filter(cliente=cliente).count() == 2
    assert Resguardo.objects.filter(cliente=cliente).exists()


def test_sin_resguardo_no_hay_purga(paciente_ficha):
    with pytest.raises(ValidationError) as error:
        purgar_ficha(actor=None, cliente_id=paciente_ficha.pk)
    assert error.value.code == "sin_resguardo"
    assert Cliente.objects.filter(pk=paciente_ficha.pk).exists()


def test_la_purga_borra_la_ficha_vencida_y_deja_el_registro_de_lecturas(
        vencida, en_plazo, recepcionista, dentista, media, django_capture_on_commit_callbacks):
    cliente = vencida["cliente"]
    resguardo = Resguardo.objects.get(cliente=cliente)
    assert resguardo.conservar_hasta < timezone.localdate()
    total, lista = fichas_vencidas(timezone.localdate())
    assert total == 1 and [(f.cliente_id, f.evoluciones, f.documentos) for f in lista] == [(cliente.pk, 2, 1)]
    registrar_lectura(usuario=dentista.user, cliente_id=cliente.pk, seccion=Seccion.FICHA,
                      acceso=Acceso(permitido=True, via=Via.EQUIPO, rol="Dentista"))
    archivo = vencida["documento"].archivo.name
    assert archivo in archivos_en(media)

    with django_capture_on_commit_callbacks(execute=True):
        resultado = purgar_ficha(actor=None, cliente_id=cliente.pk)

    assert resultado.purgada and (resultado.evoluciones, resultado.documentos) == (2, 1)
    assert not Cliente.objects.filter(pk=cliente.pk).exists()
    assert not Evolucion.objects.filter(cliente_id=cliente.pk).exists()  # signed notes too
    assert not Antecedentes.objects.filter(cliente_id=cliente.pk).exists()
    assert not ClienteDocumento.objects.filter(cliente_id=cliente.pk).exists()
    assert not Resguardo.objects.filter(cliente_id=cliente.pk).exists()
    assert archivo not in archivos_en(media)
    # The visit stays as history under its snapshot name, like any deleted patient's.
    cita = Cita.objects.get(pk=vencida["cita"].pk)
    assert (cita.cliente_id, cita.paciente_nombre, cita.estado) == (None, "Pedro Antiguo Rojas", EstadoCita.ATENDIDA)
    # The proof of who read the record outlives it.
    assert LecturaFicha.objects.filter(cliente_id=cliente.pk).count() == 1
    # The trail keeps who and when, not the record's content or identification.
    for texto in ("Exodoncia 38", "retiro de puntos", "Diabetes tipo 2", "Radiografía antigua", "9876543-3",
                  "pedro.antiguo@correo.example"):
        assert eventos_que_contienen(texto) == [], texto
    # The record still in its period is untouched.
    assert Evolucion.objects.filter(cliente=en_plazo["cliente"]).count() == 2
    assert Resguardo.objects.filter(cliente=en_plazo["cliente"]).exists()


def test_una_entrada_posterior_alarga_el_resguardo(vencida, dentista):
    cliente = vencida["cliente"]
    nota(cliente, dentista, atendido_el=timezone.localdate(), firmada=False, texto="Nota tardía.")
    resultado = purgar_ficha(actor=None, cliente_id=cliente.pk)
    assert not resultado.purgada
    assert resultado.conservar_hasta == sumar_anos(timezone.localdate(), anos_de_conservacion())
    assert Resguardo.objects.get(cliente=cliente).conservar_hasta == resultado.conservar_hasta
    assert Evolucion.objects.filter(cliente=cliente).count() == 3


@pytest.mark.django_db(transaction=True)
def test_fallas_en_la_purga_no_borran_archivos(probar_fallas, recepcionista, dentista, media):
    e = ficha_antigua(recepcionista=recepcionista, dentista=dentista, media=media)
    eliminar_cliente(actor=recepcionista.user, cliente_id=e["cliente"].pk)
    todos = archivos_en(media)

    def purgar():
        try:
            purgar_ficha(actor=None, cliente_id=e["cliente"].pk)
        finally:
            if Cliente.objects.filter(pk=e["cliente"].pk).exists():
                assert archivos_en(media) == todos  # rolled back: every file still there

    assert probar_fallas(purgar) >= 6
    assert e["documento"].archivo.name not in archivos_en(media)


def test_la_purga_tambien_olvida_si_tomaba_anticoagulantes(vencida):
    """``anticoagulantes`` is a boolean (not in ``CAMPOS_ANTECEDENTES``) but clinical all the same."""
    cliente = vencida["cliente"]
    Antecedentes.objects.filter(cliente=cliente).update(anticoagulantes=True, anticoagulantes_detalle="Acenocumarol")
    AntecedentesEvento = Antecedentes.pgh_event_models["insert"]
    assert AntecedentesEvento.objects.filter(cliente_id=cliente.pk, anticoagulantes=True).exists()
    Antecedentes.objects.filter(cliente=cliente).update(actualizado=timezone.now() - datetime.timedelta(days=365 * 16))

    assert purgar_ficha(actor=None, cliente_id=cliente.pk).purgada

    assert AntecedentesEvento.objects.filter(cliente_id=cliente.pk).exists()
    assert not AntecedentesEvento.objects.filter(cliente_id=cliente.pk, anticoagulantes=True).exists()
    assert eventos_que_contienen("Acenocumarol") == []
