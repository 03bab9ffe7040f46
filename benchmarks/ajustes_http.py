"""Settings for ``bin/bench-http`` only: the real ones plus the bare views, over plain HTTP.

The benchmark's gunicorn runs with these. Everything that matters for speed (middleware,
persistent connections, templates, sessions) is the production configuration of
``clinica.settings``; only what plain http on 127.0.0.1 needs differs.

``BENCH_QUITAR_MIDDLEWARE`` (comma-separated dotted paths) removes middleware and
``BENCH_AJUSTES_JSON`` overrides settings, for experiments: the benchmark reports them; by
default neither is set.
"""

import json
import os
import secrets

os.environ.setdefault("CLINICA_DB_NAME", "bench_http")
os.environ["DJANGO_DEBUG"] = "0"  # DEBUG keeps every query in memory: not production
os.environ["DJANGO_HTTPS"] = "0"  # plain http on 127.0.0.1: no secure cookies, no redirect
# Production requires a key; the benchmark's is random per run (bench_http.py sets it before
# starting gunicorn, so the sessions it creates are valid in the workers).
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))

from clinica.settings import *  # noqa: E402,F403
from clinica.settings import MIDDLEWARE, STORAGES  # noqa: E402

DEBUG = False
ROOT_URLCONF = "benchmarks.urls_http"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Plain http on 127.0.0.1: secure cookies would never be sent back.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
# Production serves hashed files from collectstatic's manifest; without collectstatic the
# plain storage gives the same work per {% static %} (a URL join).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

# The race gives each of its 200 patients a win in most rounds: the portal's cap (2 live
# bookings) would turn the contest into refusals. The cap's work (the patient's row lock and the
# count) is still done on every POST.
CLINICA_MAX_RESERVAS_PORTAL = 1_000_000
# Likewise the attempt limits: 200 patients on one address (127.0.0.1) post ~14 times each in
# 25 s, so the real ones (10/m per account, 60/h per address) would answer most POSTs with a fast
# 429 and report a speed that is not booking. Raised, not removed: every POST still counts its
# three counters in PostgreSQL (nucleo.cache_pg), as in production.
CLINICA_LIMITE_CITAS_CUENTA = ("1000000/m", "1000000/h")
CLINICA_LIMITE_CITAS_IP = ("1000000/h",)

_quitar = {m.strip() for m in os.environ.get("BENCH_QUITAR_MIDDLEWARE", "").split(",") if m.strip()}
MIDDLEWARE = [m for m in MIDDLEWARE if m not in _quitar]

# bin/bench-http --sin-memo: measure the portal's booking page rendered on every request.
if os.environ.get("BENCH_MEMO_HORAS") == "0":
    CACHES = {**CACHES, "paginas": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}  # noqa: F405

# bin/bench-http --ajuste NOMBRE=JSON: a settings experiment, reported with the results.
globals().update(json.loads(os.environ.get("BENCH_AJUSTES_JSON", "{}")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"consola": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["consola"], "level": "WARNING"},
}
