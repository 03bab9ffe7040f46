"""Portal area: Estado de cuenta. The patient's own statement (``pagos.estado_cuenta``, the
same numbers as the staff page): what they owe or have in their favour, their accepted quotes
and what each still owes, their payments (with the receipt's PDF once it exists) and the
prestaciones done. Always ``request.paciente``'s: there is no id in the URL to change."""

from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cliente_web.permisos import requiere_paciente
from pagos.estado_cuenta import estado_de_cuenta


def url_de_comprobante(pago_id: int) -> str | None:
    """The portal's receipt PDF of a payment (``portal:mi_comprobante``, h-pagos' view), or
    None while that view does not exist.
    TODO(lead): after merging h-pagos, call ``reverse`` directly and drop this helper."""
    try:
        return reverse("portal:mi_comprobante", kwargs={"pago_id": pago_id})
    except NoReverseMatch:
        return None


@require_safe
@never_cache
@requiere_paciente
def estado_cuenta(request):
    estado = estado_de_cuenta(request.paciente.pk)
    for movimiento in estado.movimientos:
        movimiento.url_comprobante = url_de_comprobante(movimiento.pago_id)
    return render(request, "cliente_web/cuenta/estado_cuenta.html", {"estado": estado})


urlpatterns = [
    path("cuenta/estado/", estado_cuenta, name="cuenta_estado"),
]
