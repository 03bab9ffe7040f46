"""The record's base held by the database: signed notes never change, the read log only grows,
allergies stay in step with the seed's column, and the one access rule."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from citas.models import EstadoCita
from ficha.acceso import acceso_a_ficha
from ficha.lecturas import registrar_lectura
from ficha.models import AccesoFicha, AccesoUrgencia, Antecedentes, Evolucion, LecturaFicha, Resguardo, Seccion, Via
from ficha.retencion import sumar_anos
from pacientes.models import Cliente
from personal.models import Rol


@pytest.fixture
def firmada(paciente_ficha, tratante):
    nota = Evolucion.objects.create(cliente=paciente_ficha, dentista=tratante, atendido_el=timezone.localdate(),
                                    procedimiento="Obturación", dientes=[16], texto="Resina oclusal.")
    Evolucion.objects.filter(pk=nota.pk).update(firmada_en=timezone.now())
    nota.refresh_from_db()
    return nota


def _rechazado(sql, params=()):
    with pytest.raises(IntegrityError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(exc.value)


def test_una_evolucion_firmada_no_se_edita_ni_borra_por_el_orm(firmada):
    firmada.texto = "Cambiado"
    with pytest.raises(IntegrityError, match="está firmada"), transaction.atomic():
        firmada.save()
    with pytest.raises(IntegrityError, match="está firmada"), transaction.atomic():
        Evolucion.objects.filter(pk=firmada.pk).update(firmada_en=None)
    with pytest.raises(IntegrityError, match="está firmada"), transaction.atomic():
        Evolucion.objects.filter(pk=firmada.pk).delete()
    firmada.refresh_from_db()
    assert firmada.texto == "Resina oclusal." and firmada.firmada


def test_una_evolucion_firmada_no_se_edita_ni_borra_por_sql(firmada):
    assert "está firmada" in _rechazado("UPDATE ficha_evolucion SET texto = 'x' WHERE id = %s", [firmada.pk])
    assert "está firmada" in _rechazado("DELETE FROM ficha_evolucion WHERE id = %s", [firmada.pk])
    assert Evolucion.objects.filter(pk=firmada.pk, texto="Resina oclusal.").exists()


def test_un_borrador_se_edita_y_se_firma(paciente_ficha, tratante):
    nota = Evolucion.objects.create(cliente=paciente_ficha, dentista=tratante, atendido_el=timezone.localdate())
    Evolucion.objects.filter(pk=nota.pk).update(texto="Control")
    Evolucion.objects.filter(pk=nota.pk).update(firmada_en=timezone.now())
    assert Evolucion.objects.get(pk=nota.pk).firmada


def test_no_se_firma_una_nota_vacia_ni_con_dientes_fuera_de_fdi(paciente_ficha, tratante):
    nota = Evolucion.objects.create(cliente=paciente_ficha, dentista=tratante, atendido_el=timezone.localdate(),
                                    texto="   ")
    with pytest.raises(IntegrityError, match="evolucion_firmada_con_contenido"), transaction.atomic():
        Evolucion.objects.filter(pk=nota.pk).update(firmada_en=timezone.now())
    for diente in (19, 10, 49, 56, 0, 91):
        with pytest.raises(IntegrityError, match="evolucion_dientes_fdi"), transaction.atomic():
            Evolucion.objects.filter(pk=nota.pk).update(dientes=[11, diente])


def _firmada_hace(cliente, dentista, anos):
    """A note written and signed ``anos`` years ago (dates set before the signature fixes them)."""
    entonces = timezone.now() - datetime.timedelta(days=365 * anos + 10)
    nota = Evolucion.objects.create(cliente=cliente, dentista=dentista, atendido_el=timezone.localdate(entonces),
                                    procedimiento="Exodoncia", texto="Exodoncia 38.")
    Evolucion.objects.filter(pk=nota.pk).update(creado=entonces, actualizado=entonces)
    Evolucion.objects.filter(pk=nota.pk).update(firmada_en=entonces + datetime.timedelta(minutes=5))
    return nota


def _resguardo(cliente, *, ultima):
    return Resguardo.objects.create(cliente=cliente, ultima_entrada=ultima, conservar_hasta=sumar_anos(ultima, 15),
                                    solicitado_por="paciente")


def test_la_purga_borra_una_firmada_solo_con_el_resguardo_vencido(firmada, paciente_ficha, tratante):
    """Both conditions: the hold expired and the note signed more than 15 years ago. A recent
    note stays even under an expired hold (a hold row cannot open the door on its own)."""
    antigua = _firmada_hace(paciente_ficha, tratante, 16)
    Cliente.objects.filter(pk=paciente_ficha.pk).update(activo=False)
    hoy = timezone.localdate()
    _resguardo(paciente_ficha, ultima=hoy - datetime.timedelta(days=10))
    assert "está firmada" in _rechazado("DELETE FROM ficha_evolucion WHERE id = %s", [antigua.pk])
    Resguardo.objects.filter(cliente=paciente_ficha).delete()
    _resguardo(paciente_ficha, ultima=sumar_anos(hoy, -16))
    with pytest.raises(IntegrityError), transaction.atomic():
        Evolucion.objects.filter(pk=antigua.pk).update(texto="x")  # expired or not, never edited
    assert "está firmada" in _rechazado("DELETE FROM ficha_evolucion WHERE id = %s", [firmada.pk])
    Evolucion.objects.filter(pk=antigua.pk).delete()
    assert not Evolucion.objects.filter(pk=antigua.pk).exists()
    assert Evolucion.objects.filter(pk=firmada.pk).exists()


def test_un_resguardo_falso_no_abre_la_puerta(firmada, paciente_ficha):
    """A hold written by hand for an active patient is refused; so is shortening a period or one
    under the law's 15 years."""
    hace_16 = sumar_anos(timezone.localdate(), -16)
    insertar = ("INSERT INTO ficha_resguardo (cliente_id, desde, ultima_entrada, conservar_hasta, solicitado_por) "
                "VALUES (%s, now(), %s, %s, 'clinica')")
    assert "está activo" in _rechazado(insertar, [paciente_ficha.pk, hace_16, sumar_anos(hace_16, 15)])
    Cliente.objects.filter(pk=paciente_ficha.pk).update(activo=False)
    assert "resguardo_plazo_legal" in _rechazado(insertar, [paciente_ficha.pk, hace_16, sumar_anos(hace_16, 14)])
    resguardo = _resguardo(paciente_ficha, ultima=timezone.localdate())
    assert "no se puede acortar" in _rechazado(
        "UPDATE ficha_resguardo SET conservar_hasta = conservar_hasta - 1 WHERE id = %s", [resguardo.pk])
    Resguardo.objects.filter(pk=resguardo.pk).update(conservar_hasta=sumar_anos(resguardo.conservar_hasta, 1))
    assert "está firmada" in _rechazado("DELETE FROM ficha_evolucion WHERE id = %s", [firmada.pk])


