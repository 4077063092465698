"""Portico settings: one module, read from the environment, with embedded defaults for local use."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_rate(name: str, default: float) -> float | None:
    """Read a requests-per-second limit; empty keeps the default, `0` or `off` turns the limit off."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"0", "off", "none"}:
        return None
    return float(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "portico-insecure-development-key-do-not-use-in-production"

# Local state of the embedded mode (SQLite file, broker folders, spools) lives here.
VAR_DIR = Path(os.environ.get("PORTICO_VAR_DIR", BASE_DIR / "var"))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],.localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "apis",
    "portal",
    "usage",
    "gateway_runtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ from the web process itself (uvicorn has no static server); from the finders in DEBUG.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portico.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web, gateway and worker processes share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

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
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}

# Celery: the embedded default is kombu's filesystem transport, so no broker server is needed.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or (REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")

# Metering (docs/metering.md): the gateway's event sink and the drain, fold and prune of usage/.
USAGE = {
    "METERING": env_bool("USAGE_METERING", True),
    "STREAM": os.environ.get("USAGE_STREAM", "portico:usage:events"),
    "GROUP": os.environ.get("USAGE_GROUP", "portico-usage"),
    "LOCAL_STORE": VAR_DIR / "metering" / "events.sqlite3",
    "SPOOL": VAR_DIR / "metering" / "spool.sqlite3",
    "SPOOL_MAX_EVENTS": env_int("USAGE_SPOOL_MAX_EVENTS", 1_000_000),
    "FLUSH_INTERVAL": 0.05,
    "FLUSH_EVENTS": 1000,
    "EVENTS_PER_ENTRY": 100,
    "DRAIN_INTERVAL": float(os.environ.get("USAGE_DRAIN_INTERVAL", "2")),
    "DRAIN_BATCH_ENTRIES": env_int("USAGE_DRAIN_BATCH_ENTRIES", 500),
    "DRAIN_MAX_SECONDS": 10.0,
    "CLAIM_IDLE_MS": env_int("USAGE_CLAIM_IDLE_MS", 15_000),
    "FOLD_INTERVAL": float(os.environ.get("USAGE_FOLD_INTERVAL", "10")),
    "DEDUPE_HOURS": env_int("USAGE_DEDUPE_HOURS", 48),
    "DEDUPE_CACHE_IDS": 1_000_000,
    # Days each granularity is kept; 0 keeps it forever.
    "RETENTION_DAYS": {
        "m": env_int("USAGE_RETENTION_MINUTE_DAYS", 2),
        "h": env_int("USAGE_RETENTION_HOUR_DAYS", 90),
        "d": env_int("USAGE_RETENTION_DAY_DAYS", 0),
    },
    "ACCESS_LOG_DIR": Path(os.environ.get("ACCESS_LOG_DIR") or VAR_DIR / "logs"),
}
# Beat messages expire after one interval: a worker that was down does not come back to a pile of drains.
CELERY_BEAT_SCHEDULE = {
    "drain-usage-events": {
        "task": "usage.drain_usage_events",
        "schedule": USAGE["DRAIN_INTERVAL"],
        "options": {"expires": max(USAGE["DRAIN_INTERVAL"], 1.0)},
    },
    "fold-usage-rollups": {
        "task": "usage.fold_usage_rollups",
        "schedule": USAGE["FOLD_INTERVAL"],
        "options": {"expires": max(USAGE["FOLD_INTERVAL"], 1.0)},
    },
    "prune-usage": {"task": "usage.prune_usage", "schedule": 3600.0, "options": {"expires": 600}},
}
# Rotated portal keys stop working when their grace period ends.
CELERY_BEAT_SCHEDULE["portal-expire-rotated-keys"] = {
    "task": "portal.tasks.expire_rotated_keys",
    "schedule": 30.0,
    "options": {"expires": 30},
}

# Secrets stored by Portico (SigV4 secrets, API key copies for includeValue) are encrypted with a key
# derived from this value; the API-key lookup digest uses the pepper.
PORTICO_ENCRYPTION_KEY = os.environ.get("PORTICO_ENCRYPTION_KEY", "") or SECRET_KEY
API_KEY_PEPPER = os.environ.get("API_KEY_PEPPER", "") or SECRET_KEY

