"""Pacientes (staff site). URLs of this area are in ``urlpatterns``, joined by ``gestion_clinica.urls``.

Everyone on the staff reads administrative data; only administración and recepción create,
edit, deactivate, invite and delete. Clinical content (allergies, the record's documents) is
for the care team only, decided by ``ficha.acceso.acceso_a_ficha`` and logged
(``ficha.lecturas``): everyone uploads a document (reception scans the x-ray a patient brings:
adding to the record without reading it), only a dentist with access lists, downloads or
deletes one (a misfiled document is removed by who can see it). Views parse, call one selector
or service, respond.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateformat import format as formato_fecha
from django.views.decorators.http import require_POST, require_safe


from citas.del_paciente import citas_de_paciente, resumen_paciente
from citas.services import asignar_cita, citas_futuras_del_cliente
from cuentas.desactivacion import desactivar_paciente
from cuentas.eliminacion import eliminar_cliente, resumen_eliminacion
from cuentas.presencial import crear_cliente_presencial
from cuentas.selectors import bloqueo_de_cuenta
from cuentas.services import desbloquear_cuenta, invitar_al_portal, reenviar_invitacion
from ficha.acceso import acceso_a_ficha, horas_de_urgencia, perfil_clinico
from ficha.lecturas import registrar_lectura
from ficha.models import Seccion
from ficha.selectors_lecturas import documentos_en_la_ficha
from gestion_clinica.forms.agenda import FormularioDarHora
from gestion_clinica.forms.pacientes import (
    FormularioDesactivar,
    FormularioDocumento,
    FormularioPacienteEditado,
    FormularioPacienteNuevo,
)
from gestion_clinica.permisos import ADMINISTRADOR, RECEPCION, TODOS, requiere_rol
from gestion_clinica.views.acceso_ficha import con_acceso_a_ficha
from gestion_clinica.views.comun import reenviar_aviso
from gestion_clinica.views.selector_horas import selector_pedido, url_del_selector
from notificaciones.selectors import avisos_de_paciente, es_aviso_de
from nucleo.ip_cliente import ip_del_cliente
from pacientes.consentimientos import canales_de_aviso_con, consentimientos_de_cliente
from pacientes.documentos import (
    MENSAJE_DOCUMENTO_CONSERVADO, eliminar_documento, maximo_bytes, respuesta_descarga, se_puede_eliminar,
    subir_documento,
)
from pacientes.models import Cliente, ClienteDocumento
from pacientes.selectors import buscar_pacientes, documento_de_cliente, documentos_de_cliente, historial_cliente
from pacientes.services import actualizar_cliente, reactivar_cliente
from pacientes.validaciones import normalizar_telefono

POR_PAGINA = 25
EDITORES = (ADMINISTRADOR, RECEPCION)
YA_NO_EXISTE = "Ese paciente ya no existe (quizás otra persona lo eliminó recién)."
DOCUMENTO_NO_EXISTE = "Ese documento ya no existe (quizás otra persona lo eliminó recién)."
DOCUMENTO_YA_ELIMINADO = "Ese documento ya había sido eliminado; no se hizo nada."


def _resumen_o_404(cliente_id, **opciones):
    try:
        return resumen_paciente(cliente_id, **opciones)
    except Cliente.DoesNotExist:
        raise Http404(YA_NO_EXISTE) from None


def _si_en_resguardo(request, cliente):
    """An erased patient whose clinical record is under legal hold (issue 15) is not edited or
    reactivated: back to their page, which says why. None otherwise."""
    resguardo = getattr(cliente, "resguardo", None)  # loaded with the record (resumen_paciente)
    if resguardo is None:
        return None
    messages.error(request, "Este paciente fue eliminado y solo se conserva su ficha clínica en resguardo legal: "
                            "no se puede reactivar ni editar. Si vuelve a atenderse, regístrelo como paciente nuevo.")
    return redirect("gestion:paciente", cliente_id=cliente.pk)


def _puede_editar(request):
    return request.rol_personal in EDITORES


@requiere_rol(*TODOS)
def lista(request):
    """Search by name, RUT, e-mail or phone; htmx asks for the results fragment only."""
    texto = request.GET.get("q", "")
    incluir_inactivos = request.GET.get("inactivos") == "1"
    pagina = Paginator(buscar_pacientes(texto, incluir_inactivos=incluir_inactivos), POR_PAGINA).get_page(
        request.GET.get("pagina")
    )
    contexto = {"pagina": pagina, "q": texto, "inactivos": incluir_inactivos, "puede_editar": _puede_editar(request)}
    # Back button after a live search: htmx asks for the whole page (history restore).
    solo_resultados = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    plantilla = "_resultados.html" if solo_resultados else "lista.html"
    respuesta = render(request, f"gestion_clinica/pacientes/{plantilla}", contexto)
    patch_vary_headers(respuesta, ["HX-Request"])  # never a cached fragment for a full page
    return respuesta


def _formulario_documento(*args):
    return FormularioDocumento(*args, maximo_mb=maximo_bytes() // (1024 * 1024))


def _ficha_en_la_pagina(request, cliente):
    """What of the clinical record the patient's page shows: to a dentist with access (the one
    rule, ``acceso_a_ficha``, asked only of a clinical reader, ``perfil_clinico``) the allergies
    and the documents, each read logged; to anyone else their count and that there is an alert,
    and no log row (this administrative page shows no clinical content to them; refused
    attempts are logged only on the record's own gated URLs). A dentist outside the care team
    is offered urgent access. Returns ``(acceso or None, documentos or None, how many
    documents)``."""
    acceso = acceso_a_ficha(request.user, cliente.pk) if perfil_clinico(request.user) is not None else None
    if acceso is not None and acceso.permitido:
        request.acceso_ficha = acceso
        ip = ip_del_cliente(request)
        documentos = documentos_de_cliente(cliente.pk)
        for documento in documentos:  # "Eliminar" only where the service would accept it
            documento.eliminable = se_puede_eliminar(documento, request.user)
        registrar_lectura(usuario=request.user, cliente_id=cliente.pk, seccion=Seccion.ANTECEDENTES, acceso=acceso,
                          ip=ip)
        if documentos:
            registrar_lectura(usuario=request.user, cliente_id=cliente.pk, seccion=Seccion.DOCUMENTO, acceso=acceso,
                              ip=ip)
        return acceso, documentos, len(documentos)
    return acceso, None, documentos_en_la_ficha(cliente.pk)


def _sin_alergias(historial):
    """The record's history without the allergies' text (clinical data): only that they changed."""
    for cambio in historial:
        cambio.cambios[:] = [(campo, None if campo == "alergias" and antes is not None else antes,
                              "(dato clínico)" if campo == "alergias" else despues)
                             for campo, antes, despues in cambio.cambios]
    return historial


def _detalle(request, cliente_id, *, form_documento=None):
    # The notifications card reads its own rows (with their delivery state): none from here.
    resumen = _resumen_o_404(cliente_id, notificaciones=0)
    acceso, documentos, cuantos_documentos = _ficha_en_la_pagina(request, resumen.cliente)
    ve = acceso is not None and acceso.permitido
    historial = historial_cliente(cliente_id)
    consentimientos = consentimientos_de_cliente(cliente_id)
    return render(request, "gestion_clinica/pacientes/detalle.html", {
        # Issue 13, reachability: the consents (who, when, how) and the channels a notice reaches.
        "consentimientos": consentimientos,
        "canales_de_aviso": canales_de_aviso_con(resumen.cliente, consentimientos),
        "resumen": resumen,
        "cliente": resumen.cliente,
        "ve_alergias": ve,
        "avisos": avisos_de_paciente(cliente_id),
        "citas": citas_de_paciente(cliente_id),
        "historial": historial if ve else _sin_alergias(historial),
        "acceso": acceso,
        "horas_urgencia": horas_de_urgencia(),  # how long an urgent access lasts (its form says it)
        # The "Ficha clínica" button: for a clinical reader (the access rule's answer), who
        # reads it or, outside the care team, may ask for urgent access there.
        "abre_ficha": acceso is not None,
        "documentos": documentos,
        "cuantos_documentos": cuantos_documentos,
        "es_administrador": request.rol_personal == ADMINISTRADOR,
        "form_documento": form_documento or _formulario_documento(),
        "puede_editar": _puede_editar(request),
        # Issue 14: an account "No fui yo" locked, and the button that gives it back.
        "bloqueo": bloqueo_de_cuenta(resumen.cliente),
    })


@requiere_rol(*TODOS)
def detalle(request, cliente_id):
    """Contact data, appointments, notifications and the record's change history; allergies and
    documents for the care team (``_ficha_en_la_pagina``)."""
    return _detalle(request, cliente_id)


def _envio_repetido(error):
    """The id of the patient a repeated submit already created, if that is the error."""
    if hasattr(error, "error_dict"):
        return None
    for item in error.error_list:
        if item.code == "envio_repetido" and item.params and "cliente_id" in item.params:
            return item.params["cliente_id"]
    return None


def _explicar_telefono(form):
    """After the server checked the form, the phone's help says what that number allows."""
    # Also after the service refused other fields (is_valid() is False then): the number was fine.
    if form.is_bound and "telefono" not in form.errors and form.cleaned_data.get("telefono"):
        try:
            form.explicar_telefono(normalizar_telefono(form.cleaned_data["telefono"], solo_celular_chileno=False))
        except ValidationError:
            pass


@requiere_rol(*EDITORES)
def nuevo(request):
    """A walk-in patient (``crear_cliente_presencial``), optionally invited to the portal, with
    their notice channel and consents."""
    form = FormularioPacienteNuevo(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            cliente = crear_cliente_presencial(actor=request.user, **form.datos())
        except ValidationError as error:
            repetido = _envio_repetido(error)
            if repetido is not None:
                # The same form arrived twice (double click, retry): show what the first one made.
                messages.info(request, "Este paciente ya quedó registrado; no se creó de nuevo.")
                return redirect("gestion:paciente", cliente_id=repetido)
            form.agregar_errores_del_servicio(error)
        else:
            aviso = " Se le envió la invitación al portal." if form.cleaned_data["enviar_invitacion"] else ""
            messages.success(request, f"Paciente {cliente.nombre_completo} registrado.{aviso}")
            return redirect("gestion:paciente", cliente_id=cliente.pk)
    _explicar_telefono(form)
    return render(request, "gestion_clinica/pacientes/formulario.html", {"form": form, "cliente": None})


@requiere_rol(*EDITORES)
def editar(request, cliente_id):
    """Change a patient's data (``actualizar_cliente``)."""
    cliente = _resumen_o_404(cliente_id).cliente
    if (respuesta := _si_en_resguardo(request, cliente)) is not None:
        return respuesta
    if request.method == "POST":
        form = FormularioPacienteEditado(request.POST)
        if form.is_valid():
            try:
                actualizar_cliente(actor=request.user, cliente_id=cliente_id, **form.datos())
            except Cliente.DoesNotExist:
                raise Http404(YA_NO_EXISTE) from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                messages.success(request, "Datos del paciente guardados.")
                return redirect("gestion:paciente", cliente_id=cliente_id)
    else:
        whatsapp, sms = cliente.fechas_de_consentimiento()
        form = FormularioPacienteEditado(initial={
            "nombre_completo": cliente.nombre_completo, "rut": cliente.rut, "email": cliente.email,
            "telefono": str(cliente.telefono or ""), "fecha_nacimiento": cliente.fecha_nacimiento,
            "tipo_documento": cliente.tipo_documento,
            "numero_documento": cliente.numero_documento, "pais_documento": cliente.pais_documento,
            "canal_preferido": cliente.canal_preferido, "acepta_whatsapp": whatsapp is not None,
            "acepta_sms": sms is not None,
        })
        form.explicar_telefono(str(cliente.telefono or ""))
    _explicar_telefono(form)
    return render(request, "gestion_clinica/pacientes/formulario.html", {"form": form, "cliente": cliente})


@requiere_rol(*EDITORES)
def desactivar(request, cliente_id):
    """GET: what deactivating means, with the patient's future bookings and, if any, the choice
    of what to do with them; POST: ``desactivar_paciente``."""
    cliente = _resumen_o_404(cliente_id).cliente
    futuras = citas_futuras_del_cliente(cliente_id=cliente_id, ahora=timezone.now())
    form = FormularioDesactivar(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not cliente.activo:
            messages.info(request, "Este paciente ya estaba desactivado.")
            return redirect("gestion:paciente", cliente_id=cliente_id)
        if form.is_valid():
            # Without future bookings there is nothing to choose: they are "kept" (none).
            eleccion = form.cleaned_data["citas_futuras"] if futuras else "conservar"
            try:
                liberadas = desactivar_paciente(actor=request.user, cliente_id=cliente_id, citas_futuras=eleccion,
                                                motivo=form.cleaned_data["motivo"])
            except Cliente.DoesNotExist:
                raise Http404(YA_NO_EXISTE) from None
            except ValidationError as error:
                form.agregar_errores_del_servicio(error)
            else:
                detalle = f" {liberadas} hora(s) futura(s) liberada(s) con aviso al paciente." if liberadas else ""
                if futuras and eleccion == "conservar":
                    detalle = f" Sus {len(futuras)} hora(s) futura(s) se conservan."
                messages.success(request, f"Paciente {cliente.nombre_completo} desactivado.{detalle}")
                return redirect("gestion:paciente", cliente_id=cliente_id)
    return render(request, "gestion_clinica/pacientes/desactivar.html",
                  {"cliente": cliente, "futuras": futuras, "form": form})


@requiere_rol(*EDITORES)
def reactivar(request, cliente_id):
    """GET: what reactivating means; POST: ``reactivar_cliente``."""
    cliente = _resumen_o_404(cliente_id).cliente
    if (respuesta := _si_en_resguardo(request, cliente)) is not None:
        return respuesta
    if request.method == "POST":
        if cliente.activo:
            messages.info(request, "Este paciente ya estaba activo.")
            return redirect("gestion:paciente", cliente_id=cliente_id)
        try:
            reactivar_cliente(actor=request.user, cliente_id=cliente_id)
        except Cliente.DoesNotExist:
            raise Http404(YA_NO_EXISTE) from None
        except ValidationError as error:
            return render(request, "gestion_clinica/pacientes/reactivar.html",
                          {"cliente": cliente, "errores": error.messages}, status=409)
        messages.success(request, f"Paciente {cliente.nombre_completo} reactivado.")
        return redirect("gestion:paciente", cliente_id=cliente_id)
    return render(request, "gestion_clinica/pacientes/reactivar.html", {"cliente": cliente})


@requiere_rol(*EDITORES)
def dar_hora(request, cliente_id):
    """"Dar hora": the time picker (``views.selector_horas``, the dentist of the patient's
    latest appointment first) and a reason; the chosen free time goes to this patient
    (``asignar_cita``) and the page goes back to the record, which lists it. A deactivated
    patient gets none (a message, back to the record)."""
    cliente = get_object_or_404(Cliente, pk=cliente_id)
    ficha = reverse("gestion:paciente", args=[cliente.pk])
    if not cliente.activo:
        messages.error(request, "El paciente está desactivado: no se le puede dar hora. Reactívelo primero.")
        return redirect(ficha)
    formulario = FormularioDarHora(request.POST if request.method == "POST" else None)
    datos = request.GET
    if request.method == "POST":
        datos = request.POST
        if formulario.is_valid():
            try:
                cita = asignar_cita(actor=request.user, cita_id=formulario.cleaned_data["hora"], cliente_id=cliente.pk,
                                    motivo=formulario.cleaned_data["motivo"])
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect(url_del_selector(request.path, request.POST))
            inicio = timezone.localtime(cita.inicio)
            messages.success(request, f"Hora dada a {cliente.nombre_completo}: {formato_fecha(inicio, 'l j \\d\\e F')} "
                                      f"a las {inicio:%H:%M} con {cita.dentista.nombre}.")
            return redirect(ficha + "#titulo-citas")
    ultimas = citas_de_paciente(cliente.pk, limite=1)
    return render(request, "gestion_clinica/pacientes/dar_hora.html", {
        "cliente": cliente, "formulario": formulario, "url": request.path, "ficha": ficha,
        **selector_pedido(request, datos, dentista_preferido=ultimas[0].dentista_id if ultimas else None),
    })


@require_POST
@requiere_rol(*EDITORES)
def invitar(request, cliente_id):
    """Invite a walk-in registered without an account to the portal (``invitar_al_portal``);
    the reason in Spanish when refused (no e-mail, already has an account, deactivated)."""
    try:
        invitar_al_portal(actor=request.user, cliente_id=cliente_id)
    except Cliente.DoesNotExist:
        raise Http404(YA_NO_EXISTE) from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Invitación al portal enviada: le llegará un correo para crear su contraseña.")
    return redirect("gestion:paciente", cliente_id=cliente_id)


@require_POST
@requiere_rol(*EDITORES)
def desbloquear(request, cliente_id):
    """Unlock a portal account locked by "No fui yo" (``desbloquear_cuenta``): the patient gets a
    link to set a new password; the reason in Spanish when refused."""
    try:
        cliente = desbloquear_cuenta(actor=request.user, cliente_id=cliente_id)
    except Cliente.DoesNotExist:
        raise Http404(YA_NO_EXISTE) from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Cuenta del portal desbloqueada. Le enviamos a {cliente.email} un enlace para "
                                  "crear una contraseña nueva: la anterior ya no sirve.")
    return redirect("gestion:paciente", cliente_id=cliente_id)


@require_POST
@requiere_rol(*EDITORES)
def reenviar(request, cliente_id):
    """A fresh portal invitation (``reenviar_invitacion``); the reason in Spanish when refused."""
    try:
        reenviar_invitacion(actor=request.user, cliente_id=cliente_id)
    except Cliente.DoesNotExist:
        raise Http404(YA_NO_EXISTE) from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Invitación al portal enviada de nuevo.")
    return redirect("gestion:paciente", cliente_id=cliente_id)


@requiere_rol(*EDITORES)
def eliminar(request, cliente_id):
    """GET: exactly what deleting will do (``resumen_eliminacion``); POST: ``eliminar_cliente``."""
    if request.method == "POST":
        try:
            resultado = eliminar_cliente(actor=request.user, cliente_id=cliente_id)
        except Cliente.DoesNotExist:
            messages.warning(request, "Ese paciente ya había sido eliminado; no se hizo nada.")
            return redirect("gestion:pacientes")
        except ValidationError as error:  # erased already: only the held record is left
            messages.info(request, " ".join(error.messages))
            return redirect("gestion:paciente", cliente_id=cliente_id)
        partes = [f"Paciente eliminado. {resultado.citas_futuras_liberadas} hora(s) futura(s) liberada(s)",
                  f"{resultado.citas_pasadas_conservadas} cita(s) conservada(s) como historial"]
        if resultado.cuenta_eliminada:
            partes.append("cuenta del portal eliminada")
        if resultado.documentos_eliminados:
            partes.append(f"{resultado.documentos_eliminados} documento(s) eliminado(s)")
        if resultado.notificaciones_eliminadas:
            partes.append(f"{resultado.notificaciones_eliminadas} aviso(s) eliminado(s)")
        mensaje = ", ".join(partes) + "."
        if resultado.ficha_en_resguardo:
            mensaje += (f" Su ficha clínica queda en resguardo legal hasta el {resultado.conservar_hasta:%d-%m-%Y}"
                        " (Decreto 41, art. 11) y después se purga.")
        if resultado.registros_contables:  # issue 17
            mensaje += " Sus presupuestos y pagos se conservan (registros contables), con su nombre y RUT."
        messages.success(request, mensaje)
        return redirect("gestion:pacientes")
    cliente = _resumen_o_404(cliente_id).cliente
    try:
        resumen = resumen_eliminacion(cliente_id=cliente_id)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
        return redirect("gestion:paciente", cliente_id=cliente_id)
    return render(request, "gestion_clinica/pacientes/eliminar.html", {"cliente": cliente, "resumen": resumen})


@require_POST
@requiere_rol(*EDITORES)
def aviso_reenviar(request, cliente_id, notificacion_id):
    """Resend one of this patient's notifications (``reenviar_notificacion``); another
    patient's notification id is a 404."""
    if not es_aviso_de(notificacion_id, cliente_id=cliente_id):
        raise Http404("Ese aviso no es de este paciente.")
    return reenviar_aviso(request, notificacion_id=notificacion_id,
                          volver=reverse("gestion:paciente", args=[cliente_id]) + "#avisos")


@require_POST
@requiere_rol(*TODOS)
def documento_subir(request, cliente_id):
    """Attach a document (``subir_documento``); on an error, the record again with the form's
    errors in Spanish next to their field."""
    form = _formulario_documento(request.POST, request.FILES)
    if form.is_valid():
        try:
            documento = subir_documento(actor=request.user, cliente_id=cliente_id, **form.datos())
        except Cliente.DoesNotExist:
            raise Http404(YA_NO_EXISTE) from None
        except ValidationError as error:
            form.agregar_errores_del_servicio(error)
        else:
            messages.success(request, f"Documento «{documento.titulo}» adjuntado.")
            return redirect(reverse("gestion:paciente", args=[cliente_id]) + "#documentos")
    return _detalle(request, cliente_id, form_documento=form)


@require_safe
@con_acceso_a_ficha(Seccion.DOCUMENTO, objeto="documento_id", modelo=ClienteDocumento)
def documento(request, cliente_id, documento_id):
    """Download (always an attachment; never a public media URL): clinical content, for the
    care team, every download logged."""
    try:
        doc = documento_de_cliente(cliente_id=cliente_id, documento_id=documento_id)
    except ClienteDocumento.DoesNotExist:
        raise Http404(DOCUMENTO_NO_EXISTE) from None
    return respuesta_descarga(doc)


def _documento_ya_eliminado(request, cliente_id):
    """A repeated delete (the document is gone): say so, nothing read, nothing logged."""
    if request.method != "POST":
        raise Http404(DOCUMENTO_NO_EXISTE)
    messages.warning(request, DOCUMENTO_YA_ELIMINADO)
    return redirect(reverse("gestion:paciente", args=[cliente_id]) + "#documentos")


@con_acceso_a_ficha(Seccion.DOCUMENTO, objeto="documento_id", modelo=ClienteDocumento,
                    si_no_existe=_documento_ya_eliminado)
def documento_eliminar(request, cliente_id, documento_id):
    """GET: which document will go; POST: ``eliminar_documento``. For the care team (who can
    see the document), through the record's gate: the confirmation shows it, so it is logged."""
    if request.method == "POST":
        try:
            eliminar_documento(actor=request.user, cliente_id=cliente_id, documento_id=documento_id)
        except ClienteDocumento.DoesNotExist:
            messages.warning(request, DOCUMENTO_YA_ELIMINADO)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Documento eliminado.")
        return redirect(reverse("gestion:paciente", args=[cliente_id]) + "#documentos")
    try:
        doc = documento_de_cliente(cliente_id=cliente_id, documento_id=documento_id)
    except ClienteDocumento.DoesNotExist:
        raise Http404(DOCUMENTO_NO_EXISTE) from None
    return render(request, "gestion_clinica/pacientes/eliminar_documento.html", {
        "documento": doc, "cliente": doc.cliente, "eliminable": se_puede_eliminar(doc, request.user),
        "mensaje_conservado": MENSAJE_DOCUMENTO_CONSERVADO,
    })


urlpatterns = [
    path("pacientes/", lista, name="pacientes"),
    path("pacientes/nuevo/", nuevo, name="paciente_nuevo"),
    path("pacientes/<int:cliente_id>/", detalle, name="paciente"),
    path("pacientes/<int:cliente_id>/editar/", editar, name="paciente_editar"),
    path("pacientes/<int:cliente_id>/desactivar/", desactivar, name="paciente_desactivar"),
    path("pacientes/<int:cliente_id>/reactivar/", reactivar, name="paciente_reactivar"),
    path("pacientes/<int:cliente_id>/dar-hora/", dar_hora, name="paciente_dar_hora"),
    path("pacientes/<int:cliente_id>/reenviar-invitacion/", reenviar, name="paciente_reenviar"),
    path("pacientes/<int:cliente_id>/desbloquear-cuenta/", desbloquear, name="paciente_desbloquear"),
    path("pacientes/<int:cliente_id>/invitar/", invitar, name="paciente_invitar"),
    path("pacientes/<int:cliente_id>/eliminar/", eliminar, name="paciente_eliminar"),
    path("pacientes/<int:cliente_id>/avisos/<int:notificacion_id>/reenviar/", aviso_reenviar,
         name="paciente_aviso_reenviar"),
    path("pacientes/<int:cliente_id>/documentos/", documento_subir, name="paciente_documento_subir"),
    path("pacientes/<int:cliente_id>/documentos/<int:documento_id>/", documento, name="paciente_documento"),
    path("pacientes/<int:cliente_id>/documentos/<int:documento_id>/eliminar/", documento_eliminar,
         name="paciente_documento_eliminar"),
]
