"""The dentist's services on the record: the history (compare-and-set on its version, no lost
update between two dentists, every version with who and when) and progress notes (drafts are
their author's, signing is final, addenda only on signed notes, FDI teeth)."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from citas.models import EstadoCita
from ficha.antecedentes import actualizar_antecedentes, antecedentes_de, historial_de_antecedentes
from ficha.evoluciones import (
    agregar_adenda,
    crear_evolucion,
    descartar_borrador,
    editar_borrador,
    firmar_evolucion,
    interpretar_dientes,
)
from ficha.models import AccesoFicha, Antecedentes, Evolucion
from pacientes.models import Cliente
from pacientes.services import actualizar_cliente
from personal.models import Rol
from pruebas.soporte import huella_bd


def _codigos(error):
    if hasattr(error, "error_dict"):
        return {e.code for lista in error.error_dict.values() for e in lista}
    return {e.code for e in error.error_list}


def _rechaza(codigo, funcion, **kwargs):
    antes = huella_bd()
    with pytest.raises(ValidationError) as exc:
        funcion(**kwargs)
    assert codigo in _codigos(exc.value), exc.value
    assert huella_bd() == antes
    return exc.value


# Antecedentes ---------------------------------------------------------------------------------


def test_antecedentes_se_crean_y_se_actualizan_sobre_su_version(paciente_ficha, tratante):
    primero = actualizar_antecedentes(actor=tratante.user, cliente_id=paciente_ficha.pk, version=0,
                                      enfermedades="Hipertensión", alergias="Penicilina", anticoagulantes=True,
                                      anticoagulantes_detalle="Acenocumarol")
    assert primero.version == 1 and primero.actualizado_por == tratante.user
    assert Cliente.objects.get(pk=paciente_ficha.pk).alergias == "Penicilina"  # in step with the seed's column
    segundo = actualizar_antecedentes(actor=tratante.user, cliente_id=paciente_ficha.pk, version=1,
                                      enfermedades="Hipertensión, diabetes", alergias="Penicilina",
                                      embarazo="no_aplica", tabaquismo="ex")
    assert (segundo.version, segundo.enfermedades, segundo.anticoagulantes) == (2, "Hipertensión, diabetes", False)
    # A form opened on version 1 is refused now: nothing overwritten.
    error = _rechaza("antecedentes_cambiaron", actualizar_antecedentes, actor=tratante.user,
                     cliente_id=paciente_ficha.pk, version=1, enfermedades="Nada")
    assert error.messages == ["Otra persona actualizó los antecedentes mientras usted editaba. "
                              "Revise los cambios y guarde de nuevo."]
    # A first save when reception already created the row (allergies) is stale too.
    otro = Cliente.objects.create(nombre_completo="Luis Díaz", alergias="Látex")
    AccesoFicha.objects.create(cliente=otro, dentista=tratante, motivo="Tratamiento")
    _rechaza("antecedentes_cambiaron", actualizar_antecedentes, actor=tratante.user, cliente_id=otro.pk, version=0,
             alergias="")


def test_recepcion_cambia_alergias_y_el_formulario_abierto_queda_viejo(paciente_ficha, tratante):
    actualizar_antecedentes(actor=tratante.user, cliente_id=paciente_ficha.pk, version=0, alergias="AINES")
    Cliente.objects.filter(pk=paciente_ficha.pk).update(alergias="AINES, látex")  # reception, another screen
    _rechaza("antecedentes_cambiaron", actualizar_antecedentes, actor=tratante.user, cliente_id=paciente_ficha.pk,
             version=1, alergias="AINES")
    assert antecedentes_de(paciente_ficha.pk).alergias == "AINES, látex"


@pytest.mark.parametrize("campos,codigo", [
    ({"anticoagulantes_detalle": "Warfarina"}, "anticoagulante_sin_marcar"),
    ({"embarazo": "quizas"}, "opcion_invalida"),
    ({"tabaquismo": "mucho"}, "opcion_invalida"),
    ({"enfermedades": "x" * 5001}, "texto_largo"),
    ({"medicamentos": "a\x00b"}, "caracter_invalido"),
])
def test_antecedentes_con_datos_malos(paciente_ficha, tratante, campos, codigo):
    error = _rechaza(codigo, actualizar_antecedentes, actor=tratante.user, cliente_id=paciente_ficha.pk,
                     version=0, **campos)
    assert all(m and m[0].isupper() for m in error.messages)


def test_solo_un_dentista_con_acceso_escribe_antecedentes(paciente_ficha, ajeno, crear_personal):
    for actor in (ajeno.user, crear_personal(rol=Rol.RECEPCION).user, crear_personal(rol=Rol.ADMINISTRADOR).user):
        _rechaza("sin_acceso", actualizar_antecedentes, actor=actor, cliente_id=paciente_ficha.pk, version=0,
                 enfermedades="Asma")
    with pytest.raises(Cliente.DoesNotExist):
        actualizar_antecedentes(actor=ajeno.user, cliente_id=987654321, version=0)


def test_el_historial_dice_quien_cuando_y_que_cambio(paciente_ficha, tratante, crear_personal, dar_cita):
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios", nombre="Pablo", apellido="Ríos")
    dar_cita(colega, paciente_ficha, dias=-2)
    actualizar_antecedentes(actor=tratante.user, cliente_id=paciente_ficha.pk, version=0, enfermedades="Asma")
    actualizar_antecedentes(actor=colega.user, cliente_id=paciente_ficha.pk, version=1, enfermedades="Asma",
                            tabaquismo="si")
    versiones = historial_de_antecedentes(paciente_ficha.pk)
    assert [(v.version, v.quien) for v in versiones] == [(2, "Pablo Ríos"), (1, "Camila Soto")]
    assert versiones[0].cambios == [("tabaquismo", "Sin registrar", "Fuma")]
    assert versiones[1].cambios == [("enfermedades y condiciones", None, "Asma")]
    assert versiones[0].fecha >= versiones[1].fecha


@pytest.mark.django_db(transaction=True)
def test_dos_dentistas_guardan_a_la_vez_y_ninguno_pierde_lo_suyo(paciente_ficha, tratante, crear_personal, dar_cita):
    """Two dentists open version 1 and save at the same moment, each on its own connection:
    exactly one wins; the other is told (``antecedentes_cambiaron``) and can save again on top
    of the winner's version; both versions stay in the history."""
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios", nombre="Pablo", apellido="Ríos")
    dar_cita(colega, paciente_ficha, dias=-2)
    actualizar_antecedentes(actor=tratante.user, cliente_id=paciente_ficha.pk, version=0, enfermedades="Asma")
    barrera = threading.Barrier(2)
    resultados = {}

    def guardar(quien, actor, texto):
        try:
            barrera.wait(timeout=10)
            actualizar_antecedentes(actor=actor, cliente_id=paciente_ficha.pk, version=1, enfermedades=texto)
            resultados[quien] = "ok"
        except ValidationError as error:
            resultados[quien] = ",".join(sorted(_codigos(error)))
        finally:
            connection.close()

    hilos = [threading.Thread(target=guardar, args=("a", tratante.user, "Asma, diabetes")),
             threading.Thread(target=guardar, args=("b", colega.user, "Asma, hipertensión"))]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(timeout=30)
    assert sorted(resultados.values()) == ["antecedentes_cambiaron", "ok"], resultados
    ganador = "a" if resultados["a"] == "ok" else "b"
    perdedor_actor, perdedor_texto = ((colega.user, "Asma, hipertensión") if ganador == "a"
                                      else (tratante.user, "Asma, diabetes"))
    guardado = Antecedentes.objects.get(cliente=paciente_ficha)
    assert guardado.version == 2
    # The loser reviews and saves again on version 2: both texts are in the history.
    actualizar_antecedentes(actor=perdedor_actor, cliente_id=paciente_ficha.pk, version=2,
                            enfermedades=perdedor_texto)
    textos = [c[2] for v in historial_de_antecedentes(paciente_ficha.pk) for c in v.cambios]
    assert "Asma, diabetes" in textos and "Asma, hipertensión" in textos


