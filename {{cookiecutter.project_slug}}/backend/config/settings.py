"""Django settings, read from the environment and the project's .env file.

Every variable is listed with its meaning in .env.example at the project root.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = BASE_DIR.parent

env = environ.Env()


def env_path(name, default):
    """Read a folder setting; a relative path counts from the backend folder."""
    return (BASE_DIR / env(name, default=str(default))).resolve()


# Variables already in the environment win over the file.
environ.Env.read_env(PROJECT_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS",
    default=[
        "http://localhost:8000",
        "http://127.0.0.1:8000",
        "http://localhost:5173",
        "http://127.0.0.1:5173",
    ],
)

INSTALLED_APPS = [
    # rxdjango's runserver extends daphne's with --makefrontend, so it is listed first.
    "rxdjango",
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "accounts",
{%- if cookiecutter.include_example_app == 'y' %}
    "board",
{%- endif %}
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
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # In WAL mode readers keep reading while a write commits, and synchronous=NORMAL
    # syncs to disk at checkpoints instead of on every commit. A commit survives a crash
    # of the process; a power loss may undo the last ones.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="{{ cookiecutter.timezone }}")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# The built frontend (npm run build) is served from the same origin as the API, so
# production needs no CORS. WhiteNoise serves its files at the site root; the SPA view
# in config.urls returns index.html for client-side routes.
FRONTEND_DIST_DIR = env_path("FRONTEND_DIST_DIR", PROJECT_DIR / "frontend" / "dist")
WHITENOISE_ROOT = FRONTEND_DIST_DIR if FRONTEND_DIST_DIR.is_dir() else None
WHITENOISE_USE_FINDERS = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
    ],
}

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
MONGO_URL = env("MONGO_URL", default="mongodb://127.0.0.1:27017")
MONGO_STATE_DB = env("MONGO_STATE_DB", default="{{ cookiecutter.project_slug }}_state")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # channels-redis waits up to 5 s in BZPOPMIN, and redis-py 8 also times reads out
            # after 5 s by default, so the read timeout must be longer than the wait.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
        },
    },
}

# Output folder of makefrontend: the generated TypeScript interfaces and channel classes.
RX_FRONTEND_DIR = env_path("RX_FRONTEND_DIR", PROJECT_DIR / "frontend" / "src" / "generated")
# WebSocket base URL written into the generated channel classes. In the browser the client
# uses the page's own origin instead, unless a base URL is passed explicitly.
RX_WEBSOCKET_URL = env("RX_WEBSOCKET_URL", default="ws://127.0.0.1:8000/ws")
# Seconds a channel's cache lives after the last client of an anchor disconnects.
RX_CACHE_TTL = env.int("RX_CACHE_TTL", default=7 * 24 * 60 * 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
    },
}
