"""Portal: one of the patient's receipts (comprobantes) as the same PDF the desk prints. Only
``request.paciente``'s own: another patient's id is a 404. "Mis pagos" (the list, the statement)
is the account statement's page; this is its download. A receipt is administrative, not
clinical content: no read-log row."""

from django.http import Http404
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cliente_web.permisos import requiere_paciente
from nucleo.pdf import respuesta_pdf
from nucleo.servicios import es_id_valido
from pagos.comprobantes_pdf import comprobante_en_pdf
from pagos.models import Pago
from pagos.selectors_caja import anulacion_de, pago_del_paciente


@require_safe
@never_cache
@requiere_paciente
def mi_comprobante(request, pago_id):
    if not es_id_valido(pago_id):
        raise Http404("Ese comprobante no existe.")
    try:
        pago = pago_del_paciente(cliente_id=request.paciente.pk, pago_id=pago_id)
    except Pago.DoesNotExist:
        raise Http404("Ese comprobante no existe.") from None
    contenido = comprobante_en_pdf(pago, anulacion=anulacion_de(pago) if pago.anulado else None,
                                   generado_para=f"{request.paciente.nombre_completo} (paciente, desde el portal)")
    return respuesta_pdf(contenido, f"comprobante-{pago.numero:06d}.pdf")


urlpatterns = [
    path("cuenta/comprobantes/<int:pago_id>/", mi_comprobante, name="mi_comprobante"),
]
