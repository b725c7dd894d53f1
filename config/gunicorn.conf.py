"""gunicorn settings: `gunicorn -c config/gunicorn.conf.py config.wsgi`, tuned by environment variables.

WEB_CONCURRENCY worker processes (default 4: on a 2-core host this measured fastest, see the
README's deployment section), GUNICORN_THREADS threads each (default 1: sync workers; more gives
gthread workers), bound to GUNICORN_BIND (default 127.0.0.1:8000, behind a TLS-terminating proxy).
"""
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # uploads of large ZIPs are read in the request
graceful_timeout = 30
max_requests = 5000  # a worker is replaced now and then, so no slow leak grows without bound
max_requests_jitter = 500
# The app is loaded (and warmed: config/wsgi.py) once in the master, before the workers are forked,
# so no participant's request waits for a worker's first loading. A deploy restarts gunicorn (a HUP
# alone would keep the loaded code).
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket (`gunicornc`: worker counts, reload, shutdown) defaults to one path per
# user ($XDG_RUNTIME_DIR/gunicorn.ctl), shared by every instance on the host: off unless
# GUNICORN_CONTROL_SOCKET names this instance's own path (owner-only, mode 0600).
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
if control_socket:
    control_socket_mode = 0o600
