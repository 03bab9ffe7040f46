"""The patient portal, mounted at ``/portal/`` (namespace ``portal``). Each area's view module
keeps its own ``urlpatterns``; they are joined here."""

from cliente_web.views import citas, clave, cuenta, documentos, enlaces, inicio, registro, reservas, sesion
from cliente_web.views import ficha_lecturas
from cliente_web.views import recetas
from cliente_web.views import comprobantes
from cliente_web.views import estado_cuenta
from cliente_web.views import presupuestos

app_name = "portal"

urlpatterns = [
    *inicio.urlpatterns,
    *sesion.urlpatterns,
    *registro.urlpatterns,
    *clave.urlpatterns,
    *reservas.urlpatterns,
    *citas.urlpatterns,
    *cuenta.urlpatterns,
    *documentos.urlpatterns,
    *enlaces.urlpatterns,
    *ficha_lecturas.urlpatterns,
    *recetas.urlpatterns,
    *comprobantes.urlpatterns,
    *estado_cuenta.urlpatterns,
    *presupuestos.urlpatterns,
]
