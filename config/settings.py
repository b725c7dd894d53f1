"""ArtAlign settings, read from the environment.

Every value has a typed reader that fails loudly on a bad value. With no environment at all the
project runs embedded: SQLite in the project folder, Celery tasks run in-process (eager mode).
"""
import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_edge(name: str, default: int) -> int:
    """An image's longest edge in pixels, within what a WebP image can hold."""
    value = env_int(name, default)
    if not 16 <= value <= 16383:
        raise ImproperlyConfigured(f"{name}={value}: expected 16 to 16383 pixels")
    return value


def env_positive(name: str, default: int) -> int:
    """A count or size that must be at least 1 (a limit of 0 would refuse everything)."""
    value = env_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name}={value}: expected a positive whole number")
    return value


def env_rate(name: str, default: str) -> str | None:
    """A request rate as Django REST framework writes it ("120/min"; s, min, hour or day); "off": none."""
    raw = env_str(name, default).strip()
    if raw.lower() == "off":
        return None
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", raw):
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a rate such as 120/min (per s, min, hour or day) or off")
    return raw


DEBUG = env_bool("DEBUG", False)  # on only where set: `make demo` and the tests set DEBUG=true
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])  # e.g. https://artalign.example.org

# HTTPS and cookies: on by default once DEBUG is off (`manage.py check --deploy` is clean then); each
# can be turned off, e.g. SECURE_SSL_REDIRECT=false for a plain-HTTP test on loopback.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = env_bool("SESSION_COOKIE_HTTPONLY", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):  # behind a proxy that terminates TLS and sets X-Forwarded-Proto
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy of every page: scripts only from the site's own files (no inline script,
# no handler attribute). Styles allow 'unsafe-inline' because the templates still use a <style> block
# and style attributes (progress bars' widths) and Redoc injects its styles; README, "Security".
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

# Request bodies: a whole request over REQUEST_MAX_BYTES is refused (413) before it is read; form
# fields (not files) over DATA_UPLOAD_MAX_MEMORY_SIZE are refused by Django (400). Uploaded files
# above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file instead of memory.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 1024 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DATA_UPLOAD_MAX_NUMBER_FIELDS", 1000)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
# A study file (YAML or JSON: a command's file, an upload, the editor, the API) over this many bytes
# is refused before it is parsed; a real one is a few kB (annotations/studies.py).
STUDY_FILE_MAX_BYTES = env_int("STUDY_FILE_MAX_BYTES", 256 * 1024)

# Where the project writes what it makes at run time (tiny stand-in CLIP, demo images, SQLite file).
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from the site itself, no CDN
    "axes",  # login throttling (failed attempts are rows in its table, shared by every web process)
    "annotations",
    "clipworker",
    "alignment",
]

MIDDLEWARE = [
    "config.middleware.request_id",
    "config.health.health_probe",  # /healthz answers probes by IP or localhost too (before host validation)
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.request_size_limit",
    # Production serves static files from the app (collectstatic first); DEBUG's runserver serves its own.
    *([] if DEBUG else ["whitenoise.middleware.WhiteNoiseMiddleware"]),
    "config.middleware.security_headers",  # after WhiteNoise: static files keep their own caching
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    # last, as django-axes asks: turns a lockout into config.middleware.login_locked_out
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
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
            ],
        },
    },
]
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        # Kept-open connections spare PostgreSQL a new backend per request; health checks (one
        # SELECT 1 when a request first uses a kept connection) let a request after a database
        # restart reconnect instead of failing.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0 if DEBUG else 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Login throttling (django-axes) on the site login, the admin login and the API's token endpoint:
