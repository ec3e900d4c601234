"""Settings read from the environment.

``DATABASE_URL``, ``SECRET_KEY``, ``DEBUG``, ``ALLOWED_HOSTS`` (comma separated). Without
``DATABASE_URL`` the embedded PostgreSQL in ``var/pgdata`` is started; without ``SECRET_KEY`` a
machine-local key in ``var/`` is used (demo and tests) and ``check --deploy`` warns about it.
"""

import os
from datetime import timedelta

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from hub.local_state import BASE_DIR, VAR_DIR, embedded_database_url, local_secret


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY_FROM_ENVIRONMENT = bool(os.environ.get("SECRET_KEY"))
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret("secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "hub.apps.HubAdminConfig",  # the admin site, with a second factor (hub/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django",
    "guardian",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    # the job queue in PostgreSQL; its ready() imports every app's tasks.py (docs/operations.md, Jobs)
    "procrastinate.contrib.django",
    "hub",
    "partners",
    "consent",
    "pathways",
    "referrals",
    "notifications",
    "community",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # static files answer before everything below: no session, no database, cacheable
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hub.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "hub.middleware.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # read-your-writes for the read replicas; removes itself when there are none (hub/replicas.py)
    "hub.replicas.ReplicaMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the session passed a TOTP code
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # request.htmx: the console's partial page updates
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # last, as axes asks: it turns a lockout during the admin login into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
# API routes accept paths with or without the trailing slash; never redirect a POST.
APPEND_SLASH = False
WSGI_APPLICATION = "hub.wsgi.application"
ASGI_APPLICATION = "hub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.shared.console",
                "console.shared.demo_mode",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or embedded_database_url(),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Referral Hub runs on PostgreSQL only; DATABASE_URL must be postgres://…")
if not DATABASES["default"].get("NAME"):
    DATABASES["default"]["NAME"] = "postgres"

# Streaming replicas of DATABASE_URL (docs/scaling.md): comma-separated postgres:// URLs, one alias
# each (replica_1, …). The list and inbox reads the views mark @replica_safe go to one of them,
# unless the caller wrote within REPLICA_READ_AFTER_WRITE_SECONDS, the replica has not replayed the
# caller's last write yet, or it lags more than REPLICA_MAX_LAG_SECONDS; everything else, writes
# and migrations included, stays on the primary. Unset: one database, exactly as before.
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    DATABASES[f"replica_{_number}"] = {
        **dj_database_url.parse(_url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"]),
        # the test runner makes no database of its own for a replica: it reads the primary's
        "TEST": {"MIRROR": "default"},
    }
    # a replica that does not answer delays a read by at most this before the primary serves it
    # (libpq waits forever by default); ?connect_timeout= in the URL overrides it
    DATABASES[f"replica_{_number}"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
DATABASE_REPLICAS = [alias for alias in DATABASES if alias.startswith("replica_")]
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["common.replicas.ReplicaRouter"]
REPLICA_READ_AFTER_WRITE_SECONDS = float(os.environ.get("REPLICA_READ_AFTER_WRITE_SECONDS", "5"))
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "10"))
# a replica that did not answer is left alone for this long by the process that asked it
REPLICA_RETRY_SECONDS = float(os.environ.get("REPLICA_RETRY_SECONDS", "30"))

# A transaction-mode connection pooler (pgbouncer's pool_mode = transaction) between the application
# and PostgreSQL hands each transaction to whichever server connection is free, so nothing may
# outlive a transaction on the server. DATABASE_POOLER=transaction: no server-side cursors (an
# .iterator() outside a transaction declares a cursor WITH HOLD in one transaction and fetches from
# it in the next), no prepared statements (psycopg 3 under Django's default, kept so), and a check
# that a kept connection still answers before it is reused.
DATABASE_POOLER = os.environ.get("DATABASE_POOLER", "").strip().lower()
if DATABASE_POOLER not in ("", "transaction"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DATABASE_POOLER is either unset or 'transaction'.")
if DATABASE_POOLER == "transaction":
    for _database in DATABASES.values():
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True
        _database["CONN_HEALTH_CHECKS"] = True
        _database.setdefault("OPTIONS", {})["prepare_threshold"] = None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # first: refuses a locked account or address before any password is checked
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous callers never hold grants

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("ar", "العربية")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "hub" / "static"]
# WhiteNoise serves STATIC_ROOT (filled by `collectstatic`) in production, gzip-compressed ahead of
# time; under DEBUG it (and runserver) serve straight from the apps' static folders. Names are not
# hashed: the vendored GraphiQL files keep their upstream bytes, so their SRI pins hold, and no
# source map they point to has to be shipped. Browsers revalidate them after WHITENOISE_MAX_AGE.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Requests are small JSON documents; anything larger is refused before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(1024 * 1024)))

# Reverse proxies in front of the application that append the address they saw to X-Forwarded-For.
# 0: the address is REMOTE_ADDR and X-Forwarded-For is ignored (any client can write it). N: the
# N-th entry from the right, the one the outermost trusted proxy wrote. DRF's throttles and the
# failed-login limits (hub.auth.client_address) both read this one value.
NUM_PROXIES = int(os.environ.get("NUM_PROXIES", "0"))

REST_FRAMEWORK = {
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header turns "not authenticated" into a 401.
        "knox.auth.TokenAuthentication",
        "hub.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.LimitOffsetPagination",
    # JSON only, through the parser that refuses what PostgreSQL or the encoder would fail on
    "DEFAULT_PARSER_CLASSES": ["hub.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "hub.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=int(os.environ.get("API_TOKEN_TTL_HOURS", "720"))),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": 20,
    "AUTH_HEADER_PREFIX": "Token",
}

# Failed logins (django-axes; docs/operations.md). Two separate limits: per account (username) and
# per client address, for the REST token login and the admin login alike. Counted in the database,
# so every worker process sees the same counts.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
# attempts during a lockout neither count nor restart the cool-off, so the retry time we answer holds
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# a success must not wipe the address's failures: one valid account would reset the address limit
AXES_RESET_ON_SUCCESS = False
# the same trusted-proxy rule as DRF's throttles (NUM_PROXIES), not a header the client chooses
AXES_CLIENT_IP_CALLABLE = "hub.auth.client_address"
# the admin's lockout page (the REST login answers the JSON error itself: hub.auth.LoginView)
AXES_LOCKOUT_CALLABLE = "hub.auth.lockout_page"
AXES_HTTP_RESPONSE_CODE = 429
# no log row for each success: it would open a session for every API token login; knox's token
# rows already record those
AXES_DISABLE_ACCESS_LOG = True

SPECTACULAR_SETTINGS = {
    "TITLE": "Referral Hub API",
    "DESCRIPTION": "Consent-first, minimal-data referrals between humanitarian partners.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the drf-spectacular-sidecar package, served by us: no CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # the error shape and statuses of every operation (drf-spectacular documents successes only)
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "hub.openapi.document_errors"],
    # several models have a "kind" or a channel; give each choice set its own stable name
    "ENUM_NAME_OVERRIDES": {
        "OrganisationKindEnum": "partners.models.Organisation.Kind",
        "LocationKindEnum": "partners.models.Location.Kind",
        "DataSubjectRequestKindEnum": "consent.models.DataSubjectRequest.Kind",
        "ContactChannelEnum": "consent.models.Channel",
        "ConsentRecordStatusEnum": "consent.models.ConsentRecord.Status",
        "DataSubjectRequestStatusEnum": "consent.models.DataSubjectRequest.Status",
        "PathwayStatusEnum": "pathways.models.Pathway.Status",
        "ReferralStatusEnum": "referrals.models.Referral.Status",
        "ReferralEventKindEnum": "referrals.models.ReferralEvent.Kind",
        "AccessLogApiEnum": "referrals.models.AccessLog.Api",
        "InformationGivenChannelEnum": "referrals.models.InformationGiven.Channel",
        "NotificationKindEnum": "referrals.models.Notification.Kind",
    },
}

