"""The clinical record's screens for the dentist (ficha clínica): the record page, the medical
history (edit and its versions), progress notes (new, view/edit own draft, sign, discard,
addendum). URLs of this area are in ``urlpatterns``, joined by ``gestion_clinica.urls``.

Every view is wrapped in ``con_acceso_a_ficha`` (the one access rule, and a read-log row per
request, allowed or refused); the services check the same rule again before they write.
Views parse, call one selector or service, respond."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from ficha.acceso import perfil_clinico
from ficha.antecedentes import CAMPOS, actualizar_antecedentes, antecedentes_de, historial_de_antecedentes
from ficha.evoluciones import agregar_adenda, crear_evolucion, descartar_borrador, editar_borrador, firmar_evolucion
from ficha.models import Antecedentes, Evolucion, Seccion
from ficha.selectors import (
    DOCUMENTOS_POR_PAGINA, NOTAS_POR_PAGINA, alertas_clinicas, citas_para_evolucion, edad_de, evolucion_del_paciente,
    ficha_del_paciente,
)
from gestion_clinica.forms.ficha import FormularioAdenda, FormularioAntecedentes, FormularioEvolucion
from gestion_clinica.views.acceso_ficha import con_acceso_a_ficha
from gestion_clinica.views.odontograma_comun import hallazgos_para_la_nota, svg_de_la_ficha
from nucleo.servicios import es_id_valido
from pacientes.models import Cliente
from tratamientos.planes import pendientes_para_la_nota

PLANTILLAS = "gestion_clinica/ficha"
NO_EXISTE = "Esa evolución no existe (quizás su autor descartó el borrador)."
CONFIRMAR_FIRMA = "Una evolución firmada no se puede modificar; las correcciones se agregan como adenda."


def _url_ficha(cliente_id, ancla=""):
    return reverse("gestion:ficha", args=[cliente_id]) + (f"#{ancla}" if ancla else "")


def _url_evolucion(cliente_id, evolucion_id):
    return reverse("gestion:ficha_evolucion", args=[cliente_id, evolucion_id])


def _encabezado(cliente_id):
    """The patient and their history for a page's header (name, age, document, alerts)."""
    try:
        cliente = Cliente.objects.select_related("antecedentes").get(pk=cliente_id)
    except Cliente.DoesNotExist:
        raise Http404("Ese paciente ya no existe.") from None
    try:
        antecedentes = cliente.antecedentes
    except Antecedentes.DoesNotExist:
        antecedentes = Antecedentes(cliente_id=cliente_id, version=0)
    return {"cliente": cliente, "edad": edad_de(cliente.fecha_nacimiento), "antecedentes": antecedentes,
            "alertas": alertas_clinicas(antecedentes)}


def _notas_visibles(request):
    """The notes a dentist may see, for the gate: signed ones and their own drafts (another's
    draft does not exist for them, so the patient's log never names it)."""
    return Evolucion.objects.filter(Q(firmada_en__isnull=False) | Q(dentista_id=perfil_clinico(request.user).pk))


def _nota_o_404(request, cliente_id, evolucion_id) -> Evolucion:
    """A note of this patient the dentist may see: signed, or their own draft (another's draft
    does not exist for them)."""
    try:
        nota = evolucion_del_paciente(cliente_id=cliente_id, evolucion_id=evolucion_id)
    except Evolucion.DoesNotExist:
        raise Http404(NO_EXISTE) from None
    if not nota.firmada and nota.dentista_id != perfil_clinico(request.user).pk:
        raise Http404(NO_EXISTE)
    return nota


@require_safe
@con_acceso_a_ficha(Seccion.FICHA)
def ficha(request, cliente_id):
    """The record: alerts first, the history, the notes (newest first, addenda under each),
    the documents."""
    todas = request.GET.get("todas") == "1"
    try:
        datos = ficha_del_paciente(cliente_id, dentista_id=perfil_clinico(request.user).pk,
                                   limite=None if todas else NOTAS_POR_PAGINA,
                                   limite_documentos=None if todas else DOCUMENTOS_POR_PAGINA)
    except Cliente.DoesNotExist:
        raise Http404("Ese paciente ya no existe.") from None
    return render(request, f"{PLANTILLAS}/ficha.html", {
        "ficha": datos, "cliente": datos.cliente, "edad": datos.edad, "antecedentes": datos.antecedentes,
        "alertas": datos.alertas, "todas": todas, "propio_id": perfil_clinico(request.user).pk,
        "odontograma_svg": svg_de_la_ficha(cliente_id),  # issue 16
    })


