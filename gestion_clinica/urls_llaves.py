"""Passkeys' JSON endpoints (``gestion_clinica.views.llaves``), mounted by ``clinica.urls`` at
``/gestion/llaves/`` under the namespace ``otp_webauthn`` that django-otp-webauthn's template tags
reverse (a namespace of its own: inside ``gestion`` they would not find it)."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from gestion_clinica.views import llaves

app_name = "otp_webauthn"

urlpatterns = [
    path("registro/inicio/", llaves.InicioRegistro.as_view(), name="credential-registration-begin"),
    path("registro/fin/", llaves.FinRegistro.as_view(), name="credential-registration-complete"),
    path("verificacion/inicio/", llaves.InicioVerificacion.as_view(), name="credential-authentication-begin"),
    path("verificacion/fin/", llaves.FinVerificacion.as_view(), name="credential-authentication-complete"),
    path("textos/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]