def test_el_registro_de_lecturas_solo_crece(paciente_ficha, tratante):
    acceso = acceso_a_ficha(tratante.user, paciente_ficha.pk)
    lectura = registrar_lectura(usuario=tratante.user, cliente_id=paciente_ficha.pk, seccion=Seccion.FICHA,
                                acceso=acceso, ip="10.0.0.7")
    assert "no se puede modificar" in _rechazado("UPDATE ficha_lecturaficha SET ip = NULL WHERE id = %s",
                                                 [lectura.pk])
    assert "no se puede modificar" in _rechazado("DELETE FROM ficha_lecturaficha")
    with pytest.raises(IntegrityError), transaction.atomic():
        LecturaFicha.objects.filter(pk=lectura.pk).delete()
    fila = LecturaFicha.objects.get()
    assert (fila.usuario_nombre, fila.rol, fila.via, fila.ip) == ("Camila Soto", "Dentista", Via.EQUIPO, "10.0.0.7")


def test_las_alergias_quedan_en_paso_en_ambos_sentidos(paciente_ficha):
    assert not Antecedentes.objects.filter(cliente=paciente_ficha).exists()
    Cliente.objects.filter(pk=paciente_ficha.pk).update(alergias="Penicilina")
    antecedentes = Antecedentes.objects.get(cliente=paciente_ficha)
    assert (antecedentes.alergias, antecedentes.version) == ("Penicilina", 1)
    Antecedentes.objects.filter(pk=antecedentes.pk).update(alergias="Penicilina, látex")
    assert Cliente.objects.get(pk=paciente_ficha.pk).alergias == "Penicilina, látex"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pacientes_cliente SET alergias = 'Látex' WHERE id = %s", [paciente_ficha.pk])
    antecedentes.refresh_from_db()
    assert (antecedentes.alergias, antecedentes.version) == ("Látex", 2)
    nuevo = Cliente.objects.create(nombre_completo="Luis Díaz", alergias="AINES")
    assert Antecedentes.objects.get(cliente=nuevo).alergias == "AINES"


