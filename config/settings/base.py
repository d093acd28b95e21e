"""Settings shared by every environment; everything configurable comes from the environment."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ

# Lets `admin.ModelAdmin[Model]` and friends be subscripted at run time, for mypy.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class Env(environ.Env):
    """django-environ, except that an empty variable counts as unset.

    `SECURE_SSL_REDIRECT=` left empty in an `.env` must give the safe default, not False.
    """

    def get_value(
        self,
        var: str,
        cast: Any = None,
        default: Any = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> Any:
        if default is not self.NOTSET and self.ENVIRON.get(var) == "":
            if parse_default and default is not None:
                return self.parse_value(default, cast)
            return default
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = Env()
# A local `.env` is a convenience for development; real environments set variables.
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "huey.contrib.djhuey",
    # The apps in their order of dependence (DESIGN §2): each imports only those before it.
    "config.apps.ConfigConfig",
    "accounts.apps.AccountsConfig",
    "tagging.apps.TaggingConfig",
    "calibrations.apps.CalibrationsConfig",
    "measurements.apps.MeasurementsConfig",
    "monitoring.apps.MonitoringConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside whitenoise, so static files get the header too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before anything reads the body.
    "config.middleware.RequestBodyLimitMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Every API route answers with and without a trailing slash itself; no redirects.
APPEND_SLASH = False

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

# SQLite is the embedded default for `make run`; PostgreSQL is production and CI.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
POSTGRESQL = "django.db.backends.postgresql"
# Of every PostgreSQL connection (the primary's and the replica's):
POSTGRESQL_OPTIONS: dict[str, object] = {
    # Fail fast when the database is away: the API answers 503 instead of hanging a worker.
    "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=5),
}
# Server-side parameter binding, and psycopg preparing a statement the fifth time one
# connection runs it, so PostgreSQL stops parsing and planning the same queries again on every
# request (the token lookup alone takes ~1.2 ms to plan, 0.15 ms prepared). Django turns
# preparing off unless `prepare_threshold` is set (for poolers), so it is set here. Needs
# PgBouncer ≥ 1.21 (max_prepared_statements) in transaction pooling mode; turn both off with
# the variable.
if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
    POSTGRESQL_OPTIONS.update(server_side_binding=True, prepare_threshold=5)
if DATABASES["default"]["ENGINE"] == POSTGRESQL:
    DATABASES["default"].setdefault("OPTIONS", {}).update(POSTGRESQL_OPTIONS)
# The embedded SQLite database has no INCLUDE columns in its indexes (PostgreSQL's index-only
# scans need them): an index drops them (W040), and the readings' covering unique constraint
# becomes a plain unique one there (measurements.models.CoveringUniqueConstraint, W039). Both
# are expected, not worth a warning on every `migrate`.
SILENCED_SYSTEM_CHECKS: list[str] = []
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    SILENCED_SYSTEM_CHECKS += ["models.W039", "models.W040"]
    # `make run` writes one SQLite file from three processes (the server, the worker, the demo
    # sensors). A transaction that reads and then writes (the worker claiming a notification)
    # got "database is locked" at once when another writer came between: each transaction
    # takes the write lock when it begins, waiting up to `timeout` seconds for it, and WAL
    # lets readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# A streaming replica of the primary, for the reads of read-only API requests (docs/SCALING.md).
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["replica"]["ENGINE"] == POSTGRESQL:
        DATABASES["replica"].setdefault("OPTIONS", {}).update(POSTGRESQL_OPTIONS)
    # Tests run against the primary alone; the replica alias then reads the same database.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
    MIDDLEWARE.insert(0, "config.db_router.ReadOnlyRequestMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username/address before checking any password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, answering an API token's user from the credentials cache.
    "accounts.credentials.ModelBackend",
]
# Password guessing on the admin login: after this many failures for one username from one
# address, that pair is locked out for the cool-off time (a success resets the count).
AXES_ENABLED = env.bool("LOGIN_LOCKOUT_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The lockout is a page of the console (its title, how long, what to do), not axes' bare text.
AXES_LOCKOUT_CALLABLE = "config.views.login_locked_out"

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
# The console's date formats (config/formats/en/formats.py): ISO-like, the zone said.
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Bodies larger than this are refused; a 10,000-reading array is about 1 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# The cache every gunicorn worker shares, so the API throttle counts a user once across all of
# them: Redis when REDIS_URL is set (docker compose runs one), else a table in the database,
# created by `manage.py migrate` (config/migrations/0001_cache_table.py). Sessions stay in the
# database either way: Redis here keeps nothing on disk, and a restart must not sign anyone out.
REDIS_URL = env("REDIS_URL", default="")
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that is away must not hold a request: the throttle then lets it through.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",  # config/migrations/0001_cache_table.py
            "OPTIONS": {"MAX_ENTRIES": 1000, "CULL_FREQUENCY": 3},
        }
    ),
}

# Requests per signed-in user per window ("2000/second", "100/minute"); "off" for none.
_throttle_rate = env("API_THROTTLE_RATE", default="2000/second").strip()
API_THROTTLE_RATE: str | None = (
    None if _throttle_rate.lower() in ("off", "none", "") else _throttle_rate
)

# How long an API token, its user and their permissions are kept on the shared cache
# (accounts/credentials.py); any change made through Django ends them at once, so this bounds
# only changes made around it (raw SQL). 0 reads them from the database on every request.
API_CREDENTIALS_CACHE_SECONDS = env.int("API_CREDENTIALS_CACHE_SECONDS", default=60)

# A room whose last reading is older than this is `stale` (DESIGN §4.5): `15m`, `PT15M`, `1h`, …
# Read by the measurements app, whose system check stops start-up on a bad value.
ROOM_STALE_AFTER: str = env("ROOM_STALE_AFTER", default="PT15M")
# An instrument whose calibration falls due within this is `due_soon` (DESIGN §4.7): an ISO 8601
# duration in days and time (`P30D`, `P14DT12H`). Read and checked by the calibrations app.
CALIBRATION_DUE_SOON: str = env("CALIBRATION_DUE_SOON", default="P30D")

# Alarms and their notifications (DESIGN §4.8): an active, unacknowledged alarm is announced
# again every ALARM_REPEAT; a notification is tried up to NOTIFY_MAX_ATTEMPTS times, the wait
# doubling from NOTIFY_RETRY_SECONDS, then marked failed. Read by the monitoring app, whose
# system check stops start-up on a bad value.
ALARM_REPEAT: str = env("ALARM_REPEAT", default="PT30M")
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=8)
NOTIFY_RETRY_SECONDS = env.float("NOTIFY_RETRY_SECONDS", default=2.0)
NOTIFY_TIMEOUT_SECONDS = env.float("NOTIFY_TIMEOUT_SECONDS", default=10.0)
# Where people reach the console: the links in notifications are absolute.
SITE_URL: str = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The hour (UTC) the worker writes the day's calibration due reminders.
DUE_REMINDER_HOUR = env.int("DUE_REMINDER_HOUR", default=6)

# The worker (huey.contrib.djhuey, `manage.py run_huey`): Redis when REDIS_URL is set (compose
# runs one), else a SQLite file beside the embedded database. Tasks run in the worker; the
# outbox (Notification rows) is the truth, so a task lost with the broker is found again.
_db_name = str(DATABASES["default"].get("NAME") or "")
_huey_file = env(
    "HUEY_FILE",
    default=str(
        Path(_db_name).with_name("huey.sqlite3")
        if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        and _db_name.startswith("/")
        else BASE_DIR / "huey.sqlite3"
    ),
)
# False where no worker runs and cron runs `manage.py check_alarms` instead: nothing is handed
# to a worker's queue then, and each run of the command delivers what is due.
WORKER_ENABLED = env.bool("WORKER_ENABLED", default=True)
HUEY: dict[str, Any] = {
    "name": "calibration-service",
    "immediate": env.bool("HUEY_IMMEDIATE", default=False),
    "consumer": {
        "workers": env.int("HUEY_WORKERS", default=2),
        "worker_type": "thread",
        # An idle consumer polls a SQLite queue at most this far apart: a notification is
        # handed over within seconds of its alarm (Redis blocks on the queue instead).
        "initial_delay": 0.1,
        "max_delay": 1.0,
        "periodic": True,
    },
    **(
        {"huey_class": "huey.RedisHuey", "url": REDIS_URL}
        if REDIS_URL
        else {"huey_class": "huey.SqliteHuey", "filename": _huey_file}
    ),
}

# Headers on every response (Django's defaults, stated so they are not lost by accident).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    # Token first, so an anonymous request gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The sensor rule first, so a sensor account learns why it is refused.
    "DEFAULT_PERMISSION_CLASSES": [
        "accounts.permissions.SensorAccountPermission",
        "config.api.permissions.ModelPermissions",
    ],
    # DRF's own per-user throttle on the shared cache. Anonymous requests are not throttled:
    # every /api/ route but the schema and docs refuses them (401) before throttles run.
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": API_THROTTLE_RATE},
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON only; the placeholder refuses form bodies (415) but lets the browsable API draw
    # HTML forms, which its page script posts as JSON (config/api/browsable.py).
    "DEFAULT_PARSER_CLASSES": [
        "config.api.parsers.SafeJSONParser",
        "config.api.browsable.HTMLFormPlaceholderParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        # DRF's JSON, encoded by orjson (config/api/renderers.py); first, so JSON is the default.
        "config.api.renderers.JSONRenderer",
        "config.api.browsable.BrowsableAPIRenderer",
    ],
    # JSON clients skip the Accept-header walk; browsers still get the browsable API.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api.negotiation.JSONFirstContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "STRICT_JSON": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Calibration & Measurement Service API",
    "DESCRIPTION": (
        "Device calibrations, tags whose history is never lost, and room temperature "
        "measurements. Authenticate with `Authorization: Token <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The API reads JSON only; the browsable API's form placeholder is not a body it takes.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Choice sets that share a field name (`kind`, `status`, `event`) keep a name of their own
    # (dotted paths, not imports).
    "ENUM_NAME_OVERRIDES": {
        "NotificationEventEnum": "monitoring.models.Event.choices",
        "AlarmKindEnum": "monitoring.models.AlarmKind",
        "InstrumentKindEnum": "calibrations.models.InstrumentKind",
        "InstrumentStatusEnum": "calibrations.models.InstrumentStatus",
        "RoomStatusEnum": "measurements.models.RoomStatus",
    },
    # The schema served over HTTP names the server it came from (ReDoc's samples showed
    # `api.example.org`); `manage.py spectacular` has no request and names none.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.add_request_server",
    ],
}

# Signing in to the browsable API (DRF's `/api-auth/login/`) without a `next` lands on the
# API root; signing out too.
LOGIN_URL = "rest_framework:login"
LOGIN_REDIRECT_URL = "api-root"
LOGOUT_REDIRECT_URL = "api-root"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO").upper()},
    # The worker's own logger, configured here so that `run_huey` adds no second handler
    # (which printed every line twice).
    "loggers": {"huey": {"handlers": ["console"], "propagate": False}},
}
