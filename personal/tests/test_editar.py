"""``editar_personal``: name, role and specialty, audited; never the last administrator, never a
dentist with patients booked ahead."""

import datetime
import threading

import pghistory.models
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from citas.services import asignar_cita, crear_cita_disponible
from personal.models import Perfil, Rol
from personal.services import crear_personal, desactivar_personal, editar_personal
from pruebas.soporte import huella_bd

CLAVE = "Clave-Segura-2026"


def miembro(username, rol=Rol.DENTISTA, *, superusuario=False):
    return crear_personal(
        actor=None, username=username, nombre="Nombre", apellido=username.title(),
        email=f"{username}@clinica.example", rol=rol, password=CLAVE, es_superusuario=superusuario,
    )


def editar(actor, perfil, **cambios):
    datos = {"nombre": perfil.user.first_name, "apellido": perfil.user.last_name, "rol": perfil.rol,
             "especialidad": perfil.especialidad, **cambios}
    return editar_personal(actor=actor, perfil_id=perfil.pk, **datos)


def codigos(error):
    return {e.code for lista in error.error_dict.values() for e in lista} if hasattr(error, "error_dict") else {
        error.code}


@pytest.fixture
def admin(db):
    return miembro("admin", Rol.ADMINISTRADOR)


def test_edita_nombre_rol_y_especialidad_con_auditoria(admin):
    otro = miembro("pedro", Rol.RECEPCION)
    perfil = editar(admin.user, otro, nombre="  Pedro   Pablo ", apellido="Rojas", rol=Rol.DENTISTA,
                    especialidad=" Ortodoncia ")
    perfil.refresh_from_db()
    perfil.user.refresh_from_db()
    assert (perfil.user.first_name, perfil.user.last_name, perfil.rol, perfil.especialidad) == (
        "Pedro Pablo", "Rojas", Rol.DENTISTA, "Ortodoncia")
    eventos = pghistory.models.Events.objects.filter(pgh_context__servicio="editar_personal")
    assert {(e.pgh_obj_model, e.pgh_context["user"]) for e in eventos} == {
        ("personal.Perfil", admin.user.pk), ("cuentas.UsuarioAuditado", admin.user.pk)}
    perfil_cambio = next(e for e in eventos if e.pgh_obj_model == "personal.Perfil")
    assert perfil_cambio.pgh_diff["rol"] == ["recepcion", "dentista"]


def test_sin_cambios_no_escribe(admin):
    otro = miembro("pedro", Rol.RECEPCION)
    antes = huella_bd()
    editar(admin.user, otro)
    assert huella_bd() == antes


@pytest.mark.parametrize("cambios, codigo", [
    ({"rol": "cirujano"}, "rol_invalido"),
    ({"nombre": ""}, "nombre_obligatorio"),
    ({"apellido": "\u200b "}, "nombre_obligatorio"),
    ({"nombre": "x" * 151}, "nombre_largo"),
    ({"especialidad": "e" * 121}, "especialidad_larga"),
])
def test_datos_malos_no_cambian_nada(admin, cambios, codigo):
    otro = miembro("pedro", Rol.RECEPCION)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        editar(admin.user, otro, **cambios)
    assert codigos(error.value) == {codigo}
    assert huella_bd() == antes


def test_solo_un_administrador_edita(admin):
    recepcion = miembro("pedro", Rol.RECEPCION)
    dentista = miembro("dra.soto")
    for actor in (recepcion.user, dentista.user, None):
        with pytest.raises(ValidationError) as error:
            editar(actor, dentista, nombre="Otra")
        assert codigos(error.value) == {"no_autorizado"}
    with pytest.raises(ValidationError) as error:
        editar_personal(actor=admin.user, perfil_id=10**12, nombre="Ana", apellido="Bravo", rol=Rol.DENTISTA)
    assert codigos(error.value) == {"personal_no_encontrado"}


def test_nadie_cambia_su_propio_rol(admin):
    miembro("admin2", Rol.ADMINISTRADOR)
    with pytest.raises(ValidationError) as error:
        editar(admin.user, admin, rol=Rol.RECEPCION)
    assert codigos(error.value) == {"rol_propio"}
    editar(admin.user, admin, nombre="Ana")  # one's own name: fine


def test_el_ultimo_administrador_conserva_su_rol(admin):
    raiz = get_user_model().objects.create_superuser("raiz", "raiz@clinica.example", CLAVE)
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        editar(raiz, admin, rol=Rol.RECEPCION)
    assert codigos(error.value) == {"ultimo_administrador"}
    assert "último administrador" in error.value.error_dict["rol"][0].message
    assert huella_bd() == antes
    segundo = miembro("admin2", Rol.ADMINISTRADOR)
    editar(raiz, admin, rol=Rol.RECEPCION)
    with pytest.raises(ValidationError) as error:
        editar(raiz, segundo, rol=Rol.DENTISTA)
    assert codigos(error.value) == {"ultimo_administrador"}


