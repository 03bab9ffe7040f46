"""The dentist's screens of the clinical record: who opens them (the care team; reception and
administration get a 403 without clinical text, and the attempt is logged), one read-log row
per request, the forms' bad input in Spanish, the ficha page's pinned queries, and the entry
points from the agenda and the patient page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from citas.models import EstadoCita
from ficha.acceso import acceso_a_ficha, perfil_clinico
from ficha.antecedentes import actualizar_antecedentes
from ficha.evoluciones import agregar_adenda, crear_evolucion, firmar_evolucion
from ficha.models import Antecedentes, Evolucion, LecturaFicha, Seccion, Via
from ficha.tests.conftest import ajeno, dar_cita, paciente_ficha, tratante  # noqa: F401  (pytest fixtures)
from ficha.tests.test_selectors import documentos, notas
from gestion_clinica.permisos import rol_de
from gestion_clinica.tests.conftest import cliente_de
from pacientes.models import ClienteDocumento
from personal.models import Rol
from pruebas.soporte import huella_bd

SECRETOS = ("Penicilina", "Warfarina", "Resina oclusal", "Hipertensión", "Era el 17")


@pytest.fixture
def escena(paciente_ficha, tratante):
    """A record with history, a signed note with an addendum, and the dentist's own draft."""
    actualizar_antecedentes(actor=tratante.user, cliente_id=paciente_ficha.pk, version=0, alergias="Penicilina",
                            enfermedades="Hipertensión", anticoagulantes=True, anticoagulantes_detalle="Warfarina")
    firmada = crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, procedimiento="Obturación",
                              dientes="16", texto="Resina oclusal")
    firmar_evolucion(actor=tratante.user, evolucion_id=firmada.pk)
    agregar_adenda(actor=tratante.user, evolucion_id=firmada.pk, texto="Era el 17")
    borrador = crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, texto="Control pendiente")
    return {"cliente": paciente_ficha, "firmada": firmada, "borrador": borrador}


def urls_de(escena):
    c, f, b = escena["cliente"].pk, escena["firmada"].pk, escena["borrador"].pk
    return [
        (reverse("gestion:ficha", args=[c]), Seccion.FICHA, None),
        (reverse("gestion:ficha_antecedentes", args=[c]), Seccion.ANTECEDENTES, None),
        (reverse("gestion:ficha_antecedentes_historial", args=[c]), Seccion.ANTECEDENTES, None),
        (reverse("gestion:ficha_evolucion_nueva", args=[c]), Seccion.EVOLUCION, None),
        (reverse("gestion:ficha_evolucion", args=[c, f]), Seccion.EVOLUCION, f),
        (reverse("gestion:ficha_evolucion", args=[c, b]), Seccion.EVOLUCION, b),
        (reverse("gestion:ficha_evolucion_firmar", args=[c, b]), Seccion.EVOLUCION, b),
        (reverse("gestion:ficha_evolucion_descartar", args=[c, b]), Seccion.EVOLUCION, b),
        (reverse("gestion:ficha_evolucion_adenda", args=[c, f]), Seccion.EVOLUCION, f),
    ]


def test_el_equipo_abre_cada_pagina_y_cada_lectura_queda_registrada(escena, tratante):
    cliente = cliente_de(tratante.user)
    for url, seccion, objeto in urls_de(escena):
        antes = LecturaFicha.objects.count()
        respuesta = cliente.get(url)
        assert respuesta.status_code == 200, url
        assert LecturaFicha.objects.count() == antes + 1, url
        lectura = LecturaFicha.objects.order_by("-pk").first()
        assert (lectura.usuario_id, lectura.cliente_id, lectura.seccion, lectura.objeto_id, lectura.via) == (
            tratante.user.pk, escena["cliente"].pk, seccion, objeto, Via.EQUIPO), url
    pagina = cliente.get(urls_de(escena)[0][0]).content.decode()
    for texto in ("Alertas clínicas", "Alergias: Penicilina", "Toma anticoagulantes (Warfarina)", "Resina oclusal",
                  "Era el 17", "Borrador (solo usted lo ve)", "Ana Pérez Soto", "RUT 12.345.678-5"):
        assert texto in pagina, texto


