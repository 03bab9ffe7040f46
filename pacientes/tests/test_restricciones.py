"""The database guards ``Cliente``'s invariants even when the services are bypassed.

Every attempt goes around ``pacientes/validaciones.py`` (``objects.create``, ``QuerySet.update``,
``bulk_create``, raw SQL) and must be refused by the named constraint, whose code
``error_de_integridad`` then reports.
"""


import pytest
from django.utils import timezone
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from pruebas.soporte import rechazado_por
from pruebas.soporte import rut_valido as rut
from nucleo.servicios import error_de_integridad, operacion
from pacientes.models import Cliente

pytestmark = pytest.mark.django_db


RUT_ANA = rut(12345678)  # 12345678-5
RUT_BETO = rut(7654321)  # 7654321-6
CELULAR_ANA = "+56961234567"
CELULAR_BETO = "+56961234568"


def insertar_sql(**campos):
    """INSERT straight into ``pacientes_cliente``: no model, no field normalisation."""
    valores = {"nombre_completo": "Ana Pérez", "email": "", "telefono": "", "rut": "", "alergias": "", "activo": True}
    valores.update(campos)
    columnas = ", ".join(valores)
    marcas = ", ".join(["%s"] * len(valores))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO pacientes_cliente ({columnas}, creado, actualizado) "
            f"VALUES ({marcas}, now(), now()) RETURNING id",
            list(valores.values()),
        )
        return cursor.fetchone()[0]


def actualizar_sql(pk, columna, valor):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE pacientes_cliente SET {columna} = %s WHERE id = %s", [valor, pk])


def crear(**campos):
    campos.setdefault("nombre_completo", "Ana Pérez")
    return Cliente.objects.create(**campos)


def dato(campo, valor):
    """``{campo: valor}``; a phone goes confirmed: only confirmed numbers are unique (issue 14)."""
    return {campo: valor, "telefono_verificado_en": timezone.now()} if campo == "telefono" else {campo: valor}


# Duplicates among active patients: RUT, e-mail, phone ----------------------------------------

DUPLICADOS = [
    pytest.param("rut", RUT_ANA, RUT_BETO, "cliente_rut_activo_unico", "rut_duplicado", id="rut"),
    pytest.param(
        "email", "ana@example.cl", "beto@example.cl", "cliente_email_activo_unico", "email_duplicado", id="email"
    ),
    pytest.param(
        "telefono", CELULAR_ANA, CELULAR_BETO, "cliente_telefono_activo_unico", "telefono_duplicado", id="telefono"
    ),
]


@pytest.mark.parametrize(("campo", "valor", "otro", "restriccion", "code"), DUPLICADOS)
def test_duplicado_entre_activos_rechazado_con_create(campo, valor, otro, restriccion, code):
    crear(**dato(campo, valor))
    with rechazado_por(restriccion, code):
        crear(nombre_completo="Otra Persona", **dato(campo, valor))
    assert Cliente.objects.count() == 1


@pytest.mark.parametrize(("campo", "valor", "otro", "restriccion", "code"), DUPLICADOS)
def test_duplicado_entre_activos_rechazado_con_update(campo, valor, otro, restriccion, code):
    crear(**dato(campo, valor))
    segundo = crear(nombre_completo="Otra Persona", **dato(campo, otro))
    with rechazado_por(restriccion, code):
        Cliente.objects.filter(pk=segundo.pk).update(**dato(campo, valor))
    segundo.refresh_from_db()
    assert str(getattr(segundo, campo)) == otro


@pytest.mark.parametrize(("campo", "valor", "otro", "restriccion", "code"), DUPLICADOS)
def test_duplicado_entre_activos_rechazado_con_bulk_create(campo, valor, otro, restriccion, code):
    with rechazado_por(restriccion, code):
        Cliente.objects.bulk_create(
            [Cliente(nombre_completo="Ana Pérez", **dato(campo, valor)), Cliente(nombre_completo="Otra", **dato(campo, valor))]
        )
    assert not Cliente.objects.exists()


@pytest.mark.parametrize(("campo", "valor", "otro", "restriccion", "code"), DUPLICADOS)
def test_duplicado_entre_activos_rechazado_con_sql(campo, valor, otro, restriccion, code):
    insertar_sql(**dato(campo, valor))
    with rechazado_por(restriccion, code):
        insertar_sql(nombre_completo="Otra Persona", **dato(campo, valor))


