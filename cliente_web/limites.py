"""Attempt limits on the portal's POSTs that change appointments or send messages.

django-ratelimit 4.1 parses the rates and keys and counts each attempt in the ``limites`` cache
(``nucleo.cache_pg``: PostgreSQL, shared by every process, atomic increments). Its fixed windows
start at a point of the period that depends on the key, so not every counter resets at once.

``@limitar("portal.citas", cuenta="CLINICA_LIMITE_CITAS_CUENTA", ip="CLINICA_LIMITE_CITAS_IP")``
counts every POST once per rate named by those settings (read at each request): ``cuenta`` per
logged-in account, ``ip`` per client address (``nucleo.ip_cliente``, through the trusted proxies;
an IPv6 client by its /64). Views sharing a group share the counters. Every rule counts the
attempt, also one that another rule refuses; past any of them the view does not run: the answer
is a 429 page in Spanish with the clinic's phone and a ``Retry-After``, and nothing changes.
GET never counts. Apply it inside ``requiere_paciente``, so only a patient's attempt counts.
"""

from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import get_usage

# Our rule names → django-ratelimit's keys (``ip`` goes through RATELIMIT_IP_META_KEY).
_CLAVES = {"cuenta": "user", "ip": "ip"}


def _espera_si_superado(request, grupo, reglas) -> int | None:
    """Count this attempt under each rate; the seconds until the longest refusing window ends,
    or None when no rate refuses it."""
    espera = None
    for tipo, ajuste in reglas.items():
        if tipo == "cuenta" and not request.user.is_authenticated:
            continue  # every anonymous visitor would share the key "None"
        for tasa in getattr(settings, ajuste):
            uso = get_usage(request, group=f"{grupo}:{tipo}", key=_CLAVES[tipo], rate=tasa, method="POST",
                            increment=True)
            if uso is not None and uso["should_limit"]:
                espera = max(espera or 0, uso["time_left"])
    return espera


def _minutos(segundos: int) -> str:
    minutos = max(1, -(-segundos // 60))
    return "1 minuto" if minutos == 1 else f"{minutos} minutos"


def demasiados_intentos(request, espera: int):
    """The refusal: 429, the portal's layout, when to try again and the clinic's phone."""
    espera = max(int(espera), 1)
    respuesta = render(request, "cliente_web/demasiados_intentos.html", {"espera": _minutos(espera)}, status=429)
    respuesta["Retry-After"] = str(espera)
    return respuesta


def limitar(grupo: str, **reglas: str):
    """View decorator: the attempt limits named by ``reglas`` (``cuenta=``/``ip=`` → the name of
    a setting holding a tuple of rates) for the POSTs of the group ``grupo``."""
    desconocidas = set(reglas) - set(_CLAVES)
    if desconocidas:
        raise ValueError(f"Reglas desconocidas: {sorted(desconocidas)}")

    def decorador(vista):
        @wraps(vista)
        def envoltura(request, *args, **kwargs):
            if request.method == "POST":
                espera = _espera_si_superado(request, grupo, reglas)
                if espera is not None:
                    return demasiados_intentos(request, espera)
            return vista(request, *args, **kwargs)

        return envoltura

    return decorador
