"""gunicorn settings for production (``bin/produccion``): ``gunicorn -c clinica/gunicorn.conf.py
clinica.wsgi``. Every value can be overridden from the environment (gunicorn also reads
``GUNICORN_CMD_ARGS``)."""

import os

# Measured on 2 cores: 2 sync workers beat 4 (DESIGN.md). A host with more cores: ~ 2 per core.
# Behind the reverse proxy on the same host by default; a container sets HOST=0.0.0.0.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# A slow request (a big document upload, a long agenda) may take a while; a stuck one is killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (deploys, Ctrl-C) requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Recycle workers now and then (memory growth), staggered so they never restart together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# Each worker imports the app itself: no DB connection or thread crosses a fork, and a HUP
# picks up new code. Measured: --preload saves 24 MiB of 120 MiB PSS (2 workers): not worth it.
preload_app = False

# Logs to stdout/stderr (systemd or the container collects them); %(M)s = request time in ms.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'
# Trust X-Forwarded-* only from the local reverse proxy (see docs/produccion.md).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Names the processes in ps/top: "clinica-gestion", "clinica-portal", "clinica-ambos".
proc_name = f"clinica-{os.environ.get('CLINICA_SITIO', 'ambos')}"
# The control socket's default path is one per user: two services on one host would collide.
control_socket_disable = True
# Heartbeat files in memory, not on a disk that may stall (gunicorn's FAQ).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
