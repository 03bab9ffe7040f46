"""Forms of the informed consents. They only parse; the rules (who may issue or record, the RUT,
the signature's bounds, the state) are ``ficha.consentimientos``', whose ``ValidationError``
goes back on the fields."""

from django import forms

from ficha.consentimientos import LARGO_FIRMANTE, LARGO_MOTIVO, LARGO_NOMBRE, LARGO_PROCEDIMIENTO, LARGO_TEXTO
from ficha.models import RelacionFirmante
from gestion_clinica.forms.ficha import _Base

_ELIJA = "Elija una opción de la lista."


class FormularioPlantilla(_Base):
    nombre = forms.CharField(label="Nombre", max_length=LARGO_NOMBRE, help_text="Por ejemplo: Exodoncia simple.")
    procedimiento = forms.CharField(label="Procedimiento", max_length=LARGO_PROCEDIMIENTO,
                                    help_text="Qué se hará, en palabras del paciente.")
    texto = forms.CharField(label="Texto del consentimiento", max_length=LARGO_TEXTO,
                            widget=forms.Textarea(attrs={"rows": 14}),
                            help_text="En qué consiste, riesgos, alternativas y cuidados. Se copia tal cual en "
                                      "cada consentimiento emitido: cambiarlo aquí no cambia los ya emitidos.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for campo in self.fields.values():
            campo.error_messages["required"] = "Complete este campo."


class FormularioEmitir(_Base):
    campo_por_codigo = {"plantilla_invalida": "plantilla", "plantilla_inactiva": "plantilla"}

    plantilla = forms.TypedChoiceField(label="Procedimiento", coerce=int,
                                       error_messages={"invalid_choice": "Elija una plantilla de la lista.",
                                                       "required": "Elija una plantilla de la lista."})

    def __init__(self, *args, plantillas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plantilla"].choices = [("", "Elija…")] + [(p.pk, p.nombre) for p in plantillas]


class FormularioAceptacion(_Base):
    """The signer, "he leído…", and the signature (strokes, hidden, written by firma.js) or the
    signed scan, as the page asks."""

    campo_por_codigo = {"no_leido": "leido", "forma_requerida": "firma", "rut_no_es_del_paciente": "firmante_rut"}

    leido = forms.BooleanField(label="He leído (o se me leyó) este consentimiento, se me explicaron sus riesgos y "
                                     "alternativas, y pude hacer preguntas.", required=False)
    firmante_relacion = forms.ChoiceField(label="Quién firma", choices=RelacionFirmante.choices,
                                          initial=RelacionFirmante.PACIENTE, error_messages={"invalid_choice": _ELIJA})
    firmante_nombre = forms.CharField(label="Nombre completo de quien firma", max_length=LARGO_FIRMANTE,
                                      required=False)
    firmante_rut = forms.CharField(label="RUT de quien firma", max_length=30, required=False,
                                   help_text="Por ejemplo 12.345.678-5.")
    firma = forms.CharField(widget=forms.HiddenInput, required=False, max_length=None, strip=False)
    archivo = forms.FileField(label="Documento firmado y escaneado (PDF, JPG o PNG)", required=False,
                              error_messages={"invalid": "Elija el archivo escaneado de nuevo.",
                                              "empty": "El archivo está vacío. Elija otro archivo."})

    def __init__(self, *args, escaneo=False, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["firma" if escaneo else "archivo"]
        if escaneo:
            self.fields["archivo"].required = False

    def datos(self) -> dict:
        datos = dict(self.cleaned_data)
        if "archivo" in datos:
            datos["firma"] = None
        return datos


class FormularioMotivo(_Base):
    motivo = forms.CharField(label="Motivo", max_length=LARGO_MOTIVO, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))