GRAPHENE = {
    "SCHEMA": "hub.schema.schema",
    "RELAY_CONNECTION_ENFORCE_FIRST_OR_LAST": True,
    "RELAY_CONNECTION_MAX_LIMIT": 100,
    "ATOMIC_MUTATIONS": True,
}
GRAPHIQL_ENABLED = env_bool("GRAPHIQL_ENABLED", DEBUG)
GRAPHQL_INTROSPECTION = env_bool("GRAPHQL_INTROSPECTION", DEBUG)
GRAPHQL_MAX_DEPTH = int(os.environ.get("GRAPHQL_MAX_DEPTH", "10"))
GRAPHQL_MAX_COST = int(os.environ.get("GRAPHQL_MAX_COST", "5000"))
GRAPHQL_MAX_BODY_BYTES = int(os.environ.get("GRAPHQL_MAX_BODY_BYTES", str(64 * 1024)))
# checked before validation (hub/graphql_limits.py); the largest shipped operation in
# graphql/operations has 127 tokens, 69 selections and repeats no field
GRAPHQL_MAX_TOKENS = int(os.environ.get("GRAPHQL_MAX_TOKENS", "1000"))
GRAPHQL_MAX_SELECTIONS = int(os.environ.get("GRAPHQL_MAX_SELECTIONS", "200"))
GRAPHQL_MAX_FIELD_REPEATS = int(os.environ.get("GRAPHQL_MAX_FIELD_REPEATS", "10"))