@pytest.mark.parametrize("rol", [Rol.RECEPCION, Rol.ADMINISTRADOR])
def test_recepcion_y_administracion_no_ven_contenido_clinico(escena, crear_personal, rol):
    persona = crear_personal(rol=rol, username=f"persona-{rol}")
    cliente = cliente_de(persona.user)
    # Read-only pages answer a POST with 405 before the gate: no attempt to log.
    solo_lectura = {reverse("gestion:ficha", args=[escena["cliente"].pk]),
                    reverse("gestion:ficha_antecedentes_historial", args=[escena["cliente"].pk])}
    for url, seccion, _ in urls_de(escena):
        antes = huella_bd()
        lecturas = LecturaFicha.objects.count()
        for metodo in (cliente.get, cliente.post):
            respuesta = metodo(url, {"texto": "Intruso", "version": "1", "alergias": "x"})
            esperado = 405 if metodo == cliente.post and url in solo_lectura else 403
            assert respuesta.status_code == esperado, (url, metodo)
            cuerpo = respuesta.content.decode()
            assert not any(secreto in cuerpo for secreto in SECRETOS), url
            assert "Control pendiente" not in cuerpo
        intentos = 1 if url in solo_lectura else 2
        denegadas = LecturaFicha.objects.order_by("-pk")[:intentos]
        assert LecturaFicha.objects.count() == lecturas + intentos
        assert {(d.via, d.seccion, d.usuario_id) for d in denegadas} == {(Via.DENEGADO, seccion, persona.user.pk)}
        assert huella_bd() == antes, url


def test_un_dentista_fuera_del_equipo_recibe_403(escena, ajeno):
    cliente = cliente_de(ajeno.user)
    for url, _, _ in urls_de(escena):
        respuesta = cliente.get(url)
        assert respuesta.status_code == 403
        assert not any(secreto in respuesta.content.decode() for secreto in SECRETOS)
    assert LecturaFicha.objects.filter(usuario=ajeno.user, via=Via.DENEGADO).count() == len(urls_de(escena))


def test_el_borrador_ajeno_no_existe_para_un_colega(escena, crear_personal, dar_cita):
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios")
    dar_cita(colega, escena["cliente"], dias=-3)
    cliente = cliente_de(colega.user)
    c, b = escena["cliente"].pk, escena["borrador"].pk
    for nombre in ("gestion:ficha_evolucion", "gestion:ficha_evolucion_firmar", "gestion:ficha_evolucion_descartar"):
        assert cliente.get(reverse(nombre, args=[c, b])).status_code == 404
        assert cliente.post(reverse(nombre, args=[c, b]), {"texto": "Mío"}).status_code == 404
    assert "Control pendiente" not in cliente.get(reverse("gestion:ficha", args=[c])).content.decode()
    assert Evolucion.objects.get(pk=b).texto == "Control pendiente"
    # The patient's log never names a draft the colleague could not see.
    assert not LecturaFicha.objects.filter(usuario=colega.user, objeto_id=b).exists()


