"""Staff resend a notification (``reenviar_notificacion``, issue 5): each state, each refusal
with its code, a real e-mail resent through a real worker, and crashes between its writes."""

import datetime
import logging

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from notificaciones.models import Canal
from notificaciones.models import EstadoNotificacion, Notificacion
from notificaciones.services import reenviar_notificacion
from notificaciones.trabajos import tiene_trabajo_vivo
from notificaciones.tests.conftest import EMAIL, TELEFONO, notificar_en_servicio
from pruebas.soporte import ejecutar_worker, huella_bd, trabajos, vaciar_cola
from personal.models import Rol

en_worker = pytest.mark.django_db(transaction=True)


def ids_en_trabajos():
    return sorted(t["args"]["notificacion_id"] for t in trabajos(tarea="notificaciones.enviar"))


def codigo(error):
    return error.value.code


def aviso(**cambios):
    """An e-mail notification as ``notificar`` records it, then moved to the state under test
    (the worker's own writes, done here by hand). Its delivery job is gone unless kept."""
    [n] = notificar_en_servicio(referencia=f"cita-{Notificacion.objects.count() + 1}")
    if not cambios.pop("con_trabajo", False):
        vaciar_cola()
    if cambios:
        Notificacion.objects.filter(pk=n.pk).update(**cambios)
        n.refresh_from_db()
    return n


def fallida(**extra):
    return aviso(estado=EstadoNotificacion.FALLIDA, intentos=10,
                 ultimo_error="SMTPRecipientsRefused: 550 <correo> rejected", **extra)


def enviada():
    return aviso(estado=EstadoNotificacion.ENVIADA, intentos=1, enviada_en=timezone.now(),
                 proveedor_id="<reserva_confirmada.cita-1.email@clinica.example>")


# Each state ---------------------------------------------------------------------------------------


def test_fallida_vuelve_a_pendiente_con_un_trabajo_nuevo_y_la_misma_clave(recepcionista):
    n = fallida()
    clave = n.clave_idempotencia

    resultado = reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)

    n.refresh_from_db()
    assert resultado.pk == n.pk
    assert (n.estado, n.intentos, n.ultimo_error, n.enviada_en) == (EstadoNotificacion.PENDIENTE, 0, "", None)
    assert n.clave_idempotencia == clave, "nunca salió: la misma clave sigue valiendo"
    assert ids_en_trabajos() == [n.pk]
    assert Notificacion.objects.count() == 1


def test_fallida_por_acuse_del_proveedor_pierde_el_id_y_la_fecha_viejos(recepcionista):
    # A provider's "undelivered" receipt turns an enviada row into fallida, id and date kept.
    n = fallida(enviada_en=timezone.now(), proveedor_id="SM123")
    reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    n.refresh_from_db()
    assert (n.estado, n.proveedor_id, n.enviada_en) == (EstadoNotificacion.PENDIENTE, "", None)


def test_pendiente_sin_trabajo_vuelve_a_la_cola(recepcionista):
    n = aviso(intentos=3, ultimo_error="ConnectionRefusedError: [Errno 111]")
    assert not tiene_trabajo_vivo(n.pk)

    reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)

    n.refresh_from_db()
    assert (n.estado, n.intentos, n.ultimo_error) == (EstadoNotificacion.PENDIENTE, 0, "")
    assert ids_en_trabajos() == [n.pk] and tiene_trabajo_vivo(n.pk)


def test_pendiente_en_cola_se_rechaza_sin_cambiar_nada(recepcionista):
    n = aviso(con_trabajo=True)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    assert codigo(error) == "ya_en_cola"
    assert "ya está en la cola" in error.value.messages[0]
    assert huella_bd() == antes


def test_reenviar_dos_veces_seguidas_la_segunda_ya_esta_en_cola(recepcionista):
    n = fallida()
    reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    with pytest.raises(ValidationError) as error:
        reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    assert codigo(error) == "ya_en_cola"
    assert ids_en_trabajos() == [n.pk], "un solo trabajo"


