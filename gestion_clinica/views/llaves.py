"""Passkeys (django-otp-webauthn) as a second factor of the staff site, never as the first: a
passkey verifies a session that already gave its password, like a code of the app.

django-otp-webauthn's JSON views, with the staff site's rules on top: only staff with a role
start or finish a ceremony, and a passkey is added only from a session already verified (after
enrolling the authenticator app, on the recovery codes' page), so a stolen password alone can add
none. Their script is a static file (``<script type="module" src>``) with its settings in a
``json_script``: our CSP allows both. URLs: ``gestion_clinica.urls_llaves`` (namespace
``otp_webauthn``, which the library's template tags reverse)."""

from django.http.request import split_domain_port
from django_otp_webauthn import exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView, BeginCredentialRegistrationView, CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from gestion_clinica.permisos import rol_de
from personal.segundo_factor import esta_verificado


class NoEsPersonal(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_detail = "Solo el personal de la clínica usa llaves de acceso aquí."
    default_code = "no_es_personal"


class SinVerificar(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_detail = "Primero entre con el código de su aplicación; después podrá agregar una llave de acceso."
    default_code = "sin_verificar"


def rp_id(request) -> str:
    """The relying party: this site's host name as the browser sees it (Host is checked against
    ALLOWED_HOSTS first). Origins stay fixed in ``OTP_WEBAUTHN_ALLOWED_ORIGINS``."""
    dominio, _puerto = split_domain_port(request.get_host())
    return dominio


def _exigir_personal(request):
    if rol_de(request.user) is None:
        raise NoEsPersonal()


class InicioRegistro(BeginCredentialRegistrationView):
    def check_can_register(self):
        _exigir_personal(self.request)
        if not esta_verificado(self.request.user):  # whatever the role: CLINICA_MFA_ROLES aside
            raise SinVerificar()


class FinRegistro(CompleteCredentialRegistrationView):
    def check_can_register(self):
        _exigir_personal(self.request)
        if not esta_verificado(self.request.user):  # whatever the role: CLINICA_MFA_ROLES aside
            raise SinVerificar()


class InicioVerificacion(BeginCredentialAuthenticationView):
    def check_can_authenticate(self):
        if not self.request.user.is_authenticated:
            raise exceptions.PasswordlessLoginDisabled()
        _exigir_personal(self.request)


class FinVerificacion(CompleteCredentialAuthenticationView):
    def check_can_authenticate(self):
        if not self.request.user.is_authenticated:
            raise exceptions.PasswordlessLoginDisabled()
        _exigir_personal(self.request)

    def complete_auth(self, device):
        if device.user_id != self.request.user.pk:
            raise exceptions.CredentialUserMismatch()
        self.request.session.cycle_key()  # as after a code: a more trusted session, a new key
        super().complete_auth(device)