def test_actualizar_antecedentes_y_el_conflicto_no_pierde_nada(escena, tratante, crear_personal, dar_cita):
    c = escena["cliente"].pk
    url = reverse("gestion:ficha_antecedentes", args=[c])
    cliente = cliente_de(tratante.user)
    formulario = cliente.get(url).content.decode()
    assert 'name="version" value="1"' in formulario
    datos = {"version": "1", "alergias": "Penicilina, látex", "enfermedades": "Hipertensión",
             "anticoagulantes": "on", "anticoagulantes_detalle": "Warfarina", "embarazo": "no_aplica",
             "tabaquismo": "no"}
    respuesta = cliente.post(url, datos)
    assert respuesta.status_code == 302 and respuesta.url.endswith("#antecedentes")
    assert Antecedentes.objects.get(cliente_id=c).version == 2
    # A colleague saves on version 2 first; our form (still on version 2) is refused with what is stored.
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios")
    dar_cita(colega, escena["cliente"], dias=-3)
    actualizar_antecedentes(actor=colega.user, cliente_id=c, version=2, alergias="Penicilina, látex",
                            enfermedades="Hipertensión, asma", anticoagulantes=True,
                            anticoagulantes_detalle="Warfarina")
    respuesta = cliente.post(url, {**datos, "version": "2", "medicamentos": "Losartán"})
    cuerpo = respuesta.content.decode()
    assert respuesta.status_code == 200
    assert "Otra persona actualizó los antecedentes mientras usted editaba." in cuerpo
    assert "Hipertensión, asma" in cuerpo  # what is stored now
    assert "Losartán" in cuerpo and 'name="version" value="3"' in cuerpo  # what they typed, on the new version
    assert Antecedentes.objects.get(cliente_id=c).medicamentos == ""
    historial = cliente.get(reverse("gestion:ficha_antecedentes_historial", args=[c])).content.decode()
    assert "Versión 3" in historial and "Versión 1" in historial and "Camila Soto" in historial


@pytest.mark.parametrize("datos,mensaje", [
    ({"version": "1", "anticoagulantes_detalle": "Warfarina"}, "Indique el anticoagulante solo si"),
    ({"version": "1", "embarazo": "quizas"}, "Elija una opción de la lista."),
    ({"version": "1", "tabaquismo": ["si", "no"]}, ""),
    ({"version": "1", "enfermedades": "x" * 6000}, "El texto es demasiado largo."),
    ({"version": "1", "medicamentos": "a\x00b"}, "El texto tiene un carácter no permitido."),
    ({"version": "abc"}, "El formulario está incompleto: ábralo de nuevo."),
    ({"version": "-1"}, "El formulario está incompleto: ábralo de nuevo."),
    ({"version": "9" * 30}, "El formulario está incompleto: ábralo de nuevo."),
    ({}, "El formulario está incompleto: ábralo de nuevo."),
    ({"version": "7"}, "Otra persona actualizó los antecedentes"),
])
def test_antecedentes_con_basura(escena, tratante, datos, mensaje):
    cliente = cliente_de(tratante.user)
    antes = huella_bd()
    respuesta = cliente.post(reverse("gestion:ficha_antecedentes", args=[escena["cliente"].pk]), datos)
    assert respuesta.status_code in (200, 302)
    if mensaje:
        assert respuesta.status_code == 200 and mensaje in respuesta.content.decode()
        assert huella_bd() == antes


