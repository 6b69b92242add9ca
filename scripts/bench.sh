#!/usr/bin/env bash
# Bake the template with its defaults into .bench/ and run the project's benchmark runner
# (backend/benchmarks) against the services started by services.sh. Arguments go to the
# runner, e.g. `scripts/bench.sh --quick` or `--output ../docs/benchmarks.md`.
# Called by `make bench`, which provides the Python environment on PATH.
set -euo pipefail

repo_dir="$(cd "$(dirname "$0")/.." && pwd)"
bench_dir="$repo_dir/.bench"
services="$repo_dir/{{cookiecutter.project_slug}}/scripts/services.sh"

step() { printf '\nbench: %s\n' "$*" >&2; }

step "baking the template into $bench_dir"
cookiecutter --no-input --overwrite-if-exists --output-dir "$bench_dir" "$repo_dir" >/dev/null
project_dir="$bench_dir/my_live_app"

eval "$(bash "$services" env)"
export REDIS_URL MONGO_URL

step "installing frontend dependencies for the client benchmark"
cd "$project_dir/frontend"
npm ci --no-audit --no-fund --loglevel=error

step "running python -m benchmarks $*"
cd "$project_dir/backend"
exec python -m benchmarks "$@"
