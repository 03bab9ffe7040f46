"""Reads of the audit trail (django-pghistory) for the staff site's Auditoría.

``pagina_de_cambios`` issues a fixed number of queries whatever the number of rows: the count,
the page of events, one per model whose records it names (the users: actors and logins in one;
the others through ``nucleo.auditoria``) and one per kind of summarised operation on it.
"""

import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass, field

import pghistory.models
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Min, Q
from django.utils import timezone

from nucleo import auditoria
from nucleo.servicios import es_id_valido

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
    relacion: str | None = None  # the related model's label, for a foreign key's ids


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
    registro_nombre: str = ""  # the record as people name it ("Cita 10:30 del 08-12-2026 con …")
    contexto_id: str | None = None
    resumen: str = ""  # a summarised operation (one row for the slots a generation created)

    @property
    def es_paciente(self):
        return self.modelo == "pacientes.Cliente"


def _oculto(columna):
    return any(palabra in columna.lower() for palabra in CAMPOS_OCULTOS)


def _campos(modelo):
    """{column → field} of a tracked model."""
    return {f.column: f for f in modelo._meta.concrete_fields}


def _legible(valor, campo):
    """A stored JSON value as people read it: choices' labels, sí/no, Santiago's local time."""
    if valor is None:
        return None
    if isinstance(valor, bool):
        return "sí" if valor else "no"
    if campo is None or isinstance(valor, (list, dict)):
        return valor
    opciones = {v: str(e) for v, e in campo.flatchoices or ()}
    if valor in opciones:
        return opciones[valor]
    try:
        if isinstance(campo, models.DateTimeField):
            instante = datetime.datetime.fromisoformat(str(valor))
            if timezone.is_naive(instante):
                instante = instante.replace(tzinfo=datetime.UTC)
            return timezone.localtime(instante).strftime("%d-%m-%Y %H:%M")
        if isinstance(campo, models.DateField):
            return datetime.date.fromisoformat(str(valor)).strftime("%d-%m-%Y")
        if isinstance(campo, models.TimeField):
            return datetime.time.fromisoformat(str(valor)).strftime("%H:%M")
    except ValueError:
        return valor
    return valor


def _usuario_id(contexto):
    valor = (contexto or {}).get("user")
    return valor if isinstance(valor, int) and not isinstance(valor, bool) else None


def _cambios(evento, campos):
    if evento.pgh_label == "update":
        pares = ((col, par[0], par[1]) for col, par in (evento.pgh_diff or {}).items())
    elif evento.pgh_label == "insert":
        pares = ((col, None, valor) for col, valor in (evento.pgh_data or {}).items() if valor not in (None, ""))
    else:
        pares = ()
    orden = {col: n for n, col in enumerate(campos)}
    cambios = []
    # In the model's field order (as its forms show them); the id is the row's "n.º" already.
    for col, antes, despues in sorted(pares, key=lambda par: (orden.get(par[0], len(orden)), par[0])):
        campo = campos.get(col)
        if _oculto(col) or col in ("creado", "actualizado") or (campo is not None and campo.primary_key):
            continue
        es_relacion = campo is not None and (campo.many_to_one or campo.one_to_one)
        relacion = campo.related_model._meta.label if es_relacion else None
        if relacion:
            cambios.append(Cambio(str(campo.verbose_name), antes, despues, relacion))
        else:
            cambios.append(Cambio(str(campo.verbose_name) if campo else col, _legible(antes, campo),
                                  _legible(despues, campo)))
    return cambios


@functools.cache
def _concreto(etiqueta):
    """A proxy's label → its concrete model's ("cuentas.UsuarioAuditado" → "auth.User"): one
    query for both the changed logins and the foreign keys that point to them."""
    try:
        return apps.get_model(etiqueta)._meta.concrete_model._meta.label
    except (LookupError, ValueError):
        return etiqueta


def _nombres_de_usuarios(ids):
    """{str(id): "Nombre Apellido" or the username}: the actors and the logins on a page, at once."""
    filas = get_user_model().objects.filter(pk__in=ids).values_list("pk", "first_name", "last_name", "username")
    return {str(pk): f"{nombre} {apellido}".strip() or usuario for pk, nombre, apellido, usuario in filas}