# after LOGIN_FAILURE_LIMIT failures from one address, or for one username, logins from it or to it
# are refused (429, Retry-After) without checking the password, until LOGIN_COOLOFF_S seconds pass
# without another try. Failures are rows in the database, so every web process counts the same.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("LOGIN_COOLOFF_S", 15 * 60))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # each on its own: per address, and per username
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_address"  # honours NUM_PROXIES like the API's throttles
AXES_LOCKOUT_CALLABLE = "config.middleware.login_locked_out"
AXES_VERBOSE = False  # one warning per failure is logged by axes' handler anyway

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# Static files are served by WhiteNoise from the app itself; with DEBUG off they come from
# `collectstatic`, compressed and with hashed names (cached for a year by browsers).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# Imports: limits on what a manifest may bring in.
IMPORT_MAX_IMAGE_BYTES = env_int("IMPORT_MAX_IMAGE_BYTES", 50 * 1024 * 1024)
IMPORT_MAX_IMAGE_PIXELS = env_int("IMPORT_MAX_IMAGE_PIXELS", 40_000_000)
IMPORT_URL_TIMEOUT_S = env_int("IMPORT_URL_TIMEOUT_S", 20)
# ... and on one import as a whole (annotations.imports): the images' bytes as stored (a ZIP's
# uncompressed sizes, checked from its directory before anything is extracted) and their pixels
# (from the image headers). Images come compressed already, so a real ZIP is about as big as its
# contents: 1 GiB matches REQUEST_MAX_BYTES; raise it for a large folder imported by the command.
IMPORT_MAX_TOTAL_BYTES = env_positive("IMPORT_MAX_TOTAL_BYTES", 1024 * 1024 * 1024)
IMPORT_MAX_TOTAL_PIXELS = env_positive("IMPORT_MAX_TOTAL_PIXELS", 2_000_000_000)
# An upload of more rows (counted from the file, not parsed) or bytes than these runs as a task on
# the default queue; the upload page and the API show its progress (with eager tasks, the request).
IMPORT_ASYNC_ROWS = env_positive("IMPORT_ASYNC_ROWS", 500)
IMPORT_ASYNC_BYTES = env_positive("IMPORT_ASYNC_BYTES", 20 * 1024 * 1024)

# Outbound fetches of URLs researchers name (imports, deferred downloads, the CLIP worker) reach
# public addresses only (annotations.fetch). FETCH_ALLOW_HOSTS names in-house exceptions: host
# names, addresses or networks, each optionally with one port, e.g.
# "images.lab.example,10.2.0.0/16,127.0.0.1:8080,[fd00::/8]:443".
FETCH_ALLOW_HOSTS = env_list("FETCH_ALLOW_HOSTS", [])
FETCH_MAX_REDIRECTS = env_int("FETCH_MAX_REDIRECTS", 5)
try:
    from annotations.fetch import allow_rules_parse  # the fetch's own parser: one reading of the rules
    allow_rules_parse(FETCH_ALLOW_HOSTS)
except ValueError as exc:
    raise ImproperlyConfigured(f"FETCH_ALLOW_HOSTS: {exc}") from None

# What annotators and researcher pages see: re-encoded derivatives (annotations/derivatives.py),
# their longest edge at most this many pixels (WebP holds up to 16383).
DISPLAY_IMAGE_MAX_EDGE = env_edge("DISPLAY_IMAGE_MAX_EDGE", 2048)
THUMBNAIL_MAX_EDGE = env_edge("THUMBNAIL_MAX_EDGE", 400)
# Behind nginx, an annotator's image can be sent by nginx itself: the app checks the session and
# answers with `X-Accel-Redirect: <this prefix><stored name>` and no body, and an `internal` nginx
# location with this prefix serves MEDIA_ROOT (README, "Serving images through nginx"). Empty: the
# app streams the file (gunicorn's sendfile).
MEDIA_ACCEL_REDIRECT = env_str("MEDIA_ACCEL_REDIRECT")
if MEDIA_ACCEL_REDIRECT and not (MEDIA_ACCEL_REDIRECT.startswith("/") and MEDIA_ACCEL_REDIRECT.endswith("/")):
    raise ImproperlyConfigured(f"MEDIA_ACCEL_REDIRECT={MEDIA_ACCEL_REDIRECT!r}: expected a URL prefix such as "
                               "/_protected_media/ (starting and ending with /), or nothing")