# Evoluciones ----------------------------------------------------------------------------------


@pytest.mark.parametrize("texto,esperado", [
    ("16, 26 y 11", [16, 26, 11]), ("16 26 11", [16, 26, 11]), ("16;26/11", [16, 26, 11]), ("", []),
    (" 85 , 51 ", [85, 51]), ("16, 16", [16]), ("11 Y 21", [11, 21]),
])
def test_dientes_fdi(texto, esperado):
    assert interpretar_dientes(texto) == esperado


@pytest.mark.parametrize("texto", ["19", "0", "abc", "16, 49", "56", "1 6", "١٦", "16,,x", "-11", "11.5"])
def test_dientes_que_no_existen(texto):
    with pytest.raises(ValidationError) as exc:
        interpretar_dientes(texto)
    assert exc.value.code == "diente_invalido"
    assert "no es un diente" in exc.value.messages[0] and "FDI" in exc.value.messages[0]


def test_borrador_editar_firmar_y_adenda(paciente_ficha, tratante, crear_personal, dar_cita):
    cita = dar_cita(tratante, paciente_ficha, dias=0, hora=9, estado=EstadoCita.EN_ESPERA)
    nota = crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, procedimiento="Obturación",
                           dientes="16 y 26", texto="Resina", cita_id=cita.pk)
    assert (nota.dientes, nota.cita_id, nota.firmada, nota.atendido_el) == ([16, 26], cita.pk, False,
                                                                             timezone.localdate())
    editar_borrador(actor=tratante.user, evolucion_id=nota.pk, procedimiento="Obturación", dientes="16",
                    texto="Resina compuesta")
    firmada = firmar_evolucion(actor=tratante.user, evolucion_id=nota.pk)
    assert firmada.firmada
    _rechaza("evolucion_firmada", firmar_evolucion, actor=tratante.user, evolucion_id=nota.pk)
    _rechaza("evolucion_firmada", editar_borrador, actor=tratante.user, evolucion_id=nota.pk, texto="x")
    _rechaza("evolucion_firmada", descartar_borrador, actor=tratante.user, evolucion_id=nota.pk)
    # Any dentist of the care team may add an addendum; it is signed at once, by its author.
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios", nombre="Pablo", apellido="Ríos")
    dar_cita(colega, paciente_ficha, dias=-3)
    adenda = agregar_adenda(actor=colega.user, evolucion_id=nota.pk, texto="Era el 17, no el 16.")
    assert (adenda.corrige_id, adenda.dentista_id, adenda.cliente_id, adenda.firmada) == (
        nota.pk, colega.pk, paciente_ficha.pk, True)
    # An addendum to the addendum attaches to the original note.
    otra = agregar_adenda(actor=tratante.user, evolucion_id=adenda.pk, texto="Confirmado: 17.")
    assert otra.corrige_id == nota.pk
    assert Evolucion.objects.get(pk=nota.pk).texto == "Resina compuesta"


