"""The services of who may read a record beyond their appointments: urgent access (opened by a
dentist outside the care team, reviewed by an administrator) and assignments to a treatment."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from ficha.acceso import acceso_a_ficha
from ficha.accesos import abrir_urgencia, conceder_acceso, revisar_urgencia, revocar_acceso
from ficha.models import AccesoFicha, AccesoUrgencia, Via
from personal.models import Perfil, Rol

pytestmark = pytest.mark.django_db
MOTIVO = "Paciente con dolor agudo, su dentista no está"


@pytest.fixture
def admin(crear_personal):
    return crear_personal(rol=Rol.ADMINISTRADOR, username="adm", nombre="Ana", apellido="Admin")


def _codigo(exc):
    return exc.value.error_list[0].code


@override_settings(CLINICA_FICHA_URGENCIA_HORAS=6)
def test_urgencia_de_un_dentista_fuera_del_equipo(paciente_ficha, ajeno):
    antes = timezone.now()
    urgencia = abrir_urgencia(actor=ajeno.user, cliente_id=paciente_ficha.pk, motivo=f"  {MOTIVO}  ")
    assert urgencia.motivo == MOTIVO and urgencia.revisado_en is None
    assert datetime.timedelta(hours=6) <= urgencia.vence_en - antes < datetime.timedelta(hours=6, minutes=1)
    acceso = acceso_a_ficha(ajeno.user, paciente_ficha.pk)
    assert acceso.permitido and acceso.via == Via.URGENCIA and acceso.motivo_urgencia == MOTIVO
    with pytest.raises(ValidationError) as exc:
        abrir_urgencia(actor=ajeno.user, cliente_id=paciente_ficha.pk, motivo=MOTIVO)
    assert _codigo(exc) == "ya_tiene_acceso" and AccesoUrgencia.objects.count() == 1


def test_urgencia_rechazada(paciente_ficha, ajeno, tratante, admin, crear_personal):
    recepcion = crear_personal(rol=Rol.RECEPCION)
    inactivo = crear_personal(rol=Rol.DENTISTA, activo=False)
    casos = [
        (ajeno.user, paciente_ficha.pk, "corto", "motivo_requerido"),
        (ajeno.user, paciente_ficha.pk, "   a         b   ", "motivo_requerido"),
        (ajeno.user, 999999, MOTIVO, "no_existe"),
        (tratante.user, paciente_ficha.pk, MOTIVO, "ya_tiene_acceso"),
        (admin.user, paciente_ficha.pk, MOTIVO, "sin_permiso"),
        (recepcion.user, paciente_ficha.pk, MOTIVO, "sin_permiso"),
        (inactivo.user, paciente_ficha.pk, MOTIVO, "sin_permiso"),
    ]
    for actor, cliente_id, motivo, codigo in casos:
        with pytest.raises(ValidationError) as exc:
            abrir_urgencia(actor=actor, cliente_id=cliente_id, motivo=motivo)
        assert _codigo(exc) == codigo, (actor, motivo)
    assert not AccesoUrgencia.objects.exists()


def test_urgencia_vencida_ya_no_da_acceso(paciente_ficha, ajeno):
    urgencia = abrir_urgencia(actor=ajeno.user, cliente_id=paciente_ficha.pk, motivo=MOTIVO)
    despues = urgencia.vence_en + datetime.timedelta(seconds=1)
    assert not acceso_a_ficha(ajeno.user, paciente_ficha.pk, ahora=despues).permitido


def test_revisar_urgencia_una_sola_vez(paciente_ficha, ajeno, admin, superusuario_ficha):
    urgencia = abrir_urgencia(actor=ajeno.user, cliente_id=paciente_ficha.pk, motivo=MOTIVO)
    for actor in (ajeno.user,):
        with pytest.raises(ValidationError) as exc:
            revisar_urgencia(actor=actor, urgencia_id=urgencia.pk, nota="")
        assert _codigo(exc) == "sin_permiso"
    revisada = revisar_urgencia(actor=admin.user, urgencia_id=urgencia.pk, nota="Justificada: llamé al paciente.")
    assert revisada.revisado_por == admin.user and revisada.revision_nota.startswith("Justificada")
    with pytest.raises(ValidationError) as exc:
        revisar_urgencia(actor=superusuario_ficha, urgencia_id=urgencia.pk, nota="otra")
    assert _codigo(exc) == "ya_revisada"
    assert AccesoUrgencia.objects.get().revision_nota.startswith("Justificada")
    with pytest.raises(ValidationError) as exc:
        revisar_urgencia(actor=admin.user, urgencia_id=999999, nota="")
    assert _codigo(exc) == "no_existe"


def test_un_superusuario_revisa_salvo_con_perfil_desactivado(paciente_ficha, ajeno, superusuario_ficha):
    urgencia = abrir_urgencia(actor=ajeno.user, cliente_id=paciente_ficha.pk, motivo=MOTIVO)
    Perfil.objects.create(user=superusuario_ficha, rol=Rol.RECEPCION, activo=False)
    superusuario_ficha.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        revisar_urgencia(actor=superusuario_ficha, urgencia_id=urgencia.pk)
    assert _codigo(exc) == "sin_permiso"
    Perfil.objects.filter(user=superusuario_ficha).update(activo=True)
    assert revisar_urgencia(actor=superusuario_ficha, urgencia_id=urgencia.pk).revisado_en is not None


def test_conceder_y_revocar(paciente_ficha, ajeno, admin):
    assert not acceso_a_ficha(ajeno.user, paciente_ficha.pk).permitido
    acceso = conceder_acceso(actor=admin.user, cliente_id=paciente_ficha.pk, dentista_id=ajeno.pk,
                             motivo="Planifica la ortodoncia")
    assert acceso_a_ficha(ajeno.user, paciente_ficha.pk).via == Via.ASIGNADO
    with pytest.raises(ValidationError) as exc:
        conceder_acceso(actor=admin.user, cliente_id=paciente_ficha.pk, dentista_id=ajeno.pk, motivo="Otra vez")
    assert _codigo(exc) == "acceso_duplicado"
    assert "Ese dentista ya tiene acceso a esta ficha." in exc.value.messages
    revocar_acceso(actor=admin.user, acceso_id=acceso.pk)
    assert not acceso_a_ficha(ajeno.user, paciente_ficha.pk).permitido
    with pytest.raises(ValidationError) as exc:
        revocar_acceso(actor=admin.user, acceso_id=acceso.pk)
    assert _codigo(exc) == "ya_revocado"
    # Revoked, it can be granted again.
    conceder_acceso(actor=admin.user, cliente_id=paciente_ficha.pk, dentista_id=ajeno.pk, motivo="Vuelve")
    assert AccesoFicha.objects.filter(revocado_en__isnull=True).count() == 1


def test_conceder_rechazado(paciente_ficha, ajeno, admin, crear_personal):
    recepcion = crear_personal(rol=Rol.RECEPCION)
    inactivo = crear_personal(rol=Rol.DENTISTA, activo=False)
    casos = [
        (ajeno.user, paciente_ficha.pk, ajeno.pk, "Porque sí", "sin_permiso"),
        (recepcion.user, paciente_ficha.pk, ajeno.pk, "Porque sí", "sin_permiso"),
        (admin.user, paciente_ficha.pk, ajeno.pk, "  ", "motivo_requerido"),
        (admin.user, paciente_ficha.pk, ajeno.pk, "x" * 201, "motivo_largo"),
        (admin.user, paciente_ficha.pk, recepcion.pk, "Porque sí", "no_es_dentista"),
        (admin.user, paciente_ficha.pk, inactivo.pk, "Porque sí", "no_es_dentista"),
        (admin.user, paciente_ficha.pk, 999999, "Porque sí", "no_es_dentista"),
        (admin.user, 999999, ajeno.pk, "Porque sí", "no_existe"),
    ]
    for actor, cliente_id, dentista_id, motivo, codigo in casos:
        with pytest.raises(ValidationError) as exc:
            conceder_acceso(actor=actor, cliente_id=cliente_id, dentista_id=dentista_id, motivo=motivo)
        assert _codigo(exc) == codigo, (dentista_id, motivo)
    assert not AccesoFicha.objects.exists()
    with pytest.raises(ValidationError) as exc:
        revocar_acceso(actor=admin.user, acceso_id=999999)
    assert _codigo(exc) == "no_existe"


def test_el_equipo_de_cuidado_lista_exactamente_a_quien_deja_entrar_la_regla(paciente_ficha, tratante, ajeno,
                                                                              crear_personal, dar_cita):
    """The care-team list and ``acceso_a_ficha`` agree: a deactivated profile, a deactivated
    user and a superuser with a dentist profile have appointments (or an assignment) but are
    not let in, so they are not listed; a future booking and a no-show count."""
    from citas.models import EstadoCita
    from ficha.selectors_lecturas import equipo_de_cuidado

    futura = crear_personal(username="dr.futuro", nombre="Pedro", apellido="Futuro")
    dar_cita(futura, paciente_ficha, dias=5, estado=EstadoCita.RESERVADA)
    falto = crear_personal(username="dr.falto", nombre="Rosa", apellido="Falto")
    dar_cita(falto, paciente_ficha, dias=-2, estado=EstadoCita.NO_ASISTIO)
    perfil_inactivo = crear_personal(username="dr.inactivo", activo=False)
    dar_cita(perfil_inactivo, paciente_ficha, dias=-3)
    usuario_inactivo = crear_personal(username="dr.sin.cuenta")
    dar_cita(usuario_inactivo, paciente_ficha, dias=-4)
    type(usuario_inactivo.user).objects.filter(pk=usuario_inactivo.user.pk).update(is_active=False)
    superusuario = crear_personal(username="dr.raiz")
    dar_cita(superusuario, paciente_ficha, dias=-5)
    type(superusuario.user).objects.filter(pk=superusuario.user.pk).update(is_superuser=True)
    cancelada = crear_personal(username="dr.cancelada")
    dar_cita(cancelada, paciente_ficha, dias=-6, estado=EstadoCita.CANCELADA)
    asignado_inactivo = crear_personal(username="dr.asignado.inactivo", activo=False)
    for perfil in (ajeno, asignado_inactivo):
        AccesoFicha.objects.create(cliente=paciente_ficha, dentista=perfil, motivo="Ortodoncia")

    equipo = equipo_de_cuidado(paciente_ficha.pk)
    listados = {d.perfil_id for d in equipo.con_citas} | {a.dentista_id for a in equipo.asignados}
    dejados_entrar = {p.pk for p in Perfil.objects.select_related("user")
                      if (acceso := acceso_a_ficha(p.user, paciente_ficha.pk)) is not None and acceso.permitido}
    assert listados == dejados_entrar == {tratante.pk, futura.pk, falto.pk, ajeno.pk}
    assert [d.perfil_id for d in equipo.con_citas] == [futura.pk, falto.pk, tratante.pk]  # newest first
    assert [a.dentista_id for a in equipo.asignados] == [ajeno.pk]
