"""Forms of the agenda area: they only parse; the rules are in ``citas`` services."""

import datetime

from django import forms
from django.utils import timezone

from citas.models import DiaSemana, TipoCierre
from nucleo.formularios import ConClasesBootstrap, EntradaFecha

ID_MAXIMO = 2**63 - 1
# Dates the agenda accepts: beyond them the time-zone arithmetic overflows (year 9999 in UTC).
ANIO_MINIMO, ANIO_MAXIMO = 2000, 2100


class CampoFecha(forms.DateField):
    """A date between ANIO_MINIMO and ANIO_MAXIMO, else a Spanish error (never a 500)."""

    def validate(self, value):
        super().validate(value)
        if value and not ANIO_MINIMO <= value.year <= ANIO_MAXIMO:
            raise forms.ValidationError(f"Use una fecha entre los años {ANIO_MINIMO} y {ANIO_MAXIMO}.",
                                        code="fecha_fuera_de_rango")


class FormularioAsignar(ConClasesBootstrap, forms.Form):
    """A patient with a record (``cliente``, chosen from the search) or a person without one."""

    cliente = forms.IntegerField(required=False, min_value=1, max_value=ID_MAXIMO, widget=forms.HiddenInput)
    paciente_nombre = forms.CharField(label="Nombre (persona sin ficha)", required=False, max_length=200)
    paciente_telefono = forms.CharField(label="Teléfono", required=False, max_length=40)
    paciente_email = forms.CharField(label="Correo electrónico", required=False, max_length=254)
    motivo = forms.CharField(label="Motivo (opcional)", required=False, max_length=200)

    def clean(self):
        datos = super().clean()
        if not datos.get("cliente") and not (datos.get("paciente_nombre") or "").strip():
            raise forms.ValidationError(
                "Elija un paciente de la búsqueda o escriba el nombre de la persona sin ficha.", code="sin_paciente"
            )
        return datos


class FormularioCancelar(ConClasesBootstrap, forms.Form):
    por_clinica = forms.BooleanField(label="Cancelada por la clínica (se avisa al paciente)", required=False)
    motivo = forms.CharField(label="Motivo (opcional)", required=False, max_length=200)


class FormularioReprogramar(forms.Form):
    nueva = forms.IntegerField(min_value=1, max_value=ID_MAXIMO, error_messages={
        "required": "Elija la nueva hora.", "invalid": "Elija la nueva hora.",
        "min_value": "Elija la nueva hora.", "max_value": "Elija la nueva hora.",
    })


class FormularioBloque(ConClasesBootstrap, forms.Form):
    """One row of weekly hours; an empty row is ignored."""

    dia_semana = forms.TypedChoiceField(label="Día", choices=[("", "—"), *DiaSemana.choices], coerce=int,
                                        required=False, empty_value=None)
    hora_inicio = forms.TimeField(label="Desde", required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    hora_fin = forms.TimeField(label="Hasta", required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    duracion_minutos = forms.IntegerField(label="Minutos por hora", required=False, min_value=5, max_value=480,
                                          initial=30)

    def clean(self):
        datos = super().clean()
        valores = [datos.get(c) for c in ("dia_semana", "hora_inicio", "hora_fin")]
        if any(v is not None for v in valores) and any(v is None for v in valores):
            raise forms.ValidationError("Complete día, desde y hasta (o deje la fila vacía).", code="fila_incompleta")
        return datos

    @property
    def vacia(self):
        return self.cleaned_data.get("dia_semana") is None


FormularioHorario = forms.formset_factory(FormularioBloque, extra=3, max_num=40, absolute_max=60)


class FormularioRango(ConClasesBootstrap, forms.Form):
    desde = CampoFecha(label="Desde", widget=EntradaFecha())
    hasta = CampoFecha(label="Hasta", widget=EntradaFecha())
    dentista = forms.TypedChoiceField(label="Dentista", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, dentistas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dentista"].choices = [("", "Todos los dentistas"), *((d.pk, d.nombre) for d in dentistas)]


class FormularioCierre(ConClasesBootstrap, forms.Form):
    """A closure of the whole clinic or an absence of one dentist, over a date range.
    ``confirmado``: the receptionist saw how many bookings it affects and closes anyway."""

    dentista = forms.TypedChoiceField(label="Quién no atiende", required=False, coerce=int, empty_value=None)
    tipo = forms.ChoiceField(label="Tipo", choices=TipoCierre.choices, initial=TipoCierre.CLINICA)
    desde = CampoFecha(label="Desde", widget=EntradaFecha())
    hasta = CampoFecha(label="Hasta (incluido)", widget=EntradaFecha())
    motivo = forms.CharField(label="Motivo", max_length=200, error_messages={"required": "Indique el motivo."},
                             help_text="Se muestra en la agenda. A los pacientes no se les dice.")
    confirmado = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, dentistas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dentista"].choices = [("", "Toda la clínica"), *((d.pk, d.nombre) for d in dentistas)]


class FormularioBloquear(ConClasesBootstrap, forms.Form):
    motivo = forms.CharField(label="Motivo", max_length=200, error_messages={"required": "Indique el motivo."},
                             help_text="Por ejemplo: reunión, sillón en reparación. Se muestra en la agenda.")


def fecha_valida(valor) -> datetime.date | None:
    """``AAAA-MM-DD`` within a sane range, or None."""
    try:
        fecha = datetime.date.fromisoformat(str(valor))
    except (TypeError, ValueError):
        return None
    return fecha if ANIO_MINIMO <= fecha.year <= ANIO_MAXIMO else None


class FormularioCrearHora(ConClasesBootstrap, forms.Form):
    """One free slot: a dentist, a local date and time, a length."""

    dentista = forms.TypedChoiceField(label="Dentista", coerce=int)
    fecha = CampoFecha(label="Fecha", widget=EntradaFecha())
    hora = forms.TimeField(label="Hora", widget=forms.TimeInput(attrs={"type": "time"}))
    duracion_minutos = forms.IntegerField(label="Minutos", initial=30, min_value=1, max_value=10_000)

    def __init__(self, *args, dentistas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dentista"].choices = [(d.pk, d.nombre) for d in dentistas]

    def clean(self):
        datos = super().clean()
        if datos.get("fecha") and datos.get("hora"):
            zona = timezone.get_current_timezone()
            local = datetime.datetime.combine(datos["fecha"], datos["hora"])
            inicio = local.replace(tzinfo=zona, fold=0)
            # A time in the spring-forward gap does not survive the round trip through UTC.
            if inicio.astimezone(datetime.UTC).astimezone(zona).replace(tzinfo=None) != local:
                raise forms.ValidationError("Esa hora no existe ese día (cambio de horario).", code="hora_inexistente")
            datos["inicio"] = inicio.astimezone(datetime.UTC)  # UTC: the service adds the length in real time
        return datos