# Management API (AWS apigateway wire format).
PORTICO_REGION = os.environ.get("PORTICO_REGION", "us-east-1")
PORTICO_ACCOUNT_ID = os.environ.get("PORTICO_ACCOUNT_ID", "000000000000")
SIGV4_MAX_SKEW_SECONDS = 300
SIGV4_FAILED_ATTEMPTS_LIMIT = env_int("SIGV4_FAILED_ATTEMPTS_LIMIT", 20)
SIGV4_FAILED_ATTEMPTS_WINDOW = env_int("SIGV4_FAILED_ATTEMPTS_WINDOW", 60)

WEB_PORT = env_int("WEB_PORT", 8000)
GATEWAY_PORT = env_int("GATEWAY_PORT", 8080)

# Data plane knobs in one place.
GATEWAY = {
    "PUBLIC_HOST": os.environ.get("GATEWAY_PUBLIC_HOST", "execute-api.localhost"),
    "PORT": GATEWAY_PORT,
    "CONFIG_POLL_SECONDS": float(os.environ.get("GATEWAY_CONFIG_POLL_SECONDS", "1.0")),
    "MAX_BODY_BYTES": 10 * 1024 * 1024,
    "DEFAULT_TIMEOUT_MS": 29_000,
    "UPSTREAM_POOL_SIZE": env_int("GATEWAY_UPSTREAM_POOL_SIZE", 256),
    # Throttle and quota counters: in Redis (REDIS_URL) under this key prefix, else in the gateway process.
    "COUNTER_PREFIX": os.environ.get("GATEWAY_COUNTER_PREFIX", "portico:"),
    "COUNTER_TIMEOUT_MS": env_int("GATEWAY_COUNTER_TIMEOUT_MS", 50),
    "ACCOUNT_RATE_LIMIT": env_rate("GATEWAY_ACCOUNT_RATE_LIMIT", 10000.0),
    "ACCOUNT_BURST_LIMIT": env_int("GATEWAY_ACCOUNT_BURST_LIMIT", 5000),
    # Where integrations may connect: loopback and private ranges only when allowed explicitly.
    "ALLOW_PRIVATE_UPSTREAMS": env_bool("GATEWAY_ALLOW_PRIVATE_UPSTREAMS", True),
}

# Demo backend served by the web process (the demo API's HTTP_PROXY target).
DEMO_BACKEND_URL = os.environ.get("DEMO_BACKEND_URL", f"http://127.0.0.1:{WEB_PORT}/demo-backend")

# Email prints to the console in the embedded mode and goes out over SMTP once EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Portico <portico@localhost>")

# Accounts of the developer portal (django-allauth, template mode). The console keeps its own login page.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_ADAPTER = "portal.adapter.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "portal:home"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Portico] "
# allauth's limits, counted in the default cache (Redis when REDIS_URL is set).
ACCOUNT_RATE_LIMITS = {
    "login": os.environ.get("PORTAL_LOGIN_RATE_LIMIT", "30/m/ip"),
    "login_failed": os.environ.get("PORTAL_LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/5m/key"),
    "signup": os.environ.get("PORTAL_SIGNUP_RATE_LIMIT", "20/m/ip"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Portico"

# Developer portal: the address its emails link to; "try it" calls reach the gateway at this fixed base URL
# only, at most this often per consumer.
PORTAL_URL = os.environ.get("PORTAL_URL", f"http://localhost:{WEB_PORT}").rstrip("/")
PORTAL_GATEWAY_URL = os.environ.get("PORTAL_GATEWAY_URL", f"http://127.0.0.1:{GATEWAY_PORT}").rstrip("/")
PORTAL_TRY_IT_PER_MINUTE = env_int("PORTAL_TRY_IT_PER_MINUTE", 60)
PORTAL_TRY_IT_TIMEOUT = float(os.environ.get("PORTAL_TRY_IT_TIMEOUT", "30"))
# Each SDK generator run (portal.tasks.build_sdk) is stopped after this many seconds.
PORTAL_SDK_BUILD_TIMEOUT = float(os.environ.get("PORTAL_SDK_BUILD_TIMEOUT", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