def _conflicto(form, actual):
    """After a stale save: the form again with what the dentist typed, on top of the version
    that is stored now, and the stored values that differ, to review before saving again."""
    datos = form.data.copy()
    datos["version"] = str(actual.version)
    nuevo = FormularioAntecedentes(datos)
    nuevo.is_valid()
    diferencias = []
    for nombre in CAMPOS:
        guardado = getattr(actual, nombre)
        escrito = nuevo.cleaned_data.get(nombre) if hasattr(nuevo, "cleaned_data") else None
        if escrito is not None and str(escrito).strip() != str(guardado).strip():
            campo = actual._meta.get_field(nombre)
            legible = dict(campo.flatchoices).get(guardado, guardado) if campo.choices else guardado
            if isinstance(guardado, bool):
                legible = "sí" if guardado else "no"
            diferencias.append((nuevo.fields[nombre].label, legible or "—"))
    return nuevo, diferencias


@con_acceso_a_ficha(Seccion.ANTECEDENTES)
def antecedentes(request, cliente_id):
    """GET: the history's form with the version it shows (hidden); POST:
    ``actualizar_antecedentes``. A colleague saved in between: the form again with a warning,
    what is stored now, and the new version, so nothing is lost on either side."""
    contexto = _encabezado(cliente_id)
    actual = contexto["antecedentes"]
    diferencias = None
    if request.method == "POST":
        form = FormularioAntecedentes(request.POST)
        if form.is_valid():
            try:
                actualizar_antecedentes(actor=request.user, cliente_id=cliente_id, **form.datos())
            except Cliente.DoesNotExist:
                raise Http404("Ese paciente ya no existe.") from None
            except ValidationError as error:
                if "antecedentes_cambiaron" in [e.code for e in getattr(error, "error_list", [])]:
                    actual = antecedentes_de(cliente_id)
                    form, diferencias = _conflicto(form, actual)
                    form.add_error(None, error)
                else:
                    form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, "Antecedentes guardados.")
                return redirect(_url_ficha(cliente_id, "antecedentes"))
    else:
        form = FormularioAntecedentes(initial={"version": actual.version,
                                               **{c: getattr(actual, c) for c in CAMPOS}})
    return render(request, f"{PLANTILLAS}/antecedentes.html",
                  {**contexto, "form": form, "diferencias": diferencias})


@require_safe
@con_acceso_a_ficha(Seccion.ANTECEDENTES)
def antecedentes_historial(request, cliente_id):
    """Every version of the history: who, when, what changed."""
    return render(request, f"{PLANTILLAS}/historial.html",
                  {**_encabezado(cliente_id), "versiones": historial_de_antecedentes(cliente_id)})


def _cita_pedida(request, citas):
    """``?cita=<id>`` (from the agenda) when it is one of ``citas``; without it, today's
    appointment if there is one (the visit being written about)."""
    valor = request.GET.get("cita", "")
    if valor.isascii() and valor.isdigit() and es_id_valido(int(valor)):
        if any(c.pk == int(valor) for c in citas):
            return int(valor)
        messages.warning(request, "Esa cita no es suya con este paciente: elija una de la lista o ninguna.")
        return None
    hoy = timezone.localdate()
    return next((c.pk for c in citas if timezone.localdate(c.inicio) == hoy), None)


@con_acceso_a_ficha(Seccion.EVOLUCION)
def evolucion_nueva(request, cliente_id):
    """A draft note (``crear_evolucion``); ``?cita=<id>`` preselects one of the dentist's own
    appointments with the patient (from the agenda)."""
    contexto = _encabezado(cliente_id)
    propio = perfil_clinico(request.user)
    citas = citas_para_evolucion(cliente_id=cliente_id, dentista_id=propio.pk)
    if request.method == "POST":
        form = FormularioEvolucion(request.POST, citas=citas)
        if form.is_valid():
            try:
                nota = crear_evolucion(actor=request.user, cliente_id=cliente_id, **form.datos())
            except Cliente.DoesNotExist:
                raise Http404("Ese paciente ya no existe.") from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, "Borrador guardado. Revíselo y fírmelo cuando esté listo.")
                return redirect(_url_evolucion(cliente_id, nota.pk))
    else:
        form = FormularioEvolucion(initial={"cita": _cita_pedida(request, citas)}, citas=citas)
    return render(request, f"{PLANTILLAS}/evolucion_formulario.html", {**contexto, "form": form, "nota": None})


@con_acceso_a_ficha(Seccion.EVOLUCION, objeto="evolucion_id", modelo=_notas_visibles)
def evolucion(request, cliente_id, evolucion_id):
    """One note: its text, author, appointment and addenda; the author's draft is editable
    here (``editar_borrador``), with "Firmar…" and "Descartar…"."""
    nota = _nota_o_404(request, cliente_id, evolucion_id)
    contexto = _encabezado(cliente_id)
    if nota.firmada:
        if request.method == "POST":
            messages.error(request, "Esta evolución ya está firmada: no se puede modificar. Agregue una adenda.")
            return redirect(_url_evolucion(cliente_id, nota.pk))
        return render(request, f"{PLANTILLAS}/evolucion.html", {**contexto, "nota": nota})
    if request.method == "POST":
        form = FormularioEvolucion(request.POST)
        if form.is_valid():
            try:
                editar_borrador(actor=request.user, evolucion_id=nota.pk, cliente_id=cliente_id, **form.datos())
            except Evolucion.DoesNotExist:
                raise Http404(NO_EXISTE) from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, "Borrador guardado.")
                return redirect(_url_evolucion(cliente_id, nota.pk))
    else:
        form = FormularioEvolucion(initial={"atendido_el": nota.atendido_el, "procedimiento": nota.procedimiento,
                                            "dientes": ", ".join(map(str, nota.dientes)), "texto": nota.texto})
    return render(request, f"{PLANTILLAS}/evolucion_formulario.html", {**contexto, "form": form, "nota": nota,
                                                                       "odontograma_nota": hallazgos_para_la_nota(nota),
                                                                       "plan_nota": pendientes_para_la_nota(cliente_id)})