# Open Referral HSDS (docs/hsds.md): the read API under /hsds/ is public only when this is set
# (the directory holds no personal data); imports refuse files larger than HSDS_IMPORT_MAX_BYTES.
HSDS_PUBLIC = env_bool("HSDS_PUBLIC", False)
HSDS_IMPORT_MAX_BYTES = int(os.environ.get("HSDS_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))

# Accounts (docs/operations.md): a new account gets an unusable password and a one-time link, mailed
# to its owner, to choose one. ACCOUNT_ACTIVATION_URL is the page that takes the token (the fragment
# keeps it out of server logs and Referer headers); by default the console's activation page.
# SITE_URL: where people reach this deployment; links in notifications start with it (`make demo`
# sets it from its port).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
ACCOUNT_ACTIVATION_URL = os.environ.get(
    "ACCOUNT_ACTIVATION_URL", SITE_URL + "/console/activate#token={token}"
)
ACCOUNT_ACTIVATION_TTL_HOURS = int(os.environ.get("ACCOUNT_ACTIVATION_TTL_HOURS", "72"))
# Mail: SMTP in production (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
# EMAIL_USE_TLS); in the demo the messages are written as files to var/mail/.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "referral-hub@localhost")

# Second factor (django-otp, TOTP): staff users and anyone who enrolled a device need a code to log in.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Referral Hub")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no admin page shows another person's TOTP secret

# The demo's persona page (/console/demo: sign in as a demo person with one click). `make demo` turns
# it on; anywhere else it stays off, and the page and its sign-in answer 404.
DEMO_MODE = env_bool("DEMO_MODE", False)

# Content Security Policy (django-csp) on every response: only our own origin, no inline script or
# style except those carrying the per-request nonce (GraphiQL's settings object).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # Swagger UI's and GraphiQL's stylesheets draw their icons as data: images
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        # one line per task at start-up is noise; the worker's own start, stop and job lines stay
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
    },
}


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# Encryption of personal fields (consent app, docs/operations.md). FIELD_ENCRYPTION_KEYS: the master
# keys, comma-separated Fernet keys, newest first; they wrap the per-person data keys that seal the
# fields (the newest wraps, all unwrap; `manage.py rotate_field_keys` re-wraps under the newest).
# FIELD_HMAC_KEY keys the registration-number lookup hash. Without them (demo and tests) keys
# generated once on this machine in var/ are used and `check --deploy` warns.
FIELD_ENCRYPTION_KEYS_FROM_ENVIRONMENT = bool(env_list("FIELD_ENCRYPTION_KEYS"))
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS") or [
    local_secret("field_encryption_key", factory=_new_fernet_key)
]
FIELD_HMAC_KEY_FROM_ENVIRONMENT = bool(os.environ.get("FIELD_HMAC_KEY"))
FIELD_HMAC_KEY = os.environ.get("FIELD_HMAC_KEY") or local_secret("field_hmac_key")
# Longest time an unwrapped person data key stays in a process's memory outside a request (inside
# one it never outlives the request; an erasure drops it at once in the erasing process).
PERSON_KEY_CACHE_SECONDS = int(os.environ.get("PERSON_KEY_CACHE_SECONDS", "60"))
# Days an access / correction / erasure request may stay open when no due date is given.
DATA_SUBJECT_REQUEST_DUE_DAYS = int(os.environ.get("DATA_SUBJECT_REQUEST_DUE_DAYS", "30"))

