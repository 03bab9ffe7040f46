"""What every form of both sites shares: Bootstrap's classes, and a service's
``ValidationError`` put back on the fields it is about."""

from django import forms
from django.core.exceptions import ValidationError


class EntradaFecha(forms.DateInput):
    """The browser's date picker. Its value must be ISO (``AAAA-MM-DD``) whatever the locale:
    with Chile's ``07/12/2026`` the browser shows the field empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class ConClasesBootstrap:
    """Bootstrap 5 classes on every widget, and ``is-invalid`` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for campo in self.fields.values():
            if isinstance(campo.widget, forms.CheckboxInput):
                base = "form-check-input"
            elif isinstance(campo.widget, forms.Select):
                base = "form-select"
            else:
                base = "form-control"
            campo.widget.attrs["class"] = f"{campo.widget.attrs.get('class', '')} {base}".strip()

    def full_clean(self):
        super().full_clean()
        for nombre in self.errors:
            self._marcar_invalido(nombre)

    def _marcar_invalido(self, nombre):
        if nombre in self.fields:
            widget = self.fields[nombre].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
            widget.attrs["aria-invalid"] = "true"


class ConErroresDelServicio(ConClasesBootstrap):
    """``agregar_errores_del_servicio(error)``: the service decides, the form shows where.

    Errors by field (``error_dict``) go to their field; plain ones go to the field named by
    ``campo_por_codigo`` (their ``code``), else to the top of the form. A duplicate remembers
    the existing record (``params["cliente_id"]``) in ``duplicado_id`` for a link to it.
    """

    campo_por_codigo: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicado_id = None

    def agregar_errores_del_servicio(self, error: ValidationError):
        if hasattr(error, "error_dict"):
            por_campo = error.error_dict.items()
        else:
            por_campo = [(self.campo_por_codigo.get(item.code), [item]) for item in error.error_list]
        for campo, errores in por_campo:
            for item in errores:
                if item.params and "cliente_id" in item.params and self.duplicado_id is None:
                    self.duplicado_id = item.params["cliente_id"]
            campo = campo if campo in self.fields else None
            self.add_error(campo, errores)
            self._marcar_invalido(campo)
