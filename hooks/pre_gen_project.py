"""Validate the template variables before any file is written.

Each check prints one line that names the value and the fix, then exits with status 1.
"""

import keyword
import re
import sys
import zoneinfo

PROJECT_SLUG = "{{ cookiecutter.project_slug }}"
AUTHOR_EMAIL = "{{ cookiecutter.author_email }}"
TIMEZONE = "{{ cookiecutter.timezone }}"

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

# Packages the generated project imports or creates at the top level of backend/.
# A slug with one of these names would shadow it on sys.path.
RESERVED_NAMES = {
    "accounts",
    "asgiref",
    "backend",
    "board",
    "channels",
    "channels_redis",
    "config",
    "daphne",
    "django",
    "e2e",
    "environ",
    "frontend",
    "orjson",
    "playwright",
    "pymongo",
    "pytest",
    "redis",
    "rest_framework",
    "rxdjango",
    "scripts",
    "test",
    "tests",
    "twisted",
    "whitenoise",
}


def fail(message):
    print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(1)


def check_project_slug(slug):
    if not SLUG_PATTERN.match(slug):
        fail(
            f"project_slug {slug!r} is invalid: use lowercase ASCII letters, digits and"
            " underscores, starting with a letter (for example 'my_live_app')."
        )
    if keyword.iskeyword(slug):
        fail(f"project_slug {slug!r} is a Python keyword: choose another slug.")
    if slug in RESERVED_NAMES or slug in sys.stdlib_module_names:
        fail(
            f"project_slug {slug!r} shadows the Python package {slug!r} that the project"
            " imports: choose another slug, such as 'my_{slug}'."
        )


def check_author_email(email):
    if email and "@" not in email:
        fail(f"author_email {email!r} is invalid: expected an address such as you@example.com.")


def check_timezone(name):
    if not zoneinfo.available_timezones():
        # Without a time zone database there is nothing to check against.
        return
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        fail(f"timezone {name!r} is not a known IANA time zone: use a name such as 'UTC' or 'Europe/Paris'.")


def main():
    check_project_slug(PROJECT_SLUG)
    check_author_email(AUTHOR_EMAIL)
    check_timezone(TIMEZONE)


if __name__ == "__main__":
    main()