def _accion_sobre_borrador(request, cliente_id, evolucion_id, *, servicio, exito, plantilla_texto, boton, ancla):
    nota = _nota_o_404(request, cliente_id, evolucion_id)
    if nota.firmada:
        messages.info(request, "Esta evolución ya está firmada.")
        return redirect(_url_evolucion(cliente_id, nota.pk))
    if request.method == "POST":
        try:
            servicio(actor=request.user, evolucion_id=nota.pk, cliente_id=cliente_id)
        except Evolucion.DoesNotExist:
            messages.info(request, NO_EXISTE)
            return redirect(_url_ficha(cliente_id))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(_url_evolucion(cliente_id, nota.pk))
        messages.success(request, exito)
        return redirect(_url_ficha(cliente_id, ancla(nota)))
    return render(request, f"{PLANTILLAS}/confirmar.html",
                  {**_encabezado(cliente_id), "nota": nota, "texto": plantilla_texto, "boton": boton})


@con_acceso_a_ficha(Seccion.EVOLUCION, objeto="evolucion_id", modelo=_notas_visibles)
def evolucion_firmar(request, cliente_id, evolucion_id):
    """GET: the note as it will stay and the confirmation; POST: ``firmar_evolucion``."""
    return _accion_sobre_borrador(request, cliente_id, evolucion_id, servicio=firmar_evolucion,
                                  exito="Evolución firmada.", plantilla_texto=CONFIRMAR_FIRMA,
                                  boton="Firmar evolución", ancla=lambda nota: f"evolucion-{nota.pk}")


@con_acceso_a_ficha(Seccion.EVOLUCION, objeto="evolucion_id", modelo=_notas_visibles)
def evolucion_descartar(request, cliente_id, evolucion_id):
    """GET: confirmation; POST: ``descartar_borrador`` (a draft only; nothing of it is kept)."""
    return _accion_sobre_borrador(request, cliente_id, evolucion_id, servicio=descartar_borrador,
                                  exito="Borrador descartado.",
                                  plantilla_texto="El borrador se elimina y no se puede recuperar.",
                                  boton="Descartar borrador", ancla=lambda nota: "evoluciones")


@con_acceso_a_ficha(Seccion.EVOLUCION, objeto="evolucion_id", modelo=_notas_visibles)
def evolucion_adenda(request, cliente_id, evolucion_id):
    """GET: the signed note and the addendum's form; POST: ``agregar_adenda`` (signed at once
    by its author)."""
    nota = _nota_o_404(request, cliente_id, evolucion_id)
    if not nota.firmada:
        messages.info(request, "Un borrador no lleva adenda: edítelo directamente.")
        return redirect(_url_evolucion(cliente_id, nota.pk))
    form = FormularioAdenda(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            adenda = agregar_adenda(actor=request.user, evolucion_id=nota.pk, cliente_id=cliente_id,
                                    texto=form.cleaned_data["texto"])
        except Evolucion.DoesNotExist:
            raise Http404(NO_EXISTE) from None
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, "Adenda agregada y firmada.")
            return redirect(_url_ficha(cliente_id, f"evolucion-{adenda.corrige_id}"))
    return render(request, f"{PLANTILLAS}/adenda.html", {**_encabezado(cliente_id), "nota": nota, "form": form})


_BASE = "pacientes/<int:cliente_id>/ficha/"
urlpatterns = [
    path(_BASE, ficha, name="ficha"),
    path(f"{_BASE}antecedentes/", antecedentes, name="ficha_antecedentes"),
    path(f"{_BASE}antecedentes/historial/", antecedentes_historial, name="ficha_antecedentes_historial"),
    path(f"{_BASE}evoluciones/nueva/", evolucion_nueva, name="ficha_evolucion_nueva"),
    path(f"{_BASE}evoluciones/<int:evolucion_id>/", evolucion, name="ficha_evolucion"),
    path(f"{_BASE}evoluciones/<int:evolucion_id>/firmar/", evolucion_firmar, name="ficha_evolucion_firmar"),
    path(f"{_BASE}evoluciones/<int:evolucion_id>/descartar/", evolucion_descartar, name="ficha_evolucion_descartar"),
    path(f"{_BASE}evoluciones/<int:evolucion_id>/adenda/", evolucion_adenda, name="ficha_evolucion_adenda"),
]