def test_escribir_firmar_y_adenda_por_la_web(paciente_ficha, tratante, dar_cita):
    cita = dar_cita(tratante, paciente_ficha, dias=0, hora=9, estado=EstadoCita.EN_ESPERA)
    cliente = cliente_de(tratante.user)
    c = paciente_ficha.pk
    nueva = reverse("gestion:ficha_evolucion_nueva", args=[c])
    formulario = cliente.get(f"{nueva}?cita={cita.pk}").content.decode()
    assert f'<option value="{cita.pk}" selected>' in formulario
    respuesta = cliente.post(nueva, {"cita": cita.pk, "procedimiento": "Obturación", "dientes": "16, 26 y 11",
                                     "texto": "Resina compuesta"})
    nota = Evolucion.objects.get(cliente=paciente_ficha)
    assert respuesta.status_code == 302 and respuesta.url == reverse("gestion:ficha_evolucion", args=[c, nota.pk])
    assert (nota.dientes, nota.cita_id, nota.firmada) == ([16, 26, 11], cita.pk, False)
    firmar = reverse("gestion:ficha_evolucion_firmar", args=[c, nota.pk])
    confirmacion = cliente.get(firmar).content.decode()
    assert "Una evolución firmada no se puede modificar; las correcciones se agregan como adenda." in confirmacion
    assert cliente.post(firmar).status_code == 302
    assert Evolucion.objects.get(pk=nota.pk).firmada
    # Signed: the draft's form is gone, a second sign or an edit says so.
    respuesta = cliente.post(firmar, follow=True)
    assert "Esta evolución ya está firmada." in respuesta.content.decode()
    respuesta = cliente.post(reverse("gestion:ficha_evolucion", args=[c, nota.pk]), {"texto": "Cambio"}, follow=True)
    assert "no se puede modificar" in respuesta.content.decode()
    adenda = reverse("gestion:ficha_evolucion_adenda", args=[c, nota.pk])
    respuesta = cliente.post(adenda, {"texto": "Era el 17"})
    assert respuesta.status_code == 302 and respuesta.url.endswith(f"#evolucion-{nota.pk}")
    pagina = cliente.get(reverse("gestion:ficha", args=[c])).content.decode()
    assert "Adenda de Camila Soto" in pagina and "Era el 17" in pagina and "Dientes: 16, 26, 11" in pagina


def test_descartar_un_borrador(escena, tratante):
    c, b = escena["cliente"].pk, escena["borrador"].pk
    cliente = cliente_de(tratante.user)
    url = reverse("gestion:ficha_evolucion_descartar", args=[c, b])
    assert "El borrador se elimina" in cliente.get(url).content.decode()
    assert cliente.post(url).status_code == 302
    assert not Evolucion.objects.filter(pk=b).exists()
    assert cliente.get(url).status_code == 404


@pytest.mark.parametrize("datos,mensaje", [
    ({"dientes": "19"}, "«19» no es un diente."),
    ({"dientes": "0"}, "«0» no es un diente."),
    ({"dientes": "abc"}, "«abc» no es un diente."),
    ({"dientes": "x" * 400}, "El texto es demasiado largo."),
    ({"atendido_el": "2999-01-01"}, "La fecha de la atención no puede ser futura."),
    ({"atendido_el": "1990-01-01"}, "Use una fecha desde el año 2000."),
    ({"atendido_el": "2026-02-30"}, "La fecha no es válida."),
    ({"cita": "987654321"}, "Elija una de sus citas con este paciente."),
    ({"cita": "abc"}, "Elija una de sus citas con este paciente."),
    ({"procedimiento": "x" * 300}, "El texto es demasiado largo."),
    ({"texto": "a\x00b"}, "El texto tiene un carácter no permitido."),
])
def test_evolucion_con_basura(paciente_ficha, tratante, dar_cita, datos, mensaje):
    dar_cita(tratante, paciente_ficha, dias=-1)  # the form then offers appointments
    cliente = cliente_de(tratante.user)
    antes = huella_bd()
    respuesta = cliente.post(reverse("gestion:ficha_evolucion_nueva", args=[paciente_ficha.pk]),
                             {"texto": "Control", **datos})
    assert respuesta.status_code == 200 and mensaje in respuesta.content.decode()
    assert huella_bd() == antes


def test_firmar_vacia_y_adenda_vacia_dicen_por_que(paciente_ficha, tratante):
    cliente = cliente_de(tratante.user)
    c = paciente_ficha.pk
    vacia = crear_evolucion(actor=tratante.user, cliente_id=c)
    respuesta = cliente.post(reverse("gestion:ficha_evolucion_firmar", args=[c, vacia.pk]), follow=True)
    assert "Escriba qué se hizo o la evolución antes de firmar." in respuesta.content.decode()
    respuesta = cliente.get(reverse("gestion:ficha_evolucion_adenda", args=[c, vacia.pk]), follow=True)
    assert "Un borrador no lleva adenda" in respuesta.content.decode()
    nota = crear_evolucion(actor=tratante.user, cliente_id=c, texto="Control")
    firmar_evolucion(actor=tratante.user, evolucion_id=nota.pk)
    respuesta = cliente.post(reverse("gestion:ficha_evolucion_adenda", args=[c, nota.pk]), {"texto": "   "})
    assert respuesta.status_code == 200 and "Escriba el texto de la adenda." in respuesta.content.decode()


