"""Bare Django views: the ceiling the clinic's pages are measured against (benchmark only).

All go through the whole middleware stack of the real settings (sessions, CSRF, auth, CSP,
axes, pghistory...) and do the least a page of their kind can do: one indexed query, or one
compare-and-set UPDATE in autocommit. Never routed in the real URLconf.
"""

from django.db import connection
from django.http import HttpResponse, HttpResponseForbidden
from django.template import engines
from django.views.decorators.http import require_GET, require_POST

_PAGINA = engines["django"].from_string(
    "<!doctype html><title>hora</title><p>Hora {{ id }}: {{ inicio|date:'Y-m-d H:i' }}</p>"
)

# The same statement as bench-reservas' bare SQL; the patient is looked up inside it, so it
# stays one round trip. The audit trigger on citas_cita fires as for any write.
_CAS = (
    "UPDATE citas_cita SET estado = 'reservada', paciente_nombre = %s, "
    "cliente_id = (SELECT id FROM pacientes_cliente WHERE user_id = %s AND activo) "
    "WHERE id = %s AND estado = 'disponible'"
)


@require_GET
def una_consulta(request, cita_id):
    """One primary-key query, rendered by a (tiny) Django template."""
    with connection.cursor() as cur:
        cur.execute("SELECT id, inicio FROM citas_cita WHERE id = %s", [cita_id])
        fila = cur.fetchone()
    if fila is None:
        return HttpResponse("no existe", status=404)
    return HttpResponse(_PAGINA.render({"id": fila[0], "inicio": fila[1]}))


@require_GET
def una_consulta_con_usuario(request, cita_id):
    """The same page for a logged-in user: reading ``request.user`` loads the session and the
    user (2 queries more), what every page that needs to know who asks pays at least."""
    if not request.user.is_authenticated:
        return HttpResponseForbidden("sin sesión")
    return una_consulta(request, cita_id)


@require_POST
def compare_and_set(request, cita_id):
    """A logged-in POST (CSRF checked by the middleware) that takes the slot or says 409."""
    if not request.user.is_authenticated:
        return HttpResponseForbidden("sin sesión")
    with connection.cursor() as cur:
        cur.execute(_CAS, [request.user.get_full_name() or request.user.username, request.user.pk, cita_id])
        tomada = cur.rowcount == 1
    return HttpResponse("reservada" if tomada else "tomada", status=200 if tomada else 409)
