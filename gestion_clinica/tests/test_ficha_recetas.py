"""Prescriptions and the record's summary in the staff site: the dentist of the care team writes
one with a formset (lines added without JavaScript), sees it, downloads its PDF, annuls it; the
summary PDF for a referral; everyone else gets the 403 page and every read is logged."""

import pytest
from django.utils import timezone

from ficha.evoluciones import crear_evolucion, firmar_evolucion
from ficha.consentimientos import emitir_consentimiento
from ficha.models import Antecedentes, LecturaFicha, MarcaOdontograma, PlantillaConsentimiento, Receta, Seccion, Via
from ficha.recetas import anular_receta, emitir_receta
from ficha.tests.conftest import ajeno, dar_cita, paciente_ficha, tratante  # noqa: F401 (fixtures)
from ficha.tests.test_consentimientos import aceptar
from ficha.tests.test_recetas import AMOXICILINA, IBUPROFENO, con_datos
from gestion_clinica.tests.conftest import cliente_de
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png
from pruebas.soporte import huella_bd

pytestmark = pytest.mark.django_db

CAPTURAS = "/tmp/capturas-rec"


def base(cliente_id):
    return f"/gestion/pacientes/{cliente_id}/ficha/recetas/"


@pytest.fixture
def dentista_receta(tratante):
    return con_datos(tratante)


def gestion(total=3, inicial=0, **lineas):
    datos = {"lineas-TOTAL_FORMS": str(total), "lineas-INITIAL_FORMS": str(inicial),
             "lineas-MIN_NUM_FORMS": "0", "lineas-MAX_NUM_FORMS": "20"}
    for clave, valor in lineas.items():
        indice, campo = clave.split("__")
        datos[f"lineas-{indice[1:]}-{campo}"] = valor
    return datos


def test_la_pagina_nueva_tiene_tres_lineas_y_agregar_linea_sin_js(dentista_receta, paciente_ficha):
    cliente = cliente_de(dentista_receta.user)
    respuesta = cliente.get(base(paciente_ficha.pk) + "nueva/")
    html = respuesta.content.decode()
    assert respuesta.status_code == 200 and html.count('class="linea-receta') == 3 and 'name="agregar"' in html
    antes = huella_bd()
    respuesta = cliente.post(base(paciente_ficha.pk) + "nueva/", {
        **gestion(l0__medicamento="Amoxicilina", l0__duracion_dias="7"), "indicaciones": "Reposo", "agregar": "1"})
    html = respuesta.content.decode()
    assert respuesta.status_code == 200 and html.count('class="linea-receta') == 4
    assert 'value="Amoxicilina"' in html and "Reposo" in html and huella_bd() == antes


def test_sin_rut_ni_registro_lo_dice_una_vez_y_no_emite(tratante, paciente_ficha):
    """Found on the demo: the warning on top and the service's error said the same twice."""
    cliente = cliente_de(tratante.user)
    html = cliente.get(base(paciente_ficha.pk) + "nueva/").content.decode()
    assert html.count("falta su RUT o su número de registro") == 1 and 'id="sin-datos"' in html
    antes = huella_bd()
    respuesta = cliente.post(base(paciente_ficha.pk) + "nueva/", gestion(l0__medicamento="Amoxicilina"))
    html = respuesta.content.decode()
    assert respuesta.status_code == 200 and html.count("falta su RUT o su número de registro") == 1
    assert 'value="Amoxicilina"' in html and huella_bd() == antes


