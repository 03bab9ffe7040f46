"""The odontogram's staff screens (issue 16): the care team charts, everyone else gets the
record's 403, every page writes its read-log row, bad input gets a Spanish message and writes
nothing, the mouth as of a date, the history, the draft note's "realizado en esta atención",
and the ficha page's queries do not grow with the odontogram's history."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from ficha.evoluciones import crear_evolucion
from ficha.models import LecturaFicha, MarcaOdontograma, Seccion, Via
from ficha.odontograma import Cambio, registrar_cambios
from ficha.tests.conftest import ajeno, dar_cita, paciente_ficha, tratante  # noqa: F401  (pytest fixtures)
from gestion_clinica.tests.conftest import cliente_de
from gestion_clinica.tests.test_ficha import CONSULTAS_FICHA
from personal.models import Rol
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db


def _url(cliente_id, nombre="gestion:ficha_odontograma"):
    return reverse(nombre, args=[cliente_id])


def _texto(respuesta):
    return respuesta.content.decode()


def test_el_equipo_abre_el_grafico_y_el_historial_y_queda_registrado(paciente_ficha, tratante):
    registrar_cambios(actor=tratante.user, cliente_id=paciente_ficha.pk, cambios=[Cambio(16, "O", "caries")])
    cliente = cliente_de(tratante.user)
    for url in (_url(paciente_ficha.pk), _url(paciente_ficha.pk) + "?diente=16&cara=O",
                _url(paciente_ficha.pk, "gestion:ficha_odontograma_historial")):
        antes = LecturaFicha.objects.count()
        respuesta = cliente.get(url)
        assert respuesta.status_code == 200, url
        lectura = LecturaFicha.objects.order_by("-pk").first()
        assert LecturaFicha.objects.count() == antes + 1
        assert (lectura.seccion, lectura.via, lectura.cliente_id) == (Seccion.ODONTOGRAMA, Via.EQUIPO, paciente_ficha.pk)
        pagina = _texto(respuesta)
        assert "Diente 16, cara oclusal: caries (hallazgo)" in pagina
        assert not re.search(r"<[^>]+\sstyle=", pagina), "CSP: sin atributos style"
    panel = _texto(cliente.get(_url(paciente_ficha.pk) + "?diente=16&cara=O"))
    assert 'id="titulo-panel">Diente 16<' in panel
    assert re.search(r'value="O" id="cara-O" autocomplete="off" checked', panel)


@pytest.mark.parametrize("rol", [Rol.RECEPCION, Rol.ADMINISTRADOR])
def test_recepcion_administracion_y_un_dentista_ajeno_no_lo_ven(paciente_ficha, tratante, ajeno, crear_personal, rol):
    registrar_cambios(actor=tratante.user, cliente_id=paciente_ficha.pk, cambios=[Cambio(16, "O", "caries")])
    for persona in (crear_personal(rol=rol).user, ajeno.user):
        cliente = cliente_de(persona)
        for url in (_url(paciente_ficha.pk), _url(paciente_ficha.pk, "gestion:ficha_odontograma_historial")):
            respuesta = cliente.get(url)
            assert respuesta.status_code == 403 and "caries" not in _texto(respuesta)
        antes = huella_bd()
        assert cliente.post(_url(paciente_ficha.pk), {"diente": "26", "superficie": "O",
                                                       "estado": "caries"}).status_code == 403
        assert huella_bd() == antes


def test_registrar_por_la_web_varias_caras_y_quitar(paciente_ficha, tratante):
    cliente = cliente_de(tratante.user)
    url = _url(paciente_ficha.pk)
    respuesta = cliente.post(url, {"diente": "16", "superficie": ["O", "M"], "estado": "caries",
                                   "condicion": "hallazgo", "nota": "Mancha <b>"}, follow=True)
    assert respuesta.redirect_chain[-1][0] == url + "?diente=16#panel"
    pagina = _texto(respuesta)
    assert "Guardado: Diente 16, cara oclusal: caries (hallazgo); Diente 16, cara mesial: caries (hallazgo)." in pagina
    assert MarcaOdontograma.objects.filter(cliente=paciente_ficha, diente=16, nota="Mancha <b>").count() == 2
    # Again: nothing to change.
    pagina = _texto(cliente.post(url, {"diente": "16", "superficie": "O", "estado": "caries"}, follow=True))
    assert "No había nada que cambiar" in pagina
    cliente.post(url, {"diente": "16", "superficie": "M", "estado": "caries", "accion": "quitar"})
    cliente.post(url, {"diente": "36", "estado": "corona", "condicion": "realizado"})
    assert {(m.diente, m.superficie, m.estado, m.vigente) for m in MarcaOdontograma.objects.all()} == {
        (16, "O", "caries", True), (16, "M", "caries", True), (16, "M", "caries", False), (36, "", "corona", True)}


@pytest.mark.parametrize("datos,frase", [
    ({"diente": "19", "superficie": "O", "estado": "caries"}, "«19» no es un diente"),
    ({"diente": "16", "superficie": "Z", "estado": "caries"}, "La cara debe ser"),
    ({"diente": "16", "superficie": "O", "estado": "xyz"}, "Elija un estado"),
    ({"diente": "16", "superficie": "O", "estado": "corona"}, "es del diente completo"),
    ({"diente": "16", "estado": "caries"}, "va en una cara"),
    ({"diente": "", "estado": ""}, "no es un diente"),
    ({"diente": "16", "superficie": "O", "estado": "caries", "condicion": "x"}, "hallazgo"),
    ({"diente": "16", "superficie": "O", "estado": "caries", "evolucion": "abc"}, "no es un borrador suyo"),
    ({"diente": "16", "superficie": "O", "estado": "caries", "evolucion": "99999999999999999999999"},
     "no es un borrador suyo"),
    ({"diente": "16", "superficie": "O", "estado": "caries", "nota": "x" * 300}, "demasiado larga"),
])
def test_datos_malos_por_la_web(paciente_ficha, tratante, datos, frase):
    cliente = cliente_de(tratante.user)
    antes = huella_bd()
    respuesta = cliente.post(_url(paciente_ficha.pk), datos)
    assert respuesta.status_code == 200
    pagina = _texto(respuesta)
    assert frase in pagina and "No se guardó nada." in pagina
    assert huella_bd() == antes


@pytest.mark.parametrize("consulta,frase", [
    ("fecha=1800-01-01", "Use una fecha desde el 01-01-2000."),
    ("fecha=2999-01-01", "La fecha no puede ser futura."),
    ("fecha=ayer", "La fecha no es válida"),
    ("fecha=2024-13-01", "La fecha no es válida"),
    ("diente=19", "«19» no es un diente"),
    ("diente=" + "9" * 40, "no es un diente"),
])
def test_consultas_malas_dicen_por_que(paciente_ficha, tratante, consulta, frase):
    respuesta = cliente_de(tratante.user).get(_url(paciente_ficha.pk) + "?" + consulta)
    assert respuesta.status_code == 200 and frase in _texto(respuesta)


def test_el_odontograma_a_una_fecha_y_el_historial(paciente_ficha, tratante):
    c = paciente_ficha.pk
    hace_un_ano = timezone.now() - datetime.timedelta(days=365)
    MarcaOdontograma.objects.create(cliente_id=c, registrado_por=tratante.user, registrado_en=hace_un_ano, diente=46,
                                    superficie="O", estado="caries", condicion="hallazgo")
    registrar_cambios(actor=tratante.user, cliente_id=c, cambios=[Cambio(46, "O", "caries", "realizado"),
                                                                    Cambio(11, "", "ausente", "realizado")])
    cliente = cliente_de(tratante.user)
    fecha = timezone.localdate(hace_un_ano)
    pagina = _texto(cliente.get(_url(c) + f"?fecha={fecha:%Y-%m-%d}"))
    assert f"Así estaba el odontograma al final del {fecha:%d-%m-%Y}" in pagina
    assert "Diente 46, cara oclusal: caries (hallazgo)" in pagina and "Diente 11: ausente" not in pagina
    assert 'id="form-registrar"' not in pagina  # read only
    ahora = _texto(cliente.get(_url(c)))
    assert "Diente 46, cara oclusal: caries (realizado)" in ahora and "Diente 11: ausente (realizado)" in ahora
    historial = _texto(cliente.get(_url(c, "gestion:ficha_odontograma_historial")))
    assert historial.count('class="cambio-odontograma"') == 3
    assert "Camila Soto" in historial and f"?fecha={fecha:%Y-%m-%d}" in historial


def test_el_historial_se_pagina(paciente_ficha, tratante):
    ahora = timezone.now()
    MarcaOdontograma.objects.bulk_create([
        MarcaOdontograma(cliente=paciente_ficha, registrado_por=tratante.user, diente=16, superficie="O",
                         estado="caries", condicion="hallazgo", vigente=i % 2 == 0,
                         registrado_en=ahora - datetime.timedelta(hours=i))
        for i in range(120)])
    cliente = cliente_de(tratante.user)
    url = _url(paciente_ficha.pk, "gestion:ficha_odontograma_historial")
    for consulta, filas in (("", 50), ("?pagina=3", 20), ("?pagina=abc", 50), ("?pagina=999", 20)):
        assert _texto(cliente.get(url + consulta)).count('class="cambio-odontograma"') == filas, consulta


def test_realizado_en_esta_atencion_desde_el_borrador(paciente_ficha, tratante):
    c = paciente_ficha.pk
    MarcaOdontograma.objects.create(cliente_id=c, registrado_por=tratante.user, diente=26, superficie="D",
                                    estado="caries", condicion="hallazgo",
                                    registrado_en=timezone.now() - datetime.timedelta(days=30))
    nota = crear_evolucion(actor=tratante.user, cliente_id=c, procedimiento="Resina 26")
    cliente = cliente_de(tratante.user)
    url_nota = reverse("gestion:ficha_evolucion", args=[c, nota.pk])
    pagina = _texto(cliente.get(url_nota))
    assert "Diente 26, cara distal: caries (hallazgo)" in pagina and "Realizado en esta atención" in pagina
    respuesta = cliente.post(_url(c), {"diente": "26", "superficie": "D", "estado": "caries", "condicion": "realizado",
                                       "evolucion": str(nota.pk), "volver": "nota"}, follow=True)
    assert respuesta.redirect_chain[-1][0] == url_nota + "#odontograma"
    pagina = _texto(respuesta)
    assert "Registrado con esta evolución" in pagina and "Sin hallazgos pendientes." in pagina
    marca = MarcaOdontograma.objects.filter(cliente_id=c).latest("id")
    assert (marca.condicion, marca.evolucion_id, marca.registrado_por_id) == ("realizado", nota.pk, tratante.user.pk)


def _historia(cliente, dentista, n):
    """``n`` changes over ten years: findings, some done, some removed."""
    hoy = timezone.now()
    dientes = [11, 12, 14, 16, 21, 24, 26, 36, 37, 46, 47, 55, 65, 75, 85]
    MarcaOdontograma.objects.bulk_create([
        MarcaOdontograma(cliente=cliente, registrado_por=dentista.user, diente=dientes[i % len(dientes)],
                         superficie="OMDVL"[i % 5], estado=("caries", "obturacion", "sellante", "fractura")[i % 4],
                         condicion="hallazgo" if i % 3 else "realizado", vigente=i % 7 != 0,
                         registrado_en=hoy - datetime.timedelta(days=3650 * (n - i) / n))
        for i in range(n)])


def test_consultas_fijas_de_la_ficha_y_del_grafico_con_2_o_600_cambios(paciente_ficha, tratante,
                                                                         django_assert_num_queries):
    """The ficha page (now with the odontogram: one more query, the state) and the chart page
    make the same queries with 2 changes or 600."""
    cliente = cliente_de(tratante.user)
    crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, procedimiento="Control")  # notes: +addenda
    ficha = reverse("gestion:ficha", args=[paciente_ficha.pk])
    grafico = _url(paciente_ficha.pk) + "?diente=16"
    _historia(paciente_ficha, tratante, 2)
    with django_assert_num_queries(CONSULTAS_FICHA):
        assert cliente.get(ficha).status_code == 200
    with django_assert_num_queries(CONSULTAS_GRAFICO):
        assert cliente.get(grafico).status_code == 200
    _historia(paciente_ficha, tratante, 598)
    with django_assert_num_queries(CONSULTAS_FICHA):
        respuesta = cliente.get(ficha)
    assert 'class="odontograma-mini"' in _texto(respuesta)
    with django_assert_num_queries(CONSULTAS_GRAFICO):
        assert cliente.get(grafico).status_code == 200


def test_el_dibujo_de_la_ficha_sale_de_la_cache_y_sigue_a_cada_cambio(paciente_ficha, tratante):
    """The ficha page's small drawing is kept in the "ficha" cache by what it shows: the kept
    copy is the fresh drawing, a new mark (or its removal) is on the next page, and another
    patient with the same marks gets their own links."""
    from django.core.cache import caches

    from gestion_clinica.views.odontograma_comun import svg_de_la_ficha, svg_del_odontograma

    caches["ficha"].clear()
    cliente = cliente_de(tratante.user)
    ficha = reverse("gestion:ficha", args=[paciente_ficha.pk])

    def dibujo():
        return re.search(r'<svg [^>]*class="odontograma-mini".*?</svg>', _texto(cliente.get(ficha)), re.S).group(0)

    def fresco():
        return str(svg_del_odontograma(paciente_ficha.pk, clase="odontograma-mini", caras_enlazadas=False))

    vacio = dibujo()
    assert vacio == dibujo() == fresco()
    registrar_cambios(actor=tratante.user, cliente_id=paciente_ficha.pk,
                      cambios=[Cambio(diente=16, superficie="O", estado="caries")])
    con_caries = dibujo()
    assert con_caries != vacio and con_caries == fresco() and "caries" in con_caries.lower()
    registrar_cambios(actor=tratante.user, cliente_id=paciente_ficha.pk,
                      cambios=[Cambio(diente=16, superficie="O", estado="caries", quitar=True)])
    assert dibujo() == vacio == fresco()
    otro_id = paciente_ficha.pk + 1000
    assert f"/pacientes/{otro_id}/" in svg_de_la_ficha(otro_id)


# Session, user with the profile (one query since issue 16's cuentas.autenticacion), second
# factor's device, access rule, read-log row; the patient with the history (header), the state,
# the dentist's draft of today.
CONSULTAS_GRAFICO = 8


def test_los_colores_de_la_hoja_de_estilos_son_los_del_pdf_y_de_la_copia():
    """The staff page's CSS and the drawing module (PDF, exported SVG) say the same colours."""
    from pathlib import Path

    from ficha.odontograma_dibujo import BORDE, COLORES, TINTES

    import gestion_clinica

    css = (Path(gestion_clinica.__file__).parent / "static/gestion_clinica/odontograma.css").read_text().lower()
    assert f".odo-lleno.h {{ fill: {COLORES['h']}; }}" in css and f".odo-lleno.r {{ fill: {COLORES['r']}; }}" in css
    assert f"fill: {TINTES['h']}; stroke: {COLORES['h']}" in css and f"fill: {TINTES['r']}; stroke: {COLORES['r']}" in css
    assert f"stroke: {BORDE}" in css and "style=" not in css
