# syntax=docker/dockerfile:1
# The service's image: gunicorn serving config.wsgi, static files collected at build time and
# served by whitenoise. `docker compose up` builds and runs it; docs/OPERATIONS.md tells the rest.

ARG PYTHON_IMAGE=python:3.11-slim-trixie

# Build stage: uv installs exactly what uv.lock says into /app/.venv (no dev tools).
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache
COPY . .
# Settings are imported to collect; the key and hosts here exist only for this step.
RUN SECRET_KEY=collectstatic-at-build-time-only ALLOWED_HOSTS=localhost \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    /app/.venv/bin/python manage.py collectstatic --no-input --verbosity 0

# Final stage: the slim Python image (no compiler), the venv, the code, and a non-root user.
FROM ${PYTHON_IMAGE}
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    COLLECTSTATIC_ON_START=0 \
    PORT=8000
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app app
WORKDIR /app
COPY --from=build /app /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/scripts/healthcheck.py"]
ENTRYPOINT ["/app/scripts/entrypoint.sh"]
CMD ["serve"]
