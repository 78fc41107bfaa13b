"""Settings for csp-plan, read from the environment (12-factor).

Development defaults apply only when DEBUG is on; with DEBUG off, SECRET_KEY, SITE_URL and
ALLOWED_HOSTS must come from the environment or start-up fails.
"""

import datetime
import hashlib
import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # django.contrib.admin, admitting superusers only (csp/admin_site.py).
    "csp.admin_site.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "crispy_forms",
    "crispy_forms_gds",
    "simple_history",
    "axes",
    "post_office",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "accounts",
    "priorities",
    "actions",
    "crimestats",
    "dashboard",
    "demodata",
    "people",
    "review",
    "deathreviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session gave a second-factor code.
    "django_otp.middleware.OTPMiddleware",
    # LoginRequiredMiddleware that keeps a form posted after the session ended (csp.kept_input).
    "csp.middleware.KeepTypedInputLoginRequiredMiddleware",
    # Signed in with a password but not yet a code (or not yet enrolled where one is
    # required): only the code (or set-up) page and signing out (accounts/middleware.py).
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.NoStoreForSignedInMiddleware",
    "csp.middleware.AuditRefusalMiddleware",
    # Axes goes last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]
# bench/run reads each response's query count from a header; never on otherwise.
if env_bool("BENCH_QUERY_COUNT"):
    MIDDLEWARE.insert(0, "csp.query_count.QueryCountHeaderMiddleware")

ROOT_URLCONF = "csp.urls"
WSGI_APPLICATION = "csp.wsgi.application"

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
                "csp.context_processors.navigation",
            ],
        },
    },
]

# SQLite is the embedded default so `make run` needs nothing else; CI and production
# point DATABASE_URL at PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # So the embedded default holds a partnership's sign-ins and reviews at once: readers
    # never wait for the writer (write-ahead log), a writer waits up to 20 s for another
    # instead of failing with "database is locked", and a transaction takes the write
    # lock when it begins, not half-way through (where SQLite cannot wait, only fail).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache of the heaviest pages' figures (dashboard/cache.py): Redis, shared by every
# worker, when REDIS_URL is set (production, with more than one worker, must set it);
# otherwise each process's own memory (development, tests).
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "csp"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # The limit per account from any address (accounts/throttles.py).
    "accounts.throttles.SignInThrottleBackend",
    # Django's ModelBackend, by username or e-mail address in any case.
    "accounts.identity.EmailOrUsernameBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.PartnershipNameValidator"},
]
PASSWORD_HASHERS = (
    # Tests create many users; a fast hasher keeps the suite quick. Never in production.
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if env_bool("FAST_PASSWORD_HASHER")
    else ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Sessions: 30 minutes idle (refreshed on each request), 12 hours absolute
# (csp.middleware enforces the absolute limit).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60
# The GOV.UK timeout warning opens this long before the idle limit (static/js/timeout-warning.mjs).
SESSION_TIMEOUT_WARNING = 5 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# A form whose token has expired keeps what was typed (csp.kept_input).
CSRF_FAILURE_VIEW = "csp.views.csrf_failure"

# django-axes: lock a username *from one address* after 10 failures, so one officer's
# typos never lock out colleagues behind the same police network address.
AXES_FAILURE_LIMIT = 10
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = 0.5  # hours
# Reset by a complete sign-in only (accounts.throttles.signed_in_fully): a right password
# followed by a wrong code must not forget the wrong codes.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
# The visitor's address for lockouts and the audit log. Behind reverse proxies set
# TRUSTED_PROXIES to how many append to X-Forwarded-For; the header is ignored otherwise,
# as anyone can send one.
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
AXES_CLIENT_IP_CALLABLE = "csp.audit.client_ip"
# "DAVSS", "davss" and davss's e-mail address are one username to axes (accounts/identity.py).
AXES_USERNAME_CALLABLE = "accounts.identity.axes_username"

# A second factor (django-otp: a code from an authenticator app, or a recovery code). Any
# user may turn it on; it is required of these roles and of superusers when MFA_REQUIRED is
# on, which it is by default when DEBUG is off (so the demo signs in with passwords).
MFA_REQUIRED = env_bool("MFA_REQUIRED", default=not DEBUG)
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES", "manager")
# The name the authenticator app shows beside the code: the service's own (csp.naming), unless
# the environment names one. django-otp calls a callable with the device; the import waits
# for the call, as models cannot load while settings do.


def _totp_issuer(device) -> str:
    from csp.naming import totp_issuer

    return totp_issuer(device)


OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER") or _totp_issuer
# django-otp's own delay after a wrong code is off: wrong codes count on the sign-in limits
# instead (accounts/throttles.py), one rule in one place.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Evidence attached to returns (review/evidence.py): kept through this storage alone, outside
# the static and web roots, and served only by the evidence view under the return's access
# rule. Local disk by default (EVIDENCE_ROOT); a deployment using object storage sets
# EVIDENCE_STORAGE_BACKEND (and its OPTIONS in STORAGES["evidence"]) instead.
EVIDENCE_ROOT = Path(os.environ.get("EVIDENCE_ROOT", BASE_DIR / "var" / "evidence"))
EVIDENCE_MAX_BYTES = 10 * 1024**2  # one file
EVIDENCE_MAX_FILES = 10  # files on one return
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "evidence": {
        "BACKEND": os.environ.get(
            "EVIDENCE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": {"location": str(EVIDENCE_ROOT), "base_url": "/no-public-url/"}
        if "EVIDENCE_STORAGE_BACKEND" not in os.environ
        else {},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and not env_bool("PLAIN_STATIC_STORAGE")
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"
# GOV.UK classes for widgets crispy-forms-gds does not style itself.
CRISPY_CLASS_CONVERTERS = {
    "numberinput": "govuk-input",
    "dateinput": "govuk-input",
    "searchinput": "govuk-input",
    "selectmultiple": "govuk-select",
    "fileinput": "govuk-file-upload",
}
DJANGO_TABLES2_TEMPLATE = "django_tables2/govuk.html"

# E-mail never leaves inside a request: every message (notices, reminders, password resets)
# is queued in the database by django-post-office, in the same transaction as the change
# that caused it, and the mail worker (`manage.py deliver_mail`, started by `make run`)
# delivers it through MAIL_DELIVERY_BACKEND, with a timeout and retries. See README.
EMAIL_BACKEND = "post_office.EmailBackend"
# How the worker delivers: the terminal in development, SMTP in production. The environment
# variable keeps the name it had when mail was sent directly.
MAIL_DELIVERY_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
if MAIL_DELIVERY_BACKEND == EMAIL_BACKEND:
    raise ImproperlyConfigured("EMAIL_BACKEND must name how mail is delivered, not the queue.")
POST_OFFICE = {
    "BACKENDS": {"default": MAIL_DELIVERY_BACKEND},
    # A failed delivery is tried again every 10 minutes, 6 times (an hour of outage), then
    # marked failed for the manager to retry from the Outgoing e-mail page.
    "MAX_RETRIES": int(os.environ.get("MAIL_MAX_RETRIES", "6")),
    "RETRY_INTERVAL": datetime.timedelta(minutes=int(os.environ.get("MAIL_RETRY_MINUTES", "10"))),
    "DEFAULT_PRIORITY": "medium",  # queued, never sent in the request ("now" would)
    "LOG_LEVEL": 1,  # failures, with the error, for the Outgoing e-mail page
    "MESSAGE_ID_ENABLED": True,
    # One worker per installation: a second one started on this machine skips its turn.
    "LOCK_FILE_NAME": os.path.join(
        tempfile.gettempdir(),
        "csp-plan-mail-" + hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:12],
    ),
}
# Seconds the worker waits for the mail server to answer before giving up on this attempt.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# The sender's name is what a recipient reads first: the service's, not the repository's.
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Community safety plan <noreply@localhost>"
)
# The public address e-mails link to. Required in production: a default would send people
# to 127.0.0.1 unnoticed. `check --deploy` also wants it on https:// (csp/checks.py).
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
if not SITE_URL:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SITE_URL must be set when DEBUG is off: the public address e-mails link to, "
            "such as https://csp-plan.example.org."
        )
    SITE_URL = "http://127.0.0.1:8000"

