"""Erasing a patient who has a clinical record: the account, contact data, consents and notices go;
the record stays under legal hold with the minimum identification (Decreto 41 art. 11, Ley
20.584, Ley 21.719); the audit trail keeps who did what, without the contact data or the
complaint text."""

import datetime
import json

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from citas.models import Cancelacion, Cita, EstadoCita
from citas.services import asignar_cita, cancelar_cita, crear_cita_disponible
from citas.tests.test_services import PASSWORD, registrar_paciente
from cuentas.eliminacion import eliminar_cliente, resumen_eliminacion
from cuentas.models import CodigoTelefono, PerfilCliente, RegistroPendiente
from cuentas.services import eliminar_mi_cuenta, invitar_al_portal
from cuentas.tasks import pedir_restablecimiento
from ficha.models import Antecedentes, Evolucion, Resguardo
from ficha.retencion import anos_de_conservacion, sumar_anos
from ficha.tests.escenas_resguardo import (
    MOTIVO, MOTIVO_CANCELACION, archivos_en, cita_pasada, con_ficha_completa, eventos_que_contienen,
    media,  # noqa: F401
)
from notificaciones.models import Canal, Notificacion
from pacientes.models import Cliente, ClienteDocumento, ConsentimientoCanal, MedioConsentimiento
from pacientes.selectors import buscar_pacientes
from pacientes.services import actualizar_cliente, reactivar_cliente

User = get_user_model()


@pytest.fixture
def escena(recepcionista, dentista, manana_10, media):
    e = con_ficha_completa(5, recepcionista=recepcionista, dentista=dentista, manana_10=manana_10, media=media)
    # Someone else, who must not be touched at all.
    e["otro"] = con_ficha_completa(6, recepcionista=recepcionista, dentista=dentista,
                                   manana_10=manana_10 + datetime.timedelta(hours=2), media=media,
                                   motivo="Control de rutina", motivo_cancelacion="Viaje")
    return e


def filas(modelo, **filtro):
    return set(modelo.objects.filter(**filtro).values_list("pk", flat=True))


def foto(cliente_id, user_id):
    """The patient's rows, per table: what the erasure keeps or removes, compared as sets."""
    return {
        "evoluciones": set(Evolucion.objects.filter(cliente_id=cliente_id).values_list("pk", "texto", "firmada_en")),
        "antecedentes": set(Antecedentes.objects.filter(cliente_id=cliente_id)
                            .values_list("pk", "enfermedades", "medicamentos", "version")),
        "documentos": set(ClienteDocumento.objects.filter(cliente_id=cliente_id).values_list("pk", "archivo", "titulo")),
        "citas": filas(Cita, cliente_id=cliente_id),
        "consentimientos": filas(ConsentimientoCanal, cliente_id=cliente_id),
        "notificaciones": filas(Notificacion, cliente_id=cliente_id),
        "codigos": filas(CodigoTelefono, cliente_id=cliente_id),
        "cancelaciones": filas(Cancelacion, cliente_id=cliente_id),
        "usuario": filas(User, pk=user_id),
        "perfil": filas(PerfilCliente, user_id=user_id),
    }


