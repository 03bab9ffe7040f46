"""Forms of who may read a record: urgent access, its review, assigning a dentist to a
treatment, and the read log's filters. Spanish messages; the services have the last word."""

from django import forms

from ficha.accesos import MOTIVO_MINIMO
from ficha.models import Via
from gestion_clinica.forms.filtros import FiltroQuienYFechas
from nucleo.formularios import ConErroresDelServicio
from personal.models import Perfil


class FormularioUrgencia(ConErroresDelServicio, forms.Form):
    campo_por_codigo = {"motivo_requerido": "motivo"}

    motivo = forms.CharField(
        label="Motivo de la urgencia", min_length=MOTIVO_MINIMO, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Quedará registrado con cada lectura y la administración lo revisará.",
        error_messages={"required": "Escriba el motivo de la urgencia (al menos 10 caracteres).",
                        "min_length": "Escriba el motivo de la urgencia (al menos 10 caracteres).",
                        "max_length": "El motivo no puede pasar de 2000 caracteres."},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class FormularioRevision(ConErroresDelServicio, forms.Form):
    nota = forms.CharField(label="Nota de la revisión", required=False, max_length=2000,
                           widget=forms.TextInput(attrs={"placeholder": "Opcional: qué se comprobó"}),
                           error_messages={"max_length": "La nota no puede pasar de 2000 caracteres."})


class NombreDePerfil(forms.ModelChoiceField):
    def label_from_instance(self, perfil):
        especialidad = f" ({perfil.especialidad})" if perfil.especialidad else ""
        return f"{perfil.nombre}{especialidad}"


class FormularioConceder(ConErroresDelServicio, forms.Form):
    campo_por_codigo = {"motivo_requerido": "motivo", "motivo_largo": "motivo", "no_es_dentista": "dentista",
                        "acceso_duplicado": "dentista"}

    dentista = NombreDePerfil(
        label="Dentista", queryset=Perfil.objects.none(), empty_label="Elija un dentista",
        error_messages={"required": "Elija un dentista.",
                        "invalid_choice": "Elija un dentista activo de la clínica."},
    )
    motivo = forms.CharField(label="Motivo", max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": "Ej.: planifica la ortodoncia"}),
                             error_messages={"required": "Indique por qué se otorga el acceso.",
                                             "max_length": "El motivo no puede pasar de 200 caracteres."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dentista"].queryset = (Perfil.objects.reservables().select_related("user")
                                            .order_by("user__first_name", "user__last_name", "pk"))


class FiltroLecturas(FiltroQuienYFechas):
    field_order = ["paciente", "usuario", "desde", "hasta", "via", "solo_urgencia"]

    paciente = forms.CharField(label="Paciente (nombre o RUT)", required=False, max_length=100,
                               error_messages={"max_length": "Escriba a lo más 100 caracteres."})
    via = forms.ChoiceField(label="Acceso", required=False, choices=[("", "Todos")] + list(Via.choices),
                            error_messages={"invalid_choice": "Ese tipo de acceso no existe."})
    solo_urgencia = forms.BooleanField(label="Solo accesos de urgencia", required=False)

    def filtros(self):
        datos = getattr(self, "cleaned_data", {})
        return {**super().filtros(), "paciente": datos.get("paciente") or "", "via": datos.get("via") or "",
                "solo_urgencia": bool(datos.get("solo_urgencia"))}
