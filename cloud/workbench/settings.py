"""Settings of the AISYM workbench, read from the environment (as Healthchecks does).

- ``AISYM_WORKBENCH_DIR``: folder of the SQLite database and the generated secret key
  (default ``.aisym/`` of the working directory);
- ``DATABASE_URL``: another database, e.g. ``postgres://user:pw@127.0.0.1:5432/aisym``
  (parsed by dj-database-url); default ``sqlite:///<dir>/workbench.sqlite3``;
- ``AISYM_WORKBENCH_SECRET_KEY``: the key that signs sessions; default: one generated once and
  kept in ``<dir>/workbench-secret-key`` (mode 0600), so sessions survive a restart;
- ``AISYM_WORKBENCH_HOSTS``: extra host names to serve, comma-separated (127.0.0.1 and localhost always);
- ``AISYM_WORKBENCH_DEBUG=1``: Django's debug pages (never on a shared machine).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("AISYM_WORKBENCH_DIR", ".aisym")).resolve()


def _secret_key() -> str:
    if key := os.environ.get("AISYM_WORKBENCH_SECRET_KEY"):
        return key
    path = DATA_DIR / "workbench-secret-key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # created 0600 from the start: the key signs every session and login link
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("AISYM_WORKBENCH_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] + [
    h.strip() for h in os.environ.get("AISYM_WORKBENCH_HOSTS", "").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "cloud.workbench.accounts",
    "cloud.workbench.parks",
    "cloud.workbench.companies",
    "cloud.workbench.directory",
    "cloud.workbench.api",
    "cloud.workbench.opportunities",
    "cloud.workbench.simulations",
    "cloud.workbench.facilitation",
    "cloud.workbench.pipeline",
    "cloud.workbench.impact",
    "cloud.workbench.learning",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cloud.workbench.limits.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cloud.workbench.tenancy.RowSecurityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cloud.workbench.accounts.audit.AuditUserMiddleware",
]

ROOT_URLCONF = "cloud.workbench.urls"
WSGI_APPLICATION = "cloud.workbench.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'workbench.sqlite3'}",
        conn_max_age=60,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite: readers never wait for the writer (WAL), and a write transaction takes the lock when it
    # begins (IMMEDIATE), so two saves queue instead of one failing with "database is locked"
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE", "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# elsewhere (PostgreSQL) tenancy.RowSecurityMiddleware runs each request in one transaction, with
# the viewer SET LOCAL for the row-level security policies

# argon2 first: new passwords are hashed with it; the others only read old hashes
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "parks:start"
LOGOUT_REDIRECT_URL = "parks:start"

# Cookies: HttpOnly, SameSite=Lax and Secure. Browsers treat http://localhost and 127.0.0.1 as
# secure contexts, so the Secure flag holds on the loopback server too.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True  # htmx reads the token from the page, never from the cookie
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nb", _("Norwegian (Bokmål)"))]
LOCALE_PATHS = [PACKAGE / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE / "static"]
# whitenoise serves the vendored files straight from the package (no STATIC_ROOT, no collectstatic
# step to forget)
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# one-time login links go to the console here; set EMAIL_* for a real server
EMAIL_BACKEND = os.environ.get("AISYM_WORKBENCH_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("AISYM_WORKBENCH_FROM", "workbench@localhost")

# uploads: the XLSX template of a company stays far below this; a bigger body is refused
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}