def test_conserva_exactamente_la_ficha_y_borra_lo_demas(escena, recepcionista, media):
    cliente, user = escena["cliente"], escena["user"]
    otro = escena["otro"]
    antes = foto(cliente.pk, user.pk)
    antes_otro = foto(otro["cliente"].pk, otro["user"].pk)
    archivos = archivos_en(media)
    assert antes["notificaciones"] and antes["consentimientos"] and antes["codigos"] and antes["cancelaciones"]
    previsto = resumen_eliminacion(cliente_id=cliente.pk)

    resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)

    assert resumen == previsto
    # The last entry is today's (the history, the notes and the document were written today).
    hasta = sumar_anos(timezone.localdate(), anos_de_conservacion())
    assert (resumen.ficha_en_resguardo, resumen.conservar_hasta, resumen.documentos_conservados) == (True, hasta, 1)
    assert (resumen.cuenta_eliminada, resumen.citas_futuras_liberadas, resumen.documentos_eliminados) == (True, 1, 0)
    despues = foto(cliente.pk, user.pk)
    # The record, exactly as it was.
    for parte in ("evoluciones", "antecedentes", "documentos", "cancelaciones", "consentimientos"):
        assert despues[parte] == antes[parte], parte
    assert archivos_en(media) == archivos
    # Past visits stay the record's (linked); the future booking is free for someone else.
    assert despues["citas"] == antes["citas"] - {escena["futura"].pk}
    # The person's account, notices and codes are gone.
    for parte in ("usuario", "perfil", "notificaciones", "codigos"):
        assert despues[parte] == set(), parte
    assert not RegistroPendiente.objects.filter(email=escena["email"]).exists()
    # Consents: closed as history, never live again.
    assert not ConsentimientoCanal.objects.filter(cliente=cliente, revocado_en__isnull=True).exists()
    assert set(ConsentimientoCanal.objects.filter(cliente=cliente).values_list("revocado_medio", flat=True)) == {
        MedioConsentimiento.ELIMINACION}
    # The minimum identification, nothing to contact them by.
    cliente.refresh_from_db()
    assert (cliente.nombre_completo, cliente.rut) == ("Paciente Número 5", escena["cliente"].rut)
    assert (cliente.email, str(cliente.telefono or ""), cliente.telefono_verificado_en) == ("", "", None)
    assert (cliente.canal_preferido, cliente.user_id, cliente.activo) == (Canal.EMAIL, None, False)
    pasada = Cita.objects.get(pk=escena["pasada"].pk)
    assert (pasada.estado, pasada.cliente_id, pasada.paciente_nombre) == (EstadoCita.ATENDIDA, cliente.pk,
                                                                          "Paciente Número 5")
    assert (pasada.paciente_email, pasada.paciente_telefono, pasada.motivo) == ("", "", "")
    futura = Cita.objects.get(pk=escena["futura"].pk)
    assert (futura.estado, futura.cliente_id, futura.motivo) == (EstadoCita.DISPONIBLE, None, "")
    assert Cancelacion.objects.get(cliente=cliente).motivo == ""
    resguardo = Resguardo.objects.get(cliente=cliente)
    assert (resguardo.conservar_hasta, resguardo.solicitado_por) == (hasta, "clinica")
    # Nobody else's data moved.
    assert foto(otro["cliente"].pk, otro["user"].pk) == antes_otro
    otro["cliente"].refresh_from_db()
    assert otro["cliente"].email == otro["email"] and otro["cliente"].activo


def test_la_auditoria_olvida_contacto_y_motivo_pero_no_quien(escena, recepcionista):
    cliente = escena["cliente"]
    telefono_nacional = escena["telefono"].removeprefix("+56")
    for texto in (escena["email"], telefono_nacional, MOTIVO, MOTIVO_CANCELACION):
        assert eventos_que_contienen(texto), f"la escena debía dejar «{texto}» en la auditoría"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pgh_obj_id, pgh_label, pgh_context_id FROM pacientes_clienteevent "
                       "WHERE pgh_obj_id = %s ORDER BY pgh_id", [cliente.pk])
        quien_antes = cursor.fetchall()
    assert all(fila[2] is not None for fila in quien_antes)

    eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)

    for texto in (escena["email"], telefono_nacional, MOTIVO, MOTIVO_CANCELACION):
        assert eventos_que_contienen(texto) == [], f"«{texto}» quedó en la auditoría"
    # The other patient's trail is untouched.
    for texto in (escena["otro"]["email"], "Control de rutina", "Viaje"):
        assert eventos_que_contienen(texto), texto
    with connection.cursor() as cursor:
        cursor.execute("SELECT pgh_obj_id, pgh_label, pgh_context_id FROM pacientes_clienteevent "
                       "WHERE pgh_obj_id = %s ORDER BY pgh_id", [cliente.pk])
        quien_despues = cursor.fetchall()
        # Every event is still there with its context (who, which service); the erasure adds its own.
        assert quien_despues[: len(quien_antes)] == quien_antes
        cursor.execute("SELECT c.metadata FROM pacientes_clienteevent e JOIN pghistory_context c "
                       "ON c.id = e.pgh_context_id WHERE e.pgh_obj_id = %s ORDER BY e.pgh_id DESC LIMIT 1", [cliente.pk])
        contexto = cursor.fetchone()[0]
    contexto = json.loads(contexto) if isinstance(contexto, str) else contexto
    assert contexto["servicio"] == "eliminar_cliente" and contexto["user"] == recepcionista.user.pk
    # Name and RUT stay in the trail: they identify the record the law keeps.
    evento = Cliente.pgh_event_models["insert"].objects.filter(pgh_obj_id=cliente.pk).latest("pgh_id")
    assert (evento.nombre_completo, evento.rut) == (cliente.nombre_completo, cliente.rut)


