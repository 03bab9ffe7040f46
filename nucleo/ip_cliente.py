"""The client's IP address, read through the reverse proxies the deployment trusts.

Behind nginx every request reaches Django from ``127.0.0.1``: ``REMOTE_ADDR`` is the proxy, and
the client is in ``X-Forwarded-For``. That header is written by whoever sends the request, so it
is believed only when the request comes from a proxy listed in ``CLINICA_PROXIES_DE_CONFIANZA``
(addresses or networks), and only the part those proxies appended: the list is read from the
right, skipping trusted proxies, and the first address that is not one is the client. Anything a
client forged sits to the left of that and is never read. With no trusted proxy configured (the
default) the answer is ``REMOTE_ADDR``, whatever the headers say.

django-axes asks this for its lockouts (``AXES_CLIENT_IP_CALLABLE``); any per-address limit can.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _redes(confiables: tuple[str, ...]):
    return tuple(ipaddress.ip_network(red.strip(), strict=False) for red in confiables if red.strip())


def _ip(texto):
    try:
        return ipaddress.ip_address(texto.strip())
    except ValueError:
        return None


def es_proxy_de_confianza(ip) -> bool:
    redes = _redes(tuple(getattr(settings, "CLINICA_PROXIES_DE_CONFIANZA", ()) or ()))
    return ip is not None and any(ip in red for red in redes if red.version == ip.version)


def ip_del_cliente(request) -> str | None:
    """The client's address as text (what axes stores), never a value taken from a header
    that an untrusted sender could have written."""
    remota = request.META.get("REMOTE_ADDR")
    if not es_proxy_de_confianza(_ip(remota or "")):
        return remota
    cliente = remota
    for parte in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        ip = _ip(parte)
        if ip is None:
            # Only a client writes garbage: what our proxies appended ends here.
            break
        cliente = str(ip)
        if not es_proxy_de_confianza(ip):
            break
    return cliente


def comprobar_proxies(app_configs=None, **kwargs):
    """``check --deploy``: behind a TLS proxy (``SECURE_PROXY_SSL_HEADER``, set by
    ``DJANGO_BEHIND_PROXY=1``) with no trusted proxy listed, every client has the proxy's
    address: the per-address lockout limits would then count the whole clinic as one client."""
    from django.core.checks import Warning

    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and not getattr(settings, "CLINICA_PROXIES_DE_CONFIANZA", ()):
        return [Warning(
            "Detrás de un proxy (DJANGO_BEHIND_PROXY=1) sin CLINICA_PROXIES_DE_CONFIANZA, todos los clientes "
            "tienen la dirección del proxy: los límites de intentos por dirección cuentan a toda la clínica junta.",
            hint="Indique la dirección del proxy, p. ej. CLINICA_PROXIES_DE_CONFIANZA=127.0.0.1,::1 (docs/produccion.md).",
            id="nucleo.W001",
        )]
    return []