# Security headers. HTTPS-only settings are on whenever DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # "__Host-": the browser keeps these cookies to this host, over HTTPS, for every path,
    # and no subdomain can set or overwrite them (ASVS 3.3.1, 3.3.3).
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            # With the offset from UTC, so entries from either side of a clock change line up.
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
        # The security log: one JSON object a line, so text a user typed cannot forge an
        # entry (csp.audit.JsonLineFormatter).
        "json": {"()": "csp.audit.JsonLineFormatter", "datefmt": "%Y-%m-%dT%H:%M:%S%z"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "audit": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "csp.audit": {"handlers": ["audit"], "level": "INFO", "propagate": False},
        # django-axes logs the usernames typed at the sign-in page.
        "axes": {"handlers": ["audit"], "level": "WARNING", "propagate": False},
        # The mail queue: failed deliveries (with the mail server's answer), not every batch.
        "post_office": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Crime data imports (crimestats/sources): what an uploaded spreadsheet or archive may hold,
# checked before it is read, and what reading it may cost, enforced on the child process that
# reads it (docs/security.md, "Uploads"). A Home Office table for all of England and Wales has
# about 100,000 rows a sheet, 9 columns; a year of Kent's street-level files is ~100 MB of CSV.
CRIME_IMPORT_MAX_UPLOAD_BYTES = 250 * 1024**2  # one file as uploaded
CRIME_IMPORT_MAX_UNPACKED_BYTES = 1024**3  # all parts of a zip, xlsx or ods, unpacked
CRIME_IMPORT_MAX_PART_BYTES = 512 * 1024**2  # one part (one sheet's XML), unpacked
CRIME_IMPORT_MAX_RATIO = 200  # unpacked ÷ packed for a part over 1 MB (real sheets: 7 to 60)
CRIME_IMPORT_MAX_PARTS = 10_000  # parts in one archive
CRIME_IMPORT_MAX_ROWS = 250_000  # the last row a sheet may use
CRIME_IMPORT_MAX_COLUMNS = 64  # the last column a sheet may use (BL)
CRIME_IMPORT_MEMORY_BYTES = int(os.environ.get("CRIME_IMPORT_MEMORY_BYTES", str(1024**3)))
# Reading an upload on the page stops after this long: keep it under gunicorn's --timeout
# (30 s by default). The management commands allow longer.
CRIME_IMPORT_PAGE_SECONDS = float(os.environ.get("CRIME_IMPORT_PAGE_SECONDS", "20"))
CRIME_IMPORT_COMMAND_SECONDS = float(os.environ.get("CRIME_IMPORT_COMMAND_SECONDS", "900"))
