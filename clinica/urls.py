from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # Patients arrive at the bare address: the portal is the front door.
    path("", RedirectView.as_view(pattern_name="portal:inicio", permanent=False)),
    path("admin/", admin.site.urls),
    path("gestion/", include("gestion_clinica.urls")),
    # Passkeys of the staff's second factor (namespace otp_webauthn: gestion_clinica/urls_llaves.py)
    path("gestion/llaves/", include("gestion_clinica.urls_llaves")),
    path("portal/", include("cliente_web.urls")),
    path("webhooks/", include("notificaciones.urls")),
]