def test_ids_imposibles_y_de_otro_paciente_son_404(escena, tratante, dar_cita):
    otro = type(escena["cliente"]).objects.create(nombre_completo="Luis Díaz")
    dar_cita(tratante, otro, dias=-1)
    ajena = crear_evolucion(actor=tratante.user, cliente_id=otro.pk, texto="De otro")
    cliente = cliente_de(tratante.user)
    c = escena["cliente"].pk
    for evolucion_id in (ajena.pk, 2**63, 2**70, 987654321):
        for nombre in ("gestion:ficha_evolucion", "gestion:ficha_evolucion_firmar", "gestion:ficha_evolucion_adenda"):
            assert cliente.get(reverse(nombre, args=[c, evolucion_id])).status_code == 404
    assert cliente.get(reverse("gestion:ficha", args=[2**70])).status_code == 404


def test_consultas_fijas_de_la_ficha_con_200_notas_y_30_documentos(paciente_ficha, tratante,
                                                                 django_assert_num_queries):
    """The page's queries do not grow with the record: 2 notes or 200 (with addenda) and 30
    documents. Pinned: session, user with profile (the role), the access rule, the read-log row,
    the patient with the history, notes with their addenda, documents."""
    Antecedentes.objects.create(cliente=paciente_ficha, alergias="Penicilina")
    cliente = cliente_de(tratante.user)
    url = reverse("gestion:ficha", args=[paciente_ficha.pk]) + "?todas=1"
    documentos(paciente_ficha, 30)
    notas(paciente_ficha, tratante, 2)
    with django_assert_num_queries(CONSULTAS_FICHA):
        assert cliente.get(url).status_code == 200
    notas(paciente_ficha, tratante, 198)
    with django_assert_num_queries(CONSULTAS_FICHA):
        respuesta = cliente.get(url)
    assert respuesta.content.decode().count('class="evolucion ') == 200


# Session and user with the staff profile (issue 16: one query, cuentas.autenticacion; the
# profile was a query of its own until then), the second factor's device (django-otp checks the
# session's device on every staff request), the access rule, the read log row, the record's 3
# queries (4 until the addenda came in the notes' query: ficha.selectors.notas_con_adendas), and
# the current odontogram (issue 16: one query, its state, whatever its history's length; its
# drawing comes from the "ficha" cache).
CONSULTAS_FICHA = 9


def test_enlaces_desde_la_agenda_y_la_pagina_del_paciente(paciente_ficha, tratante, dar_cita, recepcionista):
    cita = dar_cita(tratante, paciente_ficha, dias=0, hora=9, estado=EstadoCita.CONFIRMADA)
    pagina_cita = reverse("gestion:agenda_cita", args=[cita.pk])
    ficha = reverse("gestion:ficha", args=[paciente_ficha.pk])
    nueva = reverse("gestion:ficha_evolucion_nueva", args=[paciente_ficha.pk]) + f"?cita={cita.pk}"
    del_dentista = cliente_de(tratante.user).get(pagina_cita).content.decode()
    assert f'href="{ficha}"' in del_dentista and f'href="{nueva}"' in del_dentista
    de_recepcion = cliente_de(recepcionista.user).get(pagina_cita).content.decode()
    assert ficha not in de_recepcion
    paciente = reverse("gestion:paciente", args=[paciente_ficha.pk])
    assert 'id="abrir-ficha"' in cliente_de(tratante.user).get(paciente).content.decode()
    assert 'id="abrir-ficha"' not in cliente_de(recepcionista.user).get(paciente).content.decode()


