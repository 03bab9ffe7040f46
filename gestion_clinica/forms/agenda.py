"""Forms of the agenda area: they only parse; the rules are in ``citas`` services."""

import datetime

from django import forms
from django.utils import timezone

from citas.estados import ESTADOS_MARCADOS
from citas.horarios import Bloque
from citas.models import DiaSemana, TipoCierre
from nucleo.formato import pesos
from nucleo.formularios import ConClasesBootstrap, ConErroresDelServicio, EntradaFecha

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
    prestacion = forms.TypedChoiceField(
        label="Prestación", required=False, coerce=int, empty_value=None,
        help_text="Con una prestación se reserva su duración completa: las horas libres seguidas que la cubren "
                  "(si no calza con los bloques de la agenda, el bloque completo: 45 minutos en bloques de 30 ocupan 60).",
        error_messages={"invalid_choice": "Esa prestación no está en la lista de este dentista. Elija otra."},
    )

    def __init__(self, *args, prestaciones=(), **kwargs):
        """``prestaciones``: the active ones the slot's dentist performs."""
        super().__init__(*args, **kwargs)
        self.fields["prestacion"].choices = [
            ("", "Sin prestación (solo esta hora)"),
            *((p.pk, f"{p.nombre} · {p.duracion_minutos} min · {pesos(p.precio)}") for p in prestaciones),
        ]

    def clean(self):
        datos = super().clean()
        if not datos.get("cliente") and not (datos.get("paciente_nombre") or "").strip():
            raise forms.ValidationError(
                "Elija un paciente de la búsqueda o escriba el nombre de la persona sin ficha.", code="sin_paciente"
            )
        return datos


