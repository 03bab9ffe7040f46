"""The patient portal alone (``CLINICA_SITIO=portal``): ``/portal/`` and the providers'
webhooks, with the same paths as in ``clinica.urls`` so links already sent (invitations,
reminders) keep working. No staff pages and no admin on the public service."""

from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:inicio", permanent=False)),
    path("portal/", include("cliente_web.urls")),
    path("webhooks/", include("notificaciones.urls")),
]