# The cache holds the annotator site's request counts (throttling). With more than one web process
# they must share it: CACHE_URL=redis://host:6379/1. Without it each process counts on its own.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r}: expected a Redis URL (redis://, rediss:// or unix://)")
CACHES = {"default": {
    "BACKEND": "config.cache.KeptClientRedisCache", "LOCATION": CACHE_URL,  # Django's, one client per pool
    # A cache that is down must not hold up annotators: give up within a second (throttles then let requests through).
    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
} if CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: with no broker, tasks run in-process (the embedded default).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"clipworker.tasks.*": {"queue": "clip"}}
# A task taken by a worker that is lost (killed, machine gone) goes back on the queue once it has
# been unacknowledged for CELERY_VISIBILITY_TIMEOUT seconds (Redis transport): longer than the
# slowest batch (CLIP_TASK_ARTWORKS artworks), or a batch still running is handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 1800),
    "unacked_restore_interval": env_int("CELERY_RESTORE_INTERVAL", 60),  # seconds between sweeps
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": env_int("CELERY_BROKER_CONNECT_TIMEOUT", 4),
}
# The embedded queue (`make demo`): CELERY_BROKER_URL=filesystem:// is kombu's filesystem transport, its
# messages in files under CELERY_BROKER_FOLDER (default VAR_DIR/broker) that the web process and its
# one worker share (no service).
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_FOLDER = Path(env_str("CELERY_BROKER_FOLDER", str(VAR_DIR / "broker")))
    for _folder in ("queue", "processed", "control"):
        (BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER / "queue"), "data_folder_out": str(BROKER_FOLDER / "queue"),
        "processed_folder": str(BROKER_FOLDER / "processed"), "store_processed": False,
        "control_folder": str(BROKER_FOLDER / "control"), "polling_interval": 0.2,
    }
# A broker that is down makes starting a run fail within seconds, not hang: few publish retries.
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECT_TIMEOUT", 4)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}

# Every task has a soft time limit (SoftTimeLimitExceeded is raised in it, so it can record why)
# and a hard one (its process is killed); a task may set its own on its decorator. A hard limit
# over the visibility timeout lets a batch still running be handed out a second time (harmless, the
# tasks are idempotent, but wasted work): `check --deploy` warns (clipworker.checks).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 1500)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 1620)
if not 0 < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_TASK_SOFT_TIME_LIMIT={CELERY_TASK_SOFT_TIME_LIMIT}, CELERY_TASK_TIME_LIMIT={CELERY_TASK_TIME_LIMIT}: "
        "expected 0 < soft < hard")

# CLIP: a hub id or a local folder. "artalign/tiny-clip" is the offline stand-in the project builds.
CLIP_MODEL = env_str("CLIP_MODEL", "openai/clip-vit-large-patch14-336")
CLIP_DEVICE = env_str("CLIP_DEVICE", "auto")
CLIP_BATCH_SIZE = env_int("CLIP_BATCH_SIZE", 32)
CLIP_TASK_ARTWORKS = env_int("CLIP_TASK_ARTWORKS", 128)  # artworks per Celery task


def env_models(name: str, default: dict[str, str]) -> dict[str, str]:
    """Display name -> hub id or local folder: `name=source` pairs, comma-separated (a bare `source` is
    its own name), or a JSON object {"name": "source"}."""
    import json

    raw = env_str(name).strip()
    if not raw:
        return dict(default)
    expected = (f"{name}={raw!r}: expected display name=hub id or folder pairs, comma-separated, or a JSON object"
                " of them; names unique, at most 200 characters")
    try:
        pairs = list(json.loads(raw).items()) if raw.startswith("{") else [
            (part.partition("=")[0], part.partition("=")[2]) if "=" in part else (part, part)
            for part in raw.split(",") if part.strip()]
    except (ValueError, AttributeError):
        raise ImproperlyConfigured(expected) from None
    models = {str(n).strip(): str(s).strip() for n, s in pairs if isinstance(n, str) and isinstance(s, str)}
    if len(models) != len(pairs) or not all(n and s and len(n) <= 200 for n, s in models.items()):
        raise ImproperlyConfigured(expected)
    return models


