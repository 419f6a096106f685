"""Hemei settings, read from the environment.

A village laptop runs with no environment at all (embedded SQLite under ./var); a county
deployment sets HEMEI_PRODUCTION=1, SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = env_bool("HEMEI_PRODUCTION")
DEBUG = env_bool("HEMEI_DEBUG", default=False)
DATA_DIR = Path(os.environ.get("HEMEI_DATA_DIR", BASE_DIR / "var"))

_DEV_SECRET = "hemei-development-only-secret-key-do-not-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when HEMEI_PRODUCTION=1")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "treebeard",
    "rules.apps.AutodiscoverRulesConfig",
    "django_tasks_db",
    "django_htmx",
    "hemei.core",
    "hemei.accounts",
    "hemei.regions",
    "hemei.cases",
    "hemei.meetings",
    "hemei.visits",
    "hemei.notify",
    "hemei.disclosure",
    "hemei.points",
    "hemei.stars",
    "hemei.courtyard",
    "hemei.assets",
    "hemei.contracts",
    "hemei.care",
    "hemei.indicators",
    "hemei.devices",
    "hemei.party",
    "hemei.services",
    "hemei.policies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "hemei.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hemei.core.middleware.UploadLimitMiddleware",
    "hemei.core.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "hemei.urls"
WSGI_APPLICATION = "hemei.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hemei.core.context.hemei_context",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
DATA_DIR.mkdir(parents=True, exist_ok=True)
_DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'hemei.sqlite3'}")
# Connections are kept between requests (with a health check before reuse): a new connection
# re-runs the PRAGMAs and re-reads the schema on SQLite, and costs a PostgreSQL backend start
# (fork, authentication) — /healthz served 112–206 req/s with a connection per request and
# 601–945 with persistent ones. Not for an in-memory database (the test suite: its one
# connection is shared with the live-server thread, which must not keep it).
_SQLITE_FILE = _DATABASE_URL.startswith("sqlite://") and not _DATABASE_URL.rstrip("/").endswith(":memory:")
_POSTGRES = _DATABASE_URL.startswith(("postgres://", "postgresql://"))
DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL,
        conn_max_age=int(os.environ.get("HEMEI_CONN_MAX_AGE", "600" if _SQLITE_FILE or _POSTGRES else "0")),
        conn_health_checks=True,
    )
}
# A statement running longer than this is cancelled by the server, so one slow query cannot
# hold a web worker (and its connection) indefinitely; 0 turns it off. Long jobs (imports,
# backups, the demo build) run in their own processes and may set HEMEI_STATEMENT_TIMEOUT_MS=0.
HEMEI_STATEMENT_TIMEOUT_MS = int(os.environ.get("HEMEI_STATEMENT_TIMEOUT_MS", "30000"))
# Behind PgBouncer in transaction pooling (docs/operations.md, "PgBouncer"): successive
# transactions of one Django connection may run on different server connections, so no
# server-side cursors (they live across transactions) and no session settings at connect
# time (PgBouncer refuses the `options` startup parameter; its `connect_query` sets the
# statement timeout on every server connection instead).
HEMEI_PGBOUNCER = env_bool("HEMEI_PGBOUNCER")
if _POSTGRES:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = HEMEI_PGBOUNCER
    if HEMEI_STATEMENT_TIMEOUT_MS and not HEMEI_PGBOUNCER:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c statement_timeout={HEMEI_STATEMENT_TIMEOUT_MS}"
    if os.environ.get("HEMEI_PG_TEMPLATE"):
        # The test suite's migrated template (hemei.cli.from_template): a test database is
        # its copy, and Django's migrate after it applies nothing.
        DATABASES["default"]["TEST"] = {"TEMPLATE": os.environ["HEMEI_PG_TEMPLATE"]}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at the
    # start of a transaction so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("HEMEI_TEST_SQLITE_NAME", "")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and login policy (MLPS level 2) ---------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "hemei.accounts.backends.UsernameOrPhoneBackend",
    "rules.permissions.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "hemei.accounts.validators.CharacterClassValidator"},
    {"NAME": "hemei.accounts.validators.NotLikeUserNameValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
HEMEI_LOCKOUT_FAILURES = int(os.environ.get("HEMEI_LOCKOUT_FAILURES", "5"))
HEMEI_LOCKOUT_MINUTES = int(os.environ.get("HEMEI_LOCKOUT_MINUTES", "30"))
# Idle logout: the session cookie lives 30 minutes past the last request.
SESSION_COOKIE_AGE = int(os.environ.get("HEMEI_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- i18n: Chinese first ----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and uploads -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Every upload (xlsx imports, disclosure attachments), and what an xlsx may expand to before
# anything parses it (hemei/core/xlsx.py): a zip of 1 MB can hold 600 MB of shared strings.
HEMEI_UPLOAD_MAX_BYTES = int(os.environ.get("HEMEI_UPLOAD_MAX_MB", "20")) * 1024 * 1024
HEMEI_XLSX_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("HEMEI_XLSX_MAX_UNCOMPRESSED_MB", "200")) * 1024 * 1024
HEMEI_XLSX_MAX_RATIO = int(os.environ.get("HEMEI_XLSX_MAX_RATIO", "100"))
# Rows read from one import (a county roster is ~100k residents) and errors listed in its report.
HEMEI_IMPORT_MAX_ROWS = int(os.environ.get("HEMEI_IMPORT_MAX_ROWS", "200000"))
HEMEI_IMPORT_MAX_ERRORS = int(os.environ.get("HEMEI_IMPORT_MAX_ERRORS", "1000"))
# Case photos: checked and re-encoded without EXIF (hemei/cases/photos.py).
HEMEI_PHOTO_MAX_BYTES = int(os.environ.get("HEMEI_PHOTO_MAX_MB", "10")) * 1024 * 1024
HEMEI_PHOTO_MAX_SIDE = 2048
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- the public board's cache -----------------------------------------------------------
# Renderings are keyed by the versions of what they show (hemei.core.freshness), so they are
# never stale after a write; the timeout only bounds memory and covers a writer that bumped
# nothing. The cache is per process (local memory): each web worker renders a page once per
# version, and the version counters themselves live in the database, shared by all.
HEMEI_BOARD_CACHE_SECONDS = int(os.environ.get("HEMEI_BOARD_CACHE_SECONDS", "600"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("HEMEI_CACHE_ENTRIES", "5000"))},
    }
}

# --- grids: a rural grid is a natural village or about 300 households, at most 2,500 people
# (flagged on the workbench and by `hemei verify` as a notice, hemei.regions.selectors.oversized_grids).
HEMEI_GRID_MAX_HOUSEHOLDS = int(os.environ.get("HEMEI_GRID_MAX_HOUSEHOLDS", "300"))
HEMEI_GRID_MAX_PEOPLE = int(os.environ.get("HEMEI_GRID_MAX_PEOPLE", "2500"))

# --- working-day calendar ----------------------------------------------------------------
# A deadline of n working days ends at this local time on the n-th working day.
HEMEI_WORKDAY_END = os.environ.get("HEMEI_WORKDAY_END", "17:30")

# --- background work --------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("HEMEI_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header turns a bad token into 401, not 403.
        "hemei.accounts.authentication.LockAwareTokenAuthentication",  # DRF's, plus lockout and audit
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "hemei.core.paging.PageNumbers",  # DRF's, with `?page=` blank a 400
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hemei.core.api.exception_handler",
    # Rates in HEMEI_RATES (hemei/core/throttle.py, one counter for the API and the forms).
    "DEFAULT_THROTTLE_CLASSES": ["hemei.core.throttle.UserThrottle", "hemei.core.throttle.AnonThrottle"],
}
# --- rate limits (hemei/core/throttle.py has the scopes and defaults) -------------------------
# HEMEI_RATE_LOGIN_IP=30/min, HEMEI_RATE_CASE_CREATE=20/hour, …: any scope, "N/s|min|hour|day".
HEMEI_RATES = {key[len("HEMEI_RATE_"):].lower(): value for key, value in os.environ.items()
               if key.startswith("HEMEI_RATE_") and value}
HEMEI_RATES_ENABLED = env_bool("HEMEI_RATES_ENABLED", default=True)
SPECTACULAR_SETTINGS = {
    "TITLE": "Hemei API",
    "DESCRIPTION": "Digital village governance: regions, households, residents (scoped, masked).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "hemei.core.api.error_responses"],
    # Several models have a "status", "source" or "kind": one schema name per choice set.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "hemei.cases.models.Case.Status",
        "CaseSourceEnum": "hemei.cases.models.Case.Source",
        "CaseEventKindEnum": "hemei.cases.models.CaseEvent.Kind",
        "ResidentStatusEnum": "hemei.regions.models.Resident.Status",
        "MonitoringKindEnum": "hemei.visits.models.Monitoring.Kind",
        "MonitoringSourceEnum": "hemei.visits.models.Monitoring.Source",
        "AssetStatusEnum": "hemei.assets.models.Asset.Status",
        "ProjectStatusEnum": "hemei.assets.models.RevitalisationProject.Status",
        "ContractStatusEnum": "hemei.contracts.models.Contract.Status",
        "CourtyardReviewStatusEnum": "hemei.courtyard.models.ReviewEvent.Status",
        "DisclosureVersionStatusEnum": "hemei.disclosure.models.DisclosureVersion.Status",
    },
}

# --- security -----------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Map tiles for the idle-asset map (e.g. a county GIS server's
# "https://gis.example.gov.cn/tiles/{z}/{x}/{y}.png"); empty = markers on a plain background,
# which is what a machine without internet shows. The tile host is allowed as an image source.
HEMEI_MAP_TILES = os.environ.get("HEMEI_MAP_TILES", "")
_TILE_ORIGIN = "/".join(HEMEI_MAP_TILES.split("/")[:3]) if HEMEI_MAP_TILES.startswith("https://") else ""
SECURE_CSP = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:", *([_TILE_ORIGIN] if _TILE_ORIGIN else [])],
    "style-src": ["'self'", "'unsafe-inline'"],
    "script-src": ["'self'"],
}
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    DEBUG = False
    SECURE_SSL_REDIRECT = env_bool("HEMEI_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("HEMEI_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# A laptop prints mail to the console; a deployment sends it over SMTP.
_MAIL_DEFAULT = "smtp" if PRODUCTION else "console"
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("HEMEI_MAIL_BACKEND", f"django.core.mail.backends.{_MAIL_DEFAULT}.EmailBackend")
    }
}
if os.environ.get("EMAIL_HOST"):  # SMTP server for the smtp backend (docs/notifications.md)
    MAILERS["default"]["OPTIONS"] = {  # type: ignore[assignment]  # inferred as str values
        "host": os.environ["EMAIL_HOST"],
        "port": int(os.environ.get("EMAIL_PORT", "0")) or None,
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS"),
        "use_ssl": env_bool("EMAIL_USE_SSL"),
        "timeout": 30,
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "hemei@localhost")

# --- notifications (hemei.notify, docs/notifications.md) --------------------------------------
HEMEI_NOTIFY_EMAIL = env_bool("HEMEI_NOTIFY_EMAIL", default=True)
HEMEI_SMS_BACKEND = os.environ.get("HEMEI_SMS_BACKEND", "hemei.notify.sms.LoggingSmsBackend")
# Indicator rollups (docs/indicators.md): the first month kept (blank: January of last year)
# and the least seconds between two refreshes by the sweep.
HEMEI_ROLLUP_FROM = os.environ.get("HEMEI_ROLLUP_FROM", "")
HEMEI_ROLLUP_EVERY = int(os.environ.get("HEMEI_ROLLUP_EVERY", "300"))
HEMEI_REMINDER_HOURS = int(os.environ.get("HEMEI_REMINDER_HOURS", "24"))
HEMEI_SITE_URL = os.environ.get("HEMEI_SITE_URL", "")  # e.g. https://hemei.example.gov.cn, for links in email

SERIALIZATION_MODULES = {"hemei-json": "hemei.core.serializers"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HEMEI_LOG_LEVEL", "WARNING")},
}

# --- elderly care (hemei.care, docs/care.md) ---------------------------------------------------
# Minutes the carer on duty has to take on a call; the eldercare categories are created with
# it, and each further step (care-centre lead, township, county) gets as long again.
HEMEI_CARE_RESPONSE_MINUTES = int(os.environ.get("HEMEI_CARE_RESPONSE_MINUTES", "15"))
# Home visits a week at least for 重度 and 完全丧失 (seed 003: "≥3 home visits a week").
HEMEI_CARE_VISITS_IMPAIRED = int(os.environ.get("HEMEI_CARE_VISITS_IMPAIRED", "3"))
# Default normal ranges (low, high; None: no bound), an elder's own thresholds win.
HEMEI_CARE_THRESHOLDS: dict[str, tuple[float | None, float | None]] = {
    "heart_rate": (50, 110),
    "systolic": (90, 160),
    "diastolic": (50, 100),
    "glucose": (3.9, 11.1),
    "spo2": (90, None),
    "door_idle": (None, float(os.environ.get("HEMEI_CARE_DOOR_HOURS", "12"))),
    "fall": (None, 0),  # any fall is out of range
}
# The monthly operator rating (hemei.care.rating): weights per operator kind (each set sums
# to 1), grades from the score (lowest score, grade, share of the base reward) and the base
# reward in 元 per month.
HEMEI_RATING_WEIGHTS: dict[str, dict[str, float]] = {
    "care_institution": {"occupancy": 0.3, "satisfaction": 0.4, "norms": 0.3},
    "sewage": {"uptime": 0.4, "effluent": 0.4, "satisfaction": 0.2},
}
HEMEI_RATING_GRADES: tuple[tuple[float, str, float], ...] = (
    (90, "AAAAA", 1.0), (80, "AAAA", 0.8), (70, "AAA", 0.6), (60, "AA", 0.3), (0, "A", 0.0),
)
HEMEI_RATING_BASE_REWARD: dict[str, int] = {"care_institution": 50000, "sewage": 30000}
# Devices (docs/devices.md). The listener connects to HEMEI_MQTT_URL (mqtt://user:pass@host:port);
# `hemei serve` starts it only when the variable is set.
HEMEI_MQTT_URL = os.environ.get("HEMEI_MQTT_URL", "")
HEMEI_MQTT_PREFIX = os.environ.get("HEMEI_MQTT_PREFIX", "hemei")  # topics: <prefix>/<county>/<device>/up/<type>
HEMEI_DEVICE_MAX_AGE = int(os.environ.get("HEMEI_DEVICE_MAX_AGE", "3600"))  # seconds a message may be old
HEMEI_DEVICE_MAX_AHEAD = int(os.environ.get("HEMEI_DEVICE_MAX_AHEAD", "300"))  # seconds a clock may run ahead
# At most N messages per device in S seconds ("N/S"); more is a flood and is refused.
HEMEI_DEVICE_RATE = os.environ.get("HEMEI_DEVICE_RATE", "60/60")
HEMEI_WEBHOOK_WINDOW = int(os.environ.get("HEMEI_WEBHOOK_WINDOW", "300"))  # seconds a signed request stays valid
# Seconds an outgoing case webhook (hemei.cases.hooks) may take to answer before it counts as failed.
HEMEI_CASE_HOOK_TIMEOUT = float(os.environ.get("HEMEI_CASE_HOOK_TIMEOUT", "5"))
# Days a family has to take up an offered childcare place before the offer lapses and the place
# goes back to the waiting list (hemei.services.sweep).
HEMEI_CHILDCARE_OFFER_DAYS = int(os.environ.get("HEMEI_CHILDCARE_OFFER_DAYS", "14"))
# Heartbeat interval per device kind in seconds; silent for HEMEI_DEVICE_MISSED intervals → offline.
HEMEI_DEVICE_HEARTBEAT = {
    "call_box": 300, "camera": 300, "smoke": 600, "water_level": 600, "temp_humidity": 300,
    "health_band": 600, "door": 900,
}
HEMEI_DEVICE_MISSED = int(os.environ.get("HEMEI_DEVICE_MISSED", "3"))
# A cleared alarm raised again within this many minutes re-opens (flapping); after this many
# re-raises in that window it is flapping and its clears are ignored until it is quiet.
HEMEI_ALARM_FLAP_MINUTES = int(os.environ.get("HEMEI_ALARM_FLAP_MINUTES", "10"))
HEMEI_ALARM_FLAP_LIMIT = int(os.environ.get("HEMEI_ALARM_FLAP_LIMIT", "3"))

# --- party building (hemei.party, docs/party.md) -----------------------------------------------
# 三会一课: how often each kind of session must be held ("month", "quarter", "week"; a kind left
# out has no rule). The defaults follow the 2018 《中国共产党支部工作条例（试行）》: 支部党员大会
# and 党课 at least quarterly, 支委会 and 党小组会 monthly, and the usual monthly 主题党日. A
# period without a held session of its kind is missed and escalates to the township.
HEMEI_PARTY_SCHEDULE: dict[str, str] = {
    "assembly": "quarter",
    "committee": "month",
    "group": "month",
    "lecture": "quarter",
    "theme_day": "month",
}
# How long a sign-in code shown in the room stays valid (minutes; a new one can be shown).
HEMEI_PARTY_CODE_MINUTES = int(os.environ.get("HEMEI_PARTY_CODE_MINUTES", "10"))
# How far back the sweep looks for periods to check (days): a sweeper that was off catches up
# without reaching into years before the register existed.
HEMEI_PARTY_LOOKBACK_DAYS = int(os.environ.get("HEMEI_PARTY_LOOKBACK_DAYS", "366"))
