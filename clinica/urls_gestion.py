"""The staff site alone (``CLINICA_SITIO=gestion``): ``/gestion/`` and the admin, with the same
paths as in ``clinica.urls`` so links already sent (invitations) keep working. Static files are
served by WhiteNoise's middleware, whatever the URLconf."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="gestion:inicio", permanent=False)),
    path("admin/", admin.site.urls),
    path("gestion/", include("gestion_clinica.urls")),
    # Passkeys of the staff's second factor (namespace otp_webauthn: gestion_clinica/urls_llaves.py)
    path("gestion/llaves/", include("gestion_clinica.urls_llaves")),
]