def test_enviada_se_copia_en_una_fila_nueva_con_otra_clave(recepcionista, dentista, manana_10):
    from citas.models import Cita

    cita = Cita.objects.create(dentista=dentista, inicio=manana_10, fin=manana_10 + datetime.timedelta(minutes=30),
                               estado="reservada", paciente_nombre="Ana Pérez")
    original = enviada()
    Notificacion.objects.filter(pk=original.pk).update(cita=cita, variables=["Clínica", "lunes"])
    original.refresh_from_db()

    copia = reenviar_notificacion(actor=recepcionista.user, notificacion_id=original.pk)

    assert copia.pk != original.pk
    copia.refresh_from_db()
    for campo in ("cliente_id", "cita_id", "canal", "plantilla", "destinatario", "asunto", "cuerpo", "variables"):
        assert getattr(copia, campo) == getattr(original, campo), campo
    assert (copia.estado, copia.intentos, copia.ultimo_error, copia.proveedor_id, copia.enviada_en) == (
        EstadoNotificacion.PENDIENTE, 0, "", "", None)
    assert copia.clave_idempotencia.startswith(original.clave_idempotencia + ":reenvio:")
    assert copia.clave_idempotencia != original.clave_idempotencia
    sello = copia.clave_idempotencia.removeprefix(original.clave_idempotencia + ":reenvio:")
    assert datetime.datetime.fromisoformat(sello).tzinfo is not None
    recargada = Notificacion.objects.get(pk=original.pk)
    assert (recargada.estado, recargada.clave_idempotencia) == (EstadoNotificacion.ENVIADA, original.clave_idempotencia)
    assert ids_en_trabajos() == [copia.pk], "solo la copia va a la cola"


def test_copias_de_copias_no_alargan_la_clave(recepcionista):
    original = enviada()
    claves = {original.clave_idempotencia}
    actual = original
    for _ in range(3):
        copia = reenviar_notificacion(actor=recepcionista.user, notificacion_id=actual.pk)
        Notificacion.objects.filter(pk=copia.pk).update(estado=EstadoNotificacion.ENVIADA, enviada_en=timezone.now())
        claves.add(copia.clave_idempotencia)
        assert copia.clave_idempotencia.count(":reenvio:") == 1
        assert copia.clave_idempotencia.startswith(original.clave_idempotencia + ":reenvio:")
        actual = copia
    assert len(claves) == 4, "cada clave es única"
    assert Notificacion.objects.values("clave_idempotencia").distinct().count() == 4


def test_clave_larga_cabe_en_la_columna(recepcionista):
    original = enviada()
    Notificacion.objects.filter(pk=original.pk).update(clave_idempotencia="x" * 200)
    copia = reenviar_notificacion(actor=recepcionista.user, notificacion_id=original.pk)
    assert len(copia.clave_idempotencia) <= 200 and ":reenvio:" in copia.clave_idempotencia


# Refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("notificacion_id", [999_999_999, 0, -1, 2**70, True, "1", None, "<script>"])
def test_id_desconocido(recepcionista, notificacion_id):
    aviso()
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reenviar_notificacion(actor=recepcionista.user, notificacion_id=notificacion_id)
    assert codigo(error) == "notificacion_no_encontrada"
    assert "no existe" in error.value.messages[0]
    assert huella_bd() == antes


@pytest.mark.parametrize("canal", [Canal.WHATSAPP, Canal.SMS])
def test_canal_sin_proveedor_queda_registrado(recepcionista, settings, canal):
    settings.NOTIFICACIONES_WHATSAPP = ""
    settings.NOTIFICACIONES_SMS = ""
    n = fallida(canal=canal, destinatario=TELEFONO, asunto="")
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    assert codigo(error) == "canal_sin_proveedor"
    mensaje = error.value.messages[0]
    assert n.get_canal_display() in mensaje and "queda registrado" in mensaje
    assert huella_bd() == antes


def test_canal_con_proveedor_de_consola_se_reenvia(recepcionista, settings):
    settings.NOTIFICACIONES_SMS = "consola"
    n = fallida(canal=Canal.SMS, destinatario=TELEFONO, asunto="")
    reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    assert ids_en_trabajos() == [n.pk]


def test_sin_destinatario(recepcionista):
    n = fallida(destinatario="", cliente=None)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    assert codigo(error) == "sin_destinatario"
    assert "no tiene destinatario" in error.value.messages[0]
    assert huella_bd() == antes


def _paciente():
    from citas.tests.test_services import registrar_paciente

    return registrar_paciente(77)


def _inactivo(crear_personal):
    return crear_personal(rol=Rol.RECEPCION, activo=False).user


def _superusuario_desactivado(crear_personal):
    perfil = crear_personal(rol=Rol.ADMINISTRADOR, activo=False)
    perfil.user.is_superuser = True
    perfil.user.save()
    return perfil.user