def test_la_fecha_por_defecto_es_la_de_la_cita(paciente_ficha, tratante, dar_cita):
    cita = dar_cita(tratante, paciente_ficha, dias=-2)
    cliente_de(tratante.user).post(reverse("gestion:ficha_evolucion_nueva", args=[paciente_ficha.pk]),
                                   {"cita": cita.pk, "texto": "Control"})
    assert Evolucion.objects.get(cliente=paciente_ficha).atendido_el == timezone.localdate() - datetime.timedelta(2)


def test_ids_fuera_de_rango_y_de_otro_paciente_no_dejan_registro(escena, tratante, dar_cita):
    """The gate answers 404 before writing: an id out of bigint range (no 500 on the log's
    column), a note of another patient of the same dentist, a note that does not exist. The
    patient's log (which they see in the portal) never names a note that is not theirs."""
    otro = type(escena["cliente"]).objects.create(nombre_completo="Luis Díaz")
    dar_cita(tratante, otro, dias=-1)
    ajena = crear_evolucion(actor=tratante.user, cliente_id=otro.pk, texto="De otro")
    cliente = cliente_de(tratante.user)
    c = escena["cliente"].pk
    for evolucion_id in (ajena.pk, 987654321, 2**63, 10**20):
        for nombre in ("gestion:ficha_evolucion", "gestion:ficha_evolucion_firmar",
                       "gestion:ficha_evolucion_descartar", "gestion:ficha_evolucion_adenda"):
            for metodo in (cliente.get, cliente.post):
                assert metodo(reverse(nombre, args=[c, evolucion_id])).status_code == 404, (nombre, evolucion_id)
    for url in (reverse("gestion:ficha", args=[10**20]), reverse("gestion:ficha_pdf", args=[2**63])):
        assert cliente.get(url).status_code == 404
    assert not LecturaFicha.objects.exists()


def test_un_metodo_equivocado_es_405_sin_registro(escena, tratante):
    cliente = cliente_de(tratante.user)
    c = escena["cliente"].pk
    for nombre in ("gestion:ficha", "gestion:ficha_antecedentes_historial", "gestion:ficha_pdf",
                   "gestion:ficha_datos"):
        assert cliente.post(reverse(nombre, args=[c])).status_code == 405, nombre
    assert not LecturaFicha.objects.exists()


def test_un_superusuario_nunca_lee_la_ficha_aunque_tenga_perfil_de_dentista(escena, tratante):
    """One decider with the staff site: an active superuser is ``administrador`` there
    (``rol_de``), so never a clinical reader (``perfil_clinico``), even with a dentist profile
    and an appointment with the patient: the gate refuses, the patient page offers no ficha."""
    c = escena["cliente"].pk
    tratante.user.is_superuser = True
    tratante.user.save(update_fields=["is_superuser"])
    assert rol_de(tratante.user) == Rol.ADMINISTRADOR and perfil_clinico(tratante.user) is None
    acceso = acceso_a_ficha(tratante.user, c)
    assert (acceso.permitido, acceso.via, acceso.puede_urgencia) == (False, Via.DENEGADO, False)
    cliente = cliente_de(tratante.user)
    respuesta = cliente.get(reverse("gestion:ficha", args=[c]))
    assert respuesta.status_code == 403 and 'id="form-urgencia"' not in respuesta.content.decode()
    pagina = cliente.get(reverse("gestion:paciente", args=[c])).content.decode()
    assert 'id="abrir-ficha"' not in pagina and "Penicilina" not in pagina


def _sin_token(html):
    """The page without what changes on every response (the CSRF token, the CSP nonce)."""
    import re

    return re.sub(r'(X-CSRFToken": "|nonce="|name="csrfmiddlewaretoken" value=")[^"]*', r"\1", html)


