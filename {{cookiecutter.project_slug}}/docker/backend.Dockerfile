# Backend image: Django served by daphne, with the built frontend served same-origin.
# Build context is the project root:
#   docker build -f docker/backend.Dockerfile --target final .

ARG NODE_IMAGE=node:20.19-bookworm-slim
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm


# Build the Vite frontend into /app/frontend/dist.
FROM ${NODE_IMAGE} AS frontend-build

WORKDIR /app/frontend

# Installing from the lockfile first keeps this layer cached until dependencies change.
COPY frontend/package.json frontend/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

COPY frontend/ ./
RUN npm run build


# Install the runtime requirements into a virtualenv at /opt/venv.
FROM ${PYTHON_IMAGE} AS python-deps

ENV PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

COPY backend/requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --requirement /tmp/requirements.txt


# Runtime image. The code is owned by root and read-only for the app user (uid 1000),
# which can write only to /data (the SQLite database volume).
FROM ${PYTHON_IMAGE} AS final

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:${PATH}" \
    FRONTEND_DIST_DIR=/app/frontend/dist \
    DATABASE_URL=sqlite:////data/db.sqlite3

RUN groupadd --gid 1000 app \
    && useradd --uid 1000 --gid app --create-home --shell /usr/sbin/nologin app \
    && mkdir /data \
    && chown app:app /data

COPY --from=python-deps /opt/venv /opt/venv
COPY backend/ /app/backend/
COPY --from=frontend-build /app/frontend/dist /app/frontend/dist

WORKDIR /app/backend

# collectstatic imports the settings, which require SECRET_KEY. The throwaway value exists
# only for this command and is not stored in the image.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput

# The numeric id (the app user) lets runtimes check that the image does not run as root.
USER 1000:1000

EXPOSE 8000

# Django rejects a Host header that is not in ALLOWED_HOSTS, so the probe sends the first
# allowed host (without a leading dot), or "localhost" when the list is empty or "*".
# The slim image has no curl, so the probe uses urllib, which fails on any 4xx or 5xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as request; host = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); host = 'localhost' if host in ('', '*') else host; request.urlopen(request.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=4)"]

CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