@pytest.mark.django_db(transaction=True)
def test_una_falla_en_cualquier_escritura_deja_todo_como_estaba(probar_fallas, recepcionista, dentista, manana_10,
                                                                 media):
    e = con_ficha_completa(5, recepcionista=recepcionista, dentista=dentista, manana_10=manana_10, media=media)
    archivos = archivos_en(media)
    assert probar_fallas(lambda: eliminar_cliente(actor=recepcionista.user, cliente_id=e["cliente"].pk)) >= 10
    assert Resguardo.objects.filter(cliente=e["cliente"]).exists()
    assert archivos_en(media) == archivos


def test_el_paciente_que_se_elimina_desde_el_portal_deja_su_ficha_en_resguardo(escena):
    resumen = eliminar_mi_cuenta(user=escena["user"], password=PASSWORD)
    assert resumen.ficha_en_resguardo and resumen.cuenta_eliminada
    resguardo = Resguardo.objects.get(cliente_id=escena["cliente"].pk)
    assert resguardo.solicitado_por == "paciente"
    # Their consents were closed by themselves: no staff member is named.
    assert set(ConsentimientoCanal.objects.filter(cliente=escena["cliente"]).values_list("revocado_por", flat=True)) == {
        None}


def test_sin_ficha_se_elimina_como_siempre(recepcionista, dentista, manana_10):
    """Only booked (never attended) and no clinical content: the row goes, as before issue 15."""
    user = registrar_paciente(9)
    futura = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    asignar_cita(actor=recepcionista.user, cita_id=futura.pk, cliente_id=user.cliente.pk, motivo=MOTIVO)
    previsto = resumen_eliminacion(cliente_id=user.cliente.pk)
    assert not previsto.ficha_en_resguardo and previsto.conservar_hasta is None
    resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=user.cliente.pk)
    assert resumen == previsto
    assert not Cliente.objects.filter(pk=user.cliente.pk).exists()
    assert not Resguardo.objects.exists()


@pytest.fixture
def eliminado(escena, recepcionista):
    eliminar_cliente(actor=recepcionista.user, cliente_id=escena["cliente"].pk)
    return escena["cliente"]


def test_un_eliminado_no_se_reactiva_edita_invita_ni_recibe_hora(eliminado, recepcionista, dentista, manana_10):
    for intento in (
        lambda: reactivar_cliente(actor=recepcionista.user, cliente_id=eliminado.pk),
        lambda: actualizar_cliente(actor=recepcionista.user, cliente_id=eliminado.pk,
                                   nombre_completo=eliminado.nombre_completo, rut=eliminado.rut,
                                   email="vuelve@correo.example"),
        lambda: eliminar_cliente(actor=recepcionista.user, cliente_id=eliminado.pk),
        lambda: resumen_eliminacion(cliente_id=eliminado.pk),
    ):
        with pytest.raises(ValidationError) as error:
            intento()
        assert error.value.code == "ficha_en_resguardo"
        assert "resguardo legal" in error.value.messages[0]
    with pytest.raises(ValidationError) as error:
        invitar_al_portal(actor=recepcionista.user, cliente_id=eliminado.pk)
    assert error.value.code == "cliente_inactivo"
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=manana_10 + datetime.timedelta(days=5))
    with pytest.raises(ValidationError) as error:
        asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=eliminado.pk)
    assert error.value.error_dict["cliente"][0].code == "cliente_invalido"
    eliminado.refresh_from_db()
    assert not eliminado.activo and eliminado.email == ""


