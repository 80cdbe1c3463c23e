"""SegSaaS settings, read from the environment (django-environ; a `.env` file is optional).

Embedded defaults run the product on a bare machine: SQLite and a file-system Celery broker
under `var/`. `DATABASE_URL` and `CELERY_BROKER_URL` switch to PostgreSQL and Redis.
`SEGSAAS_PRODUCTION=1` turns on the production mode (`manage.py check --deploy` is clean).
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Where the embedded default keeps its files (SQLite, broker messages, uploads); a `.env` may move it too.
VAR_DIR = Path(env.str("SEGSAAS_VAR_DIR", default=str(BASE_DIR / "var")))

PRODUCTION = env.bool("SEGSAAS_PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="" if PRODUCTION else "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz",
)
if PRODUCTION and len(SECRET_KEY) < 50:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set to 50+ random characters in production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "accounts",
    "jobs",
    "datasets",
    "segments",
    "exports",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.ActiveOrganizationMiddleware",
    "segsaas.api_errors.ApiErrorPagesMiddleware",  # last: see its docstring
]

ROOT_URLCONF = "segsaas.urls"
WSGI_APPLICATION = "segsaas.wsgi.application"

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
                "accounts.context_processors.organization",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'segsaas.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker and web are separate processes: wait on the lock instead of failing. IMMEDIATE transactions take
    # the write lock when they begin, so the wait applies; a DEFERRED one that reads and then writes fails at
    # once with "database is locked" if another process wrote in between (no timeout can help it).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: e-mail only login.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Where django.core.mail.backends.filebased.EmailBackend writes each message (one file per connection).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SegSaaS <no-reply@segsaas.local>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Collected static files (production); in development they are served from the apps' folders (finders).
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles") if PRODUCTION else None)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Files (uploads, Parquet tables, models, charts, exports) go through segsaas/storage.py to the local disk under
# MEDIA_ROOT (the embedded default) or to an S3-compatible object store (STORAGE_BACKEND=s3), shared by every
# web and worker machine.
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local").strip().lower()
if STORAGE_BACKEND == "local":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif STORAGE_BACKEND == "s3":
    from boto3.s3.transfer import TransferConfig

    if not env.str("AWS_STORAGE_BUCKET_NAME", default=""):
        raise environ.ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME (the bucket to use)")
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,  # unset: Amazon S3 itself
            # Unset keys: boto3's own chain (instance role, ~/.aws, AWS_PROFILE).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default=env.str("AWS_DEFAULT_REGION", default="")) or None,
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,  # "path" for some stores
            "signature_version": env.str("AWS_S3_SIGNATURE_VERSION", default="s3v4"),
            "location": env.str("AWS_LOCATION", default=""),  # a key prefix inside the bucket
            "file_overwrite": True,
            "default_acl": None,  # private objects; people get short-lived signed URLs
            "querystring_auth": True,
            # A FieldFile opened for reading spools to disk beyond this size instead of holding the object in memory.
            "max_memory_size": 8 * 1024 * 1024,
            # Multipart above 16 MB, in 16 MB parts, at most 4 at a time: an upload holds a few parts in memory.
            "transfer_config": TransferConfig(
                multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024, max_concurrency=4
            ),
        },
    }
else:
    raise environ.ImproperlyConfigured(f"STORAGE_BACKEND must be 'local' or 's3', not {STORAGE_BACKEND!r}")
# Downloads from S3: a redirect to a signed URL valid this many seconds, or (0) streamed through the web process,
# for object stores the browsers cannot reach.
STORAGE_SIGNED_URLS = env.bool("STORAGE_SIGNED_URLS", default=True)
STORAGE_SIGNED_URL_SECONDS = env.int("STORAGE_SIGNED_URL_SECONDS", default=300)
# Reads from S3 fetch this many bytes per request (sequential reads; Parquet fetches the ranges it needs).
STORAGE_READ_BUFFER_BYTES = env.int("STORAGE_READ_BUFFER_BYTES", default=8 * 1024 * 1024)
# Local copies of stored files for libraries that need a path (S3 only; removed after use): where, and how large.
STORAGE_SCRATCH_DIR = env.str("STORAGE_SCRATCH_DIR", default="")  # "": the system's temporary directory
STORAGE_SCRATCH_MAX_BYTES = env.int("STORAGE_SCRATCH_MAX_BYTES", default=4 * 1024**3)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads stream to a temporary file beyond 2.5 MB, never held whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=20 * 1024 * 1024)
# The longest URL (path and query) the API reads: longer is a 414 in the API's error format. The schema bounds every
# parameter so that no URL it allows comes near; gunicorn.conf.py lets request lines of up to 8,190 bytes reach it.
API_MAX_URL_LENGTH = env.int("API_MAX_URL_LENGTH", default=4096)
WHITENOISE_USE_FINDERS = not PRODUCTION

# Celery: long ML jobs. The Analysis/Job row in the database is the source of truth for state.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=50 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=55 * 60)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# Queues by weight: analyses and large imports on the heavy queue, everything else (exports, small imports,
# webhooks, the sweeper) on the light one, so a light job never waits behind a heavy one. Run at least one
# worker on each (README: "Workers and queues").
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="light")
JOB_QUEUES = {
    "light": CELERY_TASK_DEFAULT_QUEUE,
    "heavy": env.str("JOB_HEAVY_QUEUE", default=f"{CELERY_TASK_DEFAULT_QUEUE}.heavy"),
}
# The hard time limit stays below the visibility timeout, or a long job would be delivered twice.
# Short connect timeouts: with the broker down a page that queues a job answers at once (the job waits in the
# outbox, `Job.dispatched_at` unset, and the sweeper sends it once the broker is back).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=1.5)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 5 * 60}
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {"socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT, "socket_timeout": 10}
    )
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The folders are made when the Celery app is configured (segsaas/celery.py), not when settings are read.
    _broker_dir = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "data_folder_in": str(_broker_dir / "queue"),
            "data_folder_out": str(_broker_dir / "queue"),
            "processed_folder": str(_broker_dir / "processed"),
            "control_folder": str(_broker_dir / "control"),
            "store_processed": False,
            "polling_interval": 0.2,
        }
    )
# A job whose heartbeat is older than this lost its worker (killed, out of memory, host gone). A thread in the
# worker beats every JOB_HEARTBEAT_INTERVAL seconds while a job runs, whatever the job is doing.
JOB_HEARTBEAT_INTERVAL = env.float("JOB_HEARTBEAT_INTERVAL", default=10)
JOB_HEARTBEAT_TIMEOUT = env.int("JOB_HEARTBEAT_TIMEOUT", default=60)
# A job whose worker was lost is run again, up to this many attempts in all; then it fails with the reason.
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
# A job sent to the broker that has not started after this long is sent again (the broker lost it, e.g. a Redis
# restarted without persistence); a duplicate delivery is harmless (the claim is fenced).
JOB_RESEND_AFTER = env.int("JOB_RESEND_AFTER", default=5 * 60)
# The sweeper (re-runs lost jobs, re-sends jobs the broker never got) runs this often.
JOB_SWEEP_SECONDS = env.float("JOB_SWEEP_SECONDS", default=15)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {
        "task": "jobs.tasks.sweep_jobs",
        "schedule": timedelta(seconds=JOB_SWEEP_SECONDS),
        "options": {"queue": JOB_QUEUES["light"], "expires": JOB_SWEEP_SECONDS},
    },
    # Re-runs whose schedule is due, and webhook deliveries whose retry is due (monitoring/tasks.py).
    "run-due-schedules": {
        "task": "monitoring.tasks.run_due_schedules",
        "schedule": timedelta(minutes=1),
        "options": {"queue": JOB_QUEUES["light"], "expires": 60},
    },
    "retry-webhooks": {
        "task": "monitoring.tasks.retry_due_deliveries",
        "schedule": timedelta(minutes=1),
        "options": {"queue": JOB_QUEUES["light"], "expires": 60},
    },
    "purge-deleted-organizations": {
        "task": "accounts.tasks.purge_deleted_organizations",
        "schedule": timedelta(hours=1),
        "options": {"queue": JOB_QUEUES["light"]},
    },
}
# Memory a worker process may use for one job. A job whose estimated need (from the dataset's rows x columns,
# before it starts) exceeds it is refused up front, naming the limit.
WORKER_MEMORY_BUDGET_MB = env.int("WORKER_MEMORY_BUDGET_MB", default=4096)
# Analyses above SEGSAAS_DASK_MIN_ROWS customers (segments.engine.dask_path reads it) or estimated above the budget
# run on the Dask path (segments/services/distributed.py): on the cluster at DASK_SCHEDULER_ADDRESS, else on a
# LocalCluster of DASK_LOCAL_WORKERS processes started for the run beside the heavy worker.
DASK_SCHEDULER_ADDRESS = env.str("DASK_SCHEDULER_ADDRESS", default="")
DASK_LOCAL_WORKERS = env.int("DASK_LOCAL_WORKERS", default=2)
# Webhooks: attempts per delivery, the first retry's delay (doubling each time), the request timeout, and whether
# endpoint URLs may resolve to private or loopback addresses (never in production: a partner's URL must not reach
# into our own network).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# Drift reports at or above this level raise an alert (dashboard, e-mail, webhook): "moderate" or "major".
DRIFT_ALERT_LEVEL = env.str("DRIFT_ALERT_LEVEL", default="moderate")
# Extra modules that register job handlers (the test suite adds its own kinds for the real worker).
JOB_HANDLER_MODULES = env.list("JOB_HANDLER_MODULES", default=[])

# Datasets: files up to these sizes are imported in the request; larger ones in a job with progress.
DATASETS_INLINE_MAX_BYTES = env.int("DATASETS_INLINE_MAX_BYTES", default=8 * 1024 * 1024)
DATASETS_INLINE_MAX_ROWS = env.int("DATASETS_INLINE_MAX_ROWS", default=50_000)
DATASETS_CHUNK_ROWS = env.int("DATASETS_CHUNK_ROWS", default=50_000)  # rows read at a time while converting
DATASETS_SHORT_ROW_TOLERANCE = env.float("DATASETS_SHORT_ROW_TOLERANCE", default=0.01)  # share of short rows allowed
DATASETS_DECOMPRESSION_FACTOR = env.int("DATASETS_DECOMPRESSION_FACTOR", default=4)  # gzip bound: n x max upload
# Exports of analyses with more customers than this are built in a job (CSV always streams).
EXPORT_SYNC_MAX_CUSTOMERS = env.int("EXPORT_SYNC_MAX_CUSTOMERS", default=50_000)
# Fitted models kept in memory per process for predict_segment (least recently used dropped first).
PREDICT_MODEL_CACHE_MB = env.float("PREDICT_MODEL_CACHE_MB", default=128)  # per web process; predict_cache

# Organizations: an organization an owner deleted can be restored for this many days, then it is purged (every row
# and file); logos for the report up to this size.
ORGANIZATION_DELETION_GRACE_DAYS = env.int("ORGANIZATION_DELETION_GRACE_DAYS", default=7)
ORGANIZATION_LOGO_MAX_BYTES = env.int("ORGANIZATION_LOGO_MAX_BYTES", default=1024 * 1024)

# A verified API key is trusted by the process that checked it for this many seconds (0: check every request).
# Revoking on the API keys page takes effect at once in that process and within these seconds everywhere.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.OrganizationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "segsaas.api_params.StrictPageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "segsaas.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api_auth.APIKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env.str("API_THROTTLE_RATE", default="60000/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SegSaaS API",
    "DESCRIPTION": "Customer segmentation analytics: datasets, analyses, segment profiles, predictions, exports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Operations list their authentication from the views (ApiKeyAuth, cookieAuth); a global SECURITY would repeat it.
    "ENUM_NAME_OVERRIDES": {
        "DatasetStatusEnum": "datasets.models.DatasetStatus",
        "RunStatusEnum": "jobs.serializers.JOB_STATES",
        "DurationUnitEnum": "segments.engine.units.UNITS",
    },
}

# Content-Security-Policy (django-csp) on every response: scripts only from this site's own files (no inline script,
# no eval; behaviour comes from static/js through data- attributes), nothing embeds our pages, no plugins, no <base>.
# Inline *styles* stay allowed: Plotly and ReDoc inject <style> elements, and templates set widths and colours.
# Images may be data: URIs (Bootstrap's form icons, Plotly's export, ReDoc), workers blob: (ReDoc's search).
# No form-action: a download form may be redirected to the object store's signed URL (STORAGE_BACKEND=s3).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    },
}

# Throttle counters: shared across web workers through Redis when configured, else per process.
_cache_url = env.str("CACHE_URL", default="")
if _cache_url:
    CACHES = {"default": env.cache("CACHE_URL")}
elif CELERY_BROKER_URL.startswith("redis://"):
    # Fail-soft: with Redis down the counters read as misses and requests still answer at once.
    CACHES = {
        "default": {
            "BACKEND": "segsaas.cache.FailSoftRedisCache",
            "LOCATION": CELERY_BROKER_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