@pytest.mark.parametrize(("campo", "valor", "otro", "restriccion", "code"), DUPLICADOS)
def test_duplicado_permitido_si_el_anterior_esta_inactivo(campo, valor, otro, restriccion, code):
    crear(activo=False, **dato(campo, valor))
    crear(nombre_completo="Otra Persona", **dato(campo, valor))
    insertar_sql(nombre_completo="Tercera Persona", activo=False, **dato(campo, valor))
    assert Cliente.objects.filter(**{campo: valor}).count() == 3


@pytest.mark.parametrize(("campo", "valor", "otro", "restriccion", "code"), DUPLICADOS)
def test_reactivar_duplicado_rechazado(campo, valor, otro, restriccion, code):
    antiguo = crear(activo=False, **dato(campo, valor))
    crear(nombre_completo="Otra Persona", **dato(campo, valor))
    with rechazado_por(restriccion, code):
        Cliente.objects.filter(pk=antiguo.pk).update(activo=True)
    with rechazado_por(restriccion, code):
        actualizar_sql(antiguo.pk, "activo", True)


def test_telefono_sin_confirmar_no_bloquea_a_nadie():
    """Issue 14: an unconfirmed number may be shared (a stranger's claim blocks nobody); a
    confirmed one is unique among active patients; changing a number drops its confirmation
    (trigger ``cliente_telefono_desconfirmar``), so the update below does not collide."""
    crear(telefono=CELULAR_ANA)
    insertar_sql(nombre_completo="Extraño", telefono=CELULAR_ANA)
    dueno = crear(nombre_completo="Dueña", **dato("telefono", CELULAR_ANA))
    with rechazado_por("cliente_telefono_activo_unico", "telefono_duplicado"):
        crear(nombre_completo="Otra Persona", **dato("telefono", CELULAR_ANA))
    beto = crear(nombre_completo="Beto Soto", **dato("telefono", CELULAR_BETO))
    Cliente.objects.filter(pk=beto.pk).update(telefono=CELULAR_ANA)
    beto.refresh_from_db()
    assert str(beto.telefono) == CELULAR_ANA and beto.telefono_verificado_en is None
    assert Cliente.objects.filter(telefono=CELULAR_ANA, telefono_verificado_en__isnull=False).get() == dueno
    with rechazado_por("cliente_telefono_verificado_con_numero", "telefono_verificado_sin_numero"):
        crear(nombre_completo="Sin Número", telefono_verificado_en=timezone.now())


def test_campos_vacios_no_cuentan_como_duplicados():
    """Walk-in patients without RUT, e-mail or phone may be many."""
    crear(nombre_completo="Ana Pérez")
    crear(nombre_completo="Beto Soto")
    insertar_sql(nombre_completo="Carla Díaz")
    assert Cliente.objects.filter(activo=True, rut="", email="", telefono="").count() == 3


# E-mail: lower-case check and unique index on lower(email) ---------------------------------


@pytest.mark.parametrize("email", ["Ana@Example.cl", "ANA@EXAMPLE.CL", " ana@example.cl", "ana@example.cl "])
def test_email_no_normalizado_rechazado(email):
    with rechazado_por("cliente_email_normalizado", "email_invalido"):
        crear(email=email)
    with rechazado_por("cliente_email_normalizado", "email_invalido"):
        insertar_sql(email=email)
    ana = crear(email="ana@example.cl")
    with rechazado_por("cliente_email_normalizado", "email_invalido"):
        Cliente.objects.filter(pk=ana.pk).update(email=email)
    with rechazado_por("cliente_email_normalizado", "email_invalido"):
        Cliente.objects.bulk_create([Cliente(nombre_completo="Beto Soto", email=email)])


def test_email_duplicado_en_otra_caja_rechazado_con_sql():
    """'ANA@…' next to 'ana@…': the lower-case check stops it first; without that check the
    unique index on lower(email) still does (the check is dropped inside a rolled-back savepoint)."""
    insertar_sql(email="ana@example.cl")
    with rechazado_por("cliente_email_normalizado", "email_invalido"):
        insertar_sql(nombre_completo="Otra Persona", email="ANA@Example.cl")

    class Deshacer(Exception):
        pass

    with pytest.raises(Deshacer):
        with transaction.atomic():
            with connection.cursor() as cursor:
                # ALTER TABLE refuses to run while deferred foreign-key checks are pending.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE pacientes_cliente DROP CONSTRAINT cliente_email_normalizado")
            with rechazado_por("cliente_email_activo_unico", "email_duplicado"):
                insertar_sql(nombre_completo="Otra Persona", email="ANA@Example.cl")
            raise Deshacer
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    # The check is back.
    with rechazado_por("cliente_email_normalizado", "email_invalido"):
        insertar_sql(nombre_completo="Otra Persona", email="ANA@Example.cl")