def test_solo_el_autor_toca_su_borrador(paciente_ficha, tratante, crear_personal, dar_cita):
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios")
    dar_cita(colega, paciente_ficha, dias=-3)
    nota = crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, texto="Control")
    for servicio, extra in ((editar_borrador, {"texto": "Mío"}), (firmar_evolucion, {}), (descartar_borrador, {})):
        _rechaza("no_es_autor", servicio, actor=colega.user, evolucion_id=nota.pk, **extra)
    descartar_borrador(actor=tratante.user, evolucion_id=nota.pk)
    assert not Evolucion.objects.filter(pk=nota.pk).exists()
    with pytest.raises(Evolucion.DoesNotExist):
        firmar_evolucion(actor=tratante.user, evolucion_id=nota.pk)


def test_adenda_solo_a_una_firmada_y_con_texto(paciente_ficha, tratante):
    nota = crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, texto="Control")
    _rechaza("adenda_de_borrador", agregar_adenda, actor=tratante.user, evolucion_id=nota.pk, texto="Nota")
    firmar_evolucion(actor=tratante.user, evolucion_id=nota.pk)
    _rechaza("adenda_vacia", agregar_adenda, actor=tratante.user, evolucion_id=nota.pk, texto="   ")
    with pytest.raises(Evolucion.DoesNotExist):
        agregar_adenda(actor=tratante.user, evolucion_id=2**70, texto="x")


