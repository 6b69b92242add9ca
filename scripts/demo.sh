#!/usr/bin/env bash
# Bake the template with its defaults into .demo/ and serve the example app with daphne
# at http://127.0.0.1:${DEMO_PORT:-8000}, against the services started by services.sh.
# Called by `make demo`, which provides the Python environment on PATH.
set -euo pipefail

repo_dir="$(cd "$(dirname "$0")/.." && pwd)"
demo_dir="$repo_dir/.demo"
port="${DEMO_PORT:-8000}"
services="$repo_dir/{{cookiecutter.project_slug}}/scripts/services.sh"

step() { printf '\ndemo: %s\n' "$*" >&2; }

step "baking the template into $demo_dir"
# The database and node_modules of an earlier demo are kept; the code is replaced.
cookiecutter --no-input --overwrite-if-exists --output-dir "$demo_dir" "$repo_dir" >/dev/null
project_dir="$demo_dir/my_live_app"

eval "$(bash "$services" env)"
export REDIS_URL MONGO_URL

step "installing frontend dependencies and building the frontend"
cd "$project_dir/frontend"
npm ci --no-audit --no-fund --loglevel=error
npm run build

step "migrating the database and creating demo data"
cd "$project_dir/backend"
python manage.py migrate --noinput
if [[ -d board ]]; then
    python manage.py seed_demo
else
    python manage.py create_demo_users
fi
python manage.py collectstatic --noinput >/dev/null

cat >&2 <<TEXT

demo: serving $project_dir
demo: open http://127.0.0.1:$port and log in as alice or bob, password demo-password
demo: admin at http://127.0.0.1:$port/admin/ needs a superuser: python manage.py createsuperuser
demo: press Ctrl+C to stop; 'make services-stop' stops Redis and the MongoDB wire server

TEXT
exec python -m daphne -b 127.0.0.1 -p "$port" config.asgi:application