def test_la_busqueda_lo_marca_como_ficha_en_resguardo(eliminado):
    assert eliminado.pk not in {c.pk for c in buscar_pacientes("Paciente Número 5")}
    encontrados = {c.pk: c for c in buscar_pacientes("Paciente Número", incluir_inactivos=True)}
    assert encontrados[eliminado.pk].en_resguardo
    assert not encontrados[Cliente.objects.get(nombre_completo="Paciente Número 6").pk].en_resguardo


def test_vuelve_como_paciente_nuevo_con_el_mismo_rut(eliminado):
    """The held record is inactive: the RUT is free for a new registration, never merged."""
    nuevo = registrar_paciente(5, email="vuelve@correo.example", telefono="+56961112233")
    assert nuevo.cliente.pk != eliminado.pk and nuevo.cliente.rut == eliminado.rut


def test_alergias_escritas_y_borradas_no_son_ficha(recepcionista):
    """The allergy trigger leaves an empty history row behind: no record, so the patient (and
    that row, which protects them) are deleted as before issue 15."""
    user = registrar_paciente(12)
    Cliente.objects.filter(pk=user.cliente.pk).update(alergias="Látex")
    Cliente.objects.filter(pk=user.cliente.pk).update(alergias="")
    assert Antecedentes.objects.filter(cliente_id=user.cliente.pk).exists()
    resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=user.cliente.pk)
    assert not resumen.ficha_en_resguardo
    assert not Cliente.objects.filter(pk=user.cliente.pk).exists()
    assert not Antecedentes.objects.filter(cliente_id=user.cliente.pk).exists()


def test_sin_ficha_la_auditoria_olvida_lo_que_olvidaria_la_purga(recepcionista, dentista, manana_10):
    """Without a record nothing is kept for the law: the trail forgets the contact data, the free
    text, and what only a record would justify (RUT, birth date, allergies written then cleared)."""
    user = registrar_paciente(9)
    cliente = Cliente.objects.get(user=user)
    Cliente.objects.filter(pk=cliente.pk).update(fecha_nacimiento=datetime.date(1981, 3, 4))
    Cliente.objects.filter(pk=cliente.pk).update(alergias="Penicilina con anafilaxia")
    Cliente.objects.filter(pk=cliente.pk).update(alergias="")
    futura = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    asignar_cita(actor=recepcionista.user, cita_id=futura.pk, cliente_id=cliente.pk, motivo=MOTIVO)
    cancelada = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                      inicio=manana_10 + datetime.timedelta(days=2))
    asignar_cita(actor=recepcionista.user, cita_id=cancelada.pk, cliente_id=cliente.pk, motivo=MOTIVO)
    cancelar_cita(actor=user, cita_id=cancelada.pk, motivo=MOTIVO_CANCELACION)
    faltada = cita_pasada(recepcionista, dentista, cliente, dias=20, estado=EstadoCita.NO_ASISTIO)
    telefono_nacional = str(cliente.telefono).removeprefix("+56")
    textos = (cliente.email, telefono_nacional, MOTIVO, MOTIVO_CANCELACION, "Penicilina", cliente.rut)
    for texto in textos:
        assert eventos_que_contienen(texto), f"la escena debía dejar «{texto}» en la auditoría"
    ClienteEvento = Cliente.pgh_event_models["insert"]
    assert ClienteEvento.objects.filter(pgh_obj_id=cliente.pk, fecha_nacimiento__isnull=False).exists()

    resumen = eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)

    assert not resumen.ficha_en_resguardo
    for texto in textos:
        assert eventos_que_contienen(texto) == [], f"«{texto}» quedó en la auditoría"
    assert not ClienteEvento.objects.filter(pgh_obj_id=cliente.pk, fecha_nacimiento__isnull=False).exists()
    # The name and who did what stay; the kept appointment keeps the name only.
    assert ClienteEvento.objects.filter(pgh_obj_id=cliente.pk, nombre_completo=cliente.nombre_completo,
                                        pgh_context__isnull=False).exists()
    faltada.refresh_from_db()
    assert (faltada.cliente_id, faltada.paciente_nombre, faltada.paciente_email, faltada.paciente_telefono,
            faltada.motivo) == (None, cliente.nombre_completo, "", "", "")