class FormularioCancelar(ConClasesBootstrap, forms.Form):
    """Who cancels (required: staff choose, no default unless the link brings one) and why
    (required for both: the patient's request gets a short note such as «llamó por teléfono»,
    kept in the agenda; the clinic's reason is sent to the patient)."""

    QUIEN = [("0", "El paciente lo pidió"), ("1", "La clínica cancela")]
    _SIN_QUIEN = "Indique quién cancela: el paciente lo pidió o la clínica cancela."

    por_clinica = forms.TypedChoiceField(
        label="¿Quién cancela?", choices=QUIEN, coerce=lambda valor: valor == "1", widget=forms.RadioSelect,
        error_messages={"required": _SIN_QUIEN, "invalid_choice": _SIN_QUIEN},
    )
    motivo = forms.CharField(
        label="Motivo", required=False, max_length=200,
        error_messages={"max_length": "El motivo no puede superar 200 caracteres."},
        help_text="Obligatorio. Si el paciente lo pidió, cómo y por qué (por ejemplo, «llamó por teléfono»): "
                  "queda en la agenda y no se le envía. Si cancela la clínica, el motivo va en el aviso al "
                  "paciente (por ejemplo, «la dentista está con licencia médica»).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["por_clinica"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        datos = super().clean()
        if "por_clinica" in datos and not datos.get("motivo") and "motivo" not in self.errors:
            self.add_error("motivo", forms.ValidationError(
                "Escriba el motivo de la cancelación: se le enviará al paciente." if datos["por_clinica"]
                else "Escriba cómo lo pidió el paciente (por ejemplo, «llamó por teléfono»).",
                code="motivo_requerido",
            ))
        return datos


class FormularioDeshacer(forms.Form):
    """The mark being undone, as the staff saw it (the service's compare-and-set checks it)."""

    desde = forms.ChoiceField(choices=[(e.value, e.label) for e in ESTADOS_MARCADOS],
                              error_messages={"required": "Esa marca no se puede deshacer.",
                                              "invalid_choice": "Esa marca no se puede deshacer."})


class FormularioReprogramar(forms.Form):
    nueva = forms.IntegerField(min_value=1, max_value=ID_MAXIMO, error_messages={
        "required": "Elija la nueva hora.", "invalid": "Elija la nueva hora.",
        "min_value": "Elija la nueva hora.", "max_value": "Elija la nueva hora.",
    })


class FormularioDarHora(ConClasesBootstrap, forms.Form):
    """"Dar hora" from a patient's page: the free time chosen in the picker and a reason."""

    hora = forms.IntegerField(min_value=1, max_value=ID_MAXIMO, widget=forms.HiddenInput, error_messages={
        "required": "Elija la hora.", "invalid": "Elija la hora.",
        "min_value": "Elija la hora.", "max_value": "Elija la hora.",
    })
    motivo = forms.CharField(label="Motivo (opcional)", required=False, max_length=200,
                             help_text="Escríbalo antes de tocar la hora.")


ETIQUETA_DURACION = "Duración de cada hora (minutos)"
AYUDA_DURACION = ("Cada hora libre que se genere dura esto; p. ej. 30 = 09:00, 09:30, 10:00… "
                  "Entre 5 y 480 minutos.")


class FormularioBloque(ConClasesBootstrap, forms.Form):
    """One row of weekly hours; an empty row is ignored."""

    dia_semana = forms.TypedChoiceField(label="Día", choices=[("", "—"), *DiaSemana.choices], coerce=int,
                                        required=False, empty_value=None)
    # HH:MM: with seconds the browser's time field shows "18:00:00".
    hora_inicio = forms.TimeField(label="Desde", required=False,
                                  widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    hora_fin = forms.TimeField(label="Hasta", required=False,
                               widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duracion_minutos = forms.IntegerField(label=ETIQUETA_DURACION, required=False, min_value=5, max_value=480,
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


class FormularioSemanaTipo(ConClasesBootstrap, forms.Form):
    """The usual week in one step: the same morning (and optional afternoon, after the lunch
    break) on each chosen weekday. ``bloques()`` expands it into rows for ``definir_horario``."""

    dias = forms.TypedMultipleChoiceField(
        label="Días", choices=DiaSemana.choices, coerce=int, widget=forms.CheckboxSelectMultiple,
        initial=[0, 1, 2, 3, 4], error_messages={"required": "Marque al menos un día.",
                                                 "invalid_choice": "Día de la semana desconocido."},
    )
    manana_desde = forms.TimeField(label="Mañana: desde", initial=datetime.time(9),
                                   widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                                   error_messages={"required": "Indique la hora de inicio."})
    manana_hasta = forms.TimeField(label="Mañana: hasta", initial=datetime.time(13),
                                   widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                                   error_messages={"required": "Indique la hora de término."})
    tarde_desde = forms.TimeField(label="Tarde: desde", required=False, initial=datetime.time(14),
                                  widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                                  help_text="Deje la tarde vacía si esos días se atiende solo en la mañana.")
    tarde_hasta = forms.TimeField(label="Tarde: hasta", required=False, initial=datetime.time(18),
                                  widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duracion_minutos = forms.IntegerField(label=ETIQUETA_DURACION, min_value=5, max_value=480, initial=30,
                                          help_text=AYUDA_DURACION,
                                          error_messages={"required": "Indique la duración de cada hora."})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "semana")
        super().__init__(*args, **kwargs)
        self.fields["dias"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        datos = super().clean()
        desde, hasta = datos.get("manana_desde"), datos.get("manana_hasta")
        if desde and hasta and hasta <= desde:
            self.add_error("manana_hasta", "Debe ser posterior a la hora de inicio de la mañana.")
        tarde = datos.get("tarde_desde"), datos.get("tarde_hasta")
        if (tarde[0] is None) != (tarde[1] is None) and not {"tarde_desde", "tarde_hasta"} & set(self.errors):
            self.add_error("tarde_hasta" if tarde[0] else "tarde_desde",
                           "Complete las dos horas de la tarde, o deje ambas vacías.")
        elif tarde[0] and tarde[1]:
            if tarde[1] <= tarde[0]:
                self.add_error("tarde_hasta", "Debe ser posterior a la hora de inicio de la tarde.")
            elif hasta and tarde[0] < hasta:
                self.add_error("tarde_desde", "La tarde debe empezar cuando termina la mañana o después.")
        return datos

    def bloques(self) -> list[Bloque]:
        """One or two ``Bloque`` per chosen day (``is_valid()`` must have been true)."""
        datos = self.cleaned_data
        tramos = [(datos["manana_desde"], datos["manana_hasta"])]
        if datos.get("tarde_desde") and datos.get("tarde_hasta"):
            tramos.append((datos["tarde_desde"], datos["tarde_hasta"]))
        return [Bloque(dia_semana=dia, hora_inicio=desde, hora_fin=hasta, duracion_minutos=datos["duracion_minutos"])
                for dia in sorted(set(datos["dias"])) for desde, hasta in tramos]


class FormularioRango(ConClasesBootstrap, forms.Form):
    desde = CampoFecha(label="Desde", widget=EntradaFecha())
    hasta = CampoFecha(label="Hasta", widget=EntradaFecha())
    dentista = forms.TypedChoiceField(label="Dentista", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, dentistas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dentista"].choices = [("", "Todos los dentistas"), *((d.pk, d.nombre) for d in dentistas)]


class FormularioCierre(ConErroresDelServicio, forms.Form):
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


class FormularioBloquear(ConErroresDelServicio, forms.Form):
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