def test_acceso_del_equipo_asignado_urgencia_y_nadie_mas(paciente_ficha, tratante, ajeno, crear_personal,
                                                        dar_cita):
    assert acceso_a_ficha(tratante.user, paciente_ficha.pk).via == Via.EQUIPO
    refused = acceso_a_ficha(ajeno.user, paciente_ficha.pk)
    assert (refused.permitido, refused.puede_urgencia) == (False, True)
    for rol in (Rol.RECEPCION, Rol.ADMINISTRADOR):
        otro = acceso_a_ficha(crear_personal(rol=rol).user, paciente_ficha.pk)
        assert (otro.permitido, otro.puede_urgencia, otro.via) == (False, False, Via.DENEGADO)
    # A clinic-cancelled booking does not make a dentist part of the care.
    cancelo = crear_personal(rol=Rol.DENTISTA, username="dr.cancelado")
    dar_cita(cancelo, paciente_ficha, dias=3, estado=EstadoCita.CANCELADA)
    assert not acceso_a_ficha(cancelo.user, paciente_ficha.pk).permitido
    # Assigned by an administrator, then revoked.
    acceso = AccesoFicha.objects.create(cliente=paciente_ficha, dentista=ajeno, motivo="Ortodoncia")
    assert acceso_a_ficha(ajeno.user, paciente_ficha.pk).via == Via.ASIGNADO
    AccesoFicha.objects.filter(pk=acceso.pk).update(revocado_en=timezone.now())
    assert not acceso_a_ficha(ajeno.user, paciente_ficha.pk).permitido
    # Urgent access while it lasts.
    ahora = timezone.now()
    urgencia = AccesoUrgencia.objects.create(cliente=paciente_ficha, usuario=ajeno.user,
                                             motivo="Dolor agudo, su dentista no está",
                                             vence_en=ahora + datetime.timedelta(hours=12))
    dentro = acceso_a_ficha(ajeno.user, paciente_ficha.pk)
    assert (dentro.via, dentro.urgencia_id, dentro.motivo_urgencia) == (Via.URGENCIA, urgencia.pk,
                                                                         "Dolor agudo, su dentista no está")
    despues = acceso_a_ficha(ajeno.user, paciente_ficha.pk, ahora=ahora + datetime.timedelta(hours=13))
    assert not despues.permitido
    # A deactivated dentist loses access.
    type(tratante).objects.filter(pk=tratante.pk).update(activo=False)
    tratante.user.refresh_from_db()
    assert not acceso_a_ficha(tratante.user, paciente_ficha.pk).permitido
    assert acceso_a_ficha(ajeno.user, 999999) is None


def test_urgencia_sin_motivo_suficiente_es_rechazada(paciente_ficha, ajeno):
    with pytest.raises(IntegrityError, match="urgencia_con_motivo"), transaction.atomic():
        AccesoUrgencia.objects.create(cliente=paciente_ficha, usuario=ajeno.user, motivo="   urgente ",
                                      vence_en=timezone.now() + datetime.timedelta(hours=1))