def test_dentista_con_horas_reservadas_no_deja_de_ser_dentista(admin):
    dentista = miembro("dra.soto")
    recepcion = miembro("pedro", Rol.RECEPCION)
    manana = timezone.localdate() + datetime.timedelta(days=1)
    for hora in (9, 10):
        inicio = datetime.datetime.combine(manana, datetime.time(hora), tzinfo=timezone.get_current_timezone())
        cita = crear_cita_disponible(actor=recepcion.user, dentista_id=dentista.pk, inicio=inicio)
        asignar_cita(actor=recepcion.user, cita_id=cita.pk, paciente_nombre=f"Paciente {hora}")
    inicio = datetime.datetime.combine(manana, datetime.time(11), tzinfo=timezone.get_current_timezone())
    crear_cita_disponible(actor=recepcion.user, dentista_id=dentista.pk, inicio=inicio)  # free: not counted
    antes = huella_bd()
    with pytest.raises(ValidationError) as error:
        editar(admin.user, dentista, rol=Rol.RECEPCION)
    assert codigos(error.value) == {"dentista_con_reservas"}
    assert "tiene 2 horas reservadas" in error.value.error_dict["rol"][0].message
    assert huella_bd() == antes
    editar(admin.user, dentista, especialidad="Endodoncia")  # the rest can still change


def _a_la_vez(trabajos):
    """Run ``trabajos`` ({name: (actor, callable)}) in threads; the first one pauses right after
    its write, with its transaction open, while the others run against it."""
    escribio, resultados = threading.Event(), {}
    nombres = list(trabajos)

    def pausa_tras_escribir(execute, sql, params, many, context):
        resultado = execute(sql, params, many, context)
        if sql.startswith('UPDATE "personal_perfil"'):
            escribio.set()
            threading.Event().wait(0.5)
        return resultado

    def correr(nombre):
        try:
            if nombre == nombres[0]:
                with connection.execute_wrapper(pausa_tras_escribir):
                    trabajos[nombre]()
            else:
                escribio.wait(5)
                trabajos[nombre]()
            resultados[nombre] = "ok"
        except ValidationError as error:
            resultados[nombre] = ",".join(sorted(codigos(error)))
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr, args=(nombre,)) for nombre in nombres]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(10)
    return resultados


def _administradores():
    return list(Perfil.objects.filter(rol=Rol.ADMINISTRADOR, activo=True).values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_dos_degradaciones_a_la_vez_dejan_un_administrador():
    """Two superusers each demote one of the two administrators at the same moment. Without the
    lock both would see "two administrators" and the clinic would be left with none."""
    a = miembro("admin.a", Rol.ADMINISTRADOR)
    b = miembro("admin.b", Rol.ADMINISTRADOR)
    raiz1 = get_user_model().objects.create_superuser("raiz1", "r1@clinica.example", CLAVE)
    raiz2 = get_user_model().objects.create_superuser("raiz2", "r2@clinica.example", CLAVE)
    resultados = _a_la_vez({
        "a": lambda: editar(raiz1, a, rol=Rol.RECEPCION),
        "b": lambda: editar(raiz2, b, rol=Rol.RECEPCION),
    })
    assert resultados == {"a": "ok", "b": "ultimo_administrador"}
    assert _administradores() == [b.pk]


@pytest.mark.django_db(transaction=True)
def test_dos_administradores_que_se_degradan_a_la_vez_dejan_uno():
    a = miembro("admin.a", Rol.ADMINISTRADOR)
    b = miembro("admin.b", Rol.ADMINISTRADOR)
    resultados = _a_la_vez({
        "a": lambda: editar(a.user, b, rol=Rol.DENTISTA),
        "b": lambda: editar(b.user, a, rol=Rol.DENTISTA),
    })
    assert resultados == {"a": "ok", "b": "no_autorizado"}
    assert _administradores() == [a.pk]


@pytest.mark.django_db(transaction=True)
def test_degradar_y_desactivar_a_la_vez_deja_un_administrador():
    a = miembro("admin.a", Rol.ADMINISTRADOR)
    b = miembro("admin.b", Rol.ADMINISTRADOR)
    raiz = get_user_model().objects.create_superuser("raiz", "r@clinica.example", CLAVE)
    resultados = _a_la_vez({
        "degradar": lambda: editar(raiz, a, rol=Rol.RECEPCION),
        "desactivar": lambda: desactivar_personal(actor=raiz, perfil_id=b.pk),
    })
    assert resultados == {"degradar": "ok", "desactivar": "ultimo_administrador"}
    assert _administradores() == [b.pk]


@pytest.mark.django_db(transaction=True)
def test_fallas_en_editar_personal(probar_fallas):
    admin = miembro("admin", Rol.ADMINISTRADOR)
    otro = miembro("pedro", Rol.RECEPCION)
    assert probar_fallas(lambda: editar(admin.user, otro, nombre="Pablo", rol=Rol.DENTISTA)) >= 2
