"""Forms of the arancel (administration) and of the treatment plans (dentist). They only parse:
amounts typed as "$12.500" or "12500" are read by ``nucleo.formato.leer_pesos`` (one
definition); the rules are the services' (``prestaciones.services``, ``tratamientos.planes``),
whose ``ValidationError`` goes back on the fields."""

from django import forms

from gestion_clinica.forms.ficha import _Base
from nucleo.formato import leer_pesos, pesos
from prestaciones.models import HALLAZGOS_TRATABLES, PRECIO_MAXIMO
from prestaciones.services import LARGO_ESPECIALIDAD, LARGO_NOMBRE


class CampoPesos(forms.CharField):
    """An amount in integer CLP, typed as people write it ("$12.500", "12.500", "12500")."""

    def __init__(self, *args, maximo=PRECIO_MAXIMO, **kwargs):
        self.maximo = maximo
        kwargs.setdefault("max_length", 30)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def prepare_value(self, value):
        return pesos(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def clean(self, value):
        texto = super().clean(value)
        if texto in (None, "") and not self.required:
            return 0
        try:
            return leer_pesos(texto, maximo=self.maximo)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="monto_invalido") from None


class FormularioPrestacion(_Base):
    codigo = forms.CharField(label="Código", max_length=20, help_text="Letras mayúsculas, dígitos, punto o guion. "
                             "Por ejemplo OPE-01.")
    nombre = forms.CharField(label="Nombre", max_length=LARGO_NOMBRE)
    especialidad = forms.CharField(label="Especialidad", max_length=LARGO_ESPECIALIDAD, required=False)
    duracion_minutos = forms.IntegerField(label="Duración (minutos)", min_value=5, max_value=480,
                                          error_messages={"invalid": "Escriba la duración en minutos (5 a 480).",
                                                          "min_value": "La duración debe estar entre 5 y 480 minutos.",
                                                          "max_value": "La duración debe estar entre 5 y 480 minutos."})
    precio = CampoPesos(label="Precio", help_text="En pesos, sin decimales (por ejemplo $12.500).")
    reservable_en_linea = forms.BooleanField(label="Los pacientes la reservan en el portal", required=False)
    trata_hallazgo = forms.ChoiceField(
        label="Trata el hallazgo del odontograma", required=False,
        choices=[("", "Ninguno")] + list(HALLAZGOS_TRATABLES.items()),
        error_messages={"invalid_choice": "Elija un hallazgo del odontograma de la lista."},
        help_text="Se sugiere al agregar ese hallazgo a un plan de tratamiento.")
    dentistas = forms.TypedMultipleChoiceField(
        label="Dentistas que la realizan", required=False, coerce=int, widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Elija dentistas de la lista.", "invalid_list": "Elija dentistas de la lista."})

    def __init__(self, *args, dentistas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dentistas"].choices = [(d.pk, d.nombre + (f" · {d.especialidad}" if d.especialidad else ""))
                                            for d in dentistas]
        for nombre in ("codigo", "nombre", "duracion_minutos", "precio"):
            self.fields[nombre].error_messages["required"] = "Complete este campo."
        self.fields["dentistas"].widget.attrs.pop("class", None)
        self.fields["reservable_en_linea"].widget.attrs["class"] = "form-check-input"

    def datos(self):
        datos = dict(self.cleaned_data)
        return {**{k: v for k, v in datos.items() if k != "dentistas"}, "dentista_ids": datos["dentistas"]}


class FormularioItem(_Base):
    """A new item by hand: a prestación of the arancel, a tooth and surface or the whole mouth."""

    prestacion = forms.TypedChoiceField(label="Prestación", coerce=int,
                                        error_messages={"invalid_choice": "Elija una prestación del arancel.",
                                                        "required": "Elija una prestación del arancel."})
    diente = forms.CharField(label="Diente (FDI)", max_length=3, required=False,
                             help_text="Vacío: toda la boca.")
    superficie = forms.ChoiceField(label="Cara", required=False,
                                   choices=[("", "Todo el diente"), ("O", "O (oclusal)"), ("M", "M (mesial)"),
                                            ("D", "D (distal)"), ("V", "V (vestibular)"), ("L", "L (lingual)")],
                                   error_messages={"invalid_choice": "La cara debe ser O, M, D, V o L."})
    fase = forms.TypedChoiceField(label="Fase", coerce=int, initial=1, choices=[(n, n) for n in range(1, 10)],
                                  error_messages={"invalid_choice": "La fase va de 1 a 9.",
                                                  "required": "La fase va de 1 a 9."})
    descuento = CampoPesos(label="Descuento", required=False)

    def __init__(self, *args, prestaciones=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prestacion"].choices = [("", "Elija…")] + [
            (p.pk, f"{p.codigo} · {p.nombre} ({pesos(p.precio)})") for p in prestaciones]


class FormularioEditarItem(_Base):
    precio = CampoPesos(label="Precio")
    descuento = CampoPesos(label="Descuento", required=False)
    fase = forms.TypedChoiceField(label="Fase", coerce=int, choices=[(n, n) for n in range(1, 10)],
                                  error_messages={"invalid_choice": "La fase va de 1 a 9.",
                                                  "required": "La fase va de 1 a 9."})
    orden = forms.IntegerField(label="Orden", min_value=0, max_value=9999,
                               error_messages={"invalid": "El orden es un número de 0 a 9999.",
                                               "min_value": "El orden es un número de 0 a 9999.",
                                               "max_value": "El orden es un número de 0 a 9999.",
                                               "required": "El orden es un número de 0 a 9999."})