NO_AUTORIZADOS = {
    "nadie": lambda cp: None,
    "anonimo": lambda cp: AnonymousUser(),
    "dentista": lambda cp: cp(rol=Rol.DENTISTA).user,
    "recepcion_desactivada": _inactivo,
    "superusuario_con_perfil_desactivado": _superusuario_desactivado,
    "paciente": lambda cp: _paciente(),
    "usuario_sin_perfil": lambda cp: get_user_model().objects.create_user("suelto", password="x"),
}


@pytest.mark.parametrize("quien", NO_AUTORIZADOS)
def test_solo_administracion_o_recepcion(crear_personal, quien):
    n = fallida()
    actor = NO_AUTORIZADOS[quien](crear_personal)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        reenviar_notificacion(actor=actor, notificacion_id=n.pk)
    assert codigo(error) == "no_autorizado"
    assert huella_bd() == antes


def test_no_autorizado_antes_de_revelar_si_existe(crear_personal):
    with pytest.raises(ValidationError) as error:
        reenviar_notificacion(actor=crear_personal(rol=Rol.DENTISTA).user, notificacion_id=999_999)
    assert codigo(error) == "no_autorizado"


@pytest.mark.parametrize("rol", [Rol.ADMINISTRADOR, Rol.RECEPCION])
def test_administracion_y_recepcion_pueden(crear_personal, rol):
    n = fallida()
    reenviar_notificacion(actor=crear_personal(rol=rol).user, notificacion_id=n.pk)
    assert ids_en_trabajos() == [n.pk]


def test_superusuario_sin_perfil_puede(db):
    raiz = get_user_model().objects.create_superuser("raiz", "raiz@clinica.example", "x")
    n = fallida()
    reenviar_notificacion(actor=raiz, notificacion_id=n.pk)
    assert ids_en_trabajos() == [n.pk]


def test_deja_una_linea_de_registro_sin_datos_de_contacto(recepcionista, caplog):
    n = enviada()
    with caplog.at_level(logging.INFO, logger="notificaciones.services"):
        copia = reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    [linea] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("notificacion_reenviada")]
    assert f"notificacion_id={n.pk}" in linea and f"reenvio_id={copia.pk}" in linea
    assert "modo=copia" in linea and f"actor_id={recepcionista.user.pk}" in linea
    assert EMAIL not in linea


# Crashes between writes -----------------------------------------------------------------------


def test_fallas_al_reintentar_no_dejan_nada(recepcionista, probar_fallas):
    n = fallida()
    escrituras = probar_fallas(lambda: reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk))
    assert escrituras == 2  # the row, its job
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.PENDIENTE and ids_en_trabajos() == [n.pk]


def test_fallas_al_copiar_no_dejan_nada(recepcionista, probar_fallas):
    n = enviada()
    escrituras = probar_fallas(lambda: reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk))
    assert escrituras == 2  # the row, then its job (procrastinate's defer), in one transaction
    assert Notificacion.objects.count() == 2 and len(ids_en_trabajos()) == 1


# End to end: a real SMTP server and a real worker ---------------------------------------------


@en_worker
def test_correo_fallido_reenviado_llega_una_sola_vez(servidor_smtp, recepcionista, settings):
    settings.NOTIFICACIONES_MAX_INTENTOS = 1
    [n] = notificar_en_servicio(referencia="cita-e2e")
    servidor_smtp.detener()
    ejecutar_worker()
    n.refresh_from_db()
    assert n.estado == EstadoNotificacion.FALLIDA and n.intentos == 1 and n.ultimo_error
    assert [t["status"] for t in trabajos()] == ["failed"]

    servidor_smtp.iniciar()
    reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    ejecutar_worker()
    ejecutar_worker()  # nothing more to send

    [recibido] = servidor_smtp.para(EMAIL)
    assert recibido.message_id == "<reserva_confirmada.cita-e2e.email@clinica.example>", "misma clave, mismo id"
    n.refresh_from_db()
    assert (n.estado, n.intentos, n.ultimo_error) == (EstadoNotificacion.ENVIADA, 1, "")

    # "It never arrived": a copy under its own key, sent once more.
    copia = reenviar_notificacion(actor=recepcionista.user, notificacion_id=n.pk)
    ejecutar_worker()
    ejecutar_worker()
    recibidos = servidor_smtp.para(EMAIL)
    assert len(recibidos) == 2
    assert recibidos[1].asunto == recibidos[0].asunto and recibidos[1].cuerpo == recibidos[0].cuerpo
    assert recibidos[1].message_id != recibidos[0].message_id
    copia.refresh_from_db()
    assert copia.estado == EstadoNotificacion.ENVIADA
    assert Notificacion.objects.get(pk=n.pk).estado == EstadoNotificacion.ENVIADA