def _con_nombres(filas):
    """Replace ids by names, one query per model on the page (``nucleo.auditoria.etiquetas``;
    users here, actors included): the actor and record of each row and the foreign keys in its
    changes."""
    usuarios = get_user_model()._meta.label
    pedidos = defaultdict(set)
    for fila in filas:
        if fila.usuario_id is not None:
            pedidos[usuarios].add(str(fila.usuario_id))
        if fila.registro_id and not fila.resumen:
            pedidos[_concreto(fila.modelo)].add(fila.registro_id)
        for cambio in fila.cambios:
            if cambio.relacion:
                pedidos[_concreto(cambio.relacion)].update(str(v) for v in (cambio.antes, cambio.despues) if v is not None)
    nombres = {}
    for modelo, ids in pedidos.items():
        funcion = _nombres_de_usuarios if modelo == usuarios else auditoria.etiquetador(modelo)
        validos = {i for i in ids if i.isdigit() and es_id_valido(int(i))}
        nombres[modelo] = funcion(validos) if funcion and validos else {}
    for fila in filas:
        if fila.usuario_id is not None:
            nombre = nombres[usuarios].get(str(fila.usuario_id))
            fila.usuario_nombre = nombre or f"Usuario n.º {fila.usuario_id} (eliminado)"
        if fila.registro_id and not fila.resumen:
            fila.registro_nombre = nombres.get(_concreto(fila.modelo), {}).get(fila.registro_id, "")
        for cambio in fila.cambios:
            if cambio.relacion:
                de_modelo = nombres.get(_concreto(cambio.relacion), {})
                cambio.antes, cambio.despues = (
                    None if v is None else de_modelo.get(str(v), f"n.º {v}") for v in (cambio.antes, cambio.despues)
                )


def _resumidos(eventos, modelos):
    """``eventos`` with each run of a summarised service (``nucleo.auditoria.resumen``) down to
    one representative event: its first insert into the summarised model."""
    for resumen in auditoria.resumenes():
        modelo_evento = modelos.get(resumen.modelo)
        if modelo_evento is None:
            continue
        contextos = pghistory.models.Context.objects.filter(metadata__servicio=resumen.servicio).values("id")
        representantes = (
            modelo_evento.objects.filter(pgh_label="insert", pgh_context_id__in=contextos)
            .values("pgh_context_id").annotate(primero=Min("pgh_id")).values("primero")
        )
        eventos = eventos.exclude(
            Q(pgh_obj_model=resumen.modelo, pgh_label="insert", pgh_context_id__in=contextos)
            & ~Q(pgh_id__in=representantes)
        )
    return eventos


def _resumir(filas, eventos):
    """Fill the summary rows: one query per summarised service present on the page."""
    por_servicio = {r.servicio: r for r in auditoria.resumenes()}
    candidatas = defaultdict(list)
    for fila, evento in zip(filas, eventos):
        resumen = por_servicio.get(fila.servicio)
        if resumen and evento.pgh_label == "insert" and fila.modelo == resumen.modelo and fila.contexto_id:
            candidatas[resumen].append(fila)
    for resumen, de_resumen in candidatas.items():
        textos = {str(c): t for c, t in resumen.funcion({f.contexto_id for f in de_resumen}).items()}
        for fila in de_resumen:
            if fila.contexto_id in textos:
                fila.accion, fila.resumen, fila.cambios = resumen.titulo, textos[fila.contexto_id], []


def pagina_de_cambios(*, modelo=None, usuario_id=None, desde=None, hasta=None, registro_id=None, contexto_id=None,
                      pagina=1, por_pagina=POR_PAGINA):
    """One page (a Django ``Page`` of ``FilaAuditoria``, newest first) of the audit trail.

    ``modelo`` is a tracked model's label (``"pacientes.Cliente"``); an unknown one gives an
    empty page. ``desde``/``hasta`` are dates, inclusive, in the clinic's time zone.
    ``contexto_id`` (one operation) shows every row it wrote; without it (or ``registro_id``),
    a summarised operation (a slot generation) is one row. A page number out of range gives the
    last page. Queries: the count, the page, then one per model named on the page (users,
    actors included, in one) and one per kind of summary on it, whatever the number of rows.
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
    if contexto_id is not None:
        eventos = eventos.filter(pgh_context_id=contexto_id)
    if registro_id is None and contexto_id is None:
        eventos = _resumidos(eventos, modelos)
    eventos = eventos.order_by("-pgh_created_at", "-pgh_model", "-pgh_id").only(
        "pgh_created_at", "pgh_label", "pgh_obj_model", "pgh_obj_id", "pgh_context_id", "pgh_context", "pgh_data",
        "pgh_diff",
    )

    pagina = Paginator(eventos, por_pagina).get_page(pagina)
    lista = list(pagina.object_list)

    filas = []
    for evento in lista:
        rastreado = modelos.get(evento.pgh_obj_model)
        tracked = rastreado.pgh_tracked_model if rastreado else None
        uid = _usuario_id(evento.pgh_context)
        filas.append(FilaAuditoria(
            cuando=evento.pgh_created_at,
            accion=ETIQUETAS.get(evento.pgh_label, evento.pgh_label),
            modelo=evento.pgh_obj_model,
            modelo_nombre=tracked._meta.verbose_name.capitalize() if tracked else evento.pgh_obj_model,
            registro_id=evento.pgh_obj_id,
            usuario_id=uid,
            usuario_nombre="Sistema",  # the actor's name: _con_nombres
            servicio=str((evento.pgh_context or {}).get("servicio") or ""),
            cambios=_cambios(evento, _campos(tracked) if tracked else {}),
            contexto_id=str(evento.pgh_context_id) if evento.pgh_context_id else None,
        ))
    if registro_id is None and contexto_id is None:
        _resumir(filas, lista)
    _con_nombres(filas)
    pagina.object_list = filas
    return pagina
