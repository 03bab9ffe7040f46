"""Forms of the second-factor step: they only parse; the codes are checked by
``personal.segundo_factor``."""

from django import forms

from nucleo.formularios import ConClasesBootstrap


class FormularioCodigoApp(ConClasesBootstrap, forms.Form):
    """Enrolment: the 6 digits the authenticator app shows."""

    codigo = forms.CharField(
        label="Código de 6 dígitos", max_length=12, strip=True,
        error_messages={"required": "Escriba el código de 6 dígitos que muestra su aplicación."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_codigo(self):
        codigo = "".join(self.cleaned_data["codigo"].split())
        if not (codigo.isdigit() and len(codigo) == 6):
            raise forms.ValidationError("El código son 6 dígitos, sin letras.", code="formato")
        return codigo


class FormularioCodigo(ConClasesBootstrap, forms.Form):
    """Sign-in: a code of the app or a recovery code."""

    codigo = forms.CharField(
        label="Código", max_length=20, strip=True,
        help_text="Los 6 dígitos de su aplicación, o uno de sus códigos de recuperación.",
        error_messages={"required": "Escriba el código de su aplicación o un código de recuperación."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "autocapitalize": "off", "spellcheck": "false"}),
    )

    def clean_codigo(self):
        codigo = "".join(self.cleaned_data["codigo"].split())
        if not codigo.isalnum():
            raise forms.ValidationError("El código tiene solo letras y números.", code="formato")
        return codigo
