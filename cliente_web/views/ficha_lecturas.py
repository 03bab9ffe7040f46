"""Portal: "Quién vio mi ficha" (Ley 20.584, Decreto 41 art. 9). The patient sees when, who
(name and role), what part of their clinical record and on what ground, including urgent
accesses and refused attempts; never IPs or an urgent access's written reason."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from cliente_web.permisos import requiere_paciente
from ficha.selectors_lecturas import lecturas_del_paciente

POR_PAGINA = 20


@require_GET
@requiere_paciente
def lecturas_ficha(request):
    """The patient's own rows of the read log, newest first, paginated (``request.paciente``:
    another patient's rows are never in the query)."""
    pagina = Paginator(lecturas_del_paciente(request.paciente.pk), POR_PAGINA).get_page(request.GET.get("pagina"))
    return render(request, "cliente_web/cuenta/lecturas_ficha.html", {"pagina": pagina})


urlpatterns = [
    path("cuenta/ficha/lecturas/", lecturas_ficha, name="cuenta_lecturas_ficha"),
]
