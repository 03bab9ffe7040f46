"""The staff site's one gate to clinical content: every view that shows any part of a patient's
record (history, notes, documents, PDFs) is wrapped in ``con_acceso_a_ficha``.

It asks ``ficha.acceso.acceso_a_ficha`` (the one rule), writes the read log row
(``ficha.lecturas.registrar_lectura``) in the same request whether the read is allowed or not,
and only then lets the view run. Refused: a 403 page that says why; a dentist outside the care
team is offered "acceso de urgencia" there. ``clinica/tests/test_lecturas_cobertura.py`` walks
every staff URL and fails on clinical content shown without its log row."""

from functools import wraps

from django.http import Http404
from django.shortcuts import render

from ficha.acceso import acceso_a_ficha, horas_de_urgencia
from ficha.lecturas import registrar_lectura
from gestion_clinica.permisos import TODOS, requiere_rol
from nucleo.ip_cliente import ip_del_cliente
from pacientes.models import Cliente

PLANTILLA_SIN_ACCESO = "gestion_clinica/ficha/sin_acceso.html"


def con_acceso_a_ficha(seccion: str, *, objeto: str | None = None):
    """View decorator for ``vista(request, cliente_id, ...)``: any staff role may knock, the
    access rule decides, the read is logged (``seccion``; ``objeto`` names the URL kwarg that
    holds the row read, e.g. ``"evolucion_id"``). Sets ``request.acceso_ficha``."""

    def decorador(vista):
        @requiere_rol(*TODOS)
        @wraps(vista)
        def envoltura(request, cliente_id, *args, **kwargs):
            acceso = acceso_a_ficha(request.user, cliente_id)
            if acceso is None:
                raise Http404("Ese paciente no existe.")
            registrar_lectura(usuario=request.user, cliente_id=cliente_id, seccion=seccion, acceso=acceso,
                              ip=ip_del_cliente(request), objeto_id=kwargs.get(objeto) if objeto else None)
            if not acceso.permitido:
                return respuesta_sin_acceso(request, cliente_id, acceso)
            request.acceso_ficha = acceso
            return vista(request, cliente_id, *args, **kwargs)

        # What the read-log coverage test looks for: this view is behind the gate.
        envoltura.seccion_de_ficha = seccion
        return envoltura

    return decorador


def respuesta_sin_acceso(request, cliente_id, acceso, *, form_urgencia=None, status=403):
    """The 403 page of a refused read: who may read a record and, for a dentist outside the
    care team, the urgent-access form."""
    cliente = Cliente.objects.only("pk", "nombre_completo").get(pk=cliente_id)
    return render(request, PLANTILLA_SIN_ACCESO, {"cliente": cliente, "acceso": acceso, "form_urgencia": form_urgencia,
                                                 "horas_urgencia": horas_de_urgencia()}, status=status)
