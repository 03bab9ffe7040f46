"""Forms of who may read a record: urgent access, its review, assigning a dentist to a
treatment, and the read log's filters. Spanish messages; the services have the last word."""

import datetime

from django import forms
from django.contrib.auth import get_user_model

from ficha.accesos import MOTIVO_MINIMO
from ficha.models import Via
from nucleo.formularios import ConClasesBootstrap, ConErroresDelServicio, EntradaFecha
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


class NombreDeUsuario(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class FiltroLecturas(ConClasesBootstrap, forms.Form):
    paciente = forms.CharField(label="Paciente (nombre o RUT)", required=False, max_length=100,
                               error_messages={"max_length": "Escriba a lo más 100 caracteres."})
    usuario = NombreDeUsuario(
        label="Quién", required=False, queryset=get_user_model().objects.none(), empty_label="Todos",
        error_messages={"invalid_choice": "Esa persona no existe."},
    )
    desde = forms.DateField(label="Desde", required=False, widget=EntradaFecha(),
                            error_messages={"invalid": "Escriba una fecha válida."})
    hasta = forms.DateField(label="Hasta", required=False, widget=EntradaFecha(),
                            error_messages={"invalid": "Escriba una fecha válida."})
    via = forms.ChoiceField(label="Acceso", required=False, choices=[("", "Todos")] + list(Via.choices),
                            error_messages={"invalid_choice": "Ese tipo de acceso no existe."})
    solo_urgencia = forms.BooleanField(label="Solo accesos de urgencia", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["usuario"].queryset = (
            get_user_model().objects.filter(is_staff=True).order_by("first_name", "last_name", "username")
        )

    def clean(self):
        datos = super().clean()
        desde, hasta = datos.get("desde"), datos.get("hasta")
        if desde and hasta and desde > hasta:
            self.add_error("hasta", "La fecha «hasta» es anterior a «desde».")
        return datos

    def filtros(self):
        """The valid filters (``is_valid()`` must have run); invalid ones are left out."""
        datos = getattr(self, "cleaned_data", {})
        usuario = datos.get("usuario")
        hasta = datos.get("hasta")
        return {
            "paciente": datos.get("paciente") or "",
            "usuario_id": usuario.pk if usuario else None,
            "desde": datos.get("desde"),
            "hasta": hasta if hasta and hasta < datetime.date.max else None,
            "via": datos.get("via") or "",
            "solo_urgencia": bool(datos.get("solo_urgencia")),
        }
