"""The staff site's one gate to clinical content: every view that shows any part of a patient's
record (history, notes, documents, PDFs) is wrapped in ``con_acceso_a_ficha``.

It turns away ids no row can have (a 404, nothing written), asks ``ficha.acceso.acceso_a_ficha``
(the one rule), checks that the row read (``objeto``) is one of this patient's (``modelo``; a
404 and no row otherwise: a patient's log names only what was read of their own record),
writes the read log row (``ficha.lecturas.registrar_lectura``) in the same request whether the
read is allowed or not, and only then lets the view run. The HTTP method is checked outside
(``require_safe`` / ``require_POST`` wrap the gate): a wrong method is a 405 with no row. Refused: a 403 page that says why; a dentist outside the care
team is offered "acceso de urgencia" there. ``clinica/tests/test_lecturas_cobertura.py`` walks
every staff URL and fails on clinical content shown without its log row."""

from functools import wraps

from django.http import Http404
from django.shortcuts import render

from ficha.acceso import acceso_a_ficha, horas_de_urgencia
from ficha.lecturas import registrar_lectura
from gestion_clinica.permisos import TODOS, requiere_rol
from gestion_clinica.views.comun import ids_validos
from nucleo.ip_cliente import ip_del_cliente
from pacientes.models import Cliente

PLANTILLA_SIN_ACCESO = "gestion_clinica/ficha/sin_acceso.html"


def con_acceso_a_ficha(seccion: str, *, objeto: str | None = None, modelo=None, si_no_existe=None):
    """View decorator for ``vista(request, cliente_id, ...)``: any staff role may knock, the
    access rule decides, the read is logged (``seccion``; ``objeto`` names the URL kwarg that
    holds the row read, e.g. ``"evolucion_id"``, of ``modelo``, a model such as
    ``ClienteDocumento`` or a function ``(request) -> QuerySet`` of the rows the reader may see:
    an allowed
    read of a row that is not this patient's is a 404 and writes nothing, or what
    ``si_no_existe(request, cliente_id)`` answers, e.g. "already deleted" for a repeated
    delete). Sets ``request.acceso_ficha``."""
    if (objeto is None) != (modelo is None):
        raise TypeError("con_acceso_a_ficha: «objeto» y «modelo» van juntos.")

    def decorador(vista):
        @requiere_rol(*TODOS)
        @ids_validos
        @wraps(vista)
        def envoltura(request, cliente_id, *args, **kwargs):
            acceso = acceso_a_ficha(request.user, cliente_id)
            if acceso is None:
                raise Http404("Ese paciente no existe.")
            if acceso.permitido and modelo is not None and not _filas(modelo, request).filter(
                    pk=kwargs[objeto], cliente_id=cliente_id).exists():
                if si_no_existe is not None:
                    return si_no_existe(request, cliente_id)
                raise Http404("No existe en la ficha de este paciente.")
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


def _filas(modelo, request):
    """``modelo``'s rows this reader may see: all of a model, or what a function of the request
    answers (e.g. signed notes and the reader's own drafts)."""
    return modelo.objects.all() if hasattr(modelo, "objects") else modelo(request)


def respuesta_sin_acceso(request, cliente_id, acceso, *, form_urgencia=None, status=403):
    """The 403 page of a refused read: who may read a record and, for a dentist outside the
    care team, the urgent-access form."""
    cliente = Cliente.objects.only("pk", "nombre_completo").get(pk=cliente_id)
    return render(request, PLANTILLA_SIN_ACCESO, {"cliente": cliente, "acceso": acceso, "form_urgencia": form_urgencia,
                                                 "horas_urgencia": horas_de_urgencia()}, status=status)
