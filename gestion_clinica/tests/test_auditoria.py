"""Auditoría (staff site) and its selector (``nucleo.selectors.pagina_de_cambios``)."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from citas.services import crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from gestion_clinica.tests.conftest import cliente_de
from nucleo.selectors import modelos_auditados, pagina_de_cambios
from personal.models import Perfil, Rol
from personal.services import crear_personal, desactivar_personal

URL = reverse("gestion:auditoria")


@pytest.fixture
def admin_cliente(administrador):
    return cliente_de(administrador.user)


def nuevo_miembro(actor, n=1, **extra):
    return crear_personal(
        actor=actor, username=f"nuevo{n}", nombre="Nora", apellido=f"Nueva{n}", email=f"nuevo{n}@clinica.example",
        rol=Rol.RECEPCION, **extra,
    )


def filas(respuesta):
    return list(respuesta.context["pagina"].object_list)


def mensajes(respuesta):
    return [str(m) for m in respuesta.context["messages"]]


# Who may ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["recepcion", "dentista", "dentista_inactivo", "paciente"])
def test_otros_roles_reciben_403(clientes, persona):
    assert clientes[persona].get(URL).status_code == 403


def test_anonimo_va_al_inicio_de_sesion(client):
    respuesta = client.get(URL)
    assert respuesta.status_code == 302
    assert respuesta.url == f"{reverse('gestion:entrar')}?next={URL}"


def test_superusuario_entra(clientes):
    assert clientes["superusuario"].get(URL).status_code == 200


# What it shows ------------------------------------------------------------------------------------


def test_muestra_quien_que_registro_y_servicio(admin_cliente, administrador):
    perfil = nuevo_miembro(administrador.user, especialidad="Caja")
    respuesta = admin_cliente.get(URL, {"modelo": "personal.Perfil", "registro_id": perfil.pk})
    [fila] = filas(respuesta)
    assert fila.accion == "Creación"
    assert fila.usuario_nombre == "Ana Admin"
    assert fila.modelo_nombre == "Miembro del personal"
    assert fila.registro_id == str(perfil.pk)
    assert fila.servicio == "crear_personal"
    assert ("especialidad", "Caja") in {(c.campo, c.despues) for c in fila.cambios}
    assert f"Miembro del personal n.º {perfil.pk}" in respuesta.text
    assert "crear_personal" in respuesta.text


def test_cambio_como_antes_y_despues_en_hora_de_santiago(admin_cliente, administrador, dentista):
    desactivar_personal(actor=administrador.user, perfil_id=dentista.pk)
    respuesta = admin_cliente.get(URL, {"modelo": "personal.Perfil", "registro_id": dentista.pk})
    [fila] = [f for f in filas(respuesta) if f.accion == "Cambio"]
    assert [(c.campo, c.antes, c.despues) for c in fila.cambios] == [("activo", "sí", "no")]
    assert "activo:</span> sí → no" in respuesta.text
    assert fila.servicio == "desactivar_personal"
    santiago = fila.cuando.astimezone(ZoneInfo("America/Santiago"))
    assert santiago.strftime("%d-%m-%Y %H:%M:%S") in respuesta.text


def test_nunca_muestra_claves(admin_cliente, administrador):
    perfil = nuevo_miembro(administrador.user)
    user = perfil.user
    user.set_password("una-clave-muy-secreta")
    user.save()
    respuesta = admin_cliente.get(URL, {"modelo": "cuentas.UsuarioAuditado", "registro_id": user.pk})
    assert filas(respuesta)
    for fila in filas(respuesta):
        assert all("password" not in c.campo.lower() and "contraseña" not in c.campo.lower() for c in fila.cambios)
    assert "una-clave-muy-secreta" not in respuesta.text
    assert "md5$" not in respuesta.text and "pbkdf2" not in respuesta.text


def test_paciente_enlaza_a_su_ficha(admin_cliente):
    user = registrar_paciente(1)
    respuesta = admin_cliente.get(URL, {"modelo": "pacientes.Cliente"})
    assert filas(respuesta) and all(f.es_paciente for f in filas(respuesta))
    assert f'href="/gestion/pacientes/{user.cliente.pk}/"' in respuesta.text


def test_otros_registros_sin_enlace_a_pacientes(admin_cliente, administrador):
    nuevo_miembro(administrador.user)
    respuesta = admin_cliente.get(URL, {"modelo": "personal.Perfil"})
    assert not re.search(r'href="/gestion/pacientes/\d+/"', respuesta.text)


def test_cambios_sin_actor_son_del_sistema(admin_cliente, dentista):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE personal_perfil SET especialidad = 'SQL' WHERE id = %s", [dentista.pk])
    respuesta = admin_cliente.get(URL, {"modelo": "personal.Perfil", "registro_id": dentista.pk})
    fila = filas(respuesta)[0]
    assert fila.usuario_nombre == "Sistema" and fila.servicio == ""
    assert [(c.campo, c.antes, c.despues) for c in fila.cambios] == [("especialidad", "", "SQL")]


def test_actor_eliminado(admin_cliente, administrador, superusuario):
    otro = nuevo_miembro(superusuario)
    uid = superusuario.pk
    get_user_model().objects.filter(pk=uid).delete()
    respuesta = admin_cliente.get(URL, {"modelo": "personal.Perfil", "registro_id": otro.pk})
    assert filas(respuesta)[0].usuario_nombre == f"Usuario n.º {uid} (eliminado)"


def test_lista_vacia(admin_cliente):
    respuesta = admin_cliente.get(URL, {"registro_id": 987654321})
    assert "No hay cambios que coincidan con los filtros." in respuesta.text


def test_modelos_en_castellano():
    nombres = dict(modelos_auditados())
    assert nombres["pacientes.Cliente"] == "Paciente"
    assert nombres["personal.Perfil"] == "Miembro del personal"
    assert nombres["citas.Cita"] == "Cita"
    assert nombres["cuentas.UsuarioAuditado"] == "Usuario"


# Filters --------------------------------------------------------------------------------------------


def test_filtro_por_usuario(admin_cliente, administrador, recepcionista, dentista, manana_10):
    nuevo_miembro(administrador.user)
    crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    respuesta = admin_cliente.get(URL, {"usuario": recepcionista.user.pk})
    assert filas(respuesta)
    assert {f.usuario_nombre for f in filas(respuesta)} == {"Pedro Rojas"}
    assert {f.modelo for f in filas(respuesta)} == {"citas.Cita"}


def test_filtro_por_modelo_y_registro(admin_cliente, administrador):
    a = nuevo_miembro(administrador.user, 1)
    nuevo_miembro(administrador.user, 2)
    respuesta = admin_cliente.get(URL, {"modelo": "personal.Perfil"})
    assert {f.modelo for f in filas(respuesta)} == {"personal.Perfil"}
    respuesta = admin_cliente.get(URL, {"registro_id": a.pk, "modelo": "personal.Perfil"})
    assert {f.registro_id for f in filas(respuesta)} == {str(a.pk)}


def test_filtro_por_fechas_en_santiago(admin_cliente, administrador):
    perfil = nuevo_miembro(administrador.user)
    hoy = timezone.localdate()
    base = {"modelo": "personal.Perfil", "registro_id": perfil.pk}
    assert len(filas(admin_cliente.get(URL, {**base, "desde": hoy, "hasta": hoy}))) == 1
    ayer = hoy - datetime.timedelta(days=1)
    assert filas(admin_cliente.get(URL, {**base, "hasta": ayer})) == []
    assert filas(admin_cliente.get(URL, {**base, "desde": hoy + datetime.timedelta(days=1)})) == []


def test_limites_del_dia_en_cambio_de_hora(admin_cliente, administrador):
    """Days are Santiago days, even when 00:00 does not exist (6 September 2026, clocks go 00:00 → 01:00)."""
    antes = nuevo_miembro(administrador.user, 1)
    despues = nuevo_miembro(administrador.user, 2)
    tabla = Perfil.pgh_event_models["insert"]._meta.db_table
    with connection.cursor() as cursor:
        # 23:30 on the 5th (UTC-4) and 01:30 on the 6th (UTC-3).
        for perfil, utc in ((antes, "2026-09-06 03:30+00"), (despues, "2026-09-06 04:30+00")):
            cursor.execute(f'UPDATE "{tabla}" SET pgh_created_at = %s WHERE pgh_obj_id = %s', [utc, perfil.pk])
    respuesta = admin_cliente.get(URL, {"modelo": "personal.Perfil", "desde": "2026-09-06", "hasta": "2026-09-06"})
    assert [f.registro_id for f in filas(respuesta)] == [str(despues.pk)]
    assert "06-09-2026 01:30:00" in respuesta.text
    respuesta = admin_cliente.get(URL, {"modelo": "personal.Perfil", "desde": "2026-09-05", "hasta": "2026-09-05"})
    assert [f.registro_id for f in filas(respuesta)] == [str(antes.pk)]
    assert "05-09-2026 23:30:00" in respuesta.text


@pytest.mark.parametrize("consulta, campo", [
    ({"modelo": "auth.Nada"}, "Tipo de registro"),
    ({"usuario": "abc"}, "Quién"),
    ({"usuario": "999999999"}, "Quién"),
    ({"desde": "2026-13-45"}, "Desde"),
    ({"hasta": "ayer"}, "Hasta"),
    ({"desde": "2026-05-02", "hasta": "2026-05-01"}, "Hasta"),
    ({"registro_id": "uno"}, "N.º de registro"),
    ({"registro_id": "-4"}, "N.º de registro"),
    ({"registro_id": str(10**30)}, "N.º de registro"),
])
def test_filtros_malos_se_ignoran_con_aviso(admin_cliente, administrador, consulta, campo):
    nuevo_miembro(administrador.user)
    respuesta = admin_cliente.get(URL, consulta)
    assert respuesta.status_code == 200
    assert any(m.startswith(f"Se ignoró el filtro «{campo}»") for m in mensajes(respuesta)), mensajes(respuesta)
    assert filas(respuesta), "el filtro malo se ignora: se ve todo"


@pytest.mark.parametrize("consulta", [
    {"pagina": "abc"}, {"pagina": "-1"}, {"pagina": "99999"}, {"pagina": str(10**40)},
    {"desde": "9999-12-31", "hasta": "9999-12-31"}, {"desde": "0001-01-01"}, {"modelo": "\x00"},
    {"usuario": "1\x00"}, {"registro_id": "1\x00"}, {"otra": "cosa"},
])
def test_basura_no_da_500(admin_cliente, consulta):
    assert admin_cliente.get(URL, consulta).status_code == 200


def test_paginacion_conserva_filtros(admin_cliente, administrador):
    for n in range(50):
        nuevo_miembro(administrador.user, n)
    respuesta = admin_cliente.get(URL, {"modelo": "personal.Perfil"})
    assert respuesta.context["pagina"].paginator.count == 51  # Ana (fixture) + 50
    assert len(filas(respuesta)) == 50
    assert "Página 1 de 2" in respuesta.text
    assert "?modelo=personal.Perfil&amp;pagina=2" in respuesta.text
    segunda = admin_cliente.get(URL, {"modelo": "personal.Perfil", "pagina": 2})
    assert segunda.context["pagina"].number == 2 and len(filas(segunda)) == 1
    assert "?modelo=personal.Perfil&amp;pagina=1" in segunda.text
    pagina = pagina_de_cambios(modelo="personal.Perfil", por_pagina=20, pagina=3)
    assert pagina.number == 3 and len(pagina.object_list) == 11


# Fixed number of queries -------------------------------------------------------------------------------


def poblar(admin, n):
    """n members created by n different administrators: n distinct actors on one page."""
    actores = [admin]
    for i in range(n - 1):
        actores.append(nuevo_miembro(admin, 100 + i, es_superusuario=False).user)
        Perfil.objects.filter(user=actores[-1]).update(rol=Rol.ADMINISTRADOR)
    for i, actor in enumerate(actores):
        nuevo_miembro(actor, 500 + i)


@pytest.mark.parametrize("n", [1, 30])
def test_selector_hace_tres_consultas(administrador, django_assert_num_queries, n):
    """count + page, then one per model whose people or records the page names (here users,
    actors included, and staff profiles), whatever the number of rows."""
    poblar(administrador.user, n)
    with django_assert_num_queries(4):
        pagina = pagina_de_cambios()
    assert len({f.usuario_id for f in pagina.object_list}) >= min(n, 2)


@pytest.mark.parametrize("n", [1, 30])
def test_vista_hace_las_mismas_consultas_con_poca_o_mucha_data(admin_cliente, administrador,
                                                                django_assert_num_queries, n):
    poblar(administrador.user, n)
    admin_cliente.get(URL)  # session warm-up is not what we pin
    # session + user + perfil + (filter form: user choices) + count + page
    # + the names on the page: users (actors and logins) and staff profiles, one query each
    # + the second factor's device (OTPMiddleware)
    # Issue 16: the staff profile comes in the user's query (cuentas.autenticacion), one less.
    with django_assert_num_queries(8):
        respuesta = admin_cliente.get(URL, {"desde": "2020-01-01"})
    assert respuesta.status_code == 200