# Jobs (procrastinate, docs/operations.md): deferred in the same transaction as the change that
# causes them, run by `manage.py run_worker`. Periodic tasks are declared next to their service
# (each app's tasks.py); their schedules are cron lines.
ESCALATION_CRON = os.environ.get("ESCALATION_CRON", "*/5 * * * *")
REMINDERS_CRON = os.environ.get("REMINDERS_CRON", "7 * * * *")  # consent expiry, requests due soon
RETENTION_CRON = os.environ.get("RETENTION_CRON", "17 3 * * *")
# Escalation level 2 (the sending focal point and the operation coordinator) comes this many hours
# after level 1 when still unanswered, or still without an outcome: hours for emergency referrals
# (every PSEA report is one), days for the rest (docs/referrals.md, Escalation).
ESCALATION_LEVEL_2_HOURS_EMERGENCY = int(os.environ.get("ESCALATION_LEVEL_2_HOURS_EMERGENCY", "4"))
ESCALATION_LEVEL_2_HOURS = int(os.environ.get("ESCALATION_LEVEL_2_HOURS", str(3 * 24)))
# A worker that sent no heartbeat for this long is taken for dead and its running jobs are retried.
JOB_STALLED_AFTER_SECONDS = int(os.environ.get("JOB_STALLED_AFTER_SECONDS", "60"))
# Days before its due date that the holder of an open data-subject request is reminded (once).
DATA_SUBJECT_REQUEST_REMINDER_DAYS = int(os.environ.get("DATA_SUBJECT_REQUEST_REMINDER_DAYS", "5"))
# Retention, in days: spent or expired sign-in tokens (API tokens, activation links); the access
# logs (who read a referral's payload or a person's record); finished jobs.
TOKEN_RETENTION_DAYS = int(os.environ.get("TOKEN_RETENTION_DAYS", "30"))
ACCESS_LOG_RETENTION_DAYS = int(os.environ.get("ACCESS_LOG_RETENTION_DAYS", str(2 * 365)))
JOB_RETENTION_DAYS = int(os.environ.get("JOB_RETENTION_DAYS", "14"))
# Jobs one worker process runs at the same time.
WORKER_CONCURRENCY = int(os.environ.get("WORKER_CONCURRENCY", "4"))