@pytest.mark.parametrize("con_ficha", [True, False], ids=["con_ficha", "sin_ficha"])
def test_borrar_a_la_madre_no_toca_las_citas_de_sus_hijos(con_ficha, recepcionista, dentista, manana_10, media):
    """A child booked with their mother's phone: erasing the mother blanks her own appointments'
    events, never the child's."""
    if con_ficha:
        madre = con_ficha_completa(5, recepcionista=recepcionista, dentista=dentista, manana_10=manana_10,
                                   media=media)["cliente"]
    else:
        madre = Cliente.objects.get(user=registrar_paciente(5))
    hijo = Cliente.objects.create(nombre_completo="Hijo Menor Pérez", rut="22222222-2", telefono=madre.telefono)
    hora = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                 inicio=manana_10 + datetime.timedelta(days=3))
    asignar_cita(actor=recepcionista.user, cita_id=hora.pk, cliente_id=hijo.pk, motivo="Control de caries del niño")

    eliminar_cliente(actor=recepcionista.user, cliente_id=madre.pk)

    eventos = Cita.pgh_event_models["insert"].objects.filter(pgh_obj_id=hora.pk, cliente_id=hijo.pk)
    assert eventos.exists()
    assert all((str(e.paciente_telefono), e.motivo) == (str(madre.telefono), "Control de caries del niño")
               for e in eventos)


def _rastros(identificador):
    comun = {"ip_address": "10.0.0.9", "user_agent": "Firefox", "http_accept": "*/*", "path_info": "/portal/entrar/"}
    AccessAttempt.objects.create(username=identificador, get_data="", post_data="", failures_since_start=2, **comun)
    AccessLog.objects.create(username=identificador, **comun)
    AccessFailureLog.objects.create(username=identificador, locked_out=False, **comun)


def _rastros_de(*identificadores):
    q = Q()
    for i in identificadores:
        q |= Q(username__iexact=i)
    return sum(m.objects.filter(q).count() for m in (AccessAttempt, AccessLog, AccessFailureLog))


def _trabajos_de_restablecimiento():
    with connection.cursor() as cursor:
        cursor.execute("SELECT args->>'identificador' FROM procrastinate_jobs WHERE task_name = 'cuentas.restablecer_clave'")
        return sorted(fila[0] for fila in cursor.fetchall())


@pytest.mark.parametrize("con_ficha", [True, False], ids=["con_ficha", "sin_ficha"])
def test_la_eliminacion_borra_sus_intentos_de_acceso_y_pedidos_de_clave(con_ficha, recepcionista, dentista,
                                                                       manana_10, media):
    """django-axes and the "forgot my password" jobs keep the login typed (e-mail or RUT): contact
    data of the patient that must go with the erasure, in its transaction; nobody else's."""
    if con_ficha:
        cliente = con_ficha_completa(5, recepcionista=recepcionista, dentista=dentista, manana_10=manana_10,
                                     media=media)["cliente"]
    else:
        cliente = Cliente.objects.get(user=registrar_paciente(5))
    otro = Cliente.objects.get(user=registrar_paciente(6))
    numero, dv = cliente.rut.split("-")
    rut_con_puntos = f"{int(numero):,}".replace(",", ".") + "-" + dv
    for identificador in (cliente.email.upper(), cliente.rut, otro.email):
        _rastros(identificador)
    for identificador in (cliente.email, rut_con_puntos, otro.email, otro.rut):
        pedir_restablecimiento(identificador=identificador)
    with connection.cursor() as cursor:  # one already ran: finished jobs keep their arguments too
        cursor.execute("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE args->>'identificador' = %s",
                       [cliente.email])
    assert _rastros_de(cliente.email, cliente.rut) == 6

    eliminar_cliente(actor=recepcionista.user, cliente_id=cliente.pk)

    assert _rastros_de(cliente.email, cliente.rut) == 0
    assert _rastros_de(otro.email) == 3
    assert _trabajos_de_restablecimiento() == sorted([otro.email, otro.rut])