# RUT and phone in normal form --------------------------------------------------------------


@pytest.mark.parametrize(
    "valor",
    [
        "12.345.678-5",
        "123456785",
        "10000013-k",  # lower-case k
        "012345678-5",  # leading zero
        " 12345678-5",
        "12345678-",
        "abc",
    ],
)
def test_rut_no_normalizado_rechazado(valor):
    with rechazado_por("cliente_rut_normalizado", "rut_invalido"):
        insertar_sql(rut=valor)
    with rechazado_por("cliente_rut_normalizado", "rut_invalido"):
        crear(rut=valor)
    ana = crear(rut=RUT_ANA)
    with rechazado_por("cliente_rut_normalizado", "rut_invalido"):
        Cliente.objects.filter(pk=ana.pk).update(rut=valor)
    with rechazado_por("cliente_rut_normalizado", "rut_invalido"):
        actualizar_sql(ana.pk, "rut", valor)


@pytest.mark.parametrize("valor", ["12345678-5", "10000013-K", "7654321-6"])
def test_rut_normalizado_aceptado_con_sql(valor):
    pk = insertar_sql(rut=valor)
    assert Cliente.objects.get(pk=pk).rut == valor


@pytest.mark.parametrize(
    "valor", ["961234567", "+56 9 6123 4567", "56961234567", "+56-961234567", "+056961234567", "abc"]
)
def test_telefono_no_e164_rechazado_con_sql(valor):
    with rechazado_por("cliente_telefono_e164", "telefono_invalido"):
        insertar_sql(telefono=valor)
    ana = insertar_sql(telefono=CELULAR_ANA)
    with rechazado_por("cliente_telefono_e164", "telefono_invalido"):
        actualizar_sql(ana, "telefono", valor)


def test_telefono_invalido_por_el_orm_rechazado():
    """The phone field formats what it can parse; what it cannot still meets the check."""
    with rechazado_por("cliente_telefono_e164", "telefono_invalido"):
        crear(telefono="abc")
    ana = crear(telefono=CELULAR_ANA)
    with rechazado_por("cliente_telefono_e164", "telefono_invalido"):
        Cliente.objects.filter(pk=ana.pk).update(telefono="abc")


def test_nombre_vacio_rechazado():
    with rechazado_por("cliente_nombre_obligatorio", "nombre_obligatorio"):
        crear(nombre_completo="")
    with rechazado_por("cliente_nombre_obligatorio", "nombre_obligatorio"):
        insertar_sql(nombre_completo="")
    ana = crear()
    with rechazado_por("cliente_nombre_obligatorio", "nombre_obligatorio"):
        Cliente.objects.filter(pk=ana.pk).update(nombre_completo="")


# nucleo.servicios: the constraint's IntegrityError becomes its ValidationError -------------


def test_operacion_convierte_rut_duplicado_y_no_guarda_nada():
    crear(rut=RUT_ANA)
    with pytest.raises(ValidationError) as exc:
        with operacion("prueba_rut_duplicado"):
            crear(nombre_completo="Beto Soto", email="beto@example.cl")
            crear(nombre_completo="Carla Díaz", rut=RUT_ANA)
    assert exc.value.code == "rut_duplicado"
    assert exc.value.messages == ["Ya existe un paciente activo con ese RUT."]
    assert isinstance(exc.value.__cause__, IntegrityError)
    assert list(Cliente.objects.values_list("rut", flat=True)) == [RUT_ANA]


@pytest.mark.parametrize(
    ("campo", "valor", "code"),
    [("email", "ana@example.cl", "email_duplicado"), ("telefono", CELULAR_ANA, "telefono_duplicado")],
)
def test_operacion_convierte_otros_duplicados(campo, valor, code):
    crear(**dato(campo, valor))
    with pytest.raises(ValidationError) as exc:
        with operacion("prueba_duplicado"):
            crear(nombre_completo="Beto Soto", **dato(campo, valor))
    assert exc.value.code == code
    assert Cliente.objects.count() == 1


def test_operacion_sin_error_guarda():
    with operacion("prueba_ok"):
        crear(rut=RUT_ANA)
    assert Cliente.objects.filter(rut=RUT_ANA).exists()


def test_error_de_integridad_sin_restriccion_conocida_es_generico():
    """A NOT NULL violation has no named constraint: generic Spanish message, code 'integridad'."""
    with pytest.raises(IntegrityError) as exc:
        with transaction.atomic():
            insertar_sql(nombre_completo=None)
    error = error_de_integridad(exc.value)
    assert error.code == "integridad"
    assert "No se pudo guardar" in error.messages[0]