# The models a researcher may run (the run page and the API offer only these; `run_clip` on the command
# line is the operator's and takes any hub id or folder), and CLIP_MODEL, the default, always among them.
CLIP_MODELS = env_models("CLIP_MODELS", {m: m for m in ("artalign/tiny-clip", "openai/clip-vit-large-patch14-336")})
if CLIP_MODEL not in CLIP_MODELS and CLIP_MODEL not in CLIP_MODELS.values():
    _folder = Path(CLIP_MODEL).name if CLIP_MODEL.startswith(("/", ".", "~")) else CLIP_MODEL
    CLIP_MODELS[CLIP_MODEL if _folder in CLIP_MODELS or not _folder else _folder] = CLIP_MODEL
CLIP_MAX_LOADED_MODELS = env_int("CLIP_MAX_LOADED_MODELS", 2)  # per worker process, least recently used dropped
if CLIP_MAX_LOADED_MODELS < 1:
    raise ImproperlyConfigured(f"CLIP_MAX_LOADED_MODELS={CLIP_MAX_LOADED_MODELS}: expected 1 or more")

REST_FRAMEWORK = {
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Token first: an unauthenticated request gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser, with JSON nested too deeply a 400 instead of a RecursionError (a 500)
    "DEFAULT_PARSER_CLASSES": ["annotations.parsers.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    # drf-spectacular plus the error answers every endpoint shares (400, 401, 403, 404, 413, 415, 503)
    "DEFAULT_SCHEMA_CLASS": "annotations.api_errors.ApiSchema",
    # DRF's, plus JSON for Django's refusals of a body too large or of too many fields (not its HTML 400 page)
    "EXCEPTION_HANDLER": "annotations.api_errors.api_exception_handler",
    # The annotator site's rates (annotations/throttles.py): every request of one participant's
    # session, and new sessions started from one address (a lab's participants share one).
    "DEFAULT_THROTTLE_RATES": {
        "annotator": env_rate("THROTTLE_ANNOTATOR", "120/min"),
        "new_session": env_rate("THROTTLE_NEW_SESSION", "100/hour"),
    },
    # Proxies in front of gunicorn that append to X-Forwarded-For: 1 behind one reverse proxy.
    # 0 (the default) uses the connection's address, which a client cannot forge.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ArtAlign API",
    "DESCRIPTION": "Studies, artworks, progress, CLIP runs, alignment reports and exports. Token or session "
                   "authentication; the same access rules as the researcher pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status`: each choice set its own name in the schema (import and report
    # jobs share one set, so one name).
    "ENUM_NAME_OVERRIDES": {
        "StudyStatusEnum": "annotations.models.Study.Status",
        "JobStatusEnum": "annotations.models.ImportJob.Status",
    },
}

# Mail: password reset needs it, so its pages exist only when EMAIL_HOST is set (SMTP).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "artalign@localhost")
PASSWORD_RESET = bool(EMAIL_HOST)

# Logging: everything to stderr, in every profile (the process manager or container keeps it), each
# line with the request's id (the X-Request-ID header) or the Celery task's id. Errors carry their
# traceback: django.request logs every 500, Celery every task failure.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.middleware.RequestIdFilter"}},
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                            "filters": ["request_id"], "formatter": "line"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    # Django's own console handler (DEBUG only) and mail_admins are replaced by the root's stderr.
    "loggers": {"django": {"handlers": [], "level": LOG_LEVEL, "propagate": True}},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING above, with the task id

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "annotations:study_list"