def test_las_notas_firmadas_en_cache_nunca_quedan_viejas(paciente_ficha, tratante, crear_personal, dar_cita,
                                                         settings):
    """A signed note's HTML and the documents' table come from the "ficha" cache
    (ficha.selectors.huella_de_nota, Ficha.huella_documentos): the page is the same as drawn
    without the cache, and a new addendum, a renamed author, a moved appointment or a new
    document show at once."""
    from django.contrib.auth import get_user_model
    from django.core.cache import caches

    caches["ficha"].clear()
    cita = dar_cita(tratante, paciente_ficha, dias=-3)
    nota = crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, texto="Obturación 36", cita_id=cita.pk)
    firmar_evolucion(actor=tratante.user, evolucion_id=nota.pk)
    cliente = cliente_de(tratante.user)
    url = reverse("gestion:ficha", args=[paciente_ficha.pk])
    documentos(paciente_ficha, 2)
    primera = cliente.get(url).content.decode()
    assert "Obturación 36" in primera and "Radiografía 1" in primera
    assert len(caches["ficha"]._cache) == 3  # the note, the documents' table, the odontogram's drawing
    assert _sin_token(cliente.get(url).content.decode()) == _sin_token(primera)  # from the cache

    agregar_adenda(actor=tratante.user, evolucion_id=nota.pk, texto="Adenda: control en tres meses")
    ClienteDocumento.objects.create(cliente=paciente_ficha, titulo="Panorámica nueva", archivo="documentos/p.png",
                                    nombre_original="p.png", tipo_contenido="image/png", tamano=2048)
    get_user_model().objects.filter(pk=tratante.user_id).update(first_name="Camila Andrea")
    nueva = cita.inicio - datetime.timedelta(hours=1)
    type(cita).objects.filter(pk=cita.pk).update(inicio=nueva, fin=nueva + datetime.timedelta(minutes=30))
    despues = cliente.get(url).content.decode()
    assert "Adenda: control en tres meses" in despues and "Panorámica nueva" in despues
    assert "Firmada por Camila Andrea Soto" in despues and "Adenda de Camila Andrea Soto" in despues
    assert timezone.localtime(nueva).strftime("Cita del %d-%m-%Y %H:%M") in despues

    settings.CACHES = {**settings.CACHES, "ficha": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert _sin_token(cliente.get(url).content.decode()) == _sin_token(despues)


def test_un_borrador_no_va_a_la_cache_ni_lo_ve_otro(paciente_ficha, tratante, crear_personal, dar_cita):
    """Only signed notes are kept; a draft is drawn for its author on every request and never
    reaches a colleague, who sees the same signed notes drawn from the cache."""
    from django.core.cache import caches

    caches["ficha"].clear()
    colega = crear_personal(rol=Rol.DENTISTA, username="dr.rios", nombre="Pablo", apellido="Ríos")
    dar_cita(colega, paciente_ficha, dias=-2)
    firmada = crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, texto="Limpieza firmada")
    firmar_evolucion(actor=tratante.user, evolucion_id=firmada.pk)
    crear_evolucion(actor=tratante.user, cliente_id=paciente_ficha.pk, texto="Borrador secreto")
    url = reverse("gestion:ficha", args=[paciente_ficha.pk])
    del_autor = cliente_de(tratante.user).get(url).content.decode()
    assert "Borrador secreto" in del_autor and "Borrador (solo usted lo ve)" in del_autor
    # The signed note, the (empty) documents' table and the (empty) odontogram's drawing.
    assert len(caches["ficha"]._cache) == 3
    assert not any(b"Borrador secreto" in valor for valor in caches["ficha"]._cache.values())
    del_colega = cliente_de(colega.user).get(url).content.decode()
    assert "Limpieza firmada" in del_colega and "Borrador secreto" not in del_colega
    assert "Borrador (solo usted lo ve)" not in del_colega
    assert len(caches["ficha"]._cache) == 3
