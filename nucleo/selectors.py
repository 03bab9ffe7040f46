"""Reads of the audit trail (django-pghistory) for the staff site's Auditoría.

``pagina_de_cambios`` issues a fixed number of queries whatever the page holds: the count, the
page of events, and one query for the names of the users who acted on that page.
"""

import datetime
from dataclasses import dataclass, field

import pghistory.models
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.utils import timezone

POR_PAGINA = 50
# Never shown, even if a future tracker forgets to exclude them.
CAMPOS_OCULTOS = ("password", "clave", "token")
ETIQUETAS = {"insert": "Creación", "update": "Cambio", "delete": "Eliminación"}


def _modelos_de_eventos():
    """{tracked model label ('pacientes.Cliente') → its event model}."""
    return {
        modelo.pgh_tracked_model._meta.label: modelo
        for modelo in apps.get_models()
        if issubclass(modelo, pghistory.models.Event) and getattr(modelo, "pgh_tracked_model", None)
    }


def modelos_auditados():
    """[(label, Spanish name)] of every audited model, sorted by name."""
    return sorted(
        ((clave, modelo.pgh_tracked_model._meta.verbose_name.capitalize()) for clave, modelo in _modelos_de_eventos().items()),
        key=lambda par: par[1],
    )


@dataclass
class Cambio:
    campo: str
    antes: object = None
    despues: object = None


@dataclass
class FilaAuditoria:
    cuando: datetime.datetime
    accion: str
    modelo: str
    modelo_nombre: str
    registro_id: str | None
    usuario_id: int | None
    usuario_nombre: str
    servicio: str
    cambios: list[Cambio] = field(default_factory=list)

    @property
    def es_paciente(self):
        return self.modelo == "pacientes.Cliente"


def _oculto(columna):
    return any(palabra in columna.lower() for palabra in CAMPOS_OCULTOS)


def _nombres_de_campos(modelo):
    """{column → (Spanish verbose name, {stored choice → its label})} of a tracked model."""
    return {
        f.column: (str(f.verbose_name), {valor: str(etiqueta) for valor, etiqueta in f.flatchoices or ()})
        for f in modelo._meta.concrete_fields
    }


def _legible(valor, opciones):
    if isinstance(valor, bool):
        return "sí" if valor else "no"
    try:
        return opciones.get(valor, valor)
    except TypeError:  # a JSON list or object: not a choice
        return valor


def _usuario_id(contexto):
    valor = (contexto or {}).get("user")
    return valor if isinstance(valor, int) and not isinstance(valor, bool) else None


def _cambios(evento, nombres):
    if evento.pgh_label == "update":
        pares = ((col, par[0], par[1]) for col, par in (evento.pgh_diff or {}).items())
    elif evento.pgh_label == "insert":
        pares = ((col, None, valor) for col, valor in (evento.pgh_data or {}).items() if valor not in (None, ""))
    else:
        pares = ()
    cambios = []
    for col, antes, despues in sorted(pares, key=lambda par: par[0]):
        if _oculto(col) or col in ("creado", "actualizado"):
            continue
        nombre, opciones = nombres.get(col, (col, {}))
        cambios.append(Cambio(nombre, _legible(antes, opciones), _legible(despues, opciones)))
    return cambios


def pagina_de_cambios(*, modelo=None, usuario_id=None, desde=None, hasta=None, registro_id=None, pagina=1,
                      por_pagina=POR_PAGINA):
    """One page (a Django ``Page`` of ``FilaAuditoria``, newest first) of the audit trail.

    ``modelo`` is a tracked model's label (``"pacientes.Cliente"``); an unknown one gives an
    empty page. ``desde``/``hasta`` are dates, inclusive, in the clinic's time zone. A page
    number out of range gives the last page. Three queries.
    """
    modelos = _modelos_de_eventos()
    eventos = pghistory.models.Events.objects.all()
    if modelo is not None:
        if modelo not in modelos:
            eventos = eventos.none()
        else:
            eventos = eventos.across(modelos[modelo])
    else:
        eventos = eventos.across(*modelos.values())
    if usuario_id is not None:
        eventos = eventos.filter(pgh_context__user=usuario_id)
    zona = timezone.get_current_timezone()
    if desde is not None:
        eventos = eventos.filter(pgh_created_at__gte=datetime.datetime.combine(desde, datetime.time(), tzinfo=zona))
    if hasta is not None:
        siguiente = hasta + datetime.timedelta(days=1)
        eventos = eventos.filter(pgh_created_at__lt=datetime.datetime.combine(siguiente, datetime.time(), tzinfo=zona))
    if registro_id is not None:
        eventos = eventos.filter(pgh_obj_id=str(registro_id))
    eventos = eventos.order_by("-pgh_created_at", "-pgh_model", "-pgh_id").only(
        "pgh_created_at", "pgh_label", "pgh_obj_model", "pgh_obj_id", "pgh_context", "pgh_data", "pgh_diff",
    )

    pagina = Paginator(eventos, por_pagina).get_page(pagina)
    lista = list(pagina.object_list)
    ids = {_usuario_id(e.pgh_context) for e in lista} - {None}
    actores = get_user_model().objects.filter(pk__in=ids).only("first_name", "last_name", "username")
    usuarios = {u.pk: u for u in actores} if ids else {}

    filas = []
    for evento in lista:
        rastreado = modelos.get(evento.pgh_obj_model)
        tracked = rastreado.pgh_tracked_model if rastreado else None
        uid = _usuario_id(evento.pgh_context)
        usuario = usuarios.get(uid)
        filas.append(FilaAuditoria(
            cuando=evento.pgh_created_at,
            accion=ETIQUETAS.get(evento.pgh_label, evento.pgh_label),
            modelo=evento.pgh_obj_model,
            modelo_nombre=tracked._meta.verbose_name.capitalize() if tracked else evento.pgh_obj_model,
            registro_id=evento.pgh_obj_id,
            usuario_id=uid,
            usuario_nombre=(usuario.get_full_name() or usuario.get_username()) if usuario else (
                f"Usuario n.º {uid} (eliminado)" if uid else "Sistema"
            ),
            servicio=str((evento.pgh_context or {}).get("servicio") or ""),
            cambios=_cambios(evento, _nombres_de_campos(tracked) if tracked else {}),
        ))
    pagina.object_list = filas
    return pagina