# Notifications (docs/operations.md, Notifications): e-mail through EMAIL_BACKEND above; SMS through
# SMS_BACKEND, a gateway class: notifications.sms.FileSmsGateway (demo: one JSON line per message in
# SMS_FILE_PATH), notifications.sms.ConsoleSmsGateway, notifications.sms.TwilioSmsGateway (Twilio's
# REST API: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM). Empty: no SMS is sent (production
# default until a gateway is configured).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "notifications.sms.FileSmsGateway" if DEBUG else "")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(VAR_DIR / "sms.log"))
# The person's door (community app, docs/person.md): one-time codes by SMS, short sessions, limits
# counted per reference, phone number and client address over PERSON_DOOR_LIMIT_WINDOW_MINUTES.
PERSON_DOOR_CODE_MINUTES = int(os.environ.get("PERSON_DOOR_CODE_MINUTES", "10"))
PERSON_DOOR_CODE_ATTEMPTS = int(os.environ.get("PERSON_DOOR_CODE_ATTEMPTS", "5"))
PERSON_DOOR_SESSION_MINUTES = int(os.environ.get("PERSON_DOOR_SESSION_MINUTES", "15"))
PERSON_DOOR_LIMIT_WINDOW_MINUTES = int(os.environ.get("PERSON_DOOR_LIMIT_WINDOW_MINUTES", "60"))
PERSON_DOOR_CODES_PER_REFERENCE = int(os.environ.get("PERSON_DOOR_CODES_PER_REFERENCE", "5"))
PERSON_DOOR_CODES_PER_PHONE = int(os.environ.get("PERSON_DOOR_CODES_PER_PHONE", "5"))
PERSON_DOOR_CODES_PER_ADDRESS = int(os.environ.get("PERSON_DOOR_CODES_PER_ADDRESS", "30"))
PERSON_DOOR_FAILURES_PER_ADDRESS = int(os.environ.get("PERSON_DOOR_FAILURES_PER_ADDRESS", "30"))
SMS_TIMEOUT_SECONDS = int(os.environ.get("SMS_TIMEOUT_SECONDS", "10"))
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = os.environ.get("TWILIO_FROM", "")
TWILIO_API_URL = os.environ.get("TWILIO_API_URL", "https://api.twilio.com")
NOTIFICATION_MESSAGE_ID_DOMAIN = os.environ.get("NOTIFICATION_MESSAGE_ID_DOMAIN", "referral-hub.invalid")
# A failing delivery is retried with exponential backoff (4 s, 8 s, 16 s, … doubling: 12 attempts span
# about two and a half hours); then its job is failed and listed for an operator.
NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATION_MAX_ATTEMPTS", "12"))

# Partner webhooks (docs/operations.md, Webhooks). HTTPS only; WEBHOOKS_ALLOW_LOOPBACK also lets
# http://127.0.0.1 (and ::1, localhost) through, for the demo and the tests: never in production.
# Every other private, link-local or reserved address is refused on registration and again on each
# delivery, after the name is resolved (the connection goes to the address that was checked).
WEBHOOKS_ALLOW_LOOPBACK = env_bool("WEBHOOKS_ALLOW_LOOPBACK", False)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# Retries on 5xx, 408, 429, timeouts and connection errors: the n-th waits
# min(BASE * 2**(n-1), MAX) seconds, times a jitter factor in [1 - JITTER, 1 + JITTER]; after
# WEBHOOK_RETRY_FOR_SECONDS from the first attempt the delivery is a dead letter (replayable).
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30"))
WEBHOOK_RETRY_MAX_SECONDS = float(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", str(60 * 60)))
WEBHOOK_RETRY_JITTER = float(os.environ.get("WEBHOOK_RETRY_JITTER", "0.2"))
WEBHOOK_RETRY_FOR_SECONDS = float(os.environ.get("WEBHOOK_RETRY_FOR_SECONDS", str(24 * 60 * 60)))
# After a rotation the previous secret keeps signing beside the new one for this long.
WEBHOOK_SECRET_GRACE_SECONDS = float(os.environ.get("WEBHOOK_SECRET_GRACE_SECONDS", str(24 * 60 * 60)))