def test_emitir_con_dos_medicamentos_ver_y_descargar(dentista_receta, paciente_ficha):
    Antecedentes.objects.create(cliente=paciente_ficha, alergias="Penicilina")
    nota = crear_evolucion(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, texto="Absceso 36")
    cliente = cliente_de(dentista_receta.user)
    respuesta = cliente.post(base(paciente_ficha.pk) + "nueva/", {
        **gestion(4, l0__medicamento="Clindamicina", l0__presentacion="Cápsulas 300 mg", l0__dosis="1 cápsula",
                  l0__frecuencia="cada 8 horas", l0__duracion_dias="7",
                  l2__medicamento="Paracetamol", l2__presentacion="Comprimidos 500 mg", l2__dosis="1 comprimido",
                  l2__frecuencia="cada 6 horas si hay dolor", l2__duracion_dias="3",
                  l2__indicaciones="No exceder 4 al día."),
        "indicaciones": "Control en 7 días.", "evolucion": str(nota.pk)})
    receta = Receta.objects.get()
    assert respuesta.status_code == 302 and respuesta.url == f"{base(paciente_ficha.pk)}{receta.pk}/"
    assert [m.medicamento for m in receta.medicamentos.order_by("orden")] == ["Clindamicina", "Paracetamol"]
    assert receta.evolucion_id == nota.pk
    pagina = cliente.get(respuesta.url).content.decode()
    assert "Clindamicina" in pagina and "N° 000001" in pagina and "ANULADA" not in pagina
    pdf = cliente.get(f"{respuesta.url}pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'attachment; filename="receta-000001.pdf"'
    pdf_a_png(pdf.content, CAPTURAS, "receta-gestion")
    leido = leer_pdf(pdf.content)
    assert leido.paginas == 1 and caracteres_fuera(pdf.content) == 0
    for frase in ("Camila Soto", "Cirujano dentista", "13.456.789-9", "N° 104532", "Odontología general",
                  "Ana Pérez Soto", "12.345.678-5", "años", "Folio", "N° 000001", "Rp.", "1. Clindamicina",
                  "1 cápsula cada 8 horas durante 7 días.", "2. Paracetamol", "No exceder 4 al día.",
                  "Control en 7 días.", timezone.localdate().strftime("%d-%m-%Y")):
        assert leido.contiene(frase), frase
    assert not leido.contiene("ANULADA")
    lecturas = list(LecturaFicha.objects.order_by("pk").values_list("seccion", "objeto_id", "via"))
    assert lecturas[-2:] == [(Seccion.RECETA, receta.pk, Via.EQUIPO), (Seccion.RECETA, receta.pk, Via.EQUIPO)]


@pytest.mark.parametrize("datos, mensaje", [
    (gestion(), "Agregue al menos un medicamento"),
    (gestion(l0__medicamento="x" * 5000), "Medicamento"),
    (gestion(l0__medicamento="Ibuprofeno", l0__duracion_dias="-3"), "La duración va de 1 a 365 días"),
    (gestion(l0__medicamento="Ibuprofeno", l0__duracion_dias="99999"), "La duración va de 1 a 365 días"),
    (gestion(l0__dosis="1 comprimido"), "escriba el nombre del medicamento"),
    ({"lineas-TOTAL_FORMS": "abc", "lineas-0-medicamento": "Ibuprofeno"}, "El formulario está incompleto"),
    (gestion(25, **{f"l{i}__medicamento": f"M{i}" for i in range(25)}), "Una receta lleva hasta 20 medicamentos"),
    ({**gestion(l0__medicamento="Ibuprofeno"), "evolucion": "999999"}, "Elija una de sus evoluciones"),
])
def test_datos_malos_dan_mensaje_y_no_escriben(dentista_receta, paciente_ficha, datos, mensaje):
    cliente = cliente_de(dentista_receta.user)
    antes = huella_bd()
    respuesta = cliente.post(base(paciente_ficha.pk) + "nueva/", datos)
    assert respuesta.status_code == 200 and mensaje in respuesta.content.decode()
    assert huella_bd() == antes


def test_la_evolucion_de_otro_paciente_no_se_acepta(dentista_receta, paciente_ficha, dar_cita):
    from pacientes.models import Cliente

    otro = Cliente.objects.create(nombre_completo="Bruno Otro", rut="11111111-1")
    dar_cita(dentista_receta, otro, dias=-1)
    ajena = crear_evolucion(actor=dentista_receta.user, cliente_id=otro.pk, texto="x")
    cliente = cliente_de(dentista_receta.user)
    antes = huella_bd()
    respuesta = cliente.post(base(paciente_ficha.pk) + "nueva/", {
        **gestion(l0__medicamento="Ibuprofeno"), "evolucion": str(ajena.pk)})
    assert respuesta.status_code == 200 and "Elija una de sus evoluciones" in respuesta.content.decode()
    assert huella_bd() == antes


def test_anular_y_el_pdf_dice_anulada(dentista_receta, paciente_ficha):
    receta = emitir_receta(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, lineas=[AMOXICILINA])
    cliente = cliente_de(dentista_receta.user)
    url = f"{base(paciente_ficha.pk)}{receta.pk}/anular/"
    assert cliente.get(url).status_code == 200
    assert "Escriba el motivo" in cliente.post(url, {"motivo": ""}).content.decode()
    respuesta = cliente.post(url, {"motivo": "Dosis equivocada"})
    assert respuesta.status_code == 302
    receta.refresh_from_db()
    assert receta.anulada and receta.motivo_anulacion == "Dosis equivocada"
    assert "ANULADA" in cliente.get(f"{base(paciente_ficha.pk)}{receta.pk}/").content.decode()
    assert cliente.post(url, {"motivo": "Otra vez"}).status_code == 302  # already annulled: a message
    pdf = cliente.get(f"{base(paciente_ficha.pk)}{receta.pk}/pdf/").content
    pdf_a_png(pdf, CAPTURAS, "receta-anulada")
    leido = leer_pdf(pdf)
    assert leido.contiene("RECETA ANULADA") and leido.contiene("Dosis equivocada") and caracteres_fuera(pdf) == 0


def test_la_lista_y_el_enlace_desde_la_ficha(dentista_receta, paciente_ficha):
    receta = emitir_receta(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, lineas=[AMOXICILINA, IBUPROFENO])
    cliente = cliente_de(dentista_receta.user)
    ficha = cliente.get(f"/gestion/pacientes/{paciente_ficha.pk}/ficha/").content.decode()
    assert base(paciente_ficha.pk) in ficha and f"/gestion/pacientes/{paciente_ficha.pk}/ficha/resumen.pdf" in ficha
    lista = cliente.get(base(paciente_ficha.pk)).content.decode()
    assert f"receta-{receta.pk}" in lista and "Amoxicilina, Ibuprofeno" in lista


def test_el_resumen_para_derivar(dentista_receta, paciente_ficha):
    Antecedentes.objects.create(cliente=paciente_ficha, alergias="Penicilina", anticoagulantes=True,
                                anticoagulantes_detalle="Acenocumarol", enfermedades="Hipertensión")
    for i in range(7):
        nota = crear_evolucion(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, procedimiento=f"Control {i}",
                               texto=f"Nota número {i}")
        firmar_evolucion(actor=dentista_receta.user, evolucion_id=nota.pk)
    vigente = emitir_receta(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, lineas=[AMOXICILINA])
    anulada = emitir_receta(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, lineas=[IBUPROFENO])
    anular_receta(actor=dentista_receta.user, receta_id=anulada.pk, motivo="Error de dosis")
    # The odontogram now: a finding still to treat and a crown done; a finding removed is gone.
    for diente, cara, estado, condicion, en_vigor in ((16, "O", "caries", "hallazgo", True),
                                                      (11, "", "corona", "realizado", True),
                                                      (26, "M", "caries", "hallazgo", True),
                                                      (26, "M", "caries", "hallazgo", False)):
        MarcaOdontograma.objects.create(cliente=paciente_ficha, registrado_por=dentista_receta.user, diente=diente,
                                        superficie=cara, estado=estado, condicion=condicion, vigente=en_vigor)
    # Consents: one accepted (in force), one only issued (not in the summary).
    for nombre in ("Endodoncia", "Exodoncia"):
        PlantillaConsentimiento.objects.create(nombre=nombre, procedimiento=f"{nombre} de 36", texto="Riesgos.")
    plantillas = {p.nombre: p.pk for p in PlantillaConsentimiento.objects.all()}
    aceptar(emitir_consentimiento(actor=dentista_receta.user, cliente_id=paciente_ficha.pk,
                                  plantilla_id=plantillas["Endodoncia"]), dentista_receta.user)
    emitir_consentimiento(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, plantilla_id=plantillas["Exodoncia"])
    respuesta = cliente_de(dentista_receta.user).get(f"/gestion/pacientes/{paciente_ficha.pk}/ficha/resumen.pdf")
    assert respuesta.status_code == 200 and respuesta["Content-Type"] == "application/pdf"
    pdf_a_png(respuesta.content, CAPTURAS, "resumen")
    leido = leer_pdf(respuesta.content)
    for frase in ("Resumen de la ficha clínica", "Profesional que lo emite", "13.456.789-9", "N° 104532",
                  "Ana Pérez Soto", "Alergias: Penicilina", "Toma anticoagulantes (Acenocumarol)", "Hipertensión",
                  "Nota número 6", "Nota número 2", f"N° {vigente.folio:06d}", "Amoxicilina",
                  "Odontograma actual", "Hallazgos por tratar (1)", "Diente 16, cara oclusal: caries (hallazgo)",
                  "Consentimientos informados vigentes (1)", "Endodoncia (Endodoncia de 36), aceptado el"):
        assert leido.contiene(frase), frase
    assert not leido.contiene("Nota número 1") and not leido.contiene("Ibuprofeno")
    assert not leido.contiene("Diente 26") and not leido.contiene("Exodoncia")
    assert caracteres_fuera(respuesta.content) == 0
    assert LecturaFicha.objects.filter(seccion=Seccion.RESUMEN, via=Via.EQUIPO).count() == 1


@pytest.mark.parametrize("sufijo", ["", "nueva/", "{id}/", "{id}/anular/", "{id}/pdf/", "resumen"])
@pytest.mark.parametrize("rol", ["recepcionista", "administrador", "ajeno"])
def test_fuera_del_equipo_403_y_queda_el_intento(dentista_receta, paciente_ficha, sufijo, rol, request):
    receta = emitir_receta(actor=dentista_receta.user, cliente_id=paciente_ficha.pk, lineas=[AMOXICILINA])
    perfil = request.getfixturevalue(rol)
    antes = LecturaFicha.objects.count()
    url = (f"/gestion/pacientes/{paciente_ficha.pk}/ficha/resumen.pdf" if sufijo == "resumen"
           else base(paciente_ficha.pk) + sufijo.format(id=receta.pk))
    respuesta = cliente_de(perfil.user).get(url)
    assert respuesta.status_code == 403 and "Amoxicilina" not in respuesta.content.decode()
    assert LecturaFicha.objects.count() == antes + 1 and LecturaFicha.objects.last().via == Via.DENEGADO


def test_el_administrador_registra_rut_y_registro_del_dentista(administrador, tratante):
    cliente = cliente_de(administrador.user)
    url = f"/gestion/personal/{tratante.pk}/editar/"
    datos = {"nombre": "Camila", "apellido": "Soto", "rol": "dentista", "especialidad": "Endodoncia"}
    malo = cliente.post(url, {**datos, "rut": "12.345.678-9", "registro_superintendencia": "12a"})
    assert malo.status_code == 200 and "dígito verificador" in malo.content.decode()
    tratante.refresh_from_db()
    assert tratante.rut == ""
    malo = cliente.post(url, {**datos, "rut": "12.345.678-5", "registro_superintendencia": "-5"})
    assert "solo dígitos" in malo.content.decode()
    assert cliente.post(url, {**datos, "rut": "12.345.678-5", "registro_superintendencia": "104.532"}).status_code == 302
    tratante.refresh_from_db()
    assert (tratante.rut, tratante.registro_superintendencia) == ("12345678-5", "104532")
    assert 'value="12345678-5"' in cliente.get(url).content.decode()
    otra = cliente.post(f"/gestion/personal/{administrador.pk}/editar/",
                        {"nombre": "Ad", "apellido": "Min", "rol": "administrador", "rut": "12345678-5"})
    assert "Otro miembro del personal ya tiene ese RUT." in otra.content.decode()