def test_no_se_firma_vacia_ni_se_escribe_sin_acceso(paciente_ficha, tratante, ajeno, crear_personal):
    nota = crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, texto="  ")
    _rechaza("evolucion_vacia", firmar_evolucion, actor=tratante.user, evolucion_id=nota.pk)
    for actor in (ajeno.user, crear_personal(rol=Rol.RECEPCION).user):
        _rechaza("sin_acceso", crear_evolucion, actor=actor, cliente_id=paciente_ficha.pk, texto="x")
    editar_borrador(actor=tratante.user, evolucion_id=nota.pk, texto="Control sin novedad")
    firmar_evolucion(actor=tratante.user, evolucion_id=nota.pk)
    _rechaza("sin_acceso", agregar_adenda, actor=ajeno.user, evolucion_id=nota.pk, texto="Intruso")


def test_la_cita_de_la_nota_es_del_paciente_y_del_autor(paciente_ficha, tratante, crear_personal, dar_cita):
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios")
    cita_del_colega = dar_cita(colega, paciente_ficha, dias=-3)
    otro = Cliente.objects.create(nombre_completo="Luis Díaz")
    cita_de_otro = dar_cita(tratante, otro, dias=-1)
    cancelada = dar_cita(tratante, paciente_ficha, dias=-2, estado=EstadoCita.CANCELADA)
    for cita_id in (cita_del_colega.pk, cita_de_otro.pk, cancelada.pk, 987654321, 2**70, "abc", -1):
        _rechaza("cita_invalida", crear_evolucion, actor=tratante.user, cliente_id=paciente_ficha.pk, texto="x",
                 cita_id=cita_id)


@pytest.mark.parametrize("campos,codigo", [
    ({"dientes": "19"}, "diente_invalido"),
    ({"dientes": "0"}, "diente_invalido"),
    ({"dientes": "abc"}, "diente_invalido"),
    ({"procedimiento": "x" * 201}, "texto_largo"),
    ({"texto": "a\x00b"}, "caracter_invalido"),
    ({"atendido_el": datetime.date(2999, 1, 1)}, "fecha_futura"),
    ({"atendido_el": datetime.date(1990, 1, 1)}, "fecha_invalida"),
])
def test_evolucion_con_datos_malos(paciente_ficha, tratante, campos, codigo):
    _rechaza(codigo, crear_evolucion, actor=tratante.user, cliente_id=paciente_ficha.pk, **campos)


def _mientras_recepcion_edita(monkeypatch, cambio):
    """Run ``cambio`` after ``actualizar_cliente`` read the patient and before its transaction:
    a dentist's change committed while reception had the form open."""
    import pacientes.services as servicios

    original = servicios.operacion

    def operacion(*args, **kwargs):
        cambio()
        return original(*args, **kwargs)

    monkeypatch.setattr(servicios, "operacion", operacion)


@pytest.mark.parametrize("recepcion,esperado", [
    ({"alergias": None}, "AINES, látex"),
    ({"alergias": "AINES"}, "AINES, látex"),  # the form sent back what it showed: unchanged
    ({"alergias": None, "agregar_alergias": "Penicilina"}, "AINES, látex\nPenicilina"),
    ({"alergias": "AINES", "agregar_alergias": "Penicilina"}, "AINES, látex\nPenicilina"),
    ({"alergias": "Ninguna conocida"}, "Ninguna conocida"),  # reception did change them: theirs wins
])
def test_recepcion_no_pisa_las_alergias_que_el_dentista_cambio(paciente_ficha, tratante, recepcionista,
                                                              monkeypatch, recepcion, esperado):
    actualizar_antecedentes(actor=tratante.user, cliente_id=paciente_ficha.pk, version=0, alergias="AINES")
    _mientras_recepcion_edita(monkeypatch, lambda: actualizar_antecedentes(
        actor=tratante.user, cliente_id=paciente_ficha.pk, version=1, alergias="AINES, látex"))
    actualizar_cliente(actor=recepcionista.user, cliente_id=paciente_ficha.pk,
                       nombre_completo="Ana Pérez Soto Editada", rut=paciente_ficha.rut, email=paciente_ficha.email,
                       fecha_nacimiento=paciente_ficha.fecha_nacimiento, **recepcion)
    paciente_ficha.refresh_from_db()
    assert (paciente_ficha.nombre_completo, paciente_ficha.alergias) == ("Ana Pérez Soto Editada", esperado)
    assert antecedentes_de(paciente_ficha.pk).alergias == esperado
